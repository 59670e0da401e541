package kv

import (
	"math"
	"testing"
)

func TestParseScore(t *testing.T) {
	good := map[string]float64{
		"1": 1, "-1.5": -1.5, "+2": 2, "1e3": 1000, ".5": 0.5, "5.": 5, "inf": math.Inf(1),
		"-inf": math.Inf(-1), "+Infinity": math.Inf(1), "0x10": 16, "0x1p-2": 0.25, "-0": math.Copysign(0, -1),
		"4.9e-324": 4.9e-324, "1.7976931348623157e308": math.MaxFloat64,
	}
	for in, want := range good {
		got, ok := ParseScore([]byte(in))
		if !ok || got != want || math.Signbit(got) != math.Signbit(want) {
			t.Errorf("ParseScore(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", " 1", "1 ", "nan", "NaN", "-nan", "1e400", "1e-400", "abc", "1_0", "0x", "1\x00", "--1", "infx"} {
		if got, ok := ParseScore([]byte(in)); ok {
			t.Errorf("ParseScore(%q) = %v, true; want refused", in, got)
		}
	}
}

func TestScoreKeyOrder(t *testing.T) {
	scores := []float64{math.Inf(-1), -math.MaxFloat64, -1, -math.SmallestNonzeroFloat64, 0, math.SmallestNonzeroFloat64, 1, 1.5, math.MaxFloat64, math.Inf(1)}
	var prev []byte
	for _, f := range scores {
		k := appendScore(nil, f)
		if prev != nil && string(prev) >= string(k) {
			t.Errorf("score %v does not sort after the one before", f)
		}
		if got := decodeScoreKey(k); got != f {
			t.Errorf("decodeScoreKey(appendScore(%v)) = %v", f, got)
		}
		prev = k
	}
	if string(appendScore(nil, math.Copysign(0, -1))) != string(appendScore(nil, 0)) {
		t.Error("-0 and +0 encode differently")
	}
}
