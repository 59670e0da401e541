package resp

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestDifferentialTransactions sends the same seeded random transactions
// (WATCH, commands in between from the same and from another connection,
// MULTI, queued commands including queuing errors, EXEC or DISCARD) to
// redis-server and to riot (one node, and a follower of a 3-node cluster),
// and compares every reply.
//
// Commands riot refuses inside MULTI (KEYS, SCAN, DBSIZE) and those with
// documented differences of their own (OBJECT, BITCOUNT) are not queued.
// No key expires during the test (deadlines are far or long past).
func TestDifferentialTransactions(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	t.Run("single", func(t *testing.T) {
		ts := startServer(t, nil)
		runTxDifferential(t, redisAddr, ts.addr, 1, 150)
	})
	t.Run("cluster3-follower", func(t *testing.T) {
		addrs := startClusterServers(t, 3)
		follower := ""
		for _, a := range addrs {
			c := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
			state, err := c.Do(t.Context(), "RAFT.STATE").Text()
			c.Close()
			if err == nil && state == "follower" {
				follower = a
				break
			}
		}
		if follower == "" {
			t.Fatalf("no follower among %v", addrs)
		}
		runTxDifferential(t, redisAddr, follower, 2, 100)
	})
}

// txSkip: commands not queued by the transaction generator.
var txSkip = map[string]bool{"KEYS": true, "SCAN*": true, "DBSIZE": true, "LCS": true, "OBJECT": true, "BITCOUNT": true}

func runTxDifferential(t *testing.T, redisAddr, riotAddr string, seed uint64, rounds int) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	open := func(addr string) (*redis.Conn, *redis.Conn) {
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout})
		t.Cleanup(func() { c.Close() })
		return c.Conn(), c.Conn()
	}
	redisTx, redisOther := open(redisAddr)
	riotTx, riotOther := open(riotAddr)
	for _, c := range []*redis.Conn{redisTx, riotTx} {
		if err := c.FlushAll(ctx).Err(); err != nil {
			t.Fatalf("FLUSHALL: %v", err)
		}
	}
	g := &cmdGen{r: rand.New(rand.NewPCG(seed, 7)), start: time.Now().Unix()}
	var log []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nafter:\n%s", fmt.Sprintf(format, args...), strings.Join(log[max(0, len(log)-40):], "\n"))
	}
	both := func(onTx bool, args []string) (string, string) {
		t.Helper()
		rc, tc := redisOther, riotOther
		if onTx {
			rc, tc = redisTx, riotTx
		}
		req := make([]any, len(args))
		for i, a := range args {
			req[i] = a
		}
		rv, rerr := rc.Do(ctx, req...).Result()
		tv, terr := tc.Do(ctx, req...).Result()
		return replyText(rv, rerr), replyText(tv, terr)
	}
	compare := func(onTx bool, args []string) {
		t.Helper()
		r, o := both(onTx, args)
		r, o = normalizeReply(args, r), normalizeReply(args, o)
		who := "tx"
		if !onTx {
			who = "other"
		}
		log = append(log, fmt.Sprintf("  [%s] %q -> %s", who, args, r))
		if r != o {
			fail("[%s] %q: redis %q, riot %q", who, args, r, o)
		}
	}
	nextCmd := func() []string {
		for {
			if args := g.next(); !txSkip[strings.ToUpper(args[0])] {
				return args
			}
		}
	}
	outcomes := map[string]int{}
	defer func() { t.Logf("EXEC outcomes: %v", outcomes) }()
	for round := range rounds {
		log = append(log, fmt.Sprintf("round %d", round))
		if g.r.IntN(2) == 0 {
			args := []string{"WATCH"}
			for range 1 + g.r.IntN(2) {
				args = append(args, g.key())
			}
			compare(true, args)
		}
		for range g.r.IntN(3) {
			compare(g.r.IntN(2) == 0, nextCmd())
		}
		compare(true, []string{"MULTI"})
		var queued [][]string
		for range g.r.IntN(6) {
			args := nextCmd()
			if g.r.IntN(25) == 0 {
				args = []string{"NOSUCHCMD", "x"}
			}
			compare(true, args)
			queued = append(queued, args)
		}
		switch g.r.IntN(10) {
		case 0:
			compare(true, []string{"DISCARD"})
			outcomes["discarded"]++
			continue
		case 1:
			compare(true, []string{"WATCH", "k0"})
		}
		rv, rerr := redisTx.Do(ctx, "EXEC").Result()
		tv, terr := riotTx.Do(ctx, "EXEC").Result()
		r, o := txReplyText(queued, rv, rerr), txReplyText(queued, tv, terr)
		log = append(log, fmt.Sprintf("  EXEC -> %s", r))
		switch {
		case strings.HasPrefix(r, "["):
			outcomes["executed"]++
		case r == "(nil)":
			outcomes["aborted by WATCH"]++
		default:
			outcomes[r]++
		}
		if r != o {
			fail("EXEC of %q: redis %s, riot %s", queued, r, o)
		}
	}
}

// txReplyText prints an EXEC reply with each command's reply normalized as
// normalizeReply does for the command alone.
func txReplyText(queued [][]string, v any, err error) string {
	arr, ok := v.([]any)
	if err != nil || !ok || len(arr) != len(queued) {
		return replyText(v, err)
	}
	parts := make([]string, len(arr))
	for i, e := range arr {
		var s string
		if re, isErr := e.(error); isErr {
			s = re.Error()
		} else {
			s = replyText(e, nil)
		}
		parts[i] = normalizeReply(queued[i], s)
	}
	return "[" + strings.Join(parts, " | ") + "]"
}
