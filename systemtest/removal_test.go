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

	// Notices that must not stop a node: sent by a client to a member the
	// leader still has, or naming another node.
	if err := stay.do("RIOT.REMOVED", stay.NodeID, ld.NodeID).Err(); err == nil || !strings.Contains(err.Error(), "still has this node") {
		t.Errorf("RIOT.REMOVED %s %s to a member = %v; want the leader's denial", stay.NodeID, ld.NodeID, err)
	}
	if err := stay.do("RIOT.REMOVED", gone.NodeID, ld.NodeID).Err(); err == nil {
		t.Errorf("RIOT.REMOVED naming %s, sent to %s: no error", gone.NodeID, stay.NodeID)
	}
	if err := stay.do("RIOT.REMOVED", stay.NodeID, "nosuch").Err(); err == nil || !strings.Contains(err.Error(), "not in the address book") {
		t.Errorf("RIOT.REMOVED from an unknown node = %v; want an error", err)
	}
	if got, err := ld.do("RIOT.MEMBER", stay.NodeID).Int(); err != nil || got != 1 {
		t.Errorf("RIOT.MEMBER %s on the leader = %d, %v; want 1", stay.NodeID, got, err)
	}
	if err := stay.do("RIOT.MEMBER", stay.NodeID).Err(); err == nil {
		t.Errorf("RIOT.MEMBER on a follower answered; only the leader may")
	}

	start := time.Now()
	if got, err := ld.doWithin(changeTimeout, "RAFT.LEAVE", gone.NodeID).Text(); err != nil || got != "OK" {
		t.Fatalf("RAFT.LEAVE %s via leader %s = %q, %v; want OK", gone.NodeID, ld.NodeID, got, err)
	}
	select {
	case <-gone.done:
	case <-time.After(exitTimeout):
		t.Fatalf("removed follower %s still runs %s after RAFT.LEAVE", gone.NodeID, exitTimeout)
	}
	if code := gone.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("removed follower %s exited with %s, want exit code 0", gone.NodeID, gone.cmd.ProcessState)
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
