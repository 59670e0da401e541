package raftkv

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/hashicorp/raft"

	"github.com/riotkv/riot/kv"
)

// Proposal is a command handed to raft whose outcome is pending.
type Proposal struct {
	f   raft.ApplyFuture
	err error
	// i is the command's place in a batch entry; -1 when the entry holds
	// only this command.
	i int
	// ready, when not nil, is closed once the proposer has set out (or
	// err) and i. out is the outcome of an entry other goroutines' commands
	// share: a raft future must have one waiter.
	ready chan struct{}
	out   *outcome
}

// outcome is a raft future's result, read once for all who wait on it.
type outcome struct {
	done chan struct{}
	err  error
	resp any
}

// await reads f's outcome into o and closes o.done.
func (o *outcome) await(f raft.ApplyFuture) {
	o.err = f.Error()
	if o.err == nil {
		o.resp = f.Response()
	}
	close(o.done)
}

// maxBatchEntry bounds the size of a batch entry: ProposeBatch starts
// another entry once one holds this many bytes.
const maxBatchEntry = 1 << 20

// Propose hands c to raft without waiting for it to commit, so that many
// proposals (from one pipeline or many connections) share raft batches.
// Wait on the returned Proposal for the outcome.
func (n *Node) Propose(c *kv.Command) *Proposal {
	if err := n.fsm.Err(); err != nil {
		return &Proposal{err: err}
	}
	if err := n.admit(c, time.Now()); err != nil {
		return &Proposal{err: err}
	}
	return &Proposal{f: n.raft.Apply(c.Encode(), n.cfg.ApplyTimeout), i: -1}
}

// admit readies c for the log: it must pass Validate (else nothing is
// proposed), and its Now is lowered to at most MaxClockAhead past now, this
// node's clock, so that no proposer's clock moves the state machine's time
// far ahead (see MaxClockAhead; only the leader's proposals commit).
func (n *Node) admit(c *kv.Command, now time.Time) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if limit := now.UnixMilli() + kv.MaxClockAhead; c.Now > limit {
		c.Now = limit
		n.metrics.clampedNow.Add(1)
	}
	return nil
}

// ProposeBatch is Propose for several commands, which it hands to raft as
// one batch entry (more when they add up to more than maxBatchEntry
// bytes), applied in order. It returns a Proposal per command. With a
// ProposeWindow the commands go through the group commit (proposer.go),
// where they may share the entry with other calls' commands, still in the
// order of the calls.
func (n *Node) ProposeBatch(cs []*kv.Command) []*Proposal {
	ps := make([]*Proposal, len(cs))
	if err := n.fsm.Err(); err != nil {
		for i := range ps {
			ps[i] = &Proposal{err: err}
		}
		return ps
	}
	now := time.Now()
	valid, refused := cs, false
	for i, c := range cs {
		if err := n.admit(c, now); err != nil {
			ps[i], refused = &Proposal{err: err}, true
		}
	}
	if refused { // propose the others, in order
		valid = nil
		for i, c := range cs {
			if ps[i] == nil {
				valid = append(valid, c)
			}
		}
		if len(valid) == 0 {
			return ps
		}
	}
	var got []*Proposal
	if n.proposer != nil {
		got = n.proposer.propose(valid)
	} else {
		got = n.proposeRuns(valid)
	}
	if len(valid) == len(cs) {
		return got
	}
	for i := range ps {
		if ps[i] == nil {
			ps[i], got = got[0], got[1:]
		}
	}
	return ps
}

// proposeRuns proposes admitted commands without the group commit: one
// batch entry per run of maxBatchEntry bytes. The Proposals of one entry
// share its outcome (a raft future has one waiter).
func (n *Node) proposeRuns(cs []*kv.Command) []*Proposal {
	ps := make([]*Proposal, 0, len(cs))
	for run, size := range Runs(cs, maxBatchEntry) {
		if len(run) == 1 {
			ps = append(ps, &Proposal{f: n.raft.Apply(run[0].Encode(), n.cfg.ApplyTimeout), i: -1})
			continue
		}
		f := n.raft.Apply(kv.AppendEncodeBatch(make([]byte, 0, size+16), run), n.cfg.ApplyTimeout)
		o := &outcome{done: make(chan struct{})}
		go o.await(f)
		for i := range run {
			ps = append(ps, &Proposal{out: o, i: i})
		}
	}
	return ps
}

// Runs yields cs in order as consecutive runs of at most maxBytes encoded
// bytes (a bigger command makes a run of its own), each with its encoded
// size (at least).
func Runs(cs []*kv.Command, maxBytes int) iter.Seq2[[]*kv.Command, int] {
	return runs(cs, (*kv.Command).EncodedSize, maxBytes)
}

// runs yields xs in order as consecutive runs whose sizes add up to at
// most maxBytes (a bigger element makes a run of its own), each with that
// sum.
func runs[T any](xs []T, size func(T) int, maxBytes int) iter.Seq2[[]T, int] {
	return func(yield func([]T, int) bool) {
		for start := 0; start < len(xs); {
			end, sum := start+1, size(xs[start])
			for end < len(xs) {
				next := size(xs[end])
				if sum+next > maxBytes {
					break
				}
				sum += next
				end++
			}
			if !yield(xs[start:end], sum) {
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
func (p *Proposal) Wait() (kv.Result, error) {
	if p.ready != nil {
		<-p.ready
	}
	if p.err != nil {
		return kv.Result{}, p.err
	}
	var (
		err  error
		resp any
	)
	if p.out != nil {
		<-p.out.done
		err, resp = p.out.err, p.out.resp
	} else if err = p.f.Error(); err == nil {
		resp = p.f.Response()
	}
	if err != nil {
		return kv.Result{}, raftError(err)
	}
	var r kv.Result
	switch resp := resp.(type) {
	case kv.Result: // a single command's, or an error for a whole batch
		r = resp
	case kv.BatchResult:
		if p.i < 0 || p.i >= len(resp) {
			return kv.Result{}, fmt.Errorf("raftkv: batch response of %d results has none at %d", len(resp), p.i)
		}
		r = resp[p.i]
	default:
		return kv.Result{}, fmt.Errorf("raftkv: unexpected apply response %T", resp)
	}
	if errors.Is(r.Err, kv.ErrFailed) {
		// The entry is in the log (the other replicas apply it), but this
		// node's state machine stopped before or while applying it.
		return kv.Result{}, fmt.Errorf("%w: %w", ErrUnknownOutcome, r.Err)
	}
	return r, nil
}

// Apply proposes c and waits for its outcome, until ctx ends (then the
// outcome is unknown).
func (n *Node) Apply(ctx context.Context, c *kv.Command) (kv.Result, error) {
	if err := ctx.Err(); err != nil {
		return kv.Result{}, err
	}
	timeout := n.cfg.ApplyTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	if err := n.fsm.Err(); err != nil {
		return kv.Result{}, err
	}
	if err := n.admit(c, time.Now()); err != nil {
		return kv.Result{}, err
	}
	p := &Proposal{f: n.raft.Apply(c.Encode(), timeout), i: -1}
	type outcome struct {
		res kv.Result
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
		return kv.Result{}, fmt.Errorf("%w: outcome unknown: %w", ErrLeadershipLost, ctx.Err())
	}
}

// raftError maps hashicorp/raft's errors to ours.
func raftError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return ErrNotLeader
	case errors.Is(err, raft.ErrLeadershipTransferInProgress):
		// While it hands leadership over, raft refuses every new entry
		// at the door, before appending it: nothing was applied.
		return fmt.Errorf("%w (%v)", ErrNotLeader, err)
	case errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("%w (%v)", ErrLeadershipLost, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrShutdown
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return ErrTimeout
	}
	return fmt.Errorf("raftkv: %w", err)
}
