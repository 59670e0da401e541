package resp

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Sorted set commands through a server. The replies' bytes are compared
// with redis-server's in diff_zset_test.go; these tests check what a
// differential test cannot: random picks, ZSCAN's cursor over a large set,
// writes forwarded by a follower, keys of other types riot does not
// implement, the command table.

// Reference: https://redis.io/docs/latest/commands/zadd/, zrange, zpopmin,
// zmpop, zrangestore
func TestZSetCommands(t *testing.T) {
	ts := startServer(t, nil)
	forEachProto(t, func(t *testing.T, proto int) {
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		withScores := "[a 1 b 2 c 3]"
		popped := "[b 2]"
		if proto == 3 {
			withScores = "[[a 1] [b 2] [c 3]]"
			popped = "[[b 2]]"
		}
		runExchanges(ctx, t, rdb, []exchange{
			ex("3", "ZADD", "z", "1", "a", "2", "b", "3", "c"),
			ex("3", "ZCARD", "z"),
			ex(withScores, "ZRANGE", "z", "0", "-1", "WITHSCORES"),
			ex("[c b]", "ZRANGE", "z", "+inf", "(1", "BYSCORE", "REV"),
			ex("2.5", "ZINCRBY", "z", "0.5", "b"),
			ex("1", "ZRANK", "z", "b"),
			ex("(nil)", "ZRANK", "z", "nosuch"),
			ex("2", "ZRANGESTORE", "d", "z", "1", "2"),
			ex("[b c]", "ZRANGE", "d", "0", "-1"),
			ex("[a 1]", "ZPOPMIN", "z"),
			ex("[z [[c 3]]]", "ZMPOP", "2", "nosuch", "z", "MAX"),
			ex("(nil)", "ZMPOP", "1", "nosuch", "MIN"),
			ex(strings.Replace(popped, "2", "2.5", 1), "ZPOPMAX", "z", "5"),
			ex("0", "EXISTS", "z"),
			ex("ERR min or max is not a float", "ZCOUNT", "d", "x", "1"),
			ex("ERR min or max not valid string range item", "ZLEXCOUNT", "d", "x", "+"),
			ex("ERR XX and NX options at the same time are not compatible", "ZADD", "d", "NX", "XX", "1", "a"),
			ex("ERR INCR option supports a single increment-element pair", "ZADD", "d", "INCR", "1", "a", "2", "b"),
		})
		// inf then -inf: NaN, nothing written.
		inf := "inf"
		if proto == 3 {
			inf = "+Inf" // go-redis reads a RESP3 double as a float64
		}
		runExchanges(ctx, t, rdb, []exchange{
			ex(inf, "ZINCRBY", "d", "+inf", "b"),
			ex("ERR resulting score is not a number (NaN)", "ZINCRBY", "d", "-inf", "b"),
			ex(inf, "ZSCORE", "d", "b"),
		})
	})
}

// A key of a type riot does not implement is WRONGTYPE to every sorted
// set command, after the arguments are checked.
func TestZSetForeignType(t *testing.T) {
	ts, eng := startServerEngine(t, nil)
	putForeignType(t, eng, "l")
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	wrong := "WRONGTYPE Operation against a key holding the wrong kind of value"
	runExchanges(ctx, t, rdb, []exchange{
		ex(wrong, "ZADD", "l", "1", "a"),
		ex("ERR value is not a valid float", "ZADD", "l", "x", "a"),
		ex(wrong, "ZRANGE", "l", "0", "-1"),
		ex(wrong, "ZSCORE", "l", "a"),
		ex(wrong, "ZPOPMIN", "l"),
		ex(wrong, "ZRANGESTORE", "d", "l", "0", "-1"),
		ex("1", "ZADD", "z", "1", "a"),
		ex("1", "ZRANGESTORE", "l", "z", "0", "-1"), // any type is replaced
		ex("zset", "TYPE", "l"),
	})
}

// Reference: https://redis.io/docs/latest/commands/zrandmember/ (a
// positive count gives distinct members, at most the whole set; a
// negative one exactly that many, repeats allowed)
func TestZRandMember(t *testing.T) {
	ts := startServer(t, nil)
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	scores := map[string]float64{}
	args := []any{"ZADD", "z"}
	for i := range 50 {
		m := fmt.Sprintf("m%02d", i)
		scores[m] = float64(i) / 4
		args = append(args, scores[m], m)
	}
	if err := rdb.Do(ctx, args...).Err(); err != nil {
		t.Fatal(err)
	}
	for _, count := range []int{1, 10, 49, 50, 80} {
		got, err := rdb.ZRandMember(ctx, "z", count).Result()
		if err != nil || len(got) != min(count, 50) {
			t.Fatalf("ZRANDMEMBER z %d = %d members, %v", count, len(got), err)
		}
		seen := map[string]bool{}
		for _, m := range got {
			if _, ok := scores[m]; !ok || seen[m] {
				t.Errorf("ZRANDMEMBER z %d: %q unknown or repeated", count, m)
			}
			seen[m] = true
		}
	}
	got, err := rdb.ZRandMemberWithScores(ctx, "z", -200).Result()
	if err != nil || len(got) != 200 {
		t.Fatalf("ZRANDMEMBER z -200 WITHSCORES = %d, %v", len(got), err)
	}
	distinct := map[string]bool{}
	for _, z := range got {
		m := z.Member.(string)
		if s, ok := scores[m]; !ok || s != z.Score {
			t.Errorf("member %q with score %v, want %v", m, z.Score, s)
		}
		distinct[m] = true
	}
	if len(distinct) < 2 {
		t.Errorf("200 picks with repeats found %d distinct members", len(distinct))
	}
	one, err := rdb.ZRandMember(ctx, "z", 1).Result()
	if err != nil || len(one) != 1 {
		t.Fatalf("ZRANDMEMBER z 1 = %v, %v", one, err)
	}
}

// ZSCAN of a set too large for a listpack pages with a cursor and, over
// the whole scan, returns every member once with its score.
func TestZScanLargeSet(t *testing.T) {
	ts := startServer(t, nil)
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	args := []any{"ZADD", "big", "1e17", "e17", "inf", "inf"}
	for i := range 500 {
		args = append(args, i%13, fmt.Sprintf("m%03d", i))
	}
	if err := rdb.Do(ctx, args...).Err(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	var cursor uint64
	calls := 0
	for {
		items, next, err := rdb.ZScan(ctx, "big", cursor, "", 50).Result()
		if err != nil {
			t.Fatal(err)
		}
		calls++
		for i := 0; i+1 < len(items); i += 2 {
			if _, dup := seen[items[i]]; dup {
				t.Errorf("%s returned twice", items[i])
			}
			seen[items[i]] = items[i+1]
		}
		if cursor = next; cursor == 0 || calls > 100 {
			break
		}
	}
	if len(seen) != 502 || calls < 2 {
		t.Fatalf("ZSCAN returned %d members in %d calls", len(seen), calls)
	}
	// A skiplist's scores print with %.17g (the listpack's would be
	// 100000000000000000).
	if seen["e17"] != "1e+17" || seen["inf"] != "inf" {
		t.Errorf("ZSCAN scores of 1e17 and inf = %q, %q", seen["e17"], seen["inf"])
	}
	delete(seen, "e17")
	delete(seen, "inf")
	for m, s := range seen {
		i, _ := strconv.Atoi(m[1:])
		if s != strconv.Itoa(i%13) {
			t.Errorf("%s: score %q, want %d", m, s, i%13)
		}
	}
}

// Sorted set writes sent to a follower are forwarded to the leader and
// answered as on the leader; reads on the follower see them.
func TestZSetThroughFollower(t *testing.T) {
	addrs := startClusterServers(t, 3)
	ctx := testCtx(t)
	var follower *redis.Client
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1, Protocol: 3})
		t.Cleanup(func() { c.Close() })
		if state, err := c.Do(ctx, "RAFT.STATE").Text(); err == nil && state == "follower" {
			follower = c
			break
		}
	}
	if follower == nil {
		t.Fatalf("no follower among %v", addrs)
	}
	runExchanges(ctx, t, follower, []exchange{
		ex("4", "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"),
		ex("[[a 1]]", "ZPOPMIN", "z", "1"),
		ex("[z [[d 4]]]", "ZMPOP", "1", "z", "MAX"),
		ex("1", "ZREMRANGEBYSCORE", "z", "(2", "+inf"),
		ex("1", "ZRANGESTORE", "dst", "z", "0", "-1"),
		ex("[[b 2]]", "ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		ex("(nil)", "ZADD", "z", "XX", "INCR", "1", "nosuch"),
		ex("4.5", "ZADD", "z", "INCR", "2.5", "b"),
	})
}

// The command table: ZMPOP names its keys by numkeys (movablekeys), the
// rest at fixed positions.
func TestZSetCommandTable(t *testing.T) {
	ts := startServer(t, nil)
	ctx := testCtx(t)
	rdb := newClient(t, ts, 2)
	info, err := rdb.Do(ctx, "COMMAND", "INFO", "zmpop").Slice()
	if err != nil || len(info) != 1 {
		t.Fatalf("COMMAND INFO zmpop = %v, %v", info, err)
	}
	row := info[0].([]any)
	flags := fmt.Sprint(row[2])
	if row[1] != int64(-4) || !strings.Contains(flags, "movablekeys") || !strings.Contains(flags, "write") {
		t.Errorf("COMMAND INFO zmpop = %v", row)
	}
	keys, err := rdb.Do(ctx, "COMMAND", "GETKEYS", "ZMPOP", "2", "a", "b", "MIN", "COUNT", "3").StringSlice()
	if err != nil || !slices.Equal(keys, []string{"a", "b"}) {
		t.Errorf("COMMAND GETKEYS ZMPOP = %v, %v", keys, err)
	}
	for _, name := range []string{"zadd", "zincrby", "zrem", "zcard", "zscore", "zmscore", "zrank", "zrevrank", "zcount",
		"zlexcount", "zrange", "zrangestore", "zrevrange", "zrangebyscore", "zrevrangebyscore", "zrangebylex",
		"zrevrangebylex", "zremrangebyrank", "zremrangebyscore", "zremrangebylex", "zpopmin", "zpopmax", "zmpop",
		"zrandmember", "zscan"} {
		if n, err := rdb.Do(ctx, "COMMAND", "INFO", name).Slice(); err != nil || len(n) != 1 || n[0] == nil {
			t.Errorf("COMMAND INFO %s = %v, %v", name, n, err)
		}
	}
}

// TestZSetRandomArgs sends seeded random arguments (bounds, options,
// numbers at their limits, keys of several types) to every sorted set
// command: each request gets one well-formed reply, and the server keeps
// serving.
func TestZSetRandomArgs(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts)
	c.roundTrip(req("ZADD", "z", "1", "a", "2", "b", "-inf", "c", "0", "d"), ":4\r\n")
	c.roundTrip(req("SET", "s", "v"), "+OK\r\n")
	names := []string{"ZADD", "ZINCRBY", "ZREM", "ZCARD", "ZSCORE", "ZMSCORE", "ZRANK", "ZREVRANK", "ZCOUNT",
		"ZLEXCOUNT", "ZRANGE", "ZRANGESTORE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX",
		"ZREVRANGEBYLEX", "ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZREMRANGEBYLEX", "ZPOPMIN", "ZPOPMAX", "ZMPOP",
		"ZRANDMEMBER", "ZSCAN"}
	words := []string{"z", "s", "nosuch", "a", "b", "0", "1", "-1", "2", "3", "(1", "[a", "(b", "-", "+", "inf",
		"-inf", "(inf", "nan", "", "x", "9223372036854775807", "-9223372036854775808", "1e400", "0x1p3",
		"WITHSCORES", "LIMIT", "REV", "BYSCORE", "BYLEX", "NX", "XX", "GT", "LT", "CH", "INCR", "MIN", "MAX",
		"COUNT", "MATCH", "*"}
	r := rand.New(rand.NewPCG(3, 4))
	for range 1500 {
		args := []string{names[r.IntN(len(names))]}
		for range r.IntN(8) {
			args = append(args, words[r.IntN(len(words))])
		}
		if args[0] == "ZRANDMEMBER" && len(args) > 2 && strings.HasPrefix(args[2], "-9") {
			args[2] = "-5" // a huge negative count is a huge reply, as in Redis
		}
		c.send(req(args...) + req("PING"))
		if _, err := c.reply(); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if got, err := c.reply(); err != nil || string(got) != "+PONG\r\n" {
			t.Fatalf("PING after %q = %q, %v", args, got, err)
		}
	}
}
