package systemtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestKill9LosesNoAcknowledgedWrite checks the durability contract: every
// write acknowledged with a reply survives kill -9, and a write that was
// not acknowledged is applied at most once.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	stopUnderLoad(t, (*node).Kill, (*node).Restart)
}

// TestMachineRestartLosesNoAcknowledgedWrite: engine writes are not synced
// (only the raft log is), so after the operating system went down the
// engine may have lost writes. Simulated: kill -9, cut the engine's journal
// (the unsynced tail a power loss takes), start again with another boot ID.
// The node discards the engine and rebuilds it from the raft log.
func TestMachineRestartLosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	stopUnderLoad(t, (*node).Kill, func(n *node) *node {
		journals, err := filepath.Glob(filepath.Join(n.spec.dataDir, "engine", "*.log"))
		if err != nil || len(journals) == 0 {
			t.Fatalf("engine journals: %v, %v", journals, err)
		}
		for _, j := range journals {
			if fi, err := os.Stat(j); err == nil {
				if err := os.Truncate(j, fi.Size()/2); err != nil {
					t.Fatalf("cut journal: %v", err)
				}
			}
		}
		n.spec.extra = append(n.spec.extra, "--test-boot-id", "boot-b")
		r := n.Restart()
		if !strings.Contains(r.proc.Log.String(), "discarding the engine") {
			t.Errorf("the restarted node did not discard its engine; its log:\n%s", r.proc.Log)
		}
		return r
	}, "--test-boot-id", "boot-a")
}

// TestKill9LosesNoAcknowledgedWriteWAL is the same with the raft log in
// hashicorp/raft-wal (--log-store wal).
func TestKill9LosesNoAcknowledgedWriteWAL(t *testing.T) {
	t.Parallel()
	stopUnderLoad(t, (*node).Kill, (*node).Restart, "--log-store", "wal")
}

// TestSIGTERMUnderLoadLosesNoAcknowledgedWrite is the same with a graceful
// shutdown: the node exits with code 0 while clients are writing.
func TestSIGTERMUnderLoadLosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	stopUnderLoad(t, (*node).Stop, (*node).Restart)
}

// stopUnderLoad runs 8 writing clients, stops the node with stop while
// they run, restarts it with restart and checks that every acknowledged SET is there
// and that each counter counts every acknowledged INCR and at most the
// INCRs that failed besides.
func stopUnderLoad(t *testing.T, stop func(*node), restart func(*node) *node, flags ...string) {
	const (
		workers      = 8
		counters     = 4
		maxOps       = 20000            // per worker
		loadDuration = 2 * time.Second  // the load stops by then at the latest
		killAfter    = 1000             // stop the node after this many acknowledged ops,
		killByTime   = loadDuration / 2 // or after this much load, whichever is first
	)
	n := start(t, t.TempDir(), flags...)
	ctx := testCtx(t, 2*time.Minute)

	type tally struct {
		sets               map[string]string // acknowledged SETs
		attemptedSets      int
		incrOK, incrFailed [counters]int64
		preKillErr         error // any error before the kill is a failure
		postKillErr        error // the error that ended the worker after the kill
	}
	var (
		acked   atomic.Int64
		killed  atomic.Bool
		running atomic.Int32
		tallies = make([]tally, workers)
		clients = make([]*redis.Client, workers)
		wg      sync.WaitGroup
	)
	for w := range clients {
		clients[w] = newClient(t, n.Addr, 2)
	}
	begin := time.Now()
	running.Store(workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer running.Add(-1)
			c, tl := clients[w], &tallies[w]
			tl.sets = map[string]string{}
			// Each worker writes until its first error (the node is gone)
			// or the load's bounds; it does not stop for the kill, so that
			// writes keep arriving while the node goes down.
			for i := 0; i < maxOps && time.Since(begin) < loadDuration; i++ {
				var err error
				if i%4 == 3 {
					ctr := (w + i) % counters
					err = c.Incr(ctx, counterKey(ctr)).Err()
					if err == nil {
						tl.incrOK[ctr]++
					} else {
						tl.incrFailed[ctr]++
					}
				} else {
					k, v := fmt.Sprintf("load:%d:%d", w, i), fmt.Sprintf("v%d-%d-%d", w, i, begin.UnixNano())
					tl.attemptedSets++
					var s string
					s, err = c.Set(ctx, k, v, 0).Result()
					if err == nil && s == "OK" {
						tl.sets[k] = v
					}
				}
				if err != nil {
					if !killed.Load() {
						tl.preKillErr = fmt.Errorf("op %d before the kill: %w", i, err)
					} else {
						tl.postKillErr = err
					}
					return
				}
				acked.Add(1)
			}
		}()
	}

	// Kill mid-load: once enough writes were acknowledged, or half-way
	// through the load window on a slow machine.
	waitFor(t, time.Minute, func() error {
		if running.Load() < workers {
			return nil // a worker stopped early; checked below
		}
		if acked.Load() >= killAfter || time.Since(begin) >= killByTime {
			return nil
		}
		return fmt.Errorf("%d ops acknowledged", acked.Load())
	})
	stillRunning := running.Load()
	killed.Store(true)
	stop(n)
	wg.Wait()
	if stillRunning < workers {
		t.Errorf("only %d of %d workers were still running at the kill", stillRunning, workers)
	}
	var (
		want               = map[string]string{}
		attempted          int
		incrOK, incrFailed [counters]int64
	)
	for w, tl := range tallies {
		if tl.preKillErr != nil {
			t.Errorf("worker %d: %v", w, tl.preKillErr)
		}
		if tl.postKillErr != nil {
			t.Logf("worker %d stopped on: %v", w, tl.postKillErr)
		}
		for k, v := range tl.sets {
			want[k] = v
		}
		attempted += tl.attemptedSets
		for i := range counters {
			incrOK[i] += tl.incrOK[i]
			incrFailed[i] += tl.incrFailed[i]
		}
	}
	t.Logf("stopped after %s: %d acknowledged SETs of %d sent, INCR acknowledged %v, failed %v",
		time.Since(begin).Round(time.Millisecond), len(want), attempted, incrOK, incrFailed)
	if len(want) == 0 {
		t.Fatalf("no SET was acknowledged before the node was stopped")
	}

	n2 := restart(n)
	c := newClient(t, n2.Addr, 2)
	checkKeys(ctx, t, c, want)
	nonZero := 0
	for i := range counters {
		got, err := c.Get(ctx, counterKey(i)).Int64()
		if err == redis.Nil {
			got, err = 0, nil
		}
		if err != nil {
			t.Fatalf("GET %s: %v", counterKey(i), err)
		}
		if got < incrOK[i] || got > incrOK[i]+incrFailed[i] {
			t.Errorf("%s = %d after restart; want between %d acknowledged and %d sent INCRs",
				counterKey(i), got, incrOK[i], incrOK[i]+incrFailed[i])
		}
		if got > 0 {
			nonZero++
		}
	}
	// No key appears that was never sent.
	size, err := c.DBSize(ctx).Result()
	if err != nil {
		t.Fatalf("DBSIZE: %v", err)
	}
	if size < int64(len(want)+nonZero) || size > int64(attempted+nonZero) {
		t.Errorf("DBSIZE = %d, want between %d and %d", size, len(want)+nonZero, attempted+nonZero)
	}
}

func counterKey(i int) string { return fmt.Sprintf("counter:%d", i) }

// TestRestartAfterSnapshot restarts a node whose state is a snapshot plus
// the raft log written after it, after kill -9 and after SIGTERM.
func TestRestartAfterSnapshot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		stop func(*node)
	}{
		{"Kill9", (*node).Kill},
		{"SIGTERM", (*node).Stop}, // Stop asserts exit code 0
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const (
				before, after = 5000, 1000
				incrs         = 300
			)
			n := start(t, t.TempDir())
			ctx := testCtx(t, 2*time.Minute)
			c := newClient(t, n.Addr, 2)

			setKeys(ctx, t, c, "snap", 0, before)
			if got, err := c.Do(ctx, "RAFT.SNAPSHOT").Text(); err != nil || got != "OK" {
				t.Fatalf("RAFT.SNAPSHOT = %q, %v; want OK", got, err)
			}
			snapIndex, err := strconv.ParseUint(raftInfo(ctx, t, c)["last_snapshot_index"], 10, 64)
			if err != nil || snapIndex == 0 {
				t.Fatalf("RAFT.INFO last_snapshot_index = %d, %v after RAFT.SNAPSHOT; want > 0", snapIndex, err)
			}
			setKeys(ctx, t, c, "snap", before, before+after)
			cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i := range incrs {
					p.Incr(ctx, counterKey(i%2))
				}
				return nil
			})
			if err != nil {
				t.Fatalf("pipelined INCR: %v", err)
			}
			if last := cmds[len(cmds)-1].(*redis.IntCmd).Val(); last != incrs/2 {
				t.Fatalf("last INCR = %d, want %d", last, incrs/2)
			}

			tc.stop(n)
			n2 := n.Restart()
			c2 := newClient(t, n2.Addr, 2)
			want := map[string]string{}
			for i := range before + after {
				want[key("snap", i)] = value("snap", i)
			}
			checkKeys(ctx, t, c2, want)
			for i := range 2 {
				if got, err := c2.Get(ctx, counterKey(i)).Int64(); err != nil || got != incrs/2 {
					t.Errorf("%s after restart = %d, %v; want %d", counterKey(i), got, err, incrs/2)
				}
			}
			if got, err := c2.DBSize(ctx).Result(); err != nil || got != before+after+2 {
				t.Errorf("DBSIZE after restart = %d, %v; want %d", got, err, before+after+2)
			}
			if got, err := strconv.ParseUint(raftInfo(ctx, t, c2)["last_snapshot_index"], 10, 64); err != nil || got < snapIndex {
				t.Errorf("RAFT.INFO last_snapshot_index after restart = %d, %v; want >= %d", got, err, snapIndex)
			}
			// The restarted node takes writes.
			if got, err := c2.Incr(ctx, counterKey(0)).Result(); err != nil || got != incrs/2+1 {
				t.Errorf("INCR after restart = %d, %v; want %d", got, err, incrs/2+1)
			}
		})
	}
}
