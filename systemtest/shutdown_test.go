package systemtest

import (
	"testing"
	"time"
)

// SHUTDOWN stops a node as SIGTERM does: no reply, the connection closes,
// and the process exits 0.
func TestShutdownCommandExits(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	ctx := testCtx(t, time.Minute)
	c := newClient(t, n.Addr, 2)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if err := c.Do(ctx, "SHUTDOWN", "ABORT").Err(); err == nil || err.Error() != "ERR No shutdown in progress." {
		t.Fatalf("SHUTDOWN ABORT = %v, want ERR No shutdown in progress.", err)
	}
	if err := c.Do(ctx, "SHUTDOWN", "BOGUS").Err(); err == nil || err.Error() != "ERR syntax error" {
		t.Fatalf("SHUTDOWN BOGUS = %v, want ERR syntax error", err)
	}
	if err := c.Do(ctx, "SHUTDOWN", "SAVE").Err(); err == nil {
		t.Fatalf("SHUTDOWN SAVE replied; want the connection closed")
	}
	if err := n.proc.WaitExit(exitTimeout); err != nil {
		t.Fatalf("riot-server after SHUTDOWN: %v", err)
	}
	if st := n.proc.Cmd.ProcessState; st.ExitCode() != 0 {
		t.Fatalf("riot-server exited with %s after SHUTDOWN, want exit code 0", st)
	}
	r := n.Restart()
	if got, err := newClient(t, r.Addr, 2).Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET k after SHUTDOWN and restart = %q, %v; want v", got, err)
	}
}

// A 3-node cluster keeps serving after one node's SHUTDOWN (the leader's:
// it hands leadership over first).
func TestShutdownCommandCluster(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 3)
	ctx := testCtx(t, 2*time.Minute)
	ld := leader(t, nodes)
	cs := clientsFor(t, nodes)
	var rest []*node
	for i, n := range nodes {
		if n == ld {
			if err := cs[i].Do(ctx, "SHUTDOWN").Err(); err == nil {
				t.Fatalf("SHUTDOWN on the leader replied; want the connection closed")
			}
			continue
		}
		rest = append(rest, n)
	}
	if err := ld.proc.WaitExit(exitTimeout); err != nil {
		t.Fatalf("leader after SHUTDOWN: %v", err)
	}
	if st := ld.proc.Cmd.ProcessState; st.ExitCode() != 0 {
		t.Fatalf("leader exited with %s after SHUTDOWN, want exit code 0", st)
	}
	c := newClient(t, rest[0].Addr, 2)
	waitFor(t, 30*time.Second, func() error { return c.Set(ctx, "after", "1", 0).Err() })
	if got, err := newClient(t, rest[1].Addr, 2).Get(ctx, "after").Result(); err != nil || got != "1" {
		t.Fatalf("GET after via %s = %q, %v; want 1", rest[1].NodeID, got, err)
	}
}
