package resp

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// The list commands' differential test: a fixed sequence of requests at
// the edges of every list command (arity, indexes and counts out of
// range, options, missing keys, WRONGTYPE in every position, MULTI), then
// a seeded random sequence of list commands on a few keys, sent on one
// connection to redis-server and one to riot, in RESP2 then in RESP3;
// replies compared byte for byte (list replies are ordered).

var listCases = [][]string{
	// arity
	{"LPUSH", "k"}, {"RPUSH", "k"}, {"LPUSHX", "k"}, {"RPUSHX", "k"}, {"LPOP"}, {"RPOP"}, {"LPOP", "k", "1", "2"},
	{"RPOP", "k", "1", "2"}, {"LLEN"}, {"LLEN", "a", "b"}, {"LINDEX", "k"}, {"LRANGE", "k", "0"}, {"LSET", "k", "0"},
	{"LTRIM", "k", "0"}, {"LREM", "k", "0"}, {"LINSERT", "k", "BEFORE", "p"}, {"LPOS", "k"}, {"LMOVE", "a", "b", "LEFT"},
	{"RPOPLPUSH", "a"}, {"LMPOP", "1", "k"},

	// missing keys
	{"LLEN", "nosuch"}, {"LINDEX", "nosuch", "0"}, {"LINDEX", "nosuch", "x"}, {"LRANGE", "nosuch", "0", "-1"},
	{"LRANGE", "nosuch", "x", "1"}, {"LPOP", "nosuch"}, {"RPOP", "nosuch"}, {"LPOP", "nosuch", "0"}, {"RPOP", "nosuch", "3"},
	{"LPOP", "nosuch", "-1"}, {"LPOP", "nosuch", "x"}, {"LSET", "nosuch", "0", "v"}, {"LSET", "nosuch", "x", "v"},
	{"LTRIM", "nosuch", "0", "1"}, {"LTRIM", "nosuch", "x", "1"}, {"LREM", "nosuch", "0", "a"}, {"LREM", "nosuch", "x", "a"},
	{"LINSERT", "nosuch", "BEFORE", "a", "b"}, {"LINSERT", "nosuch", "MIDDLE", "a", "b"}, {"LPOS", "nosuch", "a"},
	{"LPOS", "nosuch", "a", "COUNT", "1"}, {"LPOS", "nosuch", "a", "RANK", "0"}, {"LMOVE", "nosuch", "d", "LEFT", "RIGHT"},
	{"RPOPLPUSH", "nosuch", "d"}, {"LMPOP", "2", "nosuch", "nosuch2", "LEFT"}, {"LPUSHX", "nosuch", "a"},
	{"RPUSHX", "nosuch", "a", "b"}, {"EXISTS", "nosuch", "d"},

	// pushes, pops, indexes
	{"RPUSH", "l", "a", "b", "c"}, {"LPUSH", "l", "z", "y"}, {"RPUSHX", "l", "d"}, {"LPUSHX", "l", "x"}, {"LRANGE", "l", "0", "-1"},
	{"LLEN", "l"}, {"TYPE", "l"}, {"OBJECT", "ENCODING", "l"}, {"LINDEX", "l", "0"}, {"LINDEX", "l", "-1"}, {"LINDEX", "l", "7"},
	{"LINDEX", "l", "-8"}, {"LINDEX", "l", "8"}, {"LINDEX", "l", "-9"}, {"LINDEX", "l", "x"}, {"LINDEX", "l", "9223372036854775807"},
	{"LINDEX", "l", "-9223372036854775808"}, {"LINDEX", "l", "99999999999999999999"},
	{"LRANGE", "l", "2", "4"}, {"LRANGE", "l", "-3", "-1"}, {"LRANGE", "l", "-100", "100"}, {"LRANGE", "l", "5", "2"},
	{"LRANGE", "l", "8", "10"}, {"LRANGE", "l", "-9223372036854775808", "9223372036854775807"}, {"LRANGE", "l", "0", "-9"},
	{"LRANGE", "l", "1", "x"}, {"LRANGE", "l", "-1", "-2"},
	{"LSET", "l", "0", "X"}, {"LSET", "l", "-1", "D"}, {"LSET", "l", "8", "v"}, {"LSET", "l", "-9", "v"}, {"LSET", "l", "x", "v"},
	{"LRANGE", "l", "0", "-1"},
	{"LPOP", "l"}, {"RPOP", "l"}, {"LPOP", "l", "2"}, {"RPOP", "l", "0"}, {"LPOP", "l", "0"}, {"RPOP", "l", "2"}, {"LLEN", "l"},
	{"LPOP", "l", "-1"}, {"LPOP", "l", "x"}, {"RPOP", "l", "99"}, {"EXISTS", "l"}, {"LPOP", "l"},
	{"RPUSH", "l", "only"}, {"RPOP", "l"}, {"EXISTS", "l"}, {"RPUSH", "e", ""}, {"LRANGE", "e", "0", "-1"}, {"LLEN", "e"},

	// WRONGTYPE, in every position
	{"SET", "str", "v"}, {"SADD", "set", "m"},
	{"LPUSH", "str", "a"}, {"RPUSH", "str", "a"}, {"LPUSHX", "str", "a"}, {"RPUSHX", "set", "a"}, {"LPOP", "str"},
	{"RPOP", "str", "2"}, {"LPOP", "str", "0"}, {"LPOP", "str", "x"}, {"LLEN", "str"}, {"LINDEX", "str", "0"},
	{"LINDEX", "str", "x"}, {"LRANGE", "str", "0", "1"}, {"LRANGE", "str", "x", "1"}, {"LSET", "str", "0", "v"},
	{"LSET", "str", "x", "v"}, {"LTRIM", "str", "0", "1"}, {"LTRIM", "str", "x", "1"}, {"LREM", "str", "0", "a"},
	{"LREM", "str", "x", "a"}, {"LINSERT", "str", "BEFORE", "a", "b"}, {"LINSERT", "str", "FOO", "a", "b"},
	{"LPOS", "str", "a"}, {"LPOS", "str", "a", "RANK", "0"}, {"LPOS", "str", "a", "COUNT", "0"},
	{"RPUSH", "src", "1", "2"}, {"LMOVE", "str", "src", "LEFT", "LEFT"}, {"LMOVE", "src", "str", "LEFT", "LEFT"},
	{"LMOVE", "nosuch", "str", "LEFT", "LEFT"}, {"LMOVE", "src", "str", "UP", "LEFT"}, {"RPOPLPUSH", "src", "set"},
	{"RPOPLPUSH", "set", "src"}, {"LMPOP", "2", "str", "src", "LEFT"}, {"LMPOP", "2", "src", "str", "LEFT"},
	{"LMPOP", "2", "nosuch", "str", "RIGHT"}, {"LRANGE", "src", "0", "-1"}, {"GET", "str"}, {"SCARD", "set"},
	{"HSET", "src", "f", "v"}, {"SADD", "src", "m"}, {"GET", "src"},

	// LTRIM
	{"RPUSH", "t", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, {"LTRIM", "t", "1", "-2"}, {"LRANGE", "t", "0", "-1"},
	{"LTRIM", "t", "-100", "100"}, {"LRANGE", "t", "0", "-1"}, {"LTRIM", "t", "2", "2"}, {"LRANGE", "t", "0", "-1"},
	{"LPUSH", "t", "a"}, {"RPUSH", "t", "b"}, {"LINDEX", "t", "1"}, {"LTRIM", "t", "5", "1"}, {"EXISTS", "t"},
	{"RPUSH", "t", "a", "b"}, {"LTRIM", "t", "-1", "-2"}, {"EXISTS", "t"}, {"RPUSH", "t", "a", "b"}, {"LTRIM", "t", "2", "10"},
	{"EXISTS", "t"}, {"RPUSH", "t", "a", "b"}, {"LTRIM", "t", "0", "-9223372036854775808"}, {"EXISTS", "t"},

	// LREM
	{"RPUSH", "r", "a", "b", "a", "c", "a", "b", "a"}, {"LREM", "r", "1", "a"}, {"LRANGE", "r", "0", "-1"},
	{"LREM", "r", "-2", "a"}, {"LRANGE", "r", "0", "-1"}, {"LREM", "r", "0", "b"}, {"LRANGE", "r", "0", "-1"},
	{"LREM", "r", "0", "zz"}, {"LREM", "r", "-9223372036854775808", "a"}, {"LRANGE", "r", "0", "-1"}, {"LREM", "r", "5", "c"},
	{"EXISTS", "r"},

	// LINSERT
	{"RPUSH", "i", "a", "b", "c"}, {"LINSERT", "i", "BEFORE", "a", "0"}, {"LINSERT", "i", "after", "c", "d"},
	{"LINSERT", "i", "Before", "b", "x"}, {"LINSERT", "i", "AFTER", "b", "y"}, {"LINSERT", "i", "BEFORE", "nope", "x"},
	{"LRANGE", "i", "0", "-1"}, {"LINDEX", "i", "3"}, {"LPUSH", "i", "first"}, {"RPUSH", "i", "last"}, {"LRANGE", "i", "0", "-1"},

	// LPOS
	{"RPUSH", "p", "a", "b", "c", "a", "b", "a", "d"}, {"LPOS", "p", "a"}, {"LPOS", "p", "b"}, {"LPOS", "p", "zz"},
	{"LPOS", "p", "a", "RANK", "2"}, {"LPOS", "p", "a", "RANK", "-1"}, {"LPOS", "p", "a", "RANK", "-3"},
	{"LPOS", "p", "a", "RANK", "4"}, {"LPOS", "p", "a", "COUNT", "0"}, {"LPOS", "p", "a", "COUNT", "2"},
	{"LPOS", "p", "a", "COUNT", "0", "RANK", "-1"}, {"LPOS", "p", "a", "COUNT", "2", "RANK", "2"},
	{"LPOS", "p", "a", "COUNT", "0", "MAXLEN", "4"}, {"LPOS", "p", "a", "RANK", "-1", "MAXLEN", "2"},
	{"LPOS", "p", "a", "RANK", "-1", "MAXLEN", "1"}, {"LPOS", "p", "zz", "COUNT", "3"},
	{"LPOS", "p", "a", "RANK", "0"}, {"LPOS", "p", "a", "RANK", "x"}, {"LPOS", "p", "a", "COUNT", "-1"},
	{"LPOS", "p", "a", "COUNT", "x"}, {"LPOS", "p", "a", "MAXLEN", "-1"}, {"LPOS", "p", "a", "MAXLEN", "x"},
	{"LPOS", "p", "a", "FOO"}, {"LPOS", "p", "a", "RANK"}, {"LPOS", "p", "a", "COUNT"},
	{"LPOS", "p", "a", "RANK", "-9223372036854775808"}, {"LPOS", "p", "a", "RANK", "-9223372036854775808", "COUNT", "1"},
	{"LPOS", "p", "a", "RANK", "9223372036854775807"}, {"LPOS", "p", "a", "RANK", "1", "RANK", "-2"},
	{"LPOS", "p", "a", "COUNT", "9223372036854775807"},

	// LMOVE, RPOPLPUSH
	{"RPUSH", "m", "a", "b", "c"}, {"LMOVE", "m", "m", "LEFT", "RIGHT"}, {"LRANGE", "m", "0", "-1"},
	{"LMOVE", "m", "m", "right", "left"}, {"LRANGE", "m", "0", "-1"}, {"LMOVE", "m", "m2", "LEFT", "LEFT"},
	{"LMOVE", "m", "m2", "RIGHT", "RIGHT"}, {"RPOPLPUSH", "m", "m2"}, {"EXISTS", "m"}, {"LRANGE", "m2", "0", "-1"},
	{"RPUSH", "m3", "x"}, {"EXPIRE", "m2", "1000"}, {"RPOPLPUSH", "m3", "m2"}, {"TTL", "m2"}, {"LRANGE", "m2", "0", "-1"},
	{"RPUSH", "m4", "solo"}, {"RPOPLPUSH", "m4", "m4"}, {"LRANGE", "m4", "0", "-1"},
	{"LMOVE", "m4", "m5", "LEFT", "MIDDLE"}, {"LMOVE", "m4", "m5", "X", "LEFT"},

	// LMPOP
	{"RPUSH", "mp", "1", "2", "3", "4"}, {"LMPOP", "2", "nosuch", "mp", "LEFT"}, {"LMPOP", "1", "mp", "RIGHT", "COUNT", "2"},
	{"LMPOP", "1", "mp", "left", "count", "10"}, {"EXISTS", "mp"}, {"LMPOP", "1", "mp", "LEFT"},
	{"LMPOP", "0", "mp", "LEFT"}, {"LMPOP", "-1", "mp", "LEFT"}, {"LMPOP", "x", "mp", "LEFT"}, {"LMPOP", "2", "mp", "LEFT"},
	{"LMPOP", "3", "mp", "LEFT"}, {"LMPOP", "1", "mp", "MIDDLE"}, {"LMPOP", "1", "mp", "LEFT", "COUNT"},
	{"LMPOP", "1", "mp", "LEFT", "COUNT", "0"}, {"LMPOP", "1", "mp", "LEFT", "COUNT", "-1"}, {"LMPOP", "1", "mp", "LEFT", "COUNT", "x"},
	{"LMPOP", "1", "mp", "LEFT", "COUNT", "1", "COUNT", "2"}, {"LMPOP", "1", "mp", "LEFT", "FOO"},
	{"LMPOP", "99999999999999999999", "mp", "LEFT"},
	{"COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"}, {"COMMAND", "GETKEYS", "LMOVE", "a", "b", "LEFT", "LEFT"},
	{"COMMAND", "GETKEYS", "RPOPLPUSH", "a", "b"}, {"COMMAND", "GETKEYS", "LPUSH", "a", "b"},

	// keyspace commands on lists
	{"RPUSH", "kl", "a", "b", "c"}, {"LPUSH", "kl", "z"}, {"RENAME", "kl", "kl2"}, {"LRANGE", "kl2", "0", "-1"},
	{"COPY", "kl2", "kl3"}, {"RPUSH", "kl3", "d"}, {"LPUSH", "kl3", "y"}, {"LRANGE", "kl3", "0", "-1"}, {"LRANGE", "kl2", "0", "-1"},
	{"MOVE", "kl3", "1"}, {"SELECT", "1"}, {"LRANGE", "kl3", "0", "-1"}, {"LINDEX", "kl3", "-1"}, {"SELECT", "0"},
	{"SWAPDB", "0", "1"}, {"LRANGE", "kl3", "0", "-1"}, {"LPOP", "kl3"}, {"SWAPDB", "0", "1"}, {"TYPE", "kl2"},
	{"DEL", "kl2"}, {"EXISTS", "kl2"}, {"SET", "kl2", "s"}, {"TYPE", "kl2"},

	// MULTI
	{"MULTI"}, {"RPUSH", "x1", "a", "b"}, {"LRANGE", "x1", "0", "-1"}, {"LMOVE", "x1", "x2", "LEFT", "RIGHT"},
	{"LPOS", "x2", "a"}, {"LINDEX", "x1", "0"}, {"LPOP", "x1", "5"}, {"LLEN", "x1"}, {"LSET", "x1", "0", "v"},
	{"LMPOP", "2", "x1", "x2", "LEFT"}, {"EXISTS", "x1", "x2"}, {"RPUSH", "x1", "c"}, {"LTRIM", "x1", "1", "0"}, {"EXEC"},
}

// Reference: https://redis.io/docs/latest/commands/?group=list (every
// non-blocking list command, compared with redis-server 7.0)
func TestDifferentialLists(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	riot := startServer(t, nil)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ref, got := dialDiffPair(t, redisAddr, riot.addr, proto)
			cases := listCases
			g := rand.New(rand.NewPCG(uint64(proto), 20))
			for range 3000 {
				cases = append(cases, randomListCommand(g))
			}
			cases = append(cases, []string{"LRANGE", "ra", "0", "-1"}, []string{"LRANGE", "rb", "0", "-1"}, []string{"LRANGE", "rc", "0", "-1"})
			for _, args := range cases {
				want, have := setReply(t, ref, exact(args...)), setReply(t, got, exact(args...))
				if want != have {
					t.Errorf("RESP%d %s:\n  redis-server: %q\n  riot:         %q", proto, strings.Join(args, " "), want, have)
				}
			}
		})
	}
}

// randomListCommand returns a list command on keys ra, rb, rc (rc
// sometimes a string: only ra and rb are renamed), with elements from a small alphabet and indexes
// around the lists' lengths.
func randomListCommand(g *rand.Rand) []string {
	key := func() string { return []string{"ra", "rb", "rc"}[g.IntN(3)] }
	elem := func() string { return []string{"a", "b", "c", "dd", ""}[g.IntN(5)] }
	idx := func() string { return strconv.Itoa(g.IntN(21) - 10) }
	end := func() string { return []string{"LEFT", "RIGHT"}[g.IntN(2)] }
	switch g.IntN(17) {
	case 0, 1:
		args := []string{[]string{"LPUSH", "RPUSH", "LPUSHX", "RPUSHX"}[g.IntN(4)], key()}
		for range 1 + g.IntN(4) {
			args = append(args, elem())
		}
		return args
	case 2:
		if g.IntN(2) == 0 {
			return []string{[]string{"LPOP", "RPOP"}[g.IntN(2)], key()}
		}
		return []string{[]string{"LPOP", "RPOP"}[g.IntN(2)], key(), strconv.Itoa(g.IntN(4))}
	case 3:
		return []string{"LLEN", key()}
	case 4:
		return []string{"LINDEX", key(), idx()}
	case 5, 6:
		return []string{"LRANGE", key(), idx(), idx()}
	case 7:
		return []string{"LSET", key(), idx(), elem()}
	case 8:
		return []string{"LTRIM", key(), idx(), idx()}
	case 9:
		return []string{"LREM", key(), strconv.Itoa(g.IntN(5) - 2), elem()}
	case 10:
		return []string{"LINSERT", key(), []string{"BEFORE", "AFTER"}[g.IntN(2)], elem(), elem()}
	case 11:
		args := []string{"LPOS", key(), elem()}
		if g.IntN(2) == 0 {
			args = append(args, "RANK", []string{"1", "2", "-1", "-2", "3"}[g.IntN(5)])
		}
		if g.IntN(2) == 0 {
			args = append(args, "COUNT", strconv.Itoa(g.IntN(3)))
		}
		if g.IntN(3) == 0 {
			args = append(args, "MAXLEN", strconv.Itoa(g.IntN(5)))
		}
		return args
	case 12:
		return []string{"LMOVE", key(), key(), end(), end()}
	case 13:
		return []string{"RPOPLPUSH", key(), key()}
	case 14:
		return []string{"LMPOP", "2", key(), key(), end(), "COUNT", strconv.Itoa(1 + g.IntN(3))}
	case 15:
		switch g.IntN(10) {
		case 0:
			return []string{"SET", "rc", "s"}
		case 1, 2, 3:
			return []string{"DEL", key()}
		case 4, 5:
			return []string{"DEL", "rc"}
		case 6:
			return []string{"RENAME", []string{"ra", "rb"}[g.IntN(2)], []string{"ra", "rb"}[g.IntN(2)]}
		}
	}
	return []string{"RPUSH", key(), elem(), elem()}
}
