package raftkv

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// leaderWatch turns raft's leader observations into a channel that is
// closed on every change, so callers can wait for a leader without polling.
type leaderWatch struct {
	mu  sync.Mutex
	ch  chan struct{}
	obs *raft.Observer
}

func (n *Node) watchLeader() {
	n.leader.ch = make(chan struct{})
	obsCh := make(chan raft.Observation, 16)
	n.leader.obs = raft.NewObserver(obsCh, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.RaftState:
			return true
		}
		return false
	})
	n.raft.RegisterObserver(n.leader.obs)
	go func() {
		for {
			select {
			case o := <-obsCh:
				switch d := o.Data.(type) {
				case raft.LeaderObservation:
					n.metrics.noteLeader(string(d.LeaderID))
				case raft.RaftState:
					if d == raft.Leader {
						go n.settleTerm()
					}
				}
				n.leader.mu.Lock()
				close(n.leader.ch)
				n.leader.ch = make(chan struct{})
				n.leader.mu.Unlock()
			case <-n.reads.done:
				n.raft.DeregisterObserver(n.leader.obs)
				return
			}
		}
	}()
}

// settleTerm commits the new leader's first entry of its own, the term's
// read barrier (termCommitted), as soon as it leads. The first read of the
// term then need not wait for it, and every node's applied index reaches
// the commit index on an idle cluster: hashicorp/raft's own no-op at the
// start of a term is not handed to the state machine, so without an entry
// after it the commit index would stay one past what any node applied.
func (n *Node) settleTerm() {
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.ApplyTimeout)
	defer cancel()
	go func() {
		select {
		case <-n.reads.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if _, err := n.termCommitted(ctx); err != nil {
		n.logger.Debug("read barrier of a new term", "err", err)
		return
	}
	if err := n.ProposeSecret(ctx); err != nil {
		n.logger.Debug("node secret", "err", err)
	}
}

// LeaderChanged returns a channel that is closed the next time this node's
// view of the leader (or its own raft state) changes.
func (n *Node) LeaderChanged() <-chan struct{} {
	n.leader.mu.Lock()
	defer n.leader.mu.Unlock()
	return n.leader.ch
}

// Field is one name:value pair of RAFT.INFO and INFO's raft section.
type Field struct {
	Name  string
	Value string
}

// Info returns this node's raft figures, sorted by name.
func (n *Node) Info() []Field {
	st := n.raft.Stats()
	lid, laddr := n.Leader()
	st["node_id"] = n.cfg.ID
	st["raft_addr"] = n.RaftAddr()
	st["leader_id"] = lid
	st["leader_addr"] = laddr
	st["fsm_applied_index"] = strconv.FormatUint(n.fsm.AppliedIndex(), 10)
	if lc := n.raft.LastContact(); !lc.IsZero() {
		st["last_contact_ms"] = strconv.FormatInt(time.Since(lc).Milliseconds(), 10)
	}
	delete(st, "last_contact")
	fields := n.metricFields()
	for k, v := range st {
		fields = append(fields, Field{Name: k, Value: v})
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
	return fields
}
