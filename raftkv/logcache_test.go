package raftkv

import (
	"bytes"
	"errors"
	"testing"

	"github.com/hashicorp/raft"
)

// countingStore is an in-memory log store that counts the reads that reach
// it: reads the cache did not answer.
type countingStore struct {
	*raft.InmemStore
	reads int
}

func (s *countingStore) GetLog(idx uint64, l *raft.Log) error {
	s.reads++
	return s.InmemStore.GetLog(idx, l)
}

func entry(idx uint64, size int) *raft.Log {
	return &raft.Log{Index: idx, Term: 1, Type: raft.LogCommand, Data: bytes.Repeat([]byte{byte(idx)}, size)}
}

// TestLogCache: the cache holds the newest run of entries within both
// bounds, answers reads of it without the store, and reads outside it go
// to the store; rewrites and deletes never leave a stale entry.
func TestLogCache(t *testing.T) {
	store := &countingStore{InmemStore: raft.NewInmemStore()}
	c, err := newLogCache(store, 8, 1000)
	if err != nil {
		t.Fatal(err)
	}
	storeRun := func(from, to uint64, size int) {
		t.Helper()
		var logs []*raft.Log
		for i := from; i <= to; i++ {
			logs = append(logs, entry(i, size))
		}
		if err := c.StoreLogs(logs); err != nil {
			t.Fatal(err)
		}
	}
	// cached reports whether idx is answered from memory, and checks the
	// entry either way.
	cached := func(idx uint64) bool {
		t.Helper()
		before := store.reads
		var l raft.Log
		if err := c.GetLog(idx, &l); err != nil {
			t.Fatalf("GetLog(%d): %v", idx, err)
		}
		if l.Index != idx || len(l.Data) == 0 || l.Data[0] != byte(idx) {
			t.Fatalf("GetLog(%d) = index %d, data %.8q", idx, l.Index, l.Data)
		}
		return store.reads == before
	}
	want := func(lo, hi uint64, all uint64) {
		t.Helper()
		for i := uint64(1); i <= all; i++ {
			if got := cached(i); got != (lo <= i && i <= hi) {
				t.Errorf("entry %d cached: %v; want the run %d..%d", i, got, lo, hi)
			}
		}
		if c.bytes > c.maxBytes {
			t.Errorf("cache holds %d bytes, bound %d", c.bytes, c.maxBytes)
		}
	}

	storeRun(1, 10, 100) // 10 small entries: the entry bound keeps 8
	want(3, 10, 10)
	storeRun(11, 13, 300) // 300-byte entries: the byte bound keeps 100 + 3*300
	want(10, 13, 13)
	storeRun(14, 14, 2000) // bigger than the whole bound: nothing cached
	want(0, 0, 14)
	storeRun(15, 16, 100)
	want(15, 16, 16)

	// A compaction below the run keeps it; one reaching into it drops it.
	if err := c.DeleteRange(1, 5); err != nil {
		t.Fatal(err)
	}
	if !cached(15) || !cached(16) {
		t.Error("a compaction below the run dropped it")
	}
	if err := c.DeleteRange(16, 16); err != nil { // a follower's conflicting suffix
		t.Fatal(err)
	}
	var l raft.Log
	if err := c.GetLog(16, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Errorf("GetLog of a deleted entry: %v, want ErrLogNotFound", err)
	}
	// Rewritten with other data: the new entry is read, never the old one.
	rewritten := entry(16, 50)
	rewritten.Term = 2
	if err := c.StoreLogs([]*raft.Log{rewritten}); err != nil {
		t.Fatal(err)
	}
	if err := c.GetLog(16, &l); err != nil || l.Term != 2 {
		t.Errorf("GetLog(16) after the rewrite: term %d, %v; want term 2", l.Term, err)
	}
	// A run that does not continue the cached one (a snapshot installed
	// far ahead) replaces it.
	storeRun(100, 101, 10)
	if got := [2]uint64{c.lo, c.hi}; got != [2]uint64{100, 101} {
		t.Errorf("cached run %v after a jump, want [100 101]", got)
	}
	if c.bytes != 20 {
		t.Errorf("cache counts %d bytes, want 20", c.bytes)
	}
}

// TestLogCacheOneEntry: with room for one entry (MaxAppendEntries 1) the
// cache holds the newest, and its byte count stays that entry's.
func TestLogCacheOneEntry(t *testing.T) {
	store := &countingStore{InmemStore: raft.NewInmemStore()}
	c, err := newLogCache(store, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 3; i++ {
		if err := c.StoreLogs([]*raft.Log{entry(i, 10)}); err != nil {
			t.Fatal(err)
		}
	}
	var l raft.Log
	before := store.reads
	if err := c.GetLog(3, &l); err != nil || l.Index != 3 || store.reads != before {
		t.Errorf("GetLog(3): index %d, %v, from the store: %v; want it cached", l.Index, err, store.reads != before)
	}
	if c.lo != 3 || c.hi != 3 || c.bytes != 10 {
		t.Errorf("run %d..%d of %d bytes, want 3..3 of 10", c.lo, c.hi, c.bytes)
	}
}
