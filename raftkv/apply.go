package raftkv

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/hashicorp/raft"
)

// Proposal is a command handed to raft whose outcome is pending.
type Proposal struct {
	f   raft.ApplyFuture
	err error
	// i is the command's place in a batch entry; -1 when the entry holds
	// only this command.
	i int
}

// maxBatchEntry bounds the size of a batch entry: ProposeBatch starts
// another entry once one holds this many bytes.
const maxBatchEntry = 1 << 20

// Propose hands c to raft without waiting for it to commit, so that many
// proposals (from one pipeline or many connections) share raft batches.
// Wait on the returned Proposal for the outcome.
func (n *Node) Propose(c *Command) *Proposal {
	if err := n.fsm.Err(); err != nil {
		return &Proposal{err: err}
	}
	return &Proposal{f: n.raft.Apply(c.Encode(), n.cfg.ApplyTimeout), i: -1}
}

// ProposeBatch is Propose for several commands, which it hands to raft as
// one batch entry (more when they add up to more than maxBatchEntry
// bytes), applied in order. It returns a Proposal per command.
func (n *Node) ProposeBatch(cs []*Command) []*Proposal {
	ps := make([]*Proposal, len(cs))
	if err := n.fsm.Err(); err != nil {
		for i := range ps {
			ps[i] = &Proposal{err: err}
		}
		return ps
	}
	start := 0
	for run, size := range Runs(cs, maxBatchEntry) {
		if len(run) == 1 {
			ps[start] = n.Propose(run[0]) // an entry of its own, as before batches
		} else {
			f := n.raft.Apply(AppendEncodeBatch(make([]byte, 0, size+16), run), n.cfg.ApplyTimeout)
			for i := range run {
				ps[start+i] = &Proposal{f: f, i: i}
			}
		}
		start += len(run)
	}
	return ps
}

// Runs yields cs in order as consecutive runs of at most maxBytes encoded
// bytes (a bigger command makes a run of its own), each with its encoded
// size (at least).
func Runs(cs []*Command, maxBytes int) iter.Seq2[[]*Command, int] {
	return func(yield func([]*Command, int) bool) {
		for start := 0; start < len(cs); {
			end, size := start+1, cs[start].encodedSize()
			for end < len(cs) {
				next := cs[end].encodedSize()
				if size+next > maxBytes {
					break
				}
				size += next
				end++
			}
			if !yield(cs[start:end], size) {
				return
			}
			start = end
		}
	}
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
	var r Result
	switch resp := p.f.Response().(type) {
	case Result: // a single command's, or an error for a whole batch
		r = resp
	case batchResult:
		if p.i < 0 || p.i >= len(resp) {
			return Result{}, fmt.Errorf("raftkv: batch response of %d results has none at %d", len(resp), p.i)
		}
		r = resp[p.i]
	default:
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
	p := &Proposal{f: n.raft.Apply(c.Encode(), timeout), i: -1}
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
