// Package respwire encodes and decodes the Redis protocol (RESP2 and
// RESP3): requests, as clients send them and servers parse them, and
// replies.
//
// It is a leaf: it imports only the standard library. The server (package
// resp) parses requests and encodes replies with it; the node-to-node
// client (package cluster) encodes requests and reads replies with it.
package respwire

import (
	"bytes"
	"errors"
	"strconv"
)

// Limits of the request parser, as in Redis.
const (
	// DefaultMaxBulkLen is the default largest bulk argument (Redis's
	// proto-max-bulk-len).
	DefaultMaxBulkLen = 512 << 20
	// MaxMultibulkLen is the largest number of arguments in one request.
	MaxMultibulkLen = 1024 * 1024
	// maxInlineLen is the longest inline request or header line.
	maxInlineLen = 64 << 10
)

// Limits bound what one request may hold.
type Limits struct {
	MaxBulk int // largest bulk argument
	MaxArgs int // most arguments
	// Unauth reports a request past a limit as "unauthenticated ..."
	// rather than "invalid ...", as Redis does before AUTH.
	Unauth bool
}

// UnauthLimits apply before a client has authenticated (with
// --requirepass), as in Redis: 10 arguments of 16 KB at most.
var UnauthLimits = Limits{MaxBulk: 16 << 10, MaxArgs: 10, Unauth: true}

// AppendRequest appends args as a RESP multibulk request, the way clients
// send commands.
func AppendRequest(b []byte, args ...[]byte) []byte {
	b = AppendArrayLen(b, len(args))
	for _, a := range args {
		b = AppendBulk(b, a)
	}
	return b
}

// ProtocolError is a malformed request. The connection is answered with
// "-ERR Protocol error: ..." and closed, like Redis does.
type ProtocolError struct{ msg string }

func (e *ProtocolError) Error() string { return "Protocol error: " + e.msg }

func protoErr(msg string) error { return &ProtocolError{msg} }

// ErrIncomplete means the buffer does not yet hold a whole request.
var ErrIncomplete = errors.New("resp: incomplete request")

// ParseRequest parses one request from the front of buf. It returns the
// arguments (aliasing buf), the number of bytes consumed, and ErrIncomplete
// when more input is needed; need is then a lower bound on the buffer size
// the request requires (0 when unknown). An empty inline line yields no args
// and a positive n: the caller skips it.
func ParseRequest(buf []byte, lim Limits) (args [][]byte, n int, need int, err error) {
	if len(buf) == 0 {
		return nil, 0, 0, ErrIncomplete
	}
	if buf[0] != '*' {
		return parseInline(buf)
	}
	line, pos, err := readLine(buf, 0)
	if err != nil {
		if err == ErrIncomplete && len(buf) > maxInlineLen {
			return nil, 0, 0, protoErr("too big mbulk count string")
		}
		return nil, 0, 0, err
	}
	count, ok := parseLen(line[1:])
	if ok && lim.Unauth && count > lim.MaxArgs {
		return nil, 0, 0, protoErr("unauthenticated multibulk length")
	}
	if !ok || count > lim.MaxArgs {
		return nil, 0, 0, protoErr("invalid multibulk length")
	}
	if count <= 0 {
		return nil, pos, 0, nil // "*0" and "*-1" are skipped, as Redis does
	}
	args = make([][]byte, 0, min(count, 64))
	for range count {
		if pos >= len(buf) {
			return nil, 0, 0, ErrIncomplete
		}
		if buf[pos] != '$' {
			return nil, 0, 0, protoErr("expected '$', got '" + printable(buf[pos]) + "'")
		}
		line, next, err := readLine(buf, pos)
		if err != nil {
			if err == ErrIncomplete && len(buf)-pos > maxInlineLen {
				return nil, 0, 0, protoErr("too big bulk count string")
			}
			return nil, 0, 0, err
		}
		size, ok := parseLen(line[1:])
		if ok && lim.Unauth && size > lim.MaxBulk {
			return nil, 0, 0, protoErr("unauthenticated bulk length")
		}
		if !ok || size < 0 || size > lim.MaxBulk {
			return nil, 0, 0, protoErr("invalid bulk length")
		}
		end := next + size + 2
		if end > len(buf) {
			return nil, 0, end, ErrIncomplete
		}
		if buf[end-2] != '\r' || buf[end-1] != '\n' {
			return nil, 0, 0, protoErr("invalid bulk length")
		}
		args = append(args, buf[next:next+size:next+size])
		pos = end
	}
	return args, pos, 0, nil
}

// readLine returns the line starting at buf[pos] (without "\r\n") and the
// position after it. A header line must end in "\r\n".
func readLine(buf []byte, pos int) ([]byte, int, error) {
	i := bytes.IndexByte(buf[pos:], '\n')
	if i < 0 {
		return nil, 0, ErrIncomplete
	}
	end := pos + i
	if i == 0 || buf[end-1] != '\r' {
		if buf[pos] == '*' {
			return nil, 0, protoErr("invalid multibulk length")
		}
		return nil, 0, protoErr("invalid bulk length")
	}
	return buf[pos : end-1], end + 1, nil
}

// parseLen parses a decimal length of at most 18 digits (no overflow).
func parseLen(b []byte) (int, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func printable(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return string(c)
	}
	return "\\x" + strconv.FormatUint(uint64(c), 16)
}

// parseInline parses a telnet-style request line: arguments separated by
// spaces, with "double" (backslash escapes) and 'single' quoting.
func parseInline(buf []byte) ([][]byte, int, int, error) {
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		if len(buf) > maxInlineLen {
			return nil, 0, 0, protoErr("too big inline request")
		}
		return nil, 0, 0, ErrIncomplete
	}
	if i > maxInlineLen {
		return nil, 0, 0, protoErr("too big inline request")
	}
	line := buf[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, err := splitArgs(line)
	if err != nil {
		return nil, 0, 0, err
	}
	return args, i + 1, 0, nil
}

// splitArgs splits an inline line the way Redis's sdssplitargs does.
func splitArgs(line []byte) ([][]byte, error) {
	var args [][]byte
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			return args, nil
		}
		var cur []byte
		inDq, inSq := false, false
		for {
			if inDq {
				if p >= len(line) {
					return nil, protoErr("unbalanced quotes in request")
				}
				c := line[p]
				switch {
				case c == '\\' && p+3 < len(line) && line[p+1] == 'x' && isHex(line[p+2]) && isHex(line[p+3]):
					cur = append(cur, hexVal(line[p+2])<<4|hexVal(line[p+3]))
					p += 3
				case c == '\\' && p+1 < len(line):
					p++
					switch line[p] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[p])
					}
				case c == '"':
					if p+1 < len(line) && !isSpace(line[p+1]) {
						return nil, protoErr("unbalanced quotes in request")
					}
					inDq = false
				default:
					cur = append(cur, c)
				}
			} else if inSq {
				if p >= len(line) {
					return nil, protoErr("unbalanced quotes in request")
				}
				c := line[p]
				switch {
				case c == '\\' && p+1 < len(line) && line[p+1] == '\'':
					p++
					cur = append(cur, '\'')
				case c == '\'':
					if p+1 < len(line) && !isSpace(line[p+1]) {
						return nil, protoErr("unbalanced quotes in request")
					}
					inSq = false
				default:
					cur = append(cur, c)
				}
			} else {
				if p >= len(line) || isSpace(line[p]) {
					break
				}
				switch line[p] {
				case '"':
					inDq = true
				case '\'':
					inSq = true
				default:
					cur = append(cur, line[p])
				}
			}
			p++
			if !inDq && !inSq && p >= len(line) {
				break
			}
		}
		if cur == nil {
			cur = []byte{}
		}
		args = append(args, cur)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
