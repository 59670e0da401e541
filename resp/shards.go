package resp

import (
	"time"

	"github.com/riotkv/riot/cluster"
)

// Shards is what resp needs from a sharded node (riot-server --shards N,
// N > 1): the groups that serve the hash slots, and the topology the
// Redis Cluster commands show. Config.Shards is nil on a node that never
// runs sharded; a node whose cluster has no slot map yet answers
// Sharded() false and serves every key from its one group, as before.
type Shards interface {
	// Sharded reports whether the cluster's slot map exists.
	Sharded() bool
	// Route returns the group that serves slot: its backend on this node
	// (nil when this node holds no replica of it) and whether this node
	// leads it.
	Route(slot uint16) (b Backend, leading bool)
	// Led returns the backends of the groups this node leads, for the
	// keyless commands (DBSIZE, KEYS, SCAN, ...), which answer for the
	// slots this node serves, as a Redis Cluster master does.
	Led() []Backend
	// Topology returns the cluster as this node knows it.
	Topology() cluster.Topology
	// Local returns the backends of this node's replicas, by group ID.
	Local() map[int]Backend
	// Groups returns every data group by ID, with the raft state of this
	// node's replicas (RAFT.GROUPS, INFO's Shards section); empty when
	// the cluster is not sharded.
	Groups() []cluster.GroupStatus
	// NotOpen says why groups the map places on this node are not open,
	// and for how long ("" when none is missing); RoundAge how long ago
	// the reconcile loop finished a round (INFO's Shards section).
	NotOpen() (string, time.Duration)
	RoundAge() time.Duration
}

// ClusterShards adapts a node's sharded mode to Shards.
func ClusterShards(s *cluster.Shards) Shards { return clusterShards{s} }

type clusterShards struct{ s *cluster.Shards }

func (c clusterShards) Sharded() bool                    { return c.s.Sharded() }
func (c clusterShards) Topology() cluster.Topology       { return c.s.Topology() }
func (c clusterShards) Groups() []cluster.GroupStatus    { return c.s.Status() }
func (c clusterShards) NotOpen() (string, time.Duration) { return c.s.NotOpen() }
func (c clusterShards) RoundAge() time.Duration          { return c.s.RoundAge() }

func (c clusterShards) Route(slot uint16) (Backend, bool) {
	r, leading := c.s.Route(slot)
	if r == nil {
		return nil, false
	}
	return r, leading
}

func (c clusterShards) Local() map[int]Backend {
	out := map[int]Backend{}
	for id, r := range c.s.Groups() {
		out[int(id)] = r
	}
	return out
}

func (c clusterShards) Led() []Backend {
	rs := c.s.Led()
	out := make([]Backend, len(rs))
	for i, r := range rs {
		out[i] = r
	}
	return out
}
