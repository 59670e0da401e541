package storage

import (
	"errors"
	"fmt"
	"testing"
)

// openLevelDB opens a LevelDB engine in a fresh temporary directory and
// closes it when the test ends.
func openLevelDB(t *testing.T) Engine {
	t.Helper()
	e, err := OpenLevelDB(t.TempDir())
	if err != nil {
		t.Fatalf("OpenLevelDB: %v", err)
	}
	t.Cleanup(func() { closeEngine(t, e) })
	return e
}

// openMemory returns a memory engine that is closed when the test ends.
func openMemory(t *testing.T) Engine {
	t.Helper()
	e := NewMemory()
	t.Cleanup(func() { closeEngine(t, e) })
	return e
}

// closeEngine closes e, tolerating a test that already closed it.
func closeEngine(t testing.TB, e Engine) {
	t.Helper()
	if err := e.Close(); err != nil && !errors.Is(err, ErrClosed) {
		t.Errorf("Close: %v", err)
	}
}

// put writes key/value pairs (k1, v1, k2, v2, ...) in one batch.
func put(t *testing.T, e Engine, kv ...string) {
	t.Helper()
	var b Batch
	for i := 0; i+1 < len(kv); i += 2 {
		b.Put([]byte(kv[i]), []byte(kv[i+1]))
	}
	if err := e.Write(&b); err != nil {
		t.Fatalf("Write(put %q): %v", kv, err)
	}
}

// del deletes keys in one batch.
func del(t *testing.T, e Engine, keys ...string) {
	t.Helper()
	var b Batch
	for _, k := range keys {
		b.Delete([]byte(k))
	}
	if err := e.Write(&b); err != nil {
		t.Fatalf("Write(delete %q): %v", keys, err)
	}
}

// wantValue checks that r holds want at key.
func wantValue(t *testing.T, r Reader, key, want string) {
	t.Helper()
	got, err := r.Get([]byte(key))
	if err != nil {
		t.Fatalf("Get(%q): err = %v, want value %q", key, err, want)
	}
	if string(got) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

// wantMissing checks that r has no value at key.
func wantMissing(t *testing.T, r Reader, key string) {
	t.Helper()
	got, err := r.Get([]byte(key))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, got, err)
	}
}

// scan returns every pair in rg as "key=value", quoted so binary keys read
// well in failure messages.
func scan(t *testing.T, r Reader, rg Range) []string {
	t.Helper()
	it := r.NewIterator(rg)
	var got []string
	for it.Next() {
		got = append(got, fmt.Sprintf("%q=%q", it.Key(), it.Value()))
	}
	if err := it.Close(); err != nil {
		t.Fatalf("iterate %s: %v", fmtRange(rg), err)
	}
	return got
}

// pairs formats key/value pairs (k1, v1, ...) the way scan does.
func pairs(kv ...string) []string {
	var out []string
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, fmt.Sprintf("%q=%q", kv[i], kv[i+1]))
	}
	return out
}

func fmtRange(r Range) string {
	return fmt.Sprintf("Range{Start: %q, Limit: %q}", r.Start, r.Limit)
}
