package resp

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/riotkv/riot/kv"
)

// TestScanSharedPrefix: keys of one slot sharing a long prefix (a hash
// tag) come COUNT at a time (key cursors), every key exactly once, in
// position order (kv.Position: slot, then key), in an unchanged key space,
// whatever COUNT; a key cursor can be sent again (a retried call) and
// answers the same; one this node does not know is ERR invalid cursor.
// Reference: https://redis.io/docs/latest/commands/scan/ (scan guarantees)
func TestScanSharedPrefix(t *testing.T) {
	ts := startServer(t, nil)
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	var want []string
	pipe := rdb.Pipeline()
	for i := range 500 {
		k := fmt.Sprintf("{session}:user:%06d", i)
		want = append(want, k)
		pipe.Set(ctx, k, "v", 0)
	}
	for _, k := range []string{"a", "session", "{session}", "{session}:user:", "{session}:user:000100:x", "{session}:v", "z"} {
		want = append(want, k)
		pipe.Set(ctx, k, "v", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(want, func(a, b string) int {
		return bytes.Compare(kv.Position([]byte(a)), kv.Position([]byte(b)))
	})
	for _, count := range []int{1, 7, 10, 499, 1000} {
		got, calls := scanAll(ctx, t, rdb, "COUNT", strconv.Itoa(count))
		if !slices.Equal(got, want) {
			t.Errorf("SCAN COUNT %d returned %d keys (want each of the %d once, in order)", count, len(got), len(want))
		}
		if wantCalls := (len(want) + count - 1) / count; calls < wantCalls || calls > wantCalls+1 {
			t.Errorf("SCAN COUNT %d over %d keys took %d calls, want %d (or one more, empty)", count, len(want), calls, wantCalls)
		}
	}

	first, err := rdb.Do(ctx, "SCAN", "0", "COUNT", "5").Slice()
	if err != nil {
		t.Fatal(err)
	}
	cursor := fmt.Sprint(first[0])
	c, _ := strconv.ParseUint(cursor, 10, 64)
	if !isKeyCursor(c) {
		t.Fatalf("SCAN 0 COUNT 5 stopped inside the {session}:user: keys with cursor %s, want a key cursor", cursor)
	}
	a, err1 := rdb.Do(ctx, "SCAN", cursor, "COUNT", "5").Slice()
	b, err2 := rdb.Do(ctx, "SCAN", cursor, "COUNT", "5").Slice()
	if err1 != nil || err2 != nil || fmt.Sprint(a[1]) != fmt.Sprint(b[1]) {
		t.Errorf("SCAN %s twice = %v, %v and %v, %v; want the same keys", cursor, a, err1, b, err2)
	}
	unknown := strconv.FormatUint(c^1, 10)
	wantErr(t, "SCAN with a key cursor this node never issued", rdb.Do(ctx, "SCAN", unknown).Err(), "ERR invalid cursor")
}

// TestScanTableBounds: the cursor table keeps the most recently used
// cursors within its bounds.
func TestScanTableBounds(t *testing.T) {
	var st scanTable
	first := st.put([]byte("k0"))
	kept := first
	for i := 1; i <= maxScanCursors+100; i++ {
		if i%1000 == 0 {
			if _, ok := st.get(kept); !ok { // used: stays
				t.Fatalf("cursor %d evicted although used recently", kept)
			}
		}
		c := st.put([]byte(fmt.Sprintf("k%d", i)))
		if !isKeyCursor(c) || c >= 1<<63 {
			t.Fatalf("put returned %d: not a key cursor below 2^63", c)
		}
		if i == 1 {
			kept = c
		}
	}
	if n := st.len(); n != maxScanCursors {
		t.Errorf("table holds %d cursors, want %d", n, maxScanCursors)
	}
	if _, ok := st.get(first); ok {
		t.Errorf("the least recently used cursor is still there")
	}
	if after, ok := st.get(kept); !ok || string(after) != "k1" {
		t.Errorf("get(recently used) = %q, %v; want k1", after, ok)
	}
	big := []byte(strings.Repeat("x", maxScanCursorBytes/2+1))
	b1 := st.put(big)
	st.put(big)
	if _, ok := st.get(b1); ok || st.bytes > maxScanCursorBytes {
		t.Errorf("table holds %d bytes of keys after two keys of %d; want at most %d", st.bytes, len(big), maxScanCursorBytes)
	}
}
