package storage

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
)

func testSnapshot(t *testing.T, e Engine) {
	put(t, e, "a", "1", "b", "1")
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snap.Release()

	put(t, e, "a", "2", "c", "1")
	del(t, e, "b")

	wantValue(t, snap, "a", "1")
	wantValue(t, snap, "b", "1")
	wantMissing(t, snap, "c")
	if got, want := scan(t, snap, Range{}), pairs("a", "1", "b", "1"); !slices.Equal(got, want) {
		t.Errorf("snapshot scan after put a=2, put c, del b: got %q, want %q", got, want)
	}
	if got, want := scan(t, e, Range{}), pairs("a", "2", "c", "1"); !slices.Equal(got, want) {
		t.Errorf("engine scan after put a=2, put c, del b: got %q, want %q", got, want)
	}

	later, err := e.Snapshot()
	if err != nil {
		t.Fatalf("second Snapshot: %v", err)
	}
	defer later.Release()
	if got, want := scan(t, later, PrefixRange([]byte("b"))), []string(nil); !slices.Equal(got, want) {
		t.Errorf("second snapshot scan of prefix b: got %q, want %q", got, want)
	}
}

// testSnapshotWhileWriting iterates a snapshot while another goroutine
// rewrites, deletes and adds keys; the iteration must see exactly the
// snapshot-time contents. The reader waits for a committed batch every few
// keys, so writes really happen mid-iteration.
func testSnapshotWhileWriting(t *testing.T, e Engine) {
	const n = 200
	key := func(i int) []byte { return fmt.Appendf(nil, "k%03d", i) }
	var b Batch
	var want []string
	for i := range n {
		b.Put(key(i), []byte("v0"))
		want = append(want, pairs(string(key(i)), "v0")...)
	}
	if err := e.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snap.Release()

	written, stop := make(chan int), make(chan struct{})
	var writeErr error
	committed := 0 // the last generation written; read after wg.Wait
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(written)
		for gen := 1; ; gen++ {
			var b Batch
			for i := range n {
				switch v := []byte("v" + strconv.Itoa(gen)); i % 3 {
				case 0:
					b.Put(key(i), v)
				case 1:
					b.Delete(key(i))
				case 2:
					b.Put(append(key(i), "/new"...), v)
				}
			}
			if writeErr = e.Write(&b); writeErr != nil {
				return
			}
			committed = gen
			select {
			case written <- gen:
			case <-stop:
				return
			}
		}
	})

	it := snap.NewIterator(Range{})
	var got []string
	seen := 0 // batches committed while iterating
	for i := 0; it.Next(); i++ {
		if i%10 == 0 {
			<-written
			seen++
		}
		got = append(got, fmt.Sprintf("%q=%q", it.Key(), it.Value()))
	}
	itErr := it.Close()
	close(stop)
	wg.Wait()

	if writeErr != nil {
		t.Fatalf("concurrent Write: %v", writeErr)
	}
	if itErr != nil {
		t.Fatalf("snapshot iterate: %v", itErr)
	}
	if committed < seen || seen < n/10 {
		t.Fatalf("%d batches committed, %d seen during iteration; want >= %d", committed, seen, n/10)
	}
	if !slices.Equal(got, want) {
		t.Errorf("snapshot iterated during %d concurrent batches:\n got %d pairs %q\nwant %d pairs %q", seen, len(got), got, len(want), want)
	}
	wantValue(t, snap, "k001", "v0")
	wantMissing(t, e, "k001")
	wantMissing(t, snap, "k002/new")
	wantValue(t, e, "k002/new", "v"+strconv.Itoa(committed))
}

func testSnapshotReleaseTwice(t *testing.T, e Engine) {
	put(t, e, "k", "v")
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	wantValue(t, snap, "k", "v")
	snap.Release()
	snap.Release()
	if got, err := snap.Get([]byte("k")); !errors.Is(err, ErrClosed) {
		t.Errorf("Get(%q) on a released snapshot = %q, %v; want ErrClosed", "k", got, err)
	}
	if err := snap.NewIterator(Range{}).Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("NewIterator(all).Close() on a released snapshot = %v, want ErrClosed", err)
	}
	wantValue(t, e, "k", "v") // the engine is unaffected
}

// testSnapshotReleaseWhileReading releases a snapshot while other goroutines
// read it: each read returns the snapshot's value or ErrClosed.
func testSnapshotReleaseWhileReading(t *testing.T, e Engine) {
	put(t, e, "k", "v")
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for r := range 4 {
		wg.Go(func() {
			<-start
			for range 100 {
				got, err := snap.Get([]byte("k"))
				if (err != nil && !errors.Is(err, ErrClosed)) || (err == nil && string(got) != "v") {
					t.Errorf("reader %d: snapshot Get(%q) = %q, %v; want %q or ErrClosed", r, "k", got, err, "v")
					return
				}
				if err := snap.NewIterator(Range{}).Close(); err != nil && !errors.Is(err, ErrClosed) {
					t.Errorf("reader %d: snapshot iterate: %v, want nil or ErrClosed", r, err)
					return
				}
			}
		})
	}
	close(start)
	snap.Release()
	wg.Wait()
}

// testConcurrent runs writers and readers together; run it under -race.
// Each writer batch sets w<i>/a and w<i>/b to the same round number, so a
// snapshot must always see them equal.
func testConcurrent(t *testing.T, e Engine) {
	const writers, readers, rounds = 4, 4, 50
	prefix := func(w int) string { return fmt.Sprintf("w%d/", w) }

	var wwg, rwg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wwg.Go(func() {
			p := prefix(w)
			for r := range rounds {
				var b Batch
				v := []byte(strconv.Itoa(r))
				b.Put([]byte(p+"a"), v)
				b.Put([]byte(p+"b"), v)
				b.Put(fmt.Appendf(nil, "%sr%03d", p, r), v)
				if err := e.Write(&b); err != nil {
					t.Errorf("writer %d round %d: Write: %v", w, r, err)
					return
				}
			}
		})
	}
	for r := range readers {
		rwg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-done:
					if n > 0 {
						return
					}
				default:
				}
				if err := checkPairEqual(e, prefix(n%writers)); err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
			}
		})
	}
	wwg.Wait()
	close(done)
	rwg.Wait()

	last := strconv.Itoa(rounds - 1)
	for w := range writers {
		p := prefix(w)
		wantValue(t, e, p+"a", last)
		wantValue(t, e, p+"b", last)
		if got := len(scan(t, e, PrefixRange([]byte(p+"r")))); got != rounds {
			t.Errorf("scan prefix %q: got %d keys, want %d", p+"r", got, rounds)
		}
	}
}

// checkPairEqual reads p+"a" and p+"b" through a snapshot and checks that
// one batch wrote both; it also checks the prefix iterates in order.
func checkPairEqual(e Engine, p string) error {
	snap, err := e.Snapshot()
	if err != nil {
		return fmt.Errorf("Snapshot: %w", err)
	}
	defer snap.Release()
	a, errA := snap.Get([]byte(p + "a"))
	b, errB := snap.Get([]byte(p + "b"))
	if string(a) != string(b) || (errA == nil) != (errB == nil) {
		return fmt.Errorf("snapshot Get(%qa) = %q, %v but Get(%qb) = %q, %v; want equal", p, a, errA, p, b, errB)
	}
	it := e.NewIterator(PrefixRange([]byte(p)))
	var prev []byte
	for it.Next() {
		if prev != nil && string(it.Key()) <= string(prev) {
			return fmt.Errorf("iterate prefix %q: key %q after %q, want ascending", p, it.Key(), prev)
		}
		prev = append(prev[:0], it.Key()...)
	}
	return it.Close()
}
