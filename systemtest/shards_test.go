package systemtest

// Sharded mode (riot-server --shards N): real processes that form a
// cluster by --join alone, whose slots are served by several raft groups,
// and that Redis Cluster clients (go-redis ClusterClient, redis-cli -c,
// redis-benchmark --cluster) use as they use a Redis Cluster.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"
)

// shardedFormTimeout bounds forming a sharded cluster: the gossip cluster,
// then each group's replicas added and promoted (--stabilization 1s) and
// leadership spread.
const shardedFormTimeout = 90 * time.Second

// slotRange is one entry of CLUSTER SLOTS: the slots, the leader's address
// and node ID, and the replicas' addresses.
type slotRange struct {
	from, to   int
	leader, id string
	replicas   []string
}

// clusterSlots returns n's CLUSTER SLOTS, sorted by first slot.
func clusterSlots(n *node) ([]slotRange, error) {
	v, err := n.do("CLUSTER", "SLOTS").Slice()
	if err != nil {
		return nil, err
	}
	var out []slotRange
	for _, e := range v {
		row, ok := e.([]any)
		if !ok || len(row) < 3 {
			return nil, fmt.Errorf("CLUSTER SLOTS row %v", e)
		}
		from, _ := row[0].(int64)
		to, _ := row[1].(int64)
		r := slotRange{from: int(from), to: int(to)}
		for i, nd := range row[2:] {
			f, ok := nd.([]any)
			if !ok || len(f) < 3 {
				return nil, fmt.Errorf("CLUSTER SLOTS node %v", nd)
			}
			port, _ := f[1].(int64)
			addr := fmt.Sprintf("%v:%d", f[0], port)
			if i == 0 {
				r.leader, r.id = addr, fmt.Sprint(f[2])
			}
			r.replicas = append(r.replicas, addr)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].from < out[j].from })
	return out, nil
}

// checkSharded reports why n's CLUSTER SLOTS does not yet show groups
// ranges covering every slot, each with replicas replicas, whose leaders
// are spread over distinctLeaders nodes (0: the spread is not checked).
func checkSharded(n *node, groups, replicas, distinctLeaders int) ([]slotRange, error) {
	rs, err := clusterSlots(n)
	if err != nil {
		return nil, err
	}
	if len(rs) != groups {
		return rs, fmt.Errorf("%s: %d slot ranges, want %d: %+v", n.NodeID, len(rs), groups, rs)
	}
	next := 0
	leaders := map[string]bool{}
	for _, r := range rs {
		if r.from != next {
			return rs, fmt.Errorf("%s: range %d-%d, want it to start at %d", n.NodeID, r.from, r.to, next)
		}
		next = r.to + 1
		if len(r.replicas) != replicas {
			return rs, fmt.Errorf("%s: range %d-%d has replicas %v, want %d", n.NodeID, r.from, r.to, r.replicas, replicas)
		}
		leaders[r.leader] = true
	}
	if next != 16384 {
		return rs, fmt.Errorf("%s: ranges end at %d", n.NodeID, next)
	}
	if distinctLeaders > 0 && len(leaders) != distinctLeaders {
		return rs, fmt.Errorf("%s: leaders %v, want %d distinct", n.NodeID, leaders, distinctLeaders)
	}
	return rs, nil
}

// startSharded starts n1 with --shards shards (it bootstraps) and n2..nsize
// with --join n1 only, and waits until every node shows every group with
// min(size, 3) replicas and the leaders spread over min(size, shards)
// nodes.
func startSharded(t *testing.T, size, shards int, extra ...string) ([]*node, []slotRange) {
	t.Helper()
	n1 := launchGossip(t, memberID(1), nil, append([]string{"--shards", strconv.Itoa(shards)}, extra...)...)
	nodes := []*node{n1}
	for i := 2; i <= size; i++ {
		nodes = append(nodes, launchGossip(t, memberID(i), []string{n1.GossipAddr}, extra...))
	}
	var rs []slotRange
	waitFor(t, shardedFormTimeout, func() error {
		for _, n := range nodes {
			var err error
			if rs, err = checkSharded(n, shards, min(size, 3), min(size, shards)); err != nil {
				return err
			}
			if err := checkPreferredLeaders(n, min(size, 3)); err != nil {
				return err
			}
		}
		return nil
	})
	return nodes, rs
}

// checkPreferredLeaders reports why INFO shards on n does not show every
// group led by the member placement prefers (until then leadership still
// moves, and writes in flight during a hand-over may get UNCERTAIN), with
// voters voters in each group n leads (a replica still catching up is a
// non-voter: the group would not survive losing its leader).
func checkPreferredLeaders(n *node, voters int) error {
	info, err := n.do("INFO", "shards").Text()
	if err != nil {
		return err
	}
	for _, line := range strings.Split(info, "\r\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "group") {
			continue
		}
		f := map[string]string{}
		for _, kv := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(kv, "=")
			f[k] = val
		}
		if f["leader"] == "" || f["leader"] != f["preferred"] {
			return fmt.Errorf("%s: %s led by %q, preferred %q", n.NodeID, name, f["leader"], f["preferred"])
		}
		if f["state"] == "leader" && f["voters"] != strconv.Itoa(voters) {
			return fmt.Errorf("%s: %s has %s voters, want %d", n.NodeID, name, f["voters"], voters)
		}
	}
	return nil
}

func clusterClient(t *testing.T, seeds ...*node) *redis.ClusterClient {
	t.Helper()
	var addrs []string
	for _, n := range seeds {
		addrs = append(addrs, n.Addr)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRedirects: 8, ReadTimeout: 10 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// TestShardedClusterClients: a 3-node --shards 3 cluster formed by --join
// alone; go-redis ClusterClient writes and reads keys over all slots
// through any node; each node answers DBSIZE for the slots it leads;
// CROSSSLOT and hash tags; redis-cli -c follows MOVED.
func TestShardedClusterClients(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 4*time.Minute)
	nodes, rs := startSharded(t, 3, 3)
	t.Logf("slots: %+v", rs)

	const keys = 3000
	for i, seed := range nodes {
		c := clusterClient(t, seed)
		for k := i; k < keys; k += len(nodes) {
			if err := c.Set(ctx, fmt.Sprintf("key:%d", k), k, 0).Err(); err != nil {
				t.Fatalf("SET key:%d through a cluster client seeded with %s: %v", k, seed.NodeID, err)
			}
		}
	}
	c := clusterClient(t, nodes[2])
	for k := range keys {
		got, err := c.Get(ctx, fmt.Sprintf("key:%d", k)).Int()
		if err != nil || got != k {
			t.Fatalf("GET key:%d = %d, %v", k, got, err)
		}
	}
	// Every node counts the keys of the slots it leads.
	total := int64(0)
	for _, n := range nodes {
		size, err := n.do("DBSIZE").Int64()
		if err != nil {
			t.Fatal(err)
		}
		if size == 0 {
			t.Errorf("DBSIZE of %s = 0: it leads a group, which holds keys", n.NodeID)
		}
		total += size
	}
	if total != keys {
		t.Errorf("DBSIZE over the nodes = %d, want %d", total, keys)
	}
	// A key's slot and MOVED, without a cluster client.
	slot, err := nodes[0].do("CLUSTER", "KEYSLOT", "key:1").Int()
	if err != nil {
		t.Fatal(err)
	}
	var owner, other *node
	for _, r := range rs {
		if slot >= r.from && slot <= r.to {
			for _, n := range nodes {
				if n.Addr == r.leader {
					owner = n
				} else {
					other = n
				}
			}
		}
	}
	if owner == nil || other == nil {
		t.Fatalf("no leader node for slot %d in %+v", slot, rs)
	}
	wantMoved := fmt.Sprintf("MOVED %d %s", slot, owner.Addr)
	if err := other.do("GET", "key:1").Err(); err == nil || err.Error() != wantMoved {
		t.Errorf("GET key:1 on %s = %v, want %q", other.NodeID, err, wantMoved)
	}
	if got, err := owner.do("GET", "key:1").Text(); err != nil || got != "1" {
		t.Errorf("GET key:1 on its leader %s = %q, %v", owner.NodeID, got, err)
	}

	// Multi-key commands: one slot (hash tags) works, atomically;
	// across slots CROSSSLOT, in MULTI too.
	if err := c.MSet(ctx, "{user1}.a", "1", "{user1}.b", "2").Err(); err != nil {
		t.Errorf("MSET within a hash tag: %v", err)
	}
	if got, err := c.MGet(ctx, "{user1}.a", "{user1}.b").Result(); err != nil || fmt.Sprint(got) != "[1 2]" {
		t.Errorf("MGET within a hash tag = %v, %v", got, err)
	}
	const crossSlot = "CROSSSLOT Keys in request don't hash to the same slot"
	tagged, err := nodes[0].do("CLUSTER", "KEYSLOT", "{user1}").Int()
	if err != nil {
		t.Fatal(err)
	}
	var leader *node
	for _, r := range rs {
		if tagged >= r.from && tagged <= r.to {
			for _, n := range nodes {
				if n.Addr == r.leader {
					leader = n
				}
			}
		}
	}
	if err := leader.do("MSET", "{user1}.a", "1", "other-key", "2").Err(); err == nil || err.Error() != crossSlot {
		t.Errorf("MSET across slots = %v, want %q", err, crossSlot)
	}
	if err := leader.do("SELECT", "1").Err(); err == nil || err.Error() != "ERR SELECT is not allowed in cluster mode" {
		t.Errorf("SELECT 1 = %v", err)
	}
	raw := newClient(t, leader.Addr, 2)
	_, err = raw.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "{user1}.c", "3", 0)
		p.Set(ctx, "elsewhere", "4", 0)
		return nil
	})
	if err == nil || !strings.HasPrefix(err.Error(), "EXECABORT") {
		t.Errorf("MULTI across slots: %v, want EXECABORT", err)
	}
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "{user1}.n")
		p.Incr(ctx, "{user1}.n")
		return nil
	}); err != nil {
		t.Errorf("MULTI within a hash tag: %v", err)
	}
	if got, err := c.Get(ctx, "{user1}.n").Int(); err != nil || got != 2 {
		t.Errorf("{user1}.n = %d, %v; want 2", got, err)
	}

	// redis-cli -c follows MOVED.
	cli := lookTool(t, "redis-cli")
	out, err := exec.CommandContext(ctx, cli, "-c", "-h", "127.0.0.1", "-p", port(t, other.Addr), "GET", "key:1").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Errorf("redis-cli -c GET key:1 via %s: %q, %v", other.NodeID, out, err)
	}

	// The groups as RAFT.GROUPS, GET /status and /metrics show them.
	waitFor(t, shardedFormTimeout, func() error { return checkGroupsShown(nodes, 3) })
}

// raftGroups returns n's RAFT.GROUPS (RESP2: flat key/value arrays) as
// one map per group.
func raftGroups(n *node) ([]map[string]any, error) {
	v, err := n.do("RAFT.GROUPS").Slice()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, e := range v {
		kvs, ok := e.([]any)
		if !ok || len(kvs)%2 != 0 {
			return nil, fmt.Errorf("RAFT.GROUPS entry %v", e)
		}
		g := map[string]any{}
		for i := 0; i < len(kvs); i += 2 {
			g[fmt.Sprint(kvs[i])] = kvs[i+1]
		}
		out = append(out, g)
	}
	return out, nil
}

// checkGroupsShown reports why the nodes do not yet agree on groups data
// groups in RAFT.GROUPS, GET /status and /metrics: on every node
// RAFT.GROUPS lists them, each with a leader, and each replica the node
// holds has applied entries; /status lists them; riot_group_is_leader
// sums to 1 per group over the nodes.
func checkGroupsShown(nodes []*node, groups int) error {
	leaders := map[string]float64{}
	for _, n := range nodes {
		gs, err := raftGroups(n)
		if err != nil {
			return fmt.Errorf("%s: RAFT.GROUPS: %w", n.NodeID, err)
		}
		if len(gs) != groups {
			return fmt.Errorf("%s: RAFT.GROUPS lists %d groups, want %d: %v", n.NodeID, len(gs), groups, gs)
		}
		local := 0
		for _, g := range gs {
			if g["leader"] == "" || g["leader_client_addr"] == "" {
				return fmt.Errorf("%s: group %v has no known leader: %v", n.NodeID, g["id"], g)
			}
			if g["state"] == "none" {
				continue
			}
			local++
			if applied, _ := strconv.ParseUint(fmt.Sprint(g["applied_index"]), 10, 64); applied == 0 {
				return fmt.Errorf("%s: group %v: applied_index %v", n.NodeID, g["id"], g["applied_index"])
			}
			// RAFT.INFO <group>: the figures of this node's replica, which
			// a group leader asks for before it promotes a new replica.
			info, err := n.do("RAFT.INFO", fmt.Sprint(g["id"])).Text()
			if err != nil || !strings.Contains(info, "fsm_applied_index:") || !strings.Contains(info, "state:") {
				return fmt.Errorf("%s: RAFT.INFO %v = %q, %v", n.NodeID, g["id"], info, err)
			}
		}
		if local == 0 {
			return fmt.Errorf("%s: holds no replica: %v", n.NodeID, gs)
		}
		if err := n.do("RAFT.INFO", "99").Err(); err == nil || !strings.Contains(err.Error(), "no replica of group 99") {
			return fmt.Errorf("%s: RAFT.INFO 99 = %v, want no replica of group 99", n.NodeID, err)
		}

		r, err := httpCall("GET", n.url("/status"), "")
		if err != nil {
			return err
		}
		var st struct {
			Groups []struct {
				ID     int    `json:"id"`
				Slots  string `json:"slots"`
				Leader string `json:"leader"`
			} `json:"groups"`
		}
		if err := json.Unmarshal([]byte(r.body), &st); r.code != 200 || err != nil {
			return fmt.Errorf("%s: GET /status = %s (%v)", n.NodeID, r, err)
		}
		if len(st.Groups) != groups {
			return fmt.Errorf("%s: GET /status has %d groups, want %d: %s", n.NodeID, len(st.Groups), groups, r.body)
		}

		r, err = httpCall("GET", n.url("/metrics"), "")
		if err != nil {
			return err
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := p.TextToMetricFamilies(strings.NewReader(r.body))
		if err != nil {
			return fmt.Errorf("%s: parse /metrics: %w", n.NodeID, err)
		}
		seen := 0
		for _, m := range mfs["riot_group_is_leader"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "group" {
					leaders[l.GetValue()] += m.GetGauge().GetValue()
					seen++
				}
			}
		}
		if seen != local {
			return fmt.Errorf("%s: %d riot_group_is_leader series, holds %d replicas", n.NodeID, seen, local)
		}
	}
	if len(leaders) != groups {
		return fmt.Errorf("riot_group_is_leader covers groups %v, want %d", leaders, groups)
	}
	for g, sum := range leaders {
		if sum != 1 {
			return fmt.Errorf("riot_group_is_leader{group=%q} sums to %v over the nodes, want 1", g, sum)
		}
	}
	return nil
}

// TestShardedRedisBenchmark: redis-benchmark --cluster -t set,get runs
// against a sharded cluster with no error.
func TestShardedRedisBenchmark(t *testing.T) {
	t.Parallel()
	bench := lookTool(t, "redis-benchmark")
	nodes, _ := startSharded(t, 3, 3)
	redisBenchmark(t, bench, nodes[1].Addr, []string{"SET", "GET"}, "-q", "--cluster", "-t", "set,get", "-n", "5000", "-c", "20", "-r", "100000")
}

// TestShardedLeaderKill: under a cluster client's load, kill -9 the leader
// of a group; the client carries on once the group has a new leader
// (MOVED to it), and every acknowledged write is there.
func TestShardedLeaderKill(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 4*time.Minute)
	nodes, rs := startSharded(t, 3, 3)
	c := clusterClient(t, nodes...)
	var (
		mu    sync.Mutex
		acked = map[string]int{}
		ops   atomic.Int64
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("w%d:%d", w, i%500)
				wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := c.Set(wctx, k, i, 0).Err()
				cancel()
				if err == nil {
					mu.Lock()
					acked[k] = i
					mu.Unlock()
					ops.Add(1)
				}
			}
		}()
	}
	waitFor(t, 30*time.Second, func() error {
		if ops.Load() < 500 {
			return errors.New("fewer than 500 writes yet")
		}
		return nil
	})
	// Kill the leader of the group of the last range, unless it is n1
	// (the seed of the others' gossip): then the first range's.
	victim := rs[len(rs)-1]
	var dead *node
	for _, n := range nodes {
		if n.Addr == victim.leader {
			dead = n
		}
	}
	if dead == nodes[0] {
		victim = rs[0]
		for _, n := range nodes {
			if n.Addr == victim.leader {
				dead = n
			}
		}
	}
	dead.Kill()
	killedAt := time.Now()
	t.Logf("killed %s, leader of slots %d-%d, after %d writes", dead.NodeID, victim.from, victim.to, ops.Load())
	live := without(nodes, dead)
	// The group elects a new leader among the two others and the
	// client's writes to its slots succeed again.
	waitFor(t, 30*time.Second, func() error {
		rs2, err := clusterSlots(live[0])
		if err != nil {
			return err
		}
		for _, r := range rs2 {
			if r.from == victim.from && (r.leader == dead.Addr || r.leader == "") {
				return fmt.Errorf("slots %d-%d still led by %s", r.from, r.to, r.leader)
			}
		}
		return nil
	})
	probe := clusterClient(t, live...)
	var probeKey string
	for i := 0; probeKey == ""; i++ {
		k := fmt.Sprintf("probe:%d", i)
		s, err := live[0].do("CLUSTER", "KEYSLOT", k).Int()
		if err != nil {
			t.Fatal(err)
		}
		if s >= victim.from && s <= victim.to {
			probeKey = k
		}
	}
	waitFor(t, 30*time.Second, func() error { return probe.Set(ctx, probeKey, "x", 0).Err() })
	t.Logf("writes to the killed leader's slots succeed again %s after the kill", time.Since(killedAt).Round(time.Millisecond))
	before := ops.Load()
	waitFor(t, 30*time.Second, func() error {
		if ops.Load() < before+500 {
			return fmt.Errorf("%d writes since, want 500", ops.Load()-before)
		}
		return nil
	})
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for k, v := range acked {
		got, err := probe.Get(ctx, k).Int()
		if err != nil || got < v {
			t.Errorf("GET %s = %d, %v; acknowledged %d", k, got, err, v)
		}
	}

	// The killed node comes back (same data dir and addresses): it
	// reopens its replicas, catches up in each group, and placement
	// hands it back the group it was preferred for.
	back := dead.relaunchSameAddrs()
	nodes = append(live, back)
	waitFor(t, shardedFormTimeout, func() error {
		for _, n := range nodes {
			if _, err := checkSharded(n, 3, 3, 3); err != nil {
				return err
			}
			if err := checkPreferredLeaders(n, 3); err != nil {
				return err
			}
		}
		info, err := back.do("INFO", "shards").Text()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "shards_local:3") || strings.Contains(info, "state=none") {
			return fmt.Errorf("%s after its restart: %s", back.NodeID, info)
		}
		// Nothing placed on it is missing, and its reconcile loop runs
		// (a round every 250 ms).
		f := parseFields(info)
		if age, err := strconv.Atoi(f["shards_round_age_ms"]); err != nil || age > 10_000 || f["shards_not_open"] != "" {
			return fmt.Errorf("%s after its restart: round age %q, not open %q", back.NodeID, f["shards_round_age_ms"], f["shards_not_open"])
		}
		return nil
	})
	for k, v := range acked {
		got, err := probe.Get(ctx, k).Int()
		if err != nil || got < v {
			t.Errorf("after the restart: GET %s = %d, %v; acknowledged %d", k, got, err, v)
		}
	}
}

// TestShardedRemovedNodeReturns: a node killed and removed after
// --dead-node-timeout loses its place in every data group (placement
// gives each group another replica); restarted on its old data dir it
// rejoins the metadata group but opens none of its old replicas (no
// replica of a group that no longer has it campaigns, none is
// bootstrapped again by a founder the map dropped), and the cluster
// serves every slot.
func TestShardedRemovedNodeReturns(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 4*time.Minute)
	nodes, _ := startSharded(t, 4, 2, "--dead-node-timeout", "3s")
	c := clusterClient(t, nodes...)
	for i := range 200 {
		if err := c.Set(ctx, fmt.Sprintf("r:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// The metadata group has its 3 voters (so removing one keeps a
	// quorum) before one is killed.
	waitGossipCluster(t, nodes, 3)
	// The victim: a replica of both groups (each of the 2 groups is on 3
	// of the 4 nodes, so two nodes hold both; it may lead one).
	gs, err := raftGroups(nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	var victim *node
	for _, n := range nodes {
		both := true
		for _, g := range gs {
			reps, _ := g["replicas"].([]any)
			both = both && slices.Contains(reps, any(n.NodeID))
		}
		if both {
			victim = n
			break
		}
	}
	if victim == nil {
		t.Fatalf("no node holds both groups: %v", gs)
	}
	rest := without(nodes, victim)
	victim.Kill()
	// Placement drops it from both groups once the metadata group
	// removed it, and every group has 3 replicas on the other nodes.
	waitFor(t, shardedFormTimeout, func() error {
		for _, n := range rest {
			gs, err := raftGroups(n)
			if err != nil {
				return err
			}
			for _, g := range gs {
				reps, _ := g["replicas"].([]any)
				if slices.Contains(reps, any(victim.NodeID)) || len(reps) != 3 {
					return fmt.Errorf("%s: group %v has replicas %v", n.NodeID, g["id"], reps)
				}
			}
		}
		return nil
	})
	back := victim.relaunchSameAddrs()
	waitFor(t, shardedFormTimeout, func() error {
		info, err := back.do("INFO", "shards").Text()
		if err != nil {
			return err
		}
		// Back on the current map (the epoch the others have).
		ref, err := rest[0].do("INFO", "shards").Text()
		if err != nil {
			return err
		}
		if epoch := parseFields(ref)["shards_epoch"]; epoch == "" || parseFields(info)["shards_epoch"] != epoch || !strings.Contains(info, "shards_local:0") {
			return fmt.Errorf("%s back: %s; %s has epoch %s", back.NodeID, info, rest[0].NodeID, epoch)
		}
		for _, n := range append(rest, back) {
			if _, err := checkSharded(n, 2, 3, 0); err != nil {
				return err
			}
		}
		return nil
	})
	// Not even for a moment: this incarnation never opened a group (every
	// line a data group logs carries its "group").
	if n := countLog(back, `"group":`); n > 0 {
		t.Errorf("%s logged %d lines of data groups since its restart; want none (it opened an old replica)", back.NodeID, n)
	}
	for i := range 200 {
		if got, err := c.Get(ctx, fmt.Sprintf("r:%d", i)).Int(); err != nil || got != i {
			t.Errorf("GET r:%d = %d, %v", i, got, err)
		}
	}
}
