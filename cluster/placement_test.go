package cluster

import (
	"errors"
	"slices"
	"testing"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/raftkv/raftkvtest"
)

func TestCreateMapSpreadsReplicasAndLeaders(t *testing.T) {
	m := createMap(3, 3, "b", []string{"a", "b", "c"})
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	leaders := map[string]int{}
	for _, g := range m.Groups {
		if len(g.Members) != 3 || !slices.Equal(g.Members, g.Initial) {
			t.Fatalf("group %d: members %v initial %v", g.ID, g.Members, g.Initial)
		}
		leaders[g.Leader]++
	}
	if m.Groups[0].Initial[0] != "b" {
		t.Errorf("group 1 founded by %s, want the creating node b", m.Groups[0].Initial[0])
	}
	if len(leaders) != 3 {
		t.Errorf("preferred leaders %v, want one group each", leaders)
	}
}

func TestCreateMapOnOneNode(t *testing.T) {
	m := createMap(6, 3, "a", []string{"a"})
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, g := range m.Groups {
		if !slices.Equal(g.Members, []string{"a"}) || g.Leader != "a" {
			t.Fatalf("group %d: members %v leader %s", g.ID, g.Members, g.Leader)
		}
	}
}

func TestRebalanceAddsJoinersAndSpreadsLeaders(t *testing.T) {
	m := createMap(3, 3, "a", []string{"a"})
	m = rebalance(m, []string{"a", "b"}, []string{"a", "b"}, nil)
	if m.Epoch != 2 {
		t.Fatalf("epoch %d after a join, want 2", m.Epoch)
	}
	m = rebalance(m, []string{"a", "b", "c"}, []string{"a", "b", "c"}, nil)
	if m.Epoch != 3 {
		t.Fatalf("epoch %d after the second join, want 3", m.Epoch)
	}
	leaders := map[string]int{}
	for _, g := range m.Groups {
		if len(g.Members) != 3 {
			t.Fatalf("group %d members %v, want 3", g.ID, g.Members)
		}
		if len(g.Initial) != 1 {
			t.Fatalf("group %d initial %v changed", g.ID, g.Initial)
		}
		leaders[g.Leader]++
	}
	if len(leaders) != 3 {
		t.Errorf("preferred leaders %v, want one group each", leaders)
	}
	if again := rebalance(m, []string{"a", "b", "c"}, []string{"a", "b", "c"}, nil); again.Epoch != m.Epoch {
		t.Errorf("a stable cluster moved the epoch to %d", again.Epoch)
	}
}

func TestRebalanceReplacesRemovedNode(t *testing.T) {
	m := createMap(3, 3, "a", []string{"a", "b", "c", "d"})
	// c failed and was removed from the metadata group: it leaves every
	// group, and d (holding the fewest) takes its place.
	m2 := rebalance(m, []string{"a", "b", "d"}, []string{"a", "b", "d"}, nil)
	if m2.Epoch != m.Epoch+1 {
		t.Fatalf("epoch %d, want %d", m2.Epoch, m.Epoch+1)
	}
	for _, g := range m2.Groups {
		if slices.Contains(g.Members, "c") || len(g.Members) != 3 {
			t.Fatalf("group %d members %v", g.ID, g.Members)
		}
		if g.Leader == "c" || !slices.Contains(g.Members, g.Leader) {
			t.Fatalf("group %d leader %q not a live member", g.ID, g.Leader)
		}
	}
	if err := m2.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestRebalanceKeepsFailedMemberUntilRemoved(t *testing.T) {
	m := createMap(3, 3, "a", []string{"a", "b", "c"})
	// c failed but is still in the metadata group (dead-node timeout not
	// reached): it stays a member, and no group prefers it as leader.
	m2 := rebalance(m, []string{"a", "b", "c"}, []string{"a", "b"}, nil)
	for _, g := range m2.Groups {
		if !slices.Contains(g.Members, "c") {
			t.Fatalf("group %d dropped c early: %v", g.ID, g.Members)
		}
		if g.Leader == "c" {
			t.Fatalf("group %d prefers failed c", g.ID)
		}
	}
}

// TestRebalanceMarksLedGroupsFounded: a group placement has seen led is
// marked founded (a new epoch), after which no founder bootstraps it
// again; the mark stays.
func TestRebalanceMarksLedGroupsFounded(t *testing.T) {
	nodes := []string{"a", "b", "c"}
	m := createMap(3, 3, "a", nodes)
	for _, g := range m.Groups {
		if g.Founded || !mayBootstrap(g) {
			t.Fatalf("new group %d: founded %v, may bootstrap %v", g.ID, g.Founded, mayBootstrap(g))
		}
	}
	m2 := rebalance(m, nodes, nodes, map[uint32]bool{2: true})
	if m2.Epoch != m.Epoch+1 || m2.Groups[0].Founded || !m2.Groups[1].Founded || m2.Groups[2].Founded {
		t.Fatalf("epoch %d, groups %+v; want epoch %d and group 2 alone founded", m2.Epoch, m2.Groups, m.Epoch+1)
	}
	if mayBootstrap(m2.Groups[1]) {
		t.Error("a founded group may be bootstrapped")
	}
	b, err := kv.EncodeShardMap(m2)
	if err != nil {
		t.Fatal(err)
	}
	back, err := kv.DecodeShardMap(b)
	if err != nil || !back.Groups[1].Founded || back.Groups[0].Founded {
		t.Fatalf("decoded %+v, %v; want group 2 founded", back.Groups, err)
	}
	m3 := rebalance(back, nodes, nodes, nil)
	if m3.Epoch != m2.Epoch || !m3.Groups[1].Founded {
		t.Errorf("epoch %d, group 2 founded %v; want the map unchanged", m3.Epoch, m3.Groups[1].Founded)
	}
}

func TestEvenSlotsCoverAll(t *testing.T) {
	for n := 1; n <= kv.MaxShards; n++ {
		rs := kv.EvenSlots(n)
		next := 0
		for _, r := range rs {
			if int(r.From) != next || r.To < r.From {
				t.Fatalf("n=%d: ranges %v", n, rs)
			}
			next = int(r.To) + 1
		}
		if next != kv.Slots {
			t.Fatalf("n=%d: ranges end at %d", n, next)
		}
	}
}

// TestMayPromoteUntilMapExists: a node told to create the shard map holds
// the metadata group's promotions until the map exists, so that no
// joiner can lead it first; an unsharded node never holds them.
func TestMayPromoteUntilMapExists(t *testing.T) {
	n := raftkvtest.Cluster(t, 1, nil)[0]
	r, err := New(DefaultConfig(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	newShards := func(shards int) *Shards {
		cfg := DefaultShardsConfig()
		cfg.Shards = shards
		cfg.OpenGroup = func(uint32) (*raftkv.Node, func() error, error) { return nil, nil, errors.New("not in this test") }
		s, err := NewShards(cfg, r)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	founder, plain := newShards(3), newShards(1)
	if founder.MayPromote() {
		t.Error("--shards 3, no map yet: MayPromote = true, want false")
	}
	if !plain.MayPromote() {
		t.Error("--shards 1: MayPromote = false, want true")
	}
	if err := founder.propose(createMap(3, 3, n.ID(), []string{n.ID()})); err != nil {
		t.Fatal(err)
	}
	if !founder.MayPromote() {
		t.Error("--shards 3, the map applied: MayPromote = false, want true")
	}
}
