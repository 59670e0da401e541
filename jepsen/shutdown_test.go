package jepsen

import (
	"context"
	"testing"
	"time"
)

// TestShutdownAfterOneWayLeaderLoss is the regression test for a hang the
// oneway nemesis found: while the leader replicates under load, every
// packet it sends is dropped for a few seconds (it loses leadership), the
// network heals, and the former leader is stopped with SIGTERM: it must
// exit (code 0) within 15s. In hashicorp/raft v1.7.2 the pipelined
// replication goroutine can deadlock when the follower's pipelined
// responses come back unsuccessful (pipelineDecode returns while
// pipelineSend waits to hand off one more request), and raft's Shutdown
// then waits for that goroutine forever.
func TestShutdownAfterOneWayLeaderLoss(t *testing.T) {
	needRoot(t)
	r, err := StartRun(RunConfig{Name: "oneway-shutdown", Seed: 11, Nodes: 3, Bin: serverBin, Dir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatalf("start run: %v", err)
	}
	t.Cleanup(r.Close)
	defer r.Close()
	c := r.Cluster
	const rounds = 3 // the deadlock is a race: not every round hits it
	for round := range rounds {
		ld, err := c.WaitLeader(recoverTimeout)
		if err != nil {
			t.Fatal(err)
		}
		var pairs [][2]*Host
		for _, s := range c.Members() {
			if s != ld {
				pairs = append(pairs, [2]*Host{ld.Host, s.Host})
			}
		}
		if err := c.Net.Cut(pairs); err != nil {
			t.Fatal(err)
		}
		sleep(context.Background(), 4*time.Second) // the fault's duration
		if err := c.Net.HealPartitions(); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitHealthy(recoverTimeout); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		begin := time.Now()
		if err := ld.Term(); err != nil {
			t.Fatalf("round %d: SIGTERM of %s, the leader until every packet it sent was dropped for 4s: %v after %s; where it was stuck:\n%s",
				round, ld.ID, err, time.Since(begin).Round(time.Millisecond), ld.Stacks())
		}
		if err := ld.Start("--join", c.Seeds(ld)); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitHealthy(recoverTimeout); err != nil {
			t.Fatalf("round %d: %s back: %v", round, ld.ID, err)
		}
	}
	if rep := r.Finish(); rep.Bad() {
		t.Errorf("%s", rep)
	}
}
