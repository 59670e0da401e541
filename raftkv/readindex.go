package raftkv

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/riotkv/riot/kv"
)

// ReadIndex returns an index such that a read served from the local state
// machine once it has applied the index is linearizable. It must be called
// on the leader (ErrNotLeader otherwise).
//
// How (the read index of the Raft thesis, section 6.4): concurrent reads
// share one confirmation round that starts after they arrived. The round
// takes the commit index, once an entry of the leader's own term has
// committed (so the commit index covers every entry committed by earlier
// leaders), and then needs a majority of voters, this node included, to
// answer, after the round began, that their term is still this leader's and
// that they follow it. No new leader can have committed anything before
// that, so every write acknowledged before the reads arrived is at or below
// the index. The round costs one message to each voter and no log write.
//
// Not raft.VerifyLeader: hashicorp/raft counts any heartbeat response that
// arrives after the call, including one to a request sent before a pause,
// so a leader resumed after SIGSTOP could "confirm" leadership it had lost
// and serve a stale read (systemtest TestClusterPausedLeaderNoStaleRead,
// jepsen CI). The Confirmer's answers are to requests sent by the round.
//
// Without a Confirmer (SetConfirmer), a cluster of several voters falls
// back to committing a no-op entry per round.
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

// A Confirmer asks voter id whether it still follows this node in term. It
// returns true only if the voter answered a request sent after the call
// began, saying that its current term is term and its leader is this node
// (see Node.Following).
type Confirmer func(ctx context.Context, id string, term uint64) bool

// SetConfirmer installs how read-index rounds reach the other voters. Call
// it before serving reads.
func (n *Node) SetConfirmer(c Confirmer) { n.reads.confirm.Store(&c) }

// Following returns this node's current term and the leader it follows in
// that term ("" when it knows none): the answer a Confirmer wants. The term
// is read first, so a leader from an older term is never paired with a
// newer term.
func (n *Node) Following() (term uint64, leaderID string) {
	term = n.raft.CurrentTerm()
	_, id := n.raft.LeaderWithID()
	return term, string(id)
}

// confirmRound runs one read-index round (see ReadIndex).
func (n *Node) confirmRound(ctx context.Context) (uint64, error) {
	term, err := n.termCommitted(ctx)
	if err != nil {
		return 0, err
	}
	commit := n.raft.CommitIndex()
	servers, err := n.Servers()
	if err != nil {
		return 0, err
	}
	var others []string
	self := false
	for _, s := range servers {
		switch {
		case !s.Voter:
		case s.ID == n.cfg.ID:
			self = true
		default:
			others = append(others, s.ID)
		}
	}
	if !self {
		return 0, ErrNotLeader
	}
	need := (len(others) + 1) / 2 // a majority of the voters, less this node
	if need > 0 {
		cp := n.reads.confirm.Load()
		if cp == nil {
			// No way to ask the others: commit a no-op instead.
			if _, err := n.Apply(ctx, &kv.Command{Op: kv.OpNoop}); err != nil {
				return 0, fmt.Errorf("%w: %w", ErrNotConfirmed, err)
			}
			return n.fsm.AppliedIndex(), nil
		}
		if err := quorum(ctx, *cp, others, term, need); err != nil {
			return 0, err
		}
	}
	if n.raft.State() != raft.Leader || n.raft.CurrentTerm() != term {
		return 0, fmt.Errorf("%w: leadership moved during the round", ErrNotConfirmed)
	}
	return commit, nil
}

// quorum asks every voter in ids at once and returns when need of them
// confirmed term, or with an error once that can no longer happen.
func quorum(ctx context.Context, confirm Confirmer, ids []string, term uint64, need int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the asks still in flight
	acks := make(chan bool, len(ids))
	for _, id := range ids {
		go func() { acks <- confirm(ctx, id, term) }()
	}
	got, failed := 0, 0
	for got < need {
		select {
		case ok := <-acks:
			if ok {
				got++
			} else if failed++; len(ids)-failed < need {
				return fmt.Errorf("%w: only %d of the %d other voters needed confirmed term %d", ErrNotConfirmed, got, need, term)
			}
		case <-ctx.Done():
			return fmt.Errorf("%w: confirming term %d: %w", ErrNotConfirmed, term, ctx.Err())
		}
	}
	return nil
}

// termCommitted returns the current term once an entry this node proposed
// as leader in that term has been applied (once per term: a no-op).
func (n *Node) termCommitted(ctx context.Context) (uint64, error) {
	term := n.raft.CurrentTerm()
	if n.raft.State() != raft.Leader {
		return 0, ErrNotLeader
	}
	if n.reads.readyTerm.Load() == term {
		return term, nil
	}
	if _, err := n.Apply(ctx, &kv.Command{Op: kv.OpNoop}); err != nil {
		return 0, fmt.Errorf("%w: the term's read barrier: %w", ErrNotConfirmed, err)
	}
	// Still the leader in the same term: the no-op is of this term.
	if n.raft.State() != raft.Leader || n.raft.CurrentTerm() != term {
		return 0, fmt.Errorf("%w: leadership moved while the term's read barrier committed", ErrNotConfirmed)
	}
	n.reads.readyTerm.Store(term)
	return term, nil
}

// readIndexer batches concurrent read-index requests into one confirmation
// round each.
type readIndexer struct {
	n         *Node
	confirm   atomic.Pointer[Confirmer]
	readyTerm atomic.Uint64 // the last term whose first no-op was applied

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
		// Every request in the batch arrived before the round starts.
		ctx, cancel := context.WithTimeout(context.Background(), r.n.cfg.ApplyTimeout)
		idx, err := r.n.confirmRound(ctx)
		cancel()
		for _, ch := range batch {
			ch <- readResult{index: idx, err: err}
		}
	}
}

func (r *readIndexer) stop() { r.stopOnce.Do(func() { close(r.done) }) }
