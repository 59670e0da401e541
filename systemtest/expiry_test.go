package systemtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// expiryClass is a group of keys written with the same TTL.
type expiryClass struct {
	name string
	ttl  time.Duration
	keys []string
}

// TestExpiryUnderFailover: keys with short, middle and long TTLs are written
// to a 3-node cluster, the leader is killed with SIGKILL at once and comes
// back. While a new leader takes over and until well after the last
// deadline, every node is read again and again, linearizably and with
// READONLY: a key is never seen after its deadline (never resurrected, by a
// new leader, a replayed log or a restarted node), is seen with a sane TTL
// before it, and the long-TTL keys survive with their TTL counting down from
// the original write, not restarted by the failover.
//
// Deadlines are decided by the node that takes the write, from its clock;
// every node here shares the test's clock, so "after its deadline" is exact:
// a read sent after ack+TTL is made at a later time.
func TestExpiryUnderFailover(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 3)
	ld := leader(t, nodes)
	ctx := testCtx(t, 3*time.Minute)

	classes := []*expiryClass{
		{name: "short", ttl: 1500 * time.Millisecond},
		{name: "mid", ttl: 5 * time.Second},
		{name: "long", ttl: time.Hour},
	}
	c := newClient(t, ld.Addr, 2)
	sent := time.Now()
	cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, cl := range classes {
			for i := range 40 {
				k := fmt.Sprintf("exp:%s:%02d", cl.name, i)
				cl.keys = append(cl.keys, k)
				p.Set(ctx, k, "v-"+k, cl.ttl)
			}
		}
		p.Set(ctx, "exp:none", "forever", 0)
		return nil
	})
	acked := time.Now()
	if err != nil {
		t.Fatalf("pipelined SETs with TTLs: %v", err)
	}
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			t.Fatalf("%v: %v", cmd.Args(), err)
		}
	}
	// Every key exists (the short ones are checked again below, until
	// their deadline).
	if n, err := c.Exists(ctx, classes[2].keys...).Result(); err != nil || n != int64(len(classes[2].keys)) {
		t.Fatalf("EXISTS of the long-TTL keys right after writing = %d, %v", n, err)
	}

	ld.Kill()
	t.Logf("killed leader %s %s after the writes were acknowledged", ld.NodeID, time.Since(acked).Round(time.Millisecond))
	rest := followersOf(nodes, ld)
	newLd := leader(t, rest)
	t.Logf("new leader %s after %s", newLd.NodeID, time.Since(acked).Round(time.Millisecond))
	back := ld.Relaunch()
	all := append(slices.Clone(rest), back)

	readers := map[string]*redis.Client{} // "n1" (linearizable), "n1/readonly"
	for _, n := range all {
		readers[n.NodeID] = newClient(t, n.Addr, 2)
		ro := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DialTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
			OnConnect: func(ctx context.Context, cn *redis.Conn) error {
				return cn.Process(ctx, redis.NewStatusCmd(ctx, "READONLY"))
			}})
		t.Cleanup(func() { _ = ro.Close() })
		readers[n.NodeID+"/readonly"] = ro
	}

	// Poll until 2s after the middle deadline: a key must never be read
	// after its deadline; before it, when it is read, its TTL is sane.
	lastDeadline := acked.Add(classes[1].ttl)
	rounds, seenBefore := 0, map[string]int{}
	for time.Now().Before(lastDeadline.Add(2 * time.Second)) {
		rounds++
		for name, r := range readers {
			for _, cl := range classes {
				rctx, cancel := context.WithTimeout(ctx, pollTimeout)
				readAt := time.Now()
				vals, err := r.MGet(rctx, cl.keys...).Result()
				cancel()
				if err != nil {
					continue // an election or a restarting node: nothing to check
				}
				for i, v := range vals {
					if v == nil {
						if cl.ttl == time.Hour {
							t.Fatalf("%s: %s is gone %s after the write; its TTL was 1h", name, cl.keys[i], time.Since(sent))
						}
						continue
					}
					if readAt.After(acked.Add(cl.ttl)) {
						t.Fatalf("%s: %s read %s after its deadline (TTL %s, acknowledged at %s): resurrected",
							name, cl.keys[i], readAt.Sub(acked.Add(cl.ttl)), cl.ttl, acked.Format(time.StampMilli))
					}
					if v != "v-"+cl.keys[i] {
						t.Fatalf("%s: %s = %q", name, cl.keys[i], v)
					}
					seenBefore[cl.name]++
				}
			}
		}
	}
	t.Logf("%d rounds of reads on %d connections; keys seen before their deadline: %v", rounds, len(readers), seenBefore)
	if seenBefore["mid"] == 0 {
		t.Errorf("no middle-TTL key was ever read before its deadline: the test checked nothing about them")
	}

	// After every deadline: the short and middle keys are gone everywhere;
	// the long ones keep a TTL counting down from the first write.
	for name, r := range readers {
		waitFor(t, stableTimeout, func() error { return r.Ping(ctx).Err() })
		for _, cl := range classes[:2] {
			if n, err := r.Exists(ctx, cl.keys...).Result(); err != nil || n != 0 {
				t.Errorf("%s: EXISTS of the %s keys after their deadline = %d, %v; want 0", name, cl.name, n, err)
			}
		}
		elapsed := time.Since(sent)
		for _, k := range classes[2].keys {
			ttl, err := r.PTTL(ctx, k).Result()
			if err != nil || ttl > time.Hour || ttl < time.Hour-elapsed-time.Second {
				t.Errorf("%s: PTTL %s = %s, %v; want within (1h - %s, 1h]", name, k, ttl, err, elapsed.Round(time.Millisecond))
				break
			}
		}
		if n, err := r.DBSize(ctx).Result(); err != nil || n != int64(len(classes[2].keys))+1 {
			t.Errorf("%s: DBSIZE = %d, %v; want %d (the long-TTL keys and exp:none)", name, n, err, len(classes[2].keys)+1)
		}
		if ttl, err := r.TTL(ctx, "exp:none").Result(); err != nil || ttl != -1 {
			t.Errorf("%s: TTL exp:none = %v, %v; want -1", name, ttl, err)
		}
	}
	// The restarted node holds the same keys (its own copy, read stale,
	// once it caught up).
	want := append(slices.Clone(classes[2].keys), "exp:none")
	waitFor(t, stableTimeout, func() error {
		keys, err := readers[back.NodeID+"/readonly"].Keys(ctx, "exp:*").Result()
		slices.Sort(keys)
		if err != nil || !slices.Equal(keys, want) {
			return fmt.Errorf("KEYS exp:* on the restarted %s (READONLY) = %s, %v; want the %d long-TTL keys and exp:none",
				back.NodeID, strings.Join(keys, " "), err, len(classes[2].keys))
		}
		return nil
	})
}
