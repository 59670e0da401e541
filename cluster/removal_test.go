package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/riotkv/riot/kv"
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

	if !n.startTelling("n2") {
		t.Error("startTelling n2: someone tells it already")
	}
	if n.startTelling("n2") {
		t.Error("startTelling n2 twice: two notices at once")
	}
	if !n.startTelling("n3") {
		t.Error("startTelling n3 while n2 is told: refused")
	}
	n.doneTelling("n2")
	if !n.startTelling("n2") {
		t.Error("startTelling n2 after doneTelling: refused")
	}
}

// TestLeaveHoldsTheNodeOutFirst (found by the fault suite): RAFT.LEAVE
// once marked the removed node as held out only after the configuration had
// dropped it, and a reconciler round in between added it back at once
// (it still gossiped), so it never shut down. The hold must be in place
// from the moment the configuration no longer holds the node. Here the
// removal cannot commit (the leader cannot reach the one other voter that
// the new configuration has), so the leader's configuration lacks the node
// while RemoveServer waits: the removal must already be recorded.
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
	// The leader, cut off from the new configuration's other voter,
	// cannot confirm a read index: read its state machine as it is.
	v, release := leader.FSM().View()
	_, held, err := v.LeftAt(victim.ID())
	release()
	if err != nil || !held {
		t.Errorf("the configuration dropped %s before RAFT.LEAVE recorded the removal (%v): the reconciler could add it back", victim.ID(), err)
	}

	rejoin()
	select {
	case <-left: // done, or leadership lost while cut off: either way it returned
	case <-time.After(30 * time.Second):
		t.Fatal("Leave did not return after the voters were reconnected")
	}
}

// TestHeldOut: a server RAFT.LEAVE removed (kv.OpLeave) is held out
// for removedRecently, by whichever node leads, if it is the same process
// (started before the removal) with its raft state. Found by the fault
// suite: a node removed, back with a fresh data dir, added, then restarted
// within the minute was held out and told to shut down.
func TestHeldOut(t *testing.T) {
	nodes := raftkvtest.Cluster(t, 1, nil)
	n := nodes[0]
	r, err := New(DefaultConfig(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ctx := context.Background()
	leave := func(id string, at time.Time) {
		t.Helper()
		if _, err := n.Apply(ctx, &kv.Command{Op: kv.OpLeave, Args: [][]byte{[]byte(id)}, Now: at.UnixMilli()}); err != nil {
			t.Fatalf("OpLeave %s: %v", id, err)
		}
	}
	// The state machine's clock never runs backwards: the older first.
	leave("n3", time.Now().Add(-removedRecently-time.Second))
	removed := time.Now()
	leave("n2", removed)
	before, after := removed.Add(-time.Minute).UnixNano(), removed.Add(time.Second).UnixNano()
	for _, c := range []struct {
		id       string
		hasState bool
		started  int64
		want     bool
	}{
		{"n2", true, before, true},   // just removed, the same process on its way out
		{"n2", true, 0, true},        // start unknown: held
		{"n2", false, before, false}, // back with an empty data dir: added at once
		{"n2", true, after, false},   // restarted since the removal: added at once
		{"n3", true, before, false},  // removed too long ago
		{"n4", true, before, false},  // never removed
	} {
		got, err := r.heldOut(ctx, c.id, c.hasState, c.started)
		if err != nil || got != c.want {
			t.Errorf("heldOut(%s, hasState %v, started %d) = %v, %v; want %v", c.id, c.hasState, c.started, got, err, c.want)
		}
	}
}
