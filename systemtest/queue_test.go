package systemtest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A job queue on a 3-node cluster: producers RPUSH jobs through every
// node while consumers take them with BRPOP or BLMOVE (into a "done" list)
// on every node; the leader is killed with SIGKILL a third of the way in
// and relaunched, then a follower, whose consumers are cut off with it, is
// killed and relaunched two thirds of the way in. Every job pushed is
// consumed exactly once; the only exceptions are the ones the clients were
// told about: a job whose pop reply was lost (its consumer got an error)
// may be missing, and a job whose push was retried after an error may
// come twice.
func TestJobQueueKill9(t *testing.T) {
	t.Parallel()
	const (
		jobs      = 10000
		producers = 3
		consumers = 6 // even: BRPOP, odd: BLMOVE
	)
	nodes := startCluster(t, 3)
	ctx := testCtx(t, 4*time.Minute)
	// clients[i] is node i's client; a relaunched node gets a new one.
	var clients [3]atomic.Pointer[redis.Client]
	for i, n := range nodes {
		clients[i].Store(newClient(t, n.Addr, 2))
	}

	var (
		mu         sync.Mutex
		consumed   = map[string]int{}
		pushes     = map[string]int{} // attempts of the jobs whose push failed once
		popErrors  int
		consumedN  atomic.Int64
		pushedAll  atomic.Int64
		stop       atomic.Bool
		wg, prodWG sync.WaitGroup
	)
	for p := range producers {
		prodWG.Add(1)
		go func() {
			defer prodWG.Done()
			at := p % len(nodes)
			for i := p; i < jobs; i += producers {
				job := fmt.Sprintf("job:%d", i)
				for attempt := 1; ; attempt++ {
					if ctx.Err() != nil {
						return
					}
					err := clients[at].Load().RPush(ctx, "jobs", job).Err()
					if err == nil {
						break
					}
					mu.Lock()
					pushes[job] = attempt + 1 // it may have been pushed each time
					mu.Unlock()
					at = (at + 1) % len(nodes)        // its node may be gone
					time.Sleep(20 * time.Millisecond) // back off while a node is down
				}
			}
			pushedAll.Add(1)
		}()
	}
	for w := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := w % len(nodes)
			for !stop.Load() {
				c := clients[at].Load()
				var job string
				var err error
				if w%2 == 0 {
					var res []string
					if res, err = c.BRPop(ctx, time.Second, "jobs").Result(); err == nil {
						job = res[1]
					}
				} else {
					job, err = c.BLMove(ctx, "jobs", "done", "LEFT", "RIGHT", time.Second).Result()
				}
				switch {
				case errors.Is(err, redis.Nil):
				case err != nil:
					mu.Lock()
					popErrors++
					mu.Unlock()
					time.Sleep(20 * time.Millisecond) // back off while the node is down
				default:
					mu.Lock()
					consumed[job]++
					mu.Unlock()
					consumedN.Add(1)
				}
			}
		}()
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()

	// kill9 kills node i once at least after jobs were consumed, waits for
	// a leader among the others, and relaunches it.
	kill9 := func(i int, after int64) *node {
		waitFor(t, 2*time.Minute, func() error {
			if n := consumedN.Load(); n < after {
				return fmt.Errorf("%d jobs consumed", n)
			}
			return nil
		})
		victim := nodes[i]
		victim.Kill()
		others := slices.Delete(slices.Clone(nodes), i, i+1)
		nl := leader(t, others)
		nodes[i] = victim.Relaunch()
		clients[i].Store(newClient(t, nodes[i].Addr, 2))
		t.Logf("killed %s after %d jobs; %s leads", victim.NodeID, after, nl.NodeID)
		return nl
	}
	first := slices.Index(nodes, leader(t, nodes))
	nl := kill9(first, jobs/3)
	second := (slices.Index(nodes, nl) + 1) % len(nodes) // a follower, with consumers
	nl = kill9(second, 2*jobs/3)
	prodWG.Wait()
	if pushedAll.Load() != producers {
		t.Fatalf("only %d of %d producers pushed all their jobs", pushedAll.Load(), producers)
	}
	// Until every job is consumed, or those still missing are no more than
	// the pops that failed (each may have taken one whose reply was lost).
	lc := clients[slices.Index(nodes, nl)].Load()
	waitFor(t, 2*time.Minute, func() error {
		n, err := lc.LLen(ctx, "jobs").Result()
		if err != nil || n != 0 {
			return fmt.Errorf("LLEN jobs = %d, %v", n, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if missing := jobs - len(consumed); missing > popErrors {
			return fmt.Errorf("%d jobs not consumed yet, %d pops failed", missing, popErrors)
		}
		return nil
	})
	stop.Store(true)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	var missing, dup []string
	for i := range jobs {
		job := fmt.Sprintf("job:%d", i)
		n := consumed[job]
		switch {
		case n == 0:
			missing = append(missing, job)
		case n > 1 && n > pushes[job]:
			dup = append(dup, job)
		}
	}
	t.Logf("%d jobs consumed, %d pop errors, %d pushes retried, missing %d",
		consumedN.Load(), popErrors, len(pushes), len(missing))
	if len(dup) > 0 {
		t.Errorf("jobs consumed more often than pushed: %v", dup)
	}
	if len(missing) > popErrors {
		t.Errorf("%d jobs missing (%v), more than the %d pops that failed", len(missing), missing, popErrors)
	}
	if len(consumed) > jobs {
		t.Errorf("%d distinct jobs consumed, %d pushed", len(consumed), jobs)
	}
	// A BLMOVE'd job is in "done" once (twice only if pushed twice); one
	// there that no consumer got is a BLMOVE whose reply was lost, counted
	// among the missing above.
	done, err := lc.LRange(ctx, "done", 0, -1).Result()
	if err != nil {
		t.Fatalf("LRANGE done: %v", err)
	}
	inDone := map[string]int{}
	for _, j := range done {
		inDone[j]++
		if inDone[j] > 1 && inDone[j] > pushes[j] {
			t.Errorf("%s is in done %d times", j, inDone[j])
		}
	}
}
