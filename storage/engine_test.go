package storage

import (
	"bytes"
	"testing"
)

func TestPrefixRange(t *testing.T) {
	tests := []struct {
		prefix string
		end    []byte // nil: no upper bound
	}{
		{"", nil},
		{"a", []byte("b")},
		{"ab", []byte("ac")},
		{"\x00", []byte("\x01")},
		{"a\xfe", []byte("a\xff")},
		{"a\xff", []byte("b")},
		{"a\xff\xff", []byte("b")},
		{"a\xfe\xff", []byte("a\xff")},
		{"\xff", nil},
		{"\xff\xff\xff", nil},
	}
	for _, tt := range tests {
		prefix := []byte(tt.prefix)
		if got := prefixEnd(prefix); !bytes.Equal(got, tt.end) || (got == nil) != (tt.end == nil) {
			t.Errorf("prefixEnd(%q) = %q (nil %t), want %q (nil %t)", tt.prefix, got, got == nil, tt.end, tt.end == nil)
		}
		if string(prefix) != tt.prefix {
			t.Errorf("prefixEnd(%q) modified its argument to %q", tt.prefix, prefix)
		}
		r := PrefixRange(prefix)
		if !bytes.Equal(r.Start, prefix) || !bytes.Equal(r.Limit, tt.end) || (r.Limit == nil) != (tt.end == nil) {
			t.Errorf("PrefixRange(%q) = %s, want Start %q, Limit %q", tt.prefix, fmtRange(r), tt.prefix, tt.end)
		}
	}
	if r := PrefixRange(nil); r.Start != nil || r.Limit != nil {
		t.Errorf("PrefixRange(nil) = %s, want the zero Range (everything)", fmtRange(r))
	}
}

func TestBatch(t *testing.T) {
	var b Batch
	if b.Len() != 0 || b.Size() != 0 {
		t.Fatalf("zero Batch: Len %d, Size %d; want 0, 0", b.Len(), b.Size())
	}
	b.Put([]byte("key"), []byte("value")) // 3 + 5
	b.Delete([]byte("gone"))              // 4
	b.Put([]byte("k"), nil)               // 1 + 0
	if got, want := b.Len(), 3; got != want {
		t.Errorf("Len after put, delete, put = %d, want %d", got, want)
	}
	if got, want := b.Size(), 13; got != want {
		t.Errorf("Size after put(key,value), delete(gone), put(k,nil) = %d, want %d", got, want)
	}
	var got []string
	b.Each(func(del bool, key, value []byte) {
		got = append(got, formatOp(del, key, value))
	})
	want := []string{"put key=value", "del gone", "put k="}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("Each: got %q, want %q", got, want)
	}
	b.Reset()
	if b.Len() != 0 || b.Size() != 0 {
		t.Errorf("after Reset: Len %d, Size %d; want 0, 0", b.Len(), b.Size())
	}
	b.Each(func(del bool, key, value []byte) {
		t.Errorf("Each after Reset called with %s", formatOp(del, key, value))
	})
}

// TestBatchCopies: a batch keeps its own copies of keys and values, and the
// copy Put returns stays valid and unchanged after later writes and Reset.
func TestBatchCopies(t *testing.T) {
	var b Batch
	if v := b.Put(nil, nil); v == nil || len(v) != 0 {
		t.Errorf("Put of an empty key and a nil value as the first write returned %#v, want a non-nil empty slice", v)
	}
	key, val := []byte("key"), []byte("value")
	kept := b.Put(key, val)
	copy(key, "KEY")
	copy(val, "VALUE")
	for i := range 1000 { // grow the buffer many times over
		b.Put([]byte{byte(i)}, bytes.Repeat([]byte{'x'}, i))
	}
	if string(kept) != "value" {
		t.Errorf("the copy Put returned reads %q after the caller changed its slices and the batch grew, want %q", kept, "value")
	}
	var first []string
	b.Each(func(del bool, key, value []byte) {
		if len(first) < 2 {
			first = append(first, formatOp(del, key, value))
		}
	})
	if first[0] != "put =" || first[1] != "put key=value" {
		t.Errorf("Each starts with %q, want the batch's own copies", first)
	}
	b.Reset()
	b.Put([]byte("other"), []byte("xxxxx"))
	if string(kept) != "value" {
		t.Errorf("the copy Put returned reads %q after Reset and reuse, want %q", kept, "value")
	}
}

func formatOp(del bool, key, value []byte) string {
	if del {
		return "del " + string(key)
	}
	return "put " + string(key) + "=" + string(value)
}

func TestOpen(t *testing.T) {
	for _, name := range Names() {
		e, err := Open(name, t.TempDir(), Options{})
		if err != nil {
			t.Fatalf("Open(%q): %v", name, err)
		}
		if got := e.Stats().Name; got != name {
			t.Errorf("Open(%q).Stats().Name = %q, want %q", name, got, name)
		}
		closeEngine(t, e)
	}
	e, err := Open("", t.TempDir(), Options{})
	if err != nil {
		t.Fatalf("Open(%q): %v", "", err)
	}
	if got := e.Stats().Name; got != "leveldb" {
		t.Errorf("Open(%q).Stats().Name = %q, want %q (the default)", "", got, "leveldb")
	}
	closeEngine(t, e)
	if e, err := Open("rocksdb", t.TempDir(), Options{}); err == nil {
		t.Errorf("Open(%q) = %v, %v; want an unknown-engine error", "rocksdb", e, err)
	}
}
