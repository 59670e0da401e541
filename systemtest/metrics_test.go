package systemtest

// Metrics: GET /metrics of real nodes, parsed with the Prometheus text
// parser, before and after load, and INFO's figures for the same load.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// httpAddrOf returns the admin HTTP address the node logged in its ready
// line.
func httpAddrOf(t *testing.T, n *node) string {
	t.Helper()
	for _, l := range logLines(n) {
		var rl struct {
			Msg      string `json:"msg"`
			HTTPAddr string `json:"http_addr"`
		}
		if json.Unmarshal([]byte(l), &rl) == nil && rl.Msg == "riot-server ready" && rl.HTTPAddr != "" {
			return rl.HTTPAddr
		}
	}
	t.Fatalf("%s: no http_addr in the ready line", n.NodeID)
	return ""
}

// metrics is one scrape: metric families by name.
type metrics map[string]*dto.MetricFamily

// scrape fetches and parses GET /metrics of n.
func scrape(t *testing.T, n *node) metrics {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + httpAddrOf(t, n) + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics of %s: %v", n.NodeID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics of %s: %s", n.NodeID, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics of %s: %v", n.NodeID, err)
	}
	return mfs
}

// find returns the metric of family name whose labels include the
// name=value pairs in labels, or nil.
func (m metrics) find(name string, labels ...string) *dto.Metric {
	mf := m[name]
	if mf == nil {
		return nil
	}
next:
	for _, mt := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range mt.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return mt
	}
	return nil
}

// value returns a counter's or gauge's value; 0 when the series is absent
// (commands appear once called).
func (m metrics) value(name string, labels ...string) float64 {
	mt := m.find(name, labels...)
	switch {
	case mt == nil:
		return 0
	case mt.Counter != nil:
		return mt.GetCounter().GetValue()
	case mt.Gauge != nil:
		return mt.GetGauge().GetValue()
	}
	return mt.GetUntyped().GetValue()
}

// count returns a histogram's sample count; 0 when the series is absent.
func (m metrics) count(name string, labels ...string) uint64 {
	return m.find(name, labels...).GetHistogram().GetSampleCount()
}

// series names a metric with labels, for messages.
func series(name string, labels ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(labels); i += 2 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", labels[i], labels[i+1])
	}
	return name + "{" + b.String() + "}"
}

// TestMetrics: a 3-node gossip cluster; SETs and GETs through a follower
// move that follower's command, latency, forwarding, raft and storage
// metrics; RAFT.SNAPSHOT counts a snapshot; gossip sees 3 alive members;
// INFO shows the same figures.
func TestMetrics(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 2*time.Minute)
	nodes := startGossipCluster(t, 3, 3)
	ld := leader(t, nodes)
	f := followersOf(nodes, ld)[0]
	// Gossip settles within a probe interval or two of forming the
	// cluster.
	waitFor(t, gossipQuiet, func() error {
		if got := scrape(t, f).value("riot_gossip_members", "state", "alive"); got != 3 {
			return fmt.Errorf("%s: riot_gossip_members{state=alive} = %v, want 3", f.NodeID, got)
		}
		return nil
	})

	before, ldBefore := scrape(t, f), scrape(t, ld)
	const sets, gets = 300, 40
	c := newClient(t, f.Addr, 2)
	setKeys(ctx, t, c, "m", 0, sets)
	for i := range gets {
		if got, err := c.Get(ctx, key("m", i)).Result(); err != nil || got != value("m", i) {
			t.Fatalf("GET %s through follower %s = %q, %v; want %q", key("m", i), f.NodeID, got, err, value("m", i))
		}
	}
	after, ldAfter := scrape(t, f), scrape(t, ld)

	grew := func(name string, want float64, labels ...string) {
		t.Helper()
		if d := after.value(name, labels...) - before.value(name, labels...); d < want {
			t.Errorf("%s: %s rose by %v, want >= %v", f.NodeID, series(name, labels...), d, want)
		}
	}
	exactly := func(name string, want float64, labels ...string) {
		t.Helper()
		if d := after.value(name, labels...) - before.value(name, labels...); d != want {
			t.Errorf("%s: %s rose by %v, want %v", f.NodeID, series(name, labels...), d, want)
		}
	}
	counted := func(m0, m1 metrics, who, name string, want uint64, labels ...string) {
		t.Helper()
		if d := m1.count(name, labels...) - m0.count(name, labels...); d < want {
			t.Errorf("%s: %s count rose by %d, want >= %d", who, series(name, labels...), d, want)
		}
	}
	exactly("riot_commands_total", sets, "cmd", "set", "result", "ok")
	exactly("riot_commands_total", gets, "cmd", "get", "result", "ok")
	exactly("riot_commands_total", 0, "cmd", "set", "result", "err")
	counted(before, after, f.NodeID, "riot_command_duration_seconds", sets, "cmd", "set")
	counted(before, after, f.NodeID, "riot_command_duration_seconds", gets, "cmd", "get")
	exactly("riot_forwarded_total", sets, "kind", "write")
	grew("riot_forwarded_total", 1, "kind", "read_index")
	exactly("riot_forward_errors_total", 0, "kind", "write")
	// The pipelined SETs share log entries (at least one).
	grew("riot_raft_applied_index", 1)
	grew("riot_raft_commit_index", 1)
	counted(before, after, f.NodeID, "riot_raft_apply_batch_entries", 1)
	counted(before, after, f.NodeID, "riot_raft_log_append_duration_seconds", 1)
	grew("riot_connections_total", 1)
	if got := after.value("riot_connections"); got < 1 {
		t.Errorf("%s: riot_connections = %v with a client connected, want >= 1", f.NodeID, got)
	}
	if after.value("riot_raft_term") < 1 || after.value("riot_raft_leader") != 0 || ldAfter.value("riot_raft_leader") != 1 {
		t.Errorf("riot_raft_term %v, riot_raft_leader follower %v, leader %v; want term >= 1, 0 and 1",
			after.value("riot_raft_term"), after.value("riot_raft_leader"), ldAfter.value("riot_raft_leader"))
	}
	if after.value("riot_raft_leader_changes_total") < 1 {
		t.Errorf("%s: riot_raft_leader_changes_total = %v, want >= 1 (it saw the leader elected)", f.NodeID, after.value("riot_raft_leader_changes_total"))
	}
	if after.find("riot_storage_disk_bytes") == nil || after.value("riot_data_dir_bytes") <= 0 {
		t.Errorf("%s: riot_storage_disk_bytes %v, riot_data_dir_bytes = %v; want both, the latter > 0",
			f.NodeID, after.find("riot_storage_disk_bytes"), after.value("riot_data_dir_bytes"))
	}
	// The leader applied the forwarded writes as RIOT.APPLY (the pipelined
	// SETs in a few transactions, each as many as the follower read at
	// once) and answered the read index requests.
	if d := ldAfter.value("riot_commands_total", "cmd", "riot.apply", "result", "ok") - ldBefore.value("riot_commands_total", "cmd", "riot.apply", "result", "ok"); d < 1 || d > sets/10 {
		t.Errorf("leader %s: riot_commands_total{cmd=riot.apply,result=ok} rose by %v for %d pipelined SETs, want 1 to %d", ld.NodeID, d, sets, sets/10)
	}
	counted(ldBefore, ldAfter, ld.NodeID, "riot_command_duration_seconds", 1, "cmd", "riot.readindex")
	counted(ldBefore, ldAfter, ld.NodeID, "riot_raft_log_append_duration_seconds", 1)

	// RAFT.SNAPSHOT on the follower persists one snapshot there.
	if got, err := f.do("RAFT.SNAPSHOT").Text(); err != nil || got != "OK" {
		t.Fatalf("RAFT.SNAPSHOT on %s = %q, %v; want OK", f.NodeID, got, err)
	}
	snap := scrape(t, f)
	if d := snap.value("riot_snapshots_total", "op", "persist", "result", "ok") - after.value("riot_snapshots_total", "op", "persist", "result", "ok"); d != 1 {
		t.Errorf("%s: RAFT.SNAPSHOT raised riot_snapshots_total{op=persist,result=ok} by %v, want 1", f.NodeID, d)
	}
	counted(after, snap, f.NodeID, "riot_snapshot_duration_seconds", 1, "op", "persist")
	if got := snap.value("riot_snapshot_last_size_bytes", "op", "persist"); got <= 0 {
		t.Errorf("%s: riot_snapshot_last_size_bytes{op=persist} = %v, want > 0", f.NodeID, got)
	}
	if got := snap.value("riot_raft_last_snapshot_index"); got < after.value("riot_raft_applied_index") {
		t.Errorf("%s: riot_raft_last_snapshot_index = %v, want >= %v", f.NodeID, got, after.value("riot_raft_applied_index"))
	}
	// A missed probe under load makes a member suspect for a moment.
	waitFor(t, gossipFormTimeout, func() error {
		if got := scrape(t, f).value("riot_gossip_members", "state", "alive"); got != 3 {
			return fmt.Errorf("%s: riot_gossip_members{state=alive} = %v, want 3", f.NodeID, got)
		}
		return nil
	})

	// INFO shows the same figures.
	info, err := c.Info(ctx, "commandstats", "stats", "raft", "cluster").Result()
	if err != nil {
		t.Fatalf("INFO on %s: %v", f.NodeID, err)
	}
	fields := parseFields(info)
	stat := map[string]string{}
	for _, kv := range strings.Split(fields["cmdstat_set"], ",") {
		k, v, _ := strings.Cut(kv, "=")
		stat[k] = v
	}
	if calls, _ := strconv.Atoi(stat["calls"]); calls != sets || stat["failed_calls"] != "0" || stat["rejected_calls"] != "0" {
		t.Errorf("cmdstat_set:%s; want calls=%d, no failed or rejected calls", fields["cmdstat_set"], sets)
	}
	for name, atLeast := range map[string]int{
		"total_commands_processed": sets + gets,
		"riot_forwarded_writes":    sets,
		"riot_snapshots_persisted": 1,
		"riot_apply_batches":       1,
		"riot_log_appends":         1,
		"riot_leader_changes":      1,
	} {
		if v, err := strconv.Atoi(fields[name]); err != nil || v < atLeast {
			t.Errorf("INFO on %s: %s:%q, want >= %d", f.NodeID, name, fields[name], atLeast)
		}
	}
	if _, ok := fields["instantaneous_ops_per_sec"]; !ok {
		t.Errorf("INFO on %s lacks instantaneous_ops_per_sec", f.NodeID)
	}
}
