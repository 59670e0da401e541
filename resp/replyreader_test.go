package resp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// replyReader reads RESP2/RESP3 replies strictly: every line ends in
// "\r\n", every length and number is well-formed, every bulk is followed by
// "\r\n". Tests use it to check that the server answers with well-formed
// replies, one per request.
type replyReader struct {
	br  *bufio.Reader
	raw []byte
}

func newReplyReader(r io.Reader) *replyReader {
	return &replyReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// maxReplyDepth bounds nesting; riot's deepest reply (COMMAND) nests 3.
const maxReplyDepth = 16

// next reads one whole reply and returns its bytes.
func (r *replyReader) next() ([]byte, error) {
	r.raw = r.raw[:0]
	if err := r.value(0); err != nil {
		return nil, err
	}
	return bytes.Clone(r.raw), nil
}

func (r *replyReader) line() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("reply line longer than %d bytes", r.br.Size())
		}
		if len(line) > 0 && errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reply line %q cut by EOF", line)
		}
		return nil, err
	}
	r.raw = append(r.raw, line...)
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("malformed reply line %q", line)
	}
	body := line[:len(line)-2]
	if bytes.IndexByte(body, '\r') >= 0 {
		return nil, fmt.Errorf("reply line %q holds a CR", line)
	}
	return body, nil
}

// respInt parses a RESP integer: optional '-', then digits.
func respInt(b []byte) (int64, error) {
	if len(b) == 0 || b[0] == '+' {
		return 0, fmt.Errorf("malformed integer %q", b)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed integer %q", b)
	}
	return n, nil
}

func (r *replyReader) value(depth int) error {
	if depth > maxReplyDepth {
		return fmt.Errorf("reply nested deeper than %d", maxReplyDepth)
	}
	line, err := r.line()
	if err != nil {
		return err
	}
	typ, body := line[0], line[1:]
	switch typ {
	case '+', '-':
		return nil
	case ':':
		_, err := respInt(body)
		return err
	case '(':
		digits := bytes.TrimPrefix(body, []byte("-"))
		if len(digits) == 0 || len(bytes.Trim(digits, "0123456789")) > 0 {
			return fmt.Errorf("malformed big number %q", line)
		}
		return nil
	case ',':
		switch string(body) {
		case "inf", "-inf", "nan":
			return nil
		}
		if _, err := strconv.ParseFloat(string(body), 64); err != nil {
			return fmt.Errorf("malformed double %q", line)
		}
		return nil
	case '#':
		if string(body) != "t" && string(body) != "f" {
			return fmt.Errorf("malformed boolean %q", line)
		}
		return nil
	case '_':
		if len(body) != 0 {
			return fmt.Errorf("malformed null %q", line)
		}
		return nil
	case '$', '=', '!':
		n, err := respInt(body)
		if err != nil {
			return err
		}
		if n == -1 && typ == '$' {
			return nil // RESP2 null bulk
		}
		if n < 0 || n > 1<<30 {
			return fmt.Errorf("bad blob length in %q", line)
		}
		start := len(r.raw)
		r.raw = append(r.raw, make([]byte, n+2)...)
		if _, err := io.ReadFull(r.br, r.raw[start:]); err != nil {
			return fmt.Errorf("blob of %d bytes: %w", n, err)
		}
		if !bytes.HasSuffix(r.raw, []byte("\r\n")) {
			return fmt.Errorf("blob of %d bytes not followed by CRLF", n)
		}
		if typ == '=' && (n < 4 || r.raw[start+3] != ':') {
			return fmt.Errorf("verbatim string without a format: %q", r.raw[start:])
		}
		return nil
	case '*', '~', '>', '%', '|':
		n, err := respInt(body)
		if err != nil {
			return err
		}
		if n == -1 && typ == '*' {
			return nil // RESP2 null array
		}
		if n < 0 || n > 1<<20 {
			return fmt.Errorf("bad aggregate length in %q", line)
		}
		if typ == '%' || typ == '|' {
			n *= 2
		}
		for range n {
			if err := r.value(depth + 1); err != nil {
				return err
			}
		}
		if typ == '|' {
			return r.value(depth) // attributes precede the real reply
		}
		return nil
	}
	return fmt.Errorf("unknown reply type in %q", line)
}
