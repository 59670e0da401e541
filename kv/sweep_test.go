package kv

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/riotkv/riot/storage"
)

// hsetN is HSET key f0 v0 ... f(n-1) v(n-1), values tagged with tag.
func hsetN(key string, n int, tag string) Command {
	c := Command{Op: OpHSet, Args: [][]byte{[]byte(key)}}
	for i := range n {
		c.Args = append(c.Args, fmt.Appendf(nil, "f%05d", i), fmt.Appendf(nil, "%s%d", tag, i))
	}
	return c
}

// sweepApplier applies commands one entry each, at growing indexes.
type sweepApplier struct {
	t     testing.TB
	f     *FSM
	index uint64
}

func (a *sweepApplier) apply(cs ...Command) {
	a.t.Helper()
	for _, c := range cs {
		a.index++
		if c.Now == 0 {
			c.Now = 1_700_000_000_000
		}
		res := a.f.ApplyBatch([]Entry{cmdLog(a.index, c)})
		if r := result(a.t, res, 0); r.Err != nil {
			a.t.Fatalf("apply %v at %d: %v", c.Op, a.index, r.Err)
		}
	}
}

// hashMap reads key's hash in db through a View (nil: no such key).
func hashMap(t testing.TB, f *FSM, db uint8, key string) map[string]string {
	t.Helper()
	v, release := f.View()
	defer release()
	c, ok, err := v.DB(db).Collection([]byte(key), 0, TypeHash)
	if errors.Is(err, ErrWrongType) {
		return nil
	}
	if err != nil {
		t.Fatalf("Collection(%q): %v", key, err)
	}
	if !ok {
		return nil
	}
	m := map[string]string{}
	if err := c.Scan(nil, false, func(f, v []byte) bool { m[string(f)] = string(v); return true }); err != nil {
		t.Fatalf("Scan(%q): %v", key, err)
	}
	if int64(len(m)) != c.Len() {
		t.Errorf("hash %q: %d fields scanned, metadata says %d", key, len(m), c.Len())
	}
	return m
}

// elemRecords counts the element records ('s' and 'z', any generation) of
// user key in r; key "" counts every one.
func elemRecords(t testing.TB, r storage.Reader, key string) int {
	t.Helper()
	n := 0
	for _, p := range sweepFamilies {
		it := r.NewIterator(storage.PrefixRange([]byte{p}))
		for it.Next() {
			_, k, _, _, ok := splitElemKey(it.Key())
			if key == "" || (ok && string(k) == key) {
				n++
			}
		}
		if err := it.Close(); err != nil {
			t.Fatalf("iterate: %v", err)
		}
	}
	return n
}

// sweepDone sweeps in steps of budget until a pass deletes nothing, and
// returns the records deleted. It fails the test if a step examines more
// than budget records.
func sweepDone(t testing.TB, f *FSM, budget int) int {
	t.Helper()
	total := 0
	for range 1_000_000 {
		st, err := f.Sweep(budget)
		if err != nil {
			t.Fatalf("Sweep(%d): %v", budget, err)
		}
		if st.Examined > budget {
			t.Fatalf("Sweep(%d) examined %d records", budget, st.Examined)
		}
		total += st.Deleted
		if st.PassDone && st.PassDeleted == 0 {
			return total
		}
	}
	t.Fatalf("Sweep(%d) never finished a clean pass", budget)
	return 0
}

// TestSweepGarbage: the elements every way of dropping a collection leaves
// behind are deleted, and those of live collections stay.
func TestSweepGarbage(t *testing.T) {
	const t0 = 1_700_000_000_000
	cases := []struct {
		name string
		drop []Command // turns "dead" (a hash of 50 fields) into garbage
		dead int       // fields of the old "dead" left reachable (under "dead2" after a RENAME)
	}{
		{"del", []Command{del("dead")}, 0},
		{"set over it", []Command{set("dead", "now a string")}, 0},
		{"expired", []Command{
			{Op: OpPExpireAt, Args: strs("dead"), Int: t0 + 10, Now: t0},
			{Op: OpExpire, Args: strs("dead"), Now: t0 + 20},
		}, 0},
		{"pexpireat in the past", []Command{{Op: OpPExpireAt, Args: strs("dead"), Int: t0 - 1, Now: t0}}, 0},
		{"rename away", []Command{{Op: OpRename, Args: strs("dead", "dead2")}}, 50},
		{"rename onto it", []Command{hset("other", "a", "1"), {Op: OpRename, Args: strs("other", "dead")}}, 0},
		{"flushdb", []Command{{Op: OpFlush, Int: 1, DB: 1}}, 0},
		{"deleted and created again", []Command{del("dead"), hset("dead", "new", "v")}, 0},
	}
	for _, tc := range cases {
		for _, e := range engines {
			t.Run(tc.name+"/"+e.name, func(t *testing.T) {
				eng := e.open(t)
				f := newFSM(t, eng)
				a := &sweepApplier{t: t, f: f}
				a.apply(hsetN("live", 30, "l"), hsetN("dead", 50, "d"), hsetN("zlast", 20, "z"))
				a.apply(inDB(1, hsetN("dead", 40, "x")), inDB(1, hsetN("live", 10, "y")))
				db := uint8(0)
				if tc.name == "flushdb" {
					db = 1
				}
				want := map[string]map[string]string{}
				for _, k := range []string{"live", "zlast", "dead", "dead2"} {
					want[k] = hashMap(t, f, 0, k)
				}
				live1 := hashMap(t, f, 1, "live")
				before := elemRecords(t, eng, "dead")
				for _, c := range tc.drop {
					a.apply(inDB(db, c))
				}
				after := map[string]map[string]string{}
				for k := range want {
					after[k] = hashMap(t, f, 0, k)
				}
				deadNow := elemRecords(t, eng, "dead")
				if deadNow < before {
					t.Fatalf("dropping %q deleted %d of its records in the apply; the sweeper was to", "dead", before-deadNow)
				}
				got := sweepDone(t, f, 7)
				if got == 0 {
					t.Errorf("the sweep deleted nothing")
				}
				for k, w := range after {
					if h := hashMap(t, f, 0, k); !maps.Equal(h, w) {
						t.Errorf("after the sweep, hash %q = %v, want %v", k, h, w)
					}
				}
				if tc.name == "flushdb" {
					if h := hashMap(t, f, 1, "live"); h != nil {
						t.Errorf("db 1 live after FLUSHDB: %v", h)
					}
					live1 = nil
				}
				if h := hashMap(t, f, 1, "live"); !maps.Equal(h, live1) {
					t.Errorf("db 1 hash live = %v, want %v", h, live1)
				}
				// Every record left is reachable: the live hashes' fields.
				reachable := 0
				for _, d := range []uint8{0, 1} {
					for _, k := range []string{"live", "zlast", "dead", "dead2"} {
						reachable += len(hashMap(t, f, d, k))
					}
				}
				if n := elemRecords(t, eng, ""); n != reachable {
					t.Errorf("after the sweep: %d element records, %d reachable", n, reachable)
				}
				if tc.dead != len(after["dead2"]) {
					t.Errorf("dead2 has %d fields, want %d", len(after["dead2"]), tc.dead)
				}
				if st := f.SweepStats(); st.Deleted != uint64(got) || st.Passes < 2 || st.LastPassDeleted != 0 {
					t.Errorf("SweepStats() = %+v after deleting %d", st, got)
				}
			})
		}
	}
}

// TestSweepScoreRecords: 'z' records of no collection go too, and a
// record the sweeper cannot parse stays.
func TestSweepScoreRecords(t *testing.T) {
	eng := memEngine(t)
	f := newFSM(t, eng)
	a := &sweepApplier{t: t, f: f}
	a.apply(hsetN("h", 5, "v"))
	var b storage.Batch
	for i := range 100 {
		b.Put(append(appendScore(appendElemBase(nil, prefixScore, 0, []byte("gone"), 1), float64(i)), 'm'), nil)
		b.Put(fmt.Appendf(appendElemBase(nil, prefixElem, 2, []byte("gone"), 1), "m%d", i), nil)
	}
	odd := []byte{prefixScore, 0, 0} // too short to be an element key
	b.Put(odd, nil)
	if err := eng.Write(&b); err != nil {
		t.Fatal(err)
	}
	if got := sweepDone(t, f, 16); got != 200 {
		t.Errorf("sweep deleted %d records, want 200", got)
	}
	if n := elemRecords(t, eng, ""); n != 6 {
		t.Errorf("%d element records left, want h's 5 and the unparsable one", n)
	}
	if h := hashMap(t, f, 0, "h"); len(h) != 5 {
		t.Errorf("hash h = %v", h)
	}
}

// TestSweepSkipsLiveCollections: a pass over live collections reads one
// record of each, whatever their size, and a pass that found no garbage
// is not repeated until an entry is applied.
func TestSweepSkipsLiveCollections(t *testing.T) {
	f := newFSM(t, memEngine(t))
	a := &sweepApplier{t: t, f: f}
	a.apply(hsetN("a", 5000, "v"), hsetN("b", 5000, "v"), hset("c", "x", "y"))
	st, err := f.Sweep(1000)
	if err != nil || !st.PassDone || st.Examined != 3 || st.Deleted != 0 {
		t.Fatalf("Sweep(1000) over 3 live hashes = %+v, %v; want one pass examining 3 records", st, err)
	}
	st, err = f.Sweep(1000)
	if err != nil || !st.PassDone || st.Examined != 0 {
		t.Fatalf("Sweep after a clean pass, nothing applied = %+v, %v; want PassDone without reading", st, err)
	}
	a.apply(del("b"))
	st, err = f.Sweep(1000)
	// Keys are in slot order: a's and c's first records may come first.
	if err != nil || st.PassDone || st.Examined != 1000 || st.Deleted < 998 {
		t.Fatalf("Sweep(1000) after DEL b = %+v, %v; want a step of 1000 records, at least 998 deleted", st, err)
	}
	if n := sweepDone(t, f, 1000); n+st.Deleted != 5000 {
		t.Errorf("the sweep deleted %d, want 5000", n+st.Deleted)
	}
	if p := f.SweepStats().Passes; p != 3 {
		t.Errorf("passes = %d, want 3", p)
	}
}

// TestSweepNeverRemovesReachable interleaves sweep steps with random
// writes (keys deleted, re-created, overwritten, renamed, grown) and checks
// every hash against a model after each step.
func TestSweepNeverRemovesReachable(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			eng := e.open(t)
			f := newFSM(t, eng)
			a := &sweepApplier{t: t, f: f}
			r := rand.New(rand.NewPCG(1, 2))
			keys := []string{"a", "b", "c", "d", "e", "ab"}
			model := map[string]map[string]string{}
			check := func(when string) {
				t.Helper()
				for _, k := range keys {
					if h := hashMap(t, f, 0, k); !maps.Equal(h, model[k]) {
						t.Fatalf("%s: hash %q has %d fields, want %d", when, k, len(h), len(model[k]))
					}
				}
			}
			for i := range 200 {
				k := keys[r.IntN(len(keys))]
				switch r.IntN(6) {
				case 0:
					a.apply(del(k))
					delete(model, k)
				case 1:
					a.apply(set(k, "s"))
					delete(model, k) // not a hash now: hashOf answers WRONGTYPE
					a.apply(del(k))
				case 2:
					dst := keys[r.IntN(len(keys))]
					if model[k] != nil {
						a.apply(Command{Op: OpRename, Args: strs(k, dst)})
						m := model[k]
						delete(model, k)
						model[dst] = m
					}
				default:
					n := 1 + r.IntN(100)
					tag := fmt.Sprint(i)
					a.apply(hsetN(k, n, tag))
					if model[k] == nil {
						model[k] = map[string]string{}
					}
					for j := range n {
						model[k][fmt.Sprintf("f%05d", j)] = fmt.Sprintf("%s%d", tag, j)
					}
				}
				if _, err := f.Sweep(1 + r.IntN(64)); err != nil {
					t.Fatalf("Sweep: %v", err)
				}
				check(fmt.Sprintf("step %d", i))
			}
			sweepDone(t, f, 50)
			check("the end")
			reachable := 0
			for _, m := range model {
				reachable += len(m)
			}
			if n := elemRecords(t, eng, ""); n != reachable {
				t.Errorf("%d element records left, %d reachable", n, reachable)
			}
		})
	}
}

// TestSweepRacesRestore sweeps continuously while snapshots (each with
// garbage of its own) are restored: every restore gives exactly the
// snapshot's hashes, and once the sweeper is done no garbage is left.
func TestSweepRacesRestore(t *testing.T) {
	// Two sources, whose snapshots differ: each has a live hash and the
	// garbage of a deleted one.
	var snaps [2][]byte
	var wants [2]map[string]string
	for i := range snaps {
		src := newFSM(t, memEngine(t))
		a := &sweepApplier{t: t, f: src}
		a.apply(hsetN("dead", 1000, "d"), del("dead"), hsetN("live", 200+100*i, fmt.Sprint("v", i)))
		wants[i] = hashMap(t, src, 0, "live")
		snaps[i] = persist(t, src)
	}
	eng := memEngine(t)
	f := newFSM(t, eng)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var sweepErr error
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := f.Sweep(97); err != nil {
				sweepErr = err
				return
			}
		}
	}()
	for i := range 8 {
		if err := restoreBytes(f, snaps[i%2]); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		if h := hashMap(t, f, 0, "live"); !maps.Equal(h, wants[i%2]) {
			t.Fatalf("after restore %d: live has %d fields, want %d", i, len(h), len(wants[i%2]))
		}
	}
	close(stop)
	wg.Wait()
	if sweepErr != nil {
		t.Fatalf("Sweep: %v", sweepErr)
	}
	sweepDone(t, f, 500)
	if h := hashMap(t, f, 0, "live"); !maps.Equal(h, wants[1]) {
		t.Errorf("live has %d fields, want %d", len(h), len(wants[1]))
	}
	if n := elemRecords(t, eng, ""); n != len(wants[1]) {
		t.Errorf("%d element records after the sweep, want %d", n, len(wants[1]))
	}
}

// TestSweepStoppedFSM: a stopped state machine is not swept.
func TestSweepStoppedFSM(t *testing.T) {
	eng := storage.NewFaultyEngine(memEngine(t))
	f := newFSM(t, eng)
	a := &sweepApplier{t: t, f: f}
	a.apply(hsetN("h", 10, "v"), del("h"))
	eng.FailWrites.Store(true)
	f.ApplyBatch([]Entry{cmdLog(a.index+1, set("k", "v"))})
	if f.Err() == nil {
		t.Fatal("the state machine did not stop on a failed write")
	}
	eng.FailWrites.Store(false)
	if st, err := f.Sweep(100); err == nil || st.Deleted != 0 {
		t.Errorf("Sweep on a stopped state machine = %+v, %v; want an error", st, err)
	}
	if n := elemRecords(t, eng, "h"); n != 10 {
		t.Errorf("%d records of h left, want the 10 unswept", n)
	}
}

// TestSweepCompacts: after a pass that deleted many records, the engine's
// files shrink back (the sweeper compacts what it deleted).
func TestSweepCompacts(t *testing.T) {
	eng := levelEngine(t, t.TempDir())
	f := newFSM(t, eng)
	a := &sweepApplier{t: t, f: f}
	a.apply(hset("small", "a", "b"))
	c, ok := eng.(storage.Compacter)
	if !ok {
		t.Fatal("leveldb engine is not a Compacter")
	}
	if err := c.Compact(storage.Range{}); err != nil {
		t.Fatal(err)
	}
	empty := eng.Stats().DiskBytes
	for i := range 4 {
		c := Command{Op: OpHSet, Args: [][]byte{[]byte("big")}}
		for j := range 5000 {
			c.Args = append(c.Args, fmt.Appendf(nil, "field:%d:%d", i, j), bytes.Repeat([]byte{'v'}, 100))
		}
		a.apply(c)
	}
	if err := c.Compact(storage.Range{}); err != nil {
		t.Fatal(err)
	}
	full := eng.Stats().DiskBytes
	a.apply(del("big"))
	if n := sweepDone(t, f, 4096); n != 20_000 {
		t.Fatalf("swept %d records, want 20000", n)
	}
	if got := eng.Stats().DiskBytes; got > empty+(full-empty)/10 {
		t.Errorf("engine size after the sweep = %d; empty %d, with the hash %d", got, empty, full)
	}
	if h := hashMap(t, f, 0, "small"); !maps.Equal(h, map[string]string{"a": "b"}) {
		t.Errorf("small = %v", h)
	}
}

// TestSweepWaitsForDrops: after a clean pass, a new pass starts at once
// when apply dropped a collection, and otherwise (garbage apply did not
// count: a SET over a hash it did not read) only once the idle time has
// passed, so that live collections are not read every tick.
func TestSweepWaitsForDrops(t *testing.T) {
	f := newFSM(t, memEngine(t))
	a := &sweepApplier{t: t, f: f}
	a.apply(hsetN("h", 100, "v"), hsetN("live", 10, "v"))
	if n := sweepDone(t, f, 1000); n != 0 {
		t.Fatalf("first pass deleted %d", n)
	}
	a.apply(set("h", "a string now")) // not counted: SET does not read h
	st, err := f.Sweep(1000)
	if err != nil || !st.PassDone || st.Examined != 0 {
		t.Fatalf("Sweep after an uncounted overwrite = %+v, %v; want no pass before the idle time", st, err)
	}
	f.sweep.idle = 0 // the idle time has passed
	if n := sweepDone(t, f, 1000); n != 100 {
		t.Errorf("the pass after the idle time deleted %d, want 100", n)
	}
	f.sweep.idle = time.Hour
	a.apply(hsetN("d", 7, "v"))
	sweepDone(t, f, 1000)
	a.apply(del("d")) // counted: the next pass starts at once
	if n := sweepDone(t, f, 1000); n != 7 {
		t.Errorf("the pass after DEL deleted %d, want 7", n)
	}
}
