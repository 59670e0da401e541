package kv

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

// incrByFloatCases are INCRBYFLOAT results recorded from redis-server 7.0
// on x86-64 (80-bit long double): the current value ("" for a missing key),
// the increment, and Redis's reply (an error text starting with "ERR").
// Reference: https://redis.io/docs/latest/commands/incrbyfloat/
var incrByFloatCases = []struct{ cur, incr, want string }{
	{"", "0.1", "0.1"},
	{"0.1", "0.2", "0.3"}, // float64 would say 0.30000000000000004
	{"0.3", "0.1", "0.4"},
	{"1", "1e-17", "1.00000000000000001"},
	{"10", "-10", "0"},
	{"-0", "0", "0"},
	{"0", "-0", "0"},
	{"1.5", "", "ERR value is not a valid float"},
	{"", "+.5", "0.5"},
	{"", "5.", "5"},
	{"", ".5e1", "5"},
	{"", "1E2", "100"},
	{"", "0x1p-2", "0.25"},
	{"", "0X1.8P1", "3"},
	{"", "0x.8", "0.5"},
	{"", "0x10", "16"},
	{"1e4932", "1e4932", "ERR increment would produce NaN or Infinity"},
	{"", "1e-4940", "0"},
	{"", "1e-4960", "ERR value is not a valid float"},
	{"", "2.5e-18", "0"},
	{"", "-2.5e-18", "0"},
	{"", "3.0000000000000000001", "3"},
	{"", "123456789012345678901234567890", "123456789012345678899921813504"},
	{"9007199254740993", "0", "9007199254740993"},
	{"", "0.000000000000000005", "0"},
	{"", "0.000000000000000015", "0.00000000000000002"},
	{"", "-1", "-1"},
	{"", "1e", "ERR value is not a valid float"},
	{"", "1e+", "ERR value is not a valid float"},
	{"", "e5", "ERR value is not a valid float"},
	{"", ".", "ERR value is not a valid float"},
	{"", "-", "ERR value is not a valid float"},
	{"", "+", "ERR value is not a valid float"},
	{"", "nan", "ERR value is not a valid float"},
	{"", "inf", "ERR increment would produce NaN or Infinity"},
	{"", "-inf", "ERR increment would produce NaN or Infinity"},
	{"", "infinity", "ERR increment would produce NaN or Infinity"},
	{"", "1_000", "ERR value is not a valid float"},
	{"", "0b101", "ERR value is not a valid float"},
	{"", "1 ", "ERR value is not a valid float"},
	{"", " 1", "ERR value is not a valid float"},
	{"", "0x", "ERR value is not a valid float"},
	{"", "0x1p", "ERR value is not a valid float"},
	{"", "1.0e-3", "0.001"},
	{"", "12345.678901234567890123", "12345.6789012345678902"},
	{"", "0.1e-310", "0"},
	{"7", "1e-16", "7.0000000000000001"},
	{"100000000000000000000", "1", "100000000000000000000"},
	{"", "18446744073709551616", "18446744073709551616"},
	{"", "3.14159265358979323846264338327950288", "3.14159265358979324"},
	{"", "1e19", "10000000000000000000"},
	{"", "9.99999999999999999e18", "9999999999999999990"},
	{"abc", "1", "ERR value is not a valid float"},
	{"1\x00junk", "1", "ERR value is not a valid float"}, // all bytes must parse
	{"\x00", "1", "ERR value is not a valid float"},
	{"1", "1\x00", "ERR value is not a valid float"},
}

// incrByFloatLong are results too long to list: length, first digits and
// the SHA-256 prefix of the whole reply.
var incrByFloatLong = []struct{ incr, head, sha string }{
	{"1e4931", "1000000000000000000006018949387963891323", "46b21ee182105649"},
	{"1.7976931348623157e308", "1797693134862315699959210467741044340483", "7bcb86244d49b627"},
	{"1e309", "9999999999999999999863494245812564547663", "d188bd80421b1d12"},
}

func floatReply(cur, incr string) string {
	c := []byte(cur)
	if cur == "" {
		c = []byte("0")
	}
	out, err := addLongDouble(c, []byte(incr))
	switch {
	case errors.Is(err, ErrNotFloat):
		return "ERR value is not a valid float"
	case errors.Is(err, ErrNaNOrInf):
		return "ERR increment would produce NaN or Infinity"
	case err != nil:
		return err.Error()
	}
	return string(out)
}

func TestIncrByFloatLikeRedis(t *testing.T) {
	for _, tc := range incrByFloatCases {
		if got := floatReply(tc.cur, tc.incr); got != tc.want {
			t.Errorf("INCRBYFLOAT of %q by %q = %q, want %q (redis-server)", tc.cur, tc.incr, got, tc.want)
		}
	}
	for _, tc := range incrByFloatLong {
		got := floatReply("", tc.incr)
		sum := sha256.Sum256([]byte(got))
		if len(got) < len(tc.head) || got[:len(tc.head)] != tc.head || hex.EncodeToString(sum[:])[:16] != tc.sha {
			t.Errorf("INCRBYFLOAT by %q = %.60q... (sha %x), want %s... (sha %s)", tc.incr, got, sum[:8], tc.head, tc.sha)
		}
	}
}

// FuzzIncrByFloat: parsing and adding never panic, take bounded time on
// huge exponents, and a result is itself a valid float that adds 0 to
// itself unchanged (Redis stores the text and parses it back next time).
func FuzzIncrByFloat(f *testing.F) {
	for _, tc := range incrByFloatCases {
		f.Add([]byte(tc.cur), []byte(tc.incr))
	}
	f.Add([]byte("1e99999999999999999999"), []byte("1"))
	f.Fuzz(func(t *testing.T, cur, incr []byte) {
		out, err := addLongDouble(cur, incr)
		if err != nil {
			if !errors.Is(err, ErrNotFloat) && !errors.Is(err, ErrNaNOrInf) {
				t.Fatalf("addLongDouble(%q, %q) error %v, want ErrNotFloat or ErrNaNOrInf", cur, incr, err)
			}
			return
		}
		again, err := addLongDouble(out, []byte("0"))
		if err != nil || string(again) != string(out) {
			t.Fatalf("addLongDouble(%q, %q) = %q, but %q + 0 = %q, %v", cur, incr, out, out, again, err)
		}
	})
}
