package kv

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riotkv/riot/storage"
)

// The sweeper deletes the element records no collection names any more
// (docs/design/0005-collections-layout.md). DEL, UNLINK, expiry, an
// overwrite, FLUSHDB, RENAME, MOVE and SWAPDB replace or delete a
// collection's metadata only, so that they cost O(1) whatever its size; the
// old generation's 's' and 'z' records stay in the engine, unreachable:
// reads only ever look under the generation the current metadata names.
//
// Each replica sweeps on its own, outside the log (raftkv runs Sweep in the
// background on every node): the records it deletes are never read, so
// replicas that hold different garbage answer alike. A record of (db, key,
// gen) is garbage when key's metadata in db is missing, holds a string, or
// names another generation. That verdict never changes back: generations
// are raft indexes, a collection is only ever created under the index of
// the entry being applied, and an entry's writes reach the engine together,
// so once the metadata stops naming gen nothing names it again. A record
// seen reachable may turn to garbage right after; the next pass removes it.
// A crash loses the cursor only: the next pass starts over.

// SweepStep is what one Sweep call did.
type SweepStep struct {
	Examined int // element records read
	Deleted  int // garbage records deleted
	// PassDone: the step finished a pass over every element record (or
	// found that none is needed: see Sweep); the next step starts another.
	PassDone bool
	// PassDeleted is the number of records the finished pass deleted.
	PassDeleted int
}

// SweepStats are the sweeper's counters since the process started.
type SweepStats struct {
	Deleted         uint64 // garbage element records deleted
	Passes          uint64 // passes completed
	LastPassDeleted uint64 // records the last completed pass deleted
}

// sweepIdle is how long after a clean pass the sweeper waits before the
// next when no collection was dropped since.
const sweepIdle = time.Minute

// sweepCompactMin is the number of records a pass must delete before the
// sweeper asks the engine to compact the ranges it deleted them from:
// LevelDB keeps deleted records (and their tombstones) on disk until a
// compaction reaches them, which for a range no longer written may be
// never.
const sweepCompactMin = 10_000

// sweepFamilies are the families the sweeper walks, in order.
var sweepFamilies = [...]byte{prefixElem, prefixScore}

// sweeper is the state of the pass under way. Its fields are guarded by mu
// (one step at a time), the counters are atomics (read by INFO).
type sweeper struct {
	mu sync.Mutex
	// cursor is where the pass goes on; nil: the next step starts a pass.
	cursor []byte
	// passFrom is the applied index when the pass began. clean means a
	// pass begun at cleanAt found no garbage: no entry applied since, no
	// garbage since, and a new pass is not needed.
	passFrom, cleanAt uint64
	clean             bool
	// passDropped is FSM.dropped when the pass began; droppedAtClean and
	// cleanTime that of the last clean pass, and when it ended. After a
	// clean pass, a new one starts at once only when a collection was
	// dropped since (DEL, expiry, RENAME, FLUSHDB, an overwrite apply
	// noticed); otherwise at most once every idle (sweepIdle: garbage no
	// drop was counted for, as a SET over a collection the apply did not
	// read), so that a node with many live collections and no garbage does
	// not read them all every second.
	passDropped, droppedAtClean uint64
	cleanTime                   time.Time
	idle                        time.Duration
	passDeleted                 int
	// deletedIn bounds, per family, the keys the pass deleted: [lo, hi].
	deletedIn [len(sweepFamilies)]struct{ lo, hi []byte }
	// dead is the last collection found unreachable (an element key's
	// part after the family, up to the field): see reachable.
	dead []byte

	deleted, passes, lastPass atomic.Uint64
}

// reset forgets the pass under way: the engine was rewritten (a restore).
func (s *sweeper) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursor, s.dead, s.clean, s.passDeleted = nil, nil, false, 0
	clear(s.deletedIn[:])
}

// SweepStats returns the sweeper's counters.
func (f *FSM) SweepStats() SweepStats {
	s := &f.sweep
	return SweepStats{Deleted: s.deleted.Load(), Passes: s.passes.Load(), LastPassDeleted: s.lastPass.Load()}
}

// Sweep examines up to budget element records, from where the last step
// stopped, and deletes the garbage among them in one engine batch. A
// reachable collection is skipped whole, at the cost of one record and one
// metadata read, so a pass costs O(collections) plus the garbage. When a
// pass ends after deleting many records, Sweep compacts the ranges it
// deleted them from (storage.Compacter), after the step, which may then
// take long.
//
// A pass that found nothing to delete is not repeated until an entry has
// been applied: Sweep then reports PassDone at once. Sweep fails while the
// state machine is stopped; a restore waits for the step to end and
// starts the pass over. It is safe to call concurrently with ApplyBatch,
// View and Restore.
func (f *FSM) Sweep(budget int) (SweepStep, error) {
	st, compact, err := f.sweepStep(max(budget, 1))
	for _, r := range compact {
		c, ok := f.eng.(storage.Compacter)
		if !ok {
			break
		}
		start := time.Now()
		if cerr := c.Compact(r); cerr != nil {
			f.logger.Warn("sweeper: compact", "err", cerr)
			break
		}
		f.logger.Info("sweeper: compacted swept range", "deleted", st.PassDeleted, "took", time.Since(start))
	}
	return st, err
}

// sweepStep is Sweep without the compaction, which it returns: the ranges
// to compact, if any.
func (f *FSM) sweepStep(budget int) (SweepStep, []storage.Range, error) {
	f.restoreMu.RLock()
	defer f.restoreMu.RUnlock()
	if err := f.Err(); err != nil {
		return SweepStep{}, nil, err
	}
	s := &f.sweep
	s.mu.Lock()
	defer s.mu.Unlock()
	var st SweepStep
	cur := s.cursor
	if cur == nil {
		applied := f.applied.Load()
		if s.clean && s.cleanAt == applied {
			return SweepStep{PassDone: true}, nil, nil
		}
		if s.clean && f.dropped.Load() == s.droppedAtClean && time.Since(s.cleanTime) < s.idle {
			return SweepStep{PassDone: true}, nil, nil
		}
		s.passDropped = f.dropped.Load()
		s.passFrom, cur = applied, []byte{sweepFamilies[0]}
	}
	var b storage.Batch
	var bounds [len(sweepFamilies)]struct{ lo, hi []byte }
	done := false
	for st.Examined < budget && !done {
		next, err := f.sweepFrom(cur, budget, &st, &b, &bounds)
		if err != nil {
			return SweepStep{}, nil, err
		}
		if next != nil {
			cur = next
			continue
		}
		// cur's family is done.
		if i := familyIndex(cur[0]); i+1 < len(sweepFamilies) {
			cur = []byte{sweepFamilies[i+1]}
		} else {
			done = true
		}
	}
	if err := f.eng.Write(&b); err != nil {
		return SweepStep{}, nil, fmt.Errorf("raftkv: sweep: delete %d records: %w", b.Len(), err)
	}
	s.deleted.Add(uint64(st.Deleted))
	s.passDeleted += st.Deleted
	for i, r := range bounds {
		d := &s.deletedIn[i]
		if r.lo != nil && d.lo == nil {
			d.lo = r.lo
		}
		if r.hi != nil {
			d.hi = r.hi
		}
	}
	if !done {
		s.cursor = cur
		return st, nil, nil
	}
	st.PassDone, st.PassDeleted = true, s.passDeleted
	s.passes.Add(1)
	s.lastPass.Store(uint64(s.passDeleted))
	s.clean, s.cleanAt = s.passDeleted == 0, s.passFrom
	s.droppedAtClean, s.cleanTime = s.passDropped, time.Now()
	var compact []storage.Range
	if s.passDeleted >= sweepCompactMin {
		for _, d := range s.deletedIn {
			if d.lo != nil {
				compact = append(compact, storage.Range{Start: d.lo, Limit: append(d.hi, 0)})
			}
		}
	}
	s.cursor, s.passDeleted = nil, 0
	clear(s.deletedIn[:])
	return st, compact, nil
}

func familyIndex(family byte) int {
	for i, p := range sweepFamilies {
		if p == family {
			return i
		}
	}
	return len(sweepFamilies) // not reached: cursors stay in the families
}

// sweepFrom walks one iterator from cur, within cur's family, adding the
// garbage it meets to b (and its keys to bounds) until the budget is used
// or it meets a reachable collection. It returns where to go on, nil when
// the family is done.
func (f *FSM) sweepFrom(cur []byte, budget int, st *SweepStep, b *storage.Batch, bounds *[len(sweepFamilies)]struct{ lo, hi []byte }) ([]byte, error) {
	end := []byte{cur[0] + 1}
	bound := &bounds[familyIndex(cur[0])]
	it := f.eng.NewIterator(storage.Range{Start: cur, Limit: end})
	var next []byte
	for it.Next() {
		k := it.Key()
		st.Examined++
		db, key, gen, _, ok := splitElemKey(k)
		keep := !ok // a record the sweeper cannot read is not its to judge
		if ok {
			var err error
			if keep, err = f.reachable(k, db, key, gen); err != nil {
				it.Close()
				return nil, err
			}
		}
		if keep && ok {
			// Skip the rest of the collection: its records are contiguous.
			next = storage.PrefixRange(appendElemBase(nil, k[0], db, key, gen)).Limit
			break
		}
		if !keep {
			b.Delete(k)
			st.Deleted++
			if bound.lo == nil {
				bound.lo = bytes.Clone(k)
			}
			bound.hi = append(bound.hi[:0], k...)
		}
		if st.Examined >= budget {
			next = append(bytes.Clone(k), 0)
			break
		}
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("raftkv: sweep: %w", err)
	}
	if next != nil && bytes.Compare(next, end) >= 0 {
		next = nil
	}
	return next, nil
}

// reachable reports whether key's metadata in db names generation gen,
// for element record k, reading the engine (what is committed). The last
// unreachable collection's verdict is kept: it is final, and its records
// are contiguous. Metadata that does not decode, or of a type this release
// does not know, keeps its elements: the sweeper deletes only what it
// knows to be garbage.
func (f *FSM) reachable(k []byte, db uint8, key []byte, gen uint64) (bool, error) {
	s := &f.sweep
	// The collection's part of k, without the family: db, slot, key
	// length, key, gen.
	coll := k[1 : elemHead+len(key)+8]
	if bytes.Equal(coll, s.dead) {
		return false, nil
	}
	live, err := f.names(db, key, gen)
	if err != nil || live {
		return live, err
	}
	s.dead = append(s.dead[:0], coll...)
	return false, nil
}

func (f *FSM) names(db uint8, key []byte, gen uint64) (bool, error) {
	raw, err := f.eng.Get(dataKey(db, key))
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("raftkv: sweep: metadata of %q: %w", key, err)
	}
	v, err := decodeValue(raw)
	if err != nil {
		return true, nil
	}
	switch {
	case v.typ == typeString:
		return false, nil
	case !isCollection(v.typ):
		return true, nil
	}
	g, _, _, err := decodeColl(v.typ, v.data)
	return err != nil || g == gen, nil
}
