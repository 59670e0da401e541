package raftkv

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hashicorp/raft"

	"github.com/riotkv/riot/kv"
)

// Config configures a Node. Start from DefaultConfig.
type Config struct {
	// ID is this server's stable raft ID. Required.
	ID string
	// Dir holds raft.db (log and stable store) and snapshots/. Required
	// unless InMemory is set.
	Dir string
	// RaftAddr is the address the raft transport binds. Port 0 picks a free
	// port. Default 127.0.0.1:16379. Ignored when Mux is set.
	RaftAddr string
	// Advertise is the address other servers use to reach this one, when it
	// differs from RaftAddr (binding 0.0.0.0). Default: RaftAddr as bound.
	// Ignored when Mux is set.
	Advertise string
	// Mux, when set, carries this node's raft traffic on a listener shared
	// with the process's other raft groups: the node's transport is
	// Mux.Transport(Group), closed with the node; the Mux stays open (its
	// owner closes it after every node on it). Default nil: the node
	// listens on RaftAddr itself.
	Mux *Mux
	// Group is the raft group this node serves on Mux: 0 is the metadata
	// group (the only one of a server without shards), whose connections
	// are those of a plain raft TCP transport. Ignored without Mux.
	Group uint32
	// Bootstrap makes a node with no raft state bootstrap a one-server
	// cluster of itself. A node that has state never bootstraps again.
	Bootstrap bool

	// Raft timing. Defaults suit a LAN: heartbeat and election 1s, leader
	// lease 500ms, commit 5ms (followers learn the commit index that fast,
	// which bounds how long a follower read waits after a write).
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// MaxAppendEntries bounds the entries per AppendEntries RPC, per FSM
	// batch and per leader log append. hashicorp/raft counts entries, not
	// bytes: with 1 MB entries a follower catching up gets requests of
	// MaxAppendEntries MB. Default 64 (docs/performance.md, "Memory with
	// big values").
	MaxAppendEntries int
	// LogCacheBytes bounds the newest log entries kept in memory for
	// replication (at most MaxAppendEntries of them; logcache.go). Default
	// 64 MiB.
	LogCacheBytes int
	// SnapshotThreshold is the number of new log entries that triggers a
	// snapshot. Default 16384.
	SnapshotThreshold uint64
	// SnapshotInterval is how often raft checks the threshold. Default 30s.
	SnapshotInterval time.Duration
	// TrailingLogs is the number of entries kept after a snapshot so that
	// slightly lagging followers catch up from the log. Default 10240.
	TrailingLogs uint64
	// SnapshotRetain is how many snapshots are kept on disk. Default 2.
	SnapshotRetain int
	// ApplyTimeout bounds the wait to hand a command to raft. Default 5s.
	ApplyTimeout time.Duration
	// ProposeWindow is the number of group-commit entries in flight
	// (proposer.go): ProposeBatch's commands wait while that many are
	// between raft.Apply and their outcome, then go together in one entry.
	// Default 1; 0 hands each call to raft at once.
	ProposeWindow int
	// ActiveExpireInterval is how often the leader looks for expired keys
	// to delete (reads hide them anyway). Default 100ms; 0 turns active
	// expiry off.
	ActiveExpireInterval time.Duration
	// ActiveExpireBatch bounds the keys deleted by one log entry. Default
	// 256.
	ActiveExpireBatch int

	// SweepInterval is how often every node sweeps the elements of
	// deleted collections (kv.FSM.Sweep): each tick it sweeps until a pass
	// finds nothing to delete or SweepBudget records were examined.
	// Default 1s; 0 turns the sweeper off.
	SweepInterval time.Duration
	// SweepBatch is the number of records one sweep step examines (and at
	// most deletes, in one engine batch). Default 1024.
	SweepBatch int
	// SweepBudget bounds the records examined per SweepInterval, and so
	// the rate at which garbage is removed. Default 262144.
	SweepBudget int

	// RestoreFrom, when not empty, starts a new one-server cluster of
	// this node from backups (the format Backup writes; several are
	// merged, and the same key in two is an error) instead of an empty
	// state: the data is loaded, the old clusters' address books and
	// request records are dropped, and raft starts from a snapshot of it
	// (servers that join receive that snapshot). Open refuses a Dir that
	// has raft state (ErrHasState) or an engine that holds data
	// (ErrEngineNotEmpty). Default nil.
	RestoreFrom []io.Reader
	// RestoreSlots, when not nil, restores only the keys in these hash
	// slots (a data group of a sharded restore). Default nil: every key.
	RestoreSlots []kv.SlotRange

	// LogStore is where the raft log and stable store live: "bolt"
	// (raft-boltdb, Dir/raft.db; the default) or "wal" (hashicorp/raft-wal,
	// Dir/wal/: one append and one fsync per batch; faster writes, see
	// docs/performance.md). A data dir keeps the store it was created with.
	LogStore string

	// InMemory keeps the raft log, stable store and snapshots in memory
	// (tests only: nothing survives the process).
	InMemory bool
	// Transport overrides the TCP transport (tests: raft.InmemTransport).
	// It is the caller's to close.
	Transport raft.Transport

	// Logger receives raft's and the node's logs. Default: discard.
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every tunable set to its default.
func DefaultConfig() Config {
	return Config{
		RaftAddr:           "127.0.0.1:16379",
		HeartbeatTimeout:   1000 * time.Millisecond,
		ElectionTimeout:    1000 * time.Millisecond,
		LeaderLeaseTimeout: 500 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
		MaxAppendEntries:   64,
		LogCacheBytes:      64 << 20,
		SnapshotThreshold:  16384,
		SnapshotInterval:   30 * time.Second,
		TrailingLogs:       10240,
		SnapshotRetain:     2,
		ApplyTimeout:       5 * time.Second,
		ProposeWindow:      1,

		ActiveExpireInterval: 100 * time.Millisecond,
		ActiveExpireBatch:    256,

		SweepInterval: time.Second,
		SweepBatch:    1024,
		SweepBudget:   256 << 10,
	}
}

// Log stores Config.LogStore names.
const (
	LogStoreBolt = "bolt"
	LogStoreWAL  = "wal"
)

// ValidLogStore reports whether name is a Config.LogStore value ("" picks
// what the data dir holds).
func ValidLogStore(name string) bool {
	return name == "" || name == LogStoreBolt || name == LogStoreWAL
}

// Validate reports the first problem with c.
func (c *Config) Validate() error {
	if !ValidLogStore(c.LogStore) {
		return fmt.Errorf("raftkv: config: unknown log store %q (want bolt or wal)", c.LogStore)
	}
	switch {
	case c.ID == "":
		return errors.New("raftkv: config: ID is required")
	case c.Dir == "" && !c.InMemory:
		return errors.New("raftkv: config: Dir is required")
	case c.Transport != nil && c.Mux != nil:
		return errors.New("raftkv: config: set Transport or Mux, not both")
	case c.RaftAddr == "" && c.Transport == nil && c.Mux == nil:
		return errors.New("raftkv: config: RaftAddr is required")
	case c.MaxAppendEntries <= 0 || c.MaxAppendEntries > 1024:
		return fmt.Errorf("raftkv: config: MaxAppendEntries %d not in 1..1024", c.MaxAppendEntries)
	case c.LogCacheBytes < 1:
		return fmt.Errorf("raftkv: config: LogCacheBytes %d < 1", c.LogCacheBytes)
	case c.SnapshotRetain < 1:
		return fmt.Errorf("raftkv: config: SnapshotRetain %d < 1", c.SnapshotRetain)
	case c.ApplyTimeout <= 0:
		return errors.New("raftkv: config: ApplyTimeout must be positive")
	case c.ProposeWindow < 0 || c.ProposeWindow > 64:
		return fmt.Errorf("raftkv: config: ProposeWindow %d not in 0..64", c.ProposeWindow)
	case c.ActiveExpireInterval < 0:
		return errors.New("raftkv: config: ActiveExpireInterval must not be negative")
	case c.ActiveExpireInterval > 0 && (c.ActiveExpireBatch < 1 || c.ActiveExpireBatch > 4096):
		return fmt.Errorf("raftkv: config: ActiveExpireBatch %d not in 1..4096", c.ActiveExpireBatch)
	case c.SweepInterval < 0:
		return errors.New("raftkv: config: SweepInterval must not be negative")
	case c.SweepInterval > 0 && (c.SweepBatch < 1 || c.SweepBatch > 1<<20):
		return fmt.Errorf("raftkv: config: SweepBatch %d not in 1..1048576", c.SweepBatch)
	case c.SweepInterval > 0 && c.SweepBudget < c.SweepBatch:
		return fmt.Errorf("raftkv: config: SweepBudget %d below SweepBatch %d", c.SweepBudget, c.SweepBatch)
	}
	return nil
}

func (c *Config) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.ID)
	rc.HeartbeatTimeout = c.HeartbeatTimeout
	rc.ElectionTimeout = c.ElectionTimeout
	rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	rc.CommitTimeout = c.CommitTimeout
	rc.MaxAppendEntries = c.MaxAppendEntries
	rc.BatchApplyCh = true
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.SnapshotInterval = c.SnapshotInterval
	rc.TrailingLogs = c.TrailingLogs
	// The engine is durable: the node decides at boot whether the snapshot
	// must be restored (see Open), instead of raft always restoring it.
	rc.NoSnapshotRestoreOnStart = true
	rc.Logger = newHCLog(c.Logger, "raft")
	return rc
}
