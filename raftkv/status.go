package raftkv

import "time"

// Status is this node's raft state, for the admin API and metrics.
type Status struct {
	ID           string
	State        string
	Term         uint64
	CommitIndex  uint64
	AppliedIndex uint64 // what the state machine reflects
	LastIndex    uint64
	// Voters is the number of voters in the latest raft configuration
	// this replica knows (on the leader: the group's).
	Voters     int
	LeaderID   string
	LeaderAddr string
	// LastContact is the time since the leader was last heard from (0 on
	// the leader, -1 when never).
	LastContact       time.Duration
	LastSnapshotIndex uint64
	// Failed says why the state machine stopped (see kv.FSM.stop); "" while
	// it runs.
	Failed string
}

// Status returns this node's raft state.
func (n *Node) Status() Status {
	lid, laddr := n.Leader()
	st := Status{
		ID: n.cfg.ID, State: n.State(),
		Term: n.raft.CurrentTerm(), CommitIndex: n.raft.CommitIndex(),
		AppliedIndex: n.fsm.AppliedIndex(), LastIndex: n.raft.LastIndex(),
		LeaderID: lid, LeaderAddr: laddr, LastContact: -1,
	}
	switch lc := n.raft.LastContact(); {
	case n.IsLeader():
		st.LastContact = 0
	case !lc.IsZero():
		st.LastContact = time.Since(lc)
	}
	if servers, err := n.Servers(); err == nil {
		for _, s := range servers {
			if s.Voter {
				st.Voters++
			}
		}
	}
	if err := n.fsm.Err(); err != nil {
		st.Failed = err.Error()
	}
	if metas, err := n.snaps.List(); err == nil && len(metas) > 0 {
		st.LastSnapshotIndex = metas[0].Index
	}
	return st
}
