package cluster

import (
	"slices"
	"sort"

	"github.com/riotkv/riot/kv"
)

// place is the placement controller, run by the metadata group's leader:
// it returns the shard map as it should be and whether that differs from
// m (ok: m exists).
//
//   - No map and Shards > 1: create one, the slots split evenly over
//     Shards groups, each placed on up to Replicas live nodes.
//   - A member that left the metadata group (the membership reconciler
//     removes nodes that left, and failed ones after --dead-node-timeout)
//     leaves every group; a group short of Replicas gains the live nodes
//     that hold the fewest replicas.
//   - Preferred leaders are spread so that no node is preferred for more
//     groups than its share.
//
// It is a pure function of its inputs (the map, the metadata group's
// configuration and what gossip sees), so every step can be tested alone.
func (s *Shards) place(m kv.ShardMap, ok bool) (kv.ShardMap, bool) {
	servers, err := s.meta.node.Servers()
	if err != nil {
		return m, false
	}
	v, release := s.meta.node.FSM().View()
	book, err := v.Members()
	release()
	if err != nil {
		return m, false
	}
	addressed := make(map[string]bool, len(book))
	for _, b := range book {
		addressed[b.ID] = true
	}
	var nodes, live []string
	for _, sv := range servers {
		if !addressed[sv.ID] {
			continue // not announced yet: no address to place it at
		}
		nodes = append(nodes, sv.ID)
		if s.alive(sv.ID) {
			live = append(live, sv.ID)
		}
	}
	sort.Strings(nodes)
	sort.Strings(live)
	if !ok {
		if s.cfg.Shards <= 1 || len(live) == 0 {
			return m, false
		}
		if s.holdsKeys() {
			s.mu.Lock()
			warned := s.warnedKeys
			s.warnedKeys = true
			s.sharded.Store(false)
			s.mu.Unlock()
			if !warned {
				s.logger.Warn("not sharding: the cluster already holds keys in its one group (shard a new cluster and copy the data)")
			}
			return m, false
		}
		if s.cfg.Restored {
			live = []string{s.meta.node.ID()} // the founder of every group
		}
		return createMap(s.cfg.Shards, s.cfg.Replicas, s.meta.node.ID(), live), true
	}
	led := map[uint32]bool{}
	for id := range s.groupLeaders(m) {
		led[id] = true
	}
	next := rebalance(m, nodes, live, led)
	return next, next.Epoch != m.Epoch
}

// createMap returns a new shard map (epoch 1): n groups over the slots,
// group i placed on up to replicas of live nodes starting at the i-th,
// so that replicas and preferred leaders spread from the start. founder
// (this node) is first among the live nodes.
func createMap(n, replicas int, founder string, live []string) kv.ShardMap {
	order := append([]string{founder}, slices.DeleteFunc(slices.Clone(live), func(id string) bool { return id == founder })...)
	m := kv.ShardMap{Epoch: 1, Replicas: replicas}
	for i, r := range kv.EvenSlots(n) {
		var members []string
		for k := range min(replicas, len(order)) {
			members = append(members, order[(i+k)%len(order)])
		}
		m.Groups = append(m.Groups, kv.ShardGroup{ID: uint32(i + 1), Slots: []kv.SlotRange{r},
			Members: members, Initial: slices.Clone(members), Leader: members[0]})
	}
	return m
}

// rebalance returns m with members that left the cluster dropped, groups
// short of replicas filled from the live nodes holding the fewest,
// preferred leaders spread, and the groups in led (they have a leader)
// marked founded; its epoch moves when anything changed.
func rebalance(m kv.ShardMap, nodes, live []string, led map[uint32]bool) kv.ShardMap {
	next := m.Clone()
	for i := range next.Groups {
		if led[next.Groups[i].ID] {
			next.Groups[i].Founded = true
		}
	}
	load := map[string]int{}
	for _, id := range live {
		load[id] = 0
	}
	for i := range next.Groups {
		g := &next.Groups[i]
		g.Members = slices.DeleteFunc(g.Members, func(id string) bool { return !slices.Contains(nodes, id) })
		for _, id := range g.Members {
			load[id]++
		}
	}
	for i := range next.Groups {
		g := &next.Groups[i]
		for len(g.Members) < next.Replicas {
			best := ""
			for _, id := range live {
				if slices.Contains(g.Members, id) {
					continue
				}
				if best == "" || load[id] < load[best] {
					best = id
				}
			}
			if best == "" {
				break
			}
			g.Members = append(g.Members, best)
			load[best]++
		}
	}
	spreadLeaders(&next, live)
	if !sameGroups(m, next) {
		next.Epoch = m.Epoch + 1
	}
	return next
}

// spreadLeaders gives each group a preferred leader among its live
// members, keeping the current one while it does not lead more than its
// share, so that leadership moves as little as possible.
func spreadLeaders(m *kv.ShardMap, live []string) {
	if len(live) == 0 {
		return
	}
	share := (len(m.Groups) + len(live) - 1) / len(live)
	leads := map[string]int{}
	for i := range m.Groups {
		g := &m.Groups[i]
		if slices.Contains(live, g.Leader) && slices.Contains(g.Members, g.Leader) && leads[g.Leader] < share {
			leads[g.Leader]++
			continue
		}
		g.Leader = ""
	}
	for i := range m.Groups {
		g := &m.Groups[i]
		if g.Leader != "" {
			continue
		}
		for _, id := range g.Members {
			if slices.Contains(live, id) && (g.Leader == "" || leads[id] < leads[g.Leader]) {
				g.Leader = id
			}
		}
		if g.Leader != "" {
			leads[g.Leader]++
		}
	}
}

func sameGroups(a, b kv.ShardMap) bool {
	if len(a.Groups) != len(b.Groups) {
		return false
	}
	for i := range a.Groups {
		x, y := a.Groups[i], b.Groups[i]
		if x.Leader != y.Leader || x.Founded != y.Founded || !slices.Equal(x.Members, y.Members) {
			return false
		}
	}
	return true
}

// holdsKeys reports whether the metadata group holds any key: a cluster
// that ran unsharded is never sharded under its data (they would be out
// of every group's reach).
func (s *Shards) holdsKeys() bool {
	v, release := s.meta.node.FSM().View()
	defer release()
	found := false
	for db := range kv.MaxDatabases {
		if err := v.DB(uint8(db)).Scan(nil, 0, func(_, _ []byte, _ kv.KeyInfo) bool { found = true; return false }); err != nil {
			return true
		}
		if found {
			return true
		}
	}
	return false
}
