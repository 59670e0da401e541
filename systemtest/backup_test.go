package systemtest

// Backups (GET /backup, RAFT.BACKUP) of a live cluster restored with
// riot-server --restore into a new cluster.

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// keyspace returns every key of n with its value (linearizable reads): a
// string as it is, a collection as its type and sorted contents.
func keyspace(ctx context.Context, c *redis.Client) (map[string]string, error) {
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		return nil, fmt.Errorf("KEYS *: %w", err)
	}
	out := make(map[string]string, len(keys))
	for lo := 0; lo < len(keys); lo += 500 {
		part := keys[lo:min(lo+500, len(keys))]
		vals, err := c.MGet(ctx, part...).Result()
		if err != nil {
			return nil, fmt.Errorf("MGET: %w", err)
		}
		for i, k := range part {
			if s, ok := vals[i].(string); ok {
				out[k] = s
				continue
			}
			s, err := collectionContents(ctx, c, k)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
	}
	return out, nil
}

// collectionContents returns "type: sorted contents" (a list's in order)
// for a key that is not a string.
func collectionContents(ctx context.Context, c redisClient, k string) (string, error) {
	typ, err := c.Type(ctx, k).Result()
	if err != nil {
		return "", fmt.Errorf("TYPE %s: %w", k, err)
	}
	var items []string
	switch typ {
	case "hash":
		m, err := c.HGetAll(ctx, k).Result()
		if err != nil {
			return "", fmt.Errorf("HGETALL %s: %w", k, err)
		}
		for f, v := range m {
			items = append(items, f+"="+v)
		}
	case "set":
		items, err = c.SMembers(ctx, k).Result()
	case "zset":
		var zs []redis.Z
		zs, err = c.ZRangeWithScores(ctx, k, 0, -1).Result()
		for _, z := range zs {
			items = append(items, fmt.Sprintf("%v=%v", z.Member, z.Score))
		}
	case "list":
		items, err = c.LRange(ctx, k, 0, -1).Result()
	}
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", typ, k, err)
	}
	if typ != "list" {
		slices.Sort(items)
	}
	return typ + ": " + strings.Join(items, " "), nil
}

// redisClient is a go-redis client of one node or of a cluster.
type redisClient interface {
	redis.Cmdable
	Do(ctx context.Context, args ...any) *redis.Cmd
}

// deadlines returns PEXPIRETIME of each key.
func deadlines(ctx context.Context, c redisClient, keys []string) (map[string]int64, error) {
	out := make(map[string]int64, len(keys))
	for _, k := range keys {
		ms, err := c.Do(ctx, "PEXPIRETIME", k).Int64()
		if err != nil {
			return nil, fmt.Errorf("PEXPIRETIME %s: %w", k, err)
		}
		out[k] = ms
	}
	return out, nil
}

// backupIndex returns the raft index a backup file's header records.
func backupIndex(t *testing.T, file string) uint64 {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	const hdr = len("RIOTSNAP") + 1 // magic, version
	if len(b) <= hdr || string(b[:hdr-1]) != "RIOTSNAP" {
		t.Fatalf("%s: no RIOTSNAP header", file)
	}
	idx, n := binary.Uvarint(b[hdr:])
	if n <= 0 || idx == 0 {
		t.Fatalf("%s: bad index in the header", file)
	}
	return idx
}

// diffKeyspace describes how got differs from want, or returns nil.
func diffKeyspace(got, want map[string]string) error {
	var missing, extra, wrong []string
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case g != v:
			wrong = append(wrong, fmt.Sprintf("%s=%q (want %q)", k, g, v))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra)+len(wrong) == 0 {
		return nil
	}
	slices.Sort(missing)
	slices.Sort(extra)
	slices.Sort(wrong)
	clip := func(s []string) []string { return s[:min(5, len(s))] }
	return fmt.Errorf("%d keys missing %v, %d extra %v, %d wrong %v", len(missing), clip(missing), len(extra), clip(extra), len(wrong), clip(wrong))
}

// TestBackupRestore: a 3-node cluster holding strings, counters (written
// through every node) and keys with TTLs is backed up over HTTP from a
// follower and with RAFT.BACKUP; each backup, restored with
// riot-server --restore, starts a new one-node cluster with every key,
// value, deadline and counter, and without the keys that expired; a node
// started with --join joins the restored one and receives the data. A
// data dir with raft state, a bad backup and --restore with --join are
// refused.
func TestBackupRestore(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 2*time.Minute)
	nodes := startCluster(t, 3)
	ld := leader(t, nodes)
	fs := followersOf(nodes, ld)
	lc := newClient(t, ld.Addr, 2)

	setKeys(ctx, t, lc, "bk", 0, 300)
	// Counters, incremented through every node.
	for i, n := range nodes {
		c := newClient(t, n.Addr, 2)
		for j := range 10 {
			if err := c.IncrBy(ctx, fmt.Sprintf("bk:counter:%d", j), int64(i+j+1)).Err(); err != nil {
				t.Fatalf("INCRBY through %s: %v", n.NodeID, err)
			}
		}
	}
	// Keys with a long TTL keep their deadline; keys with a short one are
	// in the backup but expired by the time they are checked.
	var ttlKeys []string
	for i := range 20 {
		k := fmt.Sprintf("bk:ttl:%d", i)
		ttlKeys = append(ttlKeys, k)
		if err := lc.Set(ctx, k, "lives", time.Duration(i+1)*time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := lc.Do(ctx, "SET", "bk:counter:ttl", "5", "EX", "3600").Err(); err != nil {
		t.Fatal(err)
	}
	if err := lc.Incr(ctx, "bk:counter:ttl").Err(); err != nil { // INCR keeps the TTL
		t.Fatal(err)
	}
	ttlKeys = append(ttlKeys, "bk:counter:ttl")
	const shortTTL = 1500 * time.Millisecond
	shortDeadline := time.Now().Add(shortTTL)
	var shortKeys []string
	for i := range 5 {
		k := fmt.Sprintf("bk:short:%d", i)
		shortKeys = append(shortKeys, k)
		if err := lc.Set(ctx, k, "dies", shortTTL).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// The last write, acknowledged by the leader just before the backups:
	// a backup served by a follower must hold it (read barrier).
	// Collections, one with a deadline.
	for i := range 50 {
		if err := lc.HSet(ctx, "bk:hash", fmt.Sprintf("f%d", i), i).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := lc.HSet(ctx, "bk:hash:ttl", "a", "1", "b", "2").Err(); err != nil {
		t.Fatal(err)
	}
	if err := lc.Expire(ctx, "bk:hash:ttl", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	ttlKeys = append(ttlKeys, "bk:hash:ttl")
	if err := lc.Set(ctx, "bk:last", "acknowledged", 0).Err(); err != nil {
		t.Fatal(err)
	}

	want, err := keyspace(ctx, lc)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range append(shortKeys, "bk:last", "bk:counter:9", "bk:ttl:0") {
		if _, ok := want[k]; !ok {
			t.Fatalf("source cluster lacks %s before the backup", k)
		}
	}
	wantDeadlines, err := deadlines(ctx, lc, ttlKeys)
	if err != nil {
		t.Fatal(err)
	}

	// Backups: over HTTP from a follower, over RESP from the other one.
	dir := t.TempDir()
	httpFile := filepath.Join(dir, "http.backup")
	r := mustHTTP(t, "GET", fs[0].url("/backup"), "")
	if r.code != 200 {
		t.Fatalf("GET /backup on follower %s = %s", fs[0].NodeID, r)
	}
	if err := os.WriteFile(httpFile, []byte(r.body), 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := strconv.ParseUint(r.header.Get("X-Riot-Backup-Index"), 10, 64)
	if err != nil || idx != backupIndex(t, httpFile) {
		t.Errorf("X-Riot-Backup-Index %q: want the raft index of the backup, %d", r.header.Get("X-Riot-Backup-Index"), backupIndex(t, httpFile))
	}
	respBackup, err := newClient(t, fs[1].Addr, 2).Do(ctx, "RAFT.BACKUP").Text()
	if err != nil {
		t.Fatalf("RAFT.BACKUP on follower %s: %v", fs[1].NodeID, err)
	}
	respFile := filepath.Join(dir, "resp.backup")
	if err := os.WriteFile(respFile, []byte(respBackup), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("backups: HTTP %d bytes (index %d), RESP %d bytes", len(r.body), idx, len(respBackup))

	// Restore each into a new node.
	restored := map[string]*node{}
	for _, b := range []struct{ name, file string }{{"http", httpFile}, {"resp", respFile}} {
		n := startSpec(t, spec{dataDir: t.TempDir(), extra: []string{"--node-id", "restored-" + b.name, "--restore", b.file,
			"--gossip-fast", "--stabilization", "1s"}})
		restored[b.name] = n
		c := newClient(t, n.Addr, 2)
		got, err := keyspace(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		// The short-TTL keys may still be there: they must vanish at
		// their deadline, the others stay as they were.
		waitFor(t, shortTTL+10*time.Second, func() error {
			got, err = keyspace(ctx, c)
			if err != nil {
				return err
			}
			for _, k := range shortKeys {
				if _, ok := got[k]; ok {
					if time.Now().After(shortDeadline.Add(time.Second)) {
						return fmt.Errorf("%s (TTL %s) still exists after its deadline", k, shortTTL)
					}
					return fmt.Errorf("%s has not expired yet", k)
				}
			}
			return nil
		})
		wantNow := make(map[string]string, len(want))
		for k, v := range want {
			if !slices.Contains(shortKeys, k) {
				wantNow[k] = v
			}
		}
		if err := diffKeyspace(got, wantNow); err != nil {
			t.Errorf("restored from the %s backup: %v", b.name, err)
		}
		gotDeadlines, err := deadlines(ctx, c, ttlKeys)
		if err != nil {
			t.Fatal(err)
		}
		for k, w := range wantDeadlines {
			if g := gotDeadlines[k]; g != w {
				t.Errorf("restored from the %s backup: PEXPIRETIME %s = %d, want %d", b.name, k, g, w)
			}
		}
		if ttl, err := c.TTL(ctx, "bk:ttl:0").Result(); err != nil || ttl <= 50*time.Minute || ttl > time.Hour {
			t.Errorf("restored from the %s backup: TTL bk:ttl:0 = %v, %v; want about an hour", b.name, ttl, err)
		}
		// A new cluster: this node alone, raft from a snapshot at the
		// backup's index, counters go on counting.
		ps, err := gpeersOf(n)
		if err != nil || len(ps) != 1 || ps[0].ID != n.NodeID || ps[0].Suffrage != "voter" {
			t.Errorf("RAFT.PEERS of the node restored from the %s backup = %+v, %v; want itself alone (the old address book dropped)", b.name, ps, err)
		}
		info := raftInfo(ctx, t, c)
		if want := strconv.FormatUint(backupIndex(t, b.file), 10); info["last_snapshot_index"] != want {
			t.Errorf("restored from the %s backup: RAFT.INFO last_snapshot_index %q, want the backup's index %s", b.name, info["last_snapshot_index"], want)
		}
		if v, err := c.Incr(ctx, "bk:counter:0").Result(); err != nil || strconv.FormatInt(v-1, 10) != want["bk:counter:0"] {
			t.Errorf("restored from the %s backup: INCR bk:counter:0 = %d, %v; want %s + 1", b.name, v, err, want["bk:counter:0"])
		}
		// WATCH sees a write to a restored key (its version, the index
		// that wrote it in the old cluster, is below every new index).
		conn := c.Conn()
		if err := conn.Do(ctx, "WATCH", "bk:counter:1").Err(); err != nil {
			t.Fatalf("WATCH: %v", err)
		}
		if err := c.Incr(ctx, "bk:counter:1").Err(); err != nil {
			t.Fatal(err)
		}
		if err := conn.Do(ctx, "MULTI").Err(); err != nil {
			t.Fatalf("MULTI: %v", err)
		}
		if err := conn.Do(ctx, "SET", "bk:counter:1", "0").Err(); err != nil {
			t.Fatalf("SET in MULTI: %v", err)
		}
		if res, err := conn.Do(ctx, "EXEC").Result(); err != redis.Nil {
			t.Errorf("restored from the %s backup: EXEC after a write to a WATCHed restored key = %v, %v; want a nil reply (aborted)", b.name, res, err)
		}
		conn.Close()
	}

	// A node that joins the restored cluster gets the data.
	rn := restored["http"]
	joiner := launchGossip(t, "joiner", []string{rn.GossipAddr})
	jc := newClient(t, joiner.Addr, 2)
	wantNow, err := keyspace(ctx, newClient(t, rn.Addr, 2))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, gossipFormTimeout, func() error {
		ps, err := gpeersOf(rn)
		if err != nil {
			return err
		}
		if p, ok := findPeer(ps, "joiner"); !ok || p.Suffrage == "none" {
			return fmt.Errorf("RAFT.PEERS of %s: %+v, want joiner in raft", rn.NodeID, ps)
		}
		got, err := keyspace(ctx, jc) // linearizable reads through the joiner
		if err != nil {
			return err
		}
		return diffKeyspace(got, wantNow)
	})
	if gotDeadlines, err := deadlines(ctx, jc, ttlKeys); err != nil || gotDeadlines["bk:ttl:3"] != wantDeadlines["bk:ttl:3"] {
		t.Errorf("joiner: PEXPIRETIME bk:ttl:3 = %d, %v; want %d", gotDeadlines["bk:ttl:3"], err, wantDeadlines["bk:ttl:3"])
	}
	// Its own stale view holds the data too (it received the snapshot).
	if err := jc.Do(ctx, "READONLY").Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := jc.Get(ctx, "bk:last").Result(); err != nil || got != "acknowledged" {
		t.Errorf("joiner: stale GET bk:last = %q, %v", got, err)
	}

	// Refusals.
	base := []string{"--addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0", "--gossip-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}
	restoreArgs := func(dataDir, file string, more ...string) []string {
		return append(append(append([]string{}, base...), "--data-dir", dataDir, "--restore", file), more...)
	}
	resp := restored["resp"]
	resp.Stop()
	_, stderr, code := runOnce(t, nil, restoreArgs(resp.spec.dataDir, respFile)...)
	if code == 0 || !strings.Contains(stderr, "already has raft state") {
		t.Errorf("--restore into a data dir with raft state: exit %d, stderr %q; want a refusal", code, stderr)
	}
	// The refusal changed nothing: the node restarts (without --restore)
	// with its data.
	again := resp.spec
	again.raftAddr = resp.RaftAddr
	again.extra = slices.DeleteFunc(slices.Clone(again.extra), func(a string) bool { return a == "--restore" || a == respFile })
	n := startSpec(t, again)
	if got, err := newClient(t, n.Addr, 2).Get(ctx, "bk:last").Result(); err != nil || got != "acknowledged" {
		t.Errorf("restored node restarted after a refused --restore: GET bk:last = %q, %v", got, err)
	}
	bad := filepath.Join(dir, "truncated.backup")
	if err := os.WriteFile(bad, []byte(r.body[:len(r.body)/2]), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runOnce(t, nil, restoreArgs(t.TempDir(), bad)...)
	if code == 0 || !strings.Contains(stderr, "malformed snapshot") {
		t.Errorf("--restore of a truncated backup: exit %d, stderr %q; want a refusal", code, stderr)
	}
	_, stderr, code = runOnce(t, nil, restoreArgs(t.TempDir(), httpFile, "--join", "127.0.0.1:1")...)
	if code != 2 || !strings.Contains(stderr, "--restore") {
		t.Errorf("--restore with --join: exit %d, stderr %q; want exit 2", code, stderr)
	}
	_, stderr, code = runOnce(t, nil, restoreArgs(t.TempDir(), filepath.Join(dir, "none"))...)
	if code != 2 || !strings.Contains(stderr, "no such file") {
		t.Errorf("--restore of a missing file: exit %d, stderr %q; want exit 2", code, stderr)
	}
}
