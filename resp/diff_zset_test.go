package resp

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riotkv/riot/respwire"
)

// zsetScripts are the sorted set commands' edge cases: each script runs on
// a fresh database (FLUSHALL) over one connection to redis-server and to
// riot, in RESP2 and in RESP3, and every reply must be the same bytes.
//
// A command is its words separated by spaces; ” is an empty argument,
// \s a space, \0 a NUL. A leading "~ " compares the reply's elements as a
// multiset (Redis's order is unspecified: ZRANDMEMBER), "# " only the
// reply's first line (its type and length: random picks with repeats).
var zsetScripts = [][]string{
	// ZADD and its options.
	{"ZADD z 1 a 2 b 3 c", "ZADD z 1 a", "ZADD z CH 5 a 2 b 9 new", "ZRANGE z 0 -1 WITHSCORES", "ZCARD z",
		"ZADD z 1 dup 2 dup", "ZADD z CH 3 dup 4 dup", "ZSCORE z dup"},
	{"ZADD z 1 a 2 b", "ZADD z NX 10 a 20 x", "ZADD z XX 10 a 20 y", "ZADD z XX CH 11 a 20 y",
		"ZADD z nx xx", "ZRANGE z 0 -1 WITHSCORES", "ZADD nosuch XX 1 a", "EXISTS nosuch"},
	{"ZADD z 5 a", "ZADD z GT 3 a", "ZADD z GT CH 7 a", "ZADD z LT CH 6 a", "ZADD z LT 8 a",
		"ZADD z GT 1 newm", "ZADD z LT 1 newl", "ZADD z XX GT 100 a", "ZADD z XX LT CH 1 a", "ZSCORE z a", "ZSCORE z newm",
		"ZADD z GT CH 100 a", "ZADD z GT CH 100 a"},
	{"ZADD z INCR 5 a", "ZADD z INCR 1.5 a", "ZADD z NX INCR 1 a", "ZADD z XX INCR 1 nosuch",
		"ZADD z GT INCR -1 a", "ZADD z LT INCR -1 a", "ZADD z GT INCR 1 a", "ZADD z INCR inf a", "ZADD z INCR -inf a",
		"ZINCRBY z -inf a", "ZSCORE z a", "ZINCRBY z 1 b", "ZINCRBY z x b", "ZINCRBY z nan b", "ZINCRBY z 2.5 b",
		"ZINCRBY z nx 1", "ZINCRBY z incr m", "ZINCRBY z ch 1", "ZINCRBY z 1 ''", "ZRANGE z 0 -1 WITHSCORES"},
	{"ZADD z", "ZADD z 1", "ZADD z 1 a 2", "ZADD z NX XX 1 a", "ZADD z GT LT 1 a", "ZADD z NX GT 1 a",
		"ZADD z LT NX 1 a", "ZADD z INCR 1 a 2 b", "ZADD z x a", "ZADD z nan a", "ZADD z 1 a x b", "EXISTS z",
		"ZADD z NX", "ZADD z CH", "ZADD z INCR XX NX 1 a", "ZADD z NX XX 1 a 2", "ZADD z GT LT INCR 1 a 2 b",
		"ZADD z 1e400 a", "ZADD z \\s1 a", "ZADD z 1\\s a", "ZADD z '' a", "ZADD z 0x10 a", "ZADD z 1e-400 a",
		"ZADD z inf a -inf b +inf c -Infinity d 1e308 e .5 f 5. g", "ZRANGE z 0 -1 WITHSCORES", "ZINCRBY z", "ZINCRBY z 1 a b"},
	// Wrong types, checked after the arguments.
	{"SET s v", "ZADD s 1 a", "ZADD s NX XX 1 a", "ZADD s x a", "ZINCRBY s 1 a", "ZREM s a", "ZCARD s",
		"ZSCORE s a", "ZMSCORE s a", "ZRANK s a", "ZREVRANK s a", "ZCOUNT s 0 1", "ZCOUNT s x 1",
		"ZLEXCOUNT s - +", "ZLEXCOUNT s x +", "ZRANGE s 0 -1", "ZRANGE s x 1", "ZRANGE s 0 -1 FOO", "ZRANGESTORE d s 0 -1",
		"ZREMRANGEBYRANK s 0 1", "ZREMRANGEBYRANK s x 1", "ZREMRANGEBYSCORE s 0 1", "ZREMRANGEBYLEX s - +",
		"ZPOPMIN s", "ZPOPMIN s 0", "ZPOPMIN s -1", "ZPOPMAX s 2", "ZMPOP 1 s MIN", "ZMPOP 2 nosuch s MIN",
		"ZMPOP 1 s MIN COUNT 0", "ZRANDMEMBER s", "ZRANDMEMBER s 1", "ZRANDMEMBER s x", "ZSCAN s 0", "ZREVRANGE s 0 1",
		"ZRANGEBYSCORE s 0 1", "ZRANGEBYLEX s - +", "ZREVRANGEBYSCORE s 1 0", "ZREVRANGEBYLEX s + -", "GET s"},
	{"ZADD z 1 a", "SET s v", "ZMPOP 2 z s MIN", "ZMPOP 2 s z MIN", "ZRANGESTORE s z 0 -1", "TYPE s", "ZRANGE s 0 -1"},
	// Missing keys.
	{"ZREM nosuch a", "ZCARD nosuch", "ZSCORE nosuch a", "ZMSCORE nosuch a b", "ZRANK nosuch a", "ZREVRANK nosuch a",
		"ZCOUNT nosuch 0 1", "ZLEXCOUNT nosuch - +", "ZRANGE nosuch 0 -1", "ZRANGE nosuch 0 -1 WITHSCORES",
		"ZRANGEBYSCORE nosuch -inf +inf", "SET d x", "ZRANGESTORE d nosuch 0 -1", "EXISTS d", "ZPOPMIN nosuch",
		"ZPOPMIN nosuch 3", "ZPOPMAX nosuch 0", "ZMPOP 2 n1 n2 MAX COUNT 3", "ZRANDMEMBER nosuch",
		"ZRANDMEMBER nosuch 3 WITHSCORES", "ZRANDMEMBER nosuch -3", "ZSCAN nosuch 0", "ZREMRANGEBYRANK nosuch 0 -1",
		"ZREMRANGEBYSCORE nosuch -inf +inf", "ZREMRANGEBYLEX nosuch - +"},
	// Ranks.
	{"ZADD z 1 a 2 b 3 c 4 d 5 e", "ZRANGE z 0 -1", "ZRANGE z 1 2", "ZRANGE z -2 -1 WITHSCORES", "ZRANGE z 5 10",
		"ZRANGE z -100 100", "ZRANGE z 3 1", "ZRANGE z 0 0", "ZRANGE z -1 -1", "ZRANGE z 4 100", "ZRANGE z -6 -5",
		"ZRANGE z 0 -1 REV", "ZRANGE z 1 3 REV WITHSCORES", "ZREVRANGE z 0 1 WITHSCORES", "ZREVRANGE z -2 -1",
		"ZRANGE z 0 -1 LIMIT 0 -1", "ZRANGE z 0 -1 LIMIT 5 -1", "ZRANGE z 0 -1 LIMIT 0 1", "ZRANGE z 0 -1 REV REV",
		"ZRANGE z 0 -1 BYSCORE BYLEX", "ZRANGE z 0 -1 BYSCORE BYSCORE", "ZREVRANGE z 0 -1 REV", "ZREVRANGE z 0 -1 BYSCORE",
		"ZRANGE z 0 -1 withscores WITHSCORES", "ZRANGE z 0 -1 LIMIT 1", "ZRANGE z 0 -1 LIMIT x 1", "ZRANGE z 0 -1 LIMIT 1 x",
		"ZRANGE z a b", "ZRANGE z 0 9223372036854775807", "ZRANGE z -9223372036854775808 -1", "ZRANGE z 0 -1 FOO",
		"ZRANGE z", "ZREVRANGE z 0", "ZRANK z a", "ZRANK z e", "ZRANK z nosuch", "ZREVRANK z a", "ZREVRANK z c",
		"ZREVRANK z nosuch", "ZRANK z", "ZRANK z a b", "ZMSCORE z a nosuch e", "ZMSCORE z", "ZSCORE z"},
	// Scores.
	{"ZADD z 1 a 2 b 3 c 4 d 5 e", "ZRANGE z 1 3 BYSCORE", "ZRANGE z (1 3 BYSCORE", "ZRANGE z (1 (3 BYSCORE WITHSCORES",
		"ZRANGE z 3 1 BYSCORE REV", "ZRANGE z 1 3 BYSCORE REV", "ZRANGE z -inf +inf BYSCORE LIMIT 1 2",
		"ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES", "ZRANGE z -inf +inf BYSCORE LIMIT -1 2",
		"ZRANGE z -inf +inf BYSCORE LIMIT 0 0", "ZRANGE z -inf +inf BYSCORE LIMIT 2 -1", "ZRANGE z -inf +inf BYSCORE LIMIT 100 1",
		"ZRANGE z -inf +inf BYSCORE LIMIT 4 -5", "ZRANGEBYSCORE z 2 2", "ZRANGEBYSCORE z (2 2", "ZRANGEBYSCORE z 2 (2",
		"ZRANGEBYSCORE z 5 1", "ZRANGEBYSCORE z x 1", "ZRANGEBYSCORE z '' 3", "ZRANGEBYSCORE z ( 3", "ZRANGEBYSCORE z (( 3",
		"ZRANGEBYSCORE z \\s1 3", "ZRANGEBYSCORE z 1\\s 3", "ZRANGEBYSCORE z \\s 3", "ZRANGEBYSCORE z 1e400 inf",
		"ZRANGEBYSCORE z -1e400 3", "ZRANGEBYSCORE z 0x1 0x3", "ZRANGEBYSCORE z 0x 3", "ZRANGEBYSCORE z nan 3", "ZRANGEBYSCORE z (nan 3",
		"ZRANGEBYSCORE z 1 3\\0x", "ZRANGEBYSCORE z - 3", "ZRANGEBYSCORE z 1e 3", "ZRANGEBYSCORE z .5 2.5", "ZRANGEBYSCORE z 1 3 BYSCORE",
		"ZRANGEBYSCORE z 1 3 REV", "ZREVRANGEBYSCORE z 3 1 WITHSCORES LIMIT 0 2", "ZREVRANGEBYSCORE z 1 3",
		"ZREVRANGEBYSCORE z (3 (1", "ZRANGEBYSCORE z -inf inf withscores", "ZRANGEBYSCORE z -inf inf LIMIT 1 1 LIMIT 2 2",
		"ZCOUNT z -inf +inf", "ZCOUNT z (1 (3", "ZCOUNT z 3 1", "ZCOUNT z 2 2", "ZCOUNT z (2 2", "ZCOUNT z x y", "ZCOUNT z 1",
		"ZRANGEBYSCORE z 1", "ZRANGEBYSCORE z 1 2 LIMIT 0"},
	// Members (one score).
	{"ZADD l 0 a 0 b 0 c 0 d 0 e 0 f", "ZRANGE l - + BYLEX", "ZRANGE l [b (e BYLEX", "ZRANGE l (e [b BYLEX REV",
		"ZRANGE l - + BYLEX LIMIT 1 2", "ZRANGE l + - BYLEX REV LIMIT 1 2", "ZRANGEBYLEX l + -", "ZRANGEBYLEX l - -",
		"ZRANGEBYLEX l + +", "ZRANGEBYLEX l [a [a", "ZRANGEBYLEX l (a [a", "ZRANGEBYLEX l [c [a", "ZRANGEBYLEX l a b",
		"ZRANGEBYLEX l '' +", "ZRANGEBYLEX l +x +", "ZRANGEBYLEX l -\\0x +", "ZRANGEBYLEX l [ +", "ZRANGEBYLEX l ( (",
		"ZRANGEBYLEX l - + WITHSCORES", "ZRANGE l - + BYLEX WITHSCORES", "ZREVRANGEBYLEX l + - LIMIT 0 3",
		"ZREVRANGEBYLEX l [c -", "ZREVRANGEBYLEX l - +", "ZRANGEBYLEX l [b [bb", "ZRANGEBYLEX l - + LIMIT -1 3",
		"ZLEXCOUNT l - +", "ZLEXCOUNT l [b [d", "ZLEXCOUNT l (b (d", "ZLEXCOUNT l x y", "ZLEXCOUNT l + -", "ZLEXCOUNT l [z +"},
	// Members of different scores: Redis walks its listpack.
	{"ZADD m 1 z 2 a 3 m 4 b", "ZRANGEBYLEX m [a [m", "ZRANGEBYLEX m - +", "ZRANGEBYLEX m [c [z",
		"ZRANGEBYLEX m [a [n LIMIT 2 5", "ZRANGEBYLEX m [a [n LIMIT 1 5", "ZREVRANGEBYLEX m [z [a", "ZREVRANGEBYLEX m [n [a LIMIT 1 5",
		"ZLEXCOUNT m [a [z", "ZLEXCOUNT m [c [z", "ZADD m3 1 a 2 z 3 b", "ZRANGEBYLEX m3 [a [c LIMIT 2 5",
		"ZRANGEBYLEX m3 [a [c LIMIT 1 5", "ZREVRANGEBYLEX m3 [c [a LIMIT 2 5", "ZREVRANGEBYLEX m3 [y - LIMIT 1 1", "ZLEXCOUNT m3 [a [c", "ZADD m2 1 a 2 m 3 b", "ZRANGEBYLEX m2 [c [z", "ZLEXCOUNT m2 [c [z",
		"ZREMRANGEBYLEX m [a [m", "ZRANGE m 0 -1"},
	// ZRANGESTORE.
	{"ZADD z 1 a 2 b 3 c 4 d", "ZRANGESTORE d z 0 -1", "ZRANGE d 0 -1 WITHSCORES", "ZRANGESTORE d z 1 3 BYSCORE LIMIT 1 1",
		"ZRANGE d 0 -1 WITHSCORES", "ZRANGESTORE d z 5 10", "EXISTS d", "SET d x", "ZRANGESTORE d z 0 0", "TYPE d",
		"ZRANGESTORE d z 0 -1 WITHSCORES", "ZRANGESTORE d z [a [c BYLEX", "ZRANGE d 0 -1", "ZRANGESTORE d z (4 -inf BYSCORE REV",
		"ZRANGE d 0 -1 WITHSCORES", "ZRANGESTORE z z 1 2", "ZRANGE z 0 -1 WITHSCORES", "ZRANGESTORE d z 0 -1 LIMIT 0 1",
		"ZRANGESTORE d z 0 -1 LIMIT 0 -1", "ZRANGESTORE d z x 1", "ZRANGESTORE d z x 1 BYSCORE", "ZRANGESTORE d z x 1 BYLEX",
		"ZRANGESTORE d", "ZRANGESTORE d z 0", "EXPIRE d 100", "ZRANGESTORE d z 0 0", "TTL d",
		"HSET h f v", "ZRANGESTORE h z 0 -1", "TYPE h", "ZRANGESTORE d z 0 -1 BYLEX REV LIMIT 0 1"},
	// ZREM, ZREMRANGEBY*.
	{"ZADD z 1 a 2 b 3 c 4 d 5 e", "ZREM z a nosuch a", "ZREM z", "ZREM z b c d e", "EXISTS z",
		"ZADD z 1 a 2 b 3 c 4 d 5 e", "ZREMRANGEBYRANK z 0 0", "ZREMRANGEBYRANK z -1 -1", "ZREMRANGEBYRANK z 5 1",
		"ZREMRANGEBYRANK z x 1", "ZREMRANGEBYRANK z 1 x", "ZRANGE z 0 -1", "ZREMRANGEBYRANK z 1 -2", "ZRANGE z 0 -1",
		"ZREMRANGEBYRANK z -100 100", "EXISTS z", "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZREMRANGEBYSCORE z (1 3",
		"ZREMRANGEBYSCORE z x y", "ZREMRANGEBYSCORE z 5 1", "ZRANGE z 0 -1", "ZREMRANGEBYSCORE z -inf +inf", "EXISTS z",
		"ZADD z 0 a 0 b 0 c 0 d", "ZREMRANGEBYLEX z [a (c", "ZREMRANGEBYLEX z x y", "ZREMRANGEBYLEX z + -", "ZRANGE z 0 -1",
		"ZREMRANGEBYLEX z - +", "EXISTS z", "ZREMRANGEBYRANK z 0", "ZREMRANGEBYSCORE z 0 1 2"},
	// ZPOPMIN, ZPOPMAX, ZMPOP.
	{"ZADD z 1 a 2 b 3 c 4 d 5 e", "ZPOPMIN z", "ZPOPMAX z 2", "ZPOPMIN z 0", "ZPOPMIN z -1", "ZPOPMIN z x",
		"ZPOPMIN z 1 2", "ZPOPMAX z 100", "EXISTS z", "ZPOPMIN", "ZADD z 1 a 2 b 3 c", "ZPOPMIN z 9223372036854775807",
		"ZADD z 1 a 2 b 3 c", "ZPOPMAX z -9223372036854775808"},
	{"ZADD z 1 a 2 b 3 c 4 d 5 e", "ZMPOP 1 z MIN", "ZMPOP 2 nosuch z MAX COUNT 2", "ZMPOP 0 z MIN", "ZMPOP -1 z MIN",
		"ZMPOP x z MIN", "ZMPOP 1 z FOO", "ZMPOP 2 z MIN", "ZMPOP 1 z MIN COUNT", "ZMPOP 1 z MIN COUNT 0",
		"ZMPOP 1 z MIN COUNT -1", "ZMPOP 1 z MIN COUNT x", "ZMPOP 1 z MIN COUNT 1 COUNT 1", "ZMPOP 1 z MIN FOO 1",
		"ZMPOP 1 z min count 1", "ZMPOP 9223372036854775807 z MIN", "ZMPOP 1 nosuch MIN", "ZMPOP 1 z MAX COUNT 10",
		"EXISTS z", "ZMPOP 1 z", "ZMPOP 1", "COMMAND GETKEYS ZMPOP 2 a b MIN", "COMMAND GETKEYS ZMPOP 1 a MIN COUNT 2",
		"COMMAND GETKEYS ZMPOP x a MIN", "COMMAND GETKEYS ZMPOP 5 a MIN", "COMMAND GETKEYS ZRANGESTORE d s 0 -1",
		"COMMAND GETKEYS ZADD z 1 a"},
	// ZRANDMEMBER.
	{"ZADD z 1 a 2 b 3 c", "ZRANDMEMBER z 0", "~ ZRANDMEMBER z 3", "~ ZRANDMEMBER z 100 WITHSCORES", "# ZRANDMEMBER z -5",
		"# ZRANDMEMBER z -5 WITHSCORES", "# ZRANDMEMBER z 2", "ZRANDMEMBER z 1 2", "ZRANDMEMBER z 1 withscores x",
		"ZRANDMEMBER z x", "ZRANDMEMBER z 1 FOO", "ZRANDMEMBER z -9223372036854775808",
		"ZRANDMEMBER z -9223372036854775807 WITHSCORES", "ZRANDMEMBER z -4611686018427387904 WITHSCORES",
		"ZADD one 1.5 m", "ZRANDMEMBER one", "ZRANDMEMBER one 3 WITHSCORES", "ZRANDMEMBER one -2 WITHSCORES",
		"ZRANDMEMBER one -2", "ZRANDMEMBER one 1", "ZRANDMEMBER one 0 WITHSCORES"},
	// ZSCAN of a listpack: whole, scores printed as the listpack holds them.
	{"ZADD z 1 a 2.5 b inf c -inf d 1e17 e 0.1 f -0 g 4611686018427387904 h", "ZSCAN z 0", "ZSCAN z 0 MATCH a*",
		"ZSCAN z 0 COUNT 1", "ZSCAN z x", "ZSCAN z 0 NOVALUES", "ZSCAN z 0 COUNT 0", "ZSCAN z"},
	// How scores print, -0, empty members.
	{"ZADD f 0.1 a 1e17 b -2.5e-7 c 123456789012345678 d 5e-324 e 1.7976931348623157e308 f -0 g",
		"ZRANGE f 0 -1 WITHSCORES", "ZSCORE f g", "ZMSCORE f g a", "ZINCRBY f -0 g", "ZINCRBY f -0 newz", "ZSCORE f newz",
		"ZADD f INCR -0 g", "ZPOPMIN f 2", "ZPOPMAX f", "ZRANGEBYSCORE f -0 0 WITHSCORES", "ZRANGEBYSCORE f (-0 0",
		"ZADD e 1 '' 2 x", "ZRANGE e 0 -1 WITHSCORES", "ZSCORE e ''", "ZRANGEBYLEX e [ +", "ZREM e ''", "ZCARD e"},
	// Transactions read sorted sets.
	{"ZADD q 3 c", "MULTI", "ZADD q 1 a 2 b", "ZRANGE q 0 -1 WITHSCORES", "ZSCORE q a", "ZRANK q b", "ZCOUNT q 1 2",
		"ZPOPMIN q", "ZRANGEBYLEX q - +", "ZMPOP 1 q MAX", "ZCARD q", "EXEC"},
}

// Reference: https://redis.io/docs/latest/commands/?group=sorted-set
// (Redis 7.0's replies and error texts, compared with redis-server)
func TestDifferentialZSet(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	riot := startServer(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			for _, script := range zsetScripts {
				runZSetScript(t, redisAddr, riot.addr, proto, script)
			}
			runZSetScript(t, redisAddr, riot.addr, proto, bigZSetScript())
		})
	}
}

// bigZSetScript works on a set past the listpack limit (300 members, 7
// distinct scores): ranks from both ends, ties, removals.
func bigZSetScript() []string {
	add := "ZADD big"
	for i := range 300 {
		add += fmt.Sprintf(" %d m%03d", i%7, i)
	}
	return []string{add, "ZCARD big", "ZRANGE big 250 260 WITHSCORES", "ZRANGE big 10 20 REV WITHSCORES",
		"ZRANGE big 280 290 REV", "ZRANGE big -3 -1", "ZRANK big m000", "ZRANK big m299", "ZRANK big m150",
		"ZREVRANK big m000", "ZREVRANK big m123", "ZCOUNT big 2 4", "ZCOUNT big (2 (4",
		"ZRANGEBYSCORE big (2 4 LIMIT 5 10", "ZREVRANGEBYSCORE big 5 (3 LIMIT 40 3 WITHSCORES",
		"ZREMRANGEBYRANK big 100 150", "ZCARD big", "ZPOPMAX big 3", "ZPOPMIN big 2", "ZREMRANGEBYSCORE big 6 6",
		"ZRANGE big 0 4 WITHSCORES", "ZRANGESTORE dst big 20 30 REV", "ZRANGE dst 0 -1 WITHSCORES", "ZCARD big"}
}

func runZSetScript(t *testing.T, redisAddr, riotAddr string, proto int, script []string) {
	t.Helper()
	var conns [2]*rawConn
	for i, addr := range []string{redisAddr, riotAddr} {
		conns[i] = dialRawAddr(t, addr)
		if proto == 3 {
			conns[i].send(req("HELLO", "3"))
			if _, err := conns[i].reply(); err != nil {
				t.Fatalf("HELLO 3 to %s: %v", addr, err)
			}
		}
		conns[i].send(req("FLUSHALL"))
		if got, err := conns[i].reply(); err != nil || string(got) != "+OK\r\n" {
			t.Fatalf("FLUSHALL on %s = %q, %v", addr, got, err)
		}
	}
	for n, line := range script {
		mode := ""
		if strings.HasPrefix(line, "~ ") || strings.HasPrefix(line, "# ") {
			mode, line = line[:1], line[2:]
		}
		args := scriptArgs(line)
		var replies [2]string
		for i, c := range conns {
			c.send(req(args...))
			_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
			got, err := c.reply()
			if err != nil {
				t.Fatalf("%q (step %d of %q): %v", line, n, script[0], err)
			}
			replies[i] = normalizeZReply(t, mode, got)
		}
		if replies[0] != replies[1] {
			t.Errorf("RESP%d, %s (step %d of script %q):\n  redis-server: %q\n  riot:         %q", proto, line, n, script[0], replies[0], replies[1])
		}
	}
}

// scriptArgs splits a script line into arguments (” empty, \s space,
// \0 NUL).
func scriptArgs(line string) []string {
	var args []string
	for _, w := range strings.Fields(line) {
		if w == "''" {
			w = ""
		}
		w = strings.NewReplacer(`\s`, " ", `\0`, "\x00").Replace(w)
		args = append(args, w)
	}
	return args
}

// normalizeZReply makes a reply comparable under mode: "~" sorts an array
// reply's elements, "#" keeps its first line.
func normalizeZReply(t *testing.T, mode string, raw []byte) string {
	t.Helper()
	switch mode {
	case "#":
		return string(raw[:bytes.IndexByte(raw, '\n')+1])
	case "~":
		r := bufio.NewReader(bytes.NewReader(raw))
		head, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reply %q: %v", raw, err)
		}
		var elems []string
		for {
			e, err := respwire.ReadReply(r)
			if err != nil {
				break
			}
			elems = append(elems, string(e))
		}
		slices.Sort(elems)
		return head + strings.Join(elems, "")
	}
	return string(raw)
}

// TestDifferentialZSetRandom sends the same seeded random sorted set
// commands (random arguments from a pool of bounds, options, scores,
// cursors and keys; sets small enough to be listpacks) to redis-server and to riot,
// in RESP2 and RESP3, and compares every reply. ZRANDMEMBER, whose picks
// are random, is left out.
func TestDifferentialZSetRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	riot := startServer(t, nil)
	names := []string{"ZADD", "ZADD", "ZADD", "ZINCRBY", "ZREM", "ZCARD", "ZSCORE", "ZMSCORE", "ZRANK", "ZREVRANK",
		"ZCOUNT", "ZLEXCOUNT", "ZRANGE", "ZRANGE", "ZRANGESTORE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE",
		"ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZREMRANGEBYLEX", "ZPOPMIN",
		"ZPOPMAX", "ZMPOP", "ZSCAN"}
	keys := []string{"z", "z", "y", "s", "nosuch"}
	words := []string{"a", "b", "c", "d", "e", "0", "1", "-1", "2", "3", "-0", "1.5", "(1", "(2", "[a", "(b", "[c",
		"-", "+", "inf", "-inf", "+inf", "(inf", "x", "", "WITHSCORES", "LIMIT", "REV", "BYSCORE", "BYLEX", "NX",
		"XX", "GT", "LT", "CH", "INCR", "MIN", "MAX", "COUNT", "MATCH", "*", "(-0", "[", "(", "0x10", "\\s1",
		"1e400", "9223372036854775807", "-9223372036854775808", "f", "g", "h", "aa", "ab", "-2", "5", "10", "1e17",
		"a*", "[aa", "(ab", "[\\0"}
	for _, proto := range []int{2, 3} {
		r := rand.New(rand.NewPCG(uint64(proto)+7, 23))
		script := []string{"SET s v"}
		for range 3000 {
			args := []string{names[r.IntN(len(names))]}
			if args[0] == "ZMPOP" {
				args = append(args, "2", keys[r.IntN(len(keys))])
			}
			args = append(args, keys[r.IntN(len(keys))])
			for range r.IntN(7) {
				args = append(args, words[r.IntN(len(words))])
			}
			for i, a := range args {
				if a == "" {
					args[i] = "''"
				}
			}
			script = append(script, strings.Join(args, " "))
		}
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			runZSetScript(t, redisAddr, riot.addr, proto, script)
		})
	}
}
