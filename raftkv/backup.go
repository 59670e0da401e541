package raftkv

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	"github.com/riotkv/riot/storage"
)

// Backups and restoring them into a new cluster.
//
// A backup is the snapshot format (snapshot.go) of a point-in-time view of
// the engine: a node writes it from its own state, without raft taking a
// snapshot, concurrently with applies. The caller (cluster) decides when the
// view is fresh enough (after a linearizable read barrier).
//
// Restoring starts a new one-server cluster (Config.RestoreFrom): the
// records are loaded into an empty engine, minus the old cluster's address
// book and request records, and the node's raft state starts as a snapshot
// at the backup's index, term 1, whose configuration is this server alone.
// The node then elects itself and appends after that index, so its fresh
// log is never skipped as already applied; servers that join need entries
// at or below it, which no log holds, so raft sends them the snapshot, and
// with it the data. Starting at the backup's index rather than at 1 keeps
// every raft index the restored data mentions (a key's version, which
// WATCH compares, is the index that last wrote it) below every index of the
// new log, as in the old cluster. See docs/design/0002-backups.md.

// Errors of RestoreFrom.
var (
	// ErrHasState: the node to restore into already has raft state.
	ErrHasState = errors.New("raftkv: the data directory already has raft state")
	// ErrEngineNotEmpty: the engine to restore into already holds data.
	ErrEngineNotEmpty = errors.New("raftkv: the storage engine already holds data")
)

// Backup is a consistent, point-in-time copy of the state machine. Write it
// with WriteTo; Close releases it (it pins an engine snapshot).
type Backup struct {
	snap    storage.Snapshot
	applied uint64
}

// Backup pins the current state for a backup. It does not wait for
// anything: whether the state is fresh enough is the caller's decision.
func (f *FSM) Backup() (*Backup, error) {
	if err := f.Err(); err != nil {
		return nil, err
	}
	f.restoreMu.RLock()
	s, err := f.eng.Snapshot()
	f.restoreMu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("raftkv: backup: %w", err)
	}
	idx, err := readApplied(s)
	if err != nil {
		s.Release()
		return nil, err
	}
	return &Backup{snap: s, applied: idx}, nil
}

// Index returns the raft index the backup reflects (of the cluster it was
// taken from).
func (b *Backup) Index() uint64 { return b.applied }

// WriteTo writes the backup in the snapshot format, without the node
// secret: a backup is data, and a cluster restored from it draws its own.
func (b *Backup) WriteTo(w io.Writer) (int64, error) {
	cw := &byteCounter{w: w}
	if err := writeSnapshot(cw, b.snap, b.applied, keySecret); err != nil {
		return cw.n, fmt.Errorf("raftkv: backup: %w", err)
	}
	return cw.n, nil
}

// Close releases the pinned state.
func (b *Backup) Close() { b.snap.Release() }

type byteCounter struct {
	w io.Writer
	n int64
}

func (c *byteCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// importer filters a backup loaded into a new cluster.
type importer struct {
	source uint64 // the backup's applied index, set by load

	records, members, requests int
}

// drop reports whether record k of a backup stays behind: the old
// cluster's address book (this cluster announces its own) and request
// records (their IDs and indexes belong to the old cluster's log).
func (i *importer) drop(k []byte) bool {
	i.records++
	switch {
	case bytes.HasPrefix(k, memberPrefix):
		i.members++
		return true
	case bytes.HasPrefix(k, reqPrefix):
		i.requests++
		return true
	case bytes.Equal(k, keySecret): // the new cluster draws its own
		return true
	}
	return false
}

// seed starts this node's raft state from the backup in cfg.RestoreFrom:
// it loads the backup into the (empty) engine and writes the first
// snapshot of a one-server cluster of this node. It refuses a node that
// has raft state or an engine that holds data; an engine left behind by an
// interrupted import is loaded again.
func (n *Node) seed(logs raft.LogStore, stable raft.StableStore, snaps raft.SnapshotStore) error {
	has, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		return fmt.Errorf("raftkv: restore: check raft state: %w", err)
	}
	if has {
		return fmt.Errorf("%w (%s): restore into an empty data directory", ErrHasState, n.cfg.Dir)
	}
	interrupted, err := n.fsm.restoring()
	if err != nil {
		return err
	}
	if !interrupted {
		empty, err := isEmpty(n.fsm.eng)
		if err != nil {
			return err
		}
		if !empty {
			return fmt.Errorf("%w: restore into an empty data directory", ErrEngineNotEmpty)
		}
	}

	imp := &importer{}
	f := n.fsm
	f.restoreMu.Lock()
	index, err := f.load(n.cfg.RestoreFrom, imp)
	f.restoreMu.Unlock()
	if err != nil {
		return fmt.Errorf("raftkv: restore: %w", err)
	}
	clock, err := readClock(f.eng)
	if err != nil {
		return err
	}
	f.clock.Store(clock)
	f.applied.Store(index)

	// The first snapshot: the backup's index, term 1, this server alone.
	conf := raft.Configuration{Servers: []raft.Server{{
		Suffrage: raft.Voter, ID: raft.ServerID(n.cfg.ID), Address: n.trans.LocalAddr(),
	}}}
	sink, err := snaps.Create(raft.SnapshotVersionMax, index, 1, conf, index, n.trans)
	if err != nil {
		return fmt.Errorf("raftkv: restore: create snapshot: %w", err)
	}
	snap, err := f.Snapshot()
	if err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("raftkv: restore: %w", err)
	}
	err = snap.Persist(sink)
	snap.Release()
	if err != nil {
		return fmt.Errorf("raftkv: restore: write snapshot: %w", err)
	}

	// Only now is the engine usable on its own: until here, a crash
	// leaves the marker, and the next boot restores again (or refuses).
	var b storage.Batch
	b.Delete(keyRestoring)
	if err := f.eng.Write(&b); err != nil {
		return fmt.Errorf("raftkv: restore: clear marker: %w", err)
	}
	n.logger.Info("restored a backup into a new cluster",
		"backup_index", imp.source, "records", imp.records,
		"dropped_members", imp.members, "dropped_requests", imp.requests, "snapshot_index", index)
	return nil
}

// isEmpty reports whether r holds no key.
func isEmpty(r storage.Reader) (bool, error) {
	it := r.NewIterator(storage.Range{})
	found := it.Next()
	if err := it.Close(); err != nil {
		return false, fmt.Errorf("raftkv: read engine: %w", err)
	}
	return !found, nil
}
