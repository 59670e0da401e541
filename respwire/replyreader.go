package respwire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits of the reply reader.
const (
	// MaxReplyBulk bounds one bulk, verbatim or blob error reply.
	MaxReplyBulk = 1 << 30
	// maxReplyAggregate bounds the length of one array, set, push or map.
	maxReplyAggregate = 1 << 24
	// maxReplyDepth bounds nesting; riot's deepest reply (COMMAND) nests 3.
	maxReplyDepth = 32
)

// ReadReply reads one complete RESP2/RESP3 reply from r and returns its raw
// bytes, so that it can be relayed as it is or decoded (ReplyError,
// ReplyBulk, ReplyInt). It checks the framing only: every line ends in
// "\r\n", lengths are numbers within the limits. A line longer than r's
// buffer is an error.
func ReadReply(r *bufio.Reader) ([]byte, error) {
	return readReply(r, nil, 0, false)
}

// ReadReplyStrict is ReadReply that also rejects what a strict client
// would: an integer, double, boolean, big number or null that is not well
// formed, a CR inside a line, a bulk not followed by "\r\n", a verbatim
// string without a format, a negative length other than -1 (a RESP2 null
// bulk or array). An attribute is read with the reply that follows it.
// Tests use it to check that the server answers with well-formed replies.
func ReadReplyStrict(r *bufio.Reader) ([]byte, error) {
	return readReply(r, nil, 0, true)
}

func readReply(r *bufio.Reader, dst []byte, depth int, strict bool) ([]byte, error) {
	if depth > maxReplyDepth {
		return nil, errors.New("respwire: reply nested too deeply")
	}
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("respwire: reply line longer than %d bytes", r.Size())
		}
		if strict && len(line) > 0 && errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("respwire: reply line %q cut by EOF", line)
		}
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("respwire: malformed reply line %q", line)
	}
	typ, body := line[0], line[1:len(line)-2]
	if strict {
		if err := checkLine(typ, body); err != nil {
			return nil, fmt.Errorf("respwire: %v in reply line %q", err, line)
		}
	}
	dst = append(dst, line...)
	switch typ {
	case '+', '-', ':', '_', ',', '#', '(':
		return dst, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(string(body))
		if err != nil || n > MaxReplyBulk || strict && n < 0 && (n != -1 || typ != '$') {
			return nil, fmt.Errorf("respwire: bad bulk length %q", body)
		}
		if n < 0 {
			return dst, nil
		}
		start := len(dst)
		dst = append(dst, make([]byte, n+2)...)
		if _, err := io.ReadFull(r, dst[start:]); err != nil {
			return nil, err
		}
		if strict && !bytes.HasSuffix(dst, []byte("\r\n")) {
			return nil, fmt.Errorf("respwire: bulk of %d bytes not followed by CRLF", n)
		}
		if strict && typ == '=' && (n < 4 || dst[start+3] != ':') {
			return nil, fmt.Errorf("respwire: verbatim string without a format: %q", dst[start:])
		}
		return dst, nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(body))
		if err != nil || n > maxReplyAggregate || strict && n < 0 && (n != -1 || typ != '*') {
			return nil, fmt.Errorf("respwire: bad aggregate length %q", body)
		}
		if typ == '%' || typ == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if dst, err = readReply(r, dst, depth+1, strict); err != nil {
				return nil, err
			}
		}
		if strict && typ == '|' {
			return readReply(r, dst, depth, strict) // attributes precede the real reply
		}
		return dst, nil
	}
	return nil, fmt.Errorf("respwire: unknown reply type %q", typ)
}

// checkLine checks the body of a reply line the way a strict client does.
func checkLine(typ byte, body []byte) error {
	if bytes.IndexByte(body, '\r') >= 0 {
		return errors.New("a CR")
	}
	switch typ {
	case ':', '$', '=', '!', '*', '~', '>', '%', '|':
		// An integer or a length: optional '-', then digits.
		if _, err := strconv.ParseInt(string(body), 10, 64); err != nil || len(body) == 0 || body[0] == '+' {
			return fmt.Errorf("malformed integer %q", body)
		}
	case '(':
		digits := bytes.TrimPrefix(body, []byte("-"))
		if len(digits) == 0 || len(bytes.Trim(digits, "0123456789")) > 0 {
			return errors.New("malformed big number")
		}
	case ',':
		switch string(body) {
		case "inf", "-inf", "nan":
			return nil
		}
		if _, err := strconv.ParseFloat(string(body), 64); err != nil {
			return errors.New("malformed double")
		}
	case '#':
		if string(body) != "t" && string(body) != "f" {
			return errors.New("malformed boolean")
		}
	case '_':
		if len(body) != 0 {
			return errors.New("malformed null")
		}
	}
	return nil
}

// ReplyError returns the error text of an error reply, or "".
func ReplyError(raw []byte) string {
	if len(raw) > 2 && raw[0] == '-' {
		return string(raw[1 : len(raw)-2])
	}
	return ""
}

// ReplyBulk returns the payload of a bulk reply.
func ReplyBulk(raw []byte) ([]byte, error) {
	if len(raw) < 4 || raw[0] != '$' {
		return nil, fmt.Errorf("respwire: expected a bulk reply, got %q", truncateReply(raw))
	}
	i := 1
	for i < len(raw) && raw[i] != '\r' {
		i++
	}
	n, err := strconv.Atoi(string(raw[1:i]))
	if err != nil || n < 0 || i+2+n+2 != len(raw) {
		return nil, fmt.Errorf("respwire: malformed bulk reply %q", truncateReply(raw))
	}
	return raw[i+2 : i+2+n], nil
}

// ReplyInt returns the value of an integer reply.
func ReplyInt(raw []byte) (int64, error) {
	if len(raw) < 4 || raw[0] != ':' {
		return 0, fmt.Errorf("respwire: expected an integer reply, got %q", truncateReply(raw))
	}
	return strconv.ParseInt(string(raw[1:len(raw)-2]), 10, 64)
}

func truncateReply(raw []byte) []byte {
	if len(raw) > 64 {
		return raw[:64]
	}
	return raw
}
