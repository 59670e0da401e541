package resp

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Reference: https://redis.io/docs/latest/commands/expire/, pexpire/,
// expireat/, pexpireat/ (NX, XX, GT, LT; past deadlines delete),
// persist/, ttl/, pttl/, expiretime/, pexpiretime/
func TestExpireCommands(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		at := time.Now().Add(time.Hour).Unix()
		runExchanges(ctx, t, rdb, []exchange{
			ex("OK", "SET", "k", "v"),
			ex("-1", "TTL", "k"),
			ex("-1", "PTTL", "k"),
			ex("-1", "EXPIRETIME", "k"),
			ex("-2", "TTL", "nokey"),
			ex("-2", "PTTL", "nokey"),
			ex("-2", "PEXPIRETIME", "nokey"),
			ex("0", "EXPIRE", "nokey", "10"),
			ex("1", "EXPIRE", "k", "100"),
			ex("100", "TTL", "k"),
			ex("0", "EXPIRE", "k", "100", "NX"),
			ex("0", "EXPIRE", "k", "50", "GT"),
			ex("1", "EXPIRE", "k", "200", "gt"),
			ex("0", "EXPIRE", "k", "300", "LT"),
			ex("1", "EXPIRE", "k", "150", "LT"),
			ex("1", "EXPIRE", "k", "10", "XX"),
			ex("10", "TTL", "k"),
			ex("1", "PERSIST", "k"),
			ex("0", "PERSIST", "k"),
			ex("0", "PERSIST", "nokey"),
			ex("0", "EXPIRE", "k", "10", "XX"),
			ex("0", "EXPIRE", "k", "10", "GT"), // no TTL counts as infinite
			ex("1", "EXPIRE", "k", "10", "LT"),
			ex("1", "PEXPIRE", "k", "100000"),
			ex("100", "TTL", "k"),
			ex("1", "EXPIREAT", "k", strconv.FormatInt(at, 10)),
			ex(strconv.FormatInt(at, 10), "EXPIRETIME", "k"),
			ex(strconv.FormatInt(at*1000, 10), "PEXPIRETIME", "k"),
			ex("1", "PEXPIREAT", "k", strconv.FormatInt(at*1000+1499, 10)),
			ex(strconv.FormatInt(at+1, 10), "EXPIRETIME", "k"), // rounded
			ex("1", "EXPIRE", "k", "0"),
			ex("0", "EXISTS", "k"),
			ex("OK", "SET", "k", "v"),
			ex("1", "EXPIRE", "k", "-5"),
			ex("-2", "TTL", "k"),
			ex("OK", "SET", "k", "v"),
			ex("1", "PEXPIREAT", "k", "1"),
			ex("0", "EXISTS", "k"),
			ex("OK", "SET", "k", "v"),
			ex("1", "EXPIREAT", "k", "-9223372036854775"), // very negative: gone
			ex("0", "EXISTS", "k"),
			// errors
			ex("OK", "SET", "k", "v"),
			ex(textNotInteger, "EXPIRE", "k", "abc"),
			ex(textNotInteger, "EXPIRE", "k", "1.5"),
			ex("ERR Unsupported option foo", "EXPIRE", "k", "10", "foo"),
			ex("ERR NX and XX, GT or LT options at the same time are not compatible", "EXPIRE", "k", "abc", "NX", "XX"),
			ex("ERR NX and XX, GT or LT options at the same time are not compatible", "PEXPIRE", "k", "10", "NX", "GT"),
			ex("ERR GT and LT options at the same time are not compatible", "EXPIREAT", "k", "10", "GT", "LT"),
			ex("ERR invalid expire time in 'expire' command", "EXPIRE", "k", "9223372036854775807"),
			ex("ERR invalid expire time in 'expire' command", "EXPIRE", "k", "-9223372036854775807"),
			ex("ERR invalid expire time in 'pexpire' command", "PEXPIRE", "k", "9223372036854775807"),
			ex("1", "PEXPIREAT", "k", "9223372036854775807"),
			ex("1", "EXPIREAT", "k", "9223372036854775"),
			ex("ERR invalid expire time in 'expireat' command", "EXPIREAT", "k", "9223372036854776"),
			ex("ERR wrong number of arguments for 'ttl' command", "TTL"),
			ex("ERR wrong number of arguments for 'expire' command", "EXPIRE", "k"),
		})
		pttl, err := rdb.Do(ctx, "PTTL", "k").Int64()
		if err != nil || pttl < 9223372036854775000-time.Now().UnixMilli()-time.Hour.Milliseconds() {
			t.Errorf("PTTL after EXPIREAT far away = %v, %v; want centuries", pttl, err)
		}
		secs, err := rdb.Do(ctx, "TIME").StringSlice()
		if err != nil || len(secs) != 2 {
			t.Fatalf("TIME = %q, %v", secs, err)
		}
		s, err1 := strconv.ParseInt(secs[0], 10, 64)
		us, err2 := strconv.ParseInt(secs[1], 10, 64)
		if d := time.Since(time.Unix(s, us*1000)); err1 != nil || err2 != nil || us < 0 || us >= 1e6 || d < -time.Minute || d > time.Minute {
			t.Errorf("TIME = %q: %v off, want this machine's clock", secs, d)
		}
	})
}

// TestExpiryHidesKeys: a key is absent for every command once its
// deadline has passed, before active expiry deletes it.
// Reference: https://redis.io/docs/latest/commands/expire/ (how keys
// expire)
func TestExpiryHidesKeys(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		deadline := time.UnixMilli(time.Now().Add(30 * time.Millisecond).UnixMilli()) // whole ms, no monotonic clock
		if err := rdb.Do(ctx, "SET", "k", "v", "PXAT", strconv.FormatInt(deadline.UnixMilli(), 10)).Err(); err != nil {
			t.Fatalf("SET k v PXAT: %v", err)
		}
		mustSet(ctx, t, rdb, "other", "x")
		// Wait for the deadline by asking: GET must turn nil at it.
		for {
			_, err := rdb.Get(ctx, "k").Result()
			if errors.Is(err, redis.Nil) {
				break
			}
			if err != nil {
				t.Fatalf("GET k: %v", err)
			}
			if time.Since(deadline) > ioTimeout {
				t.Fatalf("GET k still finds the key %v after its deadline", ioTimeout)
			}
		}
		if time.Now().Before(deadline) {
			t.Errorf("GET k was nil before the deadline")
		}
		runExchanges(ctx, t, rdb, []exchange{
			ex("0", "EXISTS", "k"),
			ex("-2", "TTL", "k"),
			ex("none", "TYPE", "k"),
			ex("[other]", "KEYS", "*"),
			ex("1", "DBSIZE"),
			ex("ERR no such key", "RENAME", "k", "k2"),
			ex("1", "SETNX", "k", "new"),
			ex("-1", "TTL", "k"),
		})
	})
}
