package resp

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// infoSection returns the name:value lines of INFO's section, or nil when
// the reply lacks it.
func infoSection(info, name string) map[string]string {
	var fields map[string]string
	in := false
	for _, line := range strings.Split(info, "\r\n") {
		switch {
		case strings.HasPrefix(line, "# "):
			in = line == "# "+name
			if in {
				fields = map[string]string{}
			}
		case in && line != "":
			k, v, _ := strings.Cut(line, ":")
			fields[k] = v
		}
	}
	return fields
}

// commandLoad sends 3 SETs, 2 GETs, a GET with too many arguments
// (rejected), 2 INCRs of which one fails, and an unknown command.
func commandLoad(t *testing.T, ts *testServer) {
	t.Helper()
	c := dialRaw(t, ts)
	for range 3 {
		c.roundTrip("SET k 1\r\n", "+OK\r\n")
	}
	c.roundTrip("GET k\r\n", "$1\r\n1\r\n")
	c.roundTrip("GET k\r\n", "$1\r\n1\r\n")
	c.roundTrip("GET k extra\r\n", "-ERR wrong number of arguments for 'get' command\r\n")
	c.roundTrip("INCR k\r\n", ":2\r\n")
	c.roundTrip("SET s x\r\n", "+OK\r\n")
	c.roundTrip("INCR s\r\n", "-ERR value is not an integer or out of range\r\n")
	c.roundTrip("NOPE\r\n", "-ERR unknown command 'NOPE', with args beginning with: \r\n")
}

// Reference: https://redis.io/docs/latest/commands/info/ (commandstats:
// calls, usec, usec_per_call, rejected_calls, failed_calls; not in the
// default sections).
// TestCommandstatsInsideExec: commands queued in MULTI count under their
// own names when EXEC runs them, and EXEC counts too (as in Redis).
func TestCommandstatsInsideExec(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts)
	c.roundTrip("MULTI\r\n", "+OK\r\n")
	c.roundTrip("INCR n\r\n", "+QUEUED\r\n")
	c.roundTrip("GET n\r\n", "+QUEUED\r\n")
	c.roundTrip("INCRBY n x\r\n", "+QUEUED\r\n")
	c.roundTrip("EXEC\r\n", "*3\r\n:1\r\n$1\r\n1\r\n-ERR value is not an integer or out of range\r\n")
	c.send("INFO commandstats\r\n")
	raw, err := c.reply()
	if err != nil {
		t.Fatalf("INFO commandstats: %v", err)
	}
	stats := infoSection(string(raw), "Commandstats")
	for cmd, want := range map[string]string{"incr": "calls=1,", "get": "calls=1,", "incrby": "calls=1,", "exec": "calls=1,"} {
		if got := stats["cmdstat_"+cmd]; !strings.HasPrefix(got, want) {
			t.Errorf("cmdstat_%s:%s, want %s...", cmd, got, want)
		}
	}
	if got := stats["cmdstat_incrby"]; !strings.Contains(got, "failed_calls=1") {
		t.Errorf("cmdstat_incrby:%s, want failed_calls=1", got)
	}
}

func TestInfoCommandstats(t *testing.T) {
	ts := startServer(t, nil)
	commandLoad(t, ts)
	c := dialRaw(t, ts)
	c.send("INFO commandstats\r\n")
	raw, err := c.reply()
	if err != nil {
		t.Fatalf("INFO commandstats: %v", err)
	}
	info := string(raw)
	stats := infoSection(info, "Commandstats")
	if stats == nil {
		t.Fatalf("INFO commandstats has no # Commandstats section:\n%s", info)
	}
	for cmd, want := range map[string]string{
		"set":  "calls=4,rejected_calls=0,failed_calls=0",
		"get":  "calls=2,rejected_calls=1,failed_calls=0",
		"incr": "calls=2,rejected_calls=0,failed_calls=1",
	} {
		got, ok := stats["cmdstat_"+cmd]
		if !ok {
			t.Errorf("no cmdstat_%s in:\n%s", cmd, info)
			continue
		}
		fields := map[string]string{}
		for _, kv := range strings.Split(got, ",") {
			k, v, _ := strings.Cut(kv, "=")
			fields[k] = v
		}
		for _, kv := range strings.Split(want, ",") {
			k, v, _ := strings.Cut(kv, "=")
			if fields[k] != v {
				t.Errorf("cmdstat_%s:%s: %s=%s, want %s", cmd, got, k, fields[k], v)
			}
		}
		for _, k := range []string{"usec", "usec_per_call"} {
			if _, ok := fields[k]; !ok {
				t.Errorf("cmdstat_%s:%s lacks %s", cmd, got, k)
			}
		}
	}
	if _, ok := stats["cmdstat_nope"]; ok {
		t.Errorf("unknown command listed in commandstats:\n%s", info)
	}

	c.send("INFO\r\n")
	raw, err = c.reply()
	if err != nil {
		t.Fatalf("INFO: %v", err)
	}
	if infoSection(string(raw), "Commandstats") != nil {
		t.Errorf("INFO without arguments has a # Commandstats section (Redis leaves it out of the default set)")
	}
	st := infoSection(string(raw), "Stats")
	if st["total_error_replies"] != "3" {
		t.Errorf("total_error_replies = %q, want 3 (rejected GET, failed INCR, unknown command)", st["total_error_replies"])
	}
	if _, ok := st["instantaneous_ops_per_sec"]; !ok {
		t.Errorf("# Stats lacks instantaneous_ops_per_sec: %v", st)
	}
	c.send("INFO all\r\n")
	if raw, err = c.reply(); err != nil || infoSection(string(raw), "Commandstats") == nil {
		t.Errorf("INFO all = %v; want a # Commandstats section", err)
	}

}

// gatherServer returns the server collector's metrics by name.
func gatherServer(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatalf("register: %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// counter returns riot_commands_total-like counter {cmd, result}.
func counter(t *testing.T, s *Server, name, cmd, result string) float64 {
	t.Helper()
	for _, m := range gatherServer(t, s)[name].GetMetric() {
		if l := labelsOf(m); l["cmd"] == cmd && l["result"] == result {
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

func TestServerCollector(t *testing.T) {
	ts := startServer(t, nil)
	commandLoad(t, ts)
	for _, tc := range []struct {
		cmd, result string
		want        float64
	}{
		{"set", "ok", 4}, {"set", "err", 0},
		{"get", "ok", 2}, {"get", "err", 1},
		{"incr", "ok", 1}, {"incr", "err", 1},
		{"unknown", "err", 1},
	} {
		if got := counter(t, ts.Server, "riot_commands_total", tc.cmd, tc.result); got != tc.want {
			t.Errorf("riot_commands_total{cmd=%q,result=%q} = %v, want %v", tc.cmd, tc.result, got, tc.want)
		}
	}
	mfs := gatherServer(t, ts.Server)
	hist := map[string]*dto.Histogram{}
	for _, m := range mfs["riot_command_duration_seconds"].GetMetric() {
		hist[labelsOf(m)["cmd"]] = m.GetHistogram()
	}
	// A rejected call has no duration; a failed one has.
	for cmd, want := range map[string]uint64{"set": 4, "get": 2, "incr": 2} {
		h := hist[cmd]
		if h.GetSampleCount() != want {
			t.Errorf("riot_command_duration_seconds{cmd=%q} count = %d, want %d", cmd, h.GetSampleCount(), want)
			continue
		}
		b := h.GetBucket()
		if len(b) != len(cmdBuckets) || b[0].GetUpperBound() != 50e-6 || b[len(b)-1].GetUpperBound() != 5 {
			t.Errorf("riot_command_duration_seconds buckets %v, want 50µs .. 5s", b)
		}
		if h.GetSampleSum() <= 0 || b[len(b)-1].GetCumulativeCount() > want {
			t.Errorf("riot_command_duration_seconds{cmd=%q}: sum %v, last bucket %d; want sum > 0, last bucket <= %d", cmd, h.GetSampleSum(), b[len(b)-1].GetCumulativeCount(), want)
		}
	}
	if _, ok := hist["del"]; ok {
		t.Errorf("riot_command_duration_seconds has a never-called command")
	}
	if got := mfs["riot_connections"].GetMetric()[0].GetGauge().GetValue(); got < 1 {
		t.Errorf("riot_connections = %v with a connection open, want >= 1", got)
	}
	if got := mfs["riot_connections_total"].GetMetric()[0].GetCounter().GetValue(); got < 1 {
		t.Errorf("riot_connections_total = %v, want >= 1", got)
	}
}

func TestCmdStatsBuckets(t *testing.T) {
	var st cmdStats
	for _, d := range []time.Duration{0, 50 * time.Microsecond, 51 * time.Microsecond, time.Millisecond, time.Minute} {
		st.done(time.Now().Add(-d), false)
	}
	// time.Since(start) is at least d: a duration on a bound may land in
	// the next bucket, never an earlier one.
	if got := st.buckets[0].Load() + st.buckets[1].Load(); got < 2 {
		t.Errorf("0 and 50µs: %d in the first two buckets, want 2", got)
	}
	if got := st.buckets[len(cmdBuckets)].Load(); got != 1 {
		t.Errorf("1 minute: +Inf bucket holds %d, want 1", got)
	}
	if got := st.counts().calls; got != 5 {
		t.Errorf("calls = %d, want 5", got)
	}
}

func TestOpsSampler(t *testing.T) {
	var o opsSampler
	t0 := time.Unix(1000, 0)
	if got := o.rate(); got != 0 {
		t.Errorf("rate with no samples = %d, want 0", got)
	}
	o.sample(t0, 100)
	o.sample(t0.Add(100*time.Millisecond), 200) // 1000/s
	o.sample(t0.Add(200*time.Millisecond), 400) // 2000/s
	if got := o.rate(); got != 1500 {
		t.Errorf("rate = %d, want 1500 (mean of 1000 and 2000)", got)
	}
}
