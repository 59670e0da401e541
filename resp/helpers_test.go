package resp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/raftkv/raftkvtest"
	"github.com/riotkv/riot/respwire"
	"github.com/riotkv/riot/storage"
)

// ioTimeout bounds every read and write a test makes, so that a broken
// server fails the test instead of hanging it.
const ioTimeout = 10 * time.Second

// testServer is an in-process riot: a memory engine, a one-node raft
// cluster, a Router and a resp.Server on a free port.
type testServer struct {
	*Server
	addr string

	closeOnce sync.Once
	closeErr  error
	served    chan error
}

// startServer starts a server and closes it when the test ends.
// configure, when not nil, adjusts the Config before NewServer.
func startServer(tb testing.TB, configure func(*Config)) *testServer {
	tb.Helper()
	ts, _ := startServerEngine(tb, configure)
	return ts
}

// startServerEngine is startServer that also returns the storage engine,
// for tests that plant values no command can write.
func startServerEngine(tb testing.TB, configure func(*Config)) (*testServer, storage.Engine) {
	tb.Helper()
	eng := storage.NewMemory()
	tb.Cleanup(func() {
		if err := eng.Close(); err != nil {
			tb.Errorf("close engine: %v", err)
		}
	})
	return startServerOn(tb, eng, configure), eng
}

// startServerOn is startServer over eng.
func startServerOn(tb testing.TB, eng storage.Engine, configure func(*Config)) *testServer {
	tb.Helper()
	node := startNode(tb, eng)
	router, err := cluster.New(cluster.DefaultConfig(), node)
	if err != nil {
		tb.Fatalf("cluster.New: %v", err)
	}
	return serve(tb, router, configure)
}

// serve starts a Server for backend on a free port (its Config adjusted by
// configure) and closes it when the test ends.
func serve(tb testing.TB, backend Backend, configure func(*Config)) *testServer {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Version = "test"
	if configure != nil {
		configure(&cfg)
	}
	srv, err := NewServer(cfg, backend)
	if err != nil {
		tb.Fatalf("NewServer(%+v): %v", cfg, err)
	}
	if err := srv.Listen(); err != nil {
		tb.Fatalf("Listen: %v", err)
	}
	ts := &testServer{Server: srv, addr: srv.Addr().String(), served: make(chan error, 1)}
	go func() { ts.served <- srv.Serve() }()
	tb.Cleanup(func() {
		if err := ts.close(); err != nil {
			tb.Errorf("close server: %v", err)
		}
	})
	return ts
}

// startNode starts a bootstrapped one-node raft cluster over eng. For a
// fuzz target it discards raft's logs: raftkvtest.SingleNode logs through
// t.Log from raft's goroutines, and an F's methods must not be called (they
// race with, then panic in) while the fuzz function runs.
func startNode(tb testing.TB, eng storage.Engine) *raftkv.Node {
	tb.Helper()
	if _, fuzz := tb.(*testing.F); !fuzz {
		return raftkvtest.SingleNode(tb, eng)
	}
	c := raftkvtest.Config(tb, "node1")
	c.Logger = slog.New(slog.DiscardHandler)
	c.Bootstrap = true
	n, err := raftkv.Open(c, eng)
	if err != nil {
		tb.Fatalf("open node: %v", err)
	}
	tb.Cleanup(func() {
		if err := n.Close(); err != nil {
			tb.Errorf("close node: %v", err)
		}
	})
	raftkvtest.WaitLeader(tb, n)
	raftkvtest.WaitSecret(tb, n)
	return n
}

// close closes the server once and reports Close's and Serve's errors.
func (ts *testServer) close() error {
	ts.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		err := ts.Close(ctx)
		select {
		case serr := <-ts.served:
			if err == nil && serr != nil {
				err = fmt.Errorf("Serve: %w", serr)
			}
		case <-time.After(ioTimeout):
			if err == nil {
				err = errors.New("Serve did not return after Close")
			}
		}
		ts.closeErr = err
	})
	return ts.closeErr
}

// newClient returns a go-redis client for ts speaking RESP proto, without
// retries so that every error shows.
func newClient(tb testing.TB, ts *testServer, proto int, configure ...func(*redis.Options)) *redis.Client {
	tb.Helper()
	opt := &redis.Options{
		Addr:         ts.addr,
		Protocol:     proto,
		DialTimeout:  ioTimeout,
		ReadTimeout:  ioTimeout,
		WriteTimeout: ioTimeout,
		MaxRetries:   -1,
	}
	for _, f := range configure {
		f(opt)
	}
	rdb := redis.NewClient(opt)
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// forEachProto runs f as a subtest for RESP2 and for RESP3.
func forEachProto(t *testing.T, f func(t *testing.T, proto int)) {
	t.Helper()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) { f(t, proto) })
	}
}

// testCtx returns a context that ends with the test or after ioTimeout.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), ioTimeout)
	t.Cleanup(cancel)
	return ctx
}

// wantErr fails unless err's text is exactly want.
func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Errorf("%s: err = %v, want %q", what, err, want)
	}
}

// wantVal fails unless a command succeeded with want.
func wantVal[V comparable](t *testing.T, what string, got V, err error, want V) {
	t.Helper()
	if err != nil || got != want {
		t.Errorf("%s = %v, %v; want %v", what, got, err, want)
	}
}

// mustSet sets key to val and fails the test if it cannot.
func mustSet(ctx context.Context, t *testing.T, c redis.Cmdable, key, val string) {
	t.Helper()
	if err := c.Set(ctx, key, val, 0).Err(); err != nil {
		t.Fatalf("SET %q %q: %v", key, val, err)
	}
}

// newReplyReader buffers a connection for respwire.ReadReplyStrict, which
// checks that the server answers with well-formed replies.
func newReplyReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(c, 64<<10) }

// mbulk encodes args as one RESP multibulk request, the way clients send
// commands.
func mbulk(args ...string) string { return string(respwire.AppendRequest(nil, toArgs(args)...)) }

func toArgs(ss []string) [][]byte {
	if ss == nil {
		return nil
	}
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// rawConn is a plain TCP connection to the server, for exact bytes.
type rawConn struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t testing.TB, ts *testServer) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", ts.addr, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", ts.addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, conn: c, r: newReplyReader(c)}
}

// dialRawProto is dialRaw on a connection that speaks RESP proto (2, or
// 3 after HELLO 3).
func dialRawProto(t testing.TB, ts *testServer, proto int) *rawConn {
	t.Helper()
	c := dialRaw(t, ts)
	if proto == 3 {
		c.send(mbulk("HELLO", "3"))
		if _, err := c.reply(); err != nil {
			t.Fatalf("HELLO 3: %v", err)
		}
	}
	return c
}

func (c *rawConn) send(s string) {
	c.t.Helper()
	_ = c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("write %.80q: %v", s, err)
	}
}

// reply reads one well-formed reply.
func (c *rawConn) reply() ([]byte, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	return respwire.ReadReplyStrict(c.r)
}

// expect reads one reply per element of want and compares the bytes.
func (c *rawConn) expect(sent string, want ...string) {
	c.t.Helper()
	for i, w := range want {
		got, err := c.reply()
		if err != nil || string(got) != w {
			c.t.Fatalf("after sending %.200q: reply %d = %.200q, err=%v; want %.200q", sent, i, got, err, w)
		}
	}
}

// roundTrip sends s and expects the replies want.
func (c *rawConn) roundTrip(s string, want ...string) {
	c.t.Helper()
	c.send(s)
	c.expect(s, want...)
}

// expectClosed checks that the server closed the connection without
// sending anything more.
func (c *rawConn) expectClosed(sent string) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	got, err := respwire.ReadReplyStrict(c.r)
	if !isClosed(err) {
		c.t.Fatalf("after sending %.200q: read %q, err=%v; want the connection closed", sent, got, err)
	}
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// exchange is one request and the reply expected for it, as replyText
// prints what go-redis returns.
type exchange struct {
	args []string
	want string
}

// ex builds an exchange: the request's words, then the reply.
func ex(want string, args ...string) exchange { return exchange{args: args, want: want} }

// replyText prints a go-redis result: "(nil)" for a null, the error's
// text for an error reply, else the value with %v.
func replyText(v any, err error) string {
	switch {
	case errors.Is(err, redis.Nil):
		return "(nil)"
	case err != nil:
		return err.Error()
	}
	return fmt.Sprint(v)
}

// runExchanges sends each request in turn and checks its reply.
func runExchanges(ctx context.Context, t *testing.T, rdb *redis.Client, steps []exchange) {
	t.Helper()
	for _, s := range steps {
		args := make([]any, len(s.args))
		for i, a := range s.args {
			args[i] = a
		}
		if got := replyText(rdb.Do(ctx, args...).Result()); got != s.want {
			t.Errorf("%q = %q, want %q", s.args, got, s.want)
		}
	}
}

// putForeignType stores key as a value of a type riot does not implement
// (a stream), straight into the engine: kv.DataKey's record holds the type
// byte, flags, payload (kv/keys.go).
func putForeignType(tb testing.TB, eng storage.Engine, key string) {
	tb.Helper()
	var b storage.Batch
	b.Put(kv.DataKey([]byte(key)), []byte{'x', 0, 'x'})
	if err := eng.Write(&b); err != nil {
		tb.Fatalf("plant %q: %v", key, err)
	}
}
