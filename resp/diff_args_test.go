package resp

import (
	"net"
	"strings"
	"testing"
	"time"
)

// argCases are requests at the edges of argument parsing: arity, integers
// Redis refuses ("00", "+1", "-0", out of range), options in the wrong
// order or combination, unknown subcommands. Each is sent on a fresh
// connection to redis-server and to riot (after SET k 10 on both), and the
// replies must be the same bytes. Requests whose replies differ by design
// (docs/commands.md: BITCOUNT's argument check, commands
// riot lacks) are not in the list.
var argCases = [][]string{
	{"PING", "a", "b"}, {"ECHO"}, {"ECHO", "a", "b"}, {"TIME", "x"},
	{"SELECT", "00"}, {"SELECT", "+0"}, {"SELECT", "-0"}, {"SELECT", "0"}, {"SELECT", "99999999999999999999"}, {"SELECT", ""},
	{"SELECT", "1"}, {"SELECT", "15"}, {"SELECT", "16"}, {"SELECT", "-1"}, {"SELECT", "2147483648"}, {"SELECT", "1", "2"},
	{"MOVE", "k", "1"}, {"MOVE", "k", "0"}, {"MOVE", "k", "16"}, {"MOVE", "k", "x"}, {"MOVE", "k", "-1"}, {"MOVE", "nosuch", "2"}, {"MOVE", "k"},
	{"SWAPDB", "0", "1"}, {"SWAPDB", "0", "16"}, {"SWAPDB", "x", "1"}, {"SWAPDB", "0", "x"}, {"SWAPDB", "-1", "0"}, {"SWAPDB", "0"},
	{"SWAPDB", "99999999999", "0"}, {"FLUSHDB", "x"}, {"FLUSHDB", "ASYNC", "x"},
	{"AUTH", "default", "x"}, {"AUTH", "x"}, {"AUTH", "a", "b", "c"}, {"AUTH", "bob", "x"},
	{"HELLO", "+3"}, {"HELLO", "03"}, {"HELLO", "4"}, {"HELLO", "3", "SETNAME"}, {"HELLO", "3", "AUTH", "default"},
	{"HELLO", "3", "FOO"}, {"HELLO", "3", "SETNAME", "a b"},
	{"CLIENT", "SETNAME"}, {"CLIENT", "SETNAME", "a", "b"}, {"CLIENT", "SETNAME", "a b"}, {"CLIENT", "GETNAME", "x"},
	{"CLIENT", "ID", "x"}, {"CLIENT", "FOO"}, {"CLIENT", "KILL"}, {"CLIENT", "KILL", "1.2.3.4:5"},
	{"CLIENT", "KILL", "ID", "abc"}, {"CLIENT", "KILL", "FOO", "bar"}, {"CLIENT", "LIST", "TYPE", "foo"},
	{"CLIENT", "LIST", "ID", "abc"}, {"CLIENT", "INFO", "x"},
	{"CONFIG"}, {"CONFIG", "GET"}, {"CONFIG", "SET"}, {"CONFIG", "SET", "proto-max-bulk-len"},
	{"CONFIG", "SET", "proto-max-bulk-len", "abc"}, {"CONFIG", "SET", "proto-max-bulk-len", "-1"},
	{"CONFIG", "SET", "nosuch", "1"}, {"CONFIG", "FOO"},
	{"COMMAND", "FOO"}, {"COMMAND", "COUNT", "x"}, {"COMMAND", "GETKEYS"}, {"COMMAND", "GETKEYS", "get"},
	{"COMMAND", "GETKEYS", "set", "k", "v"}, {"COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"},
	{"COMMAND", "GETKEYS", "nosuch", "a"}, {"COMMAND", "GETKEYS", "ping", "a"}, {"COMMAND", "GETKEYS", "mset", "a"},
	{"COMMAND", "LIST", "FILTERBY"}, {"COMMAND", "LIST", "x"}, {"COMMAND", "LIST", "FILTERBY", "FOO", "x"},
	{"COMMAND", "LIST", "FILTERBY", "MODULE", "x"}, {"COMMAND", "INFO", "nosuch"}, {"COMMAND", "DOCS", "nosuch"},
	{"OBJECT"}, {"OBJECT", "ENCODING"}, {"OBJECT", "FOO", "k"}, {"OBJECT", "HELP", "x"}, {"OBJECT", "IDLETIME", "nosuch"},
	{"MEMORY", "USAGE", "k", "SAMPLES", "x"}, {"MEMORY", "USAGE", "k", "SAMPLES", "-1"}, {"MEMORY", "USAGE", "k", "FOO"},
	{"MEMORY", "USAGE", "nosuch"},
	{"DBSIZE", "x"}, {"RANDOMKEY", "x"}, {"ROLE", "x"}, {"TTL"}, {"EXISTS"}, {"TYPE"}, {"KEYS"}, {"RENAME", "k"},
	{"SETRANGE", "k", "-1", "x"}, {"SETRANGE", "k", "536870912", "x"}, {"SETBIT", "k", "4294967296", "1"},
	{"SETBIT", "k", "-1", "1"}, {"SETBIT", "k", "0", "2"}, {"GETBIT", "k", "-1"},
	{"INCRBY", "k", "9223372036854775808"}, {"DECRBY", "k", "-9223372036854775808"}, {"INCRBY", "k", "00"},
	{"INCRBYFLOAT", "k", "nan"}, {"INCRBYFLOAT", "k", "inf"}, {"INCRBYFLOAT", "k", "1e400"},
	{"GETRANGE", "k", "a", "b"}, {"GETRANGE", "k", "0", "9223372036854775807"}, {"GETRANGE", "k", "-9223372036854775808", "-1"},
	{"EXPIRE", "k", "9223372036854775807"}, {"EXPIRE", "k", "1", "FOO"}, {"EXPIRE", "k", "10", "NX", "XX"},
	{"EXPIRE", "k", "10", "GT", "LT"}, {"EXPIRE", "k", "10", "NX", "GT"}, {"PEXPIRE", "k", "9223372036854775807"},
	{"EXPIREAT", "k", "9223372036854775807"},
	{"SET", "k", "v", "EX", "0"}, {"SET", "k", "v", "EX", "-1"}, {"SET", "k", "v", "PX", "9223372036854775807"},
	{"SET", "k", "v", "EX", "9223372036854775807"}, {"SET", "k", "v", "NX", "XX"}, {"SET", "k", "v", "EX", "1", "PX", "1"},
	{"SET", "k", "v", "KEEPTTL", "EX", "1"}, {"SET", "k", "v", "FOO"},
	{"SETEX", "k", "0", "v"}, {"SETEX", "k", "-5", "v"}, {"SETEX", "k", "9223372036854775807", "v"}, {"PSETEX", "k", "0", "v"},
	{"GETEX", "k", "EX", "0"}, {"GETEX", "k", "PERSIST", "EX", "1"}, {"GETEX", "k", "FOO"},
	{"MSET", "a"}, {"MSET", "a", "b", "c"}, {"MSETNX", "a"}, {"SETNX", "k"}, {"GETSET", "k"}, {"APPEND", "k"},
	{"STRLEN", "k", "x"}, {"TOUCH"}, {"UNLINK"}, {"DEL"}, {"RENAME", "nosuch", "x"}, {"SUBSTR", "k", "0"},
	{"SCAN", "0", "COUNT", "0"}, {"SCAN", "0", "COUNT", "-1"}, {"SCAN", "x"}, {"SCAN", "0", "TYPE"}, {"SCAN", "0", "FOO", "bar"},
	{"COPY", "a", "b", "DB", "x"}, {"COPY", "a", "b", "FOO"}, {"COPY", "k", "k", "DB", "1"}, {"COPY", "k", "k", "DB", "0"},
	{"COPY", "k", "x", "DB", "16"}, {"COPY", "k", "x", "DB", "-1"}, {"COPY", "k", "x", "DB", "99999999999"}, {"COPY", "k", "x", "DB"},
	{"LCS", "a", "b", "IDX", "MINMATCHLEN", "-1"}, {"LCS", "a", "b", "FOO"},
	{"MULTI", "x"}, {"EXEC", "x"}, {"DISCARD"}, {"WATCH"}, {"UNWATCH", "x"},
}

// Reference: every command's page under https://redis.io/docs/latest/commands/
// (argument parsing and error texts of Redis 7.0, compared with redis-server)
func TestDifferentialArgParsing(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	riot := startServer(t, nil)
	exchange := func(addr string, args []string) string {
		c := dialRawAddr(t, addr)
		c.send(req(args...))
		_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
		got, err := c.reply()
		if err != nil {
			t.Fatalf("%q to %s: %v", args, addr, err)
		}
		return string(got)
	}
	for _, addr := range []string{redisAddr, riot.addr} {
		if got := exchange(addr, []string{"SET", "k", "10"}); got != "+OK\r\n" {
			t.Fatalf("SET k 10 on %s = %q", addr, got)
		}
	}
	for _, args := range argCases {
		want, got := exchange(redisAddr, args), exchange(riot.addr, args)
		if got != want {
			t.Errorf("%s:\n  redis-server: %q\n  riot:         %q", strings.Join(args, " "), want, got)
		}
	}
}

// configCases set and read the encoding thresholds: every name and alias,
// values at and past their ranges, memory units. Sent in order on one
// connection to each server (CONFIG SET changes the server), replies
// compared byte for byte. CONFIG GET with a pattern is left out: Redis
// lists the matches in hash-table order.
var configCases = [][]string{
	{"CONFIG", "GET", "hash-max-listpack-entries"}, {"CONFIG", "GET", "hash-max-ziplist-value"},
	{"CONFIG", "GET", "set-max-intset-entries"}, {"CONFIG", "GET", "zset-max-listpack-entries"},
	{"CONFIG", "GET", "zset-max-ziplist-value"}, {"CONFIG", "GET", "list-max-listpack-size"},
	{"CONFIG", "GET", "list-compress-depth"},
	{"CONFIG", "SET", "hash-max-listpack-entries", "abc"}, {"CONFIG", "SET", "hash-max-listpack-entries", "-1"},
	{"CONFIG", "SET", "hash-max-listpack-entries", "1k"}, {"CONFIG", "SET", "hash-max-listpack-entries", "9223372036854775808"},
	{"CONFIG", "SET", "hash-max-listpack-entries", "9223372036854775807"}, {"CONFIG", "GET", "hash-max-ziplist-entries"},
	{"CONFIG", "SET", "hash-max-listpack-value", "1k"}, {"CONFIG", "GET", "hash-max-listpack-value"},
	{"CONFIG", "SET", "hash-max-listpack-value", "abc"}, {"CONFIG", "SET", "hash-max-listpack-value", "-1"},
	{"CONFIG", "SET", "list-max-listpack-size", "-6"}, {"CONFIG", "SET", "list-max-listpack-size", "99999999999"},
	{"CONFIG", "SET", "list-max-ziplist-size", "5"}, {"CONFIG", "GET", "list-max-listpack-size"},
	{"CONFIG", "SET", "list-compress-depth", "-1"}, {"CONFIG", "SET", "list-compress-depth", "2147483647"},
	{"CONFIG", "SET", "set-max-intset-entries", "00"}, {"CONFIG", "SET", "set-max-intset-entries", "+5"},
	{"CONFIG", "SET", "set-max-intset-entries", "0"}, {"CONFIG", "GET", "set-max-intset-entries"},
	{"CONFIG", "SET", "zset-max-ziplist-value", "2mb"}, {"CONFIG", "GET", "zset-max-listpack-value"},
	{"CONFIG", "SET", "zset-max-ziplist-entries", "7", "zset-max-listpack-value", "x"}, {"CONFIG", "GET", "zset-max-ziplist-entries"},
	{"CONFIG", "SET", "zset-max-listpack-entries", "5", "zset-max-ziplist-entries", "6"}, {"CONFIG", "GET", "zset-max-listpack-entries"},
	{"CONFIG", "SET", "hash-max-listpack-entries", "1", "nosuch", "2"},
}

// Reference: https://redis.io/docs/latest/commands/config-set/ and
// redis.conf's "ADVANCED CONFIG" (the encoding thresholds of Redis 7.0)
func TestDifferentialConfigEncoding(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	riot := startServer(t, nil)
	conns := []*rawConn{dialRawAddr(t, redisAddr), dialRaw(t, riot)}
	for _, args := range configCases {
		var replies [2]string
		for i, c := range conns {
			c.send(req(args...))
			got, err := c.reply()
			if err != nil {
				t.Fatalf("%q: %v", args, err)
			}
			replies[i] = string(got)
		}
		if replies[0] != replies[1] {
			t.Errorf("%s:\n  redis-server: %q\n  riot:         %q", strings.Join(args, " "), replies[0], replies[1])
		}
	}
}

// dialRawAddr is dialRaw to any address.
func dialRawAddr(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, conn: c, r: newReplyReader(c)}
}
