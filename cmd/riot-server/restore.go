package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/storage"
)

// openNode opens the raft node; with --restore FILE it first loads the
// backup into the empty data dir, as a new single-node cluster.
func openNode(rc raftkv.Config, eng storage.Engine, restore string) (*raftkv.Node, error) {
	if restore == "" {
		return raftkv.Open(rc, eng)
	}
	var r io.Reader = os.Stdin
	if restore != "-" {
		f, err := os.Open(restore)
		if err != nil {
			return nil, usageError{fmt.Errorf("--restore: %w", err)}
		}
		defer f.Close()
		r = f
	}
	rc.RestoreFrom = bufio.NewReaderSize(r, 1<<20)
	n, err := raftkv.Open(rc, eng)
	switch {
	case errors.Is(err, raftkv.ErrHasState), errors.Is(err, kv.ErrEngineNotEmpty), errors.Is(err, kv.ErrBadSnapshot):
		return nil, usageError{fmt.Errorf("--restore %s: %w", restore, err)}
	case err != nil:
		return nil, fmt.Errorf("--restore %s: %w", restore, err)
	}
	return n, nil
}
