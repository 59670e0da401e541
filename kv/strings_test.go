package kv

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/riotkv/riot/storage"
)

// applier applies commands to an FSM over a memory engine, one log entry
// each, and checks the expiry index after every entry.
type applier struct {
	t   testing.TB
	eng storage.Engine
	f   *FSM
	idx uint64
}

func newApplier(t testing.TB) *applier {
	t.Helper()
	eng := memEngine(t)
	return &applier{t: t, eng: eng, f: newFSM(t, eng)}
}

// at applies c as proposed at time now and returns its Result.
func (a *applier) at(now int64, c Command) Result {
	a.t.Helper()
	c.Now = now
	a.idx++
	r := result(a.t, a.f.ApplyBatch([]Entry{cmdLog(a.idx, c)}), 0)
	checkExpiryIndex(a.t, a.eng)
	return r
}

// stored returns the value stored at key, expired or not.
func (a *applier) stored(key string) (value, bool) {
	a.t.Helper()
	raw, err := a.eng.Get(dataKey(0, []byte(key)))
	if errors.Is(err, storage.ErrNotFound) {
		return value{}, false
	}
	if err != nil {
		a.t.Fatalf("engine Get(%q): %v", key, err)
	}
	v, err := decodeValue(raw)
	if err != nil {
		a.t.Fatalf("decodeValue(%q): %v", raw, err)
	}
	return v, true
}

// wantStored fails unless key holds data with deadline expireAt (a string).
func (a *applier) wantStored(key, data string, expireAt int64) {
	a.t.Helper()
	v, ok := a.stored(key)
	if !ok || v.typ != typeString || string(v.data) != data || v.expireAt != expireAt {
		a.t.Errorf("stored %q = {%q type %q expireAt %d} (exists %v), want {%q string expireAt %d}", key, v.data, v.typ, v.expireAt, ok, data, expireAt)
	}
}

func (a *applier) wantGone(key string) {
	a.t.Helper()
	if v, ok := a.stored(key); ok {
		a.t.Errorf("stored %q = {%q expireAt %d}, want no such key in the engine", key, v.data, v.expireAt)
	}
}

// putForeign stores a value of a type riot does not implement yet.
func (a *applier) putForeign(key string, typ byte) {
	a.t.Helper()
	var b storage.Batch
	b.Put(dataKey(0, []byte(key)), encodeValue(value{typ: typ, data: []byte("opaque")}))
	if err := a.eng.Write(&b); err != nil {
		a.t.Fatalf("write %q: %v", key, err)
	}
}

func strs(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}

// checkExpiryIndex fails unless the expiry index has exactly one entry per
// key with a deadline, carrying that deadline, and nothing else.
func checkExpiryIndex(t testing.TB, r storage.Reader) {
	t.Helper()
	want := map[string]bool{}
	it := r.NewIterator(storage.PrefixRange([]byte{prefixData}))
	for it.Next() {
		v, err := decodeValue(it.Value())
		if err != nil {
			t.Fatalf("decode %q: %v", it.Key(), err)
		}
		if v.expireAt != 0 {
			want[string(expireKey(v.expireAt, dataDB(it.Key()), dataUser(it.Key())))] = true
		}
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	it = r.NewIterator(storage.PrefixRange(expirePrefix))
	for it.Next() {
		at, _, user, _ := splitExpireKey(it.Key())
		if !want[string(it.Key())] {
			t.Errorf("stale expiry index entry: key %q deadline %d", user, at)
		}
		delete(want, string(it.Key()))
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	for k := range want {
		at, _, user, _ := splitExpireKey([]byte(k))
		t.Errorf("missing expiry index entry: key %q deadline %d", user, at)
	}
}

// step is one command of a table test and the Result it must produce.
type step struct {
	now  int64
	cmd  Command
	want Result
}

func (a *applier) run(steps []step) {
	a.t.Helper()
	for i, s := range steps {
		got := a.at(s.now, s.cmd)
		if !sameResult(got, s.want) {
			a.t.Errorf("step %d: %s %q (Int %d ExpireAt %d) at %d = %s, want %s", i, s.cmd.Op, s.cmd.Args, s.cmd.Int, s.cmd.ExpireAt, s.now, fmtResult(got), fmtResult(s.want))
		}
	}
}

func sameResult(a, b Result) bool {
	return a.Int == b.Int && a.Null == b.Null && bytes.Equal(a.Value, b.Value) && (a.Value == nil) == (b.Value == nil) && errors.Is(a.Err, b.Err) && (a.Err == nil) == (b.Err == nil)
}

func fmtResult(r Result) string {
	return fmt.Sprintf("{Int:%d Null:%v Value:%q(nil %v) Err:%v}", r.Int, r.Null, r.Value, r.Value == nil, r.Err)
}

func val(s string) Result { return Result{Value: []byte(s)} }

var null = Result{Null: true}

const t0 = 1_000_000 // a time, in Unix ms, for the tests below

// Reference: https://redis.io/docs/latest/commands/set/
func TestApplySetOptions(t *testing.T) {
	a := newApplier(t)
	setCmd := func(k, v string, flags int64, at int64) Command {
		return Command{Op: OpSet, Args: strs(k, v), Int: flags, ExpireAt: at}
	}
	a.run([]step{
		{t0, setCmd("k", "v1", 0, t0+100), Result{}},
		{t0 + 1, setCmd("k", "v2", SetKeepTTL, 0), Result{Int: 1}},
	})
	a.wantStored("k", "v2", t0+100)
	a.run([]step{{t0 + 2, setCmd("k", "v3", 0, 0), Result{}}})
	a.wantStored("k", "v3", 0)
	a.run([]step{
		{t0 + 3, setCmd("k", "v4", SetNX, 0), null},
		{t0 + 4, setCmd("k", "v5", SetXX|SetGet, t0+50), Result{Int: 1, Value: []byte("v3")}},
		{t0 + 5, setCmd("k", "v6", SetNX|SetGet, 0), val("v5")}, // NX not met: old value, not written
		{t0 + 6, setCmd("missing", "v", SetXX, 0), null},
		{t0 + 7, setCmd("missing", "v", SetXX|SetGet, 0), null},
		{t0 + 8, setCmd("new", "", SetGet, 0), Result{Int: 1, Null: true}},
		{t0 + 9, setCmd("new", "x", SetGet, 0), Result{Int: 1, Value: []byte{}}}, // old value "" is not nil
	})
	a.wantStored("k", "v5", t0+50)
	a.wantGone("missing")
	// At t0+50 k has expired: NX now succeeds, and KEEPTTL keeps nothing.
	a.run([]step{{t0 + 50, setCmd("k", "v7", SetNX|SetKeepTTL, 0), Result{Int: 1}}})
	a.wantStored("k", "v7", 0)
	// A deadline already passed deletes the key.
	a.run([]step{{t0 + 60, setCmd("k", "v8", 0, t0+60), Result{}}})
	a.wantGone("k")
	// GET on a key of another type: WRONGTYPE, nothing written; without
	// GET, SET overwrites any type.
	a.putForeign("list", typeStream)
	a.run([]step{{t0 + 70, setCmd("list", "s", SetGet, 0), Result{Err: ErrWrongType}}})
	if v, _ := a.stored("list"); v.typ != typeStream {
		t.Errorf("after SET list s GET: type %q, want the list kept", v.typ)
	}
	a.run([]step{{t0 + 71, setCmd("list", "s", SetXX, 0), Result{Int: 1}}})
	a.wantStored("list", "s", 0)
}

// Reference: https://redis.io/docs/latest/commands/msetnx/, getdel/,
// getex/, append/, setrange/, setbit/
func TestApplyStringOps(t *testing.T) {
	a := newApplier(t)
	a.putForeign("h", typeHash)
	a.run([]step{
		{t0, Command{Op: OpMSetNX, Args: strs("a", "1", "b", "2")}, Result{Int: 1}},
		{t0, Command{Op: OpMSetNX, Args: strs("c", "3", "b", "x")}, Result{Int: 0}},
		{t0, Command{Op: OpMSetNX, Args: strs("d", "1", "d", "2")}, Result{Int: 1}},
		{t0, Command{Op: OpMSetNX, Args: strs("e", "1", "h", "2")}, Result{Int: 0}}, // any type counts
	})
	a.wantStored("b", "2", 0)
	a.wantStored("d", "2", 0)
	a.wantGone("c")
	a.wantGone("e")

	a.run([]step{
		{t0, Command{Op: OpSet, Args: strs("g", "gv"), ExpireAt: t0 + 100}, Result{}},
		{t0 + 1, Command{Op: OpGetDel, Args: strs("g")}, val("gv")},
		{t0 + 2, Command{Op: OpGetDel, Args: strs("g")}, null},
		{t0 + 3, Command{Op: OpGetDel, Args: strs("h")}, Result{Err: ErrWrongType}},
	})
	a.wantGone("g")

	a.run([]step{
		{t0, Command{Op: OpSet, Args: strs("x", "xv")}, Result{}},
		{t0, Command{Op: OpGetEx, Args: strs("x"), Int: GetExSet, ExpireAt: t0 + 100}, val("xv")},
	})
	a.wantStored("x", "xv", t0+100)
	a.run([]step{
		{t0 + 1, Command{Op: OpGetEx, Args: strs("x")}, val("xv")},
		{t0 + 2, Command{Op: OpGetEx, Args: strs("x"), Int: GetExPersist}, val("xv")},
	})
	a.wantStored("x", "xv", 0)
	a.run([]step{
		{t0 + 3, Command{Op: OpGetEx, Args: strs("x"), Int: GetExBadInt}, Result{Err: ErrNotInteger}},
		{t0 + 3, Command{Op: OpGetEx, Args: strs("x"), Int: GetExBadTime}, Result{Err: ErrInvalidExpire}},
		{t0 + 3, Command{Op: OpGetEx, Args: strs("nokey"), Int: GetExBadInt}, null}, // missing first
		{t0 + 3, Command{Op: OpGetEx, Args: strs("h"), Int: GetExBadInt}, Result{Err: ErrWrongType}},
		{t0 + 4, Command{Op: OpGetEx, Args: strs("x"), Int: GetExSet, ExpireAt: t0 + 4}, val("xv")}, // past: deleted
	})
	a.wantGone("x")

	a.run([]step{
		{t0, Command{Op: OpAppend, Args: strs("s", "hello", "10")}, Result{Int: 5}},
		{t0, Command{Op: OpPExpireAt, Args: strs("s"), Int: t0 + 100}, Result{Int: 1}},
		{t0, Command{Op: OpAppend, Args: strs("s", "world", "10")}, Result{Int: 10}},
		{t0, Command{Op: OpAppend, Args: strs("s", "!", "10")}, Result{Err: ErrTooLong}},
		{t0, Command{Op: OpAppend, Args: strs("h", "x", "10")}, Result{Err: ErrWrongType}},
		{t0, Command{Op: OpAppend, Args: strs("big", "0123456789ab", "10")}, Result{Int: 12}}, // a new key is not checked
	})
	a.wantStored("s", "helloworld", t0+100)

	a.run([]step{
		{t0, Command{Op: OpSetRange, Args: strs("r0", "", "100"), Int: 5}, Result{Int: 0}}, // creates nothing
		{t0, Command{Op: OpSetRange, Args: strs("r", "ab", "100"), Int: 3}, Result{Int: 5}},
		{t0, Command{Op: OpSetRange, Args: strs("r", "X", "100"), Int: 0}, Result{Int: 5}},
		{t0, Command{Op: OpSetRange, Args: strs("r", "", "100"), Int: 50}, Result{Int: 5}},
		{t0, Command{Op: OpSetRange, Args: strs("r", "a", "100"), Int: 100}, Result{Err: ErrTooLong}},
		{t0, Command{Op: OpSetRange, Args: strs("r", "a", "100"), Int: 99}, Result{Int: 100}},
		{t0, Command{Op: OpSetRange, Args: strs("h", "", "100"), Int: 0}, Result{Err: ErrWrongType}},
		{t0, Command{Op: OpSetRange, Args: strs("s", "HE", "100"), Int: 0}, Result{Int: 10}},
	})
	a.wantGone("r0")
	if v, _ := a.stored("r"); string(v.data[:5]) != "X\x00\x00ab" || len(v.data) != 100 || v.data[99] != 'a' {
		t.Errorf("after SETRANGEs, r = %q, want \"X\\0\\0ab\" padded to 100 bytes ending in a", v.data)
	}
	a.wantStored("s", "HElloworld", t0+100)

	a.run([]step{
		{t0, Command{Op: OpSetBit, Args: strs("bits", "1"), Int: 7}, Result{Int: 0}},
		{t0, Command{Op: OpSetBit, Args: strs("bits", "1"), Int: 7}, Result{Int: 1}},
		{t0, Command{Op: OpSetBit, Args: strs("bits", "1"), Int: 0}, Result{Int: 0}},
		{t0, Command{Op: OpSetBit, Args: strs("bits", "0"), Int: 7}, Result{Int: 1}},
		{t0, Command{Op: OpSetBit, Args: strs("bits", "1"), Int: 17}, Result{Int: 0}},
		{t0, Command{Op: OpSetBit, Args: strs("h", "1"), Int: 1}, Result{Err: ErrWrongType}},
		{t0, Command{Op: OpSetBit, Args: strs("s", "0"), Int: 1}, Result{Int: 1}}, // 'H' = 0100 1000
	})
	a.wantStored("bits", "\x80\x00\x40", 0)
	a.wantStored("s", "\x08Elloworld", t0+100)
}

// Reference: https://redis.io/docs/latest/commands/incrby/,
// incrbyfloat/ (the TTL is kept; an expired key counts from 0 without it)
func TestApplyIncrKeepsTTL(t *testing.T) {
	a := newApplier(t)
	a.run([]step{
		{t0, Command{Op: OpSet, Args: strs("n", "1"), ExpireAt: t0 + 10}, Result{}},
		{t0 + 1, Command{Op: OpIncrBy, Args: strs("n"), Int: 5}, Result{Int: 6}},
		{t0 + 2, Command{Op: OpIncrByFloat, Args: strs("n", "0.5")}, val("6.5")},
	})
	a.wantStored("n", "6.5", t0+10)
	a.run([]step{
		{t0 + 10, Command{Op: OpIncrBy, Args: strs("n"), Int: 1}, Result{Int: 1}},
	})
	a.wantStored("n", "1", 0)
	a.putForeign("z", typeZSet)
	a.run([]step{
		{t0, Command{Op: OpIncrByFloat, Args: strs("z", "x")}, Result{Err: ErrWrongType}},
		{t0, Command{Op: OpIncrByFloat, Args: strs("n", "x")}, Result{Err: ErrNotFloat}},
		{t0, Command{Op: OpIncrByFloat, Args: strs("n", "inf")}, Result{Err: ErrNaNOrInf}},
		{t0, Command{Op: OpIncrBy, Args: strs("z"), Int: 1}, Result{Err: ErrWrongType}},
	})
}
