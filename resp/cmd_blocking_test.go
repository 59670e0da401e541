package resp

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// waitBlocked waits until ts reports n blocked clients (INFO clients).
func waitBlocked(t *testing.T, ts *testServer, n int) {
	t.Helper()
	c := dialRaw(t, ts)
	want := "blocked_clients:" + strconv.Itoa(n) + "\r\n"
	deadline := time.Now().Add(ioTimeout)
	for {
		c.send(mbulk("INFO", "clients"))
		got, err := c.reply()
		if err != nil {
			t.Fatalf("INFO clients: %v", err)
		}
		if strings.Contains(string(got), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("INFO clients = %q; want %q", got, want)
		}
		time.Sleep(5 * time.Millisecond) // polling the condition, with the deadline above
	}
}

// clientID returns c's CLIENT ID.
func clientID(t *testing.T, c *rawConn) string {
	t.Helper()
	c.send(mbulk("CLIENT", "ID"))
	got, err := c.reply()
	if err != nil || len(got) < 4 {
		t.Fatalf("CLIENT ID = %q, %v", got, err)
	}
	return strings.TrimSpace(string(got[1:]))
}

// Reference: https://redis.io/docs/latest/commands/blpop/,
// https://redis.io/docs/latest/commands/bzpopmin/ and the other blocking
// commands: with data they answer at once; an empty key waits for the
// timeout (fractional seconds) and answers a null array; argument errors
// as Redis's.
func TestBlockingNoWait(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		c := dialRaw(t, ts)
		nullArray, null, score := "*-1\r\n", "$-1\r\n", "$1\r\n2\r\n"
		if proto == 3 {
			c.send(mbulk("HELLO", "3"))
			if _, err := c.reply(); err != nil {
				t.Fatalf("HELLO 3: %v", err)
			}
			nullArray, null, score = "_\r\n", "_\r\n", ",2\r\n"
		}
		rt := func(want string, args ...string) {
			t.Helper()
			c.roundTrip(mbulk(args...), want)
		}
		rt(":3\r\n", "RPUSH", "l", "a", "b", "c")
		rt(":2\r\n", "ZADD", "z", "1", "x", "2", "y")
		rt("*2\r\n"+bulks("l", "a"), "BLPOP", "none", "l", "0")
		rt("*2\r\n"+bulks("l", "c"), "BRPOP", "l", "0.5")
		rt("$1\r\nb\r\n", "BLMOVE", "l", "d", "LEFT", "RIGHT", "0")
		rt("$1\r\nb\r\n", "BRPOPLPUSH", "d", "l", "0")
		rt("*2\r\n"+bulks("l")+"*1\r\n"+bulks("b"), "BLMPOP", "0", "2", "none", "l", "LEFT", "COUNT", "5")
		rt("*3\r\n"+bulks("z", "y")+score, "BZPOPMAX", "none", "z", "0")
		rt("*2\r\n"+bulks("z")+"*1\r\n*2\r\n"+bulks("x")+strings.Replace(score, "2", "1", 1), "BZMPOP", "0", "1", "z", "MIN")
		start := time.Now()
		for _, args := range [][]string{
			{"BLPOP", "l", "0.05"}, {"BRPOP", "l", "none", ".05"}, {"BLMOVE", "l", "d", "LEFT", "LEFT", "0.05"},
			{"BRPOPLPUSH", "l", "d", "0.05"}, {"BLMPOP", "0.05", "1", "l", "RIGHT"}, {"BZPOPMIN", "z", "0.05"},
			{"BZPOPMAX", "z", "0.05"}, {"BZMPOP", "0.05", "1", "z", "MAX"},
		} {
			rt(nullArray, args...)
		}
		if d := time.Since(start); d < 8*50*time.Millisecond {
			t.Errorf("8 timeouts of 0.05 s took %v", d)
		}
		rt("-ERR timeout is not a float or out of range\r\n", "BLPOP", "l", "abc")
		rt("-ERR timeout is negative\r\n", "BLPOP", "l", "-1")
		rt("-ERR timeout is negative\r\n", "BZPOPMIN", "z", "inf")
		rt("-ERR syntax error\r\n", "BLMOVE", "l", "d", "UP", "LEFT", "abc")
		rt("-ERR timeout is not a float or out of range\r\n", "BLMOVE", "l", "d", "LEFT", "LEFT", "abc")
		rt("-ERR numkeys should be greater than 0\r\n", "BLMPOP", "abc", "0", "l", "LEFT")
		rt("-ERR timeout is not a float or out of range\r\n", "BLMPOP", "abc", "1", "l", "LEFT")
		rt("-ERR syntax error\r\n", "BZMPOP", "0", "1", "z", "UP")
		rt("-ERR wrong number of arguments for 'blpop' command\r\n", "BLPOP", "l")
		rt("+OK\r\n", "SET", "s", "v")
		rt("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "BLPOP", "s", "0")
		// In MULTI they do not block.
		rt("+OK\r\n", "MULTI")
		rt("+QUEUED\r\n", "BLPOP", "l", "0")
		rt("+QUEUED\r\n", "BLMOVE", "l", "d", "LEFT", "LEFT", "0")
		rt("+QUEUED\r\n", "BZPOPMIN", "z", "0")
		c.roundTrip(mbulk("EXEC"), "*3\r\n"+nullArray+null+nullArray)
		rt(":0\r\n", "CLIENT", "UNBLOCK", "12345")
		rt("-ERR value is not an integer or out of range\r\n", "CLIENT", "UNBLOCK", "x")
		rt("-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n", "CLIENT", "UNBLOCK", "1", "x")
	})
}

// A push wakes the client blocked first; the second keeps waiting for the
// next push (first blocked, first served, on one node).
func TestBlockingFIFO(t *testing.T) {
	ts := startServer(t, nil)
	c1, c2, p := dialRaw(t, ts), dialRaw(t, ts), dialRaw(t, ts)
	c1.send(mbulk("BLPOP", "q", "0"))
	waitBlocked(t, ts, 1)
	c2.send(mbulk("BRPOP", "other", "q", "0"))
	waitBlocked(t, ts, 2)
	p.roundTrip(mbulk("RPUSH", "q", "a"), ":1\r\n")
	c1.expect("BLPOP", "*2\r\n"+bulks("q", "a"))
	waitBlocked(t, ts, 1)
	p.roundTrip(mbulk("LLEN", "q"), ":0\r\n")
	p.roundTrip(mbulk("RPUSH", "q", "b", "c"), ":2\r\n")
	c2.expect("BRPOP", "*2\r\n"+bulks("q", "c"))
	waitBlocked(t, ts, 0)
	p.roundTrip(mbulk("LRANGE", "q", "0", "-1"), "*1\r\n"+bulks("b"))
	// A key that turns into a string leaves its client blocked; another
	// database's key of the same name does not wake it.
	c1.send(mbulk("SELECT", "1") + mbulk("BLPOP", "s", "q2", "0"))
	c1.expect("SELECT", "+OK\r\n")
	waitBlocked(t, ts, 1)
	p.send(mbulk("CLIENT", "LIST"))
	if got, err := p.reply(); err != nil || !strings.Contains(string(got), "flags=b ") {
		t.Errorf("CLIENT LIST = %q, %v; want a client with flags=b", got, err)
	}
	p.roundTrip(mbulk("RPUSH", "q2", "db0"), ":1\r\n")
	p.roundTrip(mbulk("SELECT", "1"), "+OK\r\n")
	p.roundTrip(mbulk("SET", "s", "str"), "+OK\r\n")
	time.Sleep(30 * time.Millisecond)
	p.roundTrip(mbulk("RPUSH", "q2", "db1"), ":1\r\n")
	c1.expect("BLPOP", "*2\r\n"+bulks("q2", "db1"))
	c1.roundTrip(mbulk("SELECT", "0"), "+OK\r\n")
	p.roundTrip(mbulk("SELECT", "0"), "+OK\r\n")
	p.roundTrip(mbulk("LLEN", "q2"), ":1\r\n")
	// Sorted sets.
	c1.send(mbulk("BZPOPMIN", "z", "0"))
	waitBlocked(t, ts, 1)
	c2.send(mbulk("BZMPOP", "0", "1", "z", "MAX", "COUNT", "2"))
	waitBlocked(t, ts, 2)
	p.roundTrip(mbulk("ZADD", "z", "1", "m1", "2", "m2", "3", "m3"), ":3\r\n")
	c1.expect("BZPOPMIN", "*3\r\n"+bulks("z", "m1", "1"))
	c2.expect("BZMPOP", "*2\r\n"+bulks("z")+"*2\r\n*2\r\n"+bulks("m3", "3")+"*2\r\n"+bulks("m2", "2"))
}

// CLIENT UNBLOCK ends a wait as a timeout or with an error; CLIENT KILL and
// a disconnect end it without a pop: a later push stays in the list.
func TestBlockingUnblockKill(t *testing.T) {
	ts := startServer(t, nil)
	c, admin := dialRaw(t, ts), dialRaw(t, ts)
	id := clientID(t, c)
	c.send(mbulk("BLMOVE", "q", "d", "LEFT", "LEFT", "0"))
	waitBlocked(t, ts, 1)
	admin.roundTrip(mbulk("CLIENT", "UNBLOCK", id), ":1\r\n")
	c.expect("BLMOVE", "*-1\r\n")
	c.send(mbulk("BZPOPMAX", "z", "0"))
	waitBlocked(t, ts, 1)
	admin.roundTrip(mbulk("CLIENT", "UNBLOCK", id, "ERROR"), ":1\r\n")
	c.expect("BZPOPMAX", "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")
	admin.roundTrip(mbulk("CLIENT", "UNBLOCK", id), ":0\r\n")

	c.send(mbulk("BLPOP", "q", "0"))
	waitBlocked(t, ts, 1)
	admin.roundTrip(mbulk("CLIENT", "KILL", "ID", id), ":1\r\n")
	waitBlocked(t, ts, 0)
	admin.roundTrip(mbulk("RPUSH", "q", "a"), ":1\r\n")

	d := dialRaw(t, ts)
	d.send(mbulk("BLPOP", "q2", "0"))
	waitBlocked(t, ts, 1)
	_ = d.conn.Close()
	waitBlocked(t, ts, 0)
	admin.roundTrip(mbulk("RPUSH", "q2", "a"), ":1\r\n")
	time.Sleep(50 * time.Millisecond) // a wrong pop would have happened by now
	admin.roundTrip(mbulk("LLEN", "q"), ":1\r\n")
	admin.roundTrip(mbulk("LLEN", "q2"), ":1\r\n")
}

// Commands pipelined with a blocking one, sent with it or while it
// waits, run after it, in order.
func TestBlockingPipeline(t *testing.T) {
	ts := startServer(t, nil)
	c, p := dialRaw(t, ts), dialRaw(t, ts)
	c.send(mbulk("SET", "k", "1") + mbulk("BLPOP", "q", "0") + mbulk("INCR", "k") + mbulk("GET", "k"))
	c.expect("SET", "+OK\r\n") // answered before the wait
	waitBlocked(t, ts, 1)
	c.send(mbulk("RPUSH", "q", "mine") + mbulk("LLEN", "q"))
	time.Sleep(50 * time.Millisecond)
	p.roundTrip(mbulk("GET", "k"), "$1\r\n1\r\n") // nothing after BLPOP ran
	p.roundTrip(mbulk("RPUSH", "q", "x"), ":1\r\n")
	c.expect("pipeline", "*2\r\n"+bulks("q", "x"), ":2\r\n", "$1\r\n2\r\n", ":1\r\n", ":1\r\n")
	// Timeouts in a pipeline.
	c.roundTrip(mbulk("BLPOP", "none", "0.02")+mbulk("BRPOP", "q", "0.02")+mbulk("PING"),
		"*-1\r\n", "*2\r\n"+bulks("q", "mine"), "+PONG\r\n")
}

// On a 3-node cluster, clients blocked on every node and one push: exactly
// one of them gets the element; the next pushes serve the others.
func TestBlockingCluster(t *testing.T) {
	servers := startCluster(t, 3, nil)
	conns := make([]*rawConn, 3)
	for i, ts := range servers {
		conns[i] = dialRaw(t, ts)
		conns[i].send(mbulk("BRPOP", "q", "0"))
		waitBlocked(t, ts, 1)
	}
	p := dialRaw(t, servers[1])
	got := map[string]int{}
	for round := range 3 {
		v := "v" + strconv.Itoa(round)
		p.roundTrip(mbulk("LPUSH", "q", v), ":1\r\n")
		// Exactly one client answers.
		deadline := time.Now().Add(ioTimeout)
		answered := -1
		for answered < 0 {
			for i, ts := range servers {
				if conns[i] != nil && blockedCount(t, ts) == 0 {
					answered = i
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no client answered", round)
			}
			time.Sleep(5 * time.Millisecond) // polling, with the deadline above
		}
		conns[answered].expect("BRPOP", "*2\r\n"+bulks("q", v))
		got[v]++
		conns[answered] = nil
		time.Sleep(50 * time.Millisecond) // a second pop would show by now
		p.roundTrip(mbulk("LLEN", "q"), ":0\r\n")
		for i, ts := range servers {
			if want := map[bool]int{true: 1}[conns[i] != nil]; blockedCount(t, ts) != want {
				t.Fatalf("round %d: node %d has %d blocked clients, want %d", round, i, blockedCount(t, ts), want)
			}
		}
	}
}

// blockedCount reads INFO's blocked_clients.
func blockedCount(t *testing.T, ts *testServer) int {
	t.Helper()
	c := dialRaw(t, ts)
	defer c.conn.Close()
	c.send(mbulk("INFO", "clients"))
	got, err := c.reply()
	if err != nil {
		t.Fatalf("INFO: %v", err)
	}
	_, rest, _ := strings.Cut(string(got), "blocked_clients:")
	n, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(rest, "\r\n", 2)[0]))
	return n
}

// Closing the server ends a wait with an error reply; COMMAND INFO flags
// the blocking commands.
func TestBlockingShutdown(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts)
	c.send(mbulk("COMMAND", "INFO", "bzpopmin"))
	if got, err := c.reply(); err != nil || !strings.Contains(string(got), "+write\r\n+blocking\r\n+fast\r\n") ||
		!strings.Contains(string(got), "+@blocking\r\n") {
		t.Errorf("COMMAND INFO bzpopmin = %q, %v", got, err)
	}
	c.send(mbulk("BLPOP", "q", "0"))
	waitBlocked(t, ts, 1)
	done := make(chan error, 1)
	go func() { done <- ts.close() }()
	c.expect("BLPOP", "-ERR server is shutting down\r\n")
	if err := <-done; err != nil {
		t.Errorf("close: %v", err)
	}
}
