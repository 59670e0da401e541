package resp

import (
	"container/list"
	"math/rand/v2"
	"sync"
)

// SCAN cursors (cmdScan). Keys are scanned in the order of their positions
// (kv.Position: the key's hash slot, 2 bytes, then the key) and a cursor
// says where to resume. There are two kinds:
//
//   - A group cursor (below 2^56+1) is the first 7 bytes of the next
//     position to examine, as a big-endian integer, plus 1. It is issued
//     when a call stops between two positions whose first 7 bytes differ,
//     and it is valid on every node, across restarts and leader changes.
//   - A key cursor (bit 62 set, the other bits random) is issued when a call
//     stops between two positions that share their first 7 bytes, which a
//     group cursor cannot tell apart. It names an entry of this node's
//     cursor table holding the last position examined; the next call
//     resumes strictly after it. The table keeps the most recently used
//     cursors (at most maxScanCursors, holding at most maxScanCursorBytes);
//     a key cursor that is not in it (evicted, issued before a restart or
//     by another node) is answered with ERR invalid cursor rather than
//     guessed at, so that an iteration never silently skips keys.
//
// Either way a call examines COUNT keys (the last one may be followed by
// nothing else), never returns a key twice in an unchanged key space, and
// never misses a key present from the first call to the last.

const (
	// keyCursorFlag marks a key cursor. Bit 63 stays clear, so that
	// clients that parse cursors as signed 64-bit integers keep working.
	keyCursorFlag = 1 << 62
	// maxScanCursors bounds the key cursors a node remembers.
	maxScanCursors = 10000
	// maxScanCursorBytes bounds the bytes of keys they hold.
	maxScanCursorBytes = 16 << 20
)

// isKeyCursor reports whether c is a key cursor.
func isKeyCursor(c uint64) bool { return c&(3<<62) == keyCursorFlag }

// scanTable maps key cursors to the key they resume after. The zero value
// is empty and ready to use; it is safe for concurrent use.
type scanTable struct {
	mu    sync.Mutex
	byID  map[uint64]*list.Element
	lru   list.List // of *scanEntry, most recently used first
	bytes int
}

type scanEntry struct {
	id    uint64
	after []byte
}

// put remembers after (which it keeps; the caller must not change it) and
// returns a new key cursor for it, evicting the least recently used
// cursors beyond the bounds.
func (t *scanTable) put(after []byte) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID == nil {
		t.byID = make(map[uint64]*list.Element)
	}
	id := keyCursorFlag | rand.Uint64()&(keyCursorFlag-1)
	for t.byID[id] != nil {
		id = keyCursorFlag | rand.Uint64()&(keyCursorFlag-1)
	}
	t.byID[id] = t.lru.PushFront(&scanEntry{id: id, after: after})
	t.bytes += len(after)
	for t.lru.Len() > 1 && (t.lru.Len() > maxScanCursors || t.bytes > maxScanCursorBytes) {
		e := t.lru.Remove(t.lru.Back()).(*scanEntry)
		delete(t.byID, e.id)
		t.bytes -= len(e.after)
	}
	return id
}

// get returns the key cursor id resumes after, and marks it used. A
// cursor may be used again (a client retrying a call).
func (t *scanTable) get(id uint64) ([]byte, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.byID[id]
	if !ok {
		return nil, false
	}
	t.lru.MoveToFront(el)
	return el.Value.(*scanEntry).after, true
}

// len returns the number of cursors held.
func (t *scanTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len()
}
