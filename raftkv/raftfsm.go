package raftkv

import (
	"io"

	"github.com/hashicorp/raft"

	"github.com/riotkv/riot/kv"
)

// raftFSM hands raft's committed entries to the state machine (kv.FSM),
// which knows nothing of raft: each entry as its index, its data and
// whether it is a command; snapshots and restores are kv's format.
type raftFSM struct{ f *kv.FSM }

var _ raft.BatchingFSM = raftFSM{}

// Apply implements raft.FSM for the single-entry path.
func (a raftFSM) Apply(l *raft.Log) any {
	return a.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch implements raft.BatchingFSM.
func (a raftFSM) ApplyBatch(logs []*raft.Log) []any {
	return a.f.ApplyBatch(entries(logs))
}

// entries converts raft's entries for kv.FSM.ApplyBatch.
func entries(logs []*raft.Log) []kv.Entry {
	es := make([]kv.Entry, len(logs))
	for i, l := range logs {
		es[i] = kv.Entry{Index: l.Index, Command: l.Type == raft.LogCommand, Data: l.Data}
	}
	return es
}

// Snapshot implements raft.FSM. It only pins a storage snapshot; the data
// is written by Persist, concurrently with further applies.
func (a raftFSM) Snapshot() (raft.FSMSnapshot, error) {
	s, err := a.f.Snapshot()
	if err != nil {
		return nil, err
	}
	return raftSnapshot{s}, nil
}

// Restore implements raft.FSM: it replaces the whole state with the
// snapshot's (see kv.FSM.Restore).
func (a raftFSM) Restore(rc io.ReadCloser) error { return a.f.Restore(rc) }

// raftSnapshot is a kv.Snapshot as raft persists it.
type raftSnapshot struct{ s *kv.Snapshot }

func (s raftSnapshot) Persist(sink raft.SnapshotSink) error { return s.s.Persist(sink) }
func (s raftSnapshot) Release()                             { s.s.Release() }
