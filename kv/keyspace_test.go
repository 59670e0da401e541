package kv

import (
	"fmt"
	"testing"
)

// Reference: https://redis.io/docs/latest/commands/rename/, renamenx/,
// copy/, del/ (values move with their deadline; the expiry index follows)
func TestApplyKeyspaceOps(t *testing.T) {
	a := newApplier(t)
	a.putForeign("list", typeStream)
	a.run([]step{
		{t0, Command{Op: OpSet, Args: strs("src", "v"), ExpireAt: t0 + 100}, Result{}},
		{t0, Command{Op: OpSet, Args: strs("dst", "old"), ExpireAt: t0 + 200}, Result{}},
		{t0 + 1, Command{Op: OpRename, Args: strs("src", "dst")}, Result{Int: 1}},
	})
	a.wantGone("src")
	a.wantStored("dst", "v", t0+100)
	a.run([]step{
		{t0 + 2, Command{Op: OpRename, Args: strs("src", "x")}, Result{Err: ErrNoSuchKey}},
		{t0 + 2, Command{Op: OpRename, Args: strs("src", "src")}, Result{Err: ErrNoSuchKey}},
		{t0 + 2, Command{Op: OpRename, Args: strs("dst", "dst")}, Result{Int: 0}},
		{t0 + 2, Command{Op: OpRename, Args: strs("dst", "list"), Int: 1}, Result{Int: 0}},
		{t0 + 2, Command{Op: OpRename, Args: strs("list", "moved")}, Result{Int: 1}},
	})
	if v, ok := a.stored("moved"); !ok || v.typ != typeStream {
		t.Errorf("RENAME list moved: moved = %+v, %v; want the list", v, ok)
	}
	a.run([]step{
		{t0 + 3, Command{Op: OpCopy, Args: strs("dst", "c")}, Result{Int: 1}},
		{t0 + 3, Command{Op: OpCopy, Args: strs("moved", "c")}, Result{Int: 0}},
		{t0 + 3, Command{Op: OpCopy, Args: strs("nokey", "c")}, Result{Int: 0}},
		{t0 + 3, Command{Op: OpCopy, Args: strs("moved", "c"), Int: 1}, Result{Int: 1}},
		{t0 + 3, Command{Op: OpCopy, Args: strs("dst", "d2")}, Result{Int: 1}},
	})
	a.wantStored("d2", "v", t0+100)
	a.wantStored("dst", "v", t0+100)
	if v, ok := a.stored("c"); !ok || v.typ != typeStream || v.expireAt != 0 {
		t.Errorf("COPY moved c REPLACE: c = %+v, %v; want the list without deadline", v, ok)
	}
	// At t0+100 dst and d2 have expired: DEL deletes them but does not
	// count them; RENAME does not see them.
	a.run([]step{
		{t0 + 100, Command{Op: OpRename, Args: strs("d2", "z")}, Result{Err: ErrNoSuchKey}},
		{t0 + 100, Command{Op: OpDel, Args: strs("dst", "c", "c", "nokey")}, Result{Int: 1}},
	})
	a.wantGone("dst")
	a.wantGone("d2")
}

// TestApplyFlush: FLUSHALL drops every key and index entry, including the
// ones written earlier in the same raft batch, and nothing else.
// Reference: https://redis.io/docs/latest/commands/flushall/
func TestApplyFlush(t *testing.T) {
	a := newApplier(t)
	a.at(t0, Command{Op: OpSet, Args: strs("old", "v"), ExpireAt: t0 + 100})
	a.at(t0, Command{Op: OpSet, Args: strs("plain", "v")})
	a.at(t0, withID(set("dedup", "v"), 1, 1))
	logs := []Entry{
		cmdLog(a.idx+1, Command{Op: OpSet, Args: strs("new", "v"), ExpireAt: t0 + 50, Now: t0}),
		cmdLog(a.idx+2, Command{Op: OpFlush, Now: t0}),
		cmdLog(a.idx+3, Command{Op: OpSet, Args: strs("after", "v"), Now: t0}),
	}
	a.idx += 3
	a.f.ApplyBatch(logs)
	checkExpiryIndex(t, a.eng)
	for _, k := range []string{"old", "plain", "new", "dedup"} {
		a.wantGone(k)
	}
	a.wantStored("after", "v", 0)
	if _, err := a.eng.Get(reqKey(1, 1)); err != nil {
		t.Errorf("FLUSHALL removed the dedup record: %v", err)
	}
	if _, err := a.eng.Get(keyApplied); err != nil {
		t.Errorf("FLUSHALL removed the applied index: %v", err)
	}
}

// TestOpsTableComplete: every named op has an apply function (OpMulti's,
// which applies ops from the table, is called by applyCommand).
func TestOpsTableComplete(t *testing.T) {
	for op, name := range opNames {
		if ops[op] == nil && op != OpMulti {
			t.Errorf("op %s (%d) has no apply function", name, op)
		}
	}
	for op := range ops {
		if op.String() == fmt.Sprintf("op(%d)", uint8(op)) || op.String() == "" {
			t.Errorf("op %d has an apply function but no name", op)
		}
	}
}
