package raftkv_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/riotkv/riot/raftkv"
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
	if _, err := ld.Apply(ctx, &raftkv.Command{Op: raftkv.OpSet, Args: [][]byte{[]byte("k"), []byte("v")}}); err != nil {
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
