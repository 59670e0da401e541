package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// recoveryResult is how a 3-node riot cluster holding many keys comes back.
type recoveryResult struct {
	keys    int
	load    time.Duration // writing the keys (pipelines of 100 over 16 connections)
	restart time.Duration // follower stopped with SIGTERM and started again: start to serving
	crash   time.Duration // follower killed with SIGKILL and started again: start to serving
	catchUp time.Duration // fourth node: RAFT.JOIN to holding the last write
	rss     []int64       // peak RSS of n1..n4
	// The leader's last log index when n4 joined, and n4's last snapshot
	// index once caught up (RAFT.INFO): n4 was sent a snapshot when the
	// latter is set.
	leaderIndex, newSnapshot string
	follower                 int // the node restarted (0-based)
}

// measureRecovery loads keys into a fresh 3-node cluster, snapshots every
// node, then times a follower's restart (graceful and after kill -9) until it
// serves a linearizable GET of the last write, and a new node's catch-up
// (by snapshot: the log behind the snapshot is truncated) until it holds it.
func measureRecovery(ctx context.Context, ps *procs, bin string, keys int, value []byte) (recoveryResult, error) {
	res := recoveryResult{keys: keys}
	s := &system{key: "recovery", label: "riot, 3 nodes (recovery)", proto: resp, nodes: 3}
	logf("recovery: starting a 3-node cluster")
	c, err := startRiot(ctx, ps, s, bin, 3)
	defer c.stop()
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	if err := preload(ctx, c, keys, value); err != nil {
		return res, err
	}
	res.load = time.Since(t0)
	logf("recovery: wrote %d keys in %v", keys, res.load.Round(time.Millisecond))
	leader := respClient(c.addrs[0], false)
	defer leader.Close()
	if err := padLog(ctx, leader, c.addrs[0], padEntries); err != nil {
		return res, err
	}
	sentinel := fmt.Sprintf("done-%d", time.Now().UnixNano())
	if err := leader.Set(ctx, "bench:sentinel", sentinel, 0).Err(); err != nil {
		return res, err
	}
	for i, addr := range c.addrs {
		cl := respClient(addr, false)
		err := cl.Do(ctx, "raft.snapshot").Err()
		cl.Close()
		if err != nil {
			return res, fmt.Errorf("recovery: RAFT.SNAPSHOT on n%d: %w", i+1, err)
		}
	}

	follower := 2
	for i := range c.addrs {
		cl := respClient(c.addrs[i], false)
		state, _ := cl.Do(ctx, "raft.state").Text()
		cl.Close()
		if state == "follower" {
			follower = i
		}
	}
	res.follower = follower
	restart := func(kill bool) (time.Duration, error) {
		i := follower
		if kill {
			c.procs[i].kill9()
		} else {
			c.procs[i].stop(30 * time.Second)
		}
		start := time.Now()
		p, err := ps.start(c.riot[i].id, bin, c.riot[i].args()...)
		if err != nil {
			return 0, err
		}
		c.procs[i] = p
		if err := waitValue(ctx, p, c.addrs[i], false, sentinel, 60*time.Second); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	}
	if res.restart, err = restart(false); err != nil {
		return res, fmt.Errorf("recovery: restart: %w", err)
	}
	logf("recovery: restarted follower serving after %v", res.restart.Round(time.Millisecond))
	if res.crash, err = restart(true); err != nil {
		return res, fmt.Errorf("recovery: restart after kill -9: %w", err)
	}
	logf("recovery: killed follower serving after %v", res.crash.Round(time.Millisecond))

	node, err := newRiotNode(ps, s.key, 3)
	if err != nil {
		return res, err
	}
	p, err := ps.start(node.id, bin, node.args()...)
	if err != nil {
		return res, err
	}
	c.procs, c.riot, c.addrs = append(c.procs, p), append(c.riot, node), append(c.addrs, node.addr)
	ping := respClient(node.addr, false)
	err = poll(30*time.Second, func() error {
		if err := p.exited(); err != nil {
			return err
		}
		return ping.Ping(ctx).Err()
	})
	ping.Close()
	if err != nil {
		return res, err
	}
	res.leaderIndex = raftInfo(ctx, c.addrs[0], "last_log_index")
	start := time.Now()
	if err := leader.Do(ctx, "raft.join", node.id, node.raft).Err(); err != nil {
		return res, fmt.Errorf("recovery: RAFT.JOIN %s: %w", node.id, err)
	}
	if err := waitValue(ctx, p, node.addr, true, sentinel, 5*time.Minute); err != nil {
		return res, fmt.Errorf("recovery: catch-up: %w", err)
	}
	res.catchUp = time.Since(start)
	res.newSnapshot = raftInfo(ctx, node.addr, "last_snapshot_index")
	logf("recovery: new node holds the last write after %v", res.catchUp.Round(time.Millisecond))
	res.rss = c.peakRSS()
	return res, c.alive()
}

// padEntries is how many log entries padLog adds after the preload: more
// than riot's TrailingLogs (10,240), so that RAFT.SNAPSHOT truncates the
// log and a new node can only catch up by snapshot. The preload's
// pipelines share entries (1M keys make about 10,000), too few on their own.
const padEntries = 11000

// padLog adds at least n entries to the raft log of the cluster whose
// leader is at addr: single SETs sent one at a time, each its own entry
// (the leader's group commit packs concurrent writes into one).
func padLog(ctx context.Context, leader *redis.Client, addr string, n int) error {
	first, err := strconv.ParseUint(raftInfo(ctx, addr, "last_log_index"), 10, 64)
	if err != nil {
		return fmt.Errorf("recovery: leader's last_log_index: %w", err)
	}
	for done := false; !done; {
		for i := range 1000 {
			if err := leader.Set(ctx, "bench:pad", i, 0).Err(); err != nil {
				return fmt.Errorf("recovery: padding the log: %w", err)
			}
		}
		last, err := strconv.ParseUint(raftInfo(ctx, addr, "last_log_index"), 10, 64)
		if err != nil {
			return fmt.Errorf("recovery: leader's last_log_index: %w", err)
		}
		done = last >= first+uint64(n)
	}
	return nil
}

// raftInfo is one field of RAFT.INFO on addr, or "?".
func raftInfo(ctx context.Context, addr, field string) string {
	cl := respClient(addr, false)
	defer cl.Close()
	txt, err := cl.Do(ctx, "raft.info").Text()
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(txt, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return "?"
}

// waitValue polls GET bench:sentinel on addr (READONLY: the node's own state)
// until it returns want.
func waitValue(ctx context.Context, p *proc, addr string, readonly bool, want string, timeout time.Duration) error {
	cl := respClient(addr, readonly)
	defer cl.Close()
	return poll(timeout, func() error {
		if err := p.exited(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		got, err := cl.Get(cctx, "bench:sentinel").Result()
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	})
}

// catchUpGoal is the goal row of the new node's catch-up, which must have
// come by snapshot (a last snapshot index other than 0) to count.
func (r recoveryResult) catchUpGoal() goal {
	g := goal{fmt.Sprintf("a new node catches up %d keys by snapshot in < 15 s", r.keys),
		r.catchUp.Round(time.Millisecond).String(), yesNo(r.catchUp < 15*time.Second)}
	switch idx, err := strconv.ParseUint(r.newSnapshot, 10, 64); {
	case err != nil:
		g.measured += " (by snapshot or not: unknown)"
		g.met = "–"
	case idx == 0:
		g.measured += " (by log replay: no snapshot was sent)"
		g.met = "–"
	}
	return g
}

func (r recoveryResult) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Restart and catch-up, a 3-node riot cluster holding %d keys of 100 bytes "+
		"(written in %v with pipelines, then at least %d more log entries of single SETs sent one at a time, so that RAFT.SNAPSHOT on every node truncates the log behind the snapshot):\n\n", r.keys, r.load.Round(time.Millisecond), padEntries)
	b.WriteString("| measurement | time |\n|---|---|\n")
	fmt.Fprintf(&b, "| follower stopped (SIGTERM), started again: start to serving a linearizable GET of the last write | %v |\n", r.restart.Round(time.Millisecond))
	fmt.Fprintf(&b, "| follower killed (SIGKILL), started again: the same | %v |\n", r.crash.Round(time.Millisecond))
	fmt.Fprintf(&b, "| new node: RAFT.JOIN to holding the last write (its snapshot index then: %s; the leader's last log index at the join: %s) | %v |\n",
		r.newSnapshot, r.leaderIndex, r.catchUp.Round(time.Millisecond))
	var parts []string
	for i, v := range r.rss {
		parts = append(parts, fmt.Sprintf("n%d %s", i+1, fmtBytes(v)))
	}
	fmt.Fprintf(&b, "| peak RSS per node (n%d, the restarted follower: since its last start; n4: the new node) | %s |\n\n", r.follower+1, strings.Join(parts, ", "))
	return b.String()
}
