package respwire

import (
	"bufio"
	"math"
	"strings"
	"testing"
)

// Reference: https://redis.io/docs/latest/develop/reference/protocol-spec/
func TestReplyEncoders(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"simple", AppendSimple(nil, "PONG"), "+PONG\r\n"},
		{"ok", AppendOK(nil), "+OK\r\n"},
		{"error", AppendError(nil, "ERR syntax error"), "-ERR syntax error\r\n"},
		{"error newlines sanitized", AppendError(nil, "ERR a\r\nb\nc\rd"), "-ERR a  b c d\r\n"},
		{"int", AppendInt(nil, 42), ":42\r\n"},
		{"int negative", AppendInt(nil, -7), ":-7\r\n"},
		{"int min", AppendInt(nil, math.MinInt64), ":-9223372036854775808\r\n"},
		{"bulk", AppendBulk(nil, []byte("hello")), "$5\r\nhello\r\n"},
		{"bulk empty", AppendBulk(nil, []byte{}), "$0\r\n\r\n"},
		{"bulk nil is empty", AppendBulk(nil, nil), "$0\r\n\r\n"},
		{"bulk binary", AppendBulk(nil, []byte("a\r\n\x00b")), "$5\r\na\r\n\x00b\r\n"},
		{"bulk string", AppendBulkString(nil, "héllo"), "$6\r\nhéllo\r\n"},
		{"array len", AppendArrayLen(nil, 3), "*3\r\n"},
		{"array len zero", AppendArrayLen(nil, 0), "*0\r\n"},
		{"appends to existing", AppendOK([]byte("+PONG\r\n")), "+PONG\r\n+OK\r\n"},

		{"null resp2", AppendNull(nil, 2), "$-1\r\n"},
		{"null resp3", AppendNull(nil, 3), "_\r\n"},
		{"null array resp2", AppendNullArray(nil, 2), "*-1\r\n"},
		{"null array resp3", AppendNullArray(nil, 3), "_\r\n"},
		{"map resp2", AppendMapLen(nil, 2, 2), "*4\r\n"},
		{"map resp3", AppendMapLen(nil, 2, 3), "%2\r\n"},
		{"empty map resp3", AppendMapLen(nil, 0, 3), "%0\r\n"},
		{"set resp2", AppendSetLen(nil, 3, 2), "*3\r\n"},
		{"set resp3", AppendSetLen(nil, 3, 3), "~3\r\n"},
		{"double resp2", AppendDouble(nil, 1.5, 2), "$3\r\n1.5\r\n"},
		{"double resp3", AppendDouble(nil, 1.5, 3), ",1.5\r\n"},
		{"double integral resp3", AppendDouble(nil, 3, 3), ",3\r\n"},
		{"double negative resp3", AppendDouble(nil, -2.25, 3), ",-2.25\r\n"},
		{"double inf resp3", AppendDouble(nil, math.Inf(1), 3), ",inf\r\n"},
		{"double -inf resp3", AppendDouble(nil, math.Inf(-1), 3), ",-inf\r\n"},
		{"double nan resp3", AppendDouble(nil, math.NaN(), 3), ",nan\r\n"},
		{"double inf resp2", AppendDouble(nil, math.Inf(1), 2), "$3\r\ninf\r\n"},
		{"double -inf resp2", AppendDouble(nil, math.Inf(-1), 2), "$4\r\n-inf\r\n"},
		{"double nan resp2", AppendDouble(nil, math.NaN(), 2), "$3\r\nnan\r\n"},
		{"verbatim resp2", AppendVerbatim(nil, "a:1\r\n", 2), "$5\r\na:1\r\n\r\n"},
		{"verbatim resp3", AppendVerbatim(nil, "a:1\r\n", 3), "=9\r\ntxt:a:1\r\n\r\n"},
		{"verbatim empty resp3", AppendVerbatim(nil, "", 3), "=4\r\ntxt:\r\n"},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// TestReplyEncodersWellFormed feeds every encoder's output to the strict
// reply reader.
func TestReplyEncodersWellFormed(t *testing.T) {
	for _, proto := range []int{2, 3} {
		var b []byte
		b = AppendMapLen(b, 2, proto)
		b = AppendBulkString(b, "k")
		b = AppendSetLen(b, 2, proto)
		b = AppendDouble(b, math.Inf(-1), proto)
		b = AppendNull(b, proto)
		b = AppendBulkString(b, "v")
		b = AppendVerbatim(b, "x\r\ny", proto)
		b = AppendNullArray(b, proto)
		r := bufio.NewReader(strings.NewReader(string(b)))
		for i := range 2 {
			if _, err := ReadReplyStrict(r); err != nil {
				t.Errorf("proto %d: reply %d of %q: %v", proto, i, b, err)
			}
		}
		if rest, err := ReadReplyStrict(r); err == nil {
			t.Errorf("proto %d: %q holds an extra reply %q", proto, b, rest)
		}
	}
}

func BenchmarkAppendBulk(b *testing.B) {
	v := []byte(strings.Repeat("v", 64))
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for range 16 {
			buf = AppendBulk(buf, v)
		}
	}
}
