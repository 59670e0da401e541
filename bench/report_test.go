package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}} {
		got := h.quantile(c.q)
		if diff := float64(got-c.want) / float64(c.want); diff < -0.02 || diff > 0.02 {
			t.Errorf("quantile(%v) = %v, want %v within 2%%", c.q, got, c.want)
		}
	}
	var empty histogram
	if got := empty.quantile(0.99); got != 0 {
		t.Errorf("empty quantile = %v, want 0", got)
	}
}

func TestBucketRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 63, 64, 65, 127, 128, 1000, 123456789, 1 << 40} {
		got := bucketValue(bucketOf(v))
		if d := float64(got-v) / float64(max(v, 1)); d < -0.02 || d > 0.02 {
			t.Errorf("bucketValue(bucketOf(%d)) = %d, more than 2%% off", v, got)
		}
	}
}

func TestReplaceSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "perf.md")
	doc := "# Performance\n\nbefore\n\n" + beginMarker + "\n\nplaceholder\n\n" + endMarker + "\n\nafter\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"first table\n", "second table\n"} {
		if err := replaceSection(path, body); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "# Performance\n\nbefore\n\n" + beginMarker + "\n\nsecond table\n\n" + endMarker + "\n\nafter\n"
	if string(got) != want {
		t.Errorf("after two replacements:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormat(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567"} {
		if got := fmtOps(v); got != want {
			t.Errorf("fmtOps(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]float64{0.7: 1, 3: 5, 1200: 2000, 5000: 5000} {
		if got := niceStep(v); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", v, got, want)
		}
	}
}

func TestReportGoalsAndPlot(t *testing.T) {
	cfg := config{clients: 64, sweep: []int{16, 64}, runs: 3, duration: time.Second, valueSize: 100, keys: 10}
	r := newReport(cfg)
	all := systems("riot-server")
	byKey := map[string]*system{}
	for _, s := range all {
		byKey[s.key] = s
	}
	add := func(sys string, w workload, clients int, vals ...float64) {
		for _, v := range vals {
			r.add(byKey[sys], w, clients, false, sample{opsPerSec: v, p50: time.Millisecond, p99: 3 * time.Millisecond})
		}
	}
	add("riot3", wSet, 64, 30000, 31000, 29000)
	add("riot3", wSet, 16, 10000, 11000, 12000)
	add("etcd3", wSet, 64, 7000, 7500, 8000)
	add("redis", wSet, 64, 50000, 54000, 58000)
	r.finish()
	md := r.markdown()
	for _, want := range []string{
		"| riot, 3 nodes | SET, 64 clients | 30,000 (29,000–31,000) |",
		"Riot's ratios to etcd and redis-server, against its targets (from the medians above):\n\n| target | measured | met |",
		"| riot 3 nodes SET ≥ 4x etcd 3 members put (64 clients) | 4.00x (30,000 / 7,500 ops/s) | yes |",
		"| riot 3 nodes SET ≥ 0.5x redis SET (64 clients) | 0.56x (30,000 / 54,000 ops/s) | yes |",
		"| riot 1 node SET ≥ 0.7x redis SET (64 clients) | not measured | – |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	svg := r.plots()[0].svg()
	if !strings.HasPrefix(svg, "<svg") || !strings.Contains(svg, "riot, 3 nodes") || strings.Count(svg, "<polyline") != 3 {
		t.Errorf("SET plot: want an SVG with 3 series:\n%s", svg)
	}
}

// TestCatchUpGoal: the catch-up goal counts only when the new node was
// sent a snapshot.
func TestCatchUpGoal(t *testing.T) {
	for _, tc := range []struct {
		snapshot, measured, met string
	}{
		{"14766", "3.5s", "yes"},
		{"0", "3.5s (by log replay: no snapshot was sent)", "–"},
		{"?", "3.5s (by snapshot or not: unknown)", "–"},
	} {
		r := recoveryResult{keys: 1000000, catchUp: 3500 * time.Millisecond, newSnapshot: tc.snapshot}
		g := r.catchUpGoal()
		if g.measured != tc.measured || g.met != tc.met {
			t.Errorf("snapshot index %s: goal %+v, want measured %q met %q", tc.snapshot, g, tc.measured, tc.met)
		}
	}
}
