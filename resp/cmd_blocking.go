package resp

import (
	"context"
	"errors"
	"math"
	"math/big"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// Blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN
// BZPOPMAX BZMPOP). A blocked client waits on the node it is connected
// to; every pop it makes is an ordinary raft write of the non-blocking op
// (OpLMPop, OpLMove, OpZPopMin/Max), which pops only when there is data
// and answers Null otherwise. So an element goes to exactly one client in
// the cluster, and a pop whose reply is lost is lost as a plain LPOP's
// is. The client proposes only when this node has applied news and a
// local read shows one of its keys non-empty, never in a loop on empty
// keys. On one node the clients blocked on a key are served first
// blocked, first served (a FIFO per key); across nodes there is no order.
// In MULTI the commands run as their non-blocking forms (build).

func blockingCommands() []*command {
	return []*command{
		{name: "blpop", arity: -3, flags: flagWrite | flagBlocking, firstKey: 1, lastKey: -2, step: 1, group: "list", summary: "Pops the first element of the first non-empty list, blocking until one has an element.", block: parseBPop("L")},
		{name: "brpop", arity: -3, flags: flagWrite | flagBlocking, firstKey: 1, lastKey: -2, step: 1, group: "list", summary: "Pops the last element of the first non-empty list, blocking until one has an element.", block: parseBPop("R")},
		{name: "blmove", arity: 6, flags: flagWrite | flagBlocking, firstKey: 1, lastKey: 2, step: 1, group: "list", summary: "Pops an element off a list and pushes it onto another, blocking until there is one.", block: parseBLMove},
		{name: "brpoplpush", arity: 4, flags: flagWrite | flagBlocking, firstKey: 1, lastKey: 2, step: 1, group: "list", summary: "Pops the last element of a list and prepends it to another, blocking until there is one.", block: parseBRPopLPush},
		{name: "blmpop", arity: -5, flags: flagWrite | flagBlocking, numkeysAt: 2, group: "list", summary: "Pops elements off the first non-empty list of several, blocking until one has elements.", block: parseBLMPop, keys: bmpopKeys},
		{name: "bzpopmin", arity: -3, flags: flagWrite | flagFast | flagBlocking, firstKey: 1, lastKey: -2, step: 1, group: "sorted-set", summary: "Pops the member with the lowest score of the first non-empty sorted set, blocking until there is one.", block: parseBZPop(kv.OpZPopMin)},
		{name: "bzpopmax", arity: -3, flags: flagWrite | flagFast | flagBlocking, firstKey: 1, lastKey: -2, step: 1, group: "sorted-set", summary: "Pops the member with the highest score of the first non-empty sorted set, blocking until there is one.", block: parseBZPop(kv.OpZPopMax)},
		{name: "bzmpop", arity: -5, flags: flagWrite | flagBlocking, numkeysAt: 2, group: "sorted-set", summary: "Pops members of the first non-empty sorted set of several, blocking until one has members.", block: parseBZMPop, keys: bmpopKeys},
	}
}

// blockReq is a parsed blocking command.
type blockReq struct {
	// cmd is the non-blocking pop; reply answers its result (Null
	// included: the reply in MULTI).
	cmd   *kv.Command
	reply replyFunc
	// timeout is how long to wait; 0 forever.
	timeout time.Duration
	// keys are the keys waited on, of type typ; the pop's keys are
	// cmd.Args[keysAt:] (keysAt < 0: cmd pops from keys[0] only).
	keys   [][]byte
	typ    kv.Type
	keysAt int
}

// popFrom returns the pop of r from key alone (one of its keys): the one
// a blocked client proposes when key has data and the client is first in
// its queue.
func (r *blockReq) popFrom(key []byte) *kv.Command {
	c := *r.cmd
	if r.keysAt >= 0 {
		c.Args = append(append([][]byte(nil), c.Args[:r.keysAt]...), key)
	}
	return &c
}

// blockBuild is the build function of a blocking command's row: its
// non-blocking form, for MULTI.
func (c *command) blockBuild(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	r, err := c.block(args)
	if err != nil {
		return nil, nil, err
	}
	return r.cmd, r.reply, nil
}

var (
	errTimeoutFloat = redisError("ERR timeout is not a float or out of range")
	errTimeoutNeg   = redisError("ERR timeout is negative")
)

// parseTimeout parses a blocking timeout in seconds as Redis 7.0's
// getTimeoutFromObjectOrReply does: a long double, times 1000, rounded up
// to milliseconds and cast to a long long (a value out of its range
// becomes negative); 0 is forever.
func parseTimeout(b []byte) (time.Duration, error) {
	f, ok := kv.ParseLongDouble(b)
	if !ok {
		return 0, errTimeoutFloat
	}
	if f.IsInf() {
		return 0, errTimeoutNeg
	}
	ms := new(big.Float).SetPrec(f.Prec()).Mul(f, big.NewFloat(1000))
	i, acc := ms.Int(nil) // truncated toward zero: ceil for negatives
	if acc == big.Below {
		i.Add(i, big.NewInt(1))
	}
	if !i.IsInt64() || i.Sign() < 0 {
		return 0, errTimeoutNeg
	}
	n := i.Int64()
	if n > math.MaxInt64/int64(time.Millisecond) {
		return 0, nil // past any deadline a process lives to see: forever
	}
	return time.Duration(n) * time.Millisecond, nil
}

// Reference: https://redis.io/docs/latest/commands/blpop/ and
// https://redis.io/docs/latest/commands/brpop/ (the timeout, last, is
// parsed first; the reply is [key, element], a null array on timeout)
func parseBPop(dir string) func([][]byte) (*blockReq, error) {
	return func(args [][]byte) (*blockReq, error) {
		timeout, err := parseTimeout(args[len(args)-1])
		if err != nil {
			return nil, err
		}
		keys := args[1 : len(args)-1]
		return &blockReq{
			cmd:     &kv.Command{Op: kv.OpLMPop, Args: append([][]byte{[]byte(dir)}, keys...), Int: 1},
			reply:   replyKeyElement,
			timeout: timeout, keys: keys, typ: kv.TypeList, keysAt: 1,
		}, nil
	}
}

func replyKeyElement(s *session, r kv.Result) {
	if r.Null || len(r.Array) == 0 {
		s.out = respwire.AppendNullArray(s.out, s.proto)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, 2)
	s.out = respwire.AppendBulk(s.out, r.Value)
	s.out = respwire.AppendBulk(s.out, r.Array[0].Value)
}

// Reference: https://redis.io/docs/latest/commands/blmove/ (LEFT|RIGHT
// are parsed before the timeout; the element, a null bulk in MULTI, a
// null array on timeout)
func parseBLMove(args [][]byte) (*blockReq, error) {
	c, reply, err := buildLMove(nil, args[:5])
	if err != nil {
		return nil, err
	}
	timeout, err := parseTimeout(args[5])
	if err != nil {
		return nil, err
	}
	return &blockReq{cmd: c, reply: reply, timeout: timeout, keys: args[1:2], typ: kv.TypeList, keysAt: -1}, nil
}

// Reference: https://redis.io/docs/latest/commands/brpoplpush/ (BLMOVE
// src dst RIGHT LEFT)
func parseBRPopLPush(args [][]byte) (*blockReq, error) {
	timeout, err := parseTimeout(args[3])
	if err != nil {
		return nil, err
	}
	c, reply, _ := buildRPopLPush(nil, args[:3])
	return &blockReq{cmd: c, reply: reply, timeout: timeout, keys: args[1:2], typ: kv.TypeList, keysAt: -1}, nil
}

// bmpopKeys returns BLMPOP's and BZMPOP's keys (after the timeout and
// numkeys).
func bmpopKeys(args [][]byte) [][]byte { return zmpopKeys(args[1:]) }

// Reference: https://redis.io/docs/latest/commands/blmpop/ (t_list.c
// blmpopCommand: numkeys, the direction and COUNT are parsed as LMPOP's,
// then the timeout)
func parseBLMPop(args [][]byte) (*blockReq, error) {
	c, reply, err := buildLMPop(nil, args[1:])
	if err != nil {
		return nil, err
	}
	timeout, err := parseTimeout(args[1])
	if err != nil {
		return nil, err
	}
	return &blockReq{cmd: c, reply: reply, timeout: timeout, keys: c.Args[1:], typ: kv.TypeList, keysAt: 1}, nil
}

// Reference: https://redis.io/docs/latest/commands/bzmpop/ (as BLMPOP)
func parseBZMPop(args [][]byte) (*blockReq, error) {
	c, reply, err := buildZMPop(nil, args[1:])
	if err != nil {
		return nil, err
	}
	timeout, err := parseTimeout(args[1])
	if err != nil {
		return nil, err
	}
	return &blockReq{cmd: c, reply: reply, timeout: timeout, keys: c.Args, typ: kv.TypeZSet, keysAt: 0}, nil
}

// Reference: https://redis.io/docs/latest/commands/bzpopmin/ and
// https://redis.io/docs/latest/commands/bzpopmax/ (the reply is [key,
// member, score], the score a double in RESP3)
func parseBZPop(op kv.Op) func([][]byte) (*blockReq, error) {
	return func(args [][]byte) (*blockReq, error) {
		timeout, err := parseTimeout(args[len(args)-1])
		if err != nil {
			return nil, err
		}
		keys := args[1 : len(args)-1]
		return &blockReq{
			cmd:     &kv.Command{Op: op, Args: keys, Int: 1},
			reply:   replyKeyMemberScore,
			timeout: timeout, keys: keys, typ: kv.TypeZSet, keysAt: 0,
		}, nil
	}
}

func replyKeyMemberScore(s *session, r kv.Result) {
	if r.Null || len(r.Array) < 2 {
		s.out = respwire.AppendNullArray(s.out, s.proto)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, 3)
	s.out = respwire.AppendBulk(s.out, r.Value)
	s.out = respwire.AppendBulk(s.out, r.Array[0].Value)
	f, _ := kv.DecodeScore(r.Array[1].Value)
	s.appendStoredScore(f)
}

// Why a blocked client stopped waiting (the cause of its context).
var (
	errUnblockTimeout = errors.New("unblocked: reply as a timeout")
	errUnblockError   = redisError("UNBLOCKED client unblocked via CLIENT UNBLOCK")
	errClientGone     = errors.New("client disconnected")
	errServerClosing  = redisError("ERR server is shutting down")
)

// blockTable is the server's blocked clients: per key (database and
// name) the queue of clients waiting on it, first blocked first, and per
// client ID its wait.
type blockTable struct {
	mu     sync.Mutex
	queues map[blockKey][]*blockWait
	byID   map[int64]*blockWait
}

type blockKey struct {
	db  uint8
	key string
}

// blockWait is one blocked client.
type blockWait struct {
	id   int64
	keys []blockKey
	// stop ends the wait with a cause (CLIENT UNBLOCK, CLIENT KILL, a
	// disconnect, shutdown); nudge, when set, wakes the current wait to
	// look again (it became first in a queue).
	stop  context.CancelCauseFunc
	nudge context.CancelFunc
}

// add queues a wait on keys (each once).
func (t *blockTable) add(id int64, db uint8, keys [][]byte, stop context.CancelCauseFunc) *blockWait {
	w := &blockWait{id: id, stop: stop}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.queues == nil {
		t.queues, t.byID = map[blockKey][]*blockWait{}, map[int64]*blockWait{}
	}
	for _, k := range keys {
		bk := blockKey{db, string(k)}
		q := t.queues[bk]
		if len(q) > 0 && q[len(q)-1] == w {
			continue // the same key twice
		}
		t.queues[bk] = append(q, w)
		w.keys = append(w.keys, bk)
	}
	t.byID[id] = w
	return w
}

// remove takes w off its queues and wakes the clients it leaves first.
func (t *blockTable) remove(w *blockWait) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byID, w.id)
	for _, bk := range w.keys {
		q := t.queues[bk]
		for i, o := range q {
			if o == w {
				q = append(q[:i:i], q[i+1:]...)
				break
			}
		}
		if len(q) == 0 {
			delete(t.queues, bk)
			continue
		}
		t.queues[bk] = q
		if q[0].nudge != nil {
			q[0].nudge()
		}
	}
}

// first reports whether w is first in key's queue.
func (t *blockTable) first(w *blockWait, bk blockKey) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.queues[bk]
	return len(q) > 0 && q[0] == w
}

// waited reports whether a client of this node waits on one of keys.
func (t *blockTable) waited(db uint8, keys [][]byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if len(t.queues[blockKey{db, string(k)}]) > 0 {
			return true
		}
	}
	return false
}

func (t *blockTable) setNudge(w *blockWait, nudge context.CancelFunc) {
	t.mu.Lock()
	w.nudge = nudge
	t.mu.Unlock()
}

// unblock ends client id's wait with cause; false if it is not blocked.
func (t *blockTable) unblock(id int64, cause error) bool {
	t.mu.Lock()
	w := t.byID[id]
	t.mu.Unlock()
	if w == nil {
		return false
	}
	w.stop(cause)
	return true
}

// stopAll ends every wait (shutdown).
func (t *blockTable) stopAll(cause error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range t.byID {
		w.stop(cause)
	}
}

// blocked is how many clients are blocked (INFO's blocked_clients).
func (t *blockTable) blocked() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

// appliedBackend is the optional part of a Backend that lets a blocked
// client wait for this node to apply news. *cluster.Router implements
// it; without it a blocked client looks again every pollInterval.
type appliedBackend interface {
	AppliedIndex() uint64
	WaitApplied(ctx context.Context, idx uint64) error
}

const pollInterval = 50 * time.Millisecond

// maxBlockedInput bounds what a blocked client's connection is read
// ahead while it waits; past it the reading stops (TCP pushes back) until
// the wait ends.
const maxBlockedInput = 64 << 20

// runBlocking runs a blocking command (outside MULTI): one pop; if it
// finds nothing, the wait.
func (s *session) runBlocking(cmd *command, args [][]byte, start time.Time) {
	mark := len(s.out)
	defer func() { cmd.stats.done(start, isErrorReply(s.out, mark)) }()
	r, err := cmd.block(args)
	if err != nil {
		s.writeErr(err)
		return
	}
	r.cmd.DB = s.db
	// A client that finds others of this node waiting on one of its keys
	// queues behind them: first blocked, first served.
	if !s.srv.blocking.waited(s.db, r.keys) {
		r.cmd.Now = time.Now().UnixMilli()
		res, err := s.apply(r.cmd)
		if err != nil {
			s.writeErr(err)
			return
		}
		if !res.Null {
			r.reply(s, res)
			return
		}
	}
	s.block(r)
	// The wait may have outlived the pipeline's context: what follows
	// gets a fresh one.
	s.renewContext()
}

// block waits until r pops something, its timeout passes, or the wait is
// stopped, and replies.
func (s *session) block(r *blockReq) {
	if err := s.flush(); err != nil { // what came before is answered first
		return
	}
	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, r.timeout, errUnblockTimeout)
		defer cancel()
	}
	w := s.srv.blocking.add(s.id, s.db, r.keys, stop)
	defer s.srv.blocking.remove(w)
	s.showBlocked()
	defer s.showBlocked()
	done := s.watchConn(stop)
	defer done()
	if s.srv.closing.Load() {
		stop(errServerClosing)
	}

	backoff := time.Duration(0)
	for {
		wake, nudge := context.WithCancel(ctx)
		s.srv.blocking.setNudge(w, nudge)
		idx, waitable := s.appliedIndex()
		key, err := s.readyKey(w, r)
		if err == nil && key != nil && ctx.Err() == nil {
			res, perr := s.popNow(r.popFrom(key))
			switch {
			case perr != nil:
				nudge()
				s.writeErr(perr)
				return
			case !res.Null:
				nudge()
				r.reply(s, res)
				return
			}
			// Another client took it, or the local read saw what the
			// pop did not (an expiry): wait for news, and back off in
			// case the read keeps disagreeing.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			sleep(wake, backoff)
		}
		if !waitable || s.be.(appliedBackend).WaitApplied(wake, idx+1) != nil {
			// No waiting on the log, or the state machine failed (its
			// WaitApplied returns at once): poll, never spin.
			sleep(wake, pollInterval)
		}
		nudge()
		if ctx.Err() != nil {
			s.replyUnblocked(context.Cause(ctx))
			return
		}
	}
}

// showBlocked toggles CLIENT LIST's flag b (blocked) on the
// connection: on while it waits, off after.
func (s *session) showBlocked() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := strings.CutPrefix(s.listed.flags, "b"); ok {
		s.listed.flags = f
		if f == "" {
			s.listed.flags = "N"
		}
		return
	}
	s.listed.flags = "b" + strings.TrimPrefix(s.listed.flags, "N")
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// replyUnblocked replies to a client whose wait ended without a pop.
func (s *session) replyUnblocked(cause error) {
	switch {
	case errors.Is(cause, errUnblockTimeout):
		s.out = respwire.AppendNullArray(s.out, s.proto)
	case errors.Is(cause, errClientGone):
		// No one to reply to.
	default:
		s.writeErr(cause)
	}
}

// appliedIndex returns this node's applied index, and whether the
// backend can wait for a later one.
func (s *session) appliedIndex() (uint64, bool) {
	if b, ok := s.be.(appliedBackend); ok {
		return b.AppliedIndex(), true
	}
	return 0, false
}

// readyKey returns the first of r's keys that holds data of r's type on
// this node (a stale, local read) and has w first in its queue; nil if
// none.
func (s *session) readyKey(w *blockWait, r *blockReq) ([]byte, error) {
	var key []byte
	now := time.Now().UnixMilli()
	ctx, cancel := context.WithTimeout(context.Background(), s.srv.cfg.CommandTimeout)
	defer cancel()
	err := s.be.Read(ctx, cluster.Stale, func(v *kv.View) error {
		v = v.DB(s.db)
		for _, k := range r.keys {
			c, ok, err := v.Collection(k, now, r.typ)
			if errors.Is(err, kv.ErrWrongType) {
				continue // Redis leaves the client blocked
			}
			if err != nil {
				return err
			}
			if ok && c.Len() > 0 && s.srv.blocking.first(w, blockKey{s.db, string(k)}) {
				key = k
				return nil
			}
		}
		return nil
	})
	return key, err
}

// popNow proposes a blocked client's pop and waits for it, bounded by
// the command timeout (not by the wait: a pop once proposed is seen
// through).
func (s *session) popNow(c *kv.Command) (kv.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.srv.cfg.CommandTimeout)
	defer cancel()
	c.Now = time.Now().UnixMilli()
	res, err := s.be.Propose(ctx, c).Wait()
	if err == nil && res.Err != nil {
		err = res.Err
	}
	return res, err
}

// watchConn reads the connection while the session is blocked: what
// arrives is kept as pipelined input, and EOF or an error (CLIENT KILL
// closes the connection) stops the wait as errClientGone. The returned
// function ends the reading and appends what was read to the input.
func (s *session) watchConn(stop context.CancelCauseFunc) func() {
	var (
		stopping atomic.Bool
		got      []byte
		gone     bool
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := s.conn.Read(buf)
			got = append(got, buf[:n]...)
			if err == nil && len(got) >= maxBlockedInput {
				return // the client waits for its reply before it sends more
			}
			if err == nil {
				continue
			}
			switch {
			case stopping.Load():
			case errors.Is(err, os.ErrDeadlineExceeded) && s.srv.closing.Load():
				stop(errServerClosing) // Server.Close interrupted the read
			default:
				gone = true
				stop(errClientGone)
			}
			return
		}
	}()
	return func() {
		stopping.Store(true)
		_ = s.conn.SetReadDeadline(time.Now())
		<-done
		if !s.srv.closing.Load() {
			_ = s.conn.SetReadDeadline(time.Time{})
		}
		s.appendInput(got)
		if gone {
			s.quit = true
		}
	}
}

// appendInput adds bytes read elsewhere to the unparsed input, without
// moving what is already there (the running command's arguments point
// into it).
func (s *session) appendInput(b []byte) {
	if len(b) == 0 {
		return
	}
	if len(s.buf)-s.end < len(b) {
		nb := make([]byte, max(initialBuf, 2*(s.end-s.start+len(b))))
		s.end = copy(nb, s.buf[s.start:s.end])
		s.start = 0
		s.buf = nb
	}
	s.end += copy(s.buf[s.end:], b)
}

// renewContext replaces the pipeline's context.
func (s *session) renewContext() {
	if s.cancel != nil {
		s.cancel()
	}
	s.ctx, s.cancel = context.WithTimeout(context.Background(), s.srv.cfg.CommandTimeout)
}

// Reference: https://redis.io/docs/latest/commands/client-unblock/ (1 if
// the client was blocked, else 0; TIMEOUT, the default, replies as a
// timeout, ERROR with an -UNBLOCKED error)
func clientUnblock(s *session, args [][]byte) {
	id, err := kv.ParseInt(args[2])
	if err != nil {
		s.writeErr(errNotInteger)
		return
	}
	cause := errUnblockTimeout
	if len(args) == 4 {
		switch {
		case equalFold(args[3], "timeout"):
		case equalFold(args[3], "error"):
			cause = errUnblockError
		default:
			s.writeErr(redisError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"))
			return
		}
	}
	n := int64(0)
	if s.srv.blocking.unblock(id, cause) {
		n = 1
	}
	s.out = respwire.AppendInt(s.out, n)
}
