package httpapi

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riotkv/riot/cluster"
)

// RegisterClusterMetrics registers gauges read from the router's Status
// (once per scrape): raft term, indexes, role, storage size. The counters
// and histograms of each layer come from their own collectors
// (resp.Server, cluster.Router, raftkv.Node, gossip.Gossip), which
// cmd/riot-server registers.
func RegisterClusterMetrics(reg prometheus.Registerer, r *cluster.Router) error {
	return reg.Register(statusCollector{r})
}

type statusGauge struct {
	desc  *prometheus.Desc
	value func(cluster.Status) float64
}

func gauge(name, help string, value func(cluster.Status) float64) statusGauge {
	return statusGauge{prometheus.NewDesc(name, help, nil, nil), value}
}

var statusGauges = []statusGauge{
	gauge("riot_raft_term", "Current raft term.",
		func(s cluster.Status) float64 { return float64(s.Term) }),
	gauge("riot_raft_commit_index", "Highest committed raft log index.",
		func(s cluster.Status) float64 { return float64(s.CommitIndex) }),
	gauge("riot_raft_applied_index", "Highest raft index the state machine reflects.",
		func(s cluster.Status) float64 { return float64(s.AppliedIndex) }),
	gauge("riot_raft_last_index", "Last index in this node's raft log.",
		func(s cluster.Status) float64 { return float64(s.LastIndex) }),
	gauge("riot_raft_last_snapshot_index", "Index of the newest local snapshot.",
		func(s cluster.Status) float64 { return float64(s.LastSnapshotIndex) }),
	gauge("riot_raft_leader", "1 when this node is the leader.",
		func(s cluster.Status) float64 {
			if s.State == "leader" {
				return 1
			}
			return 0
		}),
	gauge("riot_raft_last_contact_seconds", "Time since the leader was last heard from (0 on the leader, -1 when never).",
		func(s cluster.Status) float64 {
			if s.LastContact < 0 {
				return -1
			}
			return s.LastContact.Seconds()
		}),
	gauge("riot_storage_disk_bytes", "Approximate bytes the storage engine uses on disk.",
		func(s cluster.Status) float64 { return float64(s.EngineDiskBytes) }),
}

// statusCollector reads the router's Status once per scrape.
type statusCollector struct{ r *cluster.Router }

func (c statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, g := range statusGauges {
		ch <- g.desc
	}
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.r.Status()
	for _, g := range statusGauges {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, g.value(st))
	}
}
