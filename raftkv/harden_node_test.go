package raftkv_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/raftkv/raftkvtest"
	"github.com/riotkv/riot/storage"
)

// TestStorageErrorStopsOneReplica: a follower whose engine fails reads
// while it applies stops its state machine and says so (Err, INFO); the
// leader and the other follower carry on, and nothing diverges: the
// stopped replica holds what it applied before, never a different result.
func TestStorageErrorStopsOneReplica(t *testing.T) {
	engs := make([]storage.Engine, 3)
	faulty := make([]*storage.FaultyEngine, 3)
	for i := range engs {
		mem := storage.NewMemory()
		t.Cleanup(func() { mem.Close() })
		faulty[i] = storage.NewFaultyEngine(mem)
		engs[i] = faulty[i]
	}
	nodes := raftkvtest.ClusterOn(t, engs, nil)
	var leader *raftkv.Node
	var sick int
	for i, n := range nodes {
		if n.IsLeader() {
			leader = n
		} else {
			sick = i
		}
	}
	apply(t, leader, cmdSet("k", "1"))
	for _, n := range nodes {
		raftkvtest.WaitApplied(t, n, leader.FSM().AppliedIndex())
	}
	faulty[sick].FailReads(func(k []byte) bool { return bytes.HasSuffix(k, []byte("k")) })
	for range 5 {
		apply(t, leader, cmdIncr("k"))
	}
	apply(t, leader, cmdSet("after", "x"))
	last := leader.FSM().AppliedIndex()
	for i, n := range nodes {
		if i == sick {
			continue
		}
		raftkvtest.WaitApplied(t, n, last)
		wantGet(t, n, "k", "6")
		wantGet(t, n, "after", "x")
		if err := n.FSM().Err(); err != nil {
			t.Errorf("%s stopped too: %v", n.ID(), err)
		}
	}
	s := nodes[sick]
	deadline := time.Now().Add(10 * time.Second)
	for s.FSM().Err() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("%s never stopped (applied %d of %d)", s.ID(), s.FSM().AppliedIndex(), last)
		}
		time.Sleep(5 * time.Millisecond) // polling the condition, with the deadline above
	}
	if err := s.FSM().Err(); !errors.Is(err, kv.ErrFailed) || !errors.Is(err, storage.ErrInjected) {
		t.Errorf("%s: Err() = %v, want ErrFailed wrapping the read error", s.ID(), err)
	}
	if got := infoField(t, s, "riot_fsm_failed"); got != "1" {
		t.Errorf("%s: riot_fsm_failed = %q, want 1", s.ID(), got)
	}
	if got := infoField(t, nodes[(sick+1)%3], "riot_fsm_failed"); got != "0" {
		t.Errorf("healthy node: riot_fsm_failed = %q, want 0", got)
	}
	faulty[sick].FailReads(nil)
	if got := s.FSM().AppliedIndex(); got >= last {
		t.Errorf("%s applied through %d while stopped", s.ID(), got)
	}
	// What the stopped replica holds is a prefix of the others' history.
	if got, ok := nodeGet(t, s, "k"); !ok || got != "1" {
		t.Errorf("%s holds k = %q (%v), want the value before the failure, 1", s.ID(), got, ok)
	}
	if _, ok := nodeGet(t, s, "after"); ok {
		t.Errorf("%s applied a write after it stopped", s.ID())
	}
}

// TestProposeBatchOneWaiterPerFuture: without the group commit (a
// ProposeWindow of 0), the commands of one batch entry share a raft
// future, whose outcome is read once for all of them: waiting on them from
// several goroutines at once answers every one (hashicorp/raft's future is
// not safe for two waiters: the second one waited forever).
func TestProposeBatchOneWaiterPerFuture(t *testing.T) {
	n := raftkvtest.SingleNodeWith(t, nil, func(c *raftkv.Config) { c.ProposeWindow = 0 })
	ps := n.ProposeBatch([]*kv.Command{cmdIncr("a"), cmdIncr("a"), cmdIncr("a"), cmdIncr("a")})
	var wg sync.WaitGroup
	got := make([]int64, len(ps))
	errs := make([]error, len(ps))
	for i, p := range ps {
		wg.Go(func() {
			r, err := p.Wait()
			got[i], errs[i] = r.Int, err
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("waiters of one batch entry did not all return within 10s")
	}
	for i := range ps {
		if errs[i] != nil || got[i] != int64(i+1) {
			t.Errorf("command %d: %d, %v; want %d", i, got[i], errs[i], i+1)
		}
	}
}

// TestNowBoundedByLeader: a command whose Now is far ahead of the
// leader's clock (a follower's clock jumped, or a forged forward) moves the
// state machine's clock at most kv.MaxClockAhead past the leader's:
// keys with a TTL do not all expire at once.
func TestNowBoundedByLeader(t *testing.T) {
	n := raftkvtest.SingleNode(t, nil)
	ttl := &kv.Command{Op: kv.OpSet, Args: [][]byte{[]byte("session"), []byte("x")}, ExpireAt: time.Now().Add(time.Hour).UnixMilli()}
	apply(t, n, ttl)
	future := time.Now().Add(24 * time.Hour).UnixMilli()
	c := cmdSet("k", "v")
	c.Now = future
	apply(t, n, c)
	if clock, limit := n.FSM().Clock(), time.Now().UnixMilli()+kv.MaxClockAhead; clock > limit {
		t.Errorf("state machine clock %d, more than %d ms past the leader's (%d)", clock, kv.MaxClockAhead, limit)
	}
	wantGet(t, n, "session", "x")
	if got := infoField(t, n, "riot_clock_clamped"); got != "1" {
		t.Errorf("riot_clock_clamped = %s, want 1", got)
	}
}

// TestNodeSecret: every node of a cluster applies the same node secret,
// which the first leader proposed, and a second one does not replace it.
func TestNodeSecret(t *testing.T) {
	nodes := raftkvtest.Cluster(t, 3, nil)
	want := nodes[0].FSM().Secret()
	if len(want) < 32 {
		t.Fatalf("secret %q, want 32 bytes or more", want)
	}
	for _, n := range nodes {
		if got := n.FSM().Secret(); !bytes.Equal(got, want) {
			t.Errorf("%s: secret %q, want %q", n.ID(), got, want)
		}
	}
	var leader *raftkv.Node
	for _, n := range nodes {
		if n.IsLeader() {
			leader = n
		}
	}
	other := bytes.Repeat([]byte("x"), 32)
	r := apply(t, leader, &kv.Command{Op: kv.OpSecret, Args: [][]byte{other}})
	if r.Err != nil || r.Int != 0 {
		t.Errorf("a second OpSecret = %+v, want no change", r)
	}
	if got := leader.FSM().Secret(); !bytes.Equal(got, want) {
		t.Errorf("secret changed to %q", got)
	}
	if kv.IsClientOp(kv.OpSecret) || kv.IsClientOp(kv.OpSetMember) || !kv.IsClientOp(kv.OpSet) {
		t.Error("IsClientOp: OpSecret or OpSetMember is a client op, or OpSet is not")
	}
}
