package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/storage"
)

// openNode opens the metadata (or only) group's raft node. With --restore
// it first loads the backups into the empty data dir, as a new
// single-node cluster: unsharded, merged into the node's one group; with
// --shards M, into M data groups, each seeded with the keys of its slots
// before the metadata group starts (empty, bootstrapped) and the node
// opens them (docs/design/0002-backups.md).
func openNode(o options, rc raftkv.Config, eng storage.Engine, logger *slog.Logger) (*raftkv.Node, error) {
	files := o.restoreFiles()
	if len(files) == 0 {
		return raftkv.Open(rc, eng)
	}
	if o.shards > 1 {
		if err := seedGroups(o, rc, files, logger); err != nil {
			return nil, err
		}
		return raftkv.Open(rc, eng)
	}
	backups, closeAll, err := openBackups(files)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	rc.RestoreFrom = backups
	n, err := raftkv.Open(rc, eng)
	if err != nil {
		return nil, restoreError(files, err)
	}
	return n, nil
}

// seedGroups seeds each data group of a sharded restore: group i (1..M)
// serves kv.EvenSlots(M)[i-1], as the shard map that placement creates
// will say, naming this node alone in every group (ShardsConfig.Restored),
// whoever joined meanwhile. The metadata group must have no raft
// state: a restart with --restore is refused, as unsharded.
func seedGroups(o options, rc raftkv.Config, files []string, logger *slog.Logger) error {
	has, err := raftkv.HasState(rc)
	if err != nil {
		return err
	}
	if has {
		return restoreError(files, fmt.Errorf("%w (%s): restore into an empty data directory", raftkv.ErrHasState, rc.Dir))
	}
	for i, slots := range kv.EvenSlots(o.shards) {
		if err := seedGroup(o, rc, uint32(i+1), slots, files, logger); err != nil {
			if errors.Is(err, raftkv.ErrHasState) {
				err = fmt.Errorf("%w (an interrupted sharded restore? empty the data directory and run it again)", err)
			}
			return restoreError(files, err)
		}
	}
	return nil
}

// seedGroup seeds data group id with the backups' keys in slots.
func seedGroup(o options, rc raftkv.Config, id uint32, slots kv.SlotRange, files []string, logger *slog.Logger) error {
	backups, closeAll, err := openBackups(files)
	if err != nil {
		return err
	}
	defer closeAll()
	grc, eng, err := o.groupConfig(rc, id, logger)
	if err != nil {
		return err
	}
	grc.RestoreFrom, grc.RestoreSlots = backups, []kv.SlotRange{slots}
	err = raftkv.Seed(grc, eng)
	if cerr := eng.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("group %d (slots %d-%d): %w", id, slots.From, slots.To, err)
	}
	return nil
}

// openBackups opens the backup files ("-": stdin) for reading.
func openBackups(files []string) ([]io.Reader, func(), error) {
	var (
		out    []io.Reader
		opened []*os.File
	)
	closeAll := func() {
		for _, f := range opened {
			_ = f.Close()
		}
	}
	for _, name := range files {
		if name == "-" {
			out = append(out, bufio.NewReaderSize(os.Stdin, 1<<20))
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			closeAll()
			return nil, nil, usageError{fmt.Errorf("--restore: %w", err)}
		}
		opened = append(opened, f)
		out = append(out, bufio.NewReaderSize(f, 1<<20))
	}
	return out, closeAll, nil
}

// restoreError adds the files to err, a usage error (exit code 2) when the
// data dir or a file is not fit for a restore.
func restoreError(files []string, err error) error {
	err = fmt.Errorf("--restore %s: %w", strings.Join(files, ","), err)
	switch {
	case errors.Is(err, raftkv.ErrHasState), errors.Is(err, kv.ErrEngineNotEmpty),
		errors.Is(err, kv.ErrBadSnapshot), errors.Is(err, kv.ErrOverlap):
		return usageError{err}
	}
	return err
}
