package kv

import (
	"encoding/binary"
	"slices"
	"testing"
)

func lpush(key string, elems ...string) Command {
	return Command{Op: OpLPush, Args: strs(append([]string{key}, elems...)...)}
}

func rpush(key string, elems ...string) Command {
	return Command{Op: OpRPush, Args: strs(append([]string{key}, elems...)...)}
}

// listOf returns the list at key in database db through a View, checking
// that its elements are at head, head+1, ... and that the metadata's size
// counts them; ok is false when there is no such list.
func listOf(t testing.TB, f *FSM, db uint8, key string) (elems []string, ok bool) {
	t.Helper()
	v, release := f.View()
	defer release()
	c, ok, err := v.DB(db).Collection([]byte(key), t0, TypeList)
	if err != nil {
		t.Fatalf("Collection(%q): %v", key, err)
	}
	if !ok {
		return nil, false
	}
	p := c.head
	if err := c.Scan(nil, false, func(f, val []byte) bool {
		if len(f) != 8 || binary.BigEndian.Uint64(f) != p {
			t.Errorf("list %q: element %q at field %x, want position %d", key, val, f, p)
		}
		p++
		elems = append(elems, string(val))
		return true
	}); err != nil {
		t.Fatalf("Scan(%q): %v", key, err)
	}
	if int64(len(elems)) != c.Len() {
		t.Errorf("list %q: metadata size %d, %d elements", key, c.Len(), len(elems))
	}
	return elems, true
}

func wantList(t testing.TB, f *FSM, key string, want ...string) {
	t.Helper()
	got, ok := listOf(t, f, 0, key)
	if len(want) == 0 {
		if ok {
			t.Errorf("list %q = %q, want no such key", key, got)
		}
		return
	}
	if !ok || !slices.Equal(got, want) {
		t.Errorf("list %q = %q (exists %v), want %q", key, got, ok, want)
	}
}

// Reference: https://redis.io/docs/latest/commands/lpush/, rpush/,
// lpushx/, rpushx/, lpop/, rpop/, lset/ (each element pushed in turn;
// popping the last deletes the key)
func TestApplyListPushPop(t *testing.T) {
	a := newApplier(t)
	a.run([]step{
		{t0, lpush("l", "a", "b", "c"), Result{Int: 3}},
		{t0, rpush("l", "x", "y"), Result{Int: 5}},
		{t0, Command{Op: OpLPush, Args: strs("nosuch", "a"), Int: ListPushX}, Result{}},
		{t0, Command{Op: OpRPush, Args: strs("l", "z"), Int: ListPushX}, Result{Int: 6}},
		{t0, set("str", "v"), Result{}},
		{t0, lpush("str", "a"), Result{Err: ErrWrongType}},
		{t0, Command{Op: OpLPush, Args: strs("str", "a"), Int: ListPushX}, Result{Err: ErrWrongType}},
		{t0, Command{Op: OpLPop, Args: strs("str"), Int: 1}, Result{Err: ErrWrongType}},
		{t0, Command{Op: OpLPop, Args: strs("nosuch"), Int: 1}, null},
		{t0, Command{Op: OpLSet, Args: strs("nosuch", "x", "v")}, Result{Err: ErrNoSuchKey}},
		{t0, Command{Op: OpLSet, Args: strs("str", "x", "v")}, Result{Err: ErrWrongType}},
		{t0, Command{Op: OpLSet, Args: strs("l", "x", "v")}, Result{Err: ErrNotInteger}},
		{t0, Command{Op: OpLSet, Args: strs("l", "6", "v")}, Result{Err: ErrListIndex}},
		{t0, Command{Op: OpLSet, Args: strs("l", "-7", "v")}, Result{Err: ErrListIndex}},
		{t0, Command{Op: OpLSet, Args: strs("l", "-1", "Z")}, Result{}},
		{t0, Command{Op: OpLSet, Args: strs("l", "1", "B")}, Result{}},
	})
	wantList(t, a.f, "l", "c", "B", "a", "x", "y", "Z")
	r := a.at(t0, Command{Op: OpLPop, Args: strs("l"), Int: 2})
	if got := arrayValues(r); r.Err != nil || !slices.Equal(got, []string{"c", "B"}) {
		t.Errorf("LPOP l 2 = %s %q", fmtResult(r), got)
	}
	r = a.at(t0, Command{Op: OpRPop, Args: strs("l"), Int: 0})
	if r.Err != nil || r.Null || len(r.Array) != 0 {
		t.Errorf("RPOP l 0 = %s %q, want no elements", fmtResult(r), arrayValues(r))
	}
	r = a.at(t0, Command{Op: OpRPop, Args: strs("l"), Int: 10})
	if got := arrayValues(r); r.Err != nil || !slices.Equal(got, []string{"Z", "y", "x", "a"}) {
		t.Errorf("RPOP l 10 = %s %q", fmtResult(r), got)
	}
	wantList(t, a.f, "l")
	if _, ok := a.stored("l"); ok {
		t.Errorf("emptied list still has its metadata")
	}
	if n := elemRecords(t, a.eng, "l"); n != 0 {
		t.Errorf("popped list left %d element records", n)
	}
	// A TTL survives pushes and pops.
	a.run([]step{
		{t0, rpush("t", "1", "2"), Result{Int: 2}},
		{t0, Command{Op: OpPExpireAt, Args: strs("t"), Int: t0 + 100}, Result{Int: 1}},
		{t0, lpush("t", "0"), Result{Int: 3}},
		{t0, Command{Op: OpRPop, Args: strs("t"), Int: 1}, Result{Array: []Result{val("2")}}},
	})
	if v, ok := a.stored("t"); !ok || v.expireAt != t0+100 {
		t.Errorf("t after pushes and pops: deadline %d (exists %v), want %d", v.expireAt, ok, t0+100)
	}
	wantList(t, a.f, "t", "0", "1")
}

// Reference: https://redis.io/docs/latest/commands/ltrim/, lrem/,
// linsert/
func TestApplyListEdits(t *testing.T) {
	a := newApplier(t)
	ltrim := func(k, start, stop string) Command { return Command{Op: OpLTrim, Args: strs(k, start, stop)} }
	lrem := func(k string, n int64, e string) Command { return Command{Op: OpLRem, Args: strs(k, e), Int: n} }
	linsert := func(k string, after int64, pivot, e string) Command {
		return Command{Op: OpLInsert, Args: strs(k, pivot, e), Int: after}
	}
	a.run([]step{
		{t0, rpush("l", "a", "b", "a", "c", "a", "d"), Result{Int: 6}},
		{t0, lrem("l", -1, "a"), Result{Int: 1}},
		{t0, lrem("l", 1, "a"), Result{Int: 1}},
		{t0, lrem("l", 0, "zz"), Result{}},
		{t0, lrem("nosuch", 0, "a"), Result{}},
		{t0, linsert("l", 0, "c", "X"), Result{Int: 5}},
		{t0, linsert("l", ListAfter, "d", "E"), Result{Int: 6}},
		{t0, linsert("l", 0, "nope", "E"), Result{Int: -1}},
		{t0, linsert("nosuch", 0, "a", "E"), Result{}},
		{t0, set("str", "v"), Result{}},
		{t0, linsert("str", 0, "a", "E"), Result{Err: ErrWrongType}},
		{t0, lrem("str", 0, "a"), Result{Err: ErrWrongType}},
		{t0, ltrim("str", "0", "1"), Result{Err: ErrWrongType}},
	})
	wantList(t, a.f, "l", "b", "a", "X", "c", "d", "E")
	a.run([]step{{t0, ltrim("l", "1", "-2"), Result{}}})
	wantList(t, a.f, "l", "a", "X", "c", "d")
	if n := elemRecords(t, a.eng, "l"); n != 4 {
		t.Errorf("after LTRIM: %d element records, want 4", n)
	}
	a.run([]step{
		{t0, lrem("l", -9223372036854775808, "a"), Result{Int: 1}},
		{t0, ltrim("l", "5", "10"), Result{}},
	})
	wantList(t, a.f, "l")
}

// Reference: https://redis.io/docs/latest/commands/lmove/ and lmpop/
func TestApplyListMove(t *testing.T) {
	a := newApplier(t)
	lmove := func(src, dst string, flags int64) Command {
		return Command{Op: OpLMove, Args: strs(src, dst), Int: flags}
	}
	a.run([]step{
		{t0, rpush("s", "a", "b", "c"), Result{Int: 3}},
		{t0, set("str", "v"), Result{}},
		{t0, lmove("nosuch", "str", 0), null},
		{t0, lmove("str", "s", 0), Result{Err: ErrWrongType}},
		{t0, lmove("s", "str", 0), Result{Err: ErrWrongType}},
		{t0, lmove("s", "s", ListFromRight), val("c")}, // rotate: c a b
		{t0, lmove("s", "d", ListToRight), val("c")},
		{t0, lmove("s", "d", ListFromRight|ListToRight), val("b")},
		{t0, rpush("one", "x"), Result{Int: 1}},
		{t0, lmove("one", "one", 0), val("x")},
	})
	wantList(t, a.f, "s", "a")
	wantList(t, a.f, "d", "c", "b")
	wantList(t, a.f, "one", "x")
	lmpop := func(dir string, count int64, keys ...string) Command {
		return Command{Op: OpLMPop, Args: strs(append([]string{dir}, keys...)...), Int: count}
	}
	a.run([]step{
		{t0, lmpop("L", 1, "nosuch", "nosuch2"), null},
		{t0, lmpop("L", 1, "nosuch", "str", "s"), Result{Err: ErrWrongType}},
	})
	r := a.at(t0, lmpop("R", 5, "nosuch", "d", "str"))
	if got := arrayValues(r); r.Err != nil || string(r.Value) != "d" || !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("LMPOP R 5 = %s %q", fmtResult(r), got)
	}
	wantList(t, a.f, "d")
	for _, c := range []Command{lmpop("X", 1, "k"), lmpop("L", 0, "k"), lmove("a", "b", 4), {Op: OpLPop, Args: strs("k"), Int: -1}, {Op: OpLTrim, Args: strs("k", "x", "1")}} {
		c.Now = t0
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%s %q Int %d) = nil, want a bad entry", c.Op, c.Args, c.Int)
		}
	}
}

// A list keeps its head and its elements' positions through RENAME,
// COPY, MOVE and SWAPDB (copyValue and putLoaded rewrite the elements
// under a new generation).
func TestListCopies(t *testing.T) {
	a := newApplier(t)
	a.run([]step{
		{t0, rpush("l", "b", "c"), Result{Int: 2}},
		{t0, lpush("l", "a"), Result{Int: 3}},
		{t0, Command{Op: OpRename, Args: strs("l", "r")}, Result{Int: 1}},
		{t0, Command{Op: OpCopy, Args: strs("r", "c")}, Result{Int: 1}},
		{t0, Command{Op: OpMove, Args: strs("c"), Int: 1}, Result{Int: 1}},
		{t0, lpush("r", "0"), Result{Int: 4}},
		{t0, rpush("r", "d"), Result{Int: 5}},
	})
	wantList(t, a.f, "r", "0", "a", "b", "c", "d")
	wantList(t, a.f, "l")
	wantList(t, a.f, "c")
	if got, ok := listOf(t, a.f, 1, "c"); !ok || !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("list c moved to db 1 = %q (exists %v)", got, ok)
	}
	a.run([]step{{t0, Command{Op: OpSwapDB, Args: [][]byte{{0}, {1}}}, Result{}}})
	wantList(t, a.f, "c", "a", "b", "c")
	if got, ok := listOf(t, a.f, 1, "r"); !ok || !slices.Equal(got, []string{"0", "a", "b", "c", "d"}) {
		t.Errorf("list r swapped to db 1 = %q (exists %v)", got, ok)
	}
}

// The sweeper removes a dead list's elements and keeps a live one's.
func TestSweepLists(t *testing.T) {
	eng := memEngine(t)
	f := newFSM(t, eng)
	a := &sweepApplier{t: t, f: f}
	var elems []string
	for i := range 50 {
		elems = append(elems, string(rune('a'+i%26)))
	}
	a.apply(rpush("dead", elems...), rpush("live", elems...), lpush("live", "first"), del("dead"))
	if got := sweepDone(t, f, 7); got != 50 {
		t.Errorf("the sweep deleted %d records, want the dead list's 50", got)
	}
	if n := elemRecords(t, eng, "dead"); n != 0 {
		t.Errorf("%d element records of the deleted list left", n)
	}
	if got, ok := listOf(t, f, 0, "live"); !ok || len(got) != 51 || got[0] != "first" {
		t.Errorf("live list after the sweep = %q (exists %v)", got, ok)
	}
}
