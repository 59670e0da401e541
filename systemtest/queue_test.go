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
// node while consumers BRPOP from every node, and the leader is killed
// with SIGKILL in the middle. Every job pushed is consumed exactly once;
// the only exceptions are the ones the clients were told about: a job
// whose pop reply was lost (its consumer got an error) may be missing,
// and a job whose push was retried after an error may come twice.
func TestJobQueueLeaderKill9(t *testing.T) {
	t.Parallel()
	const (
		jobs      = 2000
		producers = 3
		consumers = 6
		killAfter = jobs / 3 // jobs consumed before the kill
	)
	nodes := startCluster(t, 3)
	ctx := testCtx(t, 3*time.Minute)
	old := leader(t, nodes)
	oldIdx := slices.Index(nodes, old)
	clients := make([]*redis.Client, len(nodes))
	for i, n := range nodes {
		clients[i] = newClient(t, n.Addr, 2)
	}

	var (
		mu         sync.Mutex
		consumed   = map[string]int{}
		pushes     = map[string]int{} // attempts of the jobs whose push failed once
		popErrors  int
		consumedN  atomic.Int64
		pushedAll  atomic.Int64
		stop       atomic.Bool
		killed     atomic.Bool
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
					err := clients[at].RPush(ctx, "jobs", job).Err()
					if err == nil {
						break
					}
					mu.Lock()
					pushes[job] = attempt + 1 // it may have been pushed each time
					mu.Unlock()
					at = (at + 1) % len(nodes) // its node may be gone
					time.Sleep(50 * time.Millisecond)
				}
				time.Sleep(time.Millisecond) // spread the pushes over the kill
			}
			pushedAll.Add(1)
		}()
	}
	for w := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[w%len(nodes)]
			onKilled := w%len(nodes) == oldIdx
			for !stop.Load() {
				if onKilled && killed.Load() {
					return
				}
				res, err := c.BRPop(ctx, time.Second, "jobs").Result()
				switch {
				case errors.Is(err, redis.Nil):
				case err != nil:
					mu.Lock()
					popErrors++
					mu.Unlock()
					time.Sleep(50 * time.Millisecond)
				default:
					mu.Lock()
					consumed[res[1]]++
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

	waitFor(t, time.Minute, func() error {
		if n := consumedN.Load(); n < killAfter {
			return fmt.Errorf("%d jobs consumed", n)
		}
		return nil
	})
	killed.Store(true)
	old.Kill()
	nl := leader(t, nodes)
	prodWG.Wait()
	// Until the queue is empty on the new leader and every job is
	// consumed (or the consumers give up on the lost ones).
	waitFor(t, time.Minute, func() error {
		n, err := clients[slices.Index(nodes, nl)].LLen(ctx, "jobs").Result()
		if err != nil || n != 0 {
			return fmt.Errorf("LLEN jobs = %d, %v", n, err)
		}
		return nil
	})
	time.Sleep(2 * time.Second) // the consumers' last replies
	stop.Store(true)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if pushedAll.Load() != producers {
		t.Fatalf("only %d of %d producers pushed all their jobs", pushedAll.Load(), producers)
	}
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
	t.Logf("killed leader %s; %s leads; %d jobs consumed, %d pop errors, %d pushes retried, missing %d",
		old.NodeID, nl.NodeID, consumedN.Load(), popErrors, len(pushes), len(missing))
	if len(dup) > 0 {
		t.Errorf("jobs consumed more often than pushed: %v", dup)
	}
	if len(missing) > popErrors {
		t.Errorf("%d jobs missing (%v), more than the %d pops that failed", len(missing), missing, popErrors)
	}
	if len(consumed) > jobs {
		t.Errorf("%d distinct jobs consumed, %d pushed", len(consumed), jobs)
	}
}
