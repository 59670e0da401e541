package kv_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/riotkv/riot/kv"
)

// redisInt is the reference: Redis's string2ll accepts exactly the canonical
// decimal form of an int64 (no sign but '-', no leading zeros, no "-0", no
// spaces), which is what strconv.FormatInt produces.
func redisInt(s string) (int64, bool) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || strconv.FormatInt(v, 10) != s {
		return 0, false
	}
	return v, true
}

// Reference: string2ll in https://github.com/redis/redis/blob/unstable/src/util.c
var parseIntTests = []struct {
	in   string
	want int64
	ok   bool
}{
	{"0", 0, true},
	{"1", 1, true},
	{"-1", -1, true},
	{"10", 10, true},
	{"1234567890", 1234567890, true},
	{"-1234567890", -1234567890, true},
	{"9223372036854775807", math.MaxInt64, true},
	{"-9223372036854775808", math.MinInt64, true},
	{"9223372036854775806", math.MaxInt64 - 1, true},
	{"-9223372036854775807", math.MinInt64 + 1, true},

	{"", 0, false},
	{"-", 0, false},
	{"-0", 0, false}, // string2ll: "-" must be followed by 1-9
	{"+1", 0, false},
	{"+0", 0, false},
	{" 1", 0, false},
	{"1 ", 0, false},
	{"01", 0, false},
	{"00", 0, false},
	{"-01", 0, false},
	{"--1", 0, false},
	{"1-", 0, false},
	{"1.0", 0, false},
	{"1e3", 0, false},
	{"0x10", 0, false},
	{"abc", 0, false},
	{"12a", 0, false},
	{"\x00", 0, false},
	{"9223372036854775808", 0, false},   // MaxInt64 + 1
	{"-9223372036854775809", 0, false},  // MinInt64 - 1
	{"9999999999999999999", 0, false},   // 19 digits, too big
	{"10000000000000000000", 0, false},  // 20 digits
	{"18446744073709551615", 0, false},  // MaxUint64
	{"18446744073709551616", 0, false},  // MaxUint64 + 1: wraps to 0 in a naive uint64 loop
	{"18446744073709551619", 0, false},  // wraps to 3 in a naive uint64 loop
	{"99999999999999999999", 0, false},  // 20 digits
	{"-18446744073709551616", 0, false}, // 21 chars
	{"123456789012345678901", 0, false}, // 21 digits
	{strings.Repeat("1", 100), 0, false},
}

func TestParseInt(t *testing.T) {
	for _, tc := range parseIntTests {
		if ref, refOK := redisInt(tc.in); ref != tc.want || refOK != tc.ok {
			t.Fatalf("bad table entry %q: reference gives %d, %v; table says %d, %v", tc.in, ref, refOK, tc.want, tc.ok)
		}
		got, err := kv.ParseInt([]byte(tc.in))
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("ParseInt(%q) = %d, %v; want %d, nil", tc.in, got, err, tc.want)
			}
			continue
		}
		if !errors.Is(err, kv.ErrNotInteger) {
			t.Errorf("ParseInt(%q) = %d, %v; want ErrNotInteger", tc.in, got, err)
		}
	}
}

// FuzzParseInt compares ParseInt with the reference on any input.
func FuzzParseInt(f *testing.F) {
	for _, tc := range parseIntTests {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, wantOK := redisInt(s)
		got, err := kv.ParseInt([]byte(s))
		if wantOK != (err == nil) || got != want {
			t.Fatalf("ParseInt(%q) = %d, %v; want %d, ok=%v", s, got, err, want, wantOK)
		}
		if err != nil && !errors.Is(err, kv.ErrNotInteger) {
			t.Fatalf("ParseInt(%q) error = %v, want ErrNotInteger", s, err)
		}
	})
}
