package systemtest

// The admin HTTP API of real riot-server processes: every endpoint, on a
// leader and on followers, and its errors (unknown node, wrong method, no
// leader, bad JSON, oversized bodies, missing or wrong password).
// httpapi/server_test.go checks the handlers in process; these tests check
// the wiring, forwarding between nodes and the flags that shape the API.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// wantHTTP sends a request and checks its status and that the body
// contains every one of subs.
func wantHTTP(t *testing.T, method, url, body string, code int, subs ...string) httpReply {
	t.Helper()
	r := mustHTTP(t, method, url, body)
	if r.code != code {
		t.Errorf("%s %s %.60q = %s; want status %d", method, url, body, r, code)
		return r
	}
	for _, s := range subs {
		if !strings.Contains(r.body, s) {
			t.Errorf("%s %s %.60q = %s; want the body to contain %q", method, url, body, r, s)
		}
	}
	return r
}

// jsonBody decodes a reply body into v, failing the test on bad JSON.
func jsonBody(t *testing.T, r httpReply, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json (body %s)", ct, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// apiPeer is an entry of GET /peers, /leader and /cluster.
type apiPeer struct {
	ID         string `json:"id"`
	RaftAddr   string `json:"raft_addr"`
	ClientAddr string `json:"client_addr"`
	Suffrage   string `json:"suffrage"`
	Role       string `json:"role"`
	Gossip     string `json:"gossip"`
}

// apiStatus is GET /status.
type apiStatus struct {
	ID           string   `json:"id"`
	Role         string   `json:"role"`
	Term         uint64   `json:"term"`
	CommitIndex  uint64   `json:"commit_index"`
	AppliedIndex uint64   `json:"applied_index"`
	LastSnapshot uint64   `json:"last_snapshot_index"`
	Leader       *apiPeer `json:"leader"`
	Keys         int64    `json:"keys"`
	Version      string   `json:"version"`
}

// peersVia returns GET /peers of n.
func peersVia(t *testing.T, n *node) []apiPeer {
	t.Helper()
	r := mustHTTP(t, "GET", n.url("/peers"), "")
	if r.code != 200 {
		t.Fatalf("GET /peers on %s = %s", n.NodeID, r)
	}
	var ps []apiPeer
	jsonBody(t, r, &ps)
	return ps
}

// leaderVia returns the leader ID GET /leader of n reports.
func leaderVia(n *node) (string, error) {
	r, err := httpCall("GET", n.url("/leader"), "")
	if err != nil {
		return "", err
	}
	var p apiPeer
	if r.code != 200 || json.Unmarshal([]byte(r.body), &p) != nil {
		return "", fmt.Errorf("GET /leader on %s = %s", n.NodeID, r)
	}
	return p.ID, nil
}

// TestHTTPAPI: every admin endpoint of a 3-node cluster, through the
// leader and through followers (writes, membership changes and transfers
// sent to a follower are forwarded to the leader), and their errors.
func TestHTTPAPI(t *testing.T) {
	t.Parallel()
	const maxBulk = 4096
	nodes := startCluster(t, 3, "--max-bulk-len", fmt.Sprint(maxBulk))
	ld := leader(t, nodes)
	fs := followersOf(nodes, ld)
	f1, f2 := fs[0], fs[1]

	t.Run("probes", func(t *testing.T) {
		for _, n := range nodes {
			wantHTTP(t, "GET", n.url("/healthz"), "", 200, `"status": "ok"`)
			var ready map[string]string
			jsonBody(t, wantHTTP(t, "GET", n.url("/readyz"), "", 200), &ready)
			if ready["status"] != "ready" || ready["leader"] != ld.NodeID {
				t.Errorf("GET /readyz on %s = %v, want ready with leader %s", n.NodeID, ready, ld.NodeID)
			}
		}
	})

	t.Run("status", func(t *testing.T) {
		for _, n := range nodes {
			var st apiStatus
			jsonBody(t, wantHTTP(t, "GET", n.url("/status"), "", 200), &st)
			wantRole := "follower"
			if n == ld {
				wantRole = "leader"
			}
			if st.ID != n.NodeID || st.Role != wantRole || st.Leader == nil || st.Leader.ID != ld.NodeID ||
				st.Leader.ClientAddr != ld.Addr || st.Term == 0 || st.CommitIndex == 0 || st.Version == "" {
				t.Errorf("GET /status on %s = %+v (leader %+v); want id %s, role %s, leader %s at %s", n.NodeID, st, st.Leader, n.NodeID, wantRole, ld.NodeID, ld.Addr)
			}
		}
	})

	t.Run("peers and leader", func(t *testing.T) {
		for _, n := range nodes {
			ps := peersVia(t, n)
			var got []string
			leaders := 0
			for _, p := range ps {
				got = append(got, p.ID)
				if p.Suffrage != "voter" || p.RaftAddr == "" || p.ClientAddr == "" {
					t.Errorf("GET /peers on %s: entry %+v, want a voter with raft and client addresses", n.NodeID, p)
				}
				if p.Role == "leader" {
					leaders++
					if p.ID != ld.NodeID {
						t.Errorf("GET /peers on %s: leader %s, want %s", n.NodeID, p.ID, ld.NodeID)
					}
				}
			}
			if want := ids(nodes); !slices.Equal(got, want) || leaders != 1 {
				t.Errorf("GET /peers on %s: ids %v with %d leaders; want %v with one", n.NodeID, got, leaders, want)
			}
			var p apiPeer
			jsonBody(t, wantHTTP(t, "GET", n.url("/leader"), "", 200), &p)
			if p.ID != ld.NodeID || p.RaftAddr != ld.RaftAddr || p.ClientAddr != ld.Addr {
				t.Errorf("GET /leader on %s = %+v, want %s at %s / %s", n.NodeID, p, ld.NodeID, ld.RaftAddr, ld.Addr)
			}
		}
		var cl []struct {
			apiPeer
			Status *apiStatus `json:"status"`
		}
		jsonBody(t, wantHTTP(t, "GET", f1.url("/cluster"), "", 200), &cl)
		if len(cl) != 3 {
			t.Errorf("GET /cluster on %s: %d entries, want 3", f1.NodeID, len(cl))
		}
		var history struct {
			Changes []struct {
				Leader string `json:"leader"`
				Term   uint64 `json:"term"`
			} `json:"changes"`
		}
		jsonBody(t, wantHTTP(t, "GET", f1.url("/leader/history"), "", 200), &history)
		if len(history.Changes) == 0 || history.Changes[0].Leader != ld.NodeID {
			t.Errorf("GET /leader/history on %s = %+v, want the newest change to be %s", f1.NodeID, history.Changes, ld.NodeID)
		}
	})

	t.Run("page and metrics", func(t *testing.T) {
		r := wantHTTP(t, "GET", f2.url("/"), "", 200, "<title>Riot cluster</title>")
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET / Content-Type %q, want text/html", ct)
		}
		wantHTTP(t, "GET", f2.url("/metrics"), "", 200, "riot_raft_term", "go_goroutines")
	})

	t.Run("kv", func(t *testing.T) {
		// A write through a follower, read through the other follower
		// (linearizable), the leader (stale) and RESP.
		wantHTTP(t, "PUT", f1.url("/v1/kv/http:greeting"), "hello world", 200, `"status": "ok"`)
		r := wantHTTP(t, "GET", f2.url("/v1/kv/http:greeting?consistency=linearizable"), "", 200)
		if r.body != "hello world" || r.header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("GET through %s = %q (%s), want the raw value", f2.NodeID, r.body, r.header.Get("Content-Type"))
		}
		if got := wantHTTP(t, "GET", f2.url("/v1/kv/http:greeting"), "", 200).body; got != "hello world" {
			t.Errorf("GET (default consistency) = %q", got)
		}
		waitFor(t, pollTimeout, func() error { // stale: the leader applies what it acknowledged
			r, err := httpCall("GET", ld.url("/v1/kv/http:greeting?consistency=stale"), "")
			if err != nil || r.code != 200 || r.body != "hello world" {
				return fmt.Errorf("stale GET on the leader = %v, %v", r, err)
			}
			return nil
		})
		if got, err := ld.do("GET", "http:greeting").Text(); err != nil || got != "hello world" {
			t.Errorf("RESP GET after an HTTP PUT = %q, %v", got, err)
		}
		// Keys with slashes and binary values.
		wantHTTP(t, "PUT", f2.url("/v1/kv/a/b/c"), "\x00\xffbin", 200)
		if got := wantHTTP(t, "GET", f1.url("/v1/kv/a/b/c"), "", 200).body; got != "\x00\xffbin" {
			t.Errorf("GET /v1/kv/a/b/c = %q", got)
		}
		wantHTTP(t, "GET", f1.url("/v1/kv/http:greeting?consistency=eventual"), "", 400, "consistency must be")
		wantHTTP(t, "GET", f1.url("/v1/kv/http:missing"), "", 404, `"error": "no such key"`)
		wantHTTP(t, "GET", f1.url("/v1/kv/http:missing?consistency=stale"), "", 404, "no such key")
		wantHTTP(t, "PUT", f1.url("/v1/kv/http:big"), strings.Repeat("x", maxBulk+1), 413, "value too large")
		wantHTTP(t, "PUT", f1.url("/v1/kv/http:fits"), strings.Repeat("x", maxBulk/2), 200)
		if err := ld.do("INCR", "http:counter").Err(); err != nil {
			t.Fatal(err)
		}
		if err := ld.do("SETBIT", "http:bits", 1, 1).Err(); err != nil {
			t.Fatal(err)
		}
		if got := wantHTTP(t, "GET", f2.url("/v1/kv/http:counter"), "", 200).body; got != "1" {
			t.Errorf("GET of a counter = %q, want 1", got)
		}
		if got := wantHTTP(t, "GET", f2.url("/v1/kv/http:bits"), "", 200).body; got != "\x40" {
			t.Errorf("GET of a key written by SETBIT k 1 1 = %q, want \"\\x40\"", got)
		}
		wantHTTP(t, "DELETE", f2.url("/v1/kv/http:greeting"), "", 200, `"deleted": 1`)
		wantHTTP(t, "DELETE", f2.url("/v1/kv/http:greeting"), "", 200, `"deleted": 0`)
		wantHTTP(t, "GET", f1.url("/v1/kv/http:greeting"), "", 404, "no such key")
		if n, err := ld.do("EXISTS", "http:greeting").Int(); err != nil || n != 0 {
			t.Errorf("RESP EXISTS after an HTTP DELETE = %d, %v; want 0", n, err)
		}
	})

	t.Run("wrong method", func(t *testing.T) {
		for _, c := range []struct{ method, path, allow string }{
			{"POST", "/status", "GET, HEAD"},
			{"PUT", "/peers", "GET, HEAD"},
			{"GET", "/join", "POST"},
			{"GET", "/snapshot", "POST"},
			{"PUT", "/peers/n2", "DELETE"},
			{"GET", "/leader/transfer", "POST"},
			{"POST", "/backup", "GET, HEAD"},
			{"POST", "/healthz", "GET, HEAD"},
			{"POST", "/v1/kv/x", "DELETE, GET, HEAD, PUT"},
		} {
			r := mustHTTP(t, c.method, f1.url(c.path), "")
			if r.code != 405 || !strings.Contains(r.body, `"error":"method not allowed"`) {
				t.Errorf("%s %s = %s; want 405 with a JSON error", c.method, c.path, r)
			}
			if got := r.header.Get("Allow"); !sameSet(got, c.allow) {
				t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
			}
		}
		wantHTTP(t, "GET", f1.url("/nothing-here"), "", 404, `{"error":"not found"}`)
	})

	t.Run("join errors", func(t *testing.T) {
		for _, c := range []struct {
			body string
			code int
			want string
		}{
			{`{bad`, 400, "bad JSON"},
			{`{"id": "n9"}`, 400, "id and raft_addr are required"},
			{`{"id": "n9", "raft_addr": "127.0.0.1:1", "colour": "red"}`, 400, "unknown field"},
			{`{"id": "n9", "raft_addr": "nohost"}`, 400, "invalid raft address"},
			{`{"id": "n9", "raft_addr": "` + ld.RaftAddr + `"}`, 409, "raft address already used"},
			{`{"id": "` + f2.NodeID + `", "raft_addr": "127.0.0.1:1"}`, 409, "already in the configuration at another address"},
			{`{"id": "` + f2.NodeID + `", "raft_addr": "` + f2.RaftAddr + `"}`, 200, `"ok"`}, // already there: a no-op
			{`{"id": "n9", "raft_addr": "127.0.0.1:1", "pad": "` + strings.Repeat("x", 70<<10) + `"}`, 413, "request body too large"},
		} {
			wantHTTP(t, "POST", f1.url("/join"), c.body, c.code, c.want)
		}
		if ps := peersVia(t, ld); len(ps) != 3 {
			t.Errorf("after refused joins, GET /peers lists %d servers, want 3: %+v", len(ps), ps)
		}
	})

	t.Run("snapshot", func(t *testing.T) {
		for _, n := range []*node{f2, ld} {
			var body struct {
				Status string `json:"status"`
				Index  uint64 `json:"last_snapshot_index"`
			}
			jsonBody(t, wantHTTP(t, "POST", n.url("/snapshot"), "", 200), &body)
			if body.Status != "ok" || body.Index == 0 {
				t.Errorf("POST /snapshot on %s = %+v, want ok with a snapshot index", n.NodeID, body)
			}
			var st apiStatus
			jsonBody(t, wantHTTP(t, "GET", n.url("/status"), "", 200), &st)
			if st.LastSnapshot != body.Index {
				t.Errorf("GET /status on %s: last_snapshot_index %d, want %d", n.NodeID, st.LastSnapshot, body.Index)
			}
		}
	})

	t.Run("backup", func(t *testing.T) {
		r := wantHTTP(t, "GET", f2.url("/backup"), "", 200)
		if !strings.HasPrefix(r.body, "RIOTSNAP") || r.header.Get("Content-Type") != "application/octet-stream" ||
			!strings.Contains(r.header.Get("Content-Disposition"), "attachment") || r.header.Get("X-Riot-Backup-Index") == "" {
			t.Errorf("GET /backup: %d bytes starting %.8q, headers %v; want a RIOTSNAP attachment with its index", len(r.body), r.body, r.header)
		}
	})

	// Transfers and removal change the cluster: last.
	t.Run("transfer and remove", func(t *testing.T) {
		wantHTTP(t, "POST", f1.url("/leader/transfer"), `{"id": "nope"}`, 404, "no such server")
		wantHTTP(t, "POST", f1.url("/leader/transfer"), `{"id": `, 400, "bad JSON")
		wantHTTP(t, "POST", f1.url("/leader/transfer"), `{"id": "`+f2.NodeID+`"}`, 200, `"ok"`)
		waitFor(t, electionTimeout, func() error {
			for _, n := range nodes {
				if id, err := leaderVia(n); err != nil || id != f2.NodeID {
					return fmt.Errorf("GET /leader on %s = %q, %v; want %s after the transfer", n.NodeID, id, err, f2.NodeID)
				}
			}
			return nil
		})
		// With no body: to any other voter.
		wantHTTP(t, "POST", ld.url("/leader/transfer"), "", 200, `"ok"`)
		waitFor(t, electionTimeout, func() error {
			if id, err := leaderVia(ld); err != nil || id == f2.NodeID || id == "" {
				return fmt.Errorf("GET /leader = %q, %v; want another leader than %s", id, err, f2.NodeID)
			}
			return nil
		})

		wantHTTP(t, "DELETE", f1.url("/peers/nope"), "", 404, "no such server")
		// Remove a follower through another node; it notices and exits.
		newLeader, err := leaderVia(ld)
		if err != nil {
			t.Fatal(err)
		}
		var gone, via *node // the two followers
		for _, n := range nodes {
			if n.NodeID != newLeader {
				if gone == nil {
					gone = n
				} else {
					via = n
				}
			}
		}
		wantHTTP(t, "DELETE", via.url("/peers/"+gone.NodeID), "", 200, `"ok"`)
		rest := without(nodes, gone)
		waitFor(t, stableTimeout, func() error {
			for _, n := range rest {
				r, err := httpCall("GET", n.url("/peers"), "")
				if err != nil {
					return err
				}
				if strings.Contains(r.body, `"`+gone.NodeID+`"`) {
					return fmt.Errorf("GET /peers on %s still lists %s: %s", n.NodeID, gone.NodeID, r.body)
				}
			}
			return nil
		})
		// A removed follower shuts down once it learns of its removal,
		// which it may never do (the leader stops replicating to it).
		if gone.running() {
			gone.Stop()
		}
		wantHTTP(t, "PUT", rest[0].url("/v1/kv/http:after"), "2 nodes", 200)
		if got := wantHTTP(t, "GET", rest[1].url("/v1/kv/http:after"), "", 200).body; got != "2 nodes" {
			t.Errorf("GET after the removal = %q", got)
		}
	})
}

// sameSet reports whether two comma-separated lists hold the same items.
func sameSet(a, b string) bool {
	split := func(s string) []string {
		var out []string
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(split(a), split(b))
}

// TestHTTPNoLeader: a node that was never added to a cluster has no
// leader: probes say so, reads that need the leader and every change
// answer 503, local reads still work.
func TestHTTPNoLeader(t *testing.T) {
	t.Parallel()
	n := launch(t, spec{dataDir: t.TempDir(), extra: []string{"--join", joinPlaceholder, "--leader-wait", "300ms"}})
	wantHTTP(t, "GET", n.url("/healthz"), "", 200, "ok")
	wantHTTP(t, "GET", n.url("/readyz"), "", 503, `"error": "no leader"`)
	wantHTTP(t, "GET", n.url("/leader"), "", 503, "no leader")
	var st apiStatus
	jsonBody(t, wantHTTP(t, "GET", n.url("/status"), "", 200), &st)
	if st.Leader != nil || st.Role != "follower" {
		t.Errorf("GET /status without a leader = %+v, want a follower with leader null", st)
	}
	wantHTTP(t, "PUT", n.url("/v1/kv/k"), "v", 503, "no leader")
	wantHTTP(t, "DELETE", n.url("/v1/kv/k"), "", 503, "no leader")
	wantHTTP(t, "GET", n.url("/v1/kv/k"), "", 503, "no leader")
	wantHTTP(t, "GET", n.url("/v1/kv/k?consistency=stale"), "", 404, "no such key") // local state answers
	wantHTTP(t, "GET", n.url("/backup"), "", 503, "no leader")
	wantHTTP(t, "POST", n.url("/join"), `{"id": "n9", "raft_addr": "127.0.0.1:1"}`, 503, "no leader")
	wantHTTP(t, "DELETE", n.url("/peers/n9"), "", 503, "no leader")
	wantHTTP(t, "POST", n.url("/leader/transfer"), "", 503, "no leader")
}

// TestHTTPAuth: with --requirepass, changes, the key/value API and backups
// need the password (bearer token or basic auth); status endpoints stay
// open; the password is never logged.
func TestHTTPAuth(t *testing.T) {
	t.Parallel()
	const pass = "s3cret-Pa55"
	n := launch(t, spec{dataDir: t.TempDir(), extra: []string{"--requirepass", pass}})
	waitFor(t, readyTimeout, func() error {
		r, err := httpCall("GET", n.url("/readyz"), "")
		if err != nil || r.code != 200 {
			return fmt.Errorf("GET /readyz = %v, %v", r, err)
		}
		return nil
	})
	bearer := []string{"Authorization", "Bearer " + pass}
	basic := []string{"Authorization", "Basic " + basicAuth("admin", pass)}
	for _, c := range []struct {
		method, path, body string
		code               int // with the password
	}{
		{"PUT", "/v1/kv/k", "v", 200},
		{"GET", "/v1/kv/k", "", 200},
		{"DELETE", "/v1/kv/k", "", 200},
		{"GET", "/backup", "", 200},
		{"POST", "/snapshot", "", 200},
		{"POST", "/join", `{"id": "n9"}`, 400},
		{"DELETE", "/peers/n9", "", 404},
		{"POST", "/leader/transfer", "", 409},
	} {
		for _, hdr := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", "Basic " + basicAuth("admin", "wrong")}} {
			r := mustHTTP(t, c.method, n.url(c.path), c.body, hdr...)
			if r.code != 401 || !strings.Contains(r.body, "authentication required") || !strings.Contains(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with %q = %s (WWW-Authenticate %q); want 401", c.method, c.path, hdr, r, r.header.Get("WWW-Authenticate"))
			}
		}
		for _, hdr := range [][]string{bearer, basic} {
			if r := mustHTTP(t, c.method, n.url(c.path), c.body, hdr...); r.code != c.code {
				t.Errorf("%s %s with the password (%s) = %s; want %d", c.method, c.path, strings.Fields(hdr[1])[0], r, c.code)
			}
		}
	}
	for _, path := range []string{"/", "/status", "/peers", "/leader", "/leader/history", "/cluster", "/healthz", "/readyz", "/metrics"} {
		wantHTTP(t, "GET", n.url(path), "", 200)
	}
	for _, l := range logLines(n) {
		if strings.Contains(l, pass) {
			t.Errorf("the password appears in the log: %s", l)
		}
	}
}

func basicAuth(user, pass string) string {
	req, _ := http.NewRequest("GET", "http://x/", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}
