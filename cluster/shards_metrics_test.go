package cluster

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/riotkv/riot/raftkv"
)

func TestShardsCollector(t *testing.T) {
	groups := []GroupStatus{
		{ID: 1, Leader: "n1", Replicas: []string{"n1", "n2"},
			Local: &raftkv.Status{State: "leader", Term: 3, CommitIndex: 40, AppliedIndex: 39, LastIndex: 41}},
		{ID: 2, Leader: "n2", Replicas: []string{"n2", "n3"}},
		{ID: 3, Leader: "n3", Replicas: []string{"n1", "n3"},
			Local: &raftkv.Status{State: "follower", Term: 5, CommitIndex: 12, AppliedIndex: 12, LastIndex: 12}},
	}
	c := shardsCollector{func() (uint64, []GroupStatus) { return 9, groups }}
	want := `
# HELP riot_group_applied_index Highest log index this node's replica of the data group has applied.
# TYPE riot_group_applied_index gauge
riot_group_applied_index{group="1"} 39
riot_group_applied_index{group="3"} 12
# HELP riot_group_commit_index Highest committed log index this node's replica of the data group knows.
# TYPE riot_group_commit_index gauge
riot_group_commit_index{group="1"} 40
riot_group_commit_index{group="3"} 12
# HELP riot_group_is_leader 1 when this node leads the data group, else 0.
# TYPE riot_group_is_leader gauge
riot_group_is_leader{group="1"} 1
riot_group_is_leader{group="3"} 0
# HELP riot_group_last_index Last index in the log of this node's replica of the data group.
# TYPE riot_group_last_index gauge
riot_group_last_index{group="1"} 41
riot_group_last_index{group="3"} 12
# HELP riot_group_term Raft term of this node's replica of the data group.
# TYPE riot_group_term gauge
riot_group_term{group="1"} 3
riot_group_term{group="3"} 5
# HELP riot_groups_led Data groups this node leads.
# TYPE riot_groups_led gauge
riot_groups_led 1
# HELP riot_groups_local Data groups this node holds a replica of.
# TYPE riot_groups_local gauge
riot_groups_local 2
# HELP riot_shards_epoch Version of the shard map this node has applied (0: the cluster is not sharded).
# TYPE riot_shards_epoch gauge
riot_shards_epoch 9
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}

	// Unsharded: no group series, the three totals at 0.
	c = shardsCollector{func() (uint64, []GroupStatus) { return 0, nil }}
	if n := testutil.CollectAndCount(c); n != 3 {
		t.Errorf("unsharded: %d series, want 3", n)
	}
	if n := testutil.CollectAndCount(c, "riot_group_is_leader"); n != 0 {
		t.Errorf("unsharded: %d riot_group_is_leader series, want 0", n)
	}
}
