package raftkv

import (
	"context"
	"sync"

	"github.com/hashicorp/raft"
)

// ReadIndex returns an index such that a read served from the local state
// machine once it has applied the index is linearizable. It must be called
// on the leader (ErrNotLeader otherwise).
//
// How: concurrent reads share one no-op entry proposed after they arrived;
// when it has committed and been applied, the local state machine reflects
// every write acknowledged before the reads began (see readIndexer.loop for
// why not raft.VerifyLeader).
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	if n.raft.State() != raft.Leader {
		return 0, ErrNotLeader
	}
	return n.reads.readIndex(ctx)
}

// WaitApplied blocks until the local state machine has applied idx.
func (n *Node) WaitApplied(ctx context.Context, idx uint64) error {
	return n.fsm.WaitApplied(ctx, idx)
}

// readIndexer batches concurrent read-index requests into one no-op entry
// each.
type readIndexer struct {
	n *Node

	mu       sync.Mutex
	waiting  []chan readResult
	kick     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

type readResult struct {
	index uint64
	err   error
}

func newReadIndexer(n *Node) *readIndexer {
	r := &readIndexer{n: n, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go r.loop()
	return r
}

func (r *readIndexer) readIndex(ctx context.Context) (uint64, error) {
	ch := make(chan readResult, 1)
	r.mu.Lock()
	r.waiting = append(r.waiting, ch)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
	select {
	case res := <-ch:
		return res.index, res.err
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-r.done:
		return 0, ErrShutdown
	}
}

func (r *readIndexer) loop() {
	for {
		select {
		case <-r.kick:
		case <-r.done:
			return
		}
		r.mu.Lock()
		batch := r.waiting
		r.waiting = nil
		r.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		// Every request in the batch arrived before this no-op is
		// proposed. Once it commits, this node led in the no-op's term and
		// its log holds every entry committed before; once applied, local
		// state reflects all of them.
		//
		// Not raft.VerifyLeader: hashicorp/raft counts any heartbeat
		// response that arrives after the call, including one to a request
		// sent before a pause, so a leader resumed after SIGSTOP could
		// "confirm" leadership it had lost and serve a stale read
		// (systemtest TestClusterPausedLeaderNoStaleRead, jepsen CI).
		ctx, cancel := context.WithTimeout(context.Background(), r.n.cfg.ApplyTimeout)
		_, err := r.n.Apply(ctx, &Command{Op: OpNoop})
		cancel()
		idx := r.n.fsm.AppliedIndex()
		for _, ch := range batch {
			ch <- readResult{index: idx, err: err}
		}
	}
}

func (r *readIndexer) stop() { r.stopOnce.Do(func() { close(r.done) }) }
