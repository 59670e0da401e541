package kv

import (
	"io"
	"testing"
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
	f.ApplyBatch([]Entry{cmdLog(11, set("b", "2"))})
	if b, e := m.batches.Load(), m.entries.Load(); b != 2 || e != 10 {
		t.Errorf("after a second ApplyBatch of 1: batches, entries = %d, %d; want 2, 10", b, e)
	}

	data := persist(t, f)
	p := &m.snap[SnapPersist]
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
	r := &target.metrics.snap[SnapRestore]
	if ok, failed, size := r.ok.Load(), r.failed.Load(), r.lastBytes.Load(); ok != 1 || failed != 1 || size != int64(len(data)) {
		t.Errorf("after a good and a bad Restore: ok, failed, size = %d, %d, %d; want 1, 1, %d", ok, failed, size, len(data))
	}
}

// TestRestoringGauge: riot_snapshot_restoring is 1 while Restore runs (the
// snapshot stream half read) and 0 once it returned, whether it succeeded
// or failed.
func TestRestoringGauge(t *testing.T) {
	data := persist(t, sourceFSM(t))
	target := newFSM(t, memEngine(t))
	if got := target.metrics.restoring.Load(); got != 0 {
		t.Fatalf("restoring = %d before any Restore, want 0", got)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- target.Restore(pr) }()
	// The write returns once Restore has read these bytes, and it is then
	// waiting for the rest.
	half := len(data) / 2
	if _, err := pw.Write(data[:half]); err != nil {
		t.Fatalf("write the first %d bytes: %v", half, err)
	}
	if got := target.metrics.restoring.Load(); got != 1 {
		t.Errorf("restoring = %d with Restore half way through the stream, want 1", got)
	}
	if _, err := pw.Write(data[half:]); err != nil {
		t.Fatalf("write the rest: %v", err)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := target.metrics.restoring.Load(); got != 0 {
		t.Errorf("restoring = %d after Restore returned, want 0", got)
	}
	if err := restoreBytes(target, data[:half]); err == nil {
		t.Fatal("Restore of half a snapshot succeeded")
	}
	if got := target.metrics.restoring.Load(); got != 0 {
		t.Errorf("restoring = %d after a failed Restore, want 0", got)
	}
}
