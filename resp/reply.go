package resp

import (
	"math"
	"strconv"
)

// Reply encoders. Each appends one RESP value to b and returns it; the
// protocol version (2 or 3) matters only where RESP3 has its own type.

func appendSimple(b []byte, s string) []byte {
	b = append(b, '+')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

func appendOK(b []byte) []byte { return append(b, "+OK\r\n"...) }

// appendError appends "-" + msg. msg starts with the error code (ERR,
// WRONGTYPE, ...); line breaks are replaced so the reply stays one line.
func appendError(b []byte, msg string) []byte {
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

func appendInt(b []byte, n int64) []byte {
	b = append(b, ':')
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\r', '\n')
}

func appendBulk(b []byte, v []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, '\r', '\n')
	b = append(b, v...)
	return append(b, '\r', '\n')
}

func appendBulkString(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// appendNull appends the null reply: "_" in RESP3, a null bulk in RESP2.
func appendNull(b []byte, proto int) []byte {
	if proto >= 3 {
		return append(b, '_', '\r', '\n')
	}
	return append(b, "$-1\r\n"...)
}

// appendNullArray appends a null array (RESP2 "*-1"; RESP3 null).
func appendNullArray(b []byte, proto int) []byte {
	if proto >= 3 {
		return append(b, '_', '\r', '\n')
	}
	return append(b, "*-1\r\n"...)
}

func appendArrayLen(b []byte, n int) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// appendMapLen starts a map of n pairs: "%n" in RESP3, a flat array of 2n
// in RESP2.
func appendMapLen(b []byte, n int, proto int) []byte {
	if proto >= 3 {
		b = append(b, '%')
		b = strconv.AppendInt(b, int64(n), 10)
		return append(b, '\r', '\n')
	}
	return appendArrayLen(b, 2*n)
}

// appendSetLen starts a set: "~n" in RESP3, an array in RESP2.
func appendSetLen(b []byte, n int, proto int) []byte {
	if proto >= 3 {
		b = append(b, '~')
		b = strconv.AppendInt(b, int64(n), 10)
		return append(b, '\r', '\n')
	}
	return appendArrayLen(b, n)
}

// appendDouble appends a double: "," in RESP3, a bulk string in RESP2.
func appendDouble(b []byte, f float64, proto int) []byte {
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
	return appendBulkString(b, s)
}

// appendVerbatim appends text: a verbatim string ("=", format txt) in RESP3,
// a bulk string in RESP2. INFO replies this way, as Redis does.
func appendVerbatim(b []byte, s string, proto int) []byte {
	if proto < 3 {
		return appendBulkString(b, s)
	}
	b = append(b, '=')
	b = strconv.AppendInt(b, int64(len(s)+4), 10)
	b = append(b, "\r\ntxt:"...)
	b = append(b, s...)
	return append(b, '\r', '\n')
}
