package kv

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/riotkv/riot/storage"
)

// Backups and restoring them into a new cluster.
//
// A backup is the snapshot format (snapshot.go) of a point-in-time view of
// the engine: a node writes it from its own state, without raft taking a
// snapshot, concurrently with applies. The caller (cluster) decides when the
// view is fresh enough (after a linearizable read barrier).
//
// Restoring starts a new one-server cluster (raftkv.Config.RestoreFrom): the
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

// ErrEngineNotEmpty: the engine to import a backup into already holds
// data (an error of raftkv's Config.RestoreFrom).
var ErrEngineNotEmpty = errors.New("raftkv: the storage engine already holds data")

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
	cw := &meteredWriter{w: w}
	if err := writeSnapshot(cw, b.snap, b.applied, keySecret); err != nil {
		return cw.n, fmt.Errorf("raftkv: backup: %w", err)
	}
	return cw.n, nil
}

// Close releases the pinned state.
func (b *Backup) Close() { b.snap.Release() }

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

// ImportStats describes a backup Import loaded.
type ImportStats struct {
	// Index is the state machine's applied index now: the backup's, at
	// least 1.
	Index uint64
	// Source is the applied index the backup recorded (of the cluster it
	// was taken from).
	Source uint64
	// Records counts the backup's records; Members, Requests those left
	// behind (the old cluster's address book and request records).
	Records, Members, Requests int
}

// Import loads a backup (WriteTo's stream) into the state machine, for a
// new cluster (raftkv's Config.RestoreFrom): the old cluster's address
// book, request records and node secret stay behind. It refuses an engine
// that holds data (ErrEngineNotEmpty); one left behind by an interrupted
// import is loaded again. The restore marker stays, so that a crash before
// the new cluster's first snapshot is on disk leaves the engine marked as
// inconsistent: the caller calls FinishImport once it is.
func (f *FSM) Import(r io.Reader) (ImportStats, error) {
	interrupted, err := f.Restoring()
	if err != nil {
		return ImportStats{}, err
	}
	if !interrupted {
		empty, err := isEmpty(f.eng)
		if err != nil {
			return ImportStats{}, err
		}
		if !empty {
			return ImportStats{}, fmt.Errorf("%w: restore into an empty data directory", ErrEngineNotEmpty)
		}
	}
	imp := &importer{}
	f.restoreMu.Lock()
	index, err := f.load(r, imp)
	f.restoreMu.Unlock()
	if err != nil {
		return ImportStats{}, fmt.Errorf("raftkv: restore: %w", err)
	}
	clock, err := readClock(f.eng)
	if err != nil {
		return ImportStats{}, err
	}
	f.clock.Store(clock)
	f.applied.Store(index)
	return ImportStats{Index: index, Source: imp.source, Records: imp.records, Members: imp.members, Requests: imp.requests}, nil
}

// FinishImport removes the restore marker Import left: the engine is
// usable on its own from now on.
func (f *FSM) FinishImport() error {
	var b storage.Batch
	b.Delete(keyRestoring)
	if err := f.eng.Write(&b); err != nil {
		return fmt.Errorf("raftkv: restore: clear marker: %w", err)
	}
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
