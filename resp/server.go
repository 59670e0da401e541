// Package resp is riot's Redis protocol front end: it reads RESP2/RESP3
// requests (parsed by package respwire, multibulk and inline), looks
// commands up in one table, runs them through the cluster Router and writes
// replies.
package resp

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/respwire"
)

// Backend is what resp needs from the cluster. *cluster.Router implements
// it; tests may use a fake.
type Backend interface {
	Propose(ctx context.Context, c *kv.Command) cluster.Pending
	ProposeBatch(ctx context.Context, cs []*kv.Command, local bool, out []cluster.Pending) []cluster.Pending
	ReadIndexLocal(ctx context.Context) (uint64, error)
	Following() (term uint64, leaderID string)
	Read(ctx context.Context, lvl cluster.ReadLevel, fn func(v *kv.View) error) error
	ReadConsistent(ctx context.Context, lvl cluster.ReadLevel, fn func(v *kv.View) error) error
	DefaultReadLevel() cluster.ReadLevel
	RaftInfo() []raftkv.Field
	RaftState() string
	Snapshot() error
	Backup(ctx context.Context) (*kv.Backup, error)
	Engine() (name string, diskBytes int64)
	Join(ctx context.Context, id, raftAddr string, voter bool) error
	Leave(ctx context.Context, id string) error
	Transfer(ctx context.Context, id string) error
	Peers() ([]cluster.Peer, error)
	Leader() (cluster.Peer, error)
	ForwardInfo() []raftkv.Field
}

var _ Backend = (*cluster.Router)(nil)

// Config configures a Server. Start from DefaultConfig.
type Config struct {
	// Addr is the TCP address to listen on. Default 127.0.0.1:6379; port 0
	// picks a free port.
	Addr string
	// MaxBulkLen is the largest bulk argument accepted. Default 512 MB.
	MaxBulkLen int
	// RequirePass, when set, makes clients AUTH before other commands.
	RequirePass string
	// CommandTimeout bounds how long one pipeline of commands may wait for
	// raft (leader election, commit, read index). Default 10s.
	CommandTimeout time.Duration
	// MaxPipeline is how many writes of one connection are proposed before
	// waiting for their outcomes. Default 1024.
	MaxPipeline int
	// Version is reported by INFO and HELLO as riot_version.
	Version string
	// Databases is how many databases SELECT offers (Redis's databases),
	// 1 to kv.MaxDatabases. Default (0) 16, as Redis.
	Databases int
	// Info adds fields to INFO's server section (data dir, ports, ...).
	Info []raftkv.Field
	// Shutdown, when set, starts the graceful stop of this node (as
	// SIGTERM does) and returns at once; SHUTDOWN calls it. Nil: SHUTDOWN
	// answers an error (an embedded server stops through its owner).
	Shutdown func()
	// Shards, when set, is the node's sharded mode (shards.go): keys are
	// served by the group of their hash slot, with Redis Cluster's MOVED
	// and CROSSSLOT. Nil: one group serves every key.
	Shards Shards
	// Logger; default discard.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Addr:           "127.0.0.1:6379",
		MaxBulkLen:     respwire.DefaultMaxBulkLen,
		CommandTimeout: 10 * time.Second,
		MaxPipeline:    1024,
		Version:        "dev",
		Databases:      DefaultDatabases,
	}
}

// Validate reports the first problem with c.
func (c *Config) Validate() error {
	switch {
	case c.Addr == "":
		return errors.New("resp: config: Addr is required")
	case c.MaxBulkLen < 1 || c.MaxBulkLen > kv.MaxStringBytes:
		return fmt.Errorf("resp: config: MaxBulkLen must be between 1 and %d", kv.MaxStringBytes)
	case c.CommandTimeout <= 0:
		return errors.New("resp: config: CommandTimeout must be positive")
	case c.MaxPipeline < 1:
		return errors.New("resp: config: MaxPipeline must be positive")
	case c.Databases < 0 || c.Databases > kv.MaxDatabases:
		return fmt.Errorf("resp: config: Databases must be between 1 and %d", kv.MaxDatabases)
	}
	return nil
}

// DefaultDatabases is Redis's default number of databases.
const DefaultDatabases = 16

// databases returns how many databases SELECT offers.
func (c *Config) databases() int {
	if c.Databases == 0 {
		return DefaultDatabases
	}
	return c.Databases
}

// Server serves the Redis protocol.
type Server struct {
	cfg     Config
	backend Backend
	logger  *slog.Logger
	started time.Time
	runID   string
	// commands is the command table, built once in NewServer.
	commands map[string]*command

	ln      net.Listener
	nextID  atomic.Int64
	closing atomic.Bool
	wg      sync.WaitGroup

	mu       sync.Mutex
	sessions map[int64]*session

	stats serverStats
	ops   opsSampler
	// stopSampler ends sampleOps (started by Serve) on Close.
	stopSampler     chan struct{}
	stopSamplerOnce sync.Once

	// bulkOverride is proto-max-bulk-len once CONFIG SET changed it
	// (0: cfg.MaxBulkLen); see maxBulkLen.
	bulkOverride atomic.Int64
	// tunables are the encoding thresholds (config_encoding.go).
	tunables [nTunables]atomic.Int64
	// blocking is this node's blocked clients (cmd_blocking.go).
	blocking blockTable
	// scans holds this node's SCAN key cursors (scan_cursors.go).
	scans scanTable
	// resetBase is what INFO's counters read at the last CONFIG
	// RESETSTAT (cmd_config.go).
	resetBase statsBase
	// saves is SAVE, BGSAVE and LASTSAVE's state (cmd_save.go).
	saves saveState
	// shuttingDown is set once SHUTDOWN has called cfg.Shutdown.
	shuttingDown atomic.Bool
}

type serverStats struct {
	connections atomic.Int64
	commands    atomic.Int64
	unknown     atomic.Uint64 // unknown commands (the others count in their table row)
	// netIn and netOut are the bytes read from and written to clients
	// (INFO's total_net_input_bytes, total_net_output_bytes).
	netIn, netOut atomic.Uint64
	// peakMemory is the highest used_memory sampled (sampleOps, INFO).
	peakMemory atomic.Uint64
}

// NewServer returns a server for backend; call Listen then Serve.
func NewServer(cfg Config, backend Backend) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, backend: backend, logger: cfg.Logger,
		started: time.Now(), runID: newRunID(),
		sessions: make(map[int64]*session),
		commands: newCommandTable(),

		stopSampler: make(chan struct{}),
	}
	for t, v := range tunableDefaults {
		s.tunables[t].Store(v)
	}
	s.saves.init(s.started)
	return s, nil
}

// Listen binds the configured address.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("resp: listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr returns the bound address (after Listen).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until Close. It returns nil after Close.
func (s *Server) Serve() error {
	// Every wg.Add happens under mu while not closing, so that none runs
	// concurrently with Close's Wait.
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return nil
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		s.sampleOps(s.stopSampler)
	}()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("resp: accept: %w", err)
		}
		sess := s.newSession(c)
		if sess == nil {
			continue
		}
		go func() {
			defer s.wg.Done()
			sess.serve()
		}()
	}
}

// newSession registers a session for c, counted in wg (its goroutine
// calls wg.Done), unless the server is closing.
func (s *Server) newSession(c net.Conn) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		c.Close()
		return nil
	}
	s.wg.Add(1)
	sess := newSession(s, c)
	s.sessions[sess.id] = sess
	s.stats.connections.Add(1)
	return sess
}

func (s *Server) removeSession(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess.id)
	s.mu.Unlock()
}

// Close stops accepting, lets every connection finish the commands it has
// already read (their replies are written), closes the connections and
// waits for them until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing.Store(true)
	for _, sess := range s.sessions {
		sess.interrupt()
	}
	s.mu.Unlock()
	s.blocking.stopAll(errServerClosing)
	s.stopSamplerOnce.Do(func() { close(s.stopSampler) })
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for _, sess := range s.sessions {
			sess.conn.Close()
		}
		s.mu.Unlock()
		// A handler stuck waiting on raft must not keep the process up.
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			s.logger.Warn("RESP server closed with handlers still running")
		}
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func newRunID() string {
	var b [20]byte
	_, _ = rand.Read(b[:]) // never fails on Linux
	return hex.EncodeToString(b[:])
}

// sessionList returns the open sessions ordered by ID.
func (s *Server) sessionList() []*session {
	s.mu.Lock()
	list := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		list = append(list, sess)
	}
	s.mu.Unlock()
	slices.SortFunc(list, func(a, b *session) int { return cmp.Compare(a.id, b.id) })
	return list
}
