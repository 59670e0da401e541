package systemtest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// peerProgress is the progress part of a RAFT.PEERS entry.
type peerProgress struct {
	gossip        string
	applied, lag  uint64
	lastContactMS int64
	caughtUp      bool
}

// progressOf returns, from n's RAFT.PEERS, the progress of every server by
// ID.
func progressOf(n *node) (map[string]peerProgress, error) {
	v, err := n.do("RAFT.PEERS").Result()
	if err != nil {
		return nil, fmt.Errorf("RAFT.PEERS on %s: %w", n.NodeID, err)
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("RAFT.PEERS on %s = %#v, want an array", n.NodeID, v)
	}
	out := make(map[string]peerProgress, len(arr))
	for _, e := range arr {
		m, err := fieldMap(e)
		if err != nil {
			return nil, err
		}
		var p peerProgress
		var errs []error
		p.gossip = m["gossip"]
		p.applied, err = strconv.ParseUint(m["applied_index"], 10, 64)
		errs = append(errs, err)
		p.lag, err = strconv.ParseUint(m["lag"], 10, 64)
		errs = append(errs, err)
		p.lastContactMS, err = strconv.ParseInt(m["last_contact_ms"], 10, 64)
		errs = append(errs, err)
		switch m["caught_up"] {
		case "yes":
			p.caughtUp = true
		case "no":
		default:
			errs = append(errs, fmt.Errorf("caught_up = %q, want yes or no", m["caught_up"]))
		}
		for _, err := range errs {
			if err != nil {
				return nil, fmt.Errorf("RAFT.PEERS on %s, entry %v: %w", n.NodeID, m, err)
			}
		}
		out[m["id"]] = p
	}
	return out, nil
}

// TestPeerProgress: RAFT.PEERS and INFO show, on every node, each server's
// applied index, lag, last contact and whether it is caught up; a paused
// follower stops answering, falls behind and is shown so on the leader,
// and is caught up again once resumed.
func TestPeerProgress(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 3)
	ctx := testCtx(t, 2*time.Minute)
	ld := waitCluster(t, nodes)
	c := newClient(t, ld.Addr, 2)

	allCaughtUp := func() error {
		for _, n := range nodes {
			ps, err := progressOf(n)
			if err != nil {
				return err
			}
			if len(ps) != len(nodes) {
				return fmt.Errorf("%s shows %d servers, want %d", n.NodeID, len(ps), len(nodes))
			}
			for id, p := range ps {
				if !p.caughtUp || p.lastContactMS < 0 || p.applied == 0 {
					return fmt.Errorf("%s shows %s as %+v, want caught up with a last contact", n.NodeID, id, p)
				}
			}
		}
		return nil
	}
	waitFor(t, stableTimeout, allCaughtUp)
	info, err := c.Info(ctx, "cluster").Result()
	if err != nil {
		t.Fatalf("INFO cluster: %v", err)
	}
	for _, f := range []string{"applied_index=", "lag=", "last_contact_ms=", "caught_up=yes"} {
		if !strings.Contains(info, f) {
			t.Errorf("INFO cluster lacks %q:\n%s", f, info)
		}
	}

	var f *node
	for _, n := range nodes {
		if n != ld {
			f = n
			break
		}
	}
	f.Pause()
	// Writes go on without the paused follower: it falls behind.
	waitFor(t, stableTimeout, func() error {
		if err := c.Set(ctx, "progress", time.Now().String(), 0).Err(); err != nil {
			return err
		}
		ps, err := progressOf(ld)
		if err != nil {
			return err
		}
		p := ps[f.NodeID]
		if p.caughtUp || p.lag == 0 || p.lastContactMS < 1000 {
			return fmt.Errorf("leader shows paused %s as %+v, want behind and silent for over 1s", f.NodeID, p)
		}
		return nil
	})
	f.Resume()
	waitFor(t, stableTimeout, allCaughtUp)
}
