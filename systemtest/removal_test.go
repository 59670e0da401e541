package systemtest

import (
	"strings"
	"testing"
	"time"
)

// A follower removed with RAFT.LEAVE never receives the log entry that
// removes it (the leader stops replicating to it first). The leader tells
// it (RIOT.REMOVED), it confirms with the leader (RIOT.MEMBER) and shuts
// down gracefully, exit code 0; the other two go on as a cluster of two.
// A notice the leader does not confirm changes nothing.
func TestRemovedFollowerIsTold(t *testing.T) {
	nodes := startCluster(t, 3)
	ld := leader(t, nodes)
	fs := followersOf(nodes, ld)
	gone, stay := fs[0], fs[1]

	// A client cannot send the notice, or ask the leader about members:
	// both are node-to-node commands (the leader's answer is checked by
	// package cluster's tests).
	for _, args := range [][]any{{"RIOT.REMOVED", stay.NodeID, ld.NodeID}, {"RIOT.MEMBER", stay.NodeID}} {
		for _, n := range []*node{stay, ld} {
			if err := n.do(args...).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM ") {
				t.Errorf("%v from a client to %s = %v; want NOPERM", args, n.NodeID, err)
			}
		}
	}

	start := time.Now()
	if got, err := ld.doWithin(changeTimeout, "RAFT.LEAVE", gone.NodeID).Text(); err != nil || got != "OK" {
		t.Fatalf("RAFT.LEAVE %s via leader %s = %q, %v; want OK", gone.NodeID, ld.NodeID, got, err)
	}
	select {
	case <-gone.proc.Done():
	case <-time.After(exitTimeout):
		t.Fatalf("removed follower %s still runs %s after RAFT.LEAVE", gone.NodeID, exitTimeout)
	}
	if code := gone.proc.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("removed follower %s exited with %s, want exit code 0", gone.NodeID, gone.proc.Cmd.ProcessState)
	}
	if countLog(gone, "the leader confirms this node was removed") == 0 {
		t.Errorf("removed follower %s exited without logging the confirmed notice", gone.NodeID)
	}
	t.Logf("removed follower %s exited %s after RAFT.LEAVE", gone.NodeID, time.Since(start).Round(10*time.Millisecond))

	if !stay.running() {
		t.Fatalf("follower %s, still a member, exited", stay.NodeID)
	}
	rest := []*node{ld, stay}
	waitFor(t, stableTimeout, func() error {
		_, err := clusterState(rest)
		return err
	})
	if err := stay.do("SET", "after-removal", "yes").Err(); err != nil {
		t.Errorf("SET through %s after the removal: %v", stay.NodeID, err)
	}
	if got, err := ld.do("GET", "after-removal").Text(); err != nil || got != "yes" {
		t.Errorf("GET through %s = %q, %v; want %q", ld.NodeID, got, err, "yes")
	}
}

// removalTold bounds how long a removed node that wakes up runs before a
// leader has told it of its removal: gossip sees it alive again, a
// reconcile round (1s), the notice and its confirmation.
const removalTold = 30 * time.Second

// TestRemovalOutlivesLeaderChange: a node removed with RAFT.LEAVE that
// is not told before leadership moves (here it is paused meanwhile) is
// held out and told by the next leader: it shuts down, exit code 0, and is
// never added back, although it still gossips with its raft state when it
// wakes up. The hold used to live in the memory of the leader that ran
// RAFT.LEAVE: the next one added the node back as a non-voter and
// promoted it, undoing the removal.
func TestRemovalOutlivesLeaderChange(t *testing.T) {
	t.Parallel()
	nodes := startGossipCluster(t, 3, 3, "--dead-node-timeout", "10m")
	ld, _ := waitGossipCluster(t, nodes, 3)
	fs := followersOf(nodes, ld)
	gone, next := fs[0], fs[1]
	added := func(n *node) int { return countLog(n, "adding member as non-voter", `"id":"`+gone.NodeID+`"`) }
	addedBefore := map[*node]int{ld: added(ld), next: added(next)}

	gone.Pause()
	if got, err := ld.doWithin(changeTimeout, "RAFT.LEAVE", gone.NodeID).Text(); err != nil || got != "OK" {
		gone.Resume()
		t.Fatalf("RAFT.LEAVE %s via leader %s = %q, %v; want OK", gone.NodeID, ld.NodeID, got, err)
	}
	if got, err := ld.doWithin(changeTimeout, "RAFT.TRANSFER", next.NodeID).Text(); err != nil || got != "OK" {
		gone.Resume()
		t.Fatalf("RAFT.TRANSFER %s on %s = %q, %v; want OK", next.NodeID, ld.NodeID, got, err)
	}
	gone.Resume()

	select {
	case <-gone.proc.Done():
	case <-time.After(removalTold):
		t.Fatalf("removed node %s still runs %s after leadership moved to %s", gone.NodeID, removalTold, next.NodeID)
	}
	if code := gone.proc.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("removed node %s exited with %s, want exit code 0", gone.NodeID, gone.proc.Cmd.ProcessState)
	}
	if countLog(gone, "the leader confirms this node was removed", `"leader":"`+next.NodeID+`"`) == 0 {
		t.Errorf("removed node %s exited without the new leader %s confirming its removal", gone.NodeID, next.NodeID)
	}
	for _, n := range []*node{ld, next} {
		if c := added(n) - addedBefore[n]; c > 0 {
			t.Errorf("%s added the removed node %s back %d times", n.NodeID, gone.NodeID, c)
		}
	}
	rest := []*node{ld, next}
	waitFor(t, stableTimeout, func() error {
		_, err := clusterState(rest)
		return err
	})
}
