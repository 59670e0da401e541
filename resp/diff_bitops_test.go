package resp

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The bit commands' differential test: BITPOS's ranges (BYTE and BIT,
// negative and out of range indexes, a clear bit sought in all-ones
// strings with and without an end), BITOP onto every kind of
// destination, and BITFIELD's types, offsets and overflow arithmetic, sent
// to redis-server and to riot (one node, then a follower of a 3-node
// cluster) in RESP2 then RESP3; the replies compared byte for byte. Then a
// seeded random sequence of the same commands, BITFIELD_RO included, on
// both.

var bitCases = [][]string{
	// arity and syntax
	{"BITPOS"}, {"BITPOS", "k"}, {"BITOP", "AND", "d"}, {"BITFIELD"}, {"BITFIELD_RO"},
	{"BITPOS", "nosuch", "2"}, {"BITPOS", "nosuch", "x"}, {"BITPOS", "nosuch", "-1"},
	{"BITPOS", "nosuch", "1"}, {"BITPOS", "nosuch", "0"}, {"BITPOS", "nosuch", "1", "x", "y", "z", "w"},
	{"BITPOS", "nosuch", "0", "1", "2", "foo"},

	// BITPOS on all-ones and all-zeros strings
	{"SET", "ones", "\xff\xff\xff"}, {"SET", "zeros", "\x00\x00\x00"}, {"SET", "mixed", "\x00\xff\xf0\x0f\x01"},
	{"SET", "empty", ""},
	{"BITPOS", "ones", "0"}, {"BITPOS", "ones", "1"}, {"BITPOS", "ones", "0", "1"}, {"BITPOS", "ones", "0", "1", "-1"},
	{"BITPOS", "ones", "0", "0", "-1", "BIT"}, {"BITPOS", "ones", "0", "5", "bit"}, {"BITPOS", "ones", "0", "-3"},
	{"BITPOS", "ones", "0", "2", "1"}, {"BITPOS", "ones", "0", "100"}, {"BITPOS", "ones", "0", "-100"},
	{"BITPOS", "ones", "0", "-100", "-50"}, {"BITPOS", "ones", "0", "0", "100"}, {"BITPOS", "ones", "0", "0", "100", "bit"},
	{"BITPOS", "zeros", "1"}, {"BITPOS", "zeros", "0"}, {"BITPOS", "zeros", "1", "1"}, {"BITPOS", "zeros", "0", "1", "1"},
	{"BITPOS", "zeros", "1", "0", "-1", "bit"}, {"BITPOS", "zeros", "0", "7", "9", "bit"},
	{"BITPOS", "empty", "0"}, {"BITPOS", "empty", "1"}, {"BITPOS", "empty", "0", "0"}, {"BITPOS", "empty", "0", "0", "-1", "bit"},
	{"BITPOS", "mixed", "1"}, {"BITPOS", "mixed", "0"}, {"BITPOS", "mixed", "1", "1"}, {"BITPOS", "mixed", "0", "1"},
	{"BITPOS", "mixed", "0", "1", "2"}, {"BITPOS", "mixed", "0", "8", "15", "bit"}, {"BITPOS", "mixed", "0", "9", "19", "BIT"},
	{"BITPOS", "mixed", "1", "20", "-1", "bit"}, {"BITPOS", "mixed", "1", "-9", "-1", "bit"}, {"BITPOS", "mixed", "0", "-1", "-1"},
	{"BITPOS", "mixed", "1", "3", "2"}, {"BITPOS", "mixed", "1", "-1", "-2"}, {"BITPOS", "mixed", "0", "12", "12", "bit"},
	{"BITPOS", "mixed", "0", "x"}, {"BITPOS", "mixed", "0", "1", "x"}, {"BITPOS", "mixed", "0", "1", "x", "foo"},
	{"BITPOS", "mixed", "0", "x", "1", "foo"}, {"BITPOS", "mixed", "0", "1", "2", "foo"}, {"BITPOS", "mixed", "0", "1", "2", "bit", "x"},
	{"BITPOS", "mixed", "0", "-9223372036854775808", "9223372036854775807", "bit"},
	{"BITPOS", "mixed", "1", "9223372036854775807"}, {"SET", "num", "12345"}, {"BITPOS", "num", "1", "1"},
	{"SET", "long0", strings.Repeat("\x00", 20) + "\x01"}, {"SET", "long1", strings.Repeat("\xff", 21)},
	{"BITPOS", "long0", "1"}, {"BITPOS", "long0", "1", "3"}, {"BITPOS", "long0", "1", "0", "19"}, {"BITPOS", "long0", "1", "1", "-1", "BIT"},
	{"BITPOS", "long1", "0"}, {"BITPOS", "long1", "0", "2"}, {"BITPOS", "long1", "0", "2", "-1"}, {"BITPOS", "long1", "0", "3", "-2", "BIT"},
	{"BITPOS", "long1", "1", "-1"}, {"BITPOS", "long0", "0", "-1"},

	// BITOP
	{"BITOP", "foo", "d", "ones"}, {"BITOP", "NOT", "d", "ones", "zeros"}, {"BITOP", "not", "d", "nosuch"},
	{"EXISTS", "d"}, {"BITOP", "AND", "d", "ones", "mixed"}, {"GET", "d"}, {"BITOP", "or", "d", "zeros", "mixed", "ones"},
	{"GET", "d"}, {"BITOP", "XOR", "d", "mixed", "ones", "nosuch"}, {"GET", "d"}, {"BITOP", "AND", "d", "mixed", "nosuch"},
	{"GET", "d"}, {"BITOP", "NOT", "d", "mixed"}, {"GET", "d"}, {"BITOP", "AND", "d", "nosuch", "nosuch2"}, {"EXISTS", "d"},
	{"SET", "d", "x", "EX", "100"}, {"BITOP", "OR", "d", "mixed"}, {"TTL", "d"}, {"GET", "d"},
	{"BITOP", "XOR", "mixed2", "mixed", "mixed"}, {"GET", "mixed2"}, {"BITOP", "AND", "d", "empty"}, {"EXISTS", "d"},
	{"BITOP", "NOT", "d", "num"}, {"GET", "d"}, {"BITOP", "and", "num", "num", "ones"}, {"GET", "num"},
	{"HSET", "h", "f", "v"}, {"BITOP", "AND", "d", "ones", "h"}, {"BITOP", "AND", "h", "ones"}, {"TYPE", "h"}, {"GET", "h"},
	{"SADD", "st", "a"}, {"BITOP", "AND", "st", "nosuch"}, {"EXISTS", "st"}, {"BITOP", "NOT", "d", "st"},

	// BITFIELD: syntax, types, offsets
	{"BITFIELD", "bf"}, {"BITFIELD", "bf", "get"}, {"BITFIELD", "bf", "get", "i8"}, {"BITFIELD", "bf", "foo"},
	{"BITFIELD", "bf", "set", "i8", "0"}, {"BITFIELD", "bf", "overflow"}, {"BITFIELD", "bf", "overflow", "x"},
	{"BITFIELD", "bf", "overflow", "sat"}, {"BITFIELD", "bf", "get", "U8", "0"}, {"BITFIELD", "bf", "get", "u64", "0"},
	{"BITFIELD", "bf", "get", "i65", "0"}, {"BITFIELD", "bf", "get", "i0", "0"}, {"BITFIELD", "bf", "get", "i08", "0"},
	{"BITFIELD", "bf", "get", "i", "0"}, {"BITFIELD", "bf", "get", "", "0"}, {"BITFIELD", "bf", "get", "i-1", "0"},
	{"BITFIELD", "bf", "get", "i8\x00x", "0"}, {"BITFIELD", "bf", "get", "i8", "-1"}, {"BITFIELD", "bf", "get", "i8", "+1"},
	{"BITFIELD", "bf", "get", "i8", "#-1"}, {"BITFIELD", "bf", "get", "i8", "#"}, {"BITFIELD", "bf", "get", "i8", "x"},
	{"BITFIELD", "bf", "get", "i8", "4294967295"}, {"BITFIELD", "bf", "get", "i8", "4294967296"},
	{"BITFIELD", "bf", "get", "i8", "#536870911"}, {"BITFIELD", "bf", "get", "i8", "#536870912"},
	{"BITFIELD", "bf", "get", "i4", "#4611686018427387905"}, {"BITFIELD", "bf", "get", "i64", "#9223372036854775807"},
	{"BITFIELD", "bf", "set", "i8", "0", "x"}, {"BITFIELD", "bf", "incrby", "i8", "0", "1.5"},
	{"BITFIELD", "bf", "set", "i8", "x", "x"}, {"BITFIELD", "bf", "set", "x", "x", "x"}, {"BITFIELD", "bf", "get", "i8", "0", "x"},
	{"EXISTS", "bf"}, {"BITFIELD", "nosuch", "get", "u8", "0", "get", "i64", "100"},
	{"BITFIELD_RO", "nosuch", "set", "i8", "0", "1"}, {"BITFIELD_RO", "nosuch", "set", "x", "0", "1"},
	{"BITFIELD_RO", "nosuch", "incrby", "i8", "0", "1", "get", "x", "0"}, {"BITFIELD_RO", "nosuch", "overflow", "x"},
	{"BITFIELD_RO", "nosuch", "overflow", "fail", "get", "i8", "0"}, {"BITFIELD_RO", "nosuch"},
	{"BITFIELD_RO", "mixed", "get", "u8", "0", "get", "i8", "8", "get", "u4", "#3", "get", "i64", "4", "get", "u63", "1"},
	{"BITFIELD", "mixed", "get", "u8", "0", "get", "i8", "8", "get", "u4", "#3", "get", "i64", "4", "get", "i1", "39"},
	{"BITFIELD", "h", "get", "i8", "0"}, {"BITFIELD", "h", "set", "i8", "0", "1"}, {"BITFIELD_RO", "h", "get", "i8", "0"},
	{"BITFIELD", "h", "set", "i8", "0", "x"}, {"BITFIELD", "num", "get", "u8", "0"},

	// BITFIELD writes and overflow
	{"BITFIELD", "w", "set", "u8", "0", "255", "get", "u8", "0", "incrby", "u8", "0", "1", "get", "u8", "0"},
	{"GET", "w"}, {"BITFIELD", "w", "overflow", "sat", "incrby", "u8", "0", "300", "incrby", "u8", "0", "-1000",
		"overflow", "fail", "incrby", "u8", "0", "-1", "incrby", "u8", "0", "255", "incrby", "u8", "0", "1"},
	{"BITFIELD", "w", "set", "i8", "0", "127", "incrby", "i8", "0", "1", "overflow", "sat", "incrby", "i8", "0", "1000",
		"incrby", "i8", "0", "-1000", "overflow", "fail", "incrby", "i8", "0", "-1", "set", "i8", "0", "128", "set", "i8", "0", "-129"},
	{"BITFIELD", "w", "overflow", "wrap", "set", "i8", "0", "128", "set", "i8", "0", "-129", "set", "u8", "0", "-1", "set", "u8", "0", "256"},
	{"BITFIELD", "w", "overflow", "sat", "set", "i8", "0", "128", "set", "i8", "0", "-129", "set", "u8", "0", "-1", "set", "u8", "0", "256"},
	{"BITFIELD", "w", "overflow", "fail", "set", "i8", "0", "128", "set", "i8", "0", "-129", "set", "u8", "0", "-1", "set", "u8", "0", "256"},
	{"BITFIELD", "w", "set", "i64", "8", "9223372036854775807", "incrby", "i64", "8", "1", "overflow", "sat",
		"incrby", "i64", "8", "9223372036854775807", "incrby", "i64", "8", "-9223372036854775808",
		"incrby", "i64", "8", "-1", "overflow", "fail", "incrby", "i64", "8", "-9223372036854775808", "get", "i64", "8"},
	{"BITFIELD", "w", "set", "u63", "3", "-1", "incrby", "u63", "3", "1", "overflow", "sat", "incrby", "u63", "3", "-9223372036854775808",
		"incrby", "u63", "3", "9223372036854775807", "incrby", "u63", "3", "9223372036854775807", "overflow", "fail",
		"set", "u63", "3", "-1", "incrby", "u63", "3", "1", "get", "u63", "3"},
	{"BITFIELD", "w", "set", "i1", "5", "1", "get", "i1", "5", "incrby", "i1", "5", "1", "overflow", "sat", "incrby", "i1", "5", "-5",
		"set", "u1", "5", "2", "incrby", "u1", "5", "-2", "incrby", "u1", "5", "7"},
	{"GET", "w"}, {"STRLEN", "w"},
	{"BITFIELD", "f", "overflow", "fail", "set", "u8", "800", "300"}, {"STRLEN", "f"}, {"GET", "f"},
	{"BITFIELD", "f", "set", "i8", "#200", "-3", "get", "i8", "#200", "set", "i16", "#1000", "1"}, {"STRLEN", "f"},
	{"SET", "t", "abc", "EX", "100"}, {"BITFIELD", "t", "incrby", "u2", "100", "1"}, {"TTL", "t"}, {"GET", "t"},
	{"BITFIELD", "g", "get", "i8", "0"}, {"EXISTS", "g"}, {"BITFIELD", "g"}, {"EXISTS", "g"},
	{"BITFIELD", "g", "set", "i8", "80000", "1"}, {"STRLEN", "g"}, {"DEL", "g"},

	// in a transaction
	{"MULTI"}, {"BITFIELD", "m", "set", "u4", "0", "9"}, {"BITOP", "NOT", "m2", "m"}, {"BITPOS", "m2", "1"},
	{"BITFIELD_RO", "m2", "get", "u8", "0"}, {"BITFIELD", "m", "set", "x", "0", "1"}, {"EXEC"},
	{"MULTI"}, {"BITFIELD", "m", "overflow", "fail", "incrby", "u4", "0", "100"}, {"BITOP", "OR", "m3", "m", "m2"},
	{"BITPOS", "m3", "0"}, {"EXEC"},
}

// Reference: https://redis.io/docs/latest/commands/?group=bitmap (BITPOS,
// BITOP, BITFIELD and BITFIELD_RO compared with redis-server 7.0)
func TestDifferentialBitOps(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	for _, target := range diffTargets(t) {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/resp%d", target.name, proto), func(t *testing.T) {
				ref, got := bitDiffConn(t, redisAddr, proto), bitDiffConn(t, target.addr, proto)
				for _, args := range bitCases {
					want, have := bitDiffDo(t, ref, args), bitDiffDo(t, got, args)
					if want != have {
						t.Errorf("RESP%d %q:\n  redis-server: %q\n  riot:         %q", proto, args, want, have)
					}
				}
			})
		}
	}
}

// bitDiffSteps is how many random commands per protocol the random test
// sends to each target (fewer through the follower, whose writes cost a
// forward).
var bitDiffSteps = map[string]int{"node": 3000, "follower": 1000}

// Reference: https://redis.io/docs/latest/commands/bitfield/ and bitpos/
// (random strings, ranges, field types, offsets, operands and overflow
// behaviours; RIOT_DIFF_SEED reruns a seed), on one node and through a
// follower
func TestDifferentialBitOpsRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	seed := uint64(rand.Int64())
	if s := os.Getenv("RIOT_DIFF_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("RIOT_DIFF_SEED=%q: %v", s, err)
		}
		seed = n
	}
	redisAddr := startRedisServer(t)
	for _, target := range diffTargets(t) {
		for _, proto := range []int{2, 3} {
			ref, got := bitDiffConn(t, redisAddr, proto), bitDiffConn(t, target.addr, proto)
			r := rand.New(rand.NewPCG(seed, uint64(proto)))
			var history []string
			for i := range bitDiffSteps[target.name] {
				args := randomBitCommand(r)
				history = append(history, fmt.Sprintf("%q", args))
				want, have := bitDiffDo(t, ref, args), bitDiffDo(t, got, args)
				if want != have {
					t.Fatalf("%s, RESP%d, seed %d (RIOT_DIFF_SEED=%d reruns it), step %d %q:\n  redis-server: %q\n  riot:         %q\nthe steps before:\n%s",
						target.name, proto, seed, seed, i, args, want, have, strings.Join(history[max(0, len(history)-10):], "\n"))
				}
			}
		}
	}
}

func bitDiffConn(t *testing.T, addr string, proto int) *rawConn {
	c := dialRawAddr(t, addr)
	if r := bitDiffDo(t, c, []string{"FLUSHALL"}); r != "+OK\r\n" {
		t.Fatalf("FLUSHALL = %q", r)
	}
	if proto == 3 {
		bitDiffDo(t, c, []string{"HELLO", "3"})
	}
	return c
}

func bitDiffDo(t *testing.T, c *rawConn, args []string) string {
	t.Helper()
	c.send(req(args...))
	raw, err := c.reply()
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return string(raw)
}

// randomBitCommand returns a random bit command on a few keys.
func randomBitCommand(r *rand.Rand) []string {
	keys := []string{"a", "b", "c", "nosuch"}
	key := func() string { return keys[r.IntN(len(keys))] }
	index := func(n int) string { return strconv.Itoa(r.IntN(2*n+3) - n - 1) }
	switch r.IntN(10) {
	case 0: // a random string, biased to runs of zeros and ones
		n := r.IntN(6)
		if r.IntN(3) == 0 {
			n = r.IntN(40) // long runs: BITPOS skips 8 bytes at a time
		}
		b := make([]byte, n)
		for i := range b {
			switch r.IntN(4) {
			case 0:
				b[i] = 0 // usually one of a run
				if i > 0 && r.IntN(8) != 0 {
					b[i] = b[i-1]
				}
			case 1:
				b[i] = 0xff
			default:
				b[i] = byte(r.IntN(256))
			}
		}
		return []string{"SET", keys[r.IntN(3)], string(b)}
	case 1, 2: // BITPOS
		args := []string{"BITPOS", key(), strconv.Itoa(r.IntN(2))}
		n, unit := r.IntN(4), []string{"BIT", "BYTE", "bit"}[r.IntN(3)]
		scale := 50
		if n == 3 && unit != "BYTE" {
			scale = 400
		}
		if n >= 1 {
			args = append(args, index(scale))
		}
		if n >= 2 {
			args = append(args, index(scale))
		}
		if n == 3 {
			args = append(args, unit)
		}
		return args
	case 3: // BITOP
		op := []string{"AND", "OR", "XOR", "NOT"}[r.IntN(4)]
		args := []string{"BITOP", op, keys[r.IntN(3)], key()}
		if op != "NOT" {
			for range r.IntN(3) {
				args = append(args, key())
			}
		}
		return args
	case 4:
		return []string{"GET", key()}
	}
	// BITFIELD or BITFIELD_RO
	name := "BITFIELD"
	if r.IntN(4) == 0 {
		name = "BITFIELD_RO"
	}
	args := []string{name, key()}
	for range 1 + r.IntN(4) {
		if r.IntN(4) == 0 {
			args = append(args, "OVERFLOW", []string{"WRAP", "SAT", "FAIL"}[r.IntN(3)])
		}
		typ := "i" + strconv.Itoa(1+r.IntN(64))
		if r.IntN(2) == 0 {
			typ = "u" + strconv.Itoa(1+r.IntN(63))
		}
		off := strconv.Itoa(r.IntN(48))
		if r.IntN(4) == 0 {
			off = "#" + strconv.Itoa(r.IntN(4))
		}
		sub := "GET"
		if name == "BITFIELD" || r.IntN(8) == 0 {
			sub = []string{"GET", "SET", "INCRBY"}[r.IntN(3)]
		}
		args = append(args, sub, typ, off)
		if sub != "GET" {
			args = append(args, randomOperand(r))
		}
	}
	return args
}

// randomOperand is a SET or INCRBY operand: small, near a power of two, or
// near the int64 bounds.
func randomOperand(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return strconv.Itoa(r.IntN(21) - 10)
	case 1:
		return strconv.FormatInt(r.Int64()-r.Int64(), 10)
	case 2:
		v := int64(1)<<r.IntN(63) + int64(r.IntN(5)) - 2
		if r.IntN(2) == 0 {
			v = -v
		}
		return strconv.FormatInt(v, 10)
	}
	return []string{"9223372036854775807", "-9223372036854775808", "9223372036854775806", "-9223372036854775807"}[r.IntN(4)]
}
