package main

import (
	"context"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Systems that speak the Redis Cluster protocol (riot with --shards above
// 1, redis-server with cluster-enabled) spread the keys over 16384 hash
// slots; every client routes by the slot map (go-redis's ClusterClient) and
// follows -MOVED.

// numSlots is the number of Redis Cluster hash slots.
const numSlots = 16384

// keySlot is the hash slot of key as Redis Cluster computes it: CRC16
// (XMODEM) of the key, or of its hash tag (the part between the first "{"
// and the next "}" when not empty), modulo 16384.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key)) % numSlots
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), the
// checksum Redis Cluster hashes keys with.
func crc16(s string) uint16 {
	var crc uint16
	for i := range len(s) {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// keyInSlot returns a key that hashes to slot (bench:warmup:N for the
// first N that does; about 16384 tries on average).
func keyInSlot(slot int) string {
	for i := 0; ; i++ {
		k := "bench:warmup:" + strconv.Itoa(i)
		if keySlot(k) == slot {
			return k
		}
	}
}

// checkSlots reports whether a CLUSTER SLOTS answer covers every hash slot
// exactly once, each range with a node (its master first) to send it to.
func checkSlots(slots []redis.ClusterSlot) error {
	ranges := slices.Clone(slots)
	slices.SortFunc(ranges, func(a, b redis.ClusterSlot) int { return a.Start - b.Start })
	next := 0
	for _, r := range ranges {
		switch {
		case r.Start < next:
			return fmt.Errorf("slots %d-%d overlap the range before them (which ends at %d)", r.Start, r.End, next-1)
		case r.Start > next:
			return fmt.Errorf("slots %d-%d are not served", next, r.Start-1)
		case r.End < r.Start || r.End >= numSlots:
			return fmt.Errorf("bad slot range %d-%d", r.Start, r.End)
		case len(r.Nodes) == 0 || r.Nodes[0].Addr == "":
			return fmt.Errorf("slots %d-%d have no master", r.Start, r.End)
		}
		next = r.End + 1
	}
	if next < numSlots {
		return fmt.Errorf("slots %d-%d are not served", next, numSlots-1)
	}
	return nil
}

// slotShape is what a formed cluster's slot map looks like; 0 leaves a
// count unchecked.
type slotShape struct {
	ranges   int // slot ranges (one per group)
	replicas int // nodes serving each range, its master included
	leaders  int // distinct masters
	maxLed   int // ranges one master serves at most
}

// checkShape reports how a complete slot map (checkSlots) differs from want.
func checkShape(slots []redis.ClusterSlot, want slotShape) error {
	if want.ranges > 0 && len(slots) != want.ranges {
		return fmt.Errorf("%d slot ranges, want %d", len(slots), want.ranges)
	}
	led := map[string]int{} // ranges per master
	for _, r := range slots {
		if want.replicas > 0 && len(r.Nodes) != want.replicas {
			return fmt.Errorf("slots %d-%d are served by %d nodes, want %d", r.Start, r.End, len(r.Nodes), want.replicas)
		}
		if len(r.Nodes) > 0 {
			led[r.Nodes[0].Addr]++
		}
	}
	if want.leaders > 0 && len(led) != want.leaders {
		return fmt.Errorf("%d distinct masters, want %d", len(led), want.leaders)
	}
	for _, addr := range slices.Sorted(maps.Keys(led)) {
		if want.maxLed > 0 && led[addr] > want.maxLed {
			return fmt.Errorf("%s is master of %d ranges, want at most %d", addr, led[addr], want.maxLed)
		}
	}
	return nil
}

// describeSlots is a one-line summary of a slot map: each range and its
// master, in slot order.
func describeSlots(slots []redis.ClusterSlot) string {
	ranges := slices.Clone(slots)
	slices.SortFunc(ranges, func(a, b redis.ClusterSlot) int { return a.Start - b.Start })
	var parts []string
	for _, r := range ranges {
		master := "?"
		if len(r.Nodes) > 0 {
			master = r.Nodes[0].Addr
		}
		part := fmt.Sprintf("%d-%d %s", r.Start, r.End, master)
		if n := len(r.Nodes) - 1; n > 0 {
			part += fmt.Sprintf(" (+%d replicas)", n)
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

// clusterClient is a slot-routing client seeded with addrs: poolSize
// connections per node at most. readonly sends READONLY on every
// connection and spreads reads over each slot's master and replicas.
func clusterClient(addrs []string, readonly bool, poolSize int) *redis.ClusterClient {
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:           addrs,
		Protocol:        2,
		DisableIdentity: true,
		PoolSize:        poolSize,
		MaxRetries:      -1,
		ReadOnly:        readonly,
		RouteRandomly:   readonly,
		DialTimeout:     5 * time.Second,
		ReadTimeout:     30 * time.Second,
		WriteTimeout:    30 * time.Second,
	})
}

// waitSlots waits until the slot map of each of the given nodes covers
// every slot, in the shape wanted, and a write to a key of every slot range
// succeeds through a client seeded with those nodes. It logs the slot map
// it ends with.
func waitSlots(ctx context.Context, c *cluster, nodes []int, want slotShape, timeout time.Duration) error {
	var addrs []string
	for _, i := range nodes {
		addrs = append(addrs, c.addrs[i])
	}
	var final []redis.ClusterSlot
	err := poll(timeout, func() error {
		if err := c.alive(); err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var slots []redis.ClusterSlot
		for _, addr := range addrs {
			cl := respClient(addr, false)
			s, err := cl.ClusterSlots(cctx).Result()
			cl.Close()
			if err == nil {
				err = checkSlots(s)
			}
			if err == nil {
				err = checkShape(s, want)
			}
			if err != nil {
				return fmt.Errorf("bench: CLUSTER SLOTS on %s: %w", addr, err)
			}
			if slots == nil {
				slots = s
			}
		}
		cc := clusterClient(addrs, false, 1)
		defer cc.Close()
		for _, r := range slots {
			k := keyInSlot(r.Start)
			if err := cc.Set(cctx, k, "1", 0).Err(); err != nil {
				return fmt.Errorf("bench: slots %d-%d not writable yet (SET %s): %w", r.Start, r.End, k, err)
			}
		}
		final = slots
		return ctx.Err()
	})
	if err == nil {
		logf("%s: slot map: %s", c.sys.label, describeSlots(final))
	}
	return err
}

// redisArgs are redis-server's flags for a node on port with its data in
// dir: appendfsync always, no RDB snapshots.
func redisArgs(port int, dir string) []string {
	return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--daemonize", "no", "--protected-mode", "yes"}
}

// startRedisCluster starts s.nodes redis-servers in cluster mode and makes
// them one cluster of masters (no replicas) with redis-cli --cluster create.
func startRedisCluster(ctx context.Context, ps *procs, s *system) (*cluster, error) {
	c := &cluster{sys: s, slotted: true}
	for i := range s.nodes {
		port, err := ps.port()
		if err != nil {
			return c, err
		}
		bus, err := ps.port() // the cluster bus: not port+10000, which may be taken
		if err != nil {
			return c, err
		}
		name := fmt.Sprintf("%s-n%d", s.key, i+1)
		dir, err := ps.dataDir(name)
		if err != nil {
			return c, err
		}
		args := append(redisArgs(port, dir), "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"), "--cluster-port", strconv.Itoa(bus))
		p, err := ps.start(name, "redis-server", args...)
		if err != nil {
			return c, err
		}
		c.procs = append(c.procs, p)
		c.addrs = append(c.addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	for i, addr := range c.addrs {
		cl := respClient(addr, false)
		err := poll(30*time.Second, func() error {
			if err := c.procs[i].exited(); err != nil {
				return err
			}
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			return cl.Ping(cctx).Err()
		})
		cl.Close()
		if err != nil {
			return c, fmt.Errorf("bench: redis-server %s not answering: %w", addr, err)
		}
	}
	create := exec.CommandContext(ctx, "redis-cli", append(append([]string{"--cluster", "create"}, c.addrs...), "--cluster-yes")...)
	if out, err := create.CombinedOutput(); err != nil {
		return c, fmt.Errorf("bench: redis-cli --cluster create: %w\n%s", err, out)
	}
	return c, waitSlots(ctx, c, allNodes(c), slotShape{ranges: s.nodes, replicas: 1, leaders: s.nodes, maxLed: 1}, 30*time.Second)
}

// allNodes lists the indexes of c's nodes.
func allNodes(c *cluster) []int {
	out := make([]int, len(c.addrs))
	for i := range out {
		out[i] = i
	}
	return out
}
