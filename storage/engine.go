// Package storage defines the Engine that riot's state machine writes to, and
// the engines that implement it: LevelDB (durable, the default) and an
// in-memory engine for tests and throwaway nodes.
//
// An Engine is an ordered byte-key/byte-value store with atomic batches,
// range iteration and consistent point-in-time snapshots. It knows nothing
// about Raft or Redis; raftkv decides what the keys mean.
package storage

import (
	"errors"
	"fmt"
)

// Errors returned by engines. Check them with errors.Is.
var (
	// ErrNotFound is returned by Get when the key does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrClosed is returned by operations on a closed engine, and by reads
	// of a released snapshot or of a snapshot whose engine was closed.
	ErrClosed = errors.New("storage: closed")
)

// Reader is the read side shared by an Engine and its Snapshots.
type Reader interface {
	// Get returns the value stored at key, or ErrNotFound. The returned
	// slice belongs to the caller.
	Get(key []byte) ([]byte, error)
	// NewIterator returns an iterator over the keys in r, in ascending byte
	// order. The iterator must be closed.
	NewIterator(r Range) Iterator
}

// Engine is a durable (or, for the memory engine, process-lifetime) ordered
// key/value store.
//
// All methods are safe for concurrent use. Write is atomic: after a crash
// either every operation of a batch is visible or none is. When Write returns
// nil on a durable engine the batch survives a crash of the process; it
// survives a crash of the machine too when writes are synced, and otherwise
// the engine reopens empty after one (see Options).
type Engine interface {
	Reader
	// Write applies every operation of b, in order, atomically.
	Write(b *Batch) error
	// Snapshot returns a consistent point-in-time view of the engine. Writes
	// made after Snapshot returns are not visible through it. The snapshot
	// must be released; it does not block writers.
	Snapshot() (Snapshot, error)
	// Stats reports approximate figures for INFO and metrics.
	Stats() Stats
	// Close releases the engine. Further calls return ErrClosed.
	Close() error
}

// Compacter is implemented by engines that can reclaim the space of
// deleted records in a key range on demand (riot's sweeper asks after it
// deleted many: LevelDB otherwise keeps them on disk until its own
// compactions reach the range, which may be never for a range no longer
// written).
type Compacter interface {
	// Compact compacts the records in r (Reverse is ignored). It may take
	// long, and runs concurrently with reads and writes.
	Compact(r Range) error
}

// Snapshot is a consistent, read-only view of an Engine at one point in time.
type Snapshot interface {
	Reader
	// Release frees the snapshot. It is safe to call more than once. Reads
	// after Release return ErrClosed.
	Release()
}

// Stats are approximate engine figures.
type Stats struct {
	Name      string // engine name, e.g. "leveldb"
	DiskBytes int64  // approximate bytes on disk (0 for memory)
}

// Iterator walks keys in ascending order (descending for a Reverse range):
//
//	it := e.NewIterator(storage.PrefixRange(p))
//	defer it.Close()
//	for it.Next() { use(it.Key(), it.Value()) }
//	if err := it.Err(); err != nil { ... }
type Iterator interface {
	// Next moves to the next key; it returns false when the range is
	// exhausted or an error occurred.
	Next() bool
	// Key and Value are valid until the next call to Next; copy them to
	// keep them.
	Key() []byte
	Value() []byte
	// Err returns the error, if any, that stopped the iteration.
	Err() error
	// Close releases the iterator and returns Err().
	Close() error
}

// Range is the half-open key interval [Start, Limit). A nil Start means from
// the first key, a nil Limit means to the last. An iterator over a Reverse
// range walks it from its last key down to Start.
type Range struct {
	Start   []byte
	Limit   []byte
	Reverse bool
}

// PrefixRange returns the Range of all keys that begin with prefix.
func PrefixRange(prefix []byte) Range {
	return Range{Start: prefix, Limit: prefixEnd(prefix)}
}

// prefixEnd returns the smallest key greater than every key with the prefix,
// or nil when there is none (the prefix is all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Batch is an ordered list of writes applied atomically by Engine.Write.
// The zero value is an empty batch ready to use. A Batch copies the keys and
// values it is given, back to back into one growing buffer (one allocation
// per doubling, not two per write).
type Batch struct {
	ops  []batchOp
	data []byte // the copies of keys and values
	size int
}

type batchOp struct {
	del   bool
	key   []byte
	value []byte
}

// Put records that key is to be set to value. It returns the batch's copy
// of value (never nil), which stays valid (and must not be modified) after
// the batch is written or Reset.
func (b *Batch) Put(key, value []byte) []byte {
	k, v := b.keep(key), b.keep(value)
	b.ops = append(b.ops, batchOp{key: k, value: v})
	b.size += len(key) + len(value)
	return v
}

// Delete records that key is to be removed. Deleting a missing key is not an
// error.
func (b *Batch) Delete(key []byte) {
	b.ops = append(b.ops, batchOp{del: true, key: b.keep(key)})
	b.size += len(key)
}

// keep returns a copy of p in the batch's buffer, capped so that appending
// to it cannot touch what follows.
func (b *Batch) keep(p []byte) []byte {
	if b.data == nil || len(b.data)+len(p) > cap(b.data) {
		// A new buffer: the copies made so far stay where they are.
		b.data = make([]byte, 0, max(2*cap(b.data), len(p), 256))
	}
	start := len(b.data)
	b.data = append(b.data, p...)
	return b.data[start:len(b.data):len(b.data)]
}

// Len returns the number of operations in the batch.
func (b *Batch) Len() int { return len(b.ops) }

// Size returns the number of key and value bytes in the batch.
func (b *Batch) Size() int { return b.size }

// Reset empties the batch for reuse. Copies it returned stay valid: the
// batch starts a new buffer.
func (b *Batch) Reset() {
	clear(b.ops)
	b.ops = b.ops[:0]
	b.data = nil
	b.size = 0
}

// Each calls fn for every operation in order; value is nil for a delete.
func (b *Batch) Each(fn func(del bool, key, value []byte)) {
	for _, op := range b.ops {
		fn(op.del, op.key, op.value)
	}
}

// Open opens the engine called name in dir with o. dir and o are ignored by
// the memory engine.
func Open(name, dir string, o Options) (Engine, error) {
	switch name {
	case "leveldb", "":
		return OpenLevelDBWith(dir, o)
	case "memory":
		return NewMemory(), nil
	default:
		return nil, fmt.Errorf("storage: unknown engine %q (want leveldb or memory)", name)
	}
}

// Names lists the engines Open accepts.
func Names() []string { return []string{"leveldb", "memory"} }
