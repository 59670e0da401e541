package raftkv_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/raftkv/raftkvtest"
)

// TestReadIndexConfirmsWithAMajority: on a three-voter cluster the leader's
// read index covers every acknowledged write and costs no log entry once
// the term's first barrier committed; it fails, with ErrNotConfirmed,
// when no other voter confirms the term (as for a deposed leader whose
// followers moved on), and works again once one does.
func TestReadIndexConfirmsWithAMajority(t *testing.T) {
	nodes := openCluster(t)
	byID := map[string]*raftkv.Node{}
	for _, n := range nodes {
		byID[n.ID()] = n
	}
	var refuse atomic.Bool // the followers answer with a newer term
	var asked atomic.Int64
	for _, n := range nodes {
		self := n.ID()
		n.SetConfirmer(func(_ context.Context, id string, term uint64) bool {
			asked.Add(1)
			t, leader := byID[id].Following()
			if refuse.Load() {
				t++
			}
			return t == term && leader == self
		})
	}
	ld := leaderOf(t, nodes)
	ctx := testCtx(t)
	if _, err := ld.Apply(ctx, &kv.Command{Op: kv.OpSet, Args: [][]byte{[]byte("k"), []byte("v")}}); err != nil {
		t.Fatalf("SET: %v", err)
	}
	written := ld.FSM().AppliedIndex()
	idx, err := ld.ReadIndex(ctx)
	if err != nil || idx < written {
		t.Fatalf("ReadIndex = %d, %v; want >= %d", idx, err, written)
	}
	// The term's barrier is in place: further rounds write nothing.
	last := ld.FSM().AppliedIndex()
	before := asked.Load()
	for range 5 {
		if _, err := ld.ReadIndex(ctx); err != nil {
			t.Fatalf("ReadIndex: %v", err)
		}
	}
	if got := ld.FSM().AppliedIndex(); got != last {
		t.Errorf("applied index moved %d -> %d over read-index rounds; want no log writes", last, got)
	}
	if asked.Load() == before {
		t.Error("read-index rounds asked no other voter")
	}

	refuse.Store(true)
	if _, err := ld.ReadIndex(ctx); !errors.Is(err, raftkv.ErrNotConfirmed) {
		t.Errorf("ReadIndex with no voter confirming = %v, want ErrNotConfirmed", err)
	}
	refuse.Store(false)
	if _, err := ld.ReadIndex(ctx); err != nil {
		t.Errorf("ReadIndex once voters confirm again: %v", err)
	}
	for _, n := range nodes {
		if n != ld {
			if _, err := n.ReadIndex(ctx); !errors.Is(err, raftkv.ErrNotLeader) {
				t.Errorf("ReadIndex on follower %s = %v, want ErrNotLeader", n.ID(), err)
			}
		}
	}
}

// TestNewLeaderSettlesItsTerm: a new leader commits an entry of its own at
// once, so on an idle cluster every node's applied index reaches the
// commit index (hashicorp/raft's no-op that opens a term never reaches the
// state machine; with nothing after it, applied stayed one short).
func TestNewLeaderSettlesItsTerm(t *testing.T) {
	nodes := raftkvtest.Cluster(t, 3, nil)
	old := leaderOf(t, nodes)
	writeKeys(t, nodes, "k", 5, time.Now().UnixMilli(), 0)
	before := old.CommitIndex()
	var next string
	for _, n := range nodes {
		if n != old {
			next = n.ID()
			break
		}
	}
	ctx := testCtx(t)
	if err := old.TransferLeadership(ctx, next); err != nil {
		t.Fatalf("TransferLeadership to %s: %v", next, err)
	}
	// Wait until the new leader has committed past the old term: its raft
	// no-op at least.
	var leader *raftkv.Node
	for {
		ch := nodes[0].LeaderChanged()
		leader = leaderOf(t, nodes)
		if leader != old && leader.CommitIndex() > before {
			break
		}
		select {
		case <-ch:
		case <-time.After(10 * time.Millisecond): // commit index moves without a leader change
		case <-ctx.Done():
			t.Fatalf("no new leader committed past %d", before)
		}
	}
	idx := leader.CommitIndex()
	for _, n := range nodes {
		if err := n.WaitApplied(ctx, idx); err != nil {
			t.Errorf("%s: applied %d, never reached the new leader's commit index %d: %v", n.ID(), n.FSM().AppliedIndex(), idx, err)
		}
	}
}
