package raftkv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// chooseLogStore returns the log store to open in dir: the one the data dir
// was created with, which must be the one asked for (empty asks for none in
// particular: bolt for a new dir).
func chooseLogStore(dir, want string) (string, error) {
	has := ""
	for _, s := range []struct{ name, path string }{{LogStoreBolt, "raft.db"}, {LogStoreWAL, "wal"}} {
		if _, err := os.Stat(filepath.Join(dir, s.path)); err == nil {
			has = s.name
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("raftkv: look for the log store: %w", err)
		}
	}
	switch {
	case has == "" && want == "":
		return LogStoreBolt, nil
	case has == "":
		return want, nil
	case want == "" || want == has:
		return has, nil
	}
	return "", fmt.Errorf("raftkv: %s holds a %s log store; it cannot be opened as %s (start with --log-store %s)", dir, has, want, has)
}

// openWAL opens hashicorp/raft-wal in Dir/wal as the log and stable store.
func (n *Node) openWAL() (raft.LogStore, raft.StableStore, raft.SnapshotStore, error) {
	dir := filepath.Join(n.cfg.Dir, "wal")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("raftkv: %w", err)
	}
	// Our own meta store: WAL.Close (v0.4.0) leaves it open, and its file
	// lock would keep the node from reopening in the same process.
	meta := &metadb.BoltMetaDB{}
	w, err := raftwal.Open(dir, raftwal.WithLogger(newHCLog(n.logger, "raft-wal")), raftwal.WithMetaStore(meta))
	if err != nil {
		meta.Close()
		return nil, nil, nil, fmt.Errorf("raftkv: open log store (wal): %w", err)
	}
	n.wal, n.walMeta = w, meta
	logs, err := raft.NewLogCache(n.cfg.MaxAppendEntries, timedLogStore{w, &n.metrics})
	if err != nil {
		w.Close()
		meta.Close()
		return nil, nil, nil, fmt.Errorf("raftkv: log cache: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(n.cfg.Dir, n.cfg.SnapshotRetain, newHCLog(n.logger, "snapshot"))
	if err != nil {
		w.Close()
		meta.Close()
		return nil, nil, nil, fmt.Errorf("raftkv: open snapshot store: %w", err)
	}
	return logs, w, snaps, nil
}
