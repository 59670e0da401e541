package raftkv

import (
	"testing"

	"github.com/hashicorp/raft"
)

// TestFSMMetrics: ApplyBatch records its size; persisting and restoring a
// snapshot count it, with its size; a bad stream counts as a failed
// restore.
func TestFSMMetrics(t *testing.T) {
	f := sourceFSM(t) // one batch of 9 entries
	m := f.metrics
	if b, e := m.batches.Load(), m.entries.Load(); b != 1 || e != 9 {
		t.Errorf("after one ApplyBatch of 9: batches, entries = %d, %d; want 1, 9", b, e)
	}
	f.ApplyBatch([]*raft.Log{cmdLog(11, set("b", "2"))})
	if b, e := m.batches.Load(), m.entries.Load(); b != 2 || e != 10 {
		t.Errorf("after a second ApplyBatch of 1: batches, entries = %d, %d; want 2, 10", b, e)
	}

	data := persist(t, f)
	p := &m.snap[snapPersist]
	if ok, failed, size := p.ok.Load(), p.failed.Load(), p.lastBytes.Load(); ok != 1 || failed != 0 || size != int64(len(data)) {
		t.Errorf("after one Persist of %d bytes: ok, failed, size = %d, %d, %d; want 1, 0, %d", len(data), ok, failed, size, len(data))
	}

	target := newFSM(t, memEngine(t))
	if err := restoreBytes(target, data); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if err := restoreBytes(target, []byte("not a snapshot")); err == nil {
		t.Fatal("Restore of garbage succeeded")
	}
	r := &target.metrics.snap[snapRestore]
	if ok, failed, size := r.ok.Load(), r.failed.Load(), r.lastBytes.Load(); ok != 1 || failed != 1 || size != int64(len(data)) {
		t.Errorf("after a good and a bad Restore: ok, failed, size = %d, %d, %d; want 1, 1, %d", ok, failed, size, len(data))
	}
}
