package httpapi

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riotkv/riot/cluster"
)

// RegisterClusterMetrics registers gauges read from the router on every
// scrape: raft term, indexes, role, peers, storage size.
func RegisterClusterMetrics(reg prometheus.Registerer, r *cluster.Router) error {
	status := func(f func(cluster.Status) float64) func() float64 {
		return func() float64 { return f(r.Status()) }
	}
	gauges := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "riot_raft_term", Help: "Current raft term."},
			status(func(s cluster.Status) float64 { return float64(s.Term) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "riot_raft_commit_index", Help: "Highest committed raft log index."},
			status(func(s cluster.Status) float64 { return float64(s.CommitIndex) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "riot_raft_applied_index", Help: "Highest raft index the state machine reflects."},
			status(func(s cluster.Status) float64 { return float64(s.AppliedIndex) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "riot_raft_last_snapshot_index", Help: "Index of the newest local snapshot."},
			status(func(s cluster.Status) float64 { return float64(s.LastSnapshotIndex) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "riot_raft_leader", Help: "1 when this node is the leader."},
			status(func(s cluster.Status) float64 {
				if s.State == "leader" {
					return 1
				}
				return 0
			})),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "riot_storage_disk_bytes", Help: "Approximate bytes the storage engine uses on disk."},
			status(func(s cluster.Status) float64 { return float64(s.EngineDiskBytes) })),
	}
	for _, g := range gauges {
		if err := reg.Register(g); err != nil {
			return err
		}
	}
	return nil
}
