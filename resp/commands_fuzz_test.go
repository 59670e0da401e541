package resp

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/riotkv/riot/respwire"
)

// fuzzMaxBulk is FuzzCommands's MaxBulkLen: small, so that the fuzzer can
// reach the limit.
const fuzzMaxBulk = 4096

// changesServer reports whether a request (its command and first argument)
// changes the server for the inputs after it: CLIENT KILL closes other
// connections (the control one), CONFIG SET changes the limits the fuzz
// targets rely on. TestClientKill and TestConfigSet cover them.
func changesServer(args [][]byte) bool {
	return len(args) >= 2 && (bytes.EqualFold(args[0], []byte("client")) && bytes.EqualFold(args[1], []byte("kill")) ||
		bytes.EqualFold(args[0], []byte("config")) && bytes.EqualFold(args[1], []byte("set")))
}

// blockingCmd reports whether args is a blocking command (BLPOP ...),
// which may wait for data no input pushes.
func blockingCmd(args [][]byte) bool {
	switch strings.ToLower(string(args[0])) {
	case "blpop", "brpop", "blmove", "brpoplpush", "blmpop", "bzpopmin", "bzpopmax", "bzmpop":
		return true
	}
	return false
}

// unblockUntilReply reads the reply to a blocking command sent on c
// (client id), unblocking it through ctl (CLIENT UNBLOCK) if it waits.
func unblockUntilReply(t *testing.T, c, ctl *rawConn, id string) ([]byte, error) {
	t.Helper()
	for range 200 {
		_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		if _, err := c.r.Peek(1); err == nil {
			return c.reply()
		}
		ctl.send(mbulk("CLIENT", "UNBLOCK", id))
		if _, err := ctl.reply(); err != nil {
			return nil, err
		}
	}
	return c.reply()
}

// fuzzArgs splits a fuzz input into arguments at 0x00 bytes, at most 16.
func fuzzArgs(in []byte) [][]byte {
	return bytes.SplitN(in, []byte{0}, 16)
}

// FuzzCommands sends each input, split into arguments at 0x00 bytes, as
// one multibulk request followed by a PING, to an in-process server (one
// per fuzz run, a connection per input). The server must answer with
// exactly one well-formed reply, then PONG (or close the connection after
// QUIT or a protocol error), and keep serving other connections.
// Seeds: testdata/fuzz/FuzzCommands.
func FuzzCommands(f *testing.F) {
	ts := startServer(f, func(c *Config) { c.MaxBulkLen = fuzzMaxBulk })
	control := dialRaw(f, ts)
	f.Add([]byte("SET\x00k\x00v"))
	for _, seed := range []string{
		"SET\x00k\x00v\x00EX\x0010\x00GET", "GETEX\x00k\x00PERSIST", "EXPIRE\x00k\x0010\x00GT",
		"SCAN\x000\x00MATCH\x00*a[b-\x00COUNT\x002", "KEYS\x00[^a-", "INCRBYFLOAT\x00f\x000x1p-3",
		"SETRANGE\x00k\x004090\x00xxxxxxxx", "SETBIT\x00k\x0032767\x001", "BITCOUNT\x00k\x00-3\x00-1\x00BIT",
		"OBJECT\x00ENCODING\x00k", "COPY\x00k\x00j\x00DB\x000\x00REPLACE", "FLUSHALL\x00ASYNC", "MSETNX\x00a\x001",
		"MULTI", "EXEC", "WATCH\x00k\x00k", "DISCARD", "UNWATCH",
		"HSET\x00h\x00f\x00v", "HINCRBYFLOAT\x00h\x00f\x001e308", "HRANDFIELD\x00h\x00-5\x00WITHVALUES", "HSCAN\x00h\x000\x00NOVALUES",
		"SADD\x00s\x001\x00x", "SPOP\x00s\x002", "SINTERCARD\x002\x00s\x00h\x00LIMIT\x001", "SMOVE\x00s\x00t\x001",
		"ZADD\x00z\x00GT\x00CH\x001\x00a\x00-inf\x00b", "ZRANGE\x00z\x00(1\x00+inf\x00BYSCORE\x00REV\x00LIMIT\x000\x001\x00WITHSCORES",
		"ZRANGESTORE\x00d\x00z\x00[a\x00+\x00BYLEX", "ZMPOP\x002\x00z\x00s\x00MAX\x00COUNT\x003",
		"ZUNIONSTORE\x00d\x002\x00z\x00s\x00WEIGHTS\x002\x00-1\x00AGGREGATE\x00MIN", "ZRANDMEMBER\x00z\x00-3\x00WITHSCORES",
		"RPUSH\x00l\x00a\x00b\x00a", "LPOP\x00l\x002", "LRANGE\x00l\x00-2\x00-1", "LSET\x00l\x00-1\x00x",
		"LPOS\x00l\x00a\x00RANK\x00-1\x00COUNT\x000\x00MAXLEN\x005", "LINSERT\x00l\x00BEFORE\x00b\x00n",
		"LMOVE\x00l\x00m\x00RIGHT\x00LEFT", "LMPOP\x002\x00s\x00l\x00LEFT\x00COUNT\x002", "LTRIM\x00l\x001\x00-1",
		"BITPOS\x00k\x000\x00-2\x00-1\x00BIT", "BITOP\x00XOR\x00d\x00k\x00j", "BITOP\x00NOT\x00d\x00k",
		"BITFIELD\x00k\x00OVERFLOW\x00SAT\x00INCRBY\x00i5\x00#3\x00-100\x00GET\x00u63\x000\x00SET\x00i64\x0032700\x00-1",
		"BITFIELD_RO\x00k\x00GET\x00i8\x00#2",
		"SORT\x00l\x00BY\x00w_*\x00GET\x00#\x00GET\x00h_*->f\x00LIMIT\x000\x002\x00STORE\x00d", "SORT_RO\x00s\x00ALPHA\x00DESC",
		"SAVE", "BGSAVE\x00SCHEDULE", "LASTSAVE", "SHUTDOWN\x00NOSAVE\x00ABORT", "SHUTDOWN\x00SAVE", "INFO\x00everything",
		"BLPOP\x00e\x00l\x000", "BRPOP\x00l\x000.01", "BLMOVE\x00l\x00m\x00LEFT\x00RIGHT\x00.5", "BRPOPLPUSH\x00e\x00m\x000x1p-4",
		"BLMPOP\x000\x002\x00e\x00l\x00RIGHT\x00COUNT\x002", "BZPOPMIN\x00z\x00e\x000", "BZPOPMAX\x00z\x001e-3",
		"BZMPOP\x00-0\x001\x00z\x00MAX", "CLIENT\x00UNBLOCK\x001\x00ERROR",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		args := fuzzArgs(in)
		if changesServer(args) {
			t.Skip("CLIENT KILL and CONFIG SET change the server for later inputs")
		}
		tooBig := false
		for _, a := range args {
			tooBig = tooBig || len(a) > fuzzMaxBulk
		}
		req := string(respwire.AppendRequest(nil, args...)) + mbulk("PING")
		c := dialRaw(t, ts)
		ctl := &rawConn{t: t, conn: control.conn, r: control.r}
		var first []byte
		var err error
		if blockingCmd(args) && !tooBig {
			id := clientID(t, c)
			c.send(req)
			first, err = unblockUntilReply(t, c, ctl, id)
		} else {
			c.send(req)
			first, err = c.reply()
		}
		if err != nil {
			t.Fatalf("request %q: reading the reply: %v", args, err)
		}
		switch {
		case tooBig:
			if want := "-ERR Protocol error: invalid bulk length\r\n"; string(first) != want {
				t.Fatalf("request %q with a bulk over %d bytes: reply %q, want %q", args, fuzzMaxBulk, first, want)
			}
			c.expectClosed(req)
		case bytes.HasPrefix(first, []byte("-ERR Protocol error")):
			t.Fatalf("request %q: reply %q, a protocol error for a valid request", args, first)
		case bytes.EqualFold(args[0], []byte("quit")):
			if string(first) != "+OK\r\n" {
				t.Fatalf("request %q: reply %q, want +OK", args, first)
			}
			c.expectClosed(req)
		case bytes.EqualFold(args[0], []byte("multi")) && string(first) == "+OK\r\n":
			c.expect(req, "+QUEUED\r\n") // the PING is queued in the transaction
		default:
			c.expect(req, "+PONG\r\n")
		}
		ctl.roundTrip("PING\r\n", "+PONG\r\n")
	})
}

// streamReplies returns how many replies a server owes for the byte stream
// in, using the parser as the model: one per non-empty request up to the
// first incomplete one, QUIT or protocol error (which gets a reply too);
// and whether one of the requests it runs changes the server
// (changesServer).
func streamReplies(in []byte) (n int, protoErr, changes bool) {
	for len(in) > 0 {
		args, m, _, err := respwire.ParseRequest(in, respwire.Limits{MaxBulk: fuzzMaxBulk, MaxArgs: respwire.MaxMultibulkLen})
		if errors.Is(err, respwire.ErrIncomplete) {
			return n, false, changes
		}
		if err != nil {
			return n + 1, true, changes
		}
		in = in[m:]
		if len(args) > 0 {
			n++
			// A blocking command that waits in a stream whose write side
			// is closed gets no reply (the client is gone): skipped too.
			changes = changes || changesServer(args) || blockingCmd(args)
			if bytes.EqualFold(args[0], []byte("quit")) {
				return n, false, changes
			}
		}
	}
	return n, false, changes
}

// FuzzServerStream writes each input as raw bytes to a connection and
// closes its write side. The server must send exactly the replies the
// parser says it owes, all well-formed, a protocol error only last, and
// then close; other connections keep working.
// Seeds: testdata/fuzz/FuzzServerStream.
func FuzzServerStream(f *testing.F) {
	ts := startServer(f, func(c *Config) { c.MaxBulkLen = fuzzMaxBulk })
	control := dialRaw(f, ts)
	f.Add([]byte("PING\r\n" + mbulk("SET", "k", "v") + "*1\r\nx"))
	// Only a request that is CLIENT KILL or CONFIG SET is skipped; the
	// words elsewhere are data like any other.
	f.Add([]byte(mbulk("SET", "kill", "config set") + "ECHO client kill\r\n" + mbulk("CONFIG", "GET", "maxclients")))
	f.Fuzz(func(t *testing.T, in []byte) {
		want, protoErr, changes := streamReplies(in)
		if changes {
			t.Skip("CLIENT KILL and CONFIG SET change the server for later inputs; a blocking command may wait")
		}
		c := dialRaw(t, ts)
		written := make(chan error, 1)
		go func() {
			_ = c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
			_, err := c.conn.Write(in)
			if err == nil {
				err = c.conn.(*net.TCPConn).CloseWrite()
			}
			written <- err
		}()
		var got [][]byte
		for {
			r, err := c.reply()
			if isClosed(err) {
				break
			}
			if err != nil {
				t.Fatalf("stream %q: reply %d (after %q): %v", in, len(got), got, err)
			}
			got = append(got, r)
		}
		if err := <-written; err != nil && len(got) < want {
			t.Fatalf("stream %q: write: %v (replies %q)", in, err, got)
		}
		if len(got) != want {
			t.Fatalf("stream %q: got %d replies %q, want %d", in, len(got), got, want)
		}
		for i, r := range got {
			isProto := bytes.HasPrefix(r, []byte("-ERR Protocol error: "))
			if isProto != (protoErr && i == len(got)-1) {
				t.Fatalf("stream %q: reply %d is %q; a protocol error expected: %v (only as the last reply)", in, i, r, protoErr)
			}
		}
		ctl := &rawConn{t: t, conn: control.conn, r: control.r}
		ctl.roundTrip("PING\r\n", "+PONG\r\n")
	})
}
