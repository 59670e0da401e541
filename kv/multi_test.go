package kv

import (
	"errors"
	"fmt"
	"testing"
)

// watchNow returns what WATCH would record for key, read at now.
func watchNow(t testing.TB, f *FSM, key string, now int64) Watch {
	t.Helper()
	v, release, err := f.SnapshotView()
	if err != nil {
		t.Fatalf("SnapshotView: %v", err)
	}
	defer release()
	w, err := v.Watch([]byte(key), now)
	if err != nil {
		t.Fatalf("Watch(%q): %v", key, err)
	}
	return w
}

func multi(ws []Watch, cmds ...Command) Command {
	ptrs := make([]*Command, len(cmds))
	for i := range cmds {
		ptrs[i] = &cmds[i]
	}
	return *NewMulti(ws, ptrs)
}

func lookup(keys ...string) Command { return Command{Op: OpLookup, Args: strs(keys...)} }

// fmtTxResult prints a Result compactly for comparisons.
func fmtTxResult(r Result) string {
	switch {
	case r.Err != nil:
		return "err:" + r.Err.Error()
	case r.Array != nil:
		s := "["
		for i, e := range r.Array {
			if i > 0 {
				s += " "
			}
			s += fmtTxResult(e)
		}
		return s + "]"
	case r.Null:
		return "null"
	case r.Value != nil:
		return fmt.Sprintf("%q", r.Value)
	}
	return fmt.Sprint(r.Int)
}

// TestMultiApply: a transaction applies its commands in order in one
// entry; an operation error is that command's result and the others
// apply; lookups see the earlier commands of the transaction.
func TestMultiApply(t *testing.T) {
	a := newApplier(t)
	a.at(100, set("s", "text"))
	r := a.at(100, multi(nil,
		set("n", "1"),
		incrBy("n", 2),
		incrBy("s", 1),
		lookup("n", "s", "missing"),
		del("s"),
		lookup("s"),
	))
	if r.Err != nil || len(r.Array) != 6 {
		t.Fatalf("multi = %s, want 6 results", fmtTxResult(r))
	}
	want := []string{"0", "3", "err:" + ErrNotInteger.Error(), "", "1", ""}
	for i, w := range want {
		if w != "" && fmtTxResult(r.Array[i]) != w {
			t.Errorf("result %d = %s, want %s", i, fmtTxResult(r.Array[i]), w)
		}
	}
	v, err := LookupView(strs("n", "s", "missing"), r.Array[3])
	if err != nil {
		t.Fatalf("LookupView: %v", err)
	}
	for key, want := range map[string]string{"n": "3", "s": "text", "missing": ""} {
		got, ok, err := v.Get([]byte(key), 0)
		if err != nil || string(got) != want || ok != (want != "") {
			t.Errorf("lookup view Get(%q) = %q, %v, %v; want %q", key, got, ok, err, want)
		}
	}
	if v.Time(0) != 100 {
		t.Errorf("lookup view time = %d, want the transaction's 100", v.Time(0))
	}
	v, err = LookupView(strs("s"), r.Array[5])
	if err != nil {
		t.Fatalf("LookupView: %v", err)
	}
	if ok, _ := v.Exists([]byte("s"), 0); ok {
		t.Errorf("lookup after DEL in the same transaction sees the key")
	}
	a.wantStored("n", "3", 0)
	a.wantGone("s")
	// Every value the transaction wrote carries its index as version.
	if sv, _ := a.stored("n"); sv.version != a.idx {
		t.Errorf("version of n = %d, want the entry's index %d", sv.version, a.idx)
	}

	// An empty transaction has an empty (not nil) array.
	if r := a.at(100, multi(nil)); r.Array == nil || len(r.Array) != 0 || r.Err != nil {
		t.Errorf("empty multi = %+v, want an empty array", r)
	}
}

// TestMultiWatch: a watched key changed since WATCH (written, deleted,
// expired, created) aborts the whole transaction; unchanged ones do not.
func TestMultiWatch(t *testing.T) {
	a := newApplier(t)
	a.at(100, set("k", "1"))
	a.at(100, Command{Op: OpSet, Args: strs("e", "v"), ExpireAt: 500})
	a.at(100, Command{Op: OpSet, Args: strs("old", "v"), ExpireAt: 150})

	// Unchanged (including a key absent, and one expired at WATCH): applies.
	ws := []Watch{watchNow(t, a.f, "k", 200), watchNow(t, a.f, "e", 200), watchNow(t, a.f, "absent", 200), watchNow(t, a.f, "old", 200)}
	if !ws[0].Live || ws[0].Version == 0 || ws[2].Live || ws[3].Live {
		t.Fatalf("watches = %+v", ws)
	}
	if r := a.at(200, multi(ws, incrBy("k", 1))); fmtTxResult(r) != "[2]" {
		t.Fatalf("multi with unchanged watches = %s, want [2]", fmtTxResult(r))
	}

	// Writes that change nothing do not count, as in Redis.
	a.at(200, set("b", "\x80"))
	w := watchNow(t, a.f, "b", 200)
	a.at(200, Command{Op: OpSetBit, Args: strs("b", "1"), Int: 0})
	a.at(200, Command{Op: OpSet, Args: strs("b", "x"), Int: SetNX})
	a.at(200, Command{Op: OpPersist, Args: strs("b")})
	if r := a.at(200, multi([]Watch{w}, lookup("b"))); r.Null || r.Err != nil {
		t.Errorf("multi after no-op writes = %s, want applied", fmtTxResult(r))
	}

	abort := func(what string, now int64, ws []Watch) {
		t.Helper()
		r := a.at(now, multi(ws, set("marker", what)))
		if !r.Null || r.Array != nil || r.Err != nil {
			t.Errorf("%s: multi = %s, want null (aborted)", what, fmtTxResult(r))
		}
		a.wantGone("marker")
	}
	// Written since (even with the same value).
	w = watchNow(t, a.f, "k", 200)
	a.at(200, set("k", "2"))
	abort("rewritten", 200, []Watch{w})
	// Deleted since.
	w = watchNow(t, a.f, "k", 200)
	a.at(200, del("k"))
	abort("deleted", 200, []Watch{w})
	// Created since.
	w = watchNow(t, a.f, "k", 200)
	a.at(200, set("k", "3"))
	abort("created", 200, []Watch{w})
	// Expired since: no write in between, the transaction's time is past
	// the deadline.
	w = watchNow(t, a.f, "e", 200)
	abort("expired", 600, []Watch{w})
	// Deadline changed.
	a.at(600, Command{Op: OpSet, Args: strs("e", "v"), ExpireAt: 5000})
	w = watchNow(t, a.f, "e", 600)
	a.at(600, Command{Op: OpPExpireAt, Args: strs("e"), Int: 6000})
	abort("expire changed", 600, []Watch{w})
	// A transaction's own writes are checked before: two transactions in
	// one raft batch, the second watching what the first writes.
	w = watchNow(t, a.f, "k", 600)
	a.idx++
	res := a.f.ApplyBatch([]Entry{
		cmdLog(a.idx, multi([]Watch{w}, set("k", "4"))),
		cmdLog(a.idx+1, multi([]Watch{w}, set("k", "5"))),
	})
	a.idx++
	if r1, r2 := result(t, res, 0), result(t, res, 1); fmtTxResult(r1) != "[0]" || !r2.Null {
		t.Errorf("two transactions watching k in one batch = %s, %s; want [0], null", fmtTxResult(r1), fmtTxResult(r2))
	}
	a.wantStored("k", "4", 0)

	applies := func(what string, now int64, ws []Watch) {
		t.Helper()
		if r := a.at(now, multi(ws, lookup("k"))); r.Null || r.Err != nil {
			t.Errorf("%s: multi = %s, want applied", what, fmtTxResult(r))
		}
	}
	// Absent at WATCH, created and deleted again since (a tombstone).
	a.at(1000, del("k"))
	w = watchNow(t, a.f, "k", 1000)
	a.at(1000, set("k", "x"))
	a.at(1000, del("k"))
	abort("created and deleted again", 1000, []Watch{w})
	// Deleted before WATCH and absent since.
	applies("deleted before WATCH", 1000, []Watch{watchNow(t, a.f, "k", 1000)})
	// Expired at WATCH (still stored), deleted by active expiry since: no
	// modification, as in Redis.
	a.at(1000, Command{Op: OpSet, Args: strs("x", "v"), ExpireAt: 1100})
	w = watchNow(t, a.f, "x", 1200)
	if w.Live || w.Version == 0 {
		t.Fatalf("watch of an expired stored key = %+v", w)
	}
	a.at(1200, Command{Op: OpExpire, Args: strs("x")})
	applies("expired key deleted by active expiry", 1200, []Watch{w})
	// Expired at WATCH, then rewritten and deleted: a modification.
	a.at(1200, Command{Op: OpSet, Args: strs("y", "v"), ExpireAt: 1250})
	w = watchNow(t, a.f, "y", 1300)
	a.at(1300, set("y", "2"))
	a.at(1300, del("y"))
	abort("expired key rewritten and deleted", 1300, []Watch{w})
	// FLUSHALL leaves tombstones too.
	a.at(1300, del("k"))
	w = watchNow(t, a.f, "k", 1300)
	a.at(1300, set("k", "z"))
	a.at(1300, Command{Op: OpFlush})
	abort("created and flushed", 1300, []Watch{w})
	// Tombstones pruned past a WATCH's index: it cannot tell, so it aborts;
	// a later WATCH can.
	w = watchNow(t, a.f, "k", 1300)
	a.at(1300, Command{Op: OpPruneRequests, Int: int64(a.idx + 1)})
	if _, err := a.eng.Get(tombKey(0, []byte("k"))); err == nil {
		t.Errorf("tombstone of k kept after pruning up to %d", a.idx)
	}
	abort("watch older than pruned tombstones", 1300, []Watch{w})
	applies("watch after pruning", 1300, []Watch{watchNow(t, a.f, "k", 1300)})
	// A write whose deadline has passed stores nothing, but to WATCH it is
	// a modification (Redis signals it).
	w = watchNow(t, a.f, "p", 1300)
	a.at(1300, Command{Op: OpSet, Args: strs("p", "v"), ExpireAt: 5})
	a.wantGone("p")
	abort("written already expired", 1300, []Watch{w})
}

// TestMultiMalformed: a transaction that does not decode is rejected whole,
// before anything applies.
func TestMultiMalformed(t *testing.T) {
	a := newApplier(t)
	nested := multi(nil, set("a", "1"))
	for name, c := range map[string]Command{
		"nested":        multi(nil, set("x", "1"), nested),
		"sub with id":   multi(nil, set("x", "1"), Command{Op: OpSet, Args: strs("b", "1"), ClientID: 1, Seq: 1}),
		"bad sub":       {Op: OpMulti, Args: [][]byte{nil, []byte("garbage")}},
		"bad watches":   {Op: OpMulti, Args: [][]byte{{3, 'k'}}},
		"bad watch flg": {Op: OpMulti, Args: [][]byte{{1, 'k', 7, 0}}},
		"no args":       {Op: OpMulti},
	} {
		r := a.at(1, c)
		if !errors.Is(r.Err, ErrBadEntry) {
			t.Errorf("%s: result %s, want ErrBadEntry", name, fmtTxResult(r))
		}
		a.wantGone("x")
	}
}

// TestMultiReplayAndSnapshot: a transaction replayed after a restart is not
// applied twice, a retried one (same request ID) answers its first result,
// and versions travel in snapshots, so a WATCH taken before a restore
// still matches after it.
func TestMultiReplayAndSnapshot(t *testing.T) {
	eng := memEngine(t)
	f := newFSM(t, eng)
	tx := multi(nil, incrBy("n", 1), incrBy("n", 1), lookup("n"))
	tx.ClientID, tx.Seq = 9, 1
	logs := []Entry{cmdLog(1, set("w", "x")), cmdLog(2, tx), cmdLog(3, tx)}
	res := f.ApplyBatch(logs)
	if r := result(t, res, 2); fmtTxResult(r) != fmtTxResult(result(t, res, 1)) || len(r.Array) != 3 || r.Array[1].Int != 2 {
		t.Errorf("retried transaction = %s, want its first result %s", fmtTxResult(r), fmtTxResult(result(t, res, 1)))
	}
	wantValue(t, f, "n", "2")
	f2 := newFSM(t, eng) // a restart: raft replays the log
	f2.ApplyBatch(logs)
	wantValue(t, f2, "n", "2")

	w := watchNow(t, f2, "w", 0)
	target := newFSM(t, memEngine(t))
	if err := restoreBytes(target, persist(t, f2)); err != nil {
		t.Fatalf("restore: %v", err)
	}
	r := result(t, target.ApplyBatch([]Entry{cmdLog(4, multi([]Watch{w}, set("w", "y")))}), 0)
	if fmtTxResult(r) != "[0]" {
		t.Errorf("transaction watching w after a restore = %s, want [0]", fmtTxResult(r))
	}
}

func TestResultCodecArray(t *testing.T) {
	for _, r := range []Result{
		{Array: []Result{}},
		{Array: []Result{{Int: 1}, {Err: ErrNotInteger}, {Null: true}, {Value: []byte("v")}, {Int: 7, Array: []Result{{Value: []byte{}}, {Null: true}}}}},
	} {
		got, err := DecodeResult(AppendEncodeResult(nil, r))
		if err != nil || fmtTxResult(got) != fmtTxResult(r) || got.Array == nil {
			t.Errorf("round trip of %s = %s, %v", fmtTxResult(r), fmtTxResult(got), err)
		}
	}
	deep := Result{Int: 1}
	for range maxResultDepth + 1 {
		deep = Result{Array: []Result{deep}}
	}
	for _, bad := range [][]byte{
		{1, resHasArray},              // no count
		{1, resHasArray, 5, 2, 1, 0},  // count beyond the data
		{1, resHasArray, 1, 9, 1, 0},  // element length beyond the data
		{1, resHasArray, 1, 2, 1, 99}, // bad element
		AppendEncodeResult(nil, deep), // nested too deep
	} {
		if _, err := DecodeResult(bad); !errors.Is(err, ErrBadEntry) {
			t.Errorf("DecodeResult(%v) error = %v, want ErrBadEntry", bad, err)
		}
	}
}
