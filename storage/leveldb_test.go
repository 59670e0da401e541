package storage

import (
	"fmt"
	"slices"
	"testing"
)

// TestLevelDBReopen checks that acknowledged writes survive Close and a
// second OpenLevelDB on the same directory.
func TestLevelDBReopen(t *testing.T) {
	dir := t.TempDir()
	e, err := OpenLevelDB(dir)
	if err != nil {
		t.Fatalf("OpenLevelDB(%s): %v", dir, err)
	}
	var want []string
	var b Batch
	for i := range 1000 {
		k, v := fmt.Sprintf("k%04d", i), fmt.Sprintf("v%d", i)
		b.Put([]byte(k), []byte(v))
		want = append(want, pairs(k, v)...)
	}
	b.Put([]byte("deleted"), []byte("x"))
	b.Delete([]byte("deleted"))
	if err := e.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	e, err = OpenLevelDB(dir)
	if err != nil {
		t.Fatalf("reopen OpenLevelDB(%s): %v", dir, err)
	}
	t.Cleanup(func() { closeEngine(t, e) })
	if got := scan(t, e, Range{}); !slices.Equal(got, want) {
		t.Errorf("after reopen: got %d pairs, want %d (first got %q)", len(got), len(want), got[:min(3, len(got))])
	}
	wantMissing(t, e, "deleted")

	// Reopening flushed the journal into a table, so reads now come from
	// disk: values must still be the caller's own copy.
	v, err := e.Get([]byte("k0007"))
	if err != nil {
		t.Fatalf("Get(%q): %v", "k0007", err)
	}
	v[0] = 'X'
	wantValue(t, e, "k0007", "v7")

	if st := e.Stats(); st.Name != "leveldb" || st.DiskBytes <= 0 {
		t.Errorf("Stats() after reopen with 1000 keys in a table = %+v, want Name leveldb and DiskBytes > 0", st)
	}
}

// TestLevelDBCompactReclaims checks that Compact gives back the disk space
// of deleted records: the tables of a range deleted record by record shrink
// to (almost) nothing, and the records outside the range stay.
func TestLevelDBCompactReclaims(t *testing.T) {
	e, err := OpenLevelDB(t.TempDir())
	if err != nil {
		t.Fatalf("OpenLevelDB: %v", err)
	}
	t.Cleanup(func() { closeEngine(t, e) })
	val := make([]byte, 100)
	write := func(del bool) {
		t.Helper()
		var b Batch
		for i := range 100_000 {
			k := fmt.Appendf(nil, "b%06d", i)
			if del {
				b.Delete(k)
			} else {
				b.Put(k, val)
			}
			if b.Size() > 1<<20 {
				if err := e.Write(&b); err != nil {
					t.Fatalf("Write: %v", err)
				}
				b.Reset()
			}
		}
		if err := e.Write(&b); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	var b Batch
	b.Put([]byte("a"), []byte("before"))
	b.Put([]byte("c"), []byte("after"))
	if err := e.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	write(false)
	c, ok := e.(Compacter)
	if !ok {
		t.Fatalf("the leveldb engine is not a Compacter")
	}
	if err := c.Compact(Range{}); err != nil { // everything into tables
		t.Fatalf("Compact: %v", err)
	}
	full := e.Stats().DiskBytes
	write(true)
	if err := c.Compact(Range{Start: []byte("b"), Limit: []byte("c")}); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if got := e.Stats().DiskBytes; got > full/10 {
		t.Errorf("DiskBytes after deleting and compacting = %d, want under a tenth of %d", got, full)
	}
	wantValue(t, e, "a", "before")
	wantValue(t, e, "c", "after")
	wantMissing(t, e, "b000001")
}
