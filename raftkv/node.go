package raftkv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/storage"
)

// Node is one raft server with its durable state machine.
type Node struct {
	cfg    Config
	logger *slog.Logger
	raft   *raft.Raft
	fsm    *kv.FSM
	trans  raft.Transport
	// logStore is the raft log and stable store (bolt or wal); nil when
	// InMemory.
	logStore logAndStableStore
	snaps    raft.SnapshotStore

	reads    *readIndexer
	proposer *proposer // nil without a ProposeWindow
	leader   leaderWatch
	closing  atomic.Bool // Close was called
	metrics  nodeMetrics

	// stopSweep stops the sweeper (sweeploop.go) and waits until it has;
	// nil when it does not run.
	stopSweep func()
}

// Open starts a raft node that applies to eng. The engine stays owned by the
// caller and must outlive the node.
//
// Boot: when the engine is behind the newest snapshot (or a restore was
// interrupted), the node first brings it up to date, from the local log if it
// still holds the gap, else by restoring the snapshot; otherwise the engine
// is used as is and raft's replay skips every entry it already holds.
func Open(cfg Config, eng storage.Engine) (*Node, error) {
	n, logs, stable, snaps, err := newNode(cfg, eng)
	if err != nil {
		return nil, err
	}
	cfg = n.cfg // with its defaults
	fail := func(err error) (*Node, error) {
		n.closeStores()
		return nil, err
	}
	if len(cfg.RestoreFrom) > 0 {
		if err := n.openTransport(); err != nil {
			return fail(err)
		}
		if err := n.seed(logs, stable, snaps); err != nil {
			return fail(err)
		}
	}
	if err := n.catchUp(logs, snaps); err != nil {
		return fail(err)
	}
	if n.trans == nil {
		if err := n.openTransport(); err != nil {
			return fail(err)
		}
	}
	rc := cfg.raftConfig()
	if cfg.Bootstrap {
		has, err := raft.HasExistingState(logs, stable, snaps)
		if err != nil {
			return fail(fmt.Errorf("raftkv: check raft state: %w", err))
		}
		if !has {
			conf := raft.Configuration{Servers: []raft.Server{{
				Suffrage: raft.Voter, ID: rc.LocalID, Address: n.trans.LocalAddr(),
			}}}
			if err := raft.BootstrapCluster(rc, logs, stable, snaps, n.trans, conf); err != nil {
				return fail(fmt.Errorf("raftkv: bootstrap: %w", err))
			}
			n.logger.Info("bootstrapped a new cluster", "id", cfg.ID, "raft_addr", n.trans.LocalAddr())
		}
	}
	r, err := raft.NewRaft(rc, raftFSM{n.fsm}, logs, stable, snaps, n.trans)
	if err != nil {
		return fail(fmt.Errorf("raftkv: start raft: %w", err))
	}
	n.raft = r
	n.reads = newReadIndexer(n)
	if cfg.ProposeWindow > 0 {
		n.proposer = newProposer(n, cfg.ProposeWindow)
	}
	n.watchLeader()
	go n.maintain(time.Minute)
	go n.expireLoop()
	if cfg.SweepInterval > 0 {
		stop, done := make(chan struct{}), make(chan struct{})
		n.stopSweep = sync.OnceFunc(func() { close(stop); <-done })
		go n.sweepLoop(stop, done)
	}
	return n, nil
}

// Seed does what Open does with cfg.RestoreFrom before it starts raft
// (load the backups into the empty engine, write raft's first snapshot of
// a one-server cluster of this node) and returns: a sharded restore seeds
// every data group before the node opens them.
func Seed(cfg Config, eng storage.Engine) error {
	if len(cfg.RestoreFrom) == 0 {
		return errors.New("raftkv: seed: no backup to restore")
	}
	n, logs, stable, snaps, err := newNode(cfg, eng)
	if err != nil {
		return err
	}
	defer n.closeStores()
	if err := n.openTransport(); err != nil {
		return err
	}
	return n.seed(logs, stable, snaps)
}

// newNode returns a Node over eng with its state machine and raft stores
// open, and nothing started.
func newNode(cfg Config, eng storage.Engine) (*Node, raft.LogStore, raft.StableStore, raft.SnapshotStore, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, nil, nil, err
	}
	n := &Node{cfg: cfg, logger: cfg.Logger}
	n.metrics.logAppend = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "riot_raft_log_append_duration_seconds",
		Help:    "Time to append a batch of entries to the raft log store (fsync included).",
		Buckets: latencyBuckets,
	})
	fsm, err := kv.NewFSM(eng, cfg.Logger.With("component", "fsm"))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	n.metrics.newFSMHistograms()
	fsm.SetObserver(&n.metrics)
	n.fsm = fsm

	logs, stable, snaps, err := n.openStores()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	n.snaps = snaps
	return n, logs, stable, snaps, nil
}

func (n *Node) openStores() (raft.LogStore, raft.StableStore, raft.SnapshotStore, error) {
	if n.cfg.InMemory {
		s := raft.NewInmemStore()
		return timedLogStore{s, &n.metrics}, s, raft.NewInmemSnapshotStore(), nil
	}
	if err := os.MkdirAll(n.cfg.Dir, 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("raftkv: %w", err)
	}
	kind, err := chooseLogStore(n.cfg.Dir, n.cfg.LogStore)
	if err != nil {
		return nil, nil, nil, err
	}
	var store logAndStableStore
	if kind == LogStoreWAL {
		store, err = n.openWAL()
	} else {
		store, err = n.openBolt()
	}
	if err != nil {
		return nil, nil, nil, err
	}
	logs, err := newLogCache(timedLogStore{store, &n.metrics}, n.cfg.MaxAppendEntries, n.cfg.LogCacheBytes)
	if err != nil {
		store.Close()
		return nil, nil, nil, fmt.Errorf("raftkv: log cache: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(n.cfg.Dir, n.cfg.SnapshotRetain, newHCLog(n.logger, "snapshot"))
	if err != nil {
		store.Close()
		return nil, nil, nil, fmt.Errorf("raftkv: open snapshot store: %w", err)
	}
	n.logStore = store
	return logs, store, snaps, nil
}

// logAndStableStore is a raft log and stable store in one (bolt or wal).
type logAndStableStore interface {
	raft.LogStore
	raft.StableStore
	Close() error
}

// openBolt opens raft-boltdb in Dir/raft.db as the log and stable store.
func (n *Node) openBolt() (logAndStableStore, error) {
	bolt, err := raftboltdb.New(raftboltdb.Options{
		Path: filepath.Join(n.cfg.Dir, "raft.db"),
		BoltOptions: &bbolt.Options{
			Timeout: time.Second,
			// A map freelist that is not synced keeps appends fast after the
			// log has been truncated many times; it is rebuilt on open.
			NoFreelistSync: true,
			FreelistType:   bbolt.FreelistMapType,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("raftkv: open log store: %w", err)
	}
	return bolt, nil
}

func (n *Node) openTransport() error {
	if n.cfg.Transport != nil {
		n.trans = n.cfg.Transport
		return nil
	}
	if n.cfg.Mux != nil {
		t, err := n.cfg.Mux.Transport(n.cfg.Group)
		if err != nil {
			return err
		}
		n.trans = t
		return nil
	}
	var adv net.Addr
	if n.cfg.Advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", n.cfg.Advertise)
		if err != nil {
			return fmt.Errorf("raftkv: advertise address %q: %w", n.cfg.Advertise, err)
		}
		adv = a
	}
	t, err := raft.NewTCPTransportWithLogger(n.cfg.RaftAddr, adv, 3, 10*time.Second, newHCLog(n.logger, "raft-net"))
	if err != nil {
		return fmt.Errorf("raftkv: raft transport on %s: %w", n.cfg.RaftAddr, err)
	}
	n.trans = noPipeline{t}
	return nil
}

// noPipeline is the TCP transport with pipelined replication turned off.
// hashicorp/raft v1.7.2's pipeline can deadlock after a follower rejects an
// entry (pipelineSend blocks handing off a request while decodeResponses
// blocks on the response channel): replication to that follower stops and
// raft.Shutdown never returns. Our fault suite hit it when a leader lost
// leadership under load (jepsen TestShutdownAfterOneWayLeaderLoss). Without
// pipelining, raft sends one AppendEntries batch at a time per follower.
type noPipeline struct{ *raft.NetworkTransport }

func (noPipeline) AppendEntriesPipeline(raft.ServerID, raft.ServerAddress) (raft.AppendPipeline, error) {
	return nil, raft.ErrPipelineReplicationNotSupported
}

// closeStores closes the log store and the transport the node opened (with
// a Mux, only this group's share of it).
func (n *Node) closeStores() {
	if c, ok := n.trans.(io.Closer); ok && n.cfg.Transport == nil {
		c.Close()
	}
	if n.logStore != nil {
		n.logStore.Close()
	}
}

// catchUp brings the engine up to the newest snapshot before raft starts
// (raft will only replay entries after it).
func (n *Node) catchUp(logs raft.LogStore, snaps raft.SnapshotStore) error {
	metas, err := snaps.List()
	if err != nil {
		return fmt.Errorf("raftkv: list snapshots: %w", err)
	}
	interrupted, err := n.fsm.Restoring()
	if err != nil {
		return err
	}
	if len(metas) == 0 {
		if interrupted {
			return errors.New("raftkv: an interrupted restore left the engine inconsistent and no snapshot is left to restore; remove the data directory and rejoin")
		}
		return nil
	}
	snap := metas[0]
	applied := n.fsm.AppliedIndex()
	if !interrupted && applied >= snap.Index {
		n.logger.Info("engine is current; no snapshot restore", "applied_index", applied, "snapshot_index", snap.Index)
		return nil
	}
	if !interrupted {
		ok, err := n.replayLocal(logs, applied+1, snap.Index)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	n.logger.Info("restoring snapshot at boot", "applied_index", applied, "snapshot_index", snap.Index, "interrupted", interrupted)
	_, rc, err := snaps.Open(snap.ID)
	if err != nil {
		return fmt.Errorf("raftkv: open snapshot %s: %w", snap.ID, err)
	}
	if err := n.fsm.Restore(rc); err != nil {
		return fmt.Errorf("raftkv: restore snapshot %s: %w", snap.ID, err)
	}
	return nil
}

// replayLocal applies entries [from, to] from the local log, if it holds
// them all. It reports false when the log no longer has them.
func (n *Node) replayLocal(logs raft.LogStore, from, to uint64) (bool, error) {
	first, err := logs.FirstIndex()
	if err != nil {
		return false, fmt.Errorf("raftkv: log first index: %w", err)
	}
	last, err := logs.LastIndex()
	if err != nil {
		return false, fmt.Errorf("raftkv: log last index: %w", err)
	}
	if first == 0 || first > from || last < to {
		return false, nil
	}
	batch := make([]*raft.Log, 0, n.cfg.MaxAppendEntries)
	for i := from; i <= to; i++ {
		l := new(raft.Log)
		if err := logs.GetLog(i, l); err != nil {
			return false, fmt.Errorf("raftkv: read log %d: %w", i, err)
		}
		batch = append(batch, l)
		if len(batch) == cap(batch) || i == to {
			n.fsm.ApplyBatch(entries(batch))
			batch = batch[:0]
		}
	}
	if err := n.fsm.Err(); err != nil {
		return false, err
	}
	n.logger.Info("replayed local log up to snapshot", "from", from, "to", to)
	return true, nil
}

// Close shuts raft down and closes the log store. The engine is left open.
func (n *Node) Close() error {
	n.closing.Store(true)
	if n.stopSweep != nil {
		// The engine outlives the node: no sweep step may run after Close.
		n.stopSweep()
	}
	if n.proposer != nil {
		n.proposer.close()
	}
	done := make(chan error, 1)
	go func() { done <- n.raft.Shutdown().Error() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		// Closing the transport below unblocks replication stuck on it.
		n.logger.Error("raft shutdown did not finish in 10s; closing the stores anyway")
	}
	n.reads.stop()
	n.closeStores()
	if err != nil {
		return fmt.Errorf("raftkv: shutdown: %w", err)
	}
	return nil
}

// FSM returns the node's state machine.
func (n *Node) FSM() *kv.FSM { return n.fsm }

// ID returns this server's ID.
func (n *Node) ID() string { return n.cfg.ID }

// RaftAddr returns the address other servers reach this one at.
func (n *Node) RaftAddr() string { return string(n.trans.LocalAddr()) }

// IsLeader reports whether this node currently believes it is the leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// State returns "leader", "follower", "candidate" or "shutdown".
func (n *Node) State() string {
	switch n.raft.State() {
	case raft.Leader:
		return "leader"
	case raft.Follower:
		return "follower"
	case raft.Candidate:
		return "candidate"
	default:
		return "shutdown"
	}
}

// Leader returns the current leader's ID and raft address, empty if none is
// known.
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

// Snapshot takes a snapshot now.
func (n *Node) Snapshot() error {
	if err := n.raft.Snapshot().Error(); err != nil {
		if errors.Is(err, raft.ErrNothingNewToSnapshot) {
			return nil
		}
		return fmt.Errorf("raftkv: snapshot: %w", err)
	}
	return nil
}

// maintain runs leader housekeeping: it proposes OpPruneRequests so that
// request records older than DedupRetain entries are dropped on every
// replica at the same point of the log.
func (n *Node) maintain(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var lastCutoff uint64
	for {
		select {
		case <-t.C:
		case <-n.reads.done:
			return
		}
		applied := n.fsm.AppliedIndex()
		if !n.IsLeader() || applied <= kv.DedupRetain {
			continue
		}
		cutoff := applied - kv.DedupRetain
		if cutoff < lastCutoff+kv.DedupRetain/4 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.ApplyTimeout)
		if _, err := n.Apply(ctx, &kv.Command{Op: kv.OpPruneRequests, Int: int64(cutoff)}); err == nil {
			lastCutoff = cutoff
		}
		cancel()
	}
}
