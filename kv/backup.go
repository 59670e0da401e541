package kv

import (
	"bytes"
	"encoding/binary"
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

// importer filters the backups loaded into a new cluster: the old
// cluster's address book, request records and node secret stay behind;
// with slots, so do the records of keys in other hash slots (a sharded
// restore seeds each data group with its slots); and the same key in two
// backups is an error, not a silent pick.
type importer struct {
	slots []SlotRange // nil: every slot

	source           uint64 // the largest applied index of the backups, set by load
	clock, tombFloor uint64 // the largest of the backups', written by load

	records, members, requests, others int
}

// take returns the key under which record k of a backup is loaded, or nil
// when it stays behind. dup reports whether a key is already loaded (from
// an earlier backup; nil: none is). A format-1 record is loaded under its format-2 key
// (the migration would move it anyway), so that every keyed record shows
// its slot; a slot that does not match the user key, an unknown family or
// a short key is a malformed backup.
func (i *importer) take(k, v []byte, dup func(k []byte) (bool, error)) ([]byte, error) {
	i.records++
	if len(k) == 0 {
		return nil, fmt.Errorf("%w: empty key", ErrBadSnapshot)
	}
	switch k[0] {
	case prefixMeta:
		return i.takeMeta(k, v)
	case prefixDataV1, prefixExpireV1, prefixTombV1:
		nk, ok := migratedKey(k)
		if !ok {
			return nil, fmt.Errorf("%w: malformed format-1 key %q", ErrBadSnapshot, k)
		}
		k = nk
	}
	slot, err := recordSlot(k)
	if err != nil {
		return nil, err
	}
	if i.slots != nil && !inSlots(i.slots, slot) {
		i.others++
		return nil, nil
	}
	if k[0] == prefixData && dup != nil {
		found, err := dup(k)
		if err != nil {
			return nil, err
		}
		if found {
			return nil, fmt.Errorf("%w: key %q (database %d) is in more than one backup", ErrOverlap, dataUser(k), dataDB(k))
		}
	}
	return k, nil
}

// takeMeta is take for a state machine record: the clock and the
// tombstone floor are merged (the largest), the rest is kept but for the
// old cluster's address book, request records, node secret and shard map
// (the new cluster draws its own).
func (i *importer) takeMeta(k, v []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(k, memberPrefix):
		i.members++
		return nil, nil
	case bytes.HasPrefix(k, reqPrefix):
		i.requests++
		return nil, nil
	case bytes.Equal(k, keySecret), bytes.Equal(k, keyShards):
		return nil, nil
	case bytes.Equal(k, keyClock), bytes.Equal(k, keyTombFloor):
		if len(v) != 8 {
			return nil, fmt.Errorf("%w: %q of %d bytes", ErrBadSnapshot, k, len(v))
		}
		m := &i.clock
		if bytes.Equal(k, keyTombFloor) {
			m = &i.tombFloor
		}
		*m = max(*m, binary.BigEndian.Uint64(v))
		return nil, nil
	}
	return k, nil
}

// recordSlot returns the hash slot of a keyed engine record (of any
// format-2 family but 'm'), checked against its user key.
func recordSlot(k []byte) (uint16, error) {
	var head, user int // where the slot and the user key begin
	switch {
	case (k[0] == prefixData || k[0] == prefixTomb) && len(k) >= keyHead:
		head, user = 2, keyHead
	case (k[0] == prefixElem || k[0] == prefixScore) && len(k) >= elemHead+8:
		n := binary.BigEndian.Uint32(k[4:elemHead])
		if uint64(len(k)) < elemHead+uint64(n)+8 {
			return 0, fmt.Errorf("%w: element key %q shorter than its user key", ErrBadSnapshot, k)
		}
		head, user = 2, elemHead
		k = k[:elemHead+n]
	case k[0] == prefixExpire && len(k) >= 12:
		head, user = 10, 12
	default:
		return 0, fmt.Errorf("%w: key %q of an unknown family or too short", ErrBadSnapshot, k)
	}
	slot := binary.BigEndian.Uint16(k[head:])
	if want := Slot(k[user:]); slot != want {
		return 0, fmt.Errorf("%w: key %q carries slot %d, its user key's is %d", ErrBadSnapshot, k, slot, want)
	}
	return slot, nil
}

// inSlots reports whether slot is in one of ranges.
func inSlots(ranges []SlotRange, slot uint16) bool {
	for _, r := range ranges {
		if r.From <= slot && slot <= r.To {
			return true
		}
	}
	return false
}

// ErrOverlap: backups imported together hold the same key.
var ErrOverlap = errors.New("raftkv: the backups overlap")

// ImportStats describes the backups Import loaded.
type ImportStats struct {
	// Index is the state machine's applied index now: the largest of the
	// backups', at least 1.
	Index uint64
	// Source is the largest applied index the backups recorded (of the
	// clusters they were taken from).
	Source uint64
	// Records counts the backups' records; Members, Requests those left
	// behind (the old cluster's address book and request records), Others
	// those of keys in slots not imported.
	Records, Members, Requests, Others int
}

// Import loads backups (WriteTo's streams) into the state machine, for a
// new cluster (raftkv's Config.RestoreFrom): the old clusters' address
// books, request records and node secrets stay behind; with slots (nil:
// all), only the records of keys in those hash slots are loaded. Several
// backups are merged (the largest applied index and clock win); the same
// key in two of them is an error (ErrOverlap). It refuses an engine that
// holds data (ErrEngineNotEmpty); one left behind by an interrupted import
// is loaded again. The restore marker stays, so that a crash before the
// new cluster's first snapshot is on disk leaves the engine marked as
// inconsistent: the caller calls FinishImport once it is.
func (f *FSM) Import(backups []io.Reader, slots []SlotRange) (ImportStats, error) {
	if len(backups) == 0 {
		return ImportStats{}, errors.New("raftkv: restore: no backup to import")
	}
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
	imp := &importer{slots: slots}
	f.restoreMu.Lock()
	index, err := f.load(backups, imp)
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
	return ImportStats{Index: index, Source: imp.source, Records: imp.records, Members: imp.members,
		Requests: imp.requests, Others: imp.others}, nil
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
