package systemtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigPrecedence: a real process reads its settings from flags, then
// RIOT_* variables, then the --config file (named here by RIOT_CONFIG),
// then the defaults.
func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "riot.yaml")
	cfg := strings.Join([]string{
		"node-id: from-file", // RIOT_NODE_ID wins
		"engine: memory",     // RIOT_ENGINE, then --engine win
		"addr: 127.0.0.1:1",  // --addr wins (port 1 would fail)
		"max-bulk-len: 100",  // only here: beats the default (512 MB)
		"log-level: debug",   // only here
	}, "\n") + "\n"
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	n := startSpec(t, spec{
		dataDir: t.TempDir(),
		env:     []string{"RIOT_CONFIG=" + file, "RIOT_NODE_ID=from-env", "RIOT_ENGINE=memory"},
		extra:   []string{"--engine", "leveldb"},
	})
	var ready struct {
		NodeID string `json:"node_id"`
		Engine string `json:"engine"`
		Addr   string `json:"addr"`
	}
	debug := 0
	for _, l := range logLines(n) {
		var line struct {
			Msg   string `json:"msg"`
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(l), &line) != nil {
			continue
		}
		if line.Level == "DEBUG" {
			debug++
		}
		if line.Msg == "riot-server ready" {
			if err := json.Unmarshal([]byte(l), &ready); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ready.NodeID != "from-env" {
		t.Errorf("node_id %q, want from-env (RIOT_NODE_ID beats the file)", ready.NodeID)
	}
	if ready.Engine != "leveldb" {
		t.Errorf("engine %q, want leveldb (--engine beats RIOT_ENGINE and the file)", ready.Engine)
	}
	if port(t, ready.Addr) == "1" {
		t.Errorf("addr %q: the file's port, want the flag's", ready.Addr)
	}
	if debug == 0 {
		t.Errorf("no DEBUG line logged: log-level debug from the file was not applied")
	}
	c := newClient(t, n.Addr, 2)
	ctx := testCtx(t, pollTimeout)
	if err := c.Set(ctx, "small", strings.Repeat("x", 100), 0).Err(); err != nil {
		t.Errorf("SET of 100 bytes: %v", err)
	}
	if err := c.Set(ctx, "big", strings.Repeat("x", 101), 0).Err(); err == nil || !strings.Contains(err.Error(), "bulk length") {
		t.Errorf("SET of 101 bytes with max-bulk-len 100 from the file: %v, want a bulk length error", err)
	}
}
