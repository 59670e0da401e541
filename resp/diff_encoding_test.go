package resp

import (
	"fmt"
	"strings"
	"testing"
)

// encodingCases set the encoding thresholds with CONFIG SET, then build
// hashes, sorted sets and lists at and past them and ask OBJECT ENCODING.
// Redis converts a collection when a write takes it past a threshold and
// never back; riot answers from the contents (docs/commands.md), so every
// collection here only grows, and the thresholds are set before the keys
// they apply to are written.
var encodingCases = [][]string{
	// hashes: the number of fields
	{"CONFIG", "SET", "hash-max-listpack-entries", "4"}, {"HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"},
	{"OBJECT", "ENCODING", "h"}, {"HSET", "h", "e", "5"}, {"OBJECT", "ENCODING", "h"},
	{"HSET", "h5", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"}, {"OBJECT", "ENCODING", "h5"},
	{"HSETNX", "hnx", "a", "1"}, {"HMSET", "hnx", "b", "2", "c", "3", "d", "4"}, {"OBJECT", "ENCODING", "hnx"},
	{"HINCRBY", "hnx", "e", "1"}, {"OBJECT", "ENCODING", "hnx"},
	// hashes: the length of fields and values
	{"CONFIG", "SET", "hash-max-listpack-value", "8"}, {"HSET", "hv", "f", "12345678"}, {"OBJECT", "ENCODING", "hv"},
	{"HSET", "hv", "g", "123456789"}, {"OBJECT", "ENCODING", "hv"},
	{"HSET", "hf", "12345678", "v"}, {"OBJECT", "ENCODING", "hf"}, {"HSET", "hf", "123456789", "v"}, {"OBJECT", "ENCODING", "hf"},
	{"HSET", "hi", "f", "1"}, {"HINCRBYFLOAT", "hi", "f", "0.123456789"}, {"OBJECT", "ENCODING", "hi"},
	// the ziplist aliases, and 0
	{"CONFIG", "SET", "hash-max-ziplist-entries", "2"}, {"HSET", "hz", "a", "1", "b", "2"}, {"OBJECT", "ENCODING", "hz"},
	{"HSET", "hz", "c", "3"}, {"OBJECT", "ENCODING", "hz"},
	{"COPY", "hz", "hzcopy"}, {"OBJECT", "ENCODING", "hzcopy"}, {"COPY", "hnx", "hnxcopy"}, {"OBJECT", "ENCODING", "hnxcopy"},
	{"CONFIG", "SET", "hash-max-listpack-entries", "0"}, {"HSET", "h0", "a", "1"}, {"OBJECT", "ENCODING", "h0"},
	{"CONFIG", "SET", "hash-max-listpack-entries", "512", "hash-max-listpack-value", "0"}, {"HSET", "hv0", "a", "1"},
	{"OBJECT", "ENCODING", "hv0"}, {"HSET", "hempty", "", ""}, {"OBJECT", "ENCODING", "hempty"},
	{"CONFIG", "SET", "hash-max-listpack-value", "64"},

	// sorted sets: the number of members
	{"CONFIG", "SET", "zset-max-listpack-entries", "3"}, {"ZADD", "z", "1", "a", "2", "b", "3", "c"}, {"OBJECT", "ENCODING", "z"},
	{"ZADD", "z", "4", "d"}, {"OBJECT", "ENCODING", "z"}, {"COPY", "z", "zcopy"}, {"OBJECT", "ENCODING", "zcopy"},
	{"ZADD", "z4", "1", "a", "2", "b", "3", "c", "4", "d"}, {"OBJECT", "ENCODING", "z4"},
	{"ZINCRBY", "zi", "1", "a"}, {"ZINCRBY", "zi", "1", "b"}, {"ZINCRBY", "zi", "1", "c"}, {"OBJECT", "ENCODING", "zi"},
	{"ZINCRBY", "zi", "1", "d"}, {"OBJECT", "ENCODING", "zi"},
	// sorted sets: the length of members
	{"CONFIG", "SET", "zset-max-listpack-value", "5"}, {"ZADD", "zv", "1", "abcde"}, {"OBJECT", "ENCODING", "zv"},
	{"ZADD", "zv", "2", "abcdef"}, {"OBJECT", "ENCODING", "zv"},
	{"ZADD", "zlong", "1", "abcdefgh"}, {"OBJECT", "ENCODING", "zlong"},
	// stores: the destination's encoding follows its contents
	{"ZUNIONSTORE", "zu", "2", "zv", "zi"}, {"OBJECT", "ENCODING", "zu"},
	{"ZADD", "zs1", "1", "a", "2", "b"}, {"ZUNIONSTORE", "zu2", "1", "zs1"}, {"OBJECT", "ENCODING", "zu2"},
	{"ZINTERSTORE", "zn", "2", "z", "zi"}, {"OBJECT", "ENCODING", "zn"},
	{"ZDIFFSTORE", "zd", "2", "z", "zs1"}, {"OBJECT", "ENCODING", "zd"},
	{"ZRANGESTORE", "zr", "z", "0", "1"}, {"OBJECT", "ENCODING", "zr"},
	{"ZRANGESTORE", "zr4", "z", "0", "-1"}, {"OBJECT", "ENCODING", "zr4"},
	{"ZADD", "zl", "1", "aaaaaa", "2", "b"}, {"ZRANGESTORE", "zrl", "zl", "0", "-1"}, {"OBJECT", "ENCODING", "zrl"},
	// the ziplist aliases, and 0
	{"CONFIG", "SET", "zset-max-ziplist-entries", "1", "zset-max-ziplist-value", "64"}, {"ZADD", "zz", "1", "a"},
	{"OBJECT", "ENCODING", "zz"}, {"ZADD", "zz", "2", "b"}, {"OBJECT", "ENCODING", "zz"},
	{"CONFIG", "SET", "zset-max-listpack-entries", "0"}, {"ZADD", "z0", "1", "a"}, {"OBJECT", "ENCODING", "z0"},
	{"CONFIG", "SET", "zset-max-listpack-entries", "128", "zset-max-listpack-value", "0"}, {"ZADD", "zv0", "1", "a"},
	{"OBJECT", "ENCODING", "zv0"},
	{"CONFIG", "SET", "zset-max-listpack-value", "64"},

	// lists are quicklists in Redis 7.0 whatever list-max-listpack-size
	{"CONFIG", "SET", "list-max-listpack-size", "2"}, {"RPUSH", "l", "a"}, {"OBJECT", "ENCODING", "l"},
	{"RPUSH", "l", "b", "c", "d", "e"}, {"OBJECT", "ENCODING", "l"},
	{"CONFIG", "SET", "list-max-ziplist-size", "-1"}, {"LPUSH", "l2", "a"}, {"OBJECT", "ENCODING", "l2"},
	{"RPUSH", "l2", "0123456789012345678901234567890123456789"}, {"OBJECT", "ENCODING", "l2"},
	{"CONFIG", "SET", "list-compress-depth", "1"}, {"RPUSH", "l3", "a", "b", "c"}, {"OBJECT", "ENCODING", "l3"},
	{"SORT", "l", "ALPHA", "STORE", "ls"}, {"OBJECT", "ENCODING", "ls"},
}

// Reference: https://redis.io/docs/latest/commands/object-encoding/ and
// redis.conf's "ADVANCED CONFIG" (Redis 7.0's thresholds)
func TestDifferentialObjectEncoding(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			// A fresh server each time: the thresholds stay set.
			riot := startServer(t, nil)
			ref, got := dialDiffPair(t, redisAddr, riot.addr, proto)
			for _, args := range encodingCases {
				want, have := setReply(t, ref, exact(args...)), setReply(t, got, exact(args...))
				if want != have {
					t.Errorf("RESP%d %s:\n  redis-server: %q\n  riot:         %q", proto, strings.Join(args, " "), want, have)
				}
			}
		})
	}
}
