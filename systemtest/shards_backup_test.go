package systemtest

// Backups of a sharded cluster, one per data group (GET /backup?group=N,
// RAFT.BACKUP N), restored with riot-server --restore into a sharded
// cluster of another number of groups, and unsharded.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterKeys returns each of keys with its value as keyspace does, read
// one by one through c (a cluster client: no multi-key command).
func clusterKeys(ctx context.Context, c redisClient, keys []string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		v, err := c.Get(ctx, k).Result()
		switch {
		case errors.Is(err, redis.Nil):
			continue
		case err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE"):
			v, err = collectionContents(ctx, c, k)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// clusterSize returns the number of keys of the cluster: DBSIZE summed
// over its masters (each answers for the groups it leads).
func clusterSize(ctx context.Context, c *redis.ClusterClient) (int64, error) {
	var total atomic.Int64
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		total.Add(n)
		return err
	})
	return total.Load(), err
}

// TestShardedBackupRestore: a 3-node --shards 3 cluster holding strings,
// hashes, sets, sorted sets and lists over every group, keys with a TTL,
// is backed up one group at a time (GET /backup?group=N from two nodes,
// RAFT.BACKUP N from the third, none of them the group's leader); the
// three backups restored with --restore --shards 2 start a new sharded
// cluster, which two nodes join, holding every key, value and deadline;
// restored unsharded they start a one-group node with the same keys.
// Backups without a group, or of a group the node does not hold, and
// overlapping backups are refused.
func TestShardedBackupRestore(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 5*time.Minute)
	nodes, _ := startSharded(t, 3, 3)
	cc := clusterClient(t, nodes...)

	var keys []string
	for i := range 200 {
		k := fmt.Sprintf("sb:str:%d", i)
		keys = append(keys, k)
		if err := cc.Set(ctx, k, strconv.Itoa(i), 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	for i := range 6 { // collections in several groups
		h, s, z, l := fmt.Sprintf("sb:hash:%d", i), fmt.Sprintf("sb:set:%d", i), fmt.Sprintf("sb:zset:%d", i), fmt.Sprintf("sb:list:%d", i)
		keys = append(keys, h, s, z, l)
		for _, err := range []error{
			cc.HSet(ctx, h, "f1", i, "f2", "two").Err(),
			cc.SAdd(ctx, s, "a", "b", i).Err(),
			cc.ZAdd(ctx, z, redis.Z{Score: 1.5, Member: "m1"}, redis.Z{Score: float64(i), Member: "m2"}).Err(),
			cc.RPush(ctx, l, "x", "y", i, "x").Err(),
		} {
			if err != nil {
				t.Fatalf("collection %d: %v", i, err)
			}
		}
	}
	ttlKeys := []string{"sb:ttl", "sb:hash:ttl"}
	keys = append(keys, ttlKeys...)
	if err := cc.Set(ctx, "sb:ttl", "lives", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := cc.HSet(ctx, "sb:hash:ttl", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if err := cc.Expire(ctx, "sb:hash:ttl", 2*time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	want, err := clusterKeys(ctx, cc, keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != len(keys) {
		t.Fatalf("source cluster holds %d of the %d keys written", len(want), len(keys))
	}
	wantDeadlines, err := deadlines(ctx, cc, ttlKeys)
	if err != nil {
		t.Fatal(err)
	}

	// Refusals: no group on a sharded node, a group the node has no
	// replica of.
	wantHTTP(t, "GET", nodes[0].url("/backup"), "", 400, "?group=")
	wantHTTP(t, "GET", nodes[0].url("/backup?group=9"), "", 404, "no replica of group 9 here")
	rc := newClient(t, nodes[0].Addr, 2)
	if err := rc.Do(ctx, "RAFT.BACKUP").Err(); err == nil || !strings.Contains(err.Error(), "RAFT.BACKUP <group>") {
		t.Errorf("RAFT.BACKUP without a group on a sharded node: %v, want an error naming the group argument", err)
	}
	if err := rc.Do(ctx, "RAFT.BACKUP", "9").Err(); err == nil || !strings.Contains(err.Error(), "no replica of group 9 here") {
		t.Errorf("RAFT.BACKUP 9: %v, want no replica of group 9 here", err)
	}

	// One backup per group, each from a node that does not lead it
	// (startSharded waits until group g is led by node g): groups 1 and 2
	// over HTTP from nodes 2 and 3, group 3 with RAFT.BACKUP on node 1.
	dir := t.TempDir()
	var files []string
	for g := 1; g <= 2; g++ {
		r := wantHTTP(t, "GET", nodes[g].url(fmt.Sprintf("/backup?group=%d", g)), "", 200)
		file := filepath.Join(dir, fmt.Sprintf("group%d.backup", g))
		if err := os.WriteFile(file, []byte(r.body), 0o644); err != nil {
			t.Fatal(err)
		}
		if idx := r.header.Get("X-Riot-Backup-Index"); idx != strconv.FormatUint(backupIndex(t, file), 10) || r.header.Get("X-Riot-Backup-Group") != strconv.Itoa(g) {
			t.Errorf("GET /backup?group=%d: X-Riot-Backup-Index %q, X-Riot-Backup-Group %q; want the backup's index %d and the group", g, idx, r.header.Get("X-Riot-Backup-Group"), backupIndex(t, file))
		}
		files = append(files, file)
	}
	b3, err := rc.Do(ctx, "RAFT.BACKUP", "3").Text()
	if err != nil {
		t.Fatalf("RAFT.BACKUP 3 on %s: %v", nodes[0].NodeID, err)
	}
	files = append(files, filepath.Join(dir, "group3.backup"))
	if err := os.WriteFile(files[2], []byte(b3), 0o644); err != nil {
		t.Fatal(err)
	}
	restore := strings.Join(files, ",")

	check := func(name string, c redisClient, size func() (int64, error)) {
		t.Helper()
		got, err := clusterKeys(ctx, c, keys)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := diffKeyspace(got, want); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if n, err := size(); err != nil || n != int64(len(want)) {
			t.Errorf("%s: %d keys (%v), want %d", name, n, err, len(want))
		}
		gotDeadlines, err := deadlines(ctx, c, ttlKeys)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for k, w := range wantDeadlines {
			if gotDeadlines[k] != w {
				t.Errorf("%s: PEXPIRETIME %s = %d, want %d", name, k, gotDeadlines[k], w)
			}
		}
	}

	// Restored unsharded: one group holds every key.
	u := startSpec(t, spec{dataDir: t.TempDir(), extra: []string{"--node-id", "restored-unsharded", "--restore", restore, "--gossip-fast"}})
	uc := newClient(t, u.Addr, 2)
	check("restored unsharded", uc, func() (int64, error) { return uc.DBSize(ctx).Result() })
	// A group argument is an error on an unsharded node.
	wantHTTP(t, "GET", u.url("/backup?group=1"), "", 404, "no replica of group 1 here")
	if err := uc.Do(ctx, "RAFT.BACKUP", "1").Err(); err == nil || !strings.Contains(err.Error(), "no replica of group 1 here") {
		t.Errorf("RAFT.BACKUP 1 on an unsharded node: %v, want no replica of group 1 here", err)
	}

	// Restored into 2 groups, on a node that two others join: each group
	// gets 3 replicas (the joiners receive the data as a snapshot).
	r1 := launchGossip(t, "restored-1", nil, "--shards", "2", "--restore", restore)
	r2 := launchGossip(t, "restored-2", []string{r1.GossipAddr})
	r3 := launchGossip(t, "restored-3", []string{r1.GossipAddr})
	restored := []*node{r1, r2, r3}
	waitFor(t, shardedFormTimeout, func() error {
		for _, n := range restored {
			if _, err := checkSharded(n, 2, 3, 0); err != nil {
				return err
			}
		}
		return nil
	})
	rcc := clusterClient(t, restored...)
	check("restored --shards 2", rcc, func() (int64, error) { return clusterSize(ctx, rcc) })
	// The joiners' replicas hold the data: a stale read on each.
	for _, n := range restored[1:] {
		c := newClient(t, n.Addr, 2)
		conn := c.Conn()
		if err := conn.ReadOnly(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, func() error {
			for _, k := range []string{"sb:str:7", "sb:str:150", "sb:ttl"} {
				if v, err := conn.Get(ctx, k).Result(); err != nil || v != want[k] {
					return fmt.Errorf("%s: READONLY GET %s = %q, %v; want %q", n.NodeID, k, v, err, want[k])
				}
			}
			return nil
		})
		conn.Close()
	}

	// The same key in two backups is refused.
	_, stderr, code := runOnce(t, nil, "--addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0", "--gossip-addr", "127.0.0.1:0",
		"--http-addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--shards", "2", "--restore", files[0]+","+copyFile(t, files[0]))
	if code != 2 || !strings.Contains(stderr, "more than one backup") {
		t.Errorf("--restore of overlapping backups: exit %d, stderr %q; want exit 2 naming the key", code, stderr)
	}
}

// copyFile copies file into a new temporary directory and returns the
// copy's path.
func copyFile(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), filepath.Base(file))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}
