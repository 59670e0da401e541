package resp

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// The differential tests of the sorted set combinations: the same
// requests to redis-server and to riot, on one connection each (RESP2,
// then RESP3 after HELLO 3), reply bytes compared. Every reply is in a
// defined order (score, then member bytes), so no reply is normalized.

// zcombineArgCases need no sorted set: numkeys, the order of the checks
// (WRONGTYPE before option errors), options, missing keys, COMMAND
// GETKEYS.
var zcombineArgCases = [][]string{
	{"SET", "str", "v"},
	{"ZUNION"}, {"ZUNION", "1"}, {"ZUNIONSTORE", "d", "1"}, {"ZINTERCARD", "1"}, {"ZDIFFSTORE", "d"},
	{"ZUNION", "0", "a"}, {"ZINTER", "-1", "a"}, {"ZDIFF", "0", "a"}, {"ZINTERCARD", "0", "a"}, {"ZINTERCARD", "-5", "a"},
	{"ZUNIONSTORE", "d", "0", "a"}, {"ZINTERSTORE", "d", "0", "a"}, {"ZDIFFSTORE", "d", "0", "a"},
	{"ZUNION", "x", "a"}, {"ZUNION", "01", "a"}, {"ZUNION", "+1", "a"}, {"ZUNION", "1.0", "a"}, {"ZUNION", "99999999999999999999", "a"},
	{"ZINTERCARD", "x", "a"}, {"ZDIFFSTORE", "d", "x", "a"},
	{"ZUNION", "3", "a", "b"}, {"ZINTERCARD", "2", "a"}, {"ZUNIONSTORE", "d", "2", "a"}, {"ZUNION", "9223372036854775807", "a"},
	{"ZUNION", "1", "str", "WEIGHTS", "x"}, {"ZUNION", "1", "str", "FOO"}, {"ZINTER", "2", "nosuch", "str", "AGGREGATE"},
	{"ZDIFF", "2", "nosuch", "str", "WEIGHTS", "1", "1"}, {"ZINTERCARD", "2", "nosuch", "str", "LIMIT", "-1"},
	{"ZUNIONSTORE", "d", "1", "str", "WITHSCORES"}, {"ZINTERSTORE", "str", "2", "str", "str"}, {"ZDIFFSTORE", "d", "1", "str"},
	{"ZUNION", "1", "a", "WEIGHTS", "x"}, {"ZUNION", "1", "a", "WEIGHTS", "nan"}, {"ZUNION", "1", "a", "WEIGHTS", ""},
	{"ZUNION", "1", "a", "WEIGHTS", " 1"}, {"ZUNION", "1", "a", "WEIGHTS", "1 "}, {"ZUNION", "1", "a", "WEIGHTS", "1e400"},
	{"ZUNION", "1", "a", "WEIGHTS", "0x10"}, {"ZUNION", "1", "a", "WEIGHTS", "-inf"}, {"ZUNION", "1", "a", "WEIGHTS", "Infinity"},
	{"ZUNION", "2", "a", "b", "WEIGHTS", "1"}, {"ZUNION", "2", "a", "b", "WEIGHTS", "1", "x"}, {"ZUNION", "2", "a", "b", "WEIGHTS", "x", "1", "AGGREGATE", "foo"},
	{"ZUNION", "2", "a", "b", "WEIGHTS", "1", "2", "3"}, {"ZUNION", "1", "a", "AGGREGATE"}, {"ZUNION", "1", "a", "AGGREGATE", "avg"},
	{"ZUNION", "1", "a", "AGGREGATE", "SUM", "AGGREGATE", "max"}, {"ZUNION", "1", "a", "withscores", "WITHSCORES"},
	{"ZUNION", "1", "a", "LIMIT", "1"}, {"ZINTER", "1", "a", "LIMIT", "1"},
	{"ZDIFF", "1", "a", "WEIGHTS", "1"}, {"ZDIFF", "1", "a", "AGGREGATE", "sum"}, {"ZDIFF", "1", "a", "WITHSCORES"},
	{"ZDIFFSTORE", "d", "1", "a", "WEIGHTS", "1"}, {"ZDIFFSTORE", "d", "1", "a", "WITHSCORES"},
	{"ZUNIONSTORE", "d", "1", "a", "WITHSCORES"}, {"ZINTERSTORE", "d", "1", "a", "WEIGHTS", "x"}, {"ZINTERSTORE", "d", "1", "a", "AGGREGATE", "x"},
	{"ZINTERCARD", "1", "a", "WITHSCORES"}, {"ZINTERCARD", "1", "a", "WEIGHTS", "1"}, {"ZINTERCARD", "1", "a", "AGGREGATE", "sum"},
	{"ZINTERCARD", "1", "a", "LIMIT"}, {"ZINTERCARD", "1", "a", "LIMIT", "-1"}, {"ZINTERCARD", "1", "a", "LIMIT", "x"},
	{"ZINTERCARD", "1", "a", "LIMIT", "0"}, {"ZINTERCARD", "1", "a", "LIMIT", "9223372036854775808"}, {"ZINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "2"},
	{"ZUNION", "2", "a", "b"}, {"ZINTER", "2", "a", "b", "WITHSCORES"}, {"ZDIFF", "1", "a"}, {"ZINTERCARD", "2", "a", "b"},
	{"ZUNIONSTORE", "d", "1", "a"}, {"ZINTERSTORE", "str", "1", "nosuch"}, {"EXISTS", "str"}, {"SET", "str", "v"},
	{"COMMAND", "GETKEYS", "ZUNION", "2", "a", "b"}, {"COMMAND", "GETKEYS", "ZINTER", "1x", "a", "b"},
	{"COMMAND", "GETKEYS", "ZDIFF", "+1", "a"}, {"COMMAND", "GETKEYS", "ZUNION", "0", "a"}, {"COMMAND", "GETKEYS", "ZUNION", "3", "a"},
	{"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}, {"COMMAND", "GETKEYS", "ZINTERSTORE", "d", "2", "a"},
	{"COMMAND", "GETKEYS", "ZDIFFSTORE", "d", "-1", "a"}, {"COMMAND", "GETKEYS", "ZINTERCARD", "2", "a", "b", "LIMIT", "1"},
	{"COMMAND", "GETKEYS", "ZINTERCARD", "x", "a"}, {"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "01", "a"},
	{"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "1x", "a"}, {"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", " 2", "a", "b"},
	{"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "0", "a"}, {"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "3", "a"},
}

// zcombineInputs builds sorted sets and sets (with ZADD and SADD): small
// ones, infinities, scores whose sums round differently in another order
// (b3, c2, a1), a set of integers.
var zcombineInputs = [][]string{
	{"ZADD", "a", "1", "x", "2", "y", "3", "z"},
	{"ZADD", "b", "10", "y", "20", "w"},
	{"SADD", "s", "x", "w", "q"},
	{"SADD", "si", "1", "2", "x", "10"},
	{"ZADD", "inf", "inf", "p", "-inf", "q", "0", "r"},
	{"ZADD", "ninf", "-inf", "p", "-inf", "q", "+inf", "r"},
	{"ZADD", "b3", "1e16", "m", "1", "n", "2", "o"},
	{"ZADD", "c2", "1", "m", "5", "x"},
	{"ZADD", "a1", "1", "m"},
	{"ZADD", "frac", "0.1", "x", "0.2", "y", "-0.3", "m", "1.5e-300", "n"},
	{"SET", "str", "v"},
}

// zcombineCases run on the inputs.
var zcombineCases = [][]string{
	{"ZUNION", "2", "a", "b"}, {"ZUNION", "2", "a", "b", "WITHSCORES"}, {"ZUNION", "2", "a", "b", "WEIGHTS", "1", "2", "WITHSCORES"},
	{"ZUNION", "2", "b", "a", "AGGREGATE", "MIN", "WITHSCORES", "WEIGHTS", "1", "0"}, {"ZUNION", "2", "a", "b", "AGGREGATE", "max", "WITHSCORES"},
	{"ZUNION", "3", "a", "s", "si", "WITHSCORES"}, {"ZUNION", "2", "s", "si", "WITHSCORES", "WEIGHTS", "0.5", "-2"},
	{"ZUNION", "2", "inf", "ninf", "WITHSCORES"}, {"ZUNION", "1", "inf", "WEIGHTS", "0", "WITHSCORES"}, {"ZUNION", "1", "inf", "WEIGHTS", "-1", "WITHSCORES"},
	{"ZUNION", "2", "inf", "ninf", "WEIGHTS", "1", "0", "AGGREGATE", "MIN", "WITHSCORES"}, {"ZUNION", "2", "inf", "ninf", "WEIGHTS", "0", "1", "AGGREGATE", "MAX", "WITHSCORES"},
	{"ZUNION", "3", "b3", "c2", "a1", "WITHSCORES"}, {"ZUNION", "3", "c2", "b3", "a1", "WITHSCORES"}, {"ZUNION", "3", "a1", "b3", "c2", "WITHSCORES"},
	{"ZUNION", "2", "frac", "frac", "WITHSCORES"}, {"ZUNION", "1", "frac", "WEIGHTS", "3", "WITHSCORES"}, {"ZUNION", "1", "frac", "WEIGHTS", "1e308", "WITHSCORES"},
	{"ZUNION", "2", "a", "nosuch", "WITHSCORES"}, {"ZUNION", "2", "nosuch", "nosuch2", "WITHSCORES"}, {"ZUNION", "2", "a", "str"},
	{"ZINTER", "2", "a", "b", "WITHSCORES"}, {"ZINTER", "2", "a", "s", "WITHSCORES"}, {"ZINTER", "2", "s", "si", "WITHSCORES"},
	{"ZINTER", "3", "a", "b", "s"}, {"ZINTER", "2", "a", "nosuch"}, {"ZINTER", "2", "b", "b", "WEIGHTS", "1", "-1", "WITHSCORES"},
	{"ZINTER", "2", "inf", "ninf", "WITHSCORES"}, {"ZINTER", "2", "inf", "ninf", "WEIGHTS", "1", "0", "WITHSCORES"},
	{"ZINTER", "2", "inf", "ninf", "WEIGHTS", "1", "0", "AGGREGATE", "min", "WITHSCORES"},
	{"ZINTER", "2", "ninf", "inf", "WEIGHTS", "0", "1", "AGGREGATE", "max", "WITHSCORES"},
	{"ZINTER", "3", "b3", "c2", "a1", "WITHSCORES"}, {"ZINTER", "3", "a1", "c2", "b3", "WITHSCORES"},
	{"ZDIFF", "2", "a", "b", "WITHSCORES"}, {"ZDIFF", "2", "a", "s", "WITHSCORES"}, {"ZDIFF", "2", "s", "a", "WITHSCORES"},
	{"ZDIFF", "3", "si", "s", "a"}, {"ZDIFF", "2", "nosuch", "a"}, {"ZDIFF", "2", "a", "a"}, {"ZDIFF", "1", "inf", "WITHSCORES"},
	{"ZINTERCARD", "2", "a", "s"}, {"ZINTERCARD", "2", "s", "si"}, {"ZINTERCARD", "2", "s", "s", "LIMIT", "2"},
	{"ZINTERCARD", "1", "s", "LIMIT", "0"}, {"ZINTERCARD", "1", "frac", "LIMIT", "3"}, {"ZINTERCARD", "2", "a", "nosuch"},
	{"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "2", "1"}, {"TYPE", "d"}, {"ZUNION", "1", "d", "WITHSCORES"},
	{"ZUNIONSTORE", "str", "1", "s"}, {"TYPE", "str"}, {"ZUNION", "1", "str", "WITHSCORES"},
	{"ZINTERSTORE", "d", "2", "d", "s", "WEIGHTS", "1", "0.5", "AGGREGATE", "MIN"}, {"ZUNION", "1", "d", "WITHSCORES"},
	{"ZDIFFSTORE", "d", "2", "b", "a"}, {"ZUNION", "1", "d", "WITHSCORES"},
	{"ZDIFFSTORE", "d", "2", "a", "a"}, {"EXISTS", "d"},
	{"ZUNIONSTORE", "d", "1", "inf", "WEIGHTS", "-1"}, {"ZUNION", "1", "d", "WITHSCORES"},
	{"ZINTERSTORE", "d", "3", "b3", "c2", "a1"}, {"ZUNION", "1", "d", "WITHSCORES"},
	{"SET", "str", "v"}, {"EXPIRE", "str", "100"}, {"ZUNIONSTORE", "str", "1", "a"}, {"TTL", "str"},
	{"ZUNIONSTORE", "d", "1", "str", "WEIGHTS", "x"}, {"ZUNIONSTORE", "d", "1", "a", "WEIGHTS", "x"}, {"ZUNION", "1", "d", "WITHSCORES"},
	{"ZUNIONSTORE", "s", "2", "s", "a"}, {"TYPE", "s"}, {"ZUNION", "1", "s", "WITHSCORES"},
	{"ZINTERSTORE", "a", "2", "a", "nosuch"}, {"EXISTS", "a"},
	{"SET", "str", "v"},
}

// Reference: https://redis.io/docs/latest/commands/zunion/ (zinter,
// zdiff, zintercard and the *store forms; argument parsing and error
// texts of Redis 7.0, compared with redis-server)
func TestDifferentialZCombineArgs(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	riot := startServer(t, nil)
	for _, proto := range []int{2, 3} {
		compareZCases(t, redisAddr, riot.addr, proto, zcombineArgCases)
	}
}

// Reference: https://redis.io/docs/latest/commands/zunion/ and the
// other combinations (t_zset.c: sources sorted by size before a union
// or an intersection, NaN sums as 0, scores in score then member order)
func TestDifferentialZCombine(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	riot := startServer(t, nil)
	needZSets(t, riot)
	redisAddr := startRedisServer(t)
	for _, proto := range []int{2, 3} {
		compareZCases(t, redisAddr, riot.addr, proto, append(append([][]string{{"FLUSHALL"}}, zcombineInputs...), zcombineCases...))
	}
	r := rand.New(rand.NewPCG(7, 11))
	var random [][]string
	for range 400 {
		random = append(random, randomZCombine(r, zcombineKeys)...)
	}
	for _, proto := range []int{2, 3} {
		compareZCases(t, redisAddr, riot.addr, proto, append(append([][]string{{"FLUSHALL"}}, zcombineInputs...), random...))
	}
}

// zsetInputs are sets only, for TestDifferentialZCombineSets.
var zsetInputs = [][]string{
	{"SADD", "s", "x", "w", "q"},
	{"SADD", "si", "1", "2", "x", "10"},
	{"SADD", "s2", "w", "10", "-3", "y"},
	{"SADD", "s1", "x"},
	{"SET", "str", "v"},
}

// zcombineKeys are the keys of randomZCombine's requests: every input, a
// destination, a missing key.
var zcombineKeys = []string{"a", "b", "s", "si", "inf", "ninf", "b3", "c2", "a1", "frac", "d", "str", "nosuch"}

// Reference: https://redis.io/docs/latest/commands/zunion/ and the other
// combinations, whose sources may be sets (every member scores 1), on one
// node and on a cluster. This one needs SADD only.
func TestDifferentialZCombineSets(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	riot := startServer(t, nil)
	if riot.commands["sadd"] == nil {
		t.Skip("SADD is not implemented: the combinations' inputs cannot be built")
	}
	redisAddr := startRedisServer(t)
	r := rand.New(rand.NewPCG(5, 3))
	cases := append([][]string{{"FLUSHALL"}}, zsetInputs...)
	for range 300 {
		cases = append(cases, randomZCombine(r, []string{"s", "si", "s2", "s1", "d", "e", "str", "nosuch"})...)
	}
	for _, proto := range []int{2, 3} {
		compareZCases(t, redisAddr, riot.addr, proto, cases)
	}
	// A 3-node cluster, the requests sent to one node for RESP2 and to
	// another for RESP3: most nodes follow, forwarding the stores (an
	// option error comes back from the leader's apply) and reading at a
	// read index.
	addrs := startClusterServers(t, 3)
	for i, proto := range []int{2, 3} {
		compareZCases(t, redisAddr, addrs[1+i], proto, cases)
	}
}

// compareZCases sends cases on one connection to each server and
// compares the replies.
func compareZCases(t *testing.T, redisAddr, riotAddr string, proto int, cases [][]string) {
	t.Helper()
	conns := []*rawConn{dialRawAddr(t, redisAddr), dialRawAddr(t, riotAddr)}
	if proto == 3 {
		for _, c := range conns {
			c.send(req("HELLO", "3"))
			if _, err := c.reply(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, args := range cases {
		var replies [2]string
		for i, c := range conns {
			c.send(req(args...))
			got, err := c.reply()
			if err != nil {
				t.Fatalf("resp%d %q: %v", proto, args, err)
			}
			replies[i] = string(got)
		}
		if replies[0] != replies[1] {
			t.Errorf("resp%d %s:\n  redis-server: %q\n  riot:         %q", proto, strings.Join(args, " "), replies[0], replies[1])
		}
	}
}

// randomZCombine returns a random combination (sometimes with a wrong
// numkeys or option), and after a store the requests that read its
// destination back.
func randomZCombine(r *rand.Rand, keys []string) [][]string {
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	name := pick("ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE")
	store := strings.HasSuffix(name, "STORE")
	key := func() string { return pick(keys...) }
	n := 1 + r.IntN(3)
	args := []string{name}
	dst := ""
	if store {
		dst = pick("d", "d", "e", "a", "s", "str", "nosuch")
		args = append(args, dst)
	}
	switch r.IntN(30) {
	case 0:
		args = append(args, pick("0", "-1", "x", strconv.Itoa(n+1)))
	default:
		args = append(args, strconv.Itoa(n))
	}
	for range n {
		args = append(args, key())
	}
	weight := func() string {
		return pick("1", "2", "0", "-1", "0.5", "inf", "-inf", "1e16", "-0", "3.3", "1e308", "x")
	}
	for range r.IntN(4) {
		switch r.IntN(5) {
		case 0:
			args = append(args, pick("WEIGHTS", "weights"))
			for range n + r.IntN(8)/7 {
				args = append(args, weight())
			}
		case 1:
			args = append(args, "AGGREGATE", pick("SUM", "min", "Max", "sum", "avg"))
		case 2:
			args = append(args, pick("WITHSCORES", "withscores"))
		case 3:
			args = append(args, "LIMIT", pick("0", "1", "2", "-1", "x"))
		default:
			args = append(args, pick("FOO", "WEIGHTS"))
		}
	}
	out := [][]string{args}
	if store {
		out = append(out, []string{"TYPE", dst}, []string{"ZUNION", "1", dst, "WITHSCORES"})
		if dst == "str" || dst == "s" {
			// Put the inputs' types back now and then.
			if r.IntN(2) == 0 {
				out = append(out, []string{"DEL", dst}, []string{"SET", "str", "v"}, []string{"SADD", "s", "x", "w", "q"})
			}
		}
	}
	return out
}
