package storage

import (
	"errors"
	"fmt"
	"sync"

	"github.com/syndtr/goleveldb/leveldb"
	lerrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/iterator"
	"github.com/syndtr/goleveldb/leveldb/opt"
	lstorage "github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// levelDB is an Engine on goleveldb. Writes are synced to disk before they
// return, or guarded by the boot file (see Options).
type levelDB struct {
	name string
	db   *leveldb.DB
	wo   *opt.WriteOptions

	mu     sync.RWMutex // guards closed against Close racing with users
	closed bool

	// batches holds goleveldb batches for reuse: Write copies a Batch into
	// one, and goleveldb is done with it when Write returns.
	batches sync.Pool
}

// levelOptions are the engine's goleveldb settings. The write buffer
// (memtable) is goleveldb's default 4 MiB: a bigger one costs more per
// insert (a deeper skiplist, more cache misses) than it saves in flushes,
// measured in docs/design/0004-write-path.md (BenchmarkWriteRandomBatch's CPU time).
// Unless sync is set, goleveldb never fsyncs: not its journal, and not the
// tables and manifest it writes when it flushes a memtable or compacts. An
// engine whose writes are not synced is discarded after an operating system
// restart (guardBoot), and a process crash loses nothing the kernel holds, so
// those fsyncs would only take the disk from the raft log's.
func levelOptions(sync bool) *opt.Options {
	return &opt.Options{
		Filter:                 filter.NewBloomFilter(10),
		WriteBuffer:            4 << 20,
		BlockCacheCapacity:     32 << 20,
		CompactionTableSize:    4 << 20,
		OpenFilesCacheCapacity: 500,
		NoSync:                 !sync,
	}
}

// OpenLevelDB opens (creating if needed) a LevelDB engine in dir whose
// every Write is synced.
func OpenLevelDB(dir string) (Engine, error) {
	return OpenLevelDBWith(dir, Options{SyncWrites: true})
}

// OpenLevelDBWith opens (creating if needed) a LevelDB engine in dir; see
// Options for when writes are synced and what an operating system restart
// does to an engine whose writes are not.
func OpenLevelDBWith(dir string, o Options) (Engine, error) {
	if o.BootID == "" {
		o.SyncWrites = true
	}
	if err := guardBoot(dir, o); err != nil {
		return nil, err
	}
	if !o.SyncWrites {
		if err := markBoot(dir, o.BootID); err != nil {
			return nil, err
		}
	}
	lo := levelOptions(o.SyncWrites)
	db, err := leveldb.OpenFile(dir, lo)
	if lerrors.IsCorrupted(err) {
		// A torn manifest after a crash: recover what the tables hold.
		db, err = leveldb.RecoverFile(dir, lo)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open leveldb %s: %w", dir, err)
	}
	return newLevelDB("leveldb", db, o.SyncWrites), nil
}

// NewMemory returns an empty in-memory engine. It is LevelDB on goleveldb's
// memory storage, so it behaves exactly like the durable engine except that
// its contents die with the process.
func NewMemory() Engine {
	db, err := leveldb.Open(lstorage.NewMemStorage(), levelOptions(false))
	if err != nil {
		// Opening fresh memory storage cannot fail short of a goleveldb bug.
		panic(fmt.Sprintf("storage: open memory engine: %v", err))
	}
	return newLevelDB("memory", db, false)
}

func newLevelDB(name string, db *leveldb.DB, sync bool) *levelDB {
	e := &levelDB{name: name, db: db, wo: &opt.WriteOptions{Sync: sync}}
	e.batches.New = func() any { return new(leveldb.Batch) }
	return e
}

func (e *levelDB) Get(key []byte) ([]byte, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	return levelGet(e.db.Get(key, nil))
}

func levelGet(v []byte, err error) ([]byte, error) {
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, ErrNotFound
	}
	if errors.Is(err, leveldb.ErrClosed) {
		return nil, ErrClosed // a snapshot read after its engine closed
	}
	if err != nil {
		return nil, fmt.Errorf("storage: get: %w", err)
	}
	return v, nil
}

func (e *levelDB) NewIterator(r Range) Iterator {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return errIterator{ErrClosed}
	}
	return &levelIter{it: e.db.NewIterator(levelRange(r), nil), reverse: r.Reverse}
}

func levelRange(r Range) *util.Range {
	if r.Start == nil && r.Limit == nil {
		return nil
	}
	return &util.Range{Start: r.Start, Limit: r.Limit}
}

func (e *levelDB) Write(b *Batch) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return ErrClosed
	}
	if b.Len() == 0 {
		return nil
	}
	lb := e.batches.Get().(*leveldb.Batch)
	defer e.batches.Put(lb)
	lb.Reset()
	for _, op := range b.ops {
		if op.del {
			lb.Delete(op.key)
		} else {
			lb.Put(op.key, op.value)
		}
	}
	if err := e.db.Write(lb, e.wo); err != nil {
		return fmt.Errorf("storage: write batch of %d: %w", b.Len(), err)
	}
	return nil
}

// Compact implements Compacter with goleveldb's CompactRange.
func (e *levelDB) Compact(r Range) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return ErrClosed
	}
	if err := e.db.CompactRange(util.Range{Start: r.Start, Limit: r.Limit}); err != nil {
		return fmt.Errorf("storage: compact: %w", err)
	}
	return nil
}

func (e *levelDB) Snapshot() (Snapshot, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	s, err := e.db.GetSnapshot()
	if err != nil {
		return nil, fmt.Errorf("storage: snapshot: %w", err)
	}
	return &levelSnap{s: s}, nil
}

func (e *levelDB) Stats() Stats {
	st := Stats{Name: e.name}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed || e.name == "memory" {
		return st
	}
	// SizeOf cannot express "to the last key" (a nil Limit means the first
	// key, so it always returned 0); sum the table sizes instead.
	var ds leveldb.DBStats
	if err := e.db.Stats(&ds); err == nil {
		for _, n := range ds.LevelSizes {
			st.DiskBytes += n
		}
	}
	return st
}

func (e *levelDB) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.closed = true
	if err := e.db.Close(); err != nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	return nil
}

// levelSnap guards its goleveldb snapshot: goleveldb dereferences a nil
// DB (and panics) when a released snapshot is read.
type levelSnap struct {
	mu       sync.RWMutex // guards released against Release racing with readers
	released bool
	s        *leveldb.Snapshot
}

func (s *levelSnap) Get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.released {
		return nil, ErrClosed
	}
	return levelGet(s.s.Get(key, nil))
}

func (s *levelSnap) NewIterator(r Range) Iterator {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.released {
		return errIterator{ErrClosed}
	}
	return &levelIter{it: s.s.NewIterator(levelRange(r), nil), reverse: r.Reverse}
}

func (s *levelSnap) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.released {
		s.released = true
		s.s.Release()
	}
}

type levelIter struct {
	it      iterator.Iterator
	reverse bool
	started bool
}

func (i *levelIter) Next() bool {
	if !i.reverse {
		return i.it.Next()
	}
	if !i.started {
		i.started = true
		return i.it.Last()
	}
	return i.it.Prev()
}

func (i *levelIter) Key() []byte   { return i.it.Key() }
func (i *levelIter) Value() []byte { return i.it.Value() }
func (i *levelIter) Err() error {
	err := i.it.Error()
	if errors.Is(err, leveldb.ErrClosed) {
		return ErrClosed
	}
	if err != nil {
		return fmt.Errorf("storage: iterate: %w", err)
	}
	return nil
}
func (i *levelIter) Close() error {
	err := i.Err()
	i.it.Release()
	return err
}

// errIterator is an empty iterator that reports err.
type errIterator struct{ err error }

func (e errIterator) Next() bool    { return false }
func (e errIterator) Key() []byte   { return nil }
func (e errIterator) Value() []byte { return nil }
func (e errIterator) Err() error    { return e.err }
func (e errIterator) Close() error  { return e.err }
