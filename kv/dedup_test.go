package kv

import (
	"errors"
	"testing"
	"time"
)

func withID(c Command, client, seq uint64) Command {
	c.ClientID, c.Seq = client, seq
	return c
}

// A request applied twice (a retry after a leader change) takes effect once
// and both applications answer the same result, also across a snapshot.
func TestDedupAppliesRequestOnce(t *testing.T) {
	f := newFSM(t, memEngine(t))
	first := f.ApplyBatch([]Entry{cmdLog(1, withID(incrBy("c", 5), 7, 1))})
	if r := result(t, first, 0); r.Int != 5 {
		t.Fatalf("first INCRBY c 5 = %d, want 5", r.Int)
	}
	// The retry arrives in a later batch, and again inside one batch.
	again := f.ApplyBatch([]Entry{
		cmdLog(2, withID(incrBy("c", 5), 7, 1)),
		cmdLog(3, withID(incrBy("c", 5), 7, 2)),
		cmdLog(4, withID(incrBy("c", 5), 7, 2)),
	})
	for i, want := range []int64{5, 10, 10} {
		if r := result(t, again, i); r.Int != want || r.Err != nil {
			t.Errorf("entry %d: result %+v, want Int %d", i+2, r, want)
		}
	}
	wantValue(t, f, "c", "10")

	// Deterministic errors are remembered too.
	f.ApplyBatch([]Entry{cmdLog(5, set("s", "abc"))})
	e1 := f.ApplyBatch([]Entry{cmdLog(6, withID(incrBy("s", 1), 7, 3))})
	e2 := f.ApplyBatch([]Entry{cmdLog(7, withID(incrBy("s", 1), 7, 3))})
	if a, b := result(t, e1, 0), result(t, e2, 0); !errors.Is(a.Err, ErrNotInteger) || !errors.Is(b.Err, ErrNotInteger) {
		t.Errorf("INCR of a string, then its retry: %v, %v; want ErrNotInteger twice", a.Err, b.Err)
	}

	// Request records travel in snapshots.
	g := newFSM(t, memEngine(t))
	if err := restoreBytes(g, persist(t, f)); err != nil {
		t.Fatal(err)
	}
	res := g.ApplyBatch([]Entry{cmdLog(8, withID(incrBy("c", 5), 7, 2))})
	if r := result(t, res, 0); r.Int != 10 {
		t.Errorf("retry after restore = %d, want the recorded 10", r.Int)
	}
	wantValue(t, g, "c", "10")
}

func TestPruneRequests(t *testing.T) {
	f := newFSM(t, memEngine(t))
	f.ApplyBatch([]Entry{
		cmdLog(1, withID(incrBy("c", 1), 9, 1)),
		cmdLog(2, withID(incrBy("c", 1), 9, 2)),
		cmdLog(3, withID(incrBy("c", 1), 9, 3)),
	})
	res := f.ApplyBatch([]Entry{cmdLog(4, Command{Op: OpPruneRequests, Int: 2})})
	if r := result(t, res, 0); r.Int != 2 {
		t.Fatalf("prune up to index 2 removed %d records, want 2", r.Int)
	}
	// seq 3 is still known; seq 1 is not, so it applies again.
	res = f.ApplyBatch([]Entry{
		cmdLog(5, withID(incrBy("c", 1), 9, 3)),
		cmdLog(6, withID(incrBy("c", 1), 9, 1)),
	})
	if a, b := result(t, res, 0), result(t, res, 1); a.Int != 3 || b.Int != 4 {
		t.Errorf("after prune: retry of seq 3 = %d (want 3, recorded), retry of seq 1 = %d (want 4, applied again)", a.Int, b.Int)
	}
}

func TestAddressBook(t *testing.T) {
	f := newFSM(t, memEngine(t))
	member := func(id, raftAddr, clientAddr string) Command {
		return Command{Op: OpSetMember, Args: [][]byte{[]byte(id), []byte(raftAddr), []byte(clientAddr)}}
	}
	f.ApplyBatch([]Entry{
		cmdLog(1, member("b", "h:2", "h:6380")),
		cmdLog(2, member("a", "h:1", "h:6379")),
		cmdLog(3, member("b", "h:22", "h:6390")), // moved
		cmdLog(4, Command{Op: OpSetMember, Args: [][]byte{[]byte("x")}}),
	})
	v, release := f.View()
	defer release()
	got, err := v.Members()
	if err != nil {
		t.Fatal(err)
	}
	want := []Member{{"a", "h:1", "h:6379"}, {"b", "h:22", "h:6390"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("Members() = %+v, want %+v", got, want)
	}
	f.ApplyBatch([]Entry{cmdLog(5, Command{Op: OpDelMember, Args: [][]byte{[]byte("a")}})})
	if _, ok, err := v.Member("a"); ok || err != nil {
		t.Errorf("Member(a) after delete: ok=%v err=%v, want absent", ok, err)
	}
	if m, ok, _ := v.Member("b"); !ok || m.ClientAddr != "h:6390" {
		t.Errorf("Member(b) = %+v, %v; want client h:6390", m, ok)
	}
	// RAFT.LEAVE's removal drops the entry and records when (Now).
	at := time.UnixMilli(1_700_000_000_000)
	res := f.ApplyBatch([]Entry{
		cmdLog(6, Command{Op: OpLeave, Args: [][]byte{[]byte("b")}, Now: at.UnixMilli()}),
		cmdLog(7, Command{Op: OpLeave}),
	})
	if r := result(t, res, 0); r.Err != nil {
		t.Errorf("OpLeave b: %v", r.Err)
	}
	if r := result(t, res, 1); !errors.Is(r.Err, ErrBadEntry) {
		t.Errorf("OpLeave without an id: %v, want ErrBadEntry", r.Err)
	}
	if _, ok, err := v.Member("b"); ok || err != nil {
		t.Errorf("Member(b) after OpLeave: ok=%v err=%v, want absent", ok, err)
	}
	if got, ok, err := v.LeftAt("b"); !ok || err != nil || !got.Equal(at) {
		t.Errorf("LeftAt(b) = %v, %v, %v; want %v", got, ok, err, at)
	}
	if _, ok, err := v.LeftAt("a"); ok || err != nil {
		t.Errorf("LeftAt(a), deleted by OpDelMember, not RAFT.LEAVE: ok=%v err=%v, want absent", ok, err)
	}
	// Address book entries and removals are not user keys.
	if n, err := v.Count(0); err != nil || n != 0 {
		t.Errorf("Count() = %d, %v; want 0", n, err)
	}
}

func TestResultCodec(t *testing.T) {
	for _, r := range []Result{
		{},
		{Int: -42},
		{Err: ErrNotInteger},
		{Err: ErrWrongType, Int: 3},
		{Err: errors.New("raftkv: something else")},
		{Value: []byte("old"), Int: 1},
		{Value: []byte{}},
		{Null: true},
	} {
		got, err := DecodeResult(AppendEncodeResult(nil, r))
		if err != nil {
			t.Errorf("DecodeResult(encode(%+v)): %v", r, err)
			continue
		}
		sameErr := (got.Err == nil) == (r.Err == nil) && (r.Err == nil || got.Err.Error() == r.Err.Error())
		if got.Int != r.Int || string(got.Value) != string(r.Value) || (got.Value == nil) != (r.Value == nil) || got.Null != r.Null || !sameErr {
			t.Errorf("round trip of %+v = %+v", r, got)
		}
		if r.Err == ErrNotInteger && !errors.Is(got.Err, ErrNotInteger) {
			t.Errorf("sentinel lost: %v", got.Err)
		}
	}
	// Every sentinel an operation can return survives forwarding as itself.
	for _, e := range resultErrors[1:] {
		got, err := DecodeResult(AppendEncodeResult(nil, Result{Err: e, Null: true}))
		if err != nil || got.Err != e || !got.Null {
			t.Errorf("round trip of {Err: %v, Null} = %+v, %v; want the same sentinel", e, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {1}, {2, 0}, {1, 0xf0}, {1, 2}, {1, 2, 99}, {1, 0, 0}} {
		if _, err := DecodeResult(bad); !errors.Is(err, ErrBadEntry) {
			t.Errorf("DecodeResult(%v) error = %v, want ErrBadEntry", bad, err)
		}
	}
}
