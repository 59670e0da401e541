package respwire

import (
	"math"
	"strconv"
)

// Reply encoders. Each appends one RESP value to b and returns it; the
// protocol version (2 or 3) matters only where RESP3 has its own type.

// AppendSimple appends a simple string, "+s". s must not hold a line break.
func AppendSimple(b []byte, s string) []byte {
	b = append(b, '+')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendOK appends "+OK".
func AppendOK(b []byte) []byte { return append(b, "+OK\r\n"...) }

// AppendError appends "-" + msg. msg starts with the error code (ERR,
// WRONGTYPE, ...); line breaks are replaced so the reply stays one line.
func AppendError(b []byte, msg string) []byte {
	b = append(b, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return append(b, '\r', '\n')
}

// AppendInt appends an integer, ":n".
func AppendInt(b []byte, n int64) []byte {
	b = append(b, ':')
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\r', '\n')
}

// AppendBulk appends a bulk string; nil is an empty one, not a null.
func AppendBulk(b []byte, v []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, '\r', '\n')
	b = append(b, v...)
	return append(b, '\r', '\n')
}

// AppendBulkString is AppendBulk for a string.
func AppendBulkString(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendNull appends the null reply: "_" in RESP3, a null bulk in RESP2.
func AppendNull(b []byte, proto int) []byte {
	if proto >= 3 {
		return append(b, '_', '\r', '\n')
	}
	return append(b, "$-1\r\n"...)
}

// AppendNullArray appends a null array (RESP2 "*-1"; RESP3 null).
func AppendNullArray(b []byte, proto int) []byte {
	if proto >= 3 {
		return append(b, '_', '\r', '\n')
	}
	return append(b, "*-1\r\n"...)
}

// AppendArrayLen starts an array of n elements, "*n".
func AppendArrayLen(b []byte, n int) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// AppendMapLen starts a map of n pairs: "%n" in RESP3, a flat array of 2n
// in RESP2.
func AppendMapLen(b []byte, n int, proto int) []byte {
	if proto >= 3 {
		b = append(b, '%')
		b = strconv.AppendInt(b, int64(n), 10)
		return append(b, '\r', '\n')
	}
	return AppendArrayLen(b, 2*n)
}

// AppendSetLen starts a set: "~n" in RESP3, an array in RESP2.
func AppendSetLen(b []byte, n int, proto int) []byte {
	if proto >= 3 {
		b = append(b, '~')
		b = strconv.AppendInt(b, int64(n), 10)
		return append(b, '\r', '\n')
	}
	return AppendArrayLen(b, n)
}

// AppendDouble appends a double: "," in RESP3, a bulk string in RESP2.
func AppendDouble(b []byte, f float64, proto int) []byte {
	var s string
	switch {
	case math.IsInf(f, 1):
		s = "inf"
	case math.IsInf(f, -1):
		s = "-inf"
	case math.IsNaN(f):
		s = "nan" // the RESP3 spelling; strconv writes "NaN"
	default:
		s = strconv.FormatFloat(f, 'g', 17, 64)
	}
	if proto >= 3 {
		b = append(b, ',')
		b = append(b, s...)
		return append(b, '\r', '\n')
	}
	return AppendBulkString(b, s)
}

// AppendVerbatim appends text: a verbatim string ("=", format txt) in RESP3,
// a bulk string in RESP2. INFO replies this way, as Redis does.
func AppendVerbatim(b []byte, s string, proto int) []byte {
	if proto < 3 {
		return AppendBulkString(b, s)
	}
	b = append(b, '=')
	b = strconv.AppendInt(b, int64(len(s)+4), 10)
	b = append(b, "\r\ntxt:"...)
	b = append(b, s...)
	return append(b, '\r', '\n')
}
