// Package systemtest runs real riot-server processes and talks to them with
// real clients (go-redis, redis-cli, redis-benchmark, raw sockets).
//
// TestMain builds the binary once; each test starts its own nodes on
// 127.0.0.1:0 in t.TempDir(), so tests run in parallel.
package systemtest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/riotkv/riot/internal/proctest"
	"github.com/riotkv/riot/internal/testsummary"
)

const (
	readyTimeout = 20 * time.Second // ready line, then a leader
	exitTimeout  = 15 * time.Second // SIGTERM/SIGKILL until the process is gone
	pollInterval = 20 * time.Millisecond
)

// serverBin is the riot-server binary TestMain builds.
var serverBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		fmt.Println("systemtest: every test starts riot-server processes; skipped with -short")
		return 0
	}
	dir, err := os.MkdirTemp("", "riot-systemtest-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "systemtest: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if serverBin, err = proctest.Build(dir); err != nil {
		fmt.Fprintf(os.Stderr, "systemtest: %v\n", err)
		return 1
	}
	return m.Run()
}

// spec describes how to start a node. The zero value of every field but
// dataDir is a sensible default.
type spec struct {
	dataDir  string
	raftAddr string   // default 127.0.0.1:0
	omitAddr bool     // do not pass --addr (to test RIOT_ADDR)
	env      []string // extra KEY=VALUE pairs
	extra    []string // extra flags, after the defaults (flags given twice: the last wins)
}

// node is one running (or exited) riot-server process.
type node struct {
	t    testing.TB
	spec spec

	// From the "riot-server ready" line.
	Addr       string
	RaftAddr   string
	NodeID     string
	GossipAddr string

	proc *proctest.Proc

	adminOnce sync.Once
	adminC    *redis.Client // see admin
}

// start runs riot-server on dataDir with --addr 127.0.0.1:0
// --raft-addr 127.0.0.1:0 --log-format json plus extra flags, and returns
// once it logged "riot-server ready" and has become the raft leader.
func start(t testing.TB, dataDir string, extra ...string) *node {
	t.Helper()
	return startSpec(t, spec{dataDir: dataDir, extra: extra})
}

// startSpec is start with every option.
func startSpec(t testing.TB, s spec) *node {
	t.Helper()
	n := launch(t, s)
	n.waitLeader()
	return n
}

// launch starts the process and waits for the ready line only.
func launch(t testing.TB, s spec) *node {
	t.Helper()
	n := spawn(t, s)
	n.awaitReady()
	return n
}

// spawn starts the process and returns at once; awaitReady waits for its
// ready line. Starting several processes before waiting for any of them
// starts them (nearly) at the same moment.
func spawn(t testing.TB, s spec) *node {
	t.Helper()
	if s.raftAddr == "" {
		s.raftAddr = "127.0.0.1:0"
	}
	args := []string{"--data-dir", s.dataDir, "--raft-addr", s.raftAddr, "--log-format", "json"}
	if !s.omitAddr {
		args = append(args, "--addr", "127.0.0.1:0")
	}
	// Every node gets free gossip and admin ports, so that nodes of
	// different tests neither collide nor find each other. A binary
	// without one of these flags exits 2, and every test fails.
	args = append(args, "--gossip-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	args = append(args, s.extra...)

	if err := os.MkdirAll(s.dataDir, 0o755); err != nil {
		t.Fatalf("create data dir: %v", err)
	}
	cmd := exec.Command(serverBin, args...)
	cmd.Dir = s.dataDir
	cmd.Env = append(proctest.CleanEnv(), s.env...)
	p, err := proctest.Start(cmd, &proctest.Log{})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, spec: s, proc: p}
	// Registered first so that it runs on every path, failures included.
	t.Cleanup(func() {
		if p.Running() {
			_ = p.Signal(syscall.SIGKILL)
			if err := p.WaitExit(exitTimeout); err != nil {
				t.Errorf("riot-server after SIGKILL: %v", err)
			}
		}
		if t.Failed() {
			t.Logf("riot-server log (data dir %s):\n%s", s.dataDir, p.Log)
		}
	})
	return n
}

// awaitReady waits for the ready line of a spawned process and records
// its addresses.
func (n *node) awaitReady() {
	n.t.Helper()
	t := n.t
	r, err := n.proc.AwaitReady(readyTimeout)
	if err != nil {
		t.Fatalf("riot-server: %v", err)
	}
	n.Addr, n.RaftAddr, n.NodeID, n.GossipAddr = r.Addr, r.RaftAddr, r.NodeID, r.GossipAddr
	if n.Addr == "" || n.RaftAddr == "" || n.NodeID == "" || n.GossipAddr == "" {
		t.Fatalf("ready line lacks addr, raft_addr, node_id or gossip_addr: %+v", r)
	}
}

// waitLeader waits until the node reports itself raft leader.
func (n *node) waitLeader() {
	n.t.Helper()
	c := newClient(n.t, n.Addr, 2)
	defer c.Close()
	waitFor(n.t, readyTimeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := c.Do(ctx, "RAFT.STATE").Text()
		if err != nil {
			return err
		}
		if !strings.EqualFold(st, "leader") {
			return fmt.Errorf("RAFT.STATE = %q, want leader", st)
		}
		return nil
	})
}

// running reports whether the process has not exited yet.
func (n *node) running() bool { return n.proc.Running() }

// Kill sends SIGKILL and waits for the process to be gone.
func (n *node) Kill() {
	n.t.Helper()
	n.signalAndWait(syscall.SIGKILL)
}

// Stop sends SIGTERM, waits for the process to exit and asserts exit code 0.
func (n *node) Stop() {
	n.t.Helper()
	n.signalAndWait(syscall.SIGTERM)
	if st := n.proc.Cmd.ProcessState; st.ExitCode() != 0 {
		n.t.Errorf("riot-server exited with %s after SIGTERM, want exit code 0", st)
	}
}

func (n *node) signalAndWait(sig syscall.Signal) {
	n.t.Helper()
	if err := n.proc.Signal(sig); err != nil {
		n.t.Fatalf("riot-server: %v", err)
	}
	if err := n.proc.WaitExit(exitTimeout); err != nil {
		n.t.Fatalf("riot-server after %s: %v", sig, err)
	}
}

// Restart starts a new process on the same data dir, flags and raft
// address, once this one has exited (after Kill or Stop), and waits until
// it leads (a single-node cluster).
func (n *node) Restart() *node {
	n.t.Helper()
	r := n.Relaunch()
	r.waitLeader()
	return r
}

// Relaunch is Restart without waiting for leadership, for a member of a
// larger cluster: it returns once the new process is ready.
func (n *node) Relaunch() *node {
	n.t.Helper()
	if n.running() {
		n.t.Fatalf("Restart: riot-server pid %d is still running", n.proc.Pid())
	}
	s := n.spec
	s.raftAddr = n.RaftAddr
	return launch(n.t, s)
}

// Pause sends SIGSTOP: the process keeps its sockets but does nothing
// until Resume. Kill still works on a paused process.
func (n *node) Pause() {
	n.t.Helper()
	if err := n.proc.Signal(syscall.SIGSTOP); err != nil {
		n.t.Fatalf("Pause: %v", err)
	}
}

// Resume sends SIGCONT to a paused process.
func (n *node) Resume() {
	n.t.Helper()
	if err := n.proc.Signal(syscall.SIGCONT); err != nil {
		n.t.Fatalf("Resume: %v", err)
	}
}

// up reports whether the process runs and is not paused: whether it can
// answer a request.
func (n *node) up() bool { return n.running() && !n.proc.Paused() }

// newClient returns a go-redis client for addr speaking protocol (2 or 3)
// that never retries on its own: every command is sent once, so a test
// knows exactly which commands were acknowledged.
func newClient(t testing.TB, addr string, protocol int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:         addr,
		Protocol:     protocol,
		DialTimeout:  5 * time.Second,
		ReadTimeout:  15 * time.Second, // above the server's 10s command timeout
		WriteTimeout: 5 * time.Second,
		MaxRetries:   -1,
		PoolSize:     4,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testCtx returns a context that ends after d or with the test.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it returns nil, failing the test with cond's
// last error after timeout.
func waitFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s: %v", timeout, err)
		}
		<-tick.C
	}
}

// runOnce runs riot-server to completion (for flag errors) and returns its
// stdout, stderr and exit code.
func runOnce(t testing.TB, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), exitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(proctest.CleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run riot-server %q: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("riot-server %q did not exit within %s; stderr:\n%s", args, exitTimeout, errb.String())
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// skip skips t for reason and names it, with the reason, in the summary
// `make test` prints (a skipped test passes, and go test ./... shows
// nothing of a package that passes).
func skip(t testing.TB, reason string) {
	t.Helper()
	testsummary.Skip(t, "systemtest", reason)
}

// lookTool finds an external client (redis-cli, redis-benchmark), skipping
// the test when it is not installed, and logs which binary is used.
func lookTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		skip(t, fmt.Sprintf("%s not found in PATH (install redis-tools to run this test): %v", name, err))
	}
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", path, err, out)
	}
	t.Logf("using %s (%s)", path, strings.TrimSpace(string(out)))
	return path
}

// port returns the port of a host:port address.
func port(t testing.TB, addr string) string {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	if i < 0 || i == len(addr)-1 {
		t.Fatalf("address %q has no port", addr)
	}
	return addr[i+1:]
}

// raftInfo returns RAFT.INFO as a map.
func raftInfo(ctx context.Context, t testing.TB, c *redis.Client) map[string]string {
	t.Helper()
	s, err := c.Do(ctx, "RAFT.INFO").Text()
	if err != nil {
		t.Fatalf("RAFT.INFO: %v", err)
	}
	return parseFields(s)
}

// parseFields parses "name:value" lines (INFO, RAFT.INFO); section
// headers and blank lines are skipped.
func parseFields(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

// setKeys writes key prefix+i = value(i) for i in [from, to), pipelined in
// batches, and fails the test unless every SET is acknowledged.
func setKeys(ctx context.Context, t testing.TB, c *redis.Client, prefix string, from, to int) {
	t.Helper()
	const batch = 500
	for lo := from; lo < to; lo += batch {
		hi := min(lo+batch, to)
		cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := lo; i < hi; i++ {
				p.Set(ctx, key(prefix, i), value(prefix, i), 0)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("pipelined SET %s[%d,%d): %v", prefix, lo, hi, err)
		}
		for _, cmd := range cmds {
			if s, err := cmd.(*redis.StatusCmd).Result(); err != nil || s != "OK" {
				t.Fatalf("%v: got %q, %v; want OK", cmd.Args(), s, err)
			}
		}
	}
}

func key(prefix string, i int) string   { return fmt.Sprintf("%s:%06d", prefix, i) }
func value(prefix string, i int) string { return fmt.Sprintf("value-of-%s-%d", prefix, i) }

// checkKeys fails the test for every key in want that is missing or holds
// another value. It reads with MGET in batches.
func checkKeys(ctx context.Context, t testing.TB, c *redis.Client, want map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	const batch = 500
	bad := 0
	for lo := 0; lo < len(keys); lo += batch {
		part := keys[lo:min(lo+batch, len(keys))]
		vals, err := c.MGet(ctx, part...).Result()
		if err != nil {
			t.Fatalf("MGET %d keys: %v", len(part), err)
		}
		for i, k := range part {
			got, _ := vals[i].(string)
			if vals[i] == nil || got != want[k] {
				bad++
				if bad <= 10 {
					t.Errorf("key %q = %v, want %q", k, vals[i], want[k])
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d keys missing or wrong", bad, len(want))
	}
}
