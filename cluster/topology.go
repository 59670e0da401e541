package cluster

import (
	"crypto/sha1"
	"encoding/hex"
)

// Topology is the sharded cluster as one node sees it: which raft group
// serves which hash slots, where each group's replicas and leader are,
// and how to reach every node. The Redis Cluster commands (CLUSTER SLOTS,
// SHARDS, NODES, INFO) and MOVED redirections are drawn from it.
type Topology struct {
	// Self is this node's raft ID.
	Self string
	// Epoch is the slot map's version (moved by every change of groups,
	// members or slot ranges): CLUSTER INFO's cluster_current_epoch.
	Epoch uint64
	// Nodes is every node of the cluster (the metadata group's members),
	// sorted by ID.
	Nodes []TopologyNode
	// Groups is every data group, sorted by ID; their slot ranges cover
	// the 16384 slots once.
	Groups []TopologyGroup
}

// TopologyNode is one node of the cluster.
type TopologyNode struct {
	ID         string // raft ID
	ClientAddr string // host:port clients reach (RESP); "" unknown
	// Connected: gossip sees the node alive (or this is the node itself).
	Connected bool
}

// TopologyGroup is one data group.
type TopologyGroup struct {
	ID    int
	Slots []SlotRange // sorted, disjoint
	// Leader is the leader's raft ID as last reported; "" unknown.
	Leader string
	// Replicas are the raft IDs of the group's members (Leader among them
	// when known), sorted.
	Replicas []string
}

// SlotRange is the hash slots From..To, both included.
type SlotRange struct{ From, To uint16 }

// ClusterNodeID is the 40-hex-character node ID Redis Cluster clients see
// for raft ID id (CLUSTER NODES, SLOTS, SHARDS, MYID): the SHA-1 of id, so
// every node derives the same one.
func ClusterNodeID(id string) string {
	sum := sha1.Sum([]byte(id))
	return hex.EncodeToString(sum[:])
}

// Node returns the node with raft ID id.
func (t *Topology) Node(id string) (TopologyNode, bool) {
	for _, n := range t.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return TopologyNode{}, false
}

// GroupOf returns the group serving slot.
func (t *Topology) GroupOf(slot uint16) (TopologyGroup, bool) {
	for _, g := range t.Groups {
		for _, r := range g.Slots {
			if slot >= r.From && slot <= r.To {
				return g, true
			}
		}
	}
	return TopologyGroup{}, false
}
