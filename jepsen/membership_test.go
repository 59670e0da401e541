package jepsen

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestRaftLeaveLeader is the regression test for bugs the leave nemesis
// found: RAFT.LEAVE of the current leader, sent to a follower. The leader
// removes itself, and raft shuts down on the removed node
// ("removed ourself, shutting down"). The command must still be answered
// (OK: the server is out of the configuration); while the removed node's
// process runs (still alive in gossip) with raft shut down, the new leader
// must not make it a voter again; and it must still shut down gracefully
// on SIGTERM, with exit code 0.
func TestRaftLeaveLeader(t *testing.T) {
	needRoot(t)
	c, err := StartCluster(ClusterConfig{Bin: serverBin, Dir: t.TempDir(), Nodes: 3, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	defer c.Close()
	// The hang is a race (see the report), so the scenario runs a few
	// times; each round brings the removed node back with a fresh data dir.
	const rounds = 3
	for round := range rounds {
		ld, err := c.WaitLeader(recoverTimeout)
		if err != nil {
			t.Fatal(err)
		}
		via := c.Members()[0]
		if via == ld {
			via = c.Members()[1]
		}
		begin := time.Now()
		err = c.do(via, changeTimeout, "RAFT.LEAVE", ld.ID).Err()
		if err != nil {
			t.Errorf("round %d: RAFT.LEAVE %s (the leader) sent to %s = %v after %s; want OK", round, ld.ID, via.ID, err, time.Since(begin).Round(time.Millisecond))
		}
		if round == 0 {
			// Watch the configuration for longer than --stabilization
			// (2s) plus a reconcile round.
			deadline := time.Now().Add(6 * time.Second)
			for time.Now().Before(deadline) {
				ps, _ := c.Peers(via)
				st, _ := c.do(ld, adminTimeout, "RAFT.STATE").Text()
				if i := slices.IndexFunc(ps, func(p Peer) bool { return p.ID == ld.ID }); i >= 0 && ps[i].Suffrage == "voter" && st == "shutdown" {
					t.Errorf("round %d: %s was removed and its raft is shut down (RAFT.STATE %q), but the configuration lists it as a voter again: %+v", round, ld.ID, st, ps)
					break
				}
				sleep(context.Background(), 250*time.Millisecond) // the observation's pace
			}
		}
		begin = time.Now()
		if err := ld.AwaitRemovedExit(); err != nil {
			t.Fatalf("round %d: %s, removed by RAFT.LEAVE: %v after %s; where it was stuck:\n%s", round, ld.ID, err, time.Since(begin).Round(time.Millisecond), ld.Stacks())
		}
		if t.Failed() {
			return
		}
		if err := ld.Wipe(); err != nil {
			t.Fatal(err)
		}
		if err := ld.Start("--join", c.Seeds(ld)); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitHealthy(recoverTimeout); err != nil {
			t.Fatalf("round %d: %s back with a fresh data dir: %v", round, ld.ID, err)
		}
	}
}
