package cluster

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	shardsEpochDesc = prometheus.NewDesc("riot_shards_epoch",
		"Version of the shard map this node has applied (0: the cluster is not sharded).", nil, nil)
	groupsLedDesc = prometheus.NewDesc("riot_groups_led",
		"Data groups this node leads.", nil, nil)
	groupsLocalDesc = prometheus.NewDesc("riot_groups_local",
		"Data groups this node holds a replica of.", nil, nil)
	groupAppliedDesc = prometheus.NewDesc("riot_group_applied_index",
		"Highest log index this node's replica of the data group has applied.", []string{"group"}, nil)
	groupCommitDesc = prometheus.NewDesc("riot_group_commit_index",
		"Highest committed log index this node's replica of the data group knows.", []string{"group"}, nil)
	groupLastDesc = prometheus.NewDesc("riot_group_last_index",
		"Last index in the log of this node's replica of the data group.", []string{"group"}, nil)
	groupLeaderDesc = prometheus.NewDesc("riot_group_is_leader",
		"1 when this node leads the data group, else 0.", []string{"group"}, nil)
	groupTermDesc = prometheus.NewDesc("riot_group_term",
		"Raft term of this node's replica of the data group.", []string{"group"}, nil)
)

// Collector returns a collector of the sharded mode's metrics, read from
// Status on every scrape: the shard map's epoch, how many data groups
// this node holds and leads, and the raft state of each replica it holds
// (labelled group="N").
func (s *Shards) Collector() prometheus.Collector { return shardsCollector{s.status} }

// shardsCollector collects from status: the epoch and every group.
type shardsCollector struct {
	status func() (uint64, []GroupStatus)
}

func (c shardsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{shardsEpochDesc, groupsLedDesc, groupsLocalDesc,
		groupAppliedDesc, groupCommitDesc, groupLastDesc, groupLeaderDesc, groupTermDesc} {
		ch <- d
	}
}

func (c shardsCollector) Collect(ch chan<- prometheus.Metric) {
	epoch, groups := c.status()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	led, local := 0, 0
	for _, g := range groups {
		st := g.Local
		if st == nil {
			continue
		}
		local++
		leader := 0.0
		if st.State == "leader" {
			led++
			leader = 1
		}
		id := strconv.FormatUint(uint64(g.ID), 10)
		gauge(groupAppliedDesc, float64(st.AppliedIndex), id)
		gauge(groupCommitDesc, float64(st.CommitIndex), id)
		gauge(groupLastDesc, float64(st.LastIndex), id)
		gauge(groupLeaderDesc, leader, id)
		gauge(groupTermDesc, float64(st.Term), id)
	}
	gauge(shardsEpochDesc, float64(epoch))
	gauge(groupsLedDesc, float64(led))
	gauge(groupsLocalDesc, float64(local))
}
