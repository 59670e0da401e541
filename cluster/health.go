package cluster

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riotkv/riot/respwire"
)

// peerHealth is what this node last learned from a peer's RAFT.INFO.
type peerHealth struct {
	applied uint64    // the peer's fsm_applied_index
	state   string    // the peer's raft state: Leader, Follower, Candidate, Shutdown
	seen    time.Time // when the peer last answered; zero: never
	// noSecret: the peer says it has not applied the node secret
	// (riot_node_secret:0; an older release does not say).
	noSecret bool
}

// healthTracker keeps, for every server in the raft configuration, how far
// its state machine has come and when it last answered. Every node polls
// every other server (a RAFT.INFO over the pooled peer connections), so
// RAFT.PEERS, INFO and the status page show lag and last contact from any
// node, and the reconciler decides promotions from the same figures.
type healthTracker struct {
	mu    sync.Mutex
	peers map[string]peerHealth
}

// health returns what this node knows of server id; ok is false when it
// never answered.
func (r *Router) health(id string) (peerHealth, bool) {
	r.tracker.mu.Lock()
	defer r.tracker.mu.Unlock()
	h, ok := r.tracker.peers[id]
	return h, ok
}

// healthLoop polls every other server each HealthInterval until Close.
func (r *Router) healthLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.HealthInterval)
	defer t.Stop()
	for {
		r.pollHealth()
		select {
		case <-t.C:
		case <-r.stop:
			return
		}
	}
}

// pollHealth asks every other server in the configuration for its RAFT.INFO
// at once, each bounded by HealthInterval, and records the answers.
func (r *Router) pollHealth() {
	servers, err := r.node.Servers()
	if err != nil {
		return
	}
	self := r.node.ID()
	ids := make(map[string]bool, len(servers))
	var wg sync.WaitGroup
	for _, s := range servers {
		ids[s.ID] = true
		if s.ID == self {
			continue
		}
		addr := r.clientAddrOf(s.ID)
		if addr == "" {
			continue
		}
		wg.Add(1)
		go func(id, addr string) {
			defer wg.Done()
			h, ok := r.askHealth(addr)
			if !ok {
				return
			}
			r.tracker.mu.Lock()
			r.tracker.peers[id] = h
			r.tracker.mu.Unlock()
		}(s.ID, addr)
	}
	wg.Wait()
	// Forget servers that left the configuration.
	r.tracker.mu.Lock()
	missing := false
	for id, h := range r.tracker.peers {
		if !ids[id] {
			delete(r.tracker.peers, id)
		}
		missing = missing || (h.noSecret && r.caughtUp(h.applied))
	}
	r.tracker.mu.Unlock()
	if missing && r.node.IsLeader() && r.node.FSM().Secret() != nil {
		// A member caught up without the secret applied it, when it was
		// recorded, as an older release (an upgrade): record it again.
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.HealthInterval)
		defer cancel()
		if err := r.node.ProposeSecret(ctx); err != nil {
			r.logger.Debug("propose the node secret again", "err", err)
		}
	}
}

// askHealth asks the node at addr for its RAFT.INFO about this Router's
// group (RAFT.INFO <group> for a data group), bounded by HealthInterval.
func (r *Router) askHealth(addr string) (peerHealth, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.HealthInterval)
	defer cancel()
	req := respwire.AppendRequest(nil, []byte("RAFT.INFO"))
	if r.group != 0 {
		req = respwire.AppendRequest(nil, []byte("RAFT.INFO"), strconv.AppendUint(nil, uint64(r.group), 10))
	}
	raw, err := r.peers.do(ctx, addr, req)
	if err != nil || respwire.ReplyError(raw) != "" {
		return peerHealth{}, false
	}
	applied, ok := infoField(raw, "fsm_applied_index")
	if !ok {
		return peerHealth{}, false
	}
	return peerHealth{applied: applied, state: infoString(raw, "state"), seen: time.Now(),
		noSecret: infoString(raw, "riot_node_secret") == "0"}, true
}

// peerCaughtUp asks server id now how far its replica of this Router's
// group has come, and reports whether it is a live follower within
// CaughtUpLag entries of this node's commit index: what a data group's
// leader checks before it promotes a new replica (a metadata group's
// reconciler reads the same figures from the health poll instead).
func (r *Router) peerCaughtUp(id string) bool {
	addr := r.clientAddrOf(id)
	if addr == "" {
		return false
	}
	h, ok := r.askHealth(addr)
	return ok && h.state == "Follower" && r.caughtUp(h.applied)
}

// clientAddrOf returns server id's RESP address: from the replicated
// address book, or from gossip before the node announced itself there.
func (r *Router) clientAddrOf(id string) string {
	if m, ok := r.member(id); ok && m.ClientAddr != "" {
		return m.ClientAddr
	}
	if r.gossip != nil {
		if gm, ok := r.gossip.Member(id); ok {
			return gm.ClientAddr
		}
	}
	return ""
}

// recent reports whether a server that last answered d ago (negative:
// never) counts as answering: within three polls.
func (r *Router) recent(d time.Duration) bool { return d >= 0 && d <= 3*r.cfg.HealthInterval }

// caughtUp reports whether an applied index is within CaughtUpLag entries
// of this node's commit index.
func (r *Router) caughtUp(applied uint64) bool {
	return applied+r.cfg.CaughtUpLag >= r.node.CommitIndex()
}

// infoField finds "name:value" in a RAFT.INFO reply and parses the value.
func infoField(raw []byte, name string) (uint64, bool) {
	v, err := strconv.ParseUint(infoString(raw, name), 10, 64)
	return v, err == nil
}

// infoString finds "name:value" in a RAFT.INFO reply; "" when absent.
func infoString(raw []byte, name string) string {
	// Every line, the first included, follows a "\n" (the bulk header's).
	s := string(raw)
	i := strings.Index(s, "\n"+name+":")
	if i < 0 {
		return ""
	}
	rest := s[i+len(name)+2:]
	if j := strings.IndexAny(rest, "\r\n"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
