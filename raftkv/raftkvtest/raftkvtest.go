// Package raftkvtest starts in-process raft nodes for tests: in-memory
// transport, log and snapshot stores, fast timeouts.
package raftkvtest

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/storage"
)

// Config returns a raftkv.Config for an in-memory test node with fast
// timeouts.
func Config(t testing.TB, id string) raftkv.Config {
	c := raftkv.DefaultConfig()
	c.ID = id
	c.InMemory = true
	c.HeartbeatTimeout = 50 * time.Millisecond
	c.ElectionTimeout = 50 * time.Millisecond
	c.LeaderLeaseTimeout = 50 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	c.Logger = Logger(t)
	_, trans := raft.NewInmemTransport(raft.NewInmemAddr())
	c.Transport = transport{trans}
	return c
}

// transport is raft's in-memory transport without pipelined replication.
// A pipeline that Disconnect closed may still deliver entries (its send
// picks at random between the peer's channel and its own shutdown), so a
// Cut would let some through; plain AppendEntries looks the peer up each
// time, and a cut peer is unreachable at once.
type transport struct{ *raft.InmemTransport }

func (transport) AppendEntriesPipeline(raft.ServerID, raft.ServerAddress) (raft.AppendPipeline, error) {
	return nil, raft.ErrPipelineReplicationNotSupported
}

// inmem returns the in-memory transport of a Config made by Config.
func inmem(c raftkv.Config) *raft.InmemTransport {
	if t, ok := c.Transport.(transport); ok {
		return t.InmemTransport
	}
	return c.Transport.(*raft.InmemTransport)
}

// SingleNode starts a bootstrapped one-node cluster over eng (a fresh
// memory engine when nil), waits until it leads, and closes it when the
// test ends.
func SingleNode(t testing.TB, eng storage.Engine) *raftkv.Node {
	t.Helper()
	return SingleNodeWith(t, eng, nil)
}

// SingleNodeWith is SingleNode with the Config adjusted by configure.
func SingleNodeWith(t testing.TB, eng storage.Engine, configure func(*raftkv.Config)) *raftkv.Node {
	t.Helper()
	if eng == nil {
		eng = storage.NewMemory()
		t.Cleanup(func() { eng.Close() })
	}
	c := Config(t, "node1")
	c.Bootstrap = true
	if configure != nil {
		configure(&c)
	}
	n, err := raftkv.Open(c, eng)
	if err != nil {
		t.Fatalf("open node: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	WaitLeader(t, n)
	WaitSecret(t, n)
	return n
}

// WaitApplied waits up to 10s until n has applied index idx.
func WaitApplied(t testing.TB, n *raftkv.Node, idx uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.WaitApplied(ctx, idx); err != nil {
		t.Fatalf("node %s: wait for index %d (applied %d): %v", n.ID(), idx, n.FSM().AppliedIndex(), err)
	}
}

// WaitSecret waits up to 10s until each of nodes has applied the node
// secret, which a new cluster's first leader proposes right after its
// term's barrier: an entry tests that count entries must not see arrive
// later.
func WaitSecret(t testing.TB, nodes ...*raftkv.Node) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range nodes {
		for n.FSM().Secret() == nil {
			if time.Now().After(deadline) {
				t.Fatalf("node %s has not applied the node secret within 10s", n.ID())
			}
			time.Sleep(5 * time.Millisecond) // polling the condition, with the deadline above
		}
	}
}

// WaitLeader waits up to 10s for n to become leader and to know it:
// hashicorp/raft sets the leader state a moment before the leader's ID, and
// what reports the leader (RAFT.PEERS, /readyz) reads the ID.
func WaitLeader(t testing.TB, n *raftkv.Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for {
		ch := n.LeaderChanged()
		if id, _ := n.Leader(); n.IsLeader() && id == n.ID() {
			return
		}
		select {
		case <-ch:
		case <-poll.C: // the ID may follow the state without a change signal
		case <-ctx.Done():
			t.Fatalf("node %s did not become leader within 10s (state %s)", n.ID(), n.State())
		}
	}
}

// Logger returns a slog.Logger that writes through t.Log, so logs show up
// only for failing tests (or with -v).
// Lines logged after the test ends are dropped.
func Logger(t testing.TB) *slog.Logger {
	w := &tWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

var _ io.Writer = (*tWriter)(nil)
