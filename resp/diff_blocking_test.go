package resp

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// The blocking commands' differential test, on the paths that do not
// wait for another client: data present, argument errors, timeouts of
// 0.01 s (null replies), MULTI, COMMAND GETKEYS (COMMAND INFO differs from Redis's for every
// command: no noscript or denyoom flags, simpler key specs); a fixed sequence, then a
// seeded random one of pushes and blocking pops on a few keys, sent on one
// connection to redis-server and one to riot (a single node, then a
// follower of a 3-node cluster), in RESP2 then in RESP3; replies compared
// byte for byte.

var blockingCases = [][]string{
	// arity
	{"BLPOP", "k"}, {"BRPOP"}, {"BLMOVE", "a", "b", "LEFT", "LEFT"}, {"BRPOPLPUSH", "a", "b"}, {"BLMPOP", "0", "1", "k"},
	{"BZPOPMIN", "k"}, {"BZPOPMAX"}, {"BZMPOP", "0", "1", "k"},

	// timeouts
	{"BLPOP", "k", "abc"}, {"BLPOP", "k", "-1"}, {"BLPOP", "k", "inf"}, {"BLPOP", "k", "-inf"}, {"BLPOP", "k", "nan"},
	{"BLPOP", "k", " 1"}, {"BLPOP", "k", "1e400"}, {"BLPOP", "k", "9223372036854776"}, {"BLPOP", "k", ""},
	{"BLPOP", "k", "0.01"}, {"BLPOP", "k", ".01"}, {"BLPOP", "k", "1e-2"}, {"BLPOP", "k", "0x0.03p0"}, {"BLPOP", "k", "1e-400"},
	{"BRPOP", "k", "k2", "0.01"}, {"BZPOPMIN", "k", "0.01"}, {"BZPOPMAX", "k", "k2", "0.01"}, {"BZPOPMIN", "k", "-0.5"},
	{"BLMOVE", "k", "d", "LEFT", "RIGHT", "0.01"}, {"BLMOVE", "k", "d", "UP", "RIGHT", "x"}, {"BLMOVE", "k", "d", "LEFT", "UP", "x"},
	{"BLMOVE", "k", "d", "LEFT", "RIGHT", "x"}, {"BRPOPLPUSH", "k", "d", "0.01"}, {"BRPOPLPUSH", "k", "d", "-2"},

	// BLMPOP and BZMPOP: their arguments, then the timeout
	{"BLMPOP", "0.01", "1", "k", "LEFT"}, {"BLMPOP", "x", "0", "k", "LEFT"}, {"BLMPOP", "x", "1", "k", "UP"},
	{"BLMPOP", "x", "1", "k", "LEFT"}, {"BLMPOP", "-1", "1", "k", "LEFT"}, {"BLMPOP", "0.01", "2", "k", "LEFT"},
	{"BLMPOP", "0.01", "1", "k", "LEFT", "COUNT", "0"}, {"BLMPOP", "0.01", "1", "k", "LEFT", "COUNT"},
	{"BZMPOP", "0.01", "1", "k", "MIN"}, {"BZMPOP", "x", "1", "k", "MIN"}, {"BZMPOP", "0.01", "1", "k", "UP"},
	{"BZMPOP", "0.01", "0", "k", "MIN"}, {"BZMPOP", "0.01", "1", "k", "MAX", "COUNT", "-1"},

	// data present
	{"RPUSH", "l", "a", "b", "c", "d", "e"}, {"BLPOP", "none", "l", "0"}, {"BRPOP", "l", "none", "0"},
	{"BLMOVE", "l", "l2", "LEFT", "RIGHT", "0"}, {"BRPOPLPUSH", "l", "l2", "0"}, {"LRANGE", "l2", "0", "-1"},
	{"BLMPOP", "0", "2", "none", "l2", "RIGHT", "COUNT", "5"}, {"EXISTS", "l2"}, {"BLMPOP", "0", "1", "l", "LEFT"},
	{"ZADD", "z", "1", "a", "2.5", "b", "-3", "c", "4", "d"}, {"BZPOPMIN", "none", "z", "0"}, {"BZPOPMAX", "z", "0"},
	{"BZMPOP", "0", "1", "z", "MIN", "COUNT", "10"}, {"EXISTS", "z"},

	// WRONGTYPE
	{"SET", "s", "v"}, {"BLPOP", "s", "0"}, {"BLPOP", "none", "s", "0"}, {"BLMOVE", "s", "d", "LEFT", "LEFT", "0"},
	{"RPUSH", "l3", "x"}, {"BLMOVE", "l3", "s", "LEFT", "LEFT", "0"}, {"BZPOPMIN", "s", "0"}, {"BZMPOP", "0", "2", "none", "s", "MIN"},
	{"BLPOP", "l3", "s", "0"},

	// MULTI: they do not block
	{"MULTI"}, {"BLPOP", "e", "0"}, {"BRPOP", "e", "0"}, {"BLMOVE", "e", "d", "LEFT", "LEFT", "0"}, {"BRPOPLPUSH", "e", "d", "0"},
	{"BLMPOP", "0", "1", "e", "LEFT"}, {"BZPOPMIN", "e", "0"}, {"BZPOPMAX", "e", "0"}, {"BZMPOP", "0", "1", "e", "MIN"},
	{"RPUSH", "e", "x"}, {"BLPOP", "e", "0"}, {"EXEC"},
	{"MULTI"}, {"BLPOP", "e", "abc"}, {"EXEC"},

	// COMMAND
	{"COMMAND", "GETKEYS", "BLPOP", "a", "b", "0"}, {"COMMAND", "GETKEYS", "BLMPOP", "0", "2", "a", "b", "LEFT"},
	{"COMMAND", "GETKEYS", "BZMPOP", "0", "1", "a", "MIN"}, {"COMMAND", "GETKEYS", "BLMOVE", "a", "b", "LEFT", "LEFT", "0"},
}

// Reference: https://redis.io/docs/latest/commands/?group=list and
// ?group=sorted-set (the blocking commands, compared with redis-server 7.0)
func TestDifferentialBlocking(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	for _, target := range diffTargets(t) {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/resp%d", target.name, proto), func(t *testing.T) {
				ref, got := dialDiffPair(t, redisAddr, target.addr, proto)
				cases := blockingCases
				g := rand.New(rand.NewPCG(uint64(proto), 21))
				for range 400 {
					cases = append(cases, randomBlockingCommand(g))
				}
				for _, args := range cases {
					want, have := setReply(t, ref, exact(args...)), setReply(t, got, exact(args...))
					if want != have {
						t.Errorf("RESP%d %s:\n  redis-server: %q\n  riot:         %q", proto, strings.Join(args, " "), want, have)
					}
				}
			})
		}
	}
}

// diffTarget is a riot server a differential test compares with
// redis-server.
type diffTarget struct{ name, addr string }

// diffTargets are a single node and a follower of a 3-node cluster (its
// writes forwarded to the leader, its reads confirmed with it).
func diffTargets(t *testing.T) []diffTarget {
	t.Helper()
	return []diffTarget{{"node", startServer(t, nil).addr}, {"follower", followerOf(t, startCluster(t, 3, nil))}}
}

// followerOf returns the address of a server of cluster that is not the
// raft leader.
func followerOf(t *testing.T, cluster []*testServer) string {
	t.Helper()
	for _, ts := range cluster {
		c := dialRawAddr(t, ts.addr)
		c.send(req("INFO", "replication"))
		r, err := c.reply()
		if err != nil {
			t.Fatalf("INFO: %v", err)
		}
		if !strings.Contains(string(r), "raft_state:leader") {
			return ts.addr
		}
	}
	t.Fatal("no follower")
	return ""
}

// randomBlockingCommand returns a push or a blocking pop (timeout 0 when
// it has data, else 0.01) on lists ba, bb and sorted sets za, zb.
func randomBlockingCommand(g *rand.Rand) []string {
	list := func() string { return []string{"ba", "bb"}[g.IntN(2)] }
	zset := func() string { return []string{"za", "zb"}[g.IntN(2)] }
	elem := func() string { return string(rune('a' + g.IntN(6))) }
	end := func() string { return []string{"LEFT", "RIGHT", "left"}[g.IntN(3)] }
	timeout := func() string { return []string{"0.01", ".01", "0.005"}[g.IntN(3)] }
	switch g.IntN(10) {
	case 0, 1:
		return []string{[]string{"LPUSH", "RPUSH"}[g.IntN(2)], list(), elem(), elem()}
	case 2:
		return []string{"ZADD", zset(), fmt.Sprint(g.IntN(10)), elem(), fmt.Sprint(g.IntN(10)), elem()}
	case 3:
		return []string{[]string{"BLPOP", "BRPOP"}[g.IntN(2)], list(), list(), timeout()}
	case 4:
		return []string{"BLMOVE", list(), list(), end(), end(), timeout()}
	case 5:
		return []string{"BRPOPLPUSH", list(), list(), timeout()}
	case 6:
		return []string{"BLMPOP", timeout(), "2", list(), list(), end(), "COUNT", fmt.Sprint(1 + g.IntN(3))}
	case 7:
		return []string{[]string{"BZPOPMIN", "BZPOPMAX"}[g.IntN(2)], zset(), zset(), timeout()}
	case 8:
		return []string{"BZMPOP", timeout(), "2", zset(), zset(), []string{"MIN", "MAX"}[g.IntN(2)], "COUNT", fmt.Sprint(1 + g.IntN(3))}
	}
	return []string{"LRANGE", list(), "0", "-1"}
}

// blockingPipelines are pipelines that mix blocking and non-blocking
// commands, each sent in one write: a blocking pop with data answers at
// once, one on empty keys answers null after its timeout and only then do
// the commands after it run (a push later in the same pipeline does not
// serve it), in MULTI nothing blocks.
var blockingPipelines = [][][]string{
	{
		{"RPUSH", "pl", "a", "b", "c"}, {"BLPOP", "pl", "0"}, {"BLPOP", "pe", "0.01"}, {"LPUSH", "pe", "x", "y"},
		{"BRPOPLPUSH", "pe", "pl", "0"}, {"ZADD", "pz", "2", "m", "1", "n"}, {"BZPOPMIN", "pz", "0"},
		{"LRANGE", "pl", "0", "-1"}, {"LRANGE", "pe", "0", "-1"}, {"ZRANGE", "pz", "0", "-1", "WITHSCORES"},
	},
	{
		{"BRPOP", "none1", "none2", "0.01"}, {"RPUSH", "none1", "late"}, {"BRPOP", "none1", "none2", "0.01"},
		{"LLEN", "none1"}, {"BLMOVE", "pl", "pm", "RIGHT", "LEFT", "0"}, {"BLMOVE", "nothing", "pm", "LEFT", "LEFT", "0.01"},
		{"LRANGE", "pm", "0", "-1"}, {"BLMPOP", "0.01", "2", "nothing", "pm", "LEFT", "COUNT", "5"}, {"EXISTS", "pm"},
	},
	{
		{"ZADD", "pz2", "1", "a", "2", "b", "3", "c"}, {"BZPOPMAX", "pz2", "0"}, {"BZPOPMIN", "nothing", "0.01"},
		{"BZMPOP", "0", "2", "nothing", "pz2", "MIN", "COUNT", "5"}, {"ZCARD", "pz2"}, {"BZPOPMIN", "pz2", "0.01"},
		{"ZADD", "pz2", "5", "z"}, {"BZPOPMIN", "pz2", "0"}, {"PING"},
	},
	{
		{"SET", "pstr", "v"}, {"BLPOP", "pstr", "0"}, {"RPUSH", "pq", "1"}, {"BLPOP", "pq", "pstr", "0"},
		{"BLPOP", "pq", "abc"}, {"BLPOP", "pq"}, {"GET", "pstr"}, {"BZPOPMIN", "pstr", "0.01"}, {"ECHO", "after"},
	},
	{
		{"MULTI"}, {"BLPOP", "pm2", "0"}, {"RPUSH", "pm2", "a", "b"}, {"BRPOP", "pm2", "0"}, {"BLMPOP", "0", "1", "pm2", "LEFT"},
		{"EXEC"}, {"BLPOP", "pm2", "0.01"}, {"RPUSH", "pm2", "c"}, {"BRPOPLPUSH", "pm2", "pm2", "0"}, {"LRANGE", "pm2", "0", "-1"},
	},
}

// Reference: https://redis.io/docs/latest/develop/use/pipelining/ and
// https://redis.io/docs/latest/commands/blpop/ (a blocked client's
// pipelined commands wait for it)
func TestDifferentialBlockingPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	for _, target := range diffTargets(t) {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/resp%d", target.name, proto), func(t *testing.T) {
				ref, got := dialDiffPair(t, redisAddr, target.addr, proto)
				pipelines := blockingPipelines
				// Then seeded random pipelines of pushes, blocking pops
				// and LRANGE.
				g := rand.New(rand.NewPCG(uint64(proto), 22))
				for range 40 {
					p := make([][]string, 2+g.IntN(8))
					for i := range p {
						p[i] = randomBlockingCommand(g)
					}
					pipelines = append(pipelines, p)
				}
				for _, p := range pipelines {
					want, have := pipelineReplies(t, ref, p), pipelineReplies(t, got, p)
					for i := range p {
						if want[i] != have[i] {
							t.Errorf("RESP%d pipeline %q, command %d %s:\n  redis-server: %q\n  riot:         %q",
								proto, p, i, strings.Join(p[i], " "), want[i], have[i])
						}
					}
				}
			})
		}
	}
}

// pipelineReplies sends the commands of p in one write on c and returns
// their replies.
func pipelineReplies(t *testing.T, c *rawConn, p [][]string) []string {
	t.Helper()
	var b strings.Builder
	for _, args := range p {
		b.WriteString(req(args...))
	}
	c.send(b.String())
	out := make([]string, len(p))
	for i := range p {
		raw, err := c.reply()
		if err != nil {
			t.Fatalf("pipeline %q: reply %d: %v", p, i, err)
		}
		out[i] = string(raw)
	}
	return out
}
