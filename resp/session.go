package resp

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// session is one client connection: its read buffer, its reply buffer, and
// its state (protocol, name, read level, auth).
type session struct {
	srv  *Server
	conn net.Conn
	id   int64
	addr string

	// Read buffer: buf[start:end] holds unparsed input.
	buf        []byte
	start, end int

	out     []byte         // replies not yet written
	pending []pendingWrite // writes whose replies come next
	// batch and proposals are propose's scratch space.
	batch     []*kv.Command
	proposals []cluster.Pending
	ctx       context.Context
	cancel    context.CancelFunc // ends ctx

	// When the input runs out with writes pending, handOff passes them to
	// the replier goroutine (replyLoop, started on first use), which waits
	// for them in order and writes their replies while the session reads
	// and proposes what comes next: a connection that carries many
	// clients' writes (a follower's forwarding connection) never waits for
	// one batch to commit before it proposes the next. From handOff until
	// awaitReplies returns, the replier owns out.
	replies   chan replyBatch
	replying  sync.WaitGroup // batches handed off and not yet replied to
	handedOff bool           // the replier may own out (session goroutine only)

	// now is the time (Unix ms) of the request being executed: the time
	// reads are made at, and the Now of the command a write proposes
	// (relative TTLs become deadlines from it).
	now int64

	// be is the backend the current command runs in: the node's one group,
	// or in sharded mode the group of its keys' slot (route.go). fanout:
	// the command runs in every group this node leads. txSlot is the slot
	// (plus one; 0: none yet) of an open transaction's or WATCH's keys.
	be     Backend
	fanout bool
	txSlot int

	proto int
	// db is the selected database (SELECT): the DB of every command the
	// connection proposes and the database its reads read.
	db        uint8
	readLevel cluster.ReadLevel
	authed    bool
	quit      bool
	// node: the connection presented the node secret (RIOT.AUTH) and may
	// send node-to-node commands.
	node bool

	// Transactions (cmd_multi.go): multi is non-nil between MULTI and
	// EXEC/DISCARD; watches are the WATCHed keys; txView, while EXEC
	// formats a queued read, is what the transaction read.
	multi   *multiState
	watches []kv.Watch
	txView  *kv.View

	mu      sync.Mutex // guards the fields CLIENT LIST reads
	name    string
	libName string
	libVer  string
	created time.Time
	lastCmd string
	lastAt  int64     // Unix ms of the last command, for CLIENT LIST idle=
	listed  listState // flags=, multi=, watch= as of the last command

	shown listState // what was last copied to listed (session goroutine only)
}

// listState is the connection state CLIENT LIST shows: flags (N, or x in
// MULTI and r for READONLY), commands queued in MULTI (-1 outside), keys
// watched.
type listState struct {
	flags            string
	multi, watch, db int
}

// publishState copies the connection's state for CLIENT LIST (read by
// other connections) when it changed.
func (s *session) publishState() {
	st := listState{flags: "", multi: -1, watch: len(s.watches), db: int(s.db)}
	if s.multi != nil {
		st.flags += "x"
		st.multi = len(s.multi.queued)
	}
	if s.readLevel == cluster.Stale {
		st.flags += "r"
	}
	if st.flags == "" {
		st.flags = "N"
	}
	if st == s.shown {
		return
	}
	s.shown = st
	s.mu.Lock()
	s.listed = st
	s.mu.Unlock()
}

// pendingWrite is a write and how to turn its result into a reply. It is
// proposed (c handed over, p set) when the session drains, together with
// the other writes read with it.
type pendingWrite struct {
	c     *kv.Command
	p     cluster.Pending
	reply replyFunc
	raw   bool    // reply gets Result.Err too (forwarded writes)
	be    Backend // the group it is proposed to
	stats *cmdStats
	start time.Time // when the command was parsed
}

const initialBuf = 16 << 10

func newSession(s *Server, c net.Conn) *session {
	return &session{
		srv: s, conn: c, id: s.nextID.Add(1), addr: c.RemoteAddr().String(),
		buf: make([]byte, initialBuf), proto: 2,
		be:        s.backend,
		readLevel: s.backend.DefaultReadLevel(),
		authed:    s.cfg.RequirePass == "",
		created:   time.Now(),
		listed:    listState{flags: "N", multi: -1},
		shown:     listState{flags: "N", multi: -1},
	}
}

// interrupt makes a blocked read return so the session notices shutdown.
func (s *session) interrupt() { _ = s.conn.SetReadDeadline(time.Now()) }

// serve runs the connection: read what has arrived, execute every complete
// request in it (writes are proposed together), write all replies, repeat.
func (s *session) serve() {
	defer func() {
		s.awaitReplies()
		if s.replies != nil {
			close(s.replies)
		}
		s.conn.Close()
		s.srv.removeSession(s)
	}()
	for {
		if err := s.runBuffered(); err != nil {
			var pe *respwire.ProtocolError
			if errors.As(err, &pe) {
				s.out = respwire.AppendError(s.out, "ERR "+pe.Error())
				_ = s.flush()
			}
			return
		}
		if !s.handedOff {
			if err := s.flush(); err != nil {
				return
			}
		}
		if s.quit || s.srv.closing.Load() {
			return
		}
		if err := s.fill(); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
				s.srv.logger.Debug("connection read", "addr", s.addr, "err", err)
			}
			return
		}
	}
}

// runBuffered executes every complete request in the buffer.
func (s *session) runBuffered() (err error) {
	if s.start == s.end {
		return nil
	}
	s.ctx, s.cancel = context.WithTimeout(context.Background(), s.srv.cfg.CommandTimeout)
	defer func() {
		// s.cancel, not the one made here: a blocking command renews
		// the context.
		if err == nil && !s.quit && len(s.pending) > 0 {
			s.handOff(s.cancel) // cancelled once the writes are answered
			return
		}
		s.drain()
		s.cancel()
	}()
	for s.start < s.end && !s.quit {
		lim := respwire.Limits{MaxBulk: s.srv.maxBulkLen(), MaxArgs: respwire.MaxMultibulkLen}
		if !s.authed {
			lim = respwire.UnauthLimits
		}
		args, n, need, err := respwire.ParseRequest(s.buf[s.start:s.end], lim)
		if errors.Is(err, respwire.ErrIncomplete) {
			if need > len(s.buf) {
				s.need(need)
			}
			return nil
		}
		if err != nil {
			return err
		}
		s.start += n
		if len(args) > 0 {
			s.exec(args)
		}
	}
	return nil
}

// need makes the buffer able to hold a request of n bytes from s.start.
func (s *session) need(n int) {
	if n <= len(s.buf)-s.start {
		return
	}
	// Grow by doubling, not to the size the header claims: a client must
	// send the bytes before the server spends memory on them.
	nb := make([]byte, min(n, max(2*len(s.buf), 2*(s.end-s.start))))
	s.end = copy(nb, s.buf[s.start:s.end])
	s.start = 0
	s.buf = nb
}

// fill reads more input, compacting or growing the buffer first.
func (s *session) fill() error {
	if s.start == s.end {
		s.start, s.end = 0, 0
		if len(s.buf) > 4*initialBuf {
			s.buf = make([]byte, initialBuf) // drop a buffer grown for a big value
		}
	} else if s.end == len(s.buf) {
		if s.start > 0 {
			s.end = copy(s.buf, s.buf[s.start:s.end])
			s.start = 0
		} else {
			nb := make([]byte, 2*len(s.buf))
			copy(nb, s.buf[:s.end])
			s.buf = nb
		}
	}
	n, err := s.conn.Read(s.buf[s.end:])
	s.end += n
	s.srv.stats.netIn.Add(uint64(n))
	if n > 0 {
		return nil
	}
	return err
}

func (s *session) flush() error {
	if len(s.out) == 0 {
		return nil
	}
	n, err := s.conn.Write(s.out)
	s.srv.stats.netOut.Add(uint64(n))
	if cap(s.out) > 1<<20 {
		s.out = nil
	} else {
		s.out = s.out[:0]
	}
	return err
}

// exec runs one request. Writes are proposed and their replies deferred,
// so consecutive writes share raft batches; any other command first waits
// for the deferred replies, so that replies stay in order and reads see
// the connection's earlier writes.
func (s *session) exec(args [][]byte) {
	defer s.publishState()
	s.srv.stats.commands.Add(1)
	start := time.Now()
	s.now = start.UnixMilli()
	cmd, errMsg := lookup(s.srv.commands, args)
	if cmd == nil {
		s.srv.reject(args)
		s.drain()
		s.out = respwire.AppendError(s.out, s.txnRejected(args, errMsg))
		return
	}
	s.mu.Lock()
	s.lastCmd, s.lastAt = cmd.name, s.now
	s.mu.Unlock()
	if !s.authed && cmd.flags&flagNoAuth == 0 {
		cmd.stats.rejected.Add(1)
		s.drain()
		s.out = respwire.AppendError(s.out, s.txnRejected(args, "NOAUTH Authentication required."))
		return
	}
	if cmd.flags&flagInternal != 0 && s.nodeOnly() {
		cmd.stats.rejected.Add(1)
		s.drain()
		s.out = respwire.AppendError(s.out, s.txnRejected(args, errNodeOnly(cmd.name)))
		return
	}
	if s.multi == nil && len(s.watches) == 0 {
		s.txSlot = 0 // no transaction or WATCH holds a slot
	}
	if !s.route(cmd, args) {
		cmd.stats.rejected.Add(1)
		return
	}
	if s.multi != nil && !txnControl(cmd) {
		s.drain()
		s.queue(cmd, args) // MULTI: queued until EXEC (cmd_multi.go)
		return
	}
	if cmd.block != nil {
		s.drain()
		s.runBlocking(cmd, args, start)
		return
	}
	if cmd.build == nil {
		s.drain()
		mark := len(s.out)
		cmd.run(s, args)
		cmd.stats.done(start, isErrorReply(s.out, mark))
		return
	}
	c, reply, err := cmd.build(s, args)
	if err != nil {
		s.drain()
		s.writeErr(err)
		cmd.stats.done(start, true)
		return
	}
	if s.fanout {
		s.drain()
		s.proposeEverywhere(c, reply)
		cmd.stats.done(start, false)
		return
	}
	if !cmd.local {
		c.DB = s.db // a forwarded write carries its own
		if c.Now == 0 {
			c.Now = s.now
		}
	}
	s.pending = append(s.pending, pendingWrite{c: c, reply: reply, raw: cmd.local, be: s.be, stats: &cmd.stats, start: start})
	if len(s.pending) >= s.srv.cfg.MaxPipeline {
		s.drain()
	}
}

// drain waits for the replies handed off, then proposes the pending
// writes, waits for each, in order, and appends its reply.
func (s *session) drain() {
	s.awaitReplies()
	s.propose()
	s.reply(s.pending)
	s.pending = s.pending[:0]
}

// replyBatch is writes handed to the replier, and the cancel of the
// context they were proposed with.
type replyBatch struct {
	writes []pendingWrite
	cancel context.CancelFunc
}

// handOff proposes the pending writes and passes them to the replier.
func (s *session) handOff(cancel context.CancelFunc) {
	s.propose()
	if s.replies == nil {
		s.replies = make(chan replyBatch, 4)
		go s.replyLoop()
	}
	s.replying.Add(1)
	s.handedOff = true
	s.replies <- replyBatch{writes: s.pending, cancel: cancel}
	s.pending = make([]pendingWrite, 0, cap(s.pending))
}

// awaitReplies returns once every write handed off is answered; out is
// the session's again.
func (s *session) awaitReplies() {
	if s.handedOff {
		s.replying.Wait()
		s.handedOff = false
	}
}

// replyLoop answers the batches handOff passes, in order, writing when no
// other batch is waiting. A failed write closes the connection, which
// ends the session.
func (s *session) replyLoop() {
	for b := range s.replies {
		s.reply(b.writes)
		b.cancel()
		if len(s.replies) == 0 {
			if err := s.flush(); err != nil {
				s.conn.Close()
			}
		}
		s.replying.Done()
	}
}

// reply waits for each of ws, in order, and appends its reply to out.
func (s *session) reply(ws []pendingWrite) {
	for i, pw := range ws {
		mark := len(s.out)
		res, err := pw.p.Wait()
		switch {
		case err != nil:
			s.writeErr(err)
		case res.Err != nil && !pw.raw:
			s.writeErr(res.Err)
		default:
			pw.reply(s, res)
		}
		pw.stats.done(pw.start, isErrorReply(s.out, mark))
		ws[i] = pendingWrite{}
	}
}

// propose hands the pending writes (none is proposed yet) to the backend:
// consecutive writes of one kind (a client's, or forwarded ones) in one
// call, so that they share raft entries.
func (s *session) propose() {
	for i := 0; i < len(s.pending); {
		raw, be := s.pending[i].raw, s.pending[i].be
		s.batch = s.batch[:0]
		for j := i; j < len(s.pending) && s.pending[j].raw == raw && s.pending[j].be == be; j++ {
			s.batch = append(s.batch, s.pending[j].c)
		}
		s.proposals = be.ProposeBatch(s.ctx, s.batch, raw, s.proposals[:0])
		for k, p := range s.proposals {
			s.pending[i+k].p, s.pending[i+k].c = p, nil
		}
		i += len(s.batch)
		clear(s.batch)
		clear(s.proposals)
	}
}

// apply proposes c and waits for it; for commands that need the result
// before they can reply (none are pipelined through here).
func (s *session) apply(c *kv.Command) (kv.Result, error) {
	if c.Now == 0 {
		c.Now = s.now
	}
	res, err := s.be.Propose(s.ctx, c).Wait()
	if err == nil && res.Err != nil {
		err = res.Err
	}
	return res, err
}

func (s *session) read(fn func(v *kv.View) error) error { return s.readIn(s.backends(), fn) }

// readIn runs fn in a read of each of bs, in order.
func (s *session) readIn(bs []Backend, fn func(v *kv.View) error) error {
	if s.txView != nil {
		return fn(s.txView) // a read queued in MULTI, answered at EXEC
	}
	for _, b := range bs {
		if err := b.Read(s.ctx, s.readLevel, s.keysOf(b, fn)); err != nil {
			return err
		}
	}
	return nil
}

// metaBackend is the optional part of a Backend that says whether its
// state machine is a sharded cluster's metadata group (kv.FSM.Sharded).
// *cluster.Router implements it.
type metaBackend interface {
	MetaSharded() bool
}

// keysOf returns fn over the selected database of a read of b. A read of
// the node's own group routed there before this node knew the cluster is
// sharded answers kv.ErrSharded once the read finds the shard map (its
// read index covers the map's entry): the keys are in the data groups.
func (s *session) keysOf(b Backend, fn func(v *kv.View) error) func(v *kv.View) error {
	mb, ok := b.(metaBackend)
	if !ok || b != s.srv.backend || s.srv.cfg.Shards == nil {
		return func(v *kv.View) error { return fn(v.DB(s.db)) }
	}
	return func(v *kv.View) error {
		if mb.MetaSharded() {
			return kv.ErrSharded
		}
		return fn(v.DB(s.db))
	}
}

func (s *session) readConsistent(fn func(v *kv.View) error) error {
	if s.txView != nil {
		return fn(s.txView)
	}
	for _, b := range s.backends() {
		if err := b.ReadConsistent(s.ctx, s.readLevel, s.keysOf(b, fn)); err != nil {
			return err
		}
	}
	return nil
}

// proposeEverywhere proposes c to every group this node leads (FLUSHALL,
// FLUSHDB sharded) and replies with the first error, else as reply does
// with the last result.
func (s *session) proposeEverywhere(c *kv.Command, reply replyFunc) {
	if c.Now == 0 {
		c.Now = s.now
	}
	var last kv.Result
	for _, b := range s.backends() {
		cc := *c
		res, err := b.Propose(s.ctx, &cc).Wait()
		if err == nil {
			err = res.Err
		}
		if err != nil {
			s.writeErr(err)
			return
		}
		last = res
	}
	reply(s, last)
}

func (s *session) writeErr(err error) { s.out = respwire.AppendError(s.out, errorText(err)) }
