package raftkv

import (
	"testing"

	"github.com/hashicorp/raft"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/storage"
)

// TestFSMNonCommandEntriesAdvanceApplied: raft's entries that are not
// commands reach the state machine as such (they only move the applied
// index), whatever raft put in their data.
func TestFSMNonCommandEntriesAdvanceApplied(t *testing.T) {
	f, err := kv.NewFSM(storage.NewMemory(), nil)
	if err != nil {
		t.Fatalf("NewFSM: %v", err)
	}
	a := raftFSM{f}
	conf := raft.EncodeConfiguration(raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: "n1", Address: "127.0.0.1:1"}}})
	tests := []struct {
		typ raft.LogType
		idx uint64
	}{
		{raft.LogConfiguration, 5},
		{raft.LogNoop, 6},    // raft does not send these, but replayLocal does
		{raft.LogBarrier, 7}, // likewise
		{raft.LogConfiguration, 9},
	}
	for _, tc := range tests {
		res := a.ApplyBatch([]*raft.Log{{Index: tc.idx, Term: 2, Type: tc.typ, Data: conf}})
		if res[0] != nil {
			t.Errorf("%s at %d: response %#v, want nil", tc.typ, tc.idx, res[0])
		}
		if got := f.AppliedIndex(); got != tc.idx {
			t.Errorf("after %s at %d: AppliedIndex() = %d, want %d", tc.typ, tc.idx, got, tc.idx)
		}
	}
	c := kv.Command{Op: kv.OpSet, Args: [][]byte{[]byte("k"), []byte("v")}}
	if r, ok := a.Apply(&raft.Log{Index: 10, Term: 2, Type: raft.LogCommand, Data: c.Encode()}).(kv.Result); !ok || r.Err != nil {
		t.Errorf("Apply of a command entry = %#v, want a Result without error", r)
	}
	if got := f.AppliedIndex(); got != 10 {
		t.Errorf("after a command at 10: AppliedIndex() = %d, want 10", got)
	}
}
