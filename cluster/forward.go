package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/respwire"
)

// Forwarding: a follower sends writes to the leader's client port as
// internal RESP commands over a few pipelined connections.
//
//	RIOT.APPLY <encoded kv.Command without Args> <arg>...  -> bulk: encoded kv.Result
//	RIOT.READINDEX                       -> integer: a confirmed read index
//
// A forwarded write carries a request ID (this router's client ID and a
// sequence number), and the state machine applies each ID at most once. So
// when the outcome is unknown (the connection broke, leadership moved after
// the leader proposed it), the write is sent again with the same ID, to
// whichever node leads by then, until the request's context ends. The
// client sees an error only when no leader could confirm the outcome in
// time.

// Internal command names. resp serves them.
const (
	CmdApply     = "RIOT.APPLY"
	CmdReadIndex = "RIOT.READINDEX"
	// CmdConfirm asks a voter for its term and leader during a leader's
	// read-index round.
	CmdConfirm = "RIOT.CONFIRM"
)

// forward sends c to the leader with a fresh request ID. c's arguments
// must be its own (see ownArgs): a retry on this node, once it leads,
// encodes it again.
func (r *Router) forward(ctx context.Context, c *kv.Command) Pending {
	if r.group != 0 {
		return failed{errDataGroupMoved}
	}
	fc := *c
	fc.ClientID = r.clientID
	fc.Seq = r.seq.Add(1)
	r.metrics.forwarded[fwdWrite].Add(1)
	f := &forwarded{r: r, ctx: ctx, c: &fc, req: applyRequest(&fc)}
	f.send() // start now so pipelined writes travel together
	return f
}

// errDataGroupMoved answers a write or linearizable read that reached a
// data group's replica after it stopped leading (sharded mode): a data
// group never forwards (the internal commands address the metadata
// group), the client is redirected instead: TRYAGAIN now, MOVED on its
// retry.
var errDataGroupMoved = fmt.Errorf("%w: this node no longer leads the key's group", ErrNotLeader)

// ownArgs returns a copy of c whose arguments are its own (one new
// buffer). A session's commands alias the connection's read buffer, which
// the session reuses while earlier writes still wait for their outcome; a
// write encoded again later (a retry, or a forward after the leader it was
// proposed on turned out to have stepped down) must not read that buffer.
func ownArgs(c *kv.Command) *kv.Command {
	n := 0
	for _, a := range c.Args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	cc := *c
	cc.Args = make([][]byte, len(c.Args))
	for i, a := range c.Args {
		start := len(buf)
		buf = append(buf, a...)
		cc.Args[i] = buf[start:len(buf):len(buf)]
	}
	return &cc
}

// maxForwardedTxn bounds the encoded bytes of the writes that one
// forwarded transaction of pipelined writes carries.
const maxForwardedTxn = 256 << 10

// forwardBatch forwards writes pipelined together. Each run of them travels
// as one transaction (OpMulti without watches) with one request ID, so that
// the state machine stores one request record for the run instead of one
// per write: on every node, each such record costs as much as the write
// itself. A transaction applies its writes in order, at one time and
// atomically, which is one of the orders the client allowed by pipelining
// them. A run of one write is forwarded as it is.
func (r *Router) forwardBatch(ctx context.Context, cs []*kv.Command, out []Pending) []Pending {
	if r.group != 0 {
		for range cs {
			out = append(out, failed{errDataGroupMoved})
		}
		return out
	}
	for run := range raftkv.Runs(cs, maxForwardedTxn) {
		if len(run) == 1 || slices.ContainsFunc(run, notInTxn) {
			for _, c := range run {
				out = append(out, r.forward(ctx, ownArgs(c)))
			}
			continue
		}
		txn := kv.NewMulti(nil, run)
		for _, c := range run {
			txn.Now = max(txn.Now, c.Now)
		}
		f := &forwardedTxn{p: r.forward(ctx, txn), n: len(run)}
		r.metrics.forwarded[fwdWrite].Add(uint64(len(run) - 1)) // forward counted one
		for i := range run {
			out = append(out, txnPart{f, i})
		}
	}
	return out
}

// notInTxn reports whether c cannot be a command of a forwarded transaction.
func notInTxn(c *kv.Command) bool { return c.Op == kv.OpMulti || c.ClientID != 0 }

// forwardedTxn is a forwarded transaction of pipelined writes.
type forwardedTxn struct {
	p    Pending
	n    int // writes in it
	once sync.Once
	res  kv.Result
	err  error
}

// txnPart is the i-th write of a forwarded transaction.
type txnPart struct {
	f *forwardedTxn
	i int
}

func (t txnPart) Wait() (kv.Result, error) {
	f := t.f
	f.once.Do(func() {
		f.res, f.err = f.p.Wait()
		if f.err == nil && f.res.Err == nil && len(f.res.Array) != f.n {
			f.err = fmt.Errorf("cluster: forwarded transaction of %d writes answered %d results", f.n, len(f.res.Array))
		}
	})
	switch {
	case f.err != nil:
		return kv.Result{}, f.err
	case f.res.Err != nil: // the whole transaction was refused
		return kv.Result{Err: f.res.Err}, nil
	}
	return f.res.Array[t.i], nil
}

// applyRequest encodes c as RIOT.APPLY <c without its arguments> <arg>...:
// each argument travels as its own bulk, as the client sent it, so a value
// the client could send (up to the protocol's bulk limit) can be forwarded
// too. The leader also takes the older form, RIOT.APPLY <c encoded whole>.
func applyRequest(c *kv.Command) []byte {
	head := *c
	head.Args = nil
	args := make([][]byte, 0, 2+len(c.Args))
	args = append(args, []byte(CmdApply), head.Encode())
	return respwire.AppendRequest(nil, append(args, c.Args...)...)
}

// forwarded is a write sent (or being sent) to the leader.
type forwarded struct {
	r   *Router
	ctx context.Context
	c   *kv.Command
	req []byte

	call  *peerCall // in flight to a remote leader
	local *raftkv.Proposal
	err   error // a reason to retry, or the final error

	// maybeApplied: an earlier attempt ended without a definite answer (a
	// connection broke after sending, leadership was lost after proposing),
	// so the write may have been applied even if a later attempt finds
	// nothing was.
	maybeApplied bool
}

// send dispatches the request to the current leader: locally when this node
// leads, else on a pooled connection. It does not wait for the outcome.
func (f *forwarded) send() {
	f.call, f.local, f.err = nil, nil, nil
	addr, self, err := f.r.leaderAddr(f.ctx)
	switch {
	case err != nil:
		f.err = err
	case self:
		f.local = f.r.node.Propose(f.c)
	default:
		conn, err := f.r.peers.get(f.ctx, addr)
		if err != nil {
			f.err = retryable{err: err}
			return
		}
		f.call = conn.send(f.req)
	}
}

func (f *forwarded) Wait() (kv.Result, error) {
	backoff := 5 * time.Millisecond
	for {
		res, err := f.outcome()
		var re retryable
		if !errors.As(err, &re) {
			if err != nil {
				f.r.metrics.failed[fwdWrite].Add(1)
			}
			return res, f.final(err)
		}
		f.maybeApplied = f.maybeApplied || re.ambiguous
		if f.ctx.Err() != nil {
			f.r.metrics.failed[fwdWrite].Add(1)
			return kv.Result{}, fmt.Errorf("%w (last error: %v)", f.ctx.Err(), re.err)
		}
		f.r.logger.Debug("retrying forwarded write", "seq", f.c.Seq, "err", re.err)
		if err := f.r.pause(f.ctx, backoff); err != nil {
			f.r.metrics.failed[fwdWrite].Add(1)
			return kv.Result{}, fmt.Errorf("%w (last error: %v)", err, re.err)
		}
		backoff = min(2*backoff, 200*time.Millisecond)
		f.r.metrics.retries[fwdWrite].Add(1)
		f.send()
	}
}

// final turns an error that says "nothing was applied" into an uncertain
// one when an earlier attempt may have been applied: the client must not
// be told a write failed that may have committed (Jepsen: a forward to a
// leader that stepped down broke, the retry found no leader, and the
// client got CLUSTERDOWN for an INCR that had committed).
func (f *forwarded) final(err error) error {
	if err == nil || !f.maybeApplied || !notApplied(err) {
		return err
	}
	return fmt.Errorf("%w: an earlier attempt may have been applied (then: %v)", raftkv.ErrLeadershipLost, err)
}

// notApplied reports whether err says the attempt it ended was not applied.
func notApplied(err error) bool {
	var re *RemoteError
	switch {
	case errors.Is(err, ErrNoLeader), errors.Is(err, ErrNotLeader), errors.Is(err, ErrClosed),
		errors.Is(err, raftkv.ErrNotLeader), errors.Is(err, raftkv.ErrTimeout):
		return true
	case errors.As(err, &re):
		return retryableReply(re.Msg, false)
	}
	return false
}

// outcome waits for the current attempt. A retryable error means the write
// may be sent again with the same ID.
func (f *forwarded) outcome() (kv.Result, error) {
	switch {
	case f.err != nil:
		return kv.Result{}, f.err
	case f.local != nil:
		res, err := f.local.Wait()
		switch {
		case errors.Is(err, raftkv.ErrNotLeader):
			return res, retryable{err: err}
		case errors.Is(err, raftkv.ErrLeadershipLost):
			return res, retryable{err: err, ambiguous: true}
		}
		return res, err
	}
	select {
	case <-f.call.done:
	case <-f.ctx.Done():
		return kv.Result{}, f.ctx.Err()
	}
	if f.call.err != nil {
		return kv.Result{}, retryable{err: f.call.err, ambiguous: !errors.Is(f.call.err, errNoSecretYet)}
	}
	if msg := respwire.ReplyError(f.call.reply); msg != "" {
		if retryableReply(msg, true) {
			return kv.Result{}, retryable{err: &RemoteError{msg}, ambiguous: !retryableReply(msg, false)}
		}
		return kv.Result{}, &RemoteError{msg}
	}
	payload, err := respwire.ReplyBulk(f.call.reply)
	if err != nil {
		return kv.Result{}, err
	}
	return kv.DecodeResult(payload)
}

// retryable marks an error after which the request may be sent again;
// ambiguous when the attempt may have been applied.
type retryable struct {
	err       error
	ambiguous bool
}

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// retryableReply reports whether an error reply from the leader allows
// sending the request again: always when nothing was applied, and for
// "outcome unknown" replies when the request carries an ID.
func retryableReply(msg string, hasID bool) bool {
	code, _, _ := strings.Cut(msg, " ")
	switch code {
	case "TRYAGAIN", "CLUSTERDOWN", "LOADING":
		return true
	case "UNCERTAIN":
		return hasID
	}
	return false
}

// pause waits d, or less if the leader changes.
func (r *Router) pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.node.LeaderChanged():
	case <-ctx.Done():
		return ctx.Err()
	case <-r.stop:
		return ErrClosed
	}
	return nil
}

// leaderAddr returns the leader's client address, or self when this node
// leads. It waits up to LeaderWait for an election and for the leader's
// address to reach the local address book.
func (r *Router) leaderAddr(ctx context.Context) (addr string, self bool, err error) {
	deadline := time.Now().Add(r.cfg.LeaderWait)
	for {
		changed := r.node.LeaderChanged()
		if r.node.IsLeader() {
			return "", true, nil
		}
		if id, _ := r.node.Leader(); id != "" {
			if m, ok := r.member(id); ok && m.ClientAddr != "" {
				return m.ClientAddr, false, nil
			}
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			if id, _ := r.node.Leader(); id != "" {
				return "", false, fmt.Errorf("%w: the address of leader %s is not known yet", ErrNoLeader, id)
			}
			return "", false, ErrNoLeader
		}
		// The address book fills in through the log, so poll it briefly
		// as well as waiting for a leader change.
		t := time.NewTimer(min(wait, 20*time.Millisecond))
		select {
		case <-changed:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return "", false, ctx.Err()
		case <-r.stop:
			t.Stop()
			return "", false, ErrClosed
		}
		t.Stop()
	}
}

// member returns id's address book entry. It remembers the last one read
// for as long as the address book's version stays the same: every
// forwarded write asks for the leader's.
func (r *Router) member(id string) (kv.Member, bool) {
	if r.book != r {
		return r.book.member(id)
	}
	version := r.node.FSM().MembersVersion()
	if c := r.lastMember.Load(); c != nil && c.m.ID == id && c.version == version {
		return c.m, true
	}
	v, release := r.node.FSM().View()
	defer release()
	m, ok, err := v.Member(id)
	if err != nil {
		r.logger.Warn("read address book", "id", id, "err", err)
	}
	if ok {
		r.lastMember.Store(&memberAt{m: m, version: version})
	}
	return m, ok
}

// memberAt is an address book entry read at an address book version.
type memberAt struct {
	m       kv.Member
	version uint64
}

// call sends args to the leader and returns its raw reply, retrying while
// the error says nothing was applied. It is for requests the leader
// executes itself (membership changes, read index).
func (r *Router) call(ctx context.Context, args ...[]byte) ([]byte, error) {
	req := respwire.AppendRequest(nil, args...)
	backoff := 5 * time.Millisecond
	for {
		addr, self, err := r.leaderAddr(ctx)
		if err != nil {
			return nil, err
		}
		if self {
			return nil, errBecameLeader
		}
		raw, lastErr := r.peers.do(ctx, addr, req)
		if lastErr == nil {
			msg := respwire.ReplyError(raw)
			if msg == "" {
				return raw, nil
			}
			if !retryableReply(msg, false) {
				return nil, &RemoteError{msg}
			}
			lastErr = &RemoteError{msg}
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := r.pause(ctx, backoff); err != nil {
			return nil, fmt.Errorf("%w (last error: %v)", err, lastErr)
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// errBecameLeader: while trying to reach the leader, this node became it;
// the caller runs the request locally instead.
var errBecameLeader = errors.New("cluster: this node became the leader")

// readIndex returns a read index confirmed by the leader. On a follower,
// concurrent reads share one RIOT.READINDEX round trip (see remoteIndex).
func (r *Router) readIndex(ctx context.Context) (uint64, error) {
	for {
		if r.node.IsLeader() {
			idx, err := r.node.ReadIndex(ctx)
			lost := errors.Is(err, raftkv.ErrNotLeader) || (errors.Is(err, raftkv.ErrNotConfirmed) && !r.node.IsLeader())
			if !lost {
				return idx, err
			}
			// No longer the leader: ask the new one.
		}
		idx, err := r.remoteIndex.do(ctx)
		if errors.Is(err, errBecameLeader) {
			continue
		}
		return idx, err
	}
}

// confirm asks voter id whether it still follows this node in term (a
// raftkv.Confirmer). The peer pool matches each reply to its own request,
// so only an answer to this request, sent after the call began, counts.
func (r *Router) confirm(ctx context.Context, id string, term uint64) bool {
	addr := r.clientAddrOf(id)
	if addr == "" {
		return false
	}
	req := respwire.AppendRequest(nil, []byte(CmdConfirm))
	if r.group != 0 {
		req = respwire.AppendRequest(nil, []byte(CmdConfirm), []byte(strconv.FormatUint(uint64(r.group), 10)))
	}
	raw, err := r.peers.do(ctx, addr, req)
	if err != nil {
		return false
	}
	b, err := respwire.ReplyBulk(raw)
	if err != nil {
		return false
	}
	t, leader, ok := strings.Cut(string(b), " ")
	return ok && t == strconv.FormatUint(term, 10) && leader == r.node.ID()
}

// askReadIndex asks the leader for a read index.
func (r *Router) askReadIndex(ctx context.Context) (uint64, error) {
	if r.group != 0 {
		return 0, errDataGroupMoved
	}
	r.metrics.forwarded[fwdReadIndex].Add(1)
	raw, err := r.call(ctx, []byte(CmdReadIndex))
	if err != nil {
		if !errors.Is(err, errBecameLeader) {
			r.metrics.failed[fwdReadIndex].Add(1)
		}
		return 0, err
	}
	n, err := respwire.ReplyInt(raw)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("cluster: bad read index reply %q: %v", raw, err)
	}
	return uint64(n), nil
}

// coalescer shares one call of fn among concurrent callers: a caller that
// arrives while a call is in flight waits for the next one, which starts
// after it arrived (so the index it gets is fresh enough for it).
type coalescer struct {
	fn      func(ctx context.Context) (uint64, error)
	timeout time.Duration

	mu      sync.Mutex
	waiting []chan indexResult
	running bool
}

type indexResult struct {
	idx uint64
	err error
}

func (c *coalescer) do(ctx context.Context) (uint64, error) {
	ch := make(chan indexResult, 1)
	c.mu.Lock()
	c.waiting = append(c.waiting, ch)
	if !c.running {
		c.running = true
		go c.loop()
	}
	c.mu.Unlock()
	select {
	case res := <-ch:
		return res.idx, res.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (c *coalescer) loop() {
	for {
		c.mu.Lock()
		batch := c.waiting
		c.waiting = nil
		if len(batch) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		idx, err := c.fn(ctx)
		cancel()
		for _, ch := range batch {
			ch <- indexResult{idx, err}
		}
	}
}
