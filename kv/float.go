package kv

import (
	"bytes"
	"math/big"
	"strings"
)

// INCRBYFLOAT does its arithmetic the way Redis does on x86-64: both
// operands are parsed with strtold into an 80-bit long double (64-bit
// significand), added with one rounding, and the sum is printed with
// "%.17Lf" and its trailing zeros removed. float64 would give other digits
// ("0.1" + "0.2" is "0.3" in Redis, "0.30000000000000004" in float64), so
// the long double is emulated with math/big at 64 bits of precision: the
// result is identical on every replica and matches Redis, except for
// subnormal long doubles (below 2^-16382), which keep 64 bits here.

const (
	ldPrec = 64
	// ldMaxExp: a long double is below 2^16384 (big.Float exponent <=
	// 16384); larger values overflow to infinity.
	ldMaxExp = 16384
	// ldMinExp: below 2^-16446 (half the smallest subnormal) a value
	// rounds to zero, which strtold reports as a range error.
	ldMinExp = -16445
	// maxLongDoubleChars is Redis's MAX_LONG_DOUBLE_CHARS: longer input
	// is not a float.
	maxLongDoubleChars = 5 * 1024
)

// addLongDouble returns cur + incr formatted as Redis formats INCRBYFLOAT's
// result, or ErrNotFloat / ErrNaNOrInf.
func addLongDouble(cur, incr []byte) ([]byte, error) {
	a, ok := parseLongDouble(cur)
	if !ok {
		return nil, ErrNotFloat
	}
	b, ok := parseLongDouble(incr)
	if !ok {
		return nil, ErrNotFloat
	}
	if a.IsInf() || b.IsInf() {
		return nil, ErrNaNOrInf // inf + x is inf, inf - inf is NaN
	}
	sum := new(big.Float).SetPrec(ldPrec).Add(a, b)
	if sum.Sign() != 0 && sum.MantExp(nil) > ldMaxExp {
		return nil, ErrNaNOrInf
	}
	return formatLongDouble(sum), nil
}

// formatLongDouble prints f like Redis's ld2string in LD_STR_HUMAN mode:
// "%.17Lf", then trailing zeros (and a trailing '.') removed, and "-0"
// printed as "0".
func formatLongDouble(f *big.Float) []byte {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return []byte(s)
}

// parseLongDouble parses b as Redis's string2ld does: glibc strtold must
// consume the whole input (so a NUL byte makes it invalid), the first byte
// must not be a space, NaN is refused, and so is a value out of the long
// double range (strtold's ERANGE with an infinite or zero result).
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= maxLongDoubleChars || bytes.IndexByte(b, 0) >= 0 {
		return nil, false
	}
	f := new(big.Float).SetPrec(ldPrec)
	s := string(b)
	neg := false
	body := s
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	switch lower := strings.ToLower(body); {
	case lower == "inf" || lower == "infinity":
		return f.SetInf(neg), true
	case strings.HasPrefix(lower, "0x"):
		if !validHexFloat(body[2:]) {
			return nil, false
		}
		if _, _, err := f.Parse(s, 0); err != nil || f.IsInf() {
			return nil, false
		}
	default:
		r, ok := parseDecimal(body)
		if !ok {
			return nil, false
		}
		if r == nil {
			f.SetInt64(0)
		} else {
			f.SetRat(r)
		}
		if neg {
			f.Neg(f)
		}
	}
	if f.Sign() != 0 {
		if e := f.MantExp(nil); e > ldMaxExp || e < ldMinExp {
			return nil, false // overflow to inf, or underflow to 0: ERANGE
		}
	}
	return f, true
}

// validHexFloat checks the part of a hexadecimal float after "0x":
// hex digits with an optional point (at least one digit), then an
// optional binary exponent p[+-]digits.
func validHexFloat(s string) bool {
	digits := 0
	i := 0
	for i < len(s) && isHex(s[i]) {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isHex(s[i]) {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'p' || s[i] == 'P') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// parseDecimal parses an unsigned decimal float (digits, optional point,
// optional exponent) exactly. It returns nil for zero, and false for bad
// syntax or a value certainly outside the long double range.
func parseDecimal(s string) (*big.Rat, bool) {
	var mant []byte // significant digits
	i, digits, exp10 := 0, 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if len(mant) > 0 || s[i] != '0' {
			mant = append(mant, s[i])
		}
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if len(mant) > 0 || s[i] != '0' {
				mant = append(mant, s[i])
			}
			exp10--
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return nil, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return nil, false
		}
		e := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if e < 1_000_000 {
				e = e*10 + int(s[i]-'0')
			}
			i++
		}
		if neg {
			e = -e
		}
		exp10 += e
	}
	if i != len(s) {
		return nil, false
	}
	if len(mant) == 0 {
		return nil, true
	}
	// The value is mant * 10^(exp10 - digits after the first kept one).
	// Far outside the long double range (~1.19e4932 down to ~3.6e-4951),
	// stop before building huge numbers.
	mag := exp10 + len(mant) // the value is below 10^mag, at least 10^(mag-1)
	if mag > 4934 || mag < -4952 {
		return nil, false
	}
	num, _ := new(big.Int).SetString(string(mant), 10)
	// Trailing zeros of the mantissa are still in it; exp10 counts from
	// its last digit.
	r := new(big.Rat).SetInt(num)
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp10))), nil)
	if exp10 >= 0 {
		r.Mul(r, new(big.Rat).SetInt(pow))
	} else {
		r.Quo(r, new(big.Rat).SetInt(pow))
	}
	return r, true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// IsLongDouble reports whether b is a float as Redis's long double
// arguments accept (INCRBYFLOAT, HINCRBYFLOAT).
func IsLongDouble(b []byte) bool {
	_, ok := parseLongDouble(b)
	return ok
}

// ParseLongDouble parses b as Redis's string2ld does (see
// parseLongDouble): for arguments Redis reads as long doubles, such as
// the blocking commands' timeouts.
func ParseLongDouble(b []byte) (*big.Float, bool) { return parseLongDouble(b) }
