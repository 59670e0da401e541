package storage

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestLevelDB(t *testing.T) {
	testEngine(t, openLevelDB)
	if got, want := openLevelDB(t).Stats().Name, "leveldb"; got != want {
		t.Errorf("Stats().Name = %q, want %q", got, want)
	}
}

func TestMemory(t *testing.T) {
	testEngine(t, openMemory)
	e := openMemory(t)
	if got, want := e.Stats(), (Stats{Name: "memory"}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

// testEngine is the contract every Engine must meet. open returns a fresh,
// empty engine that is closed when the test ends.
func testEngine(t *testing.T, open func(t *testing.T) Engine) {
	t.Run("GetMissing", func(t *testing.T) { testGetMissing(t, open(t)) })
	t.Run("PutGet", func(t *testing.T) { testPutGet(t, open(t)) })
	t.Run("CallerOwnsValues", func(t *testing.T) { testCallerOwnsValues(t, open(t)) })
	t.Run("BatchOrder", func(t *testing.T) { testBatchOrder(t, open(t)) })
	t.Run("EmptyBatch", func(t *testing.T) { testEmptyBatch(t, open(t)) })
	t.Run("BatchReuse", func(t *testing.T) { testBatchReuse(t, open(t)) })
	t.Run("Iterate", func(t *testing.T) { testIterate(t, open(t)) })
	t.Run("Snapshot", func(t *testing.T) { testSnapshot(t, open(t)) })
	t.Run("SnapshotWhileWriting", func(t *testing.T) { testSnapshotWhileWriting(t, open(t)) })
	t.Run("SnapshotReleaseTwice", func(t *testing.T) { testSnapshotReleaseTwice(t, open(t)) })
	t.Run("SnapshotReleaseWhileReading", func(t *testing.T) { testSnapshotReleaseWhileReading(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, open(t)) })
	t.Run("StatsName", func(t *testing.T) {
		if name := open(t).Stats().Name; !slices.Contains(Names(), name) {
			t.Errorf("Stats().Name = %q, want one of %q", name, Names())
		}
	})
}

func testGetMissing(t *testing.T, e Engine) {
	got, err := e.Get([]byte("nope"))
	if !errors.Is(err, ErrNotFound) || got != nil {
		t.Errorf("Get(%q) on empty engine = %q, %v; want nil, ErrNotFound", "nope", got, err)
	}
}

func testPutGet(t *testing.T, e Engine) {
	kv := []string{"k", "v", "empty", "", "\x00bin\xff", "\xff\x00", "long", string(bytes.Repeat([]byte("x"), 1<<16))}
	put(t, e, kv...)
	for i := 0; i < len(kv); i += 2 {
		wantValue(t, e, kv[i], kv[i+1])
	}
	put(t, e, "k", "v2")
	wantValue(t, e, "k", "v2")
	wantMissing(t, e, "k2")
}

// testCallerOwnsValues checks both directions of ownership: a value returned
// by Get, and the slices handed to Batch.Put.
func testCallerOwnsValues(t *testing.T, e Engine) {
	key, val := []byte("k"), []byte("value")
	var b Batch
	b.Put(key, val)
	key[0], val[0] = 'X', 'X' // the batch copied them
	if err := e.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	wantValue(t, e, "k", "value")

	got, err := e.Get([]byte("k"))
	if err != nil {
		t.Fatalf("Get(%q): %v", "k", err)
	}
	got[0] = 'X'
	wantValue(t, e, "k", "value")

	snap, err := e.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snap.Release()
	got, err = snap.Get([]byte("k"))
	if err != nil {
		t.Fatalf("snapshot Get(%q): %v", "k", err)
	}
	got[0] = 'X'
	wantValue(t, snap, "k", "value")
}

func testBatchOrder(t *testing.T, e Engine) {
	put(t, e, "gone", "old", "kept", "old")
	var b Batch
	b.Put([]byte("a"), []byte("1"))
	b.Put([]byte("a"), []byte("2")) // later put wins
	b.Delete([]byte("gone"))
	b.Put([]byte("c"), []byte("1"))
	b.Delete([]byte("c")) // delete after put wins
	b.Delete([]byte("d"))
	b.Put([]byte("d"), []byte("1")) // put after delete wins
	b.Delete([]byte("never-existed"))
	if err := e.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got := scan(t, e, Range{})
	want := pairs("a", "2", "d", "1", "kept", "old")
	if !slices.Equal(got, want) {
		t.Errorf("after batch [put a=1, put a=2, del gone, put c, del c, del d, put d=1]: got %q, want %q", got, want)
	}

	// Writes to one key interleaved with writes to keys that sort before
	// and after it: the engine may reorder keys, never one key's writes.
	var b2 Batch
	ops := []string{"put z=1", "put a=1", "put z=2", "del a", "put m=1", "put a=2", "del z", "put m=2", "put z=3", "del m"}
	for _, op := range ops {
		if k, v, ok := strings.Cut(strings.TrimPrefix(op, "put "), "="); ok {
			b2.Put([]byte(k), []byte(v))
		} else {
			b2.Delete([]byte(strings.TrimPrefix(op, "del ")))
		}
	}
	if err := e.Write(&b2); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got = scan(t, e, Range{Start: []byte("a"), Limit: []byte("b")})
	got = append(got, scan(t, e, Range{Start: []byte("m")})...)
	if want := pairs("a", "2", "z", "3"); !slices.Equal(got, want) {
		t.Errorf("after batch %q: got %q, want %q", ops, got, want)
	}
	var after []string
	b2.Each(func(del bool, key, value []byte) {
		if del {
			after = append(after, "del "+string(key))
		} else {
			after = append(after, "put "+string(key)+"="+string(value))
		}
	})
	if !slices.Equal(after, ops) {
		t.Errorf("Write changed the batch: it now holds %q, want %q", after, ops)
	}
}

func testEmptyBatch(t *testing.T, e Engine) {
	put(t, e, "k", "v")
	for _, b := range []*Batch{{}, new(Batch)} {
		if err := e.Write(b); err != nil {
			t.Fatalf("Write(empty batch) = %v, want nil", err)
		}
	}
	if got, want := scan(t, e, Range{}), pairs("k", "v"); !slices.Equal(got, want) {
		t.Errorf("after empty batches: got %q, want %q", got, want)
	}
}

// testBatchReuse checks that a Reset batch writes only what was added after
// the Reset.
func testBatchReuse(t *testing.T, e Engine) {
	var b Batch
	b.Put([]byte("a"), []byte("1"))
	if err := e.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	del(t, e, "a")
	b.Reset()
	b.Put([]byte("b"), []byte("2"))
	if err := e.Write(&b); err != nil {
		t.Fatalf("Write after Reset: %v", err)
	}
	if got, want := scan(t, e, Range{}), pairs("b", "2"); !slices.Equal(got, want) {
		t.Errorf("reused batch: got %q, want %q (the op before Reset must not replay)", got, want)
	}
}

func testIterate(t *testing.T, e Engine) {
	// Written out of order; listed here in ascending byte order.
	sorted := []string{"a", "a\x00", "ab", "a\xff", "a\xff\x00", "a\xff\xff", "b", "\xff", "\xff\xff", "\xff\xff\x01"}
	for _, i := range []int{5, 0, 9, 2, 7, 1, 8, 3, 6, 4} {
		put(t, e, sorted[i], "v"+sorted[i])
	}
	tests := []struct {
		r    Range
		want []string // keys
	}{
		{Range{}, sorted},
		{Range{Start: []byte("ab")}, sorted[2:]},
		{Range{Limit: []byte("ab")}, sorted[:2]},
		{Range{Start: []byte("a\x00"), Limit: []byte("b")}, sorted[1:6]},
		{Range{Start: []byte("a0"), Limit: []byte("a\xff\x00")}, sorted[2:4]},
		{Range{Start: []byte("b"), Limit: []byte("b")}, nil},
		{Range{Start: []byte("c"), Limit: []byte("b")}, nil},
		{Range{Start: []byte("c"), Limit: []byte("d")}, nil},
		{PrefixRange(nil), sorted},
		{PrefixRange([]byte("a")), sorted[:6]},
		{PrefixRange([]byte("a\xff")), sorted[3:6]},
		{PrefixRange([]byte("a\xff\xff")), sorted[5:6]},
		{PrefixRange([]byte("\xff")), sorted[7:]},
		{PrefixRange([]byte("\xff\xff")), sorted[8:]},
		{PrefixRange([]byte("zz")), nil},
	}
	for _, tt := range tests {
		var want []string
		for _, k := range tt.want {
			want = append(want, pairs(k, "v"+k)...)
		}
		if got := scan(t, e, tt.r); !slices.Equal(got, want) {
			t.Errorf("scan %s:\n got %q\nwant %q", fmtRange(tt.r), got, want)
		}
		// The same range walked backwards: the same pairs, last first.
		rev := tt.r
		rev.Reverse = true
		var wantRev []string
		for i := len(tt.want) - 1; i >= 0; i-- {
			wantRev = append(wantRev, pairs(tt.want[i], "v"+tt.want[i])...)
		}
		if got := scan(t, e, rev); !slices.Equal(got, wantRev) {
			t.Errorf("reverse scan %s:\n got %q\nwant %q", fmtRange(rev), got, wantRev)
		}
	}
}

func testClosed(t *testing.T, e Engine) {
	put(t, e, "k", "v")
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	if got, err := e.Get([]byte("k")); !errors.Is(err, ErrClosed) {
		t.Errorf("Get(%q) after Close = %q, %v; want ErrClosed", "k", got, err)
	}
	var b Batch
	if err := e.Write(&b); !errors.Is(err, ErrClosed) {
		t.Errorf("Write(empty batch) after Close = %v, want ErrClosed", err)
	}
	b.Put([]byte("k"), []byte("v2"))
	if err := e.Write(&b); !errors.Is(err, ErrClosed) {
		t.Errorf("Write(put k) after Close = %v, want ErrClosed", err)
	}
	if s, err := e.Snapshot(); !errors.Is(err, ErrClosed) || s != nil {
		t.Errorf("Snapshot() after Close = %v, %v; want nil, ErrClosed", s, err)
	}
	it := e.NewIterator(Range{})
	if it.Next() {
		t.Errorf("NewIterator(all).Next() after Close = true, want false")
	}
	if err := it.Err(); !errors.Is(err, ErrClosed) {
		t.Errorf("NewIterator(all).Err() after Close = %v, want ErrClosed", err)
	}
	if err := it.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("iterator Close() after engine Close = %v, want ErrClosed", err)
	}
	if err := e.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close() = %v, want ErrClosed", err)
	}
	if name := e.Stats().Name; name == "" {
		t.Errorf("Stats().Name after Close = %q, want the engine name", name)
	}
	// A snapshot outliving its engine reports ErrClosed and releases cleanly.
	if got, err := snap.Get([]byte("k")); !errors.Is(err, ErrClosed) {
		t.Errorf("snapshot Get(%q) after engine Close = %q, %v; want ErrClosed", "k", got, err)
	}
	if err := snap.NewIterator(Range{}).Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("snapshot iterator Close() after engine Close = %v, want ErrClosed", err)
	}
	snap.Release()
	snap.Release()
}
