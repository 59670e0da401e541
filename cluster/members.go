package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
)

// Peer is one server of the cluster as RAFT.PEERS shows it.
type Peer struct {
	ID         string
	RaftAddr   string
	ClientAddr string // from the address book; "" until the node announced it
	Voter      bool
	Leader     bool
	// InRaft is false for a node gossip sees that is not (yet) in the raft
	// configuration.
	InRaft bool
	// Gossip is the gossip state: alive, suspect, failed, left, or "" when
	// gossip does not know the node.
	Gossip string
	// HTTPAddr is the node's admin API address, from gossip ("" if unknown).
	HTTPAddr string
	// Applied is the server's applied index as it last reported it to this
	// node (this node's own for itself); 0 when unknown.
	Applied uint64
	// Lag is how many entries Applied is behind this node's commit index.
	Lag uint64
	// LastContact is how long ago the server last answered this node's
	// health poll (0 for this node itself); -1 when it never did.
	LastContact time.Duration
	// CaughtUp: the server answered recently and Lag is within the
	// configured CaughtUpLag.
	CaughtUp bool
}

// Peers returns the raft configuration joined with the address book, as
// this node knows them.
func (r *Router) Peers() ([]Peer, error) {
	servers, err := r.node.Servers()
	if err != nil {
		return nil, err
	}
	leaderID, _ := r.node.Leader()
	commit := r.node.CommitIndex()
	out := make([]Peer, 0, len(servers))
	seen := make(map[string]bool)
	for _, s := range servers {
		m, _ := r.member(s.ID)
		p := Peer{ID: s.ID, RaftAddr: s.RaftAddr, ClientAddr: m.ClientAddr, Voter: s.Voter, Leader: s.ID == leaderID, InRaft: true}
		r.addHealth(&p, commit)
		if r.gossip != nil {
			if gm, ok := r.gossip.Member(s.ID); ok {
				p.Gossip = string(gm.State)
				p.HTTPAddr = gm.HTTPAddr
			}
		}
		seen[s.ID] = true
		out = append(out, p)
	}
	if r.gossip != nil {
		for _, gm := range r.gossip.Members() {
			// Gossip-only entries: nodes on their way in. Nodes that left or
			// failed and are out of raft are history, not peers.
			if !seen[gm.ID] && live(gm) {
				out = append(out, Peer{ID: gm.ID, RaftAddr: gm.RaftAddr, ClientAddr: gm.ClientAddr, Gossip: string(gm.State), HTTPAddr: gm.HTTPAddr})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// addHealth fills in p's progress: this node's own status for itself, the
// last health poll answer for the others.
func (r *Router) addHealth(p *Peer, commit uint64) {
	p.LastContact = -1
	if p.ID == r.node.ID() {
		p.Applied, p.LastContact = r.node.FSM().AppliedIndex(), 0
	} else if h, ok := r.health(p.ID); ok {
		p.Applied, p.LastContact = h.applied, time.Since(h.seen)
	}
	if p.Applied < commit {
		p.Lag = commit - p.Applied
	}
	p.CaughtUp = r.recent(p.LastContact) && r.caughtUp(p.Applied)
}

// Leader returns the leader as this node knows it; ErrNoLeader when none.
func (r *Router) Leader() (Peer, error) {
	id, addr := r.node.Leader()
	if id == "" {
		return Peer{}, ErrNoLeader
	}
	m, _ := r.member(id)
	return Peer{ID: id, RaftAddr: addr, ClientAddr: m.ClientAddr, Voter: true, Leader: true}, nil
}

// Join adds server id at raftAddr to the cluster (as a non-voter when
// voter is false). It runs on the leader, forwarded there from a follower.
// A server already present at the same address is a no-op.
func (r *Router) Join(ctx context.Context, id, raftAddr string, voter bool) error {
	if err := raftkv.ValidateAddr(raftAddr); err != nil {
		return err
	}
	return r.onLeader(ctx, func() error { return r.node.AddServer(id, raftAddr, voter) },
		joinArgs(id, raftAddr, voter)...)
}

func joinArgs(id, addr string, voter bool) [][]byte {
	args := [][]byte{[]byte("RAFT.JOIN"), []byte(id), []byte(addr)}
	if !voter {
		args = append(args, []byte("NONVOTER"))
	}
	return args
}

// Leave removes server id from the cluster and from the address book.
func (r *Router) Leave(ctx context.Context, id string) error {
	return r.onLeader(ctx, func() error {
		if err := r.node.CheckRemove(id); err != nil {
			return err
		}
		// The removal is recorded first, with the address book entry
		// going: it holds the node out of the reconciler of this leader
		// and of any later one (removal.go), and it must be in place
		// before the configuration drops the node, or a reconciler round
		// in between adds it back, still gossiping (found by the fault
		// suite). Removing the leader itself also shuts its raft down,
		// after which it can apply nothing. The reconciler never adds this
		// node itself, so removing the leader needs no exception.
		m, _ := r.member(id)
		leave := &kv.Command{Op: kv.OpLeave, Args: [][]byte{[]byte(id)}, Now: time.Now().UnixMilli()}
		if _, err := r.node.Apply(ctx, leave); err != nil {
			return fmt.Errorf("cluster: record the removal of %s: %w", id, err)
		}
		if err := r.node.RemoveServer(id); err != nil {
			return err
		}
		r.notifyRemoved(id, m.ClientAddr) // see removal.go
		return nil
	}, []byte("RAFT.LEAVE"), []byte(id))
}

// Transfer moves leadership to id (any up-to-date voter when id is "") and
// waits until it has moved.
func (r *Router) Transfer(ctx context.Context, id string) error {
	args := [][]byte{[]byte("RAFT.TRANSFER")}
	if id != "" {
		args = append(args, []byte(id))
	}
	return r.onLeader(ctx, func() error { return r.node.TransferLeadership(ctx, id) }, args...)
}

// onLeader runs fn when this node leads, else sends args to the leader.
func (r *Router) onLeader(ctx context.Context, fn func() error, args ...[]byte) error {
	for {
		if r.node.IsLeader() {
			err := fn()
			if !errors.Is(err, raftkv.ErrNotLeader) {
				return err
			}
		}
		_, err := r.call(ctx, args...)
		if !errors.Is(err, errBecameLeader) {
			return err
		}
	}
}

// announceLoop keeps this node's entry in the replicated address book
// current: at start, after every leader change, and every AnnounceInterval.
func (r *Router) announceLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.AnnounceInterval)
	defer t.Stop()
	for {
		changed := r.node.LeaderChanged()
		if !r.announce() {
			// Not done (no leader yet, or it failed): try again soon.
			retry := time.NewTimer(200 * time.Millisecond)
			select {
			case <-retry.C:
			case <-changed:
				retry.Stop()
			case <-r.stop:
				retry.Stop()
				return
			}
			continue
		}
		select {
		case <-changed:
		case <-t.C:
		case <-r.stop:
			return
		}
	}
}

// announce records this node's addresses in the address book if they are
// missing or stale. It reports whether the book is current.
func (r *Router) announce() bool {
	id := r.node.ID()
	want := kv.Member{ID: id, RaftAddr: r.node.RaftAddr(), ClientAddr: r.clientAddr}
	if m, ok := r.member(id); ok && m == want {
		return true
	}
	if leader, _ := r.node.Leader(); leader == "" {
		return false
	}
	servers, err := r.node.Servers()
	if err != nil || !inConfig(servers, id) {
		return false // not a member (yet): nothing to announce
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.LeaderWait)
	defer cancel()
	if err := r.Announce(ctx, want); err != nil {
		r.logger.Debug("announce addresses", "err", err)
		return false
	}
	r.logger.Info("recorded addresses in the address book", "raft_addr", want.RaftAddr, "client_addr", want.ClientAddr)
	return true
}

// CmdAnnounce asks the leader to record a node's addresses in the address
// book (Announce). Only a node may send it: the address book decides where
// writes are forwarded.
const CmdAnnounce = "RIOT.ANNOUNCE"

// Announce records m in the address book, through the leader (RIOT.ANNOUNCE
// when this node follows). The leader records it only for a server in the
// raft configuration at the raft address the configuration has for it, so
// no node can move another's entry elsewhere.
func (r *Router) Announce(ctx context.Context, m kv.Member) error {
	return r.onLeader(ctx, func() error {
		servers, err := r.node.Servers()
		if err != nil {
			return err
		}
		i := slices.IndexFunc(servers, func(s raftkv.Server) bool { return s.ID == m.ID })
		if i < 0 || servers[i].RaftAddr != m.RaftAddr {
			return fmt.Errorf("%w: %s at %s is not in the configuration", ErrNotMember, m.ID, m.RaftAddr)
		}
		_, err = r.node.Apply(ctx, &kv.Command{Op: kv.OpSetMember,
			Args: [][]byte{[]byte(m.ID), []byte(m.RaftAddr), []byte(m.ClientAddr)}})
		return err
	}, []byte(CmdAnnounce), []byte(m.ID), []byte(m.RaftAddr), []byte(m.ClientAddr))
}

func inConfig(servers []raftkv.Server, id string) bool {
	for _, s := range servers {
		if s.ID == id {
			return true
		}
	}
	return false
}

// LastContactMS is LastContact in milliseconds, -1 when unknown.
func (p Peer) LastContactMS() int64 {
	if p.LastContact < 0 {
		return -1
	}
	return p.LastContact.Milliseconds()
}

// Labels returns how the peer is shown: suffrage (voter, nonvoter, none),
// role (leader, follower, none) and gossip state (unknown when gossip does
// not know the node).
func (p Peer) Labels() (suffrage, role, gossipState string) {
	suffrage, role, gossipState = "nonvoter", "follower", p.Gossip
	switch {
	case !p.InRaft:
		suffrage, role = "none", "none"
	case p.Voter:
		suffrage = "voter"
	}
	if p.Leader {
		role = "leader"
	}
	if gossipState == "" {
		gossipState = "unknown"
	}
	return suffrage, role, gossipState
}
