package raftkv

import (
	"errors"
	"testing"

	"github.com/hashicorp/raft"
)

// A proposal raft refused because a leadership transfer was in progress
// was never appended: it is "not the leader" (nothing applied, the client
// or the forwarding node may send it again), not "leadership lost"
// (outcome unknown). An entry in flight when leadership was lost stays
// unknown.
func TestRaftErrorTransferInProgressNotApplied(t *testing.T) {
	err := raftError(raft.ErrLeadershipTransferInProgress)
	if !errors.Is(err, ErrNotLeader) || errors.Is(err, ErrLeadershipLost) {
		t.Errorf("transfer in progress -> %v; want ErrNotLeader, not ErrLeadershipLost", err)
	}
	err = raftError(raft.ErrLeadershipLost)
	if !errors.Is(err, ErrLeadershipLost) || errors.Is(err, ErrNotLeader) {
		t.Errorf("leadership lost -> %v; want ErrLeadershipLost", err)
	}
	if err := raftError(raft.ErrNotLeader); !errors.Is(err, ErrNotLeader) {
		t.Errorf("not leader -> %v; want ErrNotLeader", err)
	}
}
