package raftkv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	raftwal "github.com/hashicorp/raft-wal"
	walfs "github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
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
func (n *Node) openWAL() (logAndStableStore, error) {
	dir := filepath.Join(n.cfg.Dir, "wal")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("raftkv: %w", err)
	}
	w, err := openWALStore(dir, newHCLog(n.logger, "raft-wal"))
	if err != nil {
		return nil, err
	}
	return w, nil
}

// walStore is hashicorp/raft-wal opened the way Riot needs it: with the
// segment filer below, and with a meta store that Close closes too.
type walStore struct {
	*raftwal.WAL
	meta *metadb.BoltMetaDB
}

// openWALStore opens (or creates) the WAL in dir, which must exist.
func openWALStore(dir string, logger hclog.Logger) (*walStore, error) {
	// Our own meta store: WAL.Close (v0.4.0) leaves it open, and its file
	// lock would keep the node from reopening in the same process.
	meta := &metadb.BoltMetaDB{}
	w, err := raftwal.Open(dir,
		raftwal.WithLogger(logger),
		raftwal.WithMetaStore(meta),
		raftwal.WithSegmentFiler(truncatedTailFiler{segment.NewFiler(dir, walfs.New()), logger}),
	)
	if err != nil {
		meta.Close()
		return nil, fmt.Errorf("raftkv: open log store (wal): %w", err)
	}
	return &walStore{WAL: w, meta: meta}, nil
}

// Close closes the WAL, then its meta store.
func (s *walStore) Close() error {
	return errors.Join(s.WAL.Close(), s.meta.Close())
}

// truncatedTailFiler is raft-wal's own segment filer, except that it can
// read the segments that raft-wal v0.4.0 seals without an index.
//
// WAL.DeleteRange on a suffix of the log (raft does it on a follower whose
// last entries conflict with a new leader's: "clearing log suffix") marks the
// tail segment sealed in the meta store, with its new MaxIndex, but writes no
// index block into the file and records no IndexStart (hashicorp/raft-wal
// issue #31, fixed upstream after v0.4.0). The running WAL keeps reading that
// segment through its writer's in-memory index, so nothing shows until the
// WAL is opened again (a restart, clean or after kill -9): segment.Filer.Open
// then returns a reader that needs the on-disk index, every GetLog in the
// segment fails with "sealed segment has no index block", and raft.NewRaft
// panics ("failed to get log") on the first such index after the last
// snapshot.
//
// For such a segment, Open rebuilds the index the way the WAL recovers its
// tail after a crash: RecoverTail scans the frames up to the last commit whose
// checksum holds. The WAL never appends to a sealed segment, so the writer it
// returns is only read from, and only up to the segment's MaxIndex (the WAL
// bounds reads by it; the truncated entries after it stay in the file,
// unreachable). Segments sealed by rotation carry their IndexStart and open as
// before.
type truncatedTailFiler struct {
	*segment.Filer
	log hclog.Logger
}

func (f truncatedTailFiler) Open(info types.SegmentInfo) (types.SegmentReader, error) {
	if info.IndexStart != 0 {
		return f.Filer.Open(info)
	}
	w, err := f.Filer.RecoverTail(info)
	if err != nil {
		return nil, fmt.Errorf("raftkv: read wal segment %s (sealed without an index): %w", segment.FileName(info), err)
	}
	if last := w.LastIndex(); last < info.MaxIndex {
		w.Close()
		return nil, fmt.Errorf("raftkv: wal segment %s was sealed at index %d but holds entries up to %d only: %w",
			segment.FileName(info), info.MaxIndex, last, types.ErrCorrupt)
	}
	f.log.Info("read a segment sealed without an index by scanning it (raft-wal v0.4.0 suffix truncation)",
		"segment", segment.FileName(info), "min_index", info.MinIndex, "max_index", info.MaxIndex)
	return w, nil
}
