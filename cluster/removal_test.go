package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/raftkv/raftkvtest"
)

func TestRemovalNotice(t *testing.T) {
	var n removalNotice // the zero value is ready
	ch := n.c()
	select {
	case <-ch:
		t.Fatal("closed before any notice")
	default:
	}
	n.fire()
	n.fire() // twice is fine
	select {
	case <-n.c():
	default:
		t.Fatal("not closed after fire")
	}
	if n.c() != ch {
		t.Error("c() returned another channel")
	}

	if n.recent("n2", true) {
		t.Error("recent before any removal")
	}
	n.left("n2")
	if !n.recent("n2", true) {
		t.Error("n2, just removed and still with its raft state, is not recent")
	}
	if n.recent("n2", false) {
		t.Error("n2 back with an empty data dir is held back")
	}
	if n.recent("n3", true) {
		t.Error("n3, never removed, is recent")
	}
	n.mu.Lock()
	n.removed["n2"] = time.Now().Add(-removedRecently - time.Second)
	n.mu.Unlock()
	if n.recent("n2", true) {
		t.Errorf("n2 removed more than %s ago is still recent", removedRecently)
	}
	n.left("n3") // prunes n2
	n.mu.Lock()
	_, kept := n.removed["n2"]
	n.mu.Unlock()
	if kept {
		t.Error("an old removal was not pruned")
	}
}

// TestLeaveHoldsTheNodeOutFirst (found by the fault suite): RAFT.LEAVE
// marked the removed node as held out only after the configuration had
// dropped it, and a reconciler round in between added it back at once
// (it still gossiped), so it never shut down. The hold must be in place
// from the moment the configuration no longer holds the node. Here the
// removal cannot commit (the leader cannot reach the one other voter that
// the new configuration has), so the leader's configuration lacks the node
// while RemoveServer waits: the hold must already be there.
func TestLeaveHoldsTheNodeOutFirst(t *testing.T) {
	cfgs := make(map[string]raftkv.Config)
	nodes := raftkvtest.Cluster(t, 3, func(c *raftkv.Config) { cfgs[c.ID] = *c })
	var leader, victim, blocker *raftkv.Node
	for _, n := range nodes {
		switch {
		case n.IsLeader():
			leader = n
		case victim == nil:
			victim = n
		default:
			blocker = n
		}
	}
	if leader == nil || victim == nil || blocker == nil {
		t.Fatal("no leader with two followers")
	}
	r, err := New(DefaultConfig(), leader)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })

	rejoin := raftkvtest.Cut(cfgs[leader.ID()], cfgs[blocker.ID()])
	left := make(chan error, 1)
	go func() { left <- r.Leave(context.Background(), victim.ID()) }()

	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		servers, err := leader.Servers()
		if err != nil {
			t.Fatalf("Servers: %v", err)
		}
		if !slices.ContainsFunc(servers, func(s raftkv.Server) bool { return s.ID == victim.ID() }) {
			break
		}
		select {
		case err := <-left:
			t.Fatalf("Leave returned %v while the configuration still held %s", err, victim.ID())
		case <-deadline:
			t.Fatalf("the leader's configuration still holds %s after 10s", victim.ID())
		case <-tick.C:
		}
	}
	if !r.removal.recent(victim.ID(), true) {
		t.Errorf("the configuration dropped %s before RAFT.LEAVE held it out: the reconciler could add it back", victim.ID())
	}

	rejoin()
	select {
	case <-left: // done, or leadership lost while cut off: either way it returned
	case <-time.After(30 * time.Second):
		t.Fatal("Leave did not return after the voters were reconnected")
	}
}
