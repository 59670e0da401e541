package systemtest

// Helpers for the admin HTTP API of a node.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// httpAddr returns the admin API address the node logged in its ready
// line.
func (n *node) httpAddr() string {
	n.t.Helper()
	for _, l := range logLines(n) {
		var r struct {
			Msg      string `json:"msg"`
			HTTPAddr string `json:"http_addr"`
		}
		if json.Unmarshal([]byte(l), &r) == nil && r.Msg == "riot-server ready" && r.HTTPAddr != "" {
			return r.HTTPAddr
		}
	}
	n.t.Fatalf("%s: no http_addr in the ready line", n.NodeID)
	return ""
}

// url returns the node's admin API URL for path.
func (n *node) url(path string) string { return "http://" + n.httpAddr() + path }

// httpReply is an admin API answer.
type httpReply struct {
	code   int
	header http.Header
	body   string
}

func (r httpReply) String() string { return fmt.Sprintf("%d %s", r.code, strings.TrimSpace(r.body)) }

// httpClient bounds every admin API request above the server's 10s
// request timeout.
var httpClient = &http.Client{Timeout: 20 * time.Second}

// httpCall sends one request (hdr: name, value pairs) and returns the
// answer; a transport error is returned, not fatal, for polling.
func httpCall(method, url, body string, hdr ...string) (httpReply, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return httpReply{}, err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return httpReply{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return httpReply{}, fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	return httpReply{code: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

// mustHTTP is httpCall that fails the test on a transport error.
func mustHTTP(t *testing.T, method, url, body string, hdr ...string) httpReply {
	t.Helper()
	r, err := httpCall(method, url, body, hdr...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
