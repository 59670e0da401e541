// Package cluster routes commands to where they can run: writes to the raft
// leader, reads at the level the client asked for. It is the only package
// that decides what a follower does with a request.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

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
	// LeaderWait is how long a request waits for a leader to be elected
	// before failing with ErrNoLeader. Default 5s.
	LeaderWait time.Duration
	// DefaultReadLevel is the read level of new connections. Default
	// Linearizable.
	DefaultReadLevel ReadLevel
	// Logger; default discard.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{LeaderWait: 5 * time.Second, DefaultReadLevel: Linearizable}
}

// Validate reports the first problem with c.
func (c *Config) Validate() error {
	if c.LeaderWait <= 0 {
		return errors.New("cluster: config: LeaderWait must be positive")
	}
	return nil
}

// Errors returned by the Router.
var (
	// ErrNoLeader: no leader was elected within LeaderWait. Nothing was
	// proposed.
	ErrNoLeader = errors.New("cluster: no leader")
	// ErrNotLeader: another node leads and this node cannot forward the
	// request there. Nothing was proposed.
	ErrNotLeader = errors.New("cluster: not the leader")
)

// Router runs commands on the local raft node.
type Router struct {
	cfg  Config
	node *raftkv.Node
}

// New returns a Router over node.
func New(cfg Config, node *raftkv.Node) (*Router, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Router{cfg: cfg, node: node}, nil
}

// Node returns the local raft node, for status commands.
func (r *Router) Node() *raftkv.Node { return r.node }

// DefaultReadLevel is the read level new connections start with.
func (r *Router) DefaultReadLevel() ReadLevel { return r.cfg.DefaultReadLevel }

// Pending is a write whose outcome is not known yet.
type Pending interface {
	// Wait returns the command's result. An error means it was not
	// applied or that its outcome is unknown; never both success and
	// error.
	Wait() (raftkv.Result, error)
}

type failed struct{ err error }

func (f failed) Wait() (raftkv.Result, error) { return raftkv.Result{}, f.err }

// Propose starts a write and returns without waiting for it to commit, so
// that writes from one pipeline and from many connections share raft
// batches.
func (r *Router) Propose(ctx context.Context, c *raftkv.Command) Pending {
	if err := r.awaitLeader(ctx); err != nil {
		return failed{err}
	}
	return r.node.Propose(c)
}

// Apply proposes c and waits for its result.
func (r *Router) Apply(ctx context.Context, c *raftkv.Command) (raftkv.Result, error) {
	return r.Propose(ctx, c).Wait()
}

// Read runs fn on the local state once it is fresh enough for lvl.
func (r *Router) Read(ctx context.Context, lvl ReadLevel, fn func(v *raftkv.View) error) error {
	if err := r.ready(ctx, lvl); err != nil {
		return err
	}
	v, release := r.node.FSM().View()
	defer release()
	return fn(v)
}

// ReadConsistent is Read over a point-in-time snapshot, for reads of
// several keys that must be mutually consistent (MGET).
func (r *Router) ReadConsistent(ctx context.Context, lvl ReadLevel, fn func(v *raftkv.View) error) error {
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

func (r *Router) ready(ctx context.Context, lvl ReadLevel) error {
	if err := r.node.FSM().Err(); err != nil {
		return err
	}
	if lvl == Stale {
		return nil
	}
	if err := r.awaitLeader(ctx); err != nil {
		return err
	}
	idx, err := r.node.ReadIndex(ctx)
	if err != nil {
		return err
	}
	return r.node.WaitApplied(ctx, idx)
}

// awaitLeader returns nil once this node leads, waiting up to LeaderWait
// for an election to finish.
func (r *Router) awaitLeader(ctx context.Context) error {
	if r.node.IsLeader() {
		return nil
	}
	timer := time.NewTimer(r.cfg.LeaderWait)
	defer timer.Stop()
	for {
		changed := r.node.LeaderChanged()
		if r.node.IsLeader() {
			return nil
		}
		if id, _ := r.node.Leader(); id != "" && id != r.node.ID() {
			// Forwarding to the leader arrives with multi-node clusters.
			return fmt.Errorf("%w: leader is %s", ErrNotLeader, id)
		}
		select {
		case <-changed:
		case <-timer.C:
			return ErrNoLeader
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

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
