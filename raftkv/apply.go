package raftkv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Proposal is a command handed to raft whose outcome is pending.
type Proposal struct {
	f   raft.ApplyFuture
	err error
}

// Propose hands c to raft without waiting for it to commit, so that many
// proposals (from one pipeline or many connections) share raft batches.
// Wait on the returned Proposal for the outcome.
func (n *Node) Propose(c *Command) *Proposal {
	if err := n.fsm.Err(); err != nil {
		return &Proposal{err: err}
	}
	return &Proposal{f: n.raft.Apply(c.Encode(), n.cfg.ApplyTimeout)}
}

// Wait blocks until the proposal is applied or has failed. An error means
// the command was not applied (ErrNotLeader, ErrTimeout) or that its outcome
// is unknown (ErrLeadershipLost, ErrShutdown); a deterministic operation
// error (such as ErrNotInteger) comes back in Result.Err instead.
func (p *Proposal) Wait() (Result, error) {
	if p.err != nil {
		return Result{}, p.err
	}
	if err := p.f.Error(); err != nil {
		return Result{}, raftError(err)
	}
	r, ok := p.f.Response().(Result)
	if !ok {
		return Result{}, fmt.Errorf("raftkv: unexpected apply response %T", p.f.Response())
	}
	if errors.Is(r.Err, ErrFailed) {
		return Result{}, r.Err
	}
	return r, nil
}

// Apply proposes c and waits for its outcome, until ctx ends (then the
// outcome is unknown).
func (n *Node) Apply(ctx context.Context, c *Command) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	timeout := n.cfg.ApplyTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	if err := n.fsm.Err(); err != nil {
		return Result{}, err
	}
	p := &Proposal{f: n.raft.Apply(c.Encode(), timeout)}
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := p.Wait()
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		// raft may never answer a future enqueued as it shut down.
		return Result{}, fmt.Errorf("%w: outcome unknown: %w", ErrLeadershipLost, ctx.Err())
	}
}

// raftError maps hashicorp/raft's errors to ours.
func raftError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return ErrNotLeader
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w (%v)", ErrLeadershipLost, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrShutdown
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return ErrTimeout
	}
	return fmt.Errorf("raftkv: %w", err)
}
