package kv

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// ParseScore parses b as Redis parses a double argument (a sorted set
// score, a weight; util.c string2d via strtod): the whole input, no
// leading space, inf and infinity with an optional sign, hexadecimal
// floats, and neither NaN nor a value out of the double range (strtod's
// ERANGE with an infinite or zero result).
func ParseScore(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) >= maxLongDoubleChars || bytes.IndexByte(b, 0) >= 0 {
		return 0, false
	}
	s := string(b)
	body := s
	neg := false
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	switch lower := strings.ToLower(body); {
	case lower == "inf" || lower == "infinity":
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case strings.HasPrefix(lower, "0x"):
		if !validHexFloat(body[2:]) {
			return 0, false
		}
		if !strings.ContainsAny(lower, "p") {
			s += "p0" // strtod's exponent is optional, Go's is not
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) {
			return 0, false
		}
		return f, true
	}
	r, ok := parseDecimal(body)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || (f == 0 && r != nil) {
		return 0, false // overflow, or underflow to zero
	}
	return f, true
}
