package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/httpapi"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/raftkv/raftkvtest"
	"github.com/riotkv/riot/storage"
)

// startAPI serves the admin API of a real single-node cluster.
func startAPI(t *testing.T, password string) string {
	t.Helper()
	return startAPIWith(t, password, false, nil)
}

// startAPIWith is startAPI with the profiler on or off, over eng (a
// memory engine when nil), the config changed by configure.
func startAPIWith(t *testing.T, password string, pprof bool, eng storage.Engine, configure ...func(*httpapi.Config)) string {
	t.Helper()
	node := raftkvtest.SingleNode(t, eng)
	router, err := cluster.New(cluster.DefaultConfig(), node)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(router.Close)
	reg := prometheus.NewRegistry()
	if err := httpapi.RegisterClusterMetrics(reg, router); err != nil {
		t.Fatal(err)
	}
	cfg := httpapi.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Password = password
	cfg.NodeID = node.ID()
	cfg.Version = "test"
	cfg.Registry = reg
	cfg.MaxValueBytes = 1 << 10
	cfg.Pprof = pprof
	for _, f := range configure {
		f(&cfg)
	}
	s, err := httpapi.New(cfg, router)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close(context.Background()) })
	return "http://" + s.Addr().String()
}

// do sends a request and returns the status and body.
func do(t *testing.T, method, url, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{Timeout: 15 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	base := startAPI(t, "")
	tests := []struct {
		method, path, body string
		code               int
		contains           string
	}{
		{"GET", "/healthz", "", 200, `"ok"`},
		{"GET", "/readyz", "", 200, `"ready"`},
		{"GET", "/status", "", 200, `"role": "leader"`},
		{"GET", "/peers", "", 200, `"suffrage": "voter"`},
		{"GET", "/leader", "", 200, `"id": "node1"`},
		{"GET", "/leader/history", "", 200, `"leader": "node1"`},
		{"GET", "/backup", "", 200, "RIOTSNAP"},
		{"GET", "/cluster", "", 200, `"status"`},
		{"GET", "/", "", 200, "<title>Riot cluster</title>"},
		{"PUT", "/v1/kv/greeting", "hello", 200, `"ok"`},
		{"GET", "/v1/kv/greeting", "", 200, "hello"},
		{"GET", "/v1/kv/greeting?consistency=stale", "", 200, "hello"},
		{"GET", "/v1/kv/greeting?consistency=eventual", "", 400, "consistency must be"},
		{"GET", "/v1/kv/missing", "", 404, `"error": "no such key"`},
		{"PUT", "/v1/kv/big", strings.Repeat("x", 2000), 413, "value too large"},
		{"DELETE", "/v1/kv/greeting", "", 200, `"deleted": 1`},
		{"GET", "/v1/kv/greeting", "", 404, "no such key"},
		{"POST", "/snapshot", "", 200, `"last_snapshot_index"`},
		{"POST", "/join", `{"id": "n9", "raft_addr": "bad"}`, 400, "invalid raft address"},
		{"POST", "/join", `{bad`, 400, "bad JSON"},
		{"POST", "/join", `{"id": "n9"}`, 400, "required"},
		{"POST", "/join", `{"id": "node1", "raft_addr": "127.0.0.1:1", "extra": 1}`, 400, "unknown field"},
		{"DELETE", "/peers/nope", "", 404, "no such server"},
		{"DELETE", "/peers/node1", "", 409, "last voter"},
		{"POST", "/leader/transfer", "", 409, "no other voter"},
		{"POST", "/status", "", 405, `{"error":"method not allowed"}`},
		{"GET", "/nothing-here", "", 404, `{"error":"not found"}`},
	}
	for _, tt := range tests {
		code, body := do(t, tt.method, base+tt.path, tt.body)
		if code != tt.code || !strings.Contains(body, tt.contains) {
			t.Errorf("%s %s %q = %d %s; want %d containing %q", tt.method, tt.path, tt.body, code, body, tt.code, tt.contains)
		}
	}
}

func TestStatusFields(t *testing.T) {
	base := startAPI(t, "")
	code, body := do(t, "GET", base+"/status", "")
	var st map[string]any
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("GET /status = %d %s (%v)", code, body, err)
	}
	for _, k := range []string{"id", "role", "term", "commit_index", "applied_index", "leader", "last_contact_ms", "storage", "version", "uptime_seconds", "keys"} {
		if _, ok := st[k]; !ok {
			t.Errorf("/status lacks %q: %s", k, body)
		}
	}
}

// A sharded node's /status lists its data groups, with this node's
// replicas' raft state; the status page has a table for them; a node
// that is not sharded has no groups field.
func TestStatusGroups(t *testing.T) {
	groups := []cluster.GroupStatus{
		{ID: 1, Slots: []cluster.SlotRange{{From: 0, To: 5460}, {From: 10922, To: 10922}}, Leader: "n1",
			LeaderClientAddr: "127.0.0.1:7001", Replicas: []string{"n1", "n2", "n3"},
			Local: &raftkv.Status{State: "leader", Term: 4, AppliedIndex: 90, CommitIndex: 95, LastIndex: 96, Voters: 3}},
		{ID: 2, Slots: []cluster.SlotRange{{From: 5461, To: 10921}}, Replicas: []string{"n2", "n3"}},
	}
	base := startAPIWith(t, "", false, nil, func(c *httpapi.Config) {
		c.Groups = func() []cluster.GroupStatus { return groups }
	})
	code, body := do(t, "GET", base+"/status", "")
	var st struct {
		Role   string           `json:"role"`
		Groups []map[string]any `json:"groups"`
	}
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("GET /status = %d %s (%v)", code, body, err)
	}
	want := []map[string]any{
		{"id": 1.0, "slots": "0-5460,10922", "leader": "n1", "leader_client_addr": "127.0.0.1:7001",
			"replicas": []any{"n1", "n2", "n3"}, "state": "leader", "term": 4.0, "applied_index": 90.0,
			"commit_index": 95.0, "last_index": 96.0, "voters": 3.0},
		{"id": 2.0, "slots": "5461-10921", "leader": "", "leader_client_addr": "",
			"replicas": []any{"n2", "n3"}, "state": "none"},
	}
	if st.Role != "leader" || !reflect.DeepEqual(st.Groups, want) {
		t.Errorf("/status role %q groups %v; want leader and %v", st.Role, st.Groups, want)
	}

	_, page := do(t, "GET", base+"/", "")
	for _, s := range []string{`<table id="groups">`, "<th>Group</th>", "<th>Slots</th>", "<th>Replicas</th>", "<th>This node</th>", "<th>Lag</th>", "self.groups"} {
		if !strings.Contains(page, s) {
			t.Errorf("status page lacks %q", s)
		}
	}

	_, body = do(t, "GET", startAPI(t, "")+"/status", "")
	if strings.Contains(body, `"groups"`) {
		t.Errorf("unsharded /status has groups: %s", body)
	}
}

func TestMetricsMove(t *testing.T) {
	base := startAPI(t, "")
	metric := func(name string) string {
		t.Helper()
		_, body := do(t, "GET", base+"/metrics", "")
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				return v
			}
		}
		t.Fatalf("/metrics has no %s:\n%s", name, body)
		return ""
	}
	if v := metric("riot_raft_leader"); v != "1" {
		t.Errorf("riot_raft_leader = %s, want 1", v)
	}
	before := metric("riot_raft_commit_index")
	for i := range 3 {
		if code, body := do(t, "PUT", base+"/v1/kv/k"+string(rune('a'+i)), "v"); code != 200 {
			t.Fatalf("PUT: %d %s", code, body)
		}
	}
	if after := metric("riot_raft_commit_index"); after == before {
		t.Errorf("riot_raft_commit_index stayed %s after 3 writes", after)
	}
}

func TestAuth(t *testing.T) {
	base := startAPI(t, "s3cret")
	for _, tt := range []struct {
		method, path string
		hdr          []string
		code         int
	}{
		{"PUT", "/v1/kv/a", nil, 401},
		{"PUT", "/v1/kv/a", []string{"Authorization", "Bearer wrong"}, 401},
		{"PUT", "/v1/kv/a", []string{"Authorization", "Bearer s3cret"}, 200},
		{"GET", "/v1/kv/a", []string{"Authorization", "Basic " + "dXNlcjpzM2NyZXQ="}, 200}, // user:s3cret
		{"POST", "/snapshot", nil, 401},
		{"GET", "/backup", nil, 401},
		{"GET", "/backup", []string{"Authorization", "Bearer s3cret"}, 200},
		{"GET", "/leader/history", nil, 200},
		{"DELETE", "/peers/x", nil, 401},
		{"GET", "/status", nil, 200},
		{"GET", "/metrics", nil, 200},
	} {
		code, body := do(t, tt.method, base+tt.path, "v", tt.hdr...)
		if code != tt.code {
			t.Errorf("%s %s with %v = %d %s; want %d", tt.method, tt.path, tt.hdr, code, body, tt.code)
		}
	}
}

// TestPprof: the profiler is served only when configured, and behind the
// password when one is set.
func TestPprof(t *testing.T) {
	off := startAPIWith(t, "", false, nil)
	if code, _ := do(t, "GET", off+"/debug/pprof/", ""); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ without Pprof = %d, want 404", code)
	}
	on := startAPIWith(t, "", true, nil)
	if code, body := do(t, "GET", on+"/debug/pprof/goroutine?debug=1", ""); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("GET /debug/pprof/goroutine = %d %.80q, want 200 and a goroutine profile", code, body)
	}
	locked := startAPIWith(t, "pw", true, nil)
	if code, _ := do(t, "GET", locked+"/debug/pprof/heap", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /debug/pprof/heap without the password = %d, want 401", code)
	}
	if code, _ := do(t, "GET", locked+"/debug/pprof/heap", "", "Authorization", "Bearer pw"); code != http.StatusOK {
		t.Errorf("GET /debug/pprof/heap with the password = %d, want 200", code)
	}
}

// TestHealthWhenStateMachineStopped: once the state machine stopped (here a
// storage write failed), /healthz and /readyz answer 503 with the reason.
func TestHealthWhenStateMachineStopped(t *testing.T) {
	mem := storage.NewMemory()
	t.Cleanup(func() { mem.Close() })
	eng := storage.NewFaultyEngine(mem)
	base := startAPIWith(t, "", false, eng)
	wantStatus := func(path string, code int, body string) {
		t.Helper()
		got, b := do(t, "GET", base+path, "")
		if got != code || !strings.Contains(b, body) {
			t.Errorf("GET %s = %d %s; want %d with %q", path, got, b, code, body)
		}
	}
	wantStatus("/healthz", 200, `"ok"`)
	eng.FailWrites.Store(true)
	if code, b := do(t, "PUT", base+"/v1/kv/k", "v"); code < 500 {
		t.Fatalf("PUT with a failing engine = %d %s; want a 5xx", code, b)
	}
	eng.FailWrites.Store(false)
	wantStatus("/healthz", 503, "injected")
	wantStatus("/readyz", 503, "state machine stopped")
}

// On a sharded node the key/value API, which addresses the node's one
// group, answers 501 instead of touching the metadata group; a backup
// needs a data group this node holds a replica of.
func TestShardedRefusesOneGroupEndpoints(t *testing.T) {
	base := startAPIWith(t, "", false, nil, func(c *httpapi.Config) {
		c.Sharded = func() bool { return true }
		c.Groups = func() []cluster.GroupStatus { return []cluster.GroupStatus{{ID: 2, Replicas: []string{"n2", "n3"}}} }
	})
	for _, tt := range []struct{ method, path, body string }{
		{"PUT", "/v1/kv/k", "v"}, {"GET", "/v1/kv/k", ""}, {"DELETE", "/v1/kv/k", ""},
	} {
		code, body := do(t, tt.method, base+tt.path, tt.body)
		if code != 501 || !strings.Contains(body, "sharded mode") {
			t.Errorf("%s %s = %d %s; want 501", tt.method, tt.path, code, body)
		}
	}
	for _, tt := range []struct {
		path string
		code int
		want string
	}{
		{"/backup", 400, "GET /backup?group=N"},
		{"/backup?group=x", 400, `invalid group \"x\"`},
		{"/backup?group=1", 404, "no replica of group 1 here"},
		{"/backup?group=02", 404, "no replica of group 2 here (replicas: n2, n3)"},
	} {
		if code, body := do(t, "GET", base+tt.path, ""); code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s = %d %s; want %d with %q", tt.path, code, body, tt.code, tt.want)
		}
	}
	if code, _ := do(t, "GET", base+"/status", ""); code != 200 {
		t.Errorf("GET /status = %d on a sharded node", code)
	}
}
