package systemtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStartEmptyAndServe(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	n := start(t, dir)
	ctx := testCtx(t, time.Minute)
	c := newClient(t, n.Addr, 2)

	if got, err := c.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v; want PONG", got, err)
	}
	if got, err := c.Set(ctx, "greeting", "hello", 0).Result(); err != nil || got != "OK" {
		t.Fatalf("SET greeting hello = %q, %v; want OK", got, err)
	}
	if got, err := c.Get(ctx, "greeting").Result(); err != nil || got != "hello" {
		t.Fatalf("GET greeting = %q, %v; want hello", got, err)
	}

	// The node ID is generated once, written to DATA_DIR/node-id, and
	// reported by the ready line, INFO and RAFT.INFO.
	b, err := os.ReadFile(filepath.Join(dir, "node-id"))
	if err != nil {
		t.Fatalf("node-id file: %v", err)
	}
	if got := string(b); got != n.NodeID+"\n" {
		t.Fatalf("node-id file = %q, want %q", got, n.NodeID+"\n")
	}
	checkNodeID := func(n *node, c *redis.Client) {
		t.Helper()
		info, err := c.Info(ctx, "server").Result()
		if err != nil {
			t.Fatalf("INFO server: %v", err)
		}
		if got := parseFields(info)["riot_node_id"]; got != n.NodeID {
			t.Errorf("INFO riot_node_id = %q, want %q", got, n.NodeID)
		}
		if got := raftInfo(ctx, t, c)["node_id"]; got != n.NodeID {
			t.Errorf("RAFT.INFO node_id = %q, want %q", got, n.NodeID)
		}
	}
	checkNodeID(n, c)

	n.Stop()
	n2 := n.Restart()
	if n2.NodeID != n.NodeID {
		t.Fatalf("node_id after restart = %q, want %q", n2.NodeID, n.NodeID)
	}
	if n2.RaftAddr != n.RaftAddr {
		t.Fatalf("raft_addr after restart = %q, want %q", n2.RaftAddr, n.RaftAddr)
	}
	c2 := newClient(t, n2.Addr, 2)
	checkNodeID(n2, c2)
	if b2, err := os.ReadFile(filepath.Join(dir, "node-id")); err != nil || string(b2) != string(b) {
		t.Fatalf("node-id file after restart = %q, %v; want %q", b2, err, b)
	}
	if got, err := c2.Get(ctx, "greeting").Result(); err != nil || got != "hello" {
		t.Fatalf("GET greeting after restart = %q, %v; want hello", got, err)
	}
}

func TestGoRedisProtocols(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := testCtx(t, time.Minute)
			c := newClient(t, n.Addr, proto)
			// go-redis starts every connection with HELLO <proto>; the
			// server records the protocol and the CLIENT SETINFO that follow.
			info, err := c.Do(ctx, "CLIENT", "INFO").Text()
			if err != nil {
				t.Fatalf("CLIENT INFO: %v", err)
			}
			if want := fmt.Sprintf(" resp=%d ", proto); !strings.Contains(info, want) {
				t.Errorf("CLIENT INFO = %q, want it to contain %q", info, want)
			}
			if !strings.Contains(info, "lib-name=go-redis") {
				t.Errorf("CLIENT INFO = %q, want lib-name=go-redis (from CLIENT SETINFO)", info)
			}
			hello, err := c.Do(ctx, "HELLO", proto).Result()
			if err != nil {
				t.Fatalf("HELLO %d: %v", proto, err)
			}
			if got := helloField(t, hello, "proto"); got != int64(proto) {
				t.Errorf("HELLO %d: proto = %v, want %d", proto, got, proto)
			}

			p := fmt.Sprintf("p%d", proto)
			if got, err := c.Set(ctx, p+":a", "1", 0).Result(); err != nil || got != "OK" {
				t.Fatalf("SET = %q, %v; want OK", got, err)
			}
			if got, err := c.Get(ctx, p+":a").Result(); err != nil || got != "1" {
				t.Fatalf("GET = %q, %v; want 1", got, err)
			}
			if got, err := c.Incr(ctx, p+":a").Result(); err != nil || got != 2 {
				t.Fatalf("INCR = %d, %v; want 2", got, err)
			}
			if got, err := c.IncrBy(ctx, p+":a", -5).Result(); err != nil || got != -3 {
				t.Fatalf("INCRBY -5 = %d, %v; want -3", got, err)
			}
			if _, err := c.Get(ctx, p+":missing").Result(); !errors.Is(err, redis.Nil) {
				t.Fatalf("GET missing: err = %v, want redis.Nil", err)
			}
			if got, err := c.MSet(ctx, p+":b", "x", p+":c", "y").Result(); err != nil || got != "OK" {
				t.Fatalf("MSET = %q, %v; want OK", got, err)
			}
			vals, err := c.MGet(ctx, p+":a", p+":missing", p+":b", p+":c").Result()
			if err != nil {
				t.Fatalf("MGET: %v", err)
			}
			want := []any{"-3", nil, "x", "y"}
			if fmt.Sprint(vals) != fmt.Sprint(want) || vals[1] != nil {
				t.Fatalf("MGET = %#v, want %#v", vals, want)
			}
			if got, err := c.Del(ctx, p+":a", p+":b", p+":missing").Result(); err != nil || got != 2 {
				t.Fatalf("DEL = %d, %v; want 2", got, err)
			}
			if got, err := c.Exists(ctx, p+":a", p+":c").Result(); err != nil || got != 1 {
				t.Fatalf("EXISTS = %d, %v; want 1", got, err)
			}
			if err := c.Do(ctx, "NOSUCHCMD").Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command 'NOSUCHCMD'") {
				t.Fatalf("NOSUCHCMD: err = %v, want ERR unknown command", err)
			}
			// The connection is still usable after an error reply.
			if got, err := c.Get(ctx, p+":c").Result(); err != nil || got != "y" {
				t.Fatalf("GET after error = %q, %v; want y", got, err)
			}
		})
	}
}

// helloField returns a field of a HELLO reply, which is a map in RESP3 and
// a flat array in RESP2.
func helloField(t *testing.T, reply any, name string) any {
	t.Helper()
	switch r := reply.(type) {
	case map[any]any:
		return r[name]
	case []any:
		for i := 0; i+1 < len(r); i += 2 {
			if r[i] == name {
				return r[i+1]
			}
		}
	}
	t.Fatalf("HELLO reply %#v has no field %q", reply, name)
	return nil
}

func TestBadFlags(t *testing.T) {
	t.Parallel()
	oneLineError := func(t *testing.T, env []string, args ...string) string {
		t.Helper()
		args = append([]string{"--data-dir", t.TempDir()}, args...)
		stdout, stderr, code := runOnce(t, env, args...)
		if code != 2 {
			t.Errorf("riot-server %q (env %q): exit code %d, want 2", args, env, code)
		}
		if stdout != "" {
			t.Errorf("riot-server %q: stdout = %q, want nothing", args, stdout)
		}
		if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
			t.Errorf("riot-server %q: stderr = %q, want exactly one line", args, stderr)
		}
		if !strings.HasPrefix(stderr, "riot-server: ") {
			t.Errorf("riot-server %q: stderr = %q, want it to start with %q", args, stderr, "riot-server: ")
		}
		return stderr
	}
	t.Run("UnknownFlag", func(t *testing.T) {
		if msg := oneLineError(t, nil, "--no-such-flag"); !strings.Contains(msg, "no-such-flag") {
			t.Errorf("stderr = %q, want it to name the flag", msg)
		}
	})
	t.Run("BadEngine", func(t *testing.T) {
		if msg := oneLineError(t, nil, "--engine", "nope"); !strings.Contains(msg, `"nope"`) {
			t.Errorf("stderr = %q, want it to name the engine", msg)
		}
	})
	t.Run("BadEngineFromEnv", func(t *testing.T) {
		oneLineError(t, []string{"RIOT_ENGINE=nope"})
	})
	t.Run("BadIntFromEnv", func(t *testing.T) {
		if msg := oneLineError(t, []string{"RIOT_MAX_BULK_LEN=abc"}); !strings.Contains(msg, "RIOT_MAX_BULK_LEN") {
			t.Errorf("stderr = %q, want it to name the variable", msg)
		}
	})
	t.Run("ExtraArgument", func(t *testing.T) {
		oneLineError(t, nil, "stray")
	})

	t.Run("AddrFromEnv", func(t *testing.T) {
		t.Parallel()
		n := startSpec(t, spec{dataDir: t.TempDir(), omitAddr: true, env: []string{"RIOT_ADDR=127.0.0.1:0"}})
		if !strings.HasPrefix(n.Addr, "127.0.0.1:") || port(t, n.Addr) == "0" || port(t, n.Addr) == "6379" {
			t.Fatalf("ready addr = %q, want 127.0.0.1 with a picked port (RIOT_ADDR=127.0.0.1:0)", n.Addr)
		}
		if got, err := newClient(t, n.Addr, 2).Ping(testCtx(t, time.Minute)).Result(); err != nil || got != "PONG" {
			t.Fatalf("PING %s = %q, %v; want PONG", n.Addr, got, err)
		}
	})
	t.Run("FlagWinsOverEnv", func(t *testing.T) {
		t.Parallel()
		// Were RIOT_ADDR used, listening would fail and the node exit.
		n := startSpec(t, spec{dataDir: t.TempDir(), env: []string{"RIOT_ADDR=127.0.0.1:notaport"}})
		if !strings.HasPrefix(n.Addr, "127.0.0.1:") || port(t, n.Addr) == "0" {
			t.Fatalf("ready addr = %q, want 127.0.0.1 with a picked port (--addr 127.0.0.1:0)", n.Addr)
		}
		if got, err := newClient(t, n.Addr, 2).Ping(testCtx(t, time.Minute)).Result(); err != nil || got != "PONG" {
			t.Fatalf("PING %s = %q, %v; want PONG", n.Addr, got, err)
		}
	})
}

func TestBadInputKeepsNodeUp(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	ctx := testCtx(t, time.Minute)
	// A client connected before the garbage, and one connected after.
	before := newClient(t, n.Addr, 2)
	if err := before.Set(ctx, "survivor", "1", 0).Err(); err != nil {
		t.Fatalf("SET survivor: %v", err)
	}

	// Reference: Redis answers a malformed request with "-ERR Protocol
	// error: ..." and closes the connection (networking.c).
	cases := []struct{ name, input, want string }{
		{"HugeBulkLen", "*1\r\n$9223372036854775807\r\nabc\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"NegativeBulkLen", "*1\r\n$-3\r\nabc\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"HugeMultibulkLen", "*99999999999\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"NotABulk", "*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"},
		{"UnbalancedQuotes", "SET \"abc\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", n.Addr, 5*time.Second)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(conn, tc.input); err != nil {
				t.Fatalf("write %q: %v", tc.input, err)
			}
			r := bufio.NewReader(conn)
			got, err := r.ReadString('\n')
			if err != nil || got != tc.want {
				t.Fatalf("reply to %q = %q, %v; want %q", tc.input, got, err, tc.want)
			}
			// Then the server closes the connection.
			if rest, err := r.ReadString('\n'); !errors.Is(err, io.EOF) {
				t.Fatalf("after the protocol error read %q, %v; want EOF (connection closed)", rest, err)
			}

			if got, err := before.Incr(ctx, "survivor").Result(); err != nil {
				t.Fatalf("INCR on the other connection: %d, %v", got, err)
			}
		})
	}

	if !n.running() {
		t.Fatalf("riot-server exited after bad input")
	}
	after := newClient(t, n.Addr, 3)
	if got, err := after.Get(ctx, "survivor").Result(); err != nil || got != fmt.Sprint(1+len(cases)) {
		t.Fatalf("GET survivor on a new connection = %q, %v; want %d", got, err, 1+len(cases))
	}
}
