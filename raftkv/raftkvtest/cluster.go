package raftkvtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/storage"
)

// Cluster starts size in-process nodes (IDs node1, node2, ...) on memory
// engines, connected by in-memory transports and bootstrapped together as
// voters, waits until one leads, and closes them when the test ends.
// configure, when not nil, adjusts each node's Config before it opens.
//
// Its raft timeouts are 200ms, not Config's 50ms: a leader steps down when
// it has not heard from a quorum within the lease, and under -race on a
// loaded 2-core machine goroutines can go unscheduled for longer than
// 50ms, which made leadership flap in the middle of tests.
func Cluster(t testing.TB, size int, configure func(*raftkv.Config)) []*raftkv.Node {
	t.Helper()
	engs := make([]storage.Engine, size)
	for i := range engs {
		eng := storage.NewMemory()
		t.Cleanup(func() { eng.Close() })
		engs[i] = eng
	}
	return ClusterOn(t, engs, configure)
}

// ClusterOn is Cluster over the given engines, one node each.
func ClusterOn(t testing.TB, engs []storage.Engine, configure func(*raftkv.Config)) []*raftkv.Node {
	t.Helper()
	size := len(engs)
	cfgs := make([]raftkv.Config, size)
	servers := make([]raftkv.Server, size)
	for i := range cfgs {
		c := Config(t, fmt.Sprintf("node%d", i+1))
		c.HeartbeatTimeout = 200 * time.Millisecond
		c.ElectionTimeout = 200 * time.Millisecond
		c.LeaderLeaseTimeout = 200 * time.Millisecond
		if configure != nil {
			configure(&c)
		}
		cfgs[i] = c
		servers[i] = raftkv.Server{ID: c.ID, RaftAddr: string(c.Transport.LocalAddr()), Voter: true}
	}
	nodes := make([]*raftkv.Node, size)
	for i, c := range cfgs {
		n, err := raftkv.Open(c, engs[i])
		if err != nil {
			t.Fatalf("open %s: %v", c.ID, err)
		}
		t.Cleanup(func() {
			if err := n.Close(); err != nil {
				t.Errorf("close %s: %v", c.ID, err)
			}
		})
		if err := n.BootstrapWith(servers); err != nil {
			t.Fatalf("bootstrap %s: %v", c.ID, err)
		}
		nodes[i] = n
	}
	// Connect only after every node bootstrapped: a node that hears from an
	// elected leader first has state and cannot bootstrap any more.
	for i := range cfgs {
		for j := range cfgs {
			if i != j {
				inmem(cfgs[i]).Connect(cfgs[j].Transport.LocalAddr(), inmem(cfgs[j]))
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		for _, n := range nodes {
			if n.IsLeader() {
				WaitSecret(t, nodes...)
				return nodes
			}
		}
		select {
		case <-nodes[0].LeaderChanged():
		case <-time.After(10 * time.Millisecond): // another node may win: look again
		case <-ctx.Done():
			t.Fatalf("no leader among %d nodes within 10s", size)
		}
	}
}

// Cut disconnects the in-memory transports of the nodes configured with a
// and b (from Config, or as Cluster's configure saw them), both ways, and
// returns a function that connects them again.
func Cut(a, b raftkv.Config) (rejoin func()) {
	at, bt := inmem(a), inmem(b)
	at.Disconnect(bt.LocalAddr())
	bt.Disconnect(at.LocalAddr())
	return func() {
		at.Connect(bt.LocalAddr(), bt)
		bt.Connect(at.LocalAddr(), at)
	}
}
