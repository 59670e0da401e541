package resp

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	textSyntax    = "ERR syntax error"
	textWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"
)

// Reference: https://redis.io/docs/latest/commands/set/ (NX, XX, GET,
// KEEPTTL, EX, PX, EXAT, PXAT and their errors)
func TestSetOptions(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		future := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
		runExchanges(ctx, t, rdb, []exchange{
			ex("OK", "SET", "a", "1"),
			ex("(nil)", "SET", "a", "2", "NX"),
			ex("1", "SET", "a", "2", "XX", "GET"),
			ex("2", "SET", "a", "3", "NX", "GET"), // not set, old value back
			ex("(nil)", "SET", "b", "3", "XX", "GET"),
			ex("(nil)", "GET", "b"),
			ex("OK", "SET", "a", "v", "ex", "100"),
			ex("100", "TTL", "a"),
			ex("OK", "SET", "a", "w", "KEEPTTL"),
			ex("100", "TTL", "a"),
			ex("w", "GET", "a"),
			ex("OK", "SET", "a", "x"),
			ex("-1", "TTL", "a"),
			ex("OK", "SET", "a", "v", "EX", "10", "EX", "20"), // an option may repeat
			ex("20", "TTL", "a"),
			ex("OK", "SET", "a", "v", "PXAT", future),
			ex("3600", "TTL", "a"),
			ex("OK", "SET", "a", "v", "EXAT", "1"), // in the past: the key is gone
			ex("0", "EXISTS", "a"),
			ex("(nil)", "SET", "a", "v", "GET", "PX", "100000"),
			ex("100", "TTL", "a"),
			// errors
			ex("ERR invalid expire time in 'set' command", "SET", "a", "v", "EX", "0"),
			ex("ERR invalid expire time in 'set' command", "SET", "a", "v", "EX", "-1"),
			ex("ERR invalid expire time in 'set' command", "SET", "a", "v", "EX", "9223372036854775807"),
			ex("ERR invalid expire time in 'set' command", "SET", "a", "v", "PX", "9223372036854775807"),
			ex("ERR invalid expire time in 'set' command", "SET", "a", "v", "PXAT", "0"),
			ex(textNotInteger, "SET", "a", "v", "EX", "abc"),
			ex(textNotInteger, "SET", "a", "v", "EX", "1.5"),
			ex(textSyntax, "SET", "a", "v", "NX", "XX"),
			ex(textSyntax, "SET", "a", "v", "EX", "10", "PX", "10"),
			ex(textSyntax, "SET", "a", "v", "KEEPTTL", "EX", "10"),
			ex(textSyntax, "SET", "a", "v", "EX", "10", "KEEPTTL"),
			ex(textSyntax, "SET", "a", "v", "EX"),
			ex(textSyntax, "SET", "a", "v", "PERSIST"),
			ex(textSyntax, "SET", "a", "v", "FOO"),
			ex("ERR wrong number of arguments for 'set' command", "SET", "a"),
		})
	})
}

// Reference: https://redis.io/docs/latest/commands/setnx/, setex/,
// psetex/, getset/, getdel/, getex/, msetnx/
func TestStringWrites(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		runExchanges(ctx, t, rdb, []exchange{
			ex("1", "SETNX", "a", "1"),
			ex("0", "SETNX", "a", "2"),
			ex("1", "GET", "a"),
			ex("OK", "SETEX", "a", "100", "v"),
			ex("100", "TTL", "a"),
			ex("ERR invalid expire time in 'setex' command", "SETEX", "a", "0", "v"),
			ex("ERR invalid expire time in 'setex' command", "SETEX", "a", "-1", "v"),
			ex(textNotInteger, "SETEX", "a", "x", "v"),
			ex("OK", "PSETEX", "a", "100000", "v"),
			ex("100", "TTL", "a"),
			ex("ERR invalid expire time in 'psetex' command", "PSETEX", "a", "0", "v"),
			ex("v", "GETSET", "a", "x"),
			ex("-1", "TTL", "a"), // GETSET drops the TTL
			ex("(nil)", "GETSET", "new", "y"),
			ex("x", "GETDEL", "a"),
			ex("(nil)", "GETDEL", "a"),
			ex("OK", "SET", "n", "10"),
			ex("10", "GETEX", "n"),
			ex("10", "GETEX", "n", "EX", "100"),
			ex("100", "TTL", "n"),
			ex("10", "GETEX", "n", "PERSIST"),
			ex("-1", "TTL", "n"),
			ex("10", "GETEX", "n", "PX", "50000"),
			ex("50", "TTL", "n"),
			ex("10", "GETEX", "n", "EXAT", "1"), // in the past: deleted
			ex("0", "EXISTS", "n"),
			ex("(nil)", "GETEX", "nokey", "EX", "abc"), // a missing key is nil first
			ex("OK", "SET", "n", "1"),
			ex(textNotInteger, "GETEX", "n", "EX", "abc"),
			ex("ERR invalid expire time in 'getex' command", "GETEX", "n", "EX", "-5"),
			ex(textSyntax, "GETEX", "n", "PERSIST", "EX", "10"),
			ex(textSyntax, "GETEX", "n", "NX"),
			ex(textSyntax, "GETEX", "n", "KEEPTTL"),
			ex("1", "MSETNX", "x", "1", "y", "2"),
			ex("0", "MSETNX", "x", "3", "z", "4"),
			ex("[1 2 <nil>]", "MGET", "x", "y", "z"),
			ex("1", "MSETNX", "d", "1", "d", "2"),
			ex("2", "GET", "d"),
			ex("ERR wrong number of arguments for 'msetnx' command", "MSETNX", "x", "1", "y"),
		})
	})
}

// Reference: https://redis.io/docs/latest/commands/append/, strlen/,
// getrange/, substr/, setrange/, incrbyfloat/
func TestStringRanges(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, func(c *Config) { c.MaxBulkLen = 1 << 20 })
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		runExchanges(ctx, t, rdb, []exchange{
			ex("5", "APPEND", "s", "hello"),
			ex("10", "APPEND", "s", "world"),
			ex("helloworld", "GET", "s"),
			ex("10", "STRLEN", "s"),
			ex("0", "STRLEN", "nokey"),
			ex("helloworld", "GETRANGE", "s", "0", "-1"),
			ex("rld", "GETRANGE", "s", "-3", "-1"),
			ex("", "GETRANGE", "s", "5", "3"),
			ex("", "GETRANGE", "s", "-1", "-5"),
			ex("helloworld", "GETRANGE", "s", "0", "100"),
			ex("hello", "SUBSTR", "s", "-100", "4"),
			ex("", "GETRANGE", "nokey", "0", "-1"),
			ex(textNotInteger, "GETRANGE", "s", "a", "1"),
			ex("10", "SETRANGE", "s", "5", "W"),
			ex("helloWorld", "GET", "s"),
			ex("13", "SETRANGE", "s", "12", "!"),
			ex("helloWorld\x00\x00!", "GET", "s"),
			ex("0", "SETRANGE", "new", "3", ""),
			ex("0", "EXISTS", "new"),
			ex("13", "SETRANGE", "s", "1", ""),
			ex("ERR offset is out of range", "SETRANGE", "s", "-1", "x"),
			ex("ERR string exceeds maximum allowed size (proto-max-bulk-len)", "SETRANGE", "s", "1048576", "x"),
			ex("1048576", "SETRANGE", "big", "1048575", "x"),
			ex("ERR string exceeds maximum allowed size (proto-max-bulk-len)", "APPEND", "big", "x"),
			ex("0.1", "INCRBYFLOAT", "f", "0.1"),
			ex("0.3", "INCRBYFLOAT", "f", "0.2"),
			ex("5000.29999999999999982", "INCRBYFLOAT", "f", "5.0e3"), // as redis-server says
			ex("ERR value is not a valid float", "INCRBYFLOAT", "f", "abc"),
			ex("ERR value is not a valid float", "INCRBYFLOAT", "s", "1"),
			ex("ERR increment would produce NaN or Infinity", "INCRBYFLOAT", "f", "inf"),
			ex("OK", "SET", "e", "1", "EX", "100"),
			ex("2.5", "INCRBYFLOAT", "e", "1.5"),
			ex("100", "TTL", "e"), // kept
		})
	})
}

// Reference: https://redis.io/docs/latest/commands/setbit/, getbit/,
// bitcount/ (Redis 7.2 argument checks)
func TestBits(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts := startServer(t, nil)
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		runExchanges(ctx, t, rdb, []exchange{
			ex("0", "SETBIT", "b", "7", "1"),
			ex("1", "SETBIT", "b", "7", "0"),
			ex("0", "SETBIT", "b", "100", "1"),
			ex("13", "STRLEN", "b"),
			ex("1", "GETBIT", "b", "100"),
			ex("0", "GETBIT", "b", "99"),
			ex("0", "GETBIT", "b", "1000000"),
			ex("0", "GETBIT", "nokey", "3"),
			ex("ERR bit offset is not an integer or out of range", "SETBIT", "b", "-1", "1"),
			ex("ERR bit offset is not an integer or out of range", "SETBIT", "b", "4294967296", "1"),
			ex("ERR bit offset is not an integer or out of range", "GETBIT", "b", "x"),
			ex("ERR bit is not an integer or out of range", "SETBIT", "b", "1", "2"),
			ex("ERR bit is not an integer or out of range", "SETBIT", "b", "1", "-1"),
			ex("1", "BITCOUNT", "b"),
			ex("OK", "SET", "bc", "foobar"),
			ex("26", "BITCOUNT", "bc"),
			ex("4", "BITCOUNT", "bc", "0", "0"),
			ex("6", "BITCOUNT", "bc", "1", "1"),
			ex("6", "BITCOUNT", "bc", "1", "1", "BYTE"),
			ex("17", "BITCOUNT", "bc", "5", "30", "BIT"),
			ex("0", "BITCOUNT", "bc", "-1", "-2"),
			ex("26", "BITCOUNT", "bc", "0", "-1", "bit"),
			ex("0", "BITCOUNT", "nokey"),
			ex("0", "BITCOUNT", "nokey", "0", "1"),
			ex(textSyntax, "BITCOUNT", "bc", "0"),
			ex(textSyntax, "BITCOUNT", "nokey", "1"), // Redis 7.2: checked even for a missing key
			ex(textSyntax, "BITCOUNT", "bc", "0", "1", "foo"),
			ex(textNotInteger, "BITCOUNT", "bc", "a", "b"),
		})
	})
}

// TestForeignType: a key of a type riot does not implement is a key like
// any other for the keyspace commands, WRONGTYPE for every string command,
// and the commands of families riot lacks stay unknown.
// Reference: https://redis.io/docs/latest/commands/type/
func TestForeignType(t *testing.T) {
	forEachProto(t, func(t *testing.T, proto int) {
		ts, eng := startServerEngine(t, nil)
		ctx := testCtx(t)
		rdb := newClient(t, ts, proto)
		putForeignType(t, eng, "l")
		var steps []exchange
		for _, args := range [][]string{
			{"GET", "l"}, {"GETSET", "l", "v"}, {"GETDEL", "l"}, {"GETEX", "l"}, {"SET", "l", "v", "GET"},
			{"APPEND", "l", "v"}, {"STRLEN", "l"}, {"GETRANGE", "l", "0", "1"}, {"SETRANGE", "l", "0", "v"},
			{"INCR", "l"}, {"DECRBY", "l", "1"}, {"INCRBYFLOAT", "l", "1"}, {"SETBIT", "l", "0", "1"},
			{"GETBIT", "l", "0"}, {"BITCOUNT", "l"}, {"BITCOUNT", "l", "0", "1"},
			{"HSET", "l", "f", "v"}, {"HGET", "l", "f"}, {"SADD", "l", "m"}, {"SCARD", "l"},
			{"ZADD", "l", "1", "m"}, {"ZRANGE", "l", "0", "-1"},
		} {
			steps = append(steps, exchange{args, textWrongType})
		}
		steps = append(steps,
			ex("stream", "TYPE", "l"),
			ex("[<nil>]", "MGET", "l"),
			ex("1", "EXISTS", "l"),
			ex("stream", "OBJECT", "ENCODING", "l"),
			ex("1", "EXPIRE", "l", "100"),
			ex("100", "TTL", "l"),
			ex("OK", "RENAME", "l", "l2"),
			ex("100", "TTL", "l2"),
			ex("1", "COPY", "l2", "l3"),
			ex("stream", "TYPE", "l3"),
			ex("0", "SETNX", "l2", "v"),
			ex("0", "MSETNX", "x", "1", "l2", "v"),
			ex("[l3 l2]", "KEYS", "*"),
			ex("[0 [l3 l2]]", "SCAN", "0", "TYPE", "stream"),
			ex("[0 []]", "SCAN", "0", "TYPE", "string"),
			ex("1", "DEL", "l3"),
			ex("OK", "SET", "l2", "now a string"),
			ex("string", "TYPE", "l2"),
			ex("-1", "TTL", "l2"),
			ex("ERR unknown command 'XADD', with args beginning with: 'h' '*' 'f' 'v' ", "XADD", "h", "*", "f", "v"),
		)
		runExchanges(ctx, t, rdb, steps)
	})
}

// TestNullReplies: the exact bytes of the null replies of the new
// commands, per protocol.
func TestNullReplies(t *testing.T) {
	ts := startServer(t, nil)
	for _, proto := range []int{2, 3} {
		c := dialRaw(t, ts)
		null := "$-1\r\n"
		if proto == 3 {
			c.send("HELLO 3\r\n")
			if _, err := c.reply(); err != nil {
				t.Fatalf("HELLO 3: %v", err)
			}
			null = "_\r\n"
		}
		c.roundTrip("SET k v\r\n", "+OK\r\n")
		for _, req := range []string{
			"SET k v NX", "SET nokey v XX", "SET nokey v XX GET", "GETDEL nokey", "GETEX nokey",
			"GETSET nokey2 v", "OBJECT ENCODING nokey", "MEMORY USAGE nokey", "RANDOMKEY",
		} {
			if req == "RANDOMKEY" {
				c.roundTrip("FLUSHALL\r\n", "+OK\r\n")
			}
			c.roundTrip(req+"\r\n", null)
		}
		c.roundTrip("MSET a 1 b 2\r\n", "+OK\r\n")
		c.roundTrip("MGET a nokey\r\n", "*2\r\n$1\r\n1\r\n"+null)
		c.roundTrip("GETRANGE nokey 0 1\r\n", "$0\r\n\r\n")
		c.roundTrip("TYPE a\r\n", "+string\r\n")
		c.roundTrip("TYPE nokey\r\n", "+none\r\n")
		c.roundTrip("INCRBYFLOAT f 1.5\r\n", "$3\r\n1.5\r\n")
		c.roundTrip("SCAN 0 MATCH a\r\n", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n")
		c.roundTrip("TIME extra\r\n", "-ERR wrong number of arguments for 'time' command\r\n")
	}
}

// TestStringWritesPipelined: a pipeline mixing the new writes and reads
// gets its replies in order and sees its own writes.
func TestStringWritesPipelined(t *testing.T) {
	ts := startServer(t, nil)
	c := dialRaw(t, ts)
	var req strings.Builder
	for _, r := range []string{"SET k 1 EX 100", "APPEND k 2", "GETEX k PERSIST", "TTL k", "SETRANGE k 0 x", "GETDEL k", "EXISTS k"} {
		req.WriteString(r + "\r\n")
	}
	c.roundTrip(req.String(), "+OK\r\n", ":2\r\n", "$2\r\n12\r\n", ":-1\r\n", ":2\r\n", "$2\r\nx2\r\n", ":0\r\n")
}
