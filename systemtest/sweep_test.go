package systemtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/storage"
)

// TestKill9MidSweep: DEL of a big hash leaves its fields to the sweeper;
// kill -9 in the middle of the sweep, restart, and the node has lost no
// field of a live hash, and its sweeper removes what the killed one left.
func TestKill9MidSweep(t *testing.T) {
	t.Parallel()
	const (
		liveFields = 20_000
		bigFields  = 200_000
		bootID     = "sweep-boot"
	)
	dir := t.TempDir()
	// A slow sweeper (40,000 records a second), so that the kill lands in
	// the middle of it.
	n := start(t, dir, "--sweep-interval", "50ms", "--sweep-budget", "2000", "--test-boot-id", bootID)
	ctx := testCtx(t, 5*time.Minute)
	c := newClient(t, n.Addr, 2)
	hsetFields(ctx, t, c, "live", liveFields)
	hsetFields(ctx, t, c, "big", bigFields)
	if got, err := c.Del(ctx, "big").Result(); err != nil || got != 1 {
		t.Fatalf("DEL big = %d, %v; want 1", got, err)
	}
	var atKill int
	waitFor(t, time.Minute, func() error {
		d := sweepInfo(ctx, t, c)["sweeper_deleted"]
		if d >= bigFields {
			t.Fatalf("the sweeper deleted all %d records before the kill", d)
		}
		if d == 0 {
			return fmt.Errorf("sweeper_deleted = 0")
		}
		atKill = d
		return nil
	})
	n.Kill()
	t.Logf("killed after the sweeper had deleted %d of %d records", atKill, bigFields)

	r := n.Restart()
	c = newClient(t, r.Addr, 2)
	checkHashFields(ctx, t, c, "live", liveFields)
	if got, err := c.Exists(ctx, "big").Result(); err != nil || got != 0 {
		t.Errorf("EXISTS big = %d, %v; want 0", got, err)
	}
	// A pass that deleted nothing: every record left is reachable.
	waitFor(t, 2*time.Minute, func() error {
		st := sweepInfo(ctx, t, c)
		if st["sweeper_passes"] < 2 || st["sweeper_last_pass_deleted"] != 0 {
			return fmt.Errorf("sweeper after the restart: %v", st)
		}
		return nil
	})
	st := sweepInfo(ctx, t, c)
	if st["sweeper_deleted"] == 0 || atKill+st["sweeper_deleted"] > bigFields {
		t.Errorf("the restarted sweeper deleted %d records, the killed one at least %d, of %d", st["sweeper_deleted"], atKill, bigFields)
	}
	checkHashFields(ctx, t, c, "live", liveFields)

	// Count the engine's records: the live hash's fields, none of big's.
	r.Stop()
	eng, err := storage.OpenLevelDBWith(filepath.Join(dir, "engine"), storage.Options{BootID: bootID})
	if err != nil {
		t.Fatalf("open the engine: %v", err)
	}
	defer eng.Close()
	big, elems := 0, 0
	prefix := elemPrefix("big")
	it := eng.NewIterator(storage.PrefixRange([]byte{'s'}))
	for it.Next() {
		elems++
		if bytes.HasPrefix(it.Key(), prefix) {
			big++
		}
	}
	if err := it.Close(); err != nil {
		t.Fatalf("iterate the engine: %v", err)
	}
	if big != 0 || elems != liveFields {
		t.Errorf("engine holds %d element records, %d of them big's; want %d, none of big's", elems, big, liveFields)
	}
}

// elemPrefix is the start of every element record of key in database 0
// (docs/design/0005-collections-layout.md): 's', db, slot, key length,
// key.
func elemPrefix(key string) []byte {
	p := []byte{'s', 0}
	p = binary.BigEndian.AppendUint16(p, kv.Slot([]byte(key)))
	p = binary.BigEndian.AppendUint32(p, uint32(len(key)))
	return append(p, key...)
}

// fieldValue is field i's value in the hashes hsetFields writes.
func fieldValue(key string, i int) string { return fmt.Sprintf("%s-value-%d", key, i) }

// hsetFields writes fields f:0..n-1 of hash key with pipelined HSETs of
// 1000 fields each, and fails the test unless every one is acknowledged.
func hsetFields(ctx context.Context, t testing.TB, c *redis.Client, key string, n int) {
	t.Helper()
	const perCmd, perPipe = 1000, 20
	for lo := 0; lo < n; lo += perCmd * perPipe {
		cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for from := lo; from < min(lo+perCmd*perPipe, n); from += perCmd {
				args := make([]any, 0, 2*perCmd)
				for i := from; i < min(from+perCmd, n); i++ {
					args = append(args, fmt.Sprintf("f:%d", i), fieldValue(key, i))
				}
				p.HSet(ctx, key, args...)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("pipelined HSET %s from %d: %v", key, lo, err)
		}
		for _, cmd := range cmds {
			if err := cmd.Err(); err != nil {
				t.Fatalf("%v: %v", cmd.Args()[:4], err)
			}
		}
	}
}

// checkHashFields fails the test unless hash key holds exactly the n
// fields hsetFields wrote.
func checkHashFields(ctx context.Context, t testing.TB, c *redis.Client, key string, n int) {
	t.Helper()
	got, err := c.HGetAll(ctx, key).Result()
	if err != nil {
		t.Fatalf("HGETALL %s: %v", key, err)
	}
	bad := 0
	for i := range n {
		if v, ok := got[fmt.Sprintf("f:%d", i)]; !ok || v != fieldValue(key, i) {
			bad++
		}
	}
	if bad > 0 || len(got) != n {
		t.Errorf("hash %s: %d fields, %d of the %d written missing or wrong", key, len(got), bad, n)
	}
}

// sweepInfo returns INFO's sweeper_* fields as numbers.
func sweepInfo(ctx context.Context, t testing.TB, c *redis.Client) map[string]int {
	t.Helper()
	s, err := c.Info(ctx, "persistence").Result()
	if err != nil {
		t.Fatalf("INFO persistence: %v", err)
	}
	out := map[string]int{}
	for _, name := range []string{"sweeper_deleted", "sweeper_passes", "sweeper_last_pass_deleted"} {
		v, err := strconv.Atoi(parseFields(s)[name])
		if err != nil {
			t.Fatalf("INFO persistence: %s: %v\n%s", name, err, s)
		}
		out[name] = v
	}
	return out
}
