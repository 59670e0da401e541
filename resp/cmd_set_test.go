package resp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// bulks encodes members as the bulk strings of an array or set reply.
func bulks(members ...string) string {
	var b strings.Builder
	for _, m := range members {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(m), m)
	}
	return b.String()
}

// Reference: https://redis.io/docs/latest/commands/?group=set. Redis
// leaves the order of a set's members unspecified; riot replies in byte
// order ("-5" < "1" < "10" < "2"), a set in RESP3 (SMEMBERS, SINTER,
// SUNION, SDIFF, SPOP with a count) as Redis 7.0 does.
func TestSetReplies(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		c := dialRaw(t, ts)
		set, null := "*", "$-1\r\n"
		if proto == 3 {
			c.send(mbulk("HELLO", "3"))
			if _, err := c.reply(); err != nil {
				t.Fatalf("HELLO 3: %v", err)
			}
			set, null = "~", "_\r\n"
		}
		rt := func(want string, args ...string) {
			t.Helper()
			c.roundTrip(mbulk(args...), want)
		}
		rt(":5\r\n", "SADD", "s", "3", "1", "2", "10", "-5")
		rt(set+"5\r\n"+bulks("-5", "1", "10", "2", "3"), "SMEMBERS", "s")
		rt(":4\r\n", "SADD", "t", "2", "b", "a", "10")
		rt(set+"2\r\n"+bulks("10", "2"), "SINTER", "s", "t")
		rt(set+"7\r\n"+bulks("-5", "1", "10", "2", "3", "a", "b"), "SUNION", "t", "s")
		rt(set+"3\r\n"+bulks("-5", "1", "3"), "SDIFF", "s", "t")
		rt(set+"0\r\n", "SINTER", "s", "nosuch")
		rt(":2\r\n", "SINTERCARD", "2", "s", "t")
		rt("*3\r\n:1\r\n:0\r\n:1\r\n", "SMISMEMBER", "t", "a", "c", "b")
		rt(":2\r\n", "SDIFFSTORE", "d", "t", "s")
		rt(set+"2\r\n"+bulks("a", "b"), "SMEMBERS", "d")
		rt("*2\r\n$1\r\n0\r\n*5\r\n"+bulks("-5", "1", "10", "2", "3"), "SSCAN", "s", "0")
		rt(":1\r\n", "SADD", "one", "x")
		rt(set+"1\r\n"+bulks("x"), "SPOP", "one", "5")
		rt(null, "SPOP", "one")
		rt(set+"0\r\n", "SPOP", "one", "0")
		rt(":1\r\n", "SADD", "solo", "x")
		rt("*2\r\n"+bulks("x", "x"), "SRANDMEMBER", "solo", "-2")
		rt("*1\r\n"+bulks("x"), "SRANDMEMBER", "solo", "2")
		rt("*0\r\n", "SRANDMEMBER", "nosuch", "2")
	})
}

// Reference: https://redis.io/docs/latest/commands/object-encoding/ (a
// set of integers within set-max-intset-entries is an intset, any other a
// hashtable). Riot derives it from the contents: a set whose non-integer
// members are removed is an intset again (Redis never converts back).
func TestSetObjectEncoding(t *testing.T) {
	ts := startServer(t, nil)
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	enc := func(key, want string) {
		t.Helper()
		got, err := rdb.ObjectEncoding(ctx, key).Result()
		wantVal(t, "OBJECT ENCODING "+key, got, err, want)
	}
	rdb.SAdd(ctx, "s", 1, 2, -3, "9223372036854775807")
	enc("s", "intset")
	rdb.SAdd(ctx, "s", "a")
	enc("s", "hashtable")
	rdb.SRem(ctx, "s", "a")
	enc("s", "intset")
	for _, m := range []string{"-0", "007", "1.5", " 1", "9223372036854775808", ""} {
		rdb.Del(ctx, "n")
		rdb.SAdd(ctx, "n", m)
		enc("n", "hashtable")
	}
	ints := make([]any, 512)
	for i := range ints {
		ints[i] = i
	}
	rdb.SAdd(ctx, "big", ints...)
	enc("big", "intset")
	rdb.SAdd(ctx, "big", 512)
	enc("big", "hashtable")
	if err := rdb.ConfigSet(ctx, "set-max-intset-entries", "1000").Err(); err != nil {
		t.Fatal(err)
	}
	enc("big", "intset")
	if err := rdb.ConfigSet(ctx, "set-max-intset-entries", "3").Err(); err != nil {
		t.Fatal(err)
	}
	enc("s", "hashtable")
	rdb.SRem(ctx, "s", 1)
	enc("s", "intset")
}

// Reference: https://redis.io/docs/latest/commands/sscan/ (an intset is
// returned whole with cursor 0, as Redis does, whatever COUNT; a
// hashtable set is paged, each member returned once)
func TestSScan(t *testing.T) {
	ts := startServer(t, nil)
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	ints := make([]any, 100)
	for i := range ints {
		ints[i] = i
	}
	rdb.SAdd(ctx, "ints", ints...)
	keys, cursor, err := rdb.SScan(ctx, "ints", 0, "", 5).Result()
	if err != nil || cursor != 0 || len(keys) != 100 {
		t.Errorf("SSCAN of a 100-integer intset = %d members, cursor %d, %v; want all, 0", len(keys), cursor, err)
	}
	keys, cursor, err = rdb.SScan(ctx, "ints", 0, "9*", 5).Result()
	if err != nil || cursor != 0 || len(keys) != 11 {
		t.Errorf("SSCAN MATCH 9* of the intset = %q, cursor %d, %v; want 11 members, 0", keys, cursor, err)
	}
	want := make([]string, 700)
	members := make([]any, len(want))
	for i := range want {
		want[i] = "m" + strconv.Itoa(i)
		members[i] = want[i]
	}
	rdb.SAdd(ctx, "big", members...)
	var got []string
	pages := 0
	for cursor = 0; ; pages++ {
		var page []string
		page, cursor, err = rdb.SScan(ctx, "big", cursor, "", 10).Result()
		if err != nil || pages > 1000 {
			t.Fatalf("SSCAN page %d: %v", pages, err)
		}
		got = append(got, page...)
		if cursor == 0 {
			break
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || pages < 10 {
		t.Errorf("SSCAN COUNT 10 of 700 members: %d members in %d pages; want each of the 700 once, in pages", len(got), pages)
	}
}

// TestSPopReplicated: SPOP draws its members on the node that proposes
// it; every replica removes the same ones.
func TestSPopReplicated(t *testing.T) {
	servers := startCluster(t, 3, nil)
	ctx := testCtx(t)
	clients := make([]*redis.Client, len(servers))
	for i, ts := range servers {
		clients[i] = newClient(t, ts, 2)
	}
	members := make([]any, 200)
	for i := range members {
		members[i] = "m" + strconv.Itoa(i)
	}
	if err := clients[0].SAdd(ctx, "s", members...).Err(); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		if _, err := c.SPopN(ctx, "s", int64(10+i)).Result(); err != nil {
			t.Fatalf("SPOP through node %d: %v", i, err)
		}
		if _, err := c.SPop(ctx, "s").Result(); err != nil {
			t.Fatalf("SPOP through node %d: %v", i, err)
		}
	}
	// Each node answers a (linearizable) read from its own state machine.
	var first []string
	for i, c := range clients {
		got, err := c.SMembers(ctx, "s").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 200-33-3 {
			t.Errorf("node %d: %d members after popping 36, want 164", i, len(got))
		}
		if i == 0 {
			first = got
		} else if !slices.Equal(got, first) {
			t.Errorf("node %d's set differs from node 0's:\n%q\n%q", i, got, first)
		}
	}
}

// Reference: https://redis.io/docs/latest/commands/sintercard/ (numkeys
// makes its keys movable: COMMAND INFO says so, and the keys a MULTI
// reads are the numkeys after it)
func TestSInterCardKeys(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts)
	rt := func(want string, args ...string) {
		t.Helper()
		c.roundTrip(mbulk(args...), want)
	}
	rt(":3\r\n", "SADD", "a", "1", "2", "3")
	rt(":2\r\n", "SADD", "b", "2", "3")
	rt("+OK\r\n", "MULTI")
	rt("+QUEUED\r\n", "SINTERCARD", "2", "a", "b", "LIMIT", "1")
	rt("+QUEUED\r\n", "SINTERCARD", "2", "a", "b")
	rt("+QUEUED\r\n", "SADD", "b", "1")
	rt("+QUEUED\r\n", "SINTERCARD", "2", "b", "a")
	rt("+QUEUED\r\n", "SINTERCARD", "5", "a")
	rt("*5\r\n:1\r\n:2\r\n:1\r\n:3\r\n-ERR Number of keys can't be greater than number of args\r\n", "EXEC")
	c.send(mbulk("COMMAND", "INFO", "sintercard"))
	info, err := c.reply()
	if err != nil || !strings.Contains(string(info), "+movablekeys\r\n:0\r\n:0\r\n:0\r\n") {
		t.Errorf("COMMAND INFO sintercard = %q, %v; want movablekeys and key positions 0 0 0", info, err)
	}
}

// Reference: https://redis.io/docs/latest/develop/interact/transactions/
// (t_set.c signals a key only when the command changed it: SADD of a
// member already there, SREM of one that is not, SMOVE onto the source
// leave a WATCH alone)
func TestSetWatch(t *testing.T) {
	ts := startServer(t, nil)
	c, other := dialRaw(t, ts), dialRaw(t, ts)
	rt := func(c *rawConn, want string, args ...string) {
		t.Helper()
		c.roundTrip(mbulk(args...), want)
	}
	rt(c, ":2\r\n", "SADD", "s", "a", "b")
	for _, noop := range []struct {
		reply string
		args  []string
	}{
		{":0\r\n", []string{"SADD", "s", "a"}}, {":0\r\n", []string{"SREM", "s", "x"}},
		{":1\r\n", []string{"SMOVE", "s", "s", "a"}}, {":0\r\n", []string{"SMOVE", "s", "d", "x"}},
		{"*0\r\n", []string{"SPOP", "s", "0"}}, {":0\r\n", []string{"SINTERSTORE", "s2", "nosuch"}},
	} {
		rt(c, "+OK\r\n", "WATCH", "s")
		rt(other, noop.reply, noop.args...)
		rt(c, "+OK\r\n", "MULTI")
		rt(c, "+QUEUED\r\n", "SCARD", "s")
		rt(c, "*1\r\n:2\r\n", "EXEC")
	}
	rt(c, "+OK\r\n", "WATCH", "s")
	rt(other, ":1\r\n", "SADD", "s", "c")
	rt(c, "+OK\r\n", "MULTI")
	rt(c, "+QUEUED\r\n", "SCARD", "s")
	rt(c, "*-1\r\n", "EXEC")
}
