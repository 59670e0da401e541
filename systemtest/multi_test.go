package systemtest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestClusterTransactions: MULTI/EXEC and WATCH on a 3-node cluster.
// A transaction sent to a follower is forwarded to the leader as one log
// entry and its replies come back; WATCH on a follower sees the current
// state (a linearizable read), so concurrent optimistic increments from
// clients on every node add up exactly.
func TestClusterTransactions(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 3)
	ctx := testCtx(t, 2*time.Minute)
	ld := leader(t, nodes)
	fs := followersOf(nodes, ld)
	cs := clientsFor(t, nodes)

	// EXEC through a follower: writes and reads in one entry, a runtime
	// error in its slot, the reads evaluated inside the transaction.
	fc := newClient(t, fs[0].Addr, 3)
	cmds, err := fc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "tx:s", "text", 0)
		p.IncrBy(ctx, "tx:n", 41)
		p.Incr(ctx, "tx:n")
		p.Incr(ctx, "tx:s")
		p.MGet(ctx, "tx:n", "tx:s", "tx:missing")
		return nil
	})
	if err == nil || err.Error() != "ERR value is not an integer or out of range" {
		t.Fatalf("EXEC via follower %s: err = %v, want the INCR's error", fs[0].NodeID, err)
	}
	got := fmt.Sprint(cmds[0].(*redis.StatusCmd).Val(), cmds[1].(*redis.IntCmd).Val(), cmds[2].(*redis.IntCmd).Val(), cmds[4].(*redis.SliceCmd).Val())
	if want := fmt.Sprint("OK", int64(41), int64(42), []any{"42", "text", nil}); got != want {
		t.Errorf("EXEC via follower %s replies = %s, want %s", fs[0].NodeID, got, want)
	}
	for i, c := range cs {
		if v, err := c.Get(ctx, "tx:n").Result(); err != nil || v != "42" {
			t.Errorf("GET tx:n via %s after EXEC via follower = %q, %v; want 42", nodes[i].NodeID, v, err)
		}
	}

	// WATCH through a follower, a change through the leader: EXEC aborts.
	err = cs[slices.Index(nodes, fs[1])].Watch(ctx, func(tx *redis.Tx) error {
		if _, err := tx.Get(ctx, "tx:n").Result(); err != nil {
			return err
		}
		if err := cs[slices.Index(nodes, ld)].Set(ctx, "tx:n", "0", 0).Err(); err != nil {
			return err
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "tx:n", "lost", 0)
			return nil
		})
		return err
	}, "tx:n")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Errorf("WATCH via follower %s, change via leader: err = %v, want %v", fs[1].NodeID, err, redis.TxFailedErr)
	}

	// Optimistic counter: clients on every node, WATCH/GET/MULTI/SET/EXEC,
	// retried on abort. The count is exact.
	const perNode, each = 2, 15
	var wg sync.WaitGroup
	errs := make(chan error, len(nodes)*perNode)
	var aborted [3]int
	var mu sync.Mutex
	for i := range nodes {
		for range perNode {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := cs[i]
				for range each {
					for {
						err := c.Watch(ctx, func(tx *redis.Tx) error {
							n, err := tx.Get(ctx, "tx:counter").Int()
							if err != nil && !errors.Is(err, redis.Nil) {
								return err
							}
							_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
								p.Set(ctx, "tx:counter", strconv.Itoa(n+1), 0)
								return nil
							})
							return err
						}, "tx:counter")
						if err == nil {
							break
						}
						if !errors.Is(err, redis.TxFailedErr) {
							errs <- fmt.Errorf("via %s: %w", nodes[i].NodeID, err)
							return
						}
						mu.Lock()
						aborted[i]++
						mu.Unlock()
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("optimistic increment: %v", err)
	}
	t.Logf("aborted and retried transactions per node: %v", aborted)
	want := strconv.Itoa(len(nodes) * perNode * each)
	for i, c := range cs {
		if v, err := c.Get(ctx, "tx:counter").Result(); err != nil || v != want {
			t.Errorf("GET tx:counter via %s = %q, %v; want %s", nodes[i].NodeID, v, err, want)
		}
	}
}
