package resp

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Reference: https://redis.io/docs/latest/commands/lcs/ (the examples of
// the page, every option, the errors in the order Redis checks them)
func TestLCS(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts, eng := startServerEngine(t, func(c *Config) { c.MaxBulkLen = 1 << 20 })
		putForeignType(t, eng, "list")
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		matches := "map[len:6 matches:[[[4 7] [5 8]] [[2 3] [0 1]]]]"
		matchesLen := "map[len:6 matches:[[[4 7] [5 8] 4] [[2 3] [0 1] 2]]]"
		if proto == 2 {
			matches = "[matches [[[4 7] [5 8]] [[2 3] [0 1]]] len 6]"
			matchesLen = "[matches [[[4 7] [5 8] 4] [[2 3] [0 1] 2]] len 6]"
		}
		runExchanges(ctx, t, rdb, []exchange{
			ex("OK", "MSET", "key1", "ohmytext", "key2", "mynewtext"),
			ex("mytext", "LCS", "key1", "key2"),
			ex("6", "LCS", "key1", "key2", "LEN"),
			ex(matches, "LCS", "key1", "key2", "IDX"),
			ex(matchesLen, "LCS", "key1", "key2", "idx", "withmatchlen"),
			ex(strings.Replace(matchesLen, " [[2 3] [0 1] 2]", "", 1), "LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
			ex(matches, "LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-5"),
			ex("", "LCS", "key1", "missing"),
			ex("0", "LCS", "missing", "missing", "LEN"),
			ex("ohmytext", "LCS", "key1", "key1"),
			// errors
			ex("ERR If you want both the length and indexes, please just use IDX.", "LCS", "key1", "key2", "IDX", "LEN"),
			ex(textSyntax, "LCS", "key1", "key2", "FOO"),
			ex(textSyntax, "LCS", "key1", "key2", "MINMATCHLEN"),
			ex(textNotInteger, "LCS", "key1", "key2", "MINMATCHLEN", "x"),
			ex(textNotInteger, "LCS", "key1", "key2", "MINMATCHLEN", "99999999999999999999"),
			ex("ERR The specified keys must contain string values", "LCS", "key1", "list", "FOO"),
			ex("ERR The specified keys must contain string values", "LCS", "list", "missing"),
			ex("ERR wrong number of arguments for 'lcs' command", "LCS", "key1"),
		})
		// The table (4 bytes a cell) may not exceed proto-max-bulk-len (1 MB
		// here): 600 x 600 bytes is 1.44 MB, 400 x 400 is 0.64 MB.
		big, small := strings.Repeat("a", 600), strings.Repeat("a", 400)
		mustSet(ctx, t, rdb, "big", big)
		mustSet(ctx, t, rdb, "small", small)
		runExchanges(ctx, t, rdb, []exchange{
			ex("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len", "LCS", "big", "big", "LEN"),
			ex("400", "LCS", "small", "small", "LEN"),
			ex(small, "LCS", "small", "big"), // 401 x 601 x 4 bytes: 0.96 MB
		})
	})
}

// TestLCSRESP3Map checks the exact bytes of an IDX reply: a RESP3 map, a
// flat array in RESP2.
func TestLCSRESP3Map(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts)
	c.roundTrip("MSET a ohmytext b mynewtext\r\n", "+OK\r\n")
	const matches = "*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
	c.roundTrip("LCS a b IDX MINMATCHLEN 3 WITHMATCHLEN\r\n",
		"*4\r\n$7\r\nmatches\r\n"+matches+"$3\r\nlen\r\n:6\r\n")
	c.roundTrip("HELLO 3\r\n")
	_, _ = c.reply() // HELLO's map
	c.roundTrip("LCS a b IDX MINMATCHLEN 3 WITHMATCHLEN\r\n",
		"%2\r\n$7\r\nmatches\r\n"+matches+"$3\r\nlen\r\n:6\r\n")
}

// TestLCSAgainstRedis compares LCS on random strings with every option with
// redis-server: among several longest subsequences, riot must pick Redis's,
// and report the same ranges.
func TestLCSAgainstRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("needs redis-server; skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	ts := startServer(t, nil)
	ctx := testCtx(t)
	for _, proto := range []int{2, 3} {
		opts := func(addr string) *redis.Options {
			return &redis.Options{Addr: addr, Protocol: proto, MaxRetries: -1, DisableIdentity: true,
				ReadTimeout: ioTimeout, WriteTimeout: ioTimeout, DialTimeout: ioTimeout}
		}
		ref, riot := redis.NewClient(opts(redisAddr)), redis.NewClient(opts(ts.addr))
		t.Cleanup(func() { ref.Close(); riot.Close() })
		r := rand.New(rand.NewPCG(uint64(proto), 6))
		randStr := func() string {
			b := make([]byte, r.IntN(40))
			for i := range b {
				b[i] = "abcd"[r.IntN(1+r.IntN(4))]
			}
			return string(b)
		}
		optSets := [][]string{nil, {"LEN"}, {"IDX"}, {"IDX", "WITHMATCHLEN"}, {"IDX", "MINMATCHLEN", "2"},
			{"IDX", "MINMATCHLEN", "3", "WITHMATCHLEN"}, {"MINMATCHLEN", "2"}, {"LEN", "MINMATCHLEN", "1"}}
		for i := range 300 {
			a, b := randStr(), randStr()
			for _, c := range []*redis.Client{ref, riot} {
				if err := c.MSet(ctx, "a", a, "b", b).Err(); err != nil {
					t.Fatalf("MSET: %v", err)
				}
			}
			args := []any{"LCS", "a", "b"}
			for _, o := range optSets[i%len(optSets)] {
				args = append(args, o)
			}
			want, got := replyText(ref.Do(ctx, args...).Result()), replyText(riot.Do(ctx, args...).Result())
			if want != got {
				t.Errorf("RESP%d: a=%q b=%q: %v: redis-server %s, riot %s", proto, a, b, args, want, got)
			}
		}
	}
}
