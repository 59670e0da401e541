package kv

import (
	"io"
	"sync/atomic"
	"time"
)

// SnapshotOp is a snapshot operation: the op label of the snapshot metrics.
type SnapshotOp int

// Snapshot operations.
const (
	SnapPersist SnapshotOp = iota // write a snapshot (Snapshot.Persist)
	SnapRestore                   // install one (FSM.Restore)
)

// SnapshotOps lists the operations, for iterating over them.
var SnapshotOps = [...]SnapshotOp{SnapPersist, SnapRestore}

var snapOps = [...]string{SnapPersist: "persist", SnapRestore: "restore"}

func (op SnapshotOp) String() string { return snapOps[op] }

// Observer receives the state machine's measurements that counters do
// not hold (raftkv feeds them to prometheus histograms). Its methods run
// on the goroutine that applies, or that persists a snapshot, and must
// return quickly.
type Observer interface {
	// ObserveBatch records one ApplyBatch of entries entries.
	ObserveBatch(entries int)
	// ObserveSnapshot records one snapshot persist or restore that took d.
	ObserveSnapshot(op SnapshotOp, d time.Duration)
}

// SetObserver makes o receive the state machine's measurements. Call it
// before the state machine is used (before raft starts applying).
func (f *FSM) SetObserver(o Observer) { f.metrics.obs = o }

// fsmMetrics is what the state machine counts. Counters are atomics, so
// that INFO can show them.
type fsmMetrics struct {
	batches, entries atomic.Uint64
	commands         atomic.Uint64 // commands applied (a batch entry holds several)
	stops            atomic.Uint64 // times the state machine stopped (FSM.stop)
	expired          atomic.Uint64 // keys active expiry deleted (OpExpire), entries replayed at boot included

	snap [len(snapOps)]snapStats
	// restoring is 1 while Restore runs (raft restores from one
	// goroutine): a follower installing the leader's snapshot, or a boot
	// restoring the local one.
	restoring atomic.Int32

	obs Observer // nil: none
}

type snapStats struct {
	ok, failed atomic.Uint64
	lastBytes  atomic.Int64 // size of the last successful one
	lastUnix   atomic.Int64 // when the last successful one ended (Unix seconds)
}

func newFSMMetrics() *fsmMetrics { return &fsmMetrics{} }

// observeBatch records one ApplyBatch of n entries.
func (m *fsmMetrics) observeBatch(n int) {
	m.batches.Add(1)
	m.entries.Add(uint64(n))
	if m.obs != nil {
		m.obs.ObserveBatch(n)
	}
}

// observeSnapshot records one snapshot persist or restore of size bytes
// that took d.
func (m *fsmMetrics) observeSnapshot(op SnapshotOp, size int64, d time.Duration, err error) {
	s := &m.snap[op]
	if err != nil {
		s.failed.Add(1)
	} else {
		s.ok.Add(1)
		s.lastBytes.Store(size)
		s.lastUnix.Store(time.Now().Unix()) // not applied state: a clock is fine here
	}
	if m.obs != nil {
		m.obs.ObserveSnapshot(op, d)
	}
}

// Metrics are the state machine's counters since the process started.
type Metrics struct {
	Batches  uint64 // ApplyBatch calls
	Entries  uint64 // log entries they held
	Commands uint64 // commands applied (a batch entry holds several)
	Stops    uint64 // times the state machine stopped
	Expired  uint64 // keys active expiry deleted (OpExpire) on this node
	// Snapshots counts persists and restores, by SnapshotOp.
	Snapshots [len(snapOps)]SnapshotStats
	// Restoring is true while Restore runs.
	Restoring bool
}

// SnapshotStats counts one snapshot operation.
type SnapshotStats struct {
	OK, Failed uint64
	LastBytes  int64 // compressed size of the last successful one
	LastUnix   int64 // when the last successful one ended (Unix seconds; 0: none)
}

// Metrics returns the state machine's counters, for INFO and prometheus.
func (f *FSM) Metrics() Metrics {
	m := f.metrics
	out := Metrics{
		Batches: m.batches.Load(), Entries: m.entries.Load(),
		Commands: m.commands.Load(), Stops: m.stops.Load(), Expired: m.expired.Load(),
		Restoring: m.restoring.Load() != 0,
	}
	for op := range m.snap {
		s := &m.snap[op]
		out.Snapshots[op] = SnapshotStats{OK: s.ok.Load(), Failed: s.failed.Load(), LastBytes: s.lastBytes.Load(), LastUnix: s.lastUnix.Load()}
	}
	return out
}

// meteredWriter counts the bytes written through it.
type meteredWriter struct {
	w io.Writer
	n int64
}

func (c *meteredWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// meteredReader counts the bytes read through it.
type meteredReader struct {
	r io.Reader
	n int64
}

func (c *meteredReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
