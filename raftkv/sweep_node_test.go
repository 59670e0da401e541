package raftkv_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/raftkv/raftkvtest"
)

// TestNodeSweeper: every node, followers too, sweeps the elements of a
// deleted hash from its own engine, a budget per tick, and counts them in
// its metrics.
func TestNodeSweeper(t *testing.T) {
	const fields = 3000
	nodes := raftkvtest.Cluster(t, 3, func(c *raftkv.Config) {
		c.SweepInterval = 10 * time.Millisecond
		c.SweepBatch = 100
		c.SweepBudget = 500
	})
	leader := leaderOf(t, nodes)
	hset := &kv.Command{Op: kv.OpHSet, Args: [][]byte{[]byte("h")}}
	for i := range fields {
		hset.Args = append(hset.Args, fmt.Appendf(nil, "f%d", i), []byte("v"))
	}
	apply(t, leader, hset)
	apply(t, leader, &kv.Command{Op: kv.OpHSet, Args: [][]byte{[]byte("live"), []byte("f"), []byte("v")}})
	if r := apply(t, leader, &kv.Command{Op: kv.OpDel, Args: [][]byte{[]byte("h")}}); r.Int != 1 {
		t.Fatalf("DEL h = %d, want 1", r.Int)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range nodes {
		for n.FSM().SweepStats().Deleted < fields {
			if time.Now().After(deadline) {
				t.Fatalf("node %s swept %+v, want %d records deleted", n.ID(), n.FSM().SweepStats(), fields)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if st := n.FSM().SweepStats(); st.Deleted != fields || st.Passes < 1 {
			t.Errorf("node %s: %+v, want %d deleted in at least one pass", n.ID(), st, fields)
		}
		mfs := gather(t, n.Collectors())
		if got := metricWith(t, mfs, "riot_sweeper_deleted_total").GetCounter().GetValue(); got != fields {
			t.Errorf("node %s: riot_sweeper_deleted_total = %v, want %d", n.ID(), got, fields)
		}
		if got := metricWith(t, mfs, "riot_sweeper_passes_total").GetCounter().GetValue(); got < 1 {
			t.Errorf("node %s: riot_sweeper_passes_total = %v, want at least 1", n.ID(), got)
		}
		v, release := n.FSM().View()
		c, ok, err := v.Collection([]byte("live"), 0, kv.TypeHash)
		if err != nil || !ok || c.Len() != 1 {
			t.Errorf("node %s: hash live = %v, %v, %v", n.ID(), c, ok, err)
		}
		release()
	}
}

// TestSweepConfig: the sweeper's settings are checked when it runs.
func TestSweepConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		adjust func(*raftkv.Config)
		ok     bool
	}{
		{"default", func(*raftkv.Config) {}, true},
		{"off", func(c *raftkv.Config) { c.SweepInterval, c.SweepBatch = 0, 0 }, true},
		{"negative interval", func(c *raftkv.Config) { c.SweepInterval = -1 }, false},
		{"no batch", func(c *raftkv.Config) { c.SweepBatch = 0 }, false},
		{"budget below batch", func(c *raftkv.Config) { c.SweepBudget = c.SweepBatch - 1 }, false},
	} {
		c := raftkv.DefaultConfig()
		c.ID, c.InMemory = "n", true
		tc.adjust(&c)
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
