package raftkv

import (
	"fmt"
	"sync"

	"github.com/hashicorp/raft"
)

// logCache keeps the newest raft log entries in memory, so that
// replication to followers that keep up reads no entry back from the log
// store. It is raft.LogCache bounded by bytes as well as by entries: that
// one keeps a fixed number of entries, and with entries of a megabyte
// (big values, or full group-commit batches) 512 of them held half a
// gigabyte of heap (docs/performance.md, "Memory with big values").
//
// The cache holds a contiguous run of indexes [lo, hi], at most len(ring)
// entries of at most maxBytes in all (an entry bigger than that alone is
// not kept). Appends that do not continue the run (after a snapshot was
// installed, or when a follower's conflicting suffix is rewritten) start a
// new run.
type logCache struct {
	store    raft.LogStore
	maxBytes int

	mu     sync.RWMutex
	ring   []*raft.Log
	lo, hi uint64 // the cached run; lo == 0: empty
	bytes  int    // sum of entrySize over the run
}

func newLogCache(store raft.LogStore, entries, maxBytes int) (*logCache, error) {
	if entries <= 0 || maxBytes <= 0 {
		return nil, fmt.Errorf("raftkv: log cache of %d entries and %d bytes", entries, maxBytes)
	}
	return &logCache{store: store, maxBytes: maxBytes, ring: make([]*raft.Log, entries)}, nil
}

func entrySize(l *raft.Log) int { return len(l.Data) + len(l.Extensions) }

func (c *logCache) GetLog(idx uint64, out *raft.Log) error {
	c.mu.RLock()
	if c.lo != 0 && c.lo <= idx && idx <= c.hi {
		*out = *c.ring[idx%uint64(len(c.ring))]
		c.mu.RUnlock()
		return nil
	}
	c.mu.RUnlock()
	return c.store.GetLog(idx, out)
}

func (c *logCache) StoreLog(l *raft.Log) error { return c.StoreLogs([]*raft.Log{l}) }

func (c *logCache) StoreLogs(logs []*raft.Log) error {
	if err := c.store.StoreLogs(logs); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range logs {
		if c.lo != 0 && l.Index != c.hi+1 {
			c.reset()
		}
		if c.lo != 0 && c.hi-c.lo+1 == uint64(len(c.ring)) {
			c.dropOldest() // room for l (the run may end up empty)
		}
		if c.lo == 0 {
			c.lo = l.Index
		}
		c.hi = l.Index
		c.ring[l.Index%uint64(len(c.ring))] = l
		c.bytes += entrySize(l)
		for c.lo != 0 && c.bytes > c.maxBytes {
			c.dropOldest()
		}
	}
	return nil
}

// dropOldest removes entry lo from the run.
func (c *logCache) dropOldest() {
	slot := c.lo % uint64(len(c.ring))
	c.bytes -= entrySize(c.ring[slot])
	c.ring[slot] = nil
	if c.lo == c.hi {
		c.lo, c.hi = 0, 0
		return
	}
	c.lo++
}

func (c *logCache) reset() {
	clear(c.ring)
	c.lo, c.hi, c.bytes = 0, 0, 0
}

func (c *logCache) FirstIndex() (uint64, error) { return c.store.FirstIndex() }
func (c *logCache) LastIndex() (uint64, error)  { return c.store.LastIndex() }

// DeleteRange drops the range from the store; the cached run survives a
// compaction below it.
func (c *logCache) DeleteRange(min, max uint64) error {
	c.mu.Lock()
	if c.lo == 0 || max >= c.lo {
		c.reset()
	}
	c.mu.Unlock()
	return c.store.DeleteRange(min, max)
}

// IsMonotonic passes the optional raft.MonotonicLogStore through.
func (c *logCache) IsMonotonic() bool {
	m, ok := c.store.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}
