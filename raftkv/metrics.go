package raftkv

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riotkv/riot/kv"
)

// latencyBuckets are the upper bounds, in seconds, of the log append
// latency histogram: 50µs to 5s, as resp's command latency buckets.
var latencyBuckets = []float64{
	50e-6, 100e-6, 250e-6, 500e-6,
	1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3,
	1, 2.5, 5,
}

// nodeMetrics is what the node counts besides the state machine.
type nodeMetrics struct {
	leaderChanges atomic.Uint64
	clampedNow    atomic.Uint64 // proposals whose Now admit lowered
	lastLeader    string        // only the observer goroutine touches it

	logAppend          prometheus.Histogram
	appends, appendsNS atomic.Uint64

	// The state machine's histograms (kv.Observer); its counters are
	// kv.FSM.Metrics.
	batchEntries prometheus.Histogram
	snapDuration *prometheus.HistogramVec
	snapHist     [len(kv.SnapshotOps)]prometheus.Observer
}

// newFSMHistograms makes the histograms of the state machine's
// measurements (see ObserveBatch, ObserveSnapshot).
func (m *nodeMetrics) newFSMHistograms() {
	m.batchEntries = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "riot_raft_apply_batch_entries",
		Help:    "Log entries handed to the state machine in one ApplyBatch (one storage batch).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 11), // 1 .. 1024 (MaxAppendEntries)
	})
	m.snapDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "riot_snapshot_duration_seconds",
		Help:    "Time to persist (write) or restore (install) a snapshot.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 10), // 1ms .. 262s
	}, []string{"op"})
	for _, op := range kv.SnapshotOps {
		m.snapHist[op] = m.snapDuration.WithLabelValues(op.String())
	}
}

// ObserveBatch implements kv.Observer.
func (m *nodeMetrics) ObserveBatch(entries int) { m.batchEntries.Observe(float64(entries)) }

// ObserveSnapshot implements kv.Observer.
func (m *nodeMetrics) ObserveSnapshot(op kv.SnapshotOp, d time.Duration) {
	m.snapHist[op].Observe(d.Seconds())
}

// noteLeader records a leader observation: a change to a known leader
// (a new one, or the same one elected again after a time without) counts.
func (m *nodeMetrics) noteLeader(id string) {
	if id != "" && id != m.lastLeader {
		m.leaderChanges.Add(1)
	}
	m.lastLeader = id
}

// timedLogStore times the appends to the raft log store (each one an
// fsync with the bolt store).
type timedLogStore struct {
	raft.LogStore
	m *nodeMetrics
}

func (s timedLogStore) StoreLog(l *raft.Log) error {
	start := time.Now()
	err := s.LogStore.StoreLog(l)
	s.observe(time.Since(start))
	return err
}

func (s timedLogStore) StoreLogs(logs []*raft.Log) error {
	start := time.Now()
	err := s.LogStore.StoreLogs(logs)
	s.observe(time.Since(start))
	return err
}

// IsMonotonic passes the optional raft.MonotonicLogStore through.
func (s timedLogStore) IsMonotonic() bool {
	m, ok := s.LogStore.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

func (s timedLogStore) observe(d time.Duration) {
	s.m.appends.Add(1)
	s.m.appendsNS.Add(uint64(d))
	s.m.logAppend.Observe(d.Seconds())
}

// Collectors returns the node's metrics, for a prometheus registry:
// leader changes, apply batch sizes, log append latency, snapshots. (Term
// and indexes are gauges read from Status; see package httpapi.)
func (n *Node) Collectors() []prometheus.Collector {
	cs := []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "riot_raft_leader_changes_total",
			Help: "Leaders this node has seen elected (a new leader, or the same one again after a time without).",
		}, func() float64 { return float64(n.metrics.leaderChanges.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "riot_fsm_failed",
			Help: "1 while this node's state machine is stopped (a storage error, stored data that does not decode, or a bug); see docs/operations.md.",
		}, func() float64 {
			if n.fsm.Err() != nil {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "riot_fsm_stops_total",
			Help: "Times this node's state machine stopped since the process started.",
		}, func() float64 { return float64(n.fsm.Metrics().Stops) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "riot_sweeper_deleted_total",
			Help: "Element records of deleted collections the sweeper removed from this node's engine.",
		}, func() float64 { return float64(n.fsm.SweepStats().Deleted) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "riot_sweeper_passes_total",
			Help: "Passes of the sweeper over every element record of this node's engine.",
		}, func() float64 { return float64(n.fsm.SweepStats().Passes) }),
		n.metrics.logAppend,
		n.metrics.batchEntries,
		n.metrics.snapDuration,
	}
	for _, op := range kv.SnapshotOps {
		for _, r := range []struct {
			result string
			v      func(kv.SnapshotStats) uint64
		}{
			{"ok", func(s kv.SnapshotStats) uint64 { return s.OK }},
			{"err", func(s kv.SnapshotStats) uint64 { return s.Failed }},
		} {
			cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name:        "riot_snapshots_total",
				Help:        "Snapshots written (persist) or installed (restore) by this node's state machine.",
				ConstLabels: prometheus.Labels{"op": op.String(), "result": r.result},
			}, func() float64 { return float64(r.v(n.fsm.Metrics().Snapshots[op])) }))
		}
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "riot_snapshot_last_size_bytes",
			Help:        "Compressed size of the last snapshot persisted or restored.",
			ConstLabels: prometheus.Labels{"op": op.String()},
		}, func() float64 { return float64(n.fsm.Metrics().Snapshots[op].LastBytes) }))
	}
	cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "riot_snapshot_restoring",
		Help: "1 while the state machine restores a snapshot (installs one sent by the leader, or restores the local one at boot), else 0.",
	}, func() float64 { return b2f(n.fsm.Metrics().Restoring) }))
	return cs
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricFields are the riot_* fields RAFT.INFO and INFO's raft section add
// to raft's own.
func (n *Node) metricFields() []Field {
	fm := n.fsm.Metrics()
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	appends := n.metrics.appends.Load()
	return []Field{
		{Name: "riot_leader_changes", Value: u(n.metrics.leaderChanges.Load())},
		{Name: "riot_apply_batches", Value: u(fm.Batches)},
		{Name: "riot_apply_entries", Value: u(fm.Entries)},
		{Name: "riot_apply_commands", Value: u(fm.Commands)},
		{Name: "riot_expired_keys", Value: u(fm.Expired)},
		{Name: "riot_log_appends", Value: u(appends)},
		{Name: "riot_log_append_usec", Value: u(n.metrics.appendsNS.Load() / 1e3)},
		{Name: "riot_snapshots_persisted", Value: u(fm.Snapshots[kv.SnapPersist].OK)},
		{Name: "riot_snapshots_restored", Value: u(fm.Snapshots[kv.SnapRestore].OK)},
		{Name: "riot_snapshot_failures", Value: u(fm.Snapshots[kv.SnapPersist].Failed + fm.Snapshots[kv.SnapRestore].Failed)},
		{Name: "riot_last_snapshot_bytes", Value: strconv.FormatInt(fm.Snapshots[kv.SnapPersist].LastBytes, 10)},
		{Name: "riot_last_snapshot_time", Value: strconv.FormatInt(fm.Snapshots[kv.SnapPersist].LastUnix, 10)},
		{Name: "riot_clock_clamped", Value: u(n.metrics.clampedNow.Load())},
		{Name: "riot_fsm_failed", Value: fsmFailed(n.fsm.Err())},
		{Name: "riot_node_secret", Value: u(uint64(min(len(n.fsm.Secret()), 1)))},
		{Name: "riot_fsm_error", Value: fsmError(n.fsm.Err())},
		{Name: "riot_snapshot_restoring", Value: strconv.FormatInt(int64(b2f(fm.Restoring)), 10)},
	}
}

func fsmFailed(err error) string {
	if err != nil {
		return "1"
	}
	return "0"
}

// fsmError is err's text on one line of at most 200 bytes, "" for none.
func fsmError(err error) string {
	if err == nil {
		return ""
	}
	msg := strings.NewReplacer("\r", " ", "\n", " ").Replace(err.Error())
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}
