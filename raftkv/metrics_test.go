package raftkv_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/riotkv/riot/raftkv"
)

// gather registers c in a new registry and returns its metrics by name.
func gather(t *testing.T, cs []prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			t.Fatalf("register: %v", err)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// metricWith returns the metric of family name whose labels include want
// (name=value pairs), failing the test when there is none.
func metricWith(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want ...string) *dto.Metric {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				continue next
			}
		}
		return m
	}
	t.Fatalf("no %s with labels %v", name, want)
	return nil
}

func infoField(t *testing.T, n *raftkv.Node, name string) string {
	t.Helper()
	for _, f := range n.Info() {
		if f.Name == name {
			return f.Value
		}
	}
	t.Fatalf("Info() has no field %s", name)
	return ""
}

// TestNodeMetrics: applying and snapshotting move the node's
// metrics, and RAFT.INFO's riot_* fields show the same counts.
func TestNodeMetrics(t *testing.T) {
	d := newDiskNode(t)
	n := d.mustStart()
	incrN(t, n, "counter", 0, 20)
	if err := n.Snapshot(); err != nil {
		t.Fatalf("Snapshot(): %v", err)
	}

	mfs := gather(t, n.Collectors())
	if got := metricWith(t, mfs, "riot_raft_leader_changes_total").GetCounter().GetValue(); got != 1 {
		t.Errorf("riot_raft_leader_changes_total = %v after one election, want 1", got)
	}
	batches := metricWith(t, mfs, "riot_raft_apply_batch_entries").GetHistogram()
	if batches.GetSampleCount() < 1 || batches.GetSampleSum() < 20 {
		t.Errorf("riot_raft_apply_batch_entries: %d batches of %v entries in all, want >= 1 and >= 20",
			batches.GetSampleCount(), batches.GetSampleSum())
	}
	// 20 INCRs, each waited for, are at least 20 appends (disk store).
	if got := metricWith(t, mfs, "riot_raft_log_append_duration_seconds").GetHistogram().GetSampleCount(); got < 20 {
		t.Errorf("riot_raft_log_append_duration_seconds count = %d, want >= 20", got)
	}
	if got := metricWith(t, mfs, "riot_snapshots_total", "op", "persist", "result", "ok").GetCounter().GetValue(); got != 1 {
		t.Errorf("riot_snapshots_total{op=persist,result=ok} = %v, want 1", got)
	}
	if got := metricWith(t, mfs, "riot_snapshot_duration_seconds", "op", "persist").GetHistogram().GetSampleCount(); got != 1 {
		t.Errorf("riot_snapshot_duration_seconds{op=persist} count = %d, want 1", got)
	}
	size := metricWith(t, mfs, "riot_snapshot_last_size_bytes", "op", "persist").GetGauge().GetValue()
	if size <= 0 {
		t.Errorf("riot_snapshot_last_size_bytes{op=persist} = %v, want > 0", size)
	}
	if got := infoField(t, n, "riot_snapshots_persisted"); got != "1" {
		t.Errorf("Info riot_snapshots_persisted = %s, want 1", got)
	}
	if got := infoField(t, n, "riot_leader_changes"); got != "1" {
		t.Errorf("Info riot_leader_changes = %s, want 1", got)
	}
	if got := infoField(t, n, "riot_apply_entries"); got == "0" {
		t.Errorf("Info riot_apply_entries = %s, want > 0", got)
	}
	// No restore runs now: the gauge and the INFO field say so.
	if got := metricWith(t, mfs, "riot_snapshot_restoring").GetGauge().GetValue(); got != 0 {
		t.Errorf("riot_snapshot_restoring = %v with no restore running, want 0", got)
	}
	if got := infoField(t, n, "riot_snapshot_restoring"); got != "0" {
		t.Errorf("Info riot_snapshot_restoring = %s, want 0", got)
	}

}
