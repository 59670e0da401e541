package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The forwarder speaks just enough RESP2 to send requests to the leader's
// client port and read replies back: requests are multibulk arrays, replies
// are read whole and returned raw, so they can be relayed to a client as
// they are or decoded.

// appendRequest appends args as a RESP multibulk request.
func appendRequest(b []byte, args ...[]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// maxReplyBulk bounds a bulk reply read from a peer.
const maxReplyBulk = 1 << 30

// readReply reads one complete RESP2/RESP3 reply and returns its raw bytes.
func readReply(r *bufio.Reader) ([]byte, error) {
	return readReplyInto(r, nil, 0)
}

func readReplyInto(r *bufio.Reader, dst []byte, depth int) ([]byte, error) {
	if depth > 32 {
		return nil, errors.New("cluster: reply nested too deeply")
	}
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("cluster: reply line too long")
		}
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("cluster: malformed reply line %q", line)
	}
	dst = append(dst, line...)
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return dst, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(string(body))
		if err != nil || n > maxReplyBulk {
			return nil, fmt.Errorf("cluster: bad bulk length %q", body)
		}
		if n < 0 {
			return dst, nil
		}
		start := len(dst)
		dst = append(dst, make([]byte, n+2)...)
		if _, err := io.ReadFull(r, dst[start:]); err != nil {
			return nil, err
		}
		return dst, nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(body))
		if err != nil || n > 1<<24 {
			return nil, fmt.Errorf("cluster: bad aggregate length %q", body)
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if dst, err = readReplyInto(r, dst, depth+1); err != nil {
				return nil, err
			}
		}
		return dst, nil
	}
	return nil, fmt.Errorf("cluster: unknown reply type %q", line[0])
}

// replyError returns the error text of an error reply, or "".
func replyError(raw []byte) string {
	if len(raw) > 2 && raw[0] == '-' {
		return string(raw[1 : len(raw)-2])
	}
	return ""
}

// replyBulk returns the payload of a bulk reply.
func replyBulk(raw []byte) ([]byte, error) {
	if len(raw) < 4 || raw[0] != '$' {
		return nil, fmt.Errorf("cluster: expected a bulk reply, got %q", truncateReply(raw))
	}
	i := 1
	for i < len(raw) && raw[i] != '\r' {
		i++
	}
	n, err := strconv.Atoi(string(raw[1:i]))
	if err != nil || n < 0 || i+2+n+2 != len(raw) {
		return nil, fmt.Errorf("cluster: malformed bulk reply %q", truncateReply(raw))
	}
	return raw[i+2 : i+2+n], nil
}

// replyInt returns the value of an integer reply.
func replyInt(raw []byte) (int64, error) {
	if len(raw) < 4 || raw[0] != ':' {
		return 0, fmt.Errorf("cluster: expected an integer reply, got %q", truncateReply(raw))
	}
	return strconv.ParseInt(string(raw[1:len(raw)-2]), 10, 64)
}

func truncateReply(raw []byte) []byte {
	if len(raw) > 64 {
		return raw[:64]
	}
	return raw
}
