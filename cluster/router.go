// Package cluster routes commands to where they can run: writes to the raft
// leader (proposed locally, or forwarded from a follower), reads at the level
// the client asked for, membership changes to the leader. It is the only
// package that decides what a follower does with a request.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riotkv/riot/gossip"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
)

// ReadLevel is how fresh a read must be.
type ReadLevel int

const (
	// Linearizable reads reflect every write acknowledged before the read
	// began, on any node. The default.
	Linearizable ReadLevel = iota
	// Stale reads return this node's local state, which may lag.
	Stale
)

func (l ReadLevel) String() string {
	if l == Stale {
		return "stale"
	}
	return "linearizable"
}

// ParseReadLevel parses "linearizable" or "stale".
func ParseReadLevel(s string) (ReadLevel, error) {
	switch s {
	case "linearizable":
		return Linearizable, nil
	case "stale":
		return Stale, nil
	}
	return 0, fmt.Errorf("cluster: unknown read level %q (want linearizable or stale)", s)
}

// Config configures a Router.
type Config struct {
	// Password authenticates forwarded requests (the --requirepass of the
	// cluster). Default none.
	Password string
	// LeaderWait is how long a request waits for a leader to be elected
	// (and its address to be known) before failing with ErrNoLeader.
	// Default 5s.
	LeaderWait time.Duration
	// DefaultReadLevel is the read level of new connections. Default
	// Linearizable.
	DefaultReadLevel ReadLevel
	// ForwardConns is the number of pipelined connections to the leader.
	// Default 4.
	ForwardConns int
	// DialTimeout bounds connecting to the leader. Default 2s.
	DialTimeout time.Duration
	// AnnounceInterval is how often the node checks that the address book
	// holds its current addresses. Default 10s.
	AnnounceInterval time.Duration
	// HealthInterval is how often the node asks every other server how far
	// it has applied (shown as lag and last contact; the reconciler
	// promotes non-voters from it). Default 1s.
	HealthInterval time.Duration
	// CaughtUpLag is how many entries behind this node's commit index a
	// server may be and still count as caught up. Default 1000.
	CaughtUpLag uint64
	// UnsafeLocalReads makes linearizable reads read local state without a
	// read index: NOT linearizable. Only for showing that the fault tests
	// catch stale reads.
	UnsafeLocalReads bool
	// Logger; default discard.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		LeaderWait:       5 * time.Second,
		DefaultReadLevel: Linearizable,
		ForwardConns:     4,
		DialTimeout:      2 * time.Second,
		AnnounceInterval: 10 * time.Second,
		HealthInterval:   time.Second,
		CaughtUpLag:      1000,
	}
}

// Validate reports the first problem with c.
func (c *Config) Validate() error {
	switch {
	case c.LeaderWait <= 0:
		return errors.New("cluster: config: LeaderWait must be positive")
	case c.ForwardConns < 1:
		return errors.New("cluster: config: ForwardConns must be at least 1")
	case c.DialTimeout <= 0:
		return errors.New("cluster: config: DialTimeout must be positive")
	case c.AnnounceInterval <= 0:
		return errors.New("cluster: config: AnnounceInterval must be positive")
	case c.HealthInterval <= 0:
		return errors.New("cluster: config: HealthInterval must be positive")
	}
	return nil
}

// Errors returned by the Router.
var (
	// ErrNoLeader: no leader was elected (or its address learned) within
	// LeaderWait. Nothing was applied.
	ErrNoLeader = errors.New("cluster: no leader")
	// ErrNotLeader: the request must run on the leader and this node is not
	// it. Nothing was applied.
	ErrNotLeader = errors.New("cluster: not the leader")
	// ErrNotMember: an announced address is not the raft configuration's.
	ErrNotMember = errors.New("cluster: not a member")
	// ErrClosed: the router is shut down.
	ErrClosed = errors.New("cluster: router closed")
)

// RemoteError is an error reply from the leader, relayed as it is.
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return e.Msg }

// Router runs commands on this node or on the leader.
type Router struct {
	cfg    Config
	node   *raftkv.Node
	logger *slog.Logger
	peers  *peerPool

	clientID   uint64 // identifies this router's forwarded requests
	seq        atomic.Uint64
	clientAddr string                   // this node's RESP address, set by Start
	lastMember atomic.Pointer[memberAt] // see Router.member

	remoteIndex *coalescer     // read indexes asked of the leader
	metrics     routerMetrics  // forwarded requests (metrics.go)
	gossip      *gossip.Gossip // nil without gossip
	tracker     healthTracker  // what the other servers last said of themselves
	removal     removalNotice  // closed once the leader confirmed this node's removal

	// group is the data group this Router serves in sharded mode (0: the
	// metadata group, or the one group of an unsharded node). book is the
	// Router whose address book, gossip and peer connections it uses: the
	// metadata group's for a data group (AttachTo), else itself.
	group uint32
	book  *Router

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// New returns a Router over node. Start begins its background work; Close
// stops it.
func New(cfg Config, node *raftkv.Node) (*Router, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var id [8]byte
	for binary.BigEndian.Uint64(id[:]) == 0 {
		_, _ = rand.Read(id[:])
	}
	r := &Router{
		cfg: cfg, node: node, logger: cfg.Logger,
		peers:    newPeerPool(cfg.ForwardConns, cfg.Password, node.FSM().Secret, cfg.DialTimeout),
		clientID: binary.BigEndian.Uint64(id[:]),
		stop:     make(chan struct{}),
		tracker:  healthTracker{peers: make(map[string]peerHealth)},
	}
	r.book = r
	r.remoteIndex = &coalescer{fn: r.askReadIndex, timeout: 2 * cfg.LeaderWait}
	node.SetConfirmer(r.confirm)
	return r, nil
}

// Start records clientAddr, this node's RESP address as other nodes reach
// it, and keeps it current in the replicated address book (other nodes use
// it to forward to this one when it leads). g, when not nil, adds gossip
// state to Peers.
func (r *Router) Start(clientAddr string, g *gossip.Gossip) {
	r.clientAddr = clientAddr
	r.gossip = g
	r.wg.Add(2)
	go r.announceLoop()
	go r.healthLoop()
}

// Close stops background work and closes connections to other nodes.
func (r *Router) Close() {
	r.stopOnce.Do(func() { close(r.stop) })
	r.wg.Wait()
	if r.book == r {
		r.peers.close()
	}
}

// Node returns the local raft node.
func (r *Router) Node() *raftkv.Node { return r.node }

// DefaultReadLevel is the read level new connections start with.
func (r *Router) DefaultReadLevel() ReadLevel { return r.cfg.DefaultReadLevel }

// IsLeader reports whether this node is the leader.
func (r *Router) IsLeader() bool { return r.node.IsLeader() }

// Pending is a write whose outcome is not known yet.
type Pending interface {
	// Wait returns the command's result. An error means it was not
	// applied or that its outcome is unknown; never both.
	Wait() (kv.Result, error)
}

type failed struct{ err error }

func (f failed) Wait() (kv.Result, error) { return kv.Result{}, f.err }

// Propose starts a write and returns without waiting for it to commit, so
// that writes from one pipeline and from many connections share raft
// batches. On a follower the write is forwarded to the leader.
func (r *Router) Propose(ctx context.Context, c *kv.Command) Pending {
	if r.node.IsLeader() {
		return &localPending{r: r, ctx: ctx, c: ownArgs(c), p: r.node.Propose(c)}
	}
	return r.forward(ctx, ownArgs(c))
}

// ProposeBatch starts several writes and appends their Pendings to out.
// On the leader they share raft entries (raftkv.Node.ProposeBatch). local
// (writes other nodes forwarded here) proposes on this node only:
// ErrNotLeader when it does not lead; otherwise a follower forwards each
// write to the leader, pipelined, as Propose does.
func (r *Router) ProposeBatch(ctx context.Context, cs []*kv.Command, local bool, out []Pending) []Pending {
	switch {
	case r.node.IsLeader():
		for i, p := range r.node.ProposeBatch(cs) {
			if local {
				out = append(out, p)
			} else {
				out = append(out, &localPending{r: r, ctx: ctx, c: ownArgs(cs[i]), p: p})
			}
		}
	case local:
		for range cs {
			out = append(out, failed{ErrNotLeader})
		}
	default:
		out = r.forwardBatch(ctx, cs, out)
	}
	return out
}

// Apply proposes c and waits for its result.
func (r *Router) Apply(ctx context.Context, c *kv.Command) (kv.Result, error) {
	return r.Propose(ctx, c).Wait()
}

// localPending is a write proposed on this node while it led. If it turns
// out that leadership had already moved (nothing was proposed), the write is
// forwarded to the new leader; c is its own copy (see ownArgs), as that
// happens after the session may have reused the buffer the command came in.
type localPending struct {
	r   *Router
	ctx context.Context
	c   *kv.Command
	p   *raftkv.Proposal
}

func (l *localPending) Wait() (kv.Result, error) {
	res, err := l.p.Wait()
	if errors.Is(err, raftkv.ErrNotLeader) {
		return l.r.forward(l.ctx, l.c).Wait()
	}
	return res, err
}

// Read runs fn on the local state once it is fresh enough for lvl.
func (r *Router) Read(ctx context.Context, lvl ReadLevel, fn func(v *kv.View) error) error {
	if err := r.ready(ctx, lvl); err != nil {
		return err
	}
	v, release := r.node.FSM().View()
	defer release()
	return fn(v)
}

// ReadConsistent is Read over a point-in-time snapshot, for reads of
// several keys that must be mutually consistent (MGET).
func (r *Router) ReadConsistent(ctx context.Context, lvl ReadLevel, fn func(v *kv.View) error) error {
	if err := r.ready(ctx, lvl); err != nil {
		return err
	}
	v, release, err := r.node.FSM().SnapshotView()
	if err != nil {
		return err
	}
	defer release()
	return fn(v)
}

// ready waits until a read at lvl may be served from local state: for a
// linearizable read, until the local state machine has applied a read index
// confirmed by the leader (asked of the leader when this node follows).
func (r *Router) ready(ctx context.Context, lvl ReadLevel) error {
	if err := r.node.FSM().Err(); err != nil {
		return err
	}
	if lvl == Stale || r.cfg.UnsafeLocalReads {
		return nil
	}
	idx, err := r.readIndex(ctx)
	if err != nil {
		return err
	}
	return r.node.WaitApplied(ctx, idx)
}

// ReadIndexLocal returns a read index confirmed by this node as leader
// (ErrNotLeader otherwise). It serves read-index requests from followers.
func (r *Router) ReadIndexLocal(ctx context.Context) (uint64, error) {
	if !r.node.IsLeader() {
		return 0, ErrNotLeader
	}
	return r.node.ReadIndex(ctx)
}

// Following returns this node's raft term and the leader it follows: what
// a leader's read-index round asks of each voter (RIOT.CONFIRM).
func (r *Router) Following() (term uint64, leaderID string) { return r.node.Following() }

// NodeSecret returns the cluster's node secret (nil while this node has not
// applied it): what a connection presents with RIOT.AUTH to send
// node-to-node commands.
func (r *Router) NodeSecret() []byte { return r.node.FSM().Secret() }

// RaftInfo returns the local node's raft figures.
func (r *Router) RaftInfo() []raftkv.Field { return r.node.Info() }

// RaftState returns the local node's raft role.
func (r *Router) RaftState() string { return r.node.State() }

// Snapshot takes a raft snapshot on this node.
func (r *Router) Snapshot() error { return r.node.Snapshot() }

// Engine describes the local storage engine: its name and approximate size
// on disk.
func (r *Router) Engine() (name string, diskBytes int64) {
	st := r.node.FSM().EngineStats()
	return st.Name, st.DiskBytes
}

// SweepStats reports the sweeper's work on this node's engine (INFO's
// persistence section).
func (r *Router) SweepStats() kv.SweepStats { return r.node.FSM().SweepStats() }

// Status is this node's state for the admin API.
type Status struct {
	raftkv.Status
	LeaderClientAddr string
	Engine           string
	EngineDiskBytes  int64
}

// Status returns this node's state.
func (r *Router) Status() Status {
	st := Status{Status: r.node.Status()}
	if st.LeaderID != "" {
		if m, ok := r.member(st.LeaderID); ok {
			st.LeaderClientAddr = m.ClientAddr
		}
	}
	st.Engine, st.EngineDiskBytes = r.Engine()
	return st
}

// MetaSharded reports whether this Router's group is a sharded cluster's
// metadata group (its state machine holds the shard map), which serves no
// keys.
func (r *Router) MetaSharded() bool { return r.node.FSM().Sharded() }

// AppliedIndex is the last log index this node's state machine applied.
func (r *Router) AppliedIndex() uint64 { return r.node.FSM().AppliedIndex() }

// WaitApplied blocks until this node has applied index idx or ctx ends:
// blocked clients (BLPOP and the like) wait with it for news of their
// keys.
func (r *Router) WaitApplied(ctx context.Context, idx uint64) error {
	return r.node.FSM().WaitApplied(ctx, idx)
}

// AttachTo makes r, the Router of data group group, find other nodes
// through meta, the metadata group's Router: its address book, its gossip
// and its peer connections (authenticated with the metadata group's node
// secret). Read-index rounds then ask each voter about this group. Call it
// before r serves.
func (r *Router) AttachTo(meta *Router, group uint32) {
	r.peers.close()
	r.group, r.book = group, meta
	r.peers = meta.peers
	r.gossip = meta.gossip
}
