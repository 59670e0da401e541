package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riotkv/riot/respwire"
)

// A follower removed from the raft configuration usually never learns it
// from raft: the leader stops replicating to it as soon as it appends the
// configuration that leaves it out, so the entry never reaches it, and it
// would keep running, campaigning for votes nobody grants. So the leader
// tells it: after each RAFT.LEAVE it sends RIOT.REMOVED <id> <leader id> to
// the removed node's client address (best effort, retried for
// removalNoticeFor). RAFT.LEAVE also records the removal in the log
// (kv.OpLeave) before the configuration drops the node, and for
// removedRecently after it whichever node leads holds the node, still
// gossiping, out of the configuration and tells it in turn (the reconciler,
// heldOut): so a removal survives a change of leader before the node was
// told. The removed node takes no message's word for it: it
// asks the named leader, at the client address its own replicated address
// book holds for that ID, RIOT.MEMBER <id>, and only a leader answering 0
// (not in its configuration) makes it shut down (RemovalNoticed), the same
// graceful way as a node that saw its own removal.

// removalNoticeFor bounds how long the leader keeps trying to tell a
// removed node.
const removalNoticeFor = 30 * time.Second

// ErrStillMember: a removal notice that the leader it names does not
// confirm.
var ErrStillMember = errors.New("cluster: the leader still has this node in its configuration")

// removalNotice is, on the removed node, closed once a removal notice was
// confirmed, and on the leader the servers it is telling of their removal.
// The zero value is ready to use.
type removalNotice struct {
	mu      sync.Mutex
	ch      chan struct{}
	closed  bool
	telling map[string]bool // IDs a notifyRemoved goroutine is telling
}

// removedRecently is how long after RAFT.LEAVE the reconciler does not add
// back the removed server if it still gossips with its raft state: the
// notice's time, and the removed node's shutdown.
const removedRecently = removalNoticeFor + 30*time.Second

// startTelling reports whether no one tells server id yet, and from now on
// the caller does, until doneTelling.
func (n *removalNotice) startTelling(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.telling[id] {
		return false
	}
	if n.telling == nil {
		n.telling = make(map[string]bool)
	}
	n.telling[id] = true
	return true
}

func (n *removalNotice) doneTelling(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.telling, id)
}

// heldOut reports whether server id, seen in gossip but not in the
// configuration, is a node RAFT.LEAVE removed moments ago, on its way out:
// the removal is recorded in the log (kv.OpLeave) less than
// removedRecently ago, and the node has raft state and a process started
// before the removal (started: its gossip's start, Unix ns; 0 if unknown).
// A node back under the same ID, restarted since or with an empty data dir,
// is added again at once. The record is read once this leader has applied
// everything committed before its term, so a new leader sees every removal
// its predecessors made.
func (r *Router) heldOut(ctx context.Context, id string, hasState bool, started int64) (bool, error) {
	if !hasState {
		return false, nil
	}
	if err := r.ready(ctx, Linearizable); err != nil {
		return false, err
	}
	v, release := r.node.FSM().View()
	defer release()
	at, ok, err := v.LeftAt(id)
	if err != nil || !ok {
		return false, err
	}
	return time.Since(at) < removedRecently && (started == 0 || started < at.UnixNano()), nil
}

func (n *removalNotice) c() chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *removalNotice) fire() {
	ch := n.c()
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.closed = true
		close(ch)
	}
}

// RemovalNoticed is closed once the leader told this node it was removed
// from the configuration and confirmed it (see RIOT.REMOVED). The server
// then shuts down as when it sees its own removal.
func (r *Router) RemovalNoticed() <-chan struct{} { return r.removal.c() }

// notifyRemoved tells server id, removed from the configuration with
// RAFT.LEAVE, that it was, at its client address addr: right after the
// removal (Leave), and when a later leader finds the node still gossiping
// while held out (the reconciler). (The reconciler's removals need no
// notice: a node that left is on its way out, and a failed node that comes
// back is added again.) It returns at once; the notice is retried in the
// background until the node confirms, removalNoticeFor passes or the router
// closes. One notice per server at a time.
func (r *Router) notifyRemoved(id, addr string) {
	if addr == "" || id == r.node.ID() || !r.removal.startTelling(id) {
		return
	}
	req := respwire.AppendRequest(nil, []byte("RIOT.REMOVED"), []byte(id), []byte(r.node.ID()))
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer r.removal.doneTelling(id)
		ctx, cancel := context.WithTimeout(context.Background(), removalNoticeFor)
		defer cancel()
		backoff := 100 * time.Millisecond
		for {
			attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
			raw, err := r.peers.do(attempt, addr, req)
			cancelAttempt()
			if err == nil {
				if msg := respwire.ReplyError(raw); msg != "" {
					err = &RemoteError{msg}
				} else {
					r.logger.Info("told the removed node it was removed", "id", id, "addr", addr)
					return
				}
			}
			if err := r.pause(ctx, backoff); err != nil {
				r.logger.Info("could not tell the removed node it was removed (it may be down)", "id", id, "addr", addr, "err", err)
				return
			}
			backoff = min(2*backoff, 2*time.Second)
		}
	}()
}

// IsMember answers RIOT.MEMBER: whether server id is in the configuration.
// Only the leader answers, so that a removed node asking gets the
// configuration that removed it.
func (r *Router) IsMember(id string) (bool, error) {
	if !r.node.IsLeader() {
		return false, ErrNotLeader
	}
	servers, err := r.node.Servers()
	if err != nil {
		return false, err
	}
	for _, s := range servers {
		if s.ID == id {
			return true, nil
		}
	}
	return false, nil
}

// StillMember reports whether the leader this node knows still has it in
// its configuration, asked with RIOT.MEMBER. It answers true unless that
// leader says no, and false when no other node is known as leader (the
// caller then relies on what its own log says). A node catching up from an
// empty data dir replays the configurations of its ID's past, a removal
// included, before the one that added it again: its own log alone would
// make it shut down.
func (r *Router) StillMember(ctx context.Context) bool {
	if lid, _ := r.node.Leader(); lid == "" || lid == r.node.ID() {
		return false
	}
	member, asked := r.LeaderCounts(ctx)
	return member || !asked
}

// LeaderCounts asks the leader this node knows, with RIOT.MEMBER, whether
// its configuration has this node. asked is false when there was no answer:
// no other node is known as leader, the leader is not in the address book
// yet, or the question failed.
func (r *Router) LeaderCounts(ctx context.Context) (member, asked bool) {
	lid, _ := r.node.Leader()
	if lid == "" || lid == r.node.ID() {
		return false, false
	}
	member, err := r.askMember(ctx, lid)
	return member, err == nil
}

// errNotAddressed: askMember's leader is not in the address book.
var errNotAddressed = errors.New("cluster: not in the address book")

// askMember asks node leader, at the client address this node's address
// book holds for it, RIOT.MEMBER <this node>: whether its configuration
// has this node (only a leader answers).
func (r *Router) askMember(ctx context.Context, leader string) (bool, error) {
	m, ok := r.member(leader)
	if !ok || m.ClientAddr == "" {
		return false, errNotAddressed
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	raw, err := r.peers.do(ctx, m.ClientAddr, respwire.AppendRequest(nil, []byte("RIOT.MEMBER"), []byte(r.node.ID())))
	if err != nil {
		return false, err
	}
	switch string(raw) {
	case ":0\r\n":
		return false, nil
	case ":1\r\n":
		return true, nil
	}
	if msg := respwire.ReplyError(raw); msg != "" {
		return false, &RemoteError{msg}
	}
	return false, fmt.Errorf("unexpected reply %q", raw)
}

// NoticeRemoved handles RIOT.REMOVED id leader: the leader says this node
// was removed. It is believed only if leader, asked at the client address
// this node's address book holds for it, answers RIOT.MEMBER id with 0;
// then RemovalNoticed is closed.
func (r *Router) NoticeRemoved(ctx context.Context, id, leader string) error {
	if id != r.node.ID() {
		return fmt.Errorf("cluster: removal notice for %s sent to %s", id, r.node.ID())
	}
	if leader == id {
		return errors.New("cluster: a removal notice must name another node")
	}
	member, err := r.askMember(ctx, leader)
	switch {
	case errors.Is(err, errNotAddressed):
		return fmt.Errorf("cluster: removal notice from %s, which is not in the address book", leader)
	case err != nil:
		return fmt.Errorf("cluster: confirm the removal with %s: %w", leader, err)
	case member:
		return fmt.Errorf("%w (%s)", ErrStillMember, leader)
	}
	r.logger.Info("the leader confirms this node was removed from the configuration", "leader", leader)
	r.removal.fire()
	return nil
}
