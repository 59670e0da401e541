package respwire

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// mbulk encodes args as one RESP multibulk request, the way clients send
// commands.
func mbulk(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

func argStrings(args [][]byte) []string {
	if args == nil {
		return nil
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

func equalArgs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// protoText returns the text of a *ProtocolError, or "" for other errors.
func protoText(err error) string {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	return ""
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // nil: a skipped request (no args)
		n    int      // bytes consumed; -1 means len(in)
	}{
		{"multibulk", mbulk("SET", "key", "value"), []string{"SET", "key", "value"}, -1},
		{"multibulk one arg", mbulk("PING"), []string{"PING"}, -1},
		{"empty bulk", mbulk("ECHO", ""), []string{"ECHO", ""}, -1},
		{"binary bulk", mbulk("SET", "k", "a\r\nb\x00\xff"), []string{"SET", "k", "a\r\nb\x00\xff"}, -1},
		{"bulk containing a request", mbulk("SET", "k", mbulk("PING")), []string{"SET", "k", mbulk("PING")}, -1},
		{"first of two", mbulk("GET", "a") + mbulk("GET", "b"), []string{"GET", "a"}, len(mbulk("GET", "a"))},
		{"multibulk then inline", mbulk("GET", "a") + "PING\r\n", []string{"GET", "a"}, len(mbulk("GET", "a"))},
		{"zero count skipped", "*0\r\n", nil, 4},
		{"null count skipped", "*-1\r\n", nil, 5},
		{"negative count skipped", "*-7\r\n" + mbulk("PING"), nil, 5},

		{"inline crlf", "PING\r\n", []string{"PING"}, -1},
		{"inline lf", "PING\n", []string{"PING"}, -1},
		{"inline args", "SET a b\r\n", []string{"SET", "a", "b"}, -1},
		{"inline extra spaces", "  SET \t a   b  \r\n", []string{"SET", "a", "b"}, -1},
		{"inline then more", "GET a\r\nGET b\r\n", []string{"GET", "a"}, 7},
		{"inline double quotes", `SET "a key" "a value"` + "\r\n", []string{"SET", "a key", "a value"}, -1},
		{"inline single quotes", "SET 'a key' 'a \"value\"'\r\n", []string{"SET", "a key", `a "value"`}, -1},
		{"inline hex escape", `SET k "\x41\x62\x5a"` + "\r\n", []string{"SET", "k", "AbZ"}, -1},
		{"inline escapes", `ECHO "a\nb\rc\td\be\af\"g\\h\q"` + "\r\n", []string{"ECHO", "a\nb\rc\td\be\af\"g\\hq"}, -1},
		{"inline bad hex is literal", `ECHO "\x4g"` + "\r\n", []string{"ECHO", "x4g"}, -1},
		{"inline single quote escape", `ECHO 'it\'s' 'a\nb'` + "\r\n", []string{"ECHO", "it's", `a\nb`}, -1},
		{"inline empty quoted args", `SET "" ''` + "\r\n", []string{"SET", "", ""}, -1},
		{"inline quote inside word", `SET a"b c"` + "\r\n", []string{"SET", "ab c"}, -1},
		{"inline binary", "ECHO \x00\xff\r\n", []string{"ECHO", "\x00\xff"}, -1},
		{"empty line skipped", "\r\n", nil, 2},
		{"empty lf line skipped", "\nPING\r\n", nil, 1},
		{"blank line skipped", "   \t \r\n", nil, 7},
		{"inline starting with $", "$3\r\n", []string{"$3"}, -1},
	}
	for _, tt := range tests {
		args, n, need, err := ParseRequest([]byte(tt.in), testLimits(1024))
		wantN := tt.n
		if wantN == -1 {
			wantN = len(tt.in)
		}
		if err != nil || n != wantN || need != 0 || !slices.Equal(argStrings(args), tt.want) {
			t.Errorf("%s: ParseRequest(%q) = %q, n=%d, need=%d, err=%v; want %q, n=%d",
				tt.name, tt.in, argStrings(args), n, need, err, tt.want, wantN)
		}
	}
}

// TestParseIncomplete cuts valid requests at every byte: every strict
// prefix must ask for more input, never parse as something else.
func TestParseIncomplete(t *testing.T) {
	valid := []string{
		mbulk("SET", "key", "value"),
		mbulk("PING"),
		mbulk("ECHO", ""),
		mbulk("SET", "k", "a\r\n$1\r\nb\r\n"),
		mbulk("SET", "k", strings.Repeat("v", 300)),
		"*0\r\n",
		"*-1\r\n",
		"PING\r\n",
		`SET "a b" 'c d'` + "\r\n",
		"\r\n",
	}
	for _, req := range valid {
		full, n, _, err := ParseRequest([]byte(req), testLimits(1024))
		if err != nil || n != len(req) {
			t.Fatalf("ParseRequest(%q) = %q, n=%d, err=%v; want the whole request", req, argStrings(full), n, err)
		}
		for cut := 0; cut < len(req); cut++ {
			in := []byte(req[:cut])
			args, n, need, err := ParseRequest(in, testLimits(1024))
			if !errors.Is(err, ErrIncomplete) || args != nil || n != 0 {
				t.Errorf("ParseRequest(%q) (cut of %q) = %q, n=%d, err=%v; want ErrIncomplete", in, req, argStrings(args), n, err)
			}
			if need != 0 && (need <= cut || need > len(req)) {
				t.Errorf("ParseRequest(%q) (cut of %q): need=%d, want 0 or in (%d, %d]", in, req, need, cut, len(req))
			}
		}
		// A complete request followed by a cut one parses the first.
		two := req + req[:len(req)/2]
		args, n, _, err := ParseRequest([]byte(two), testLimits(1024))
		if err != nil || n != len(req) || !equalArgs(args, full) {
			t.Errorf("ParseRequest(%q) = %q, n=%d, err=%v; want %q, n=%d", two, argStrings(args), n, err, argStrings(full), len(req))
		}
	}
}

// TestParseNeed checks the size hint for a big bulk that has not arrived.
func TestParseNeed(t *testing.T) {
	const size = 100000
	head := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + strconv.Itoa(size) + "\r\n"
	want := len(head) + size + 2
	for _, in := range []string{head, head + "abc", head + strings.Repeat("x", size), head + strings.Repeat("x", size) + "\r"} {
		args, n, need, err := ParseRequest([]byte(in), testLimits(DefaultMaxBulkLen))
		if !errors.Is(err, ErrIncomplete) || args != nil || n != 0 || need != want {
			t.Errorf("ParseRequest(<%d bytes: %.40q...>) = %q, n=%d, need=%d, err=%v; want ErrIncomplete, need=%d",
				len(in), in, argStrings(args), n, need, err, want)
		}
	}
	full := head + strings.Repeat("x", size) + "\r\n"
	args, n, need, err := ParseRequest([]byte(full), testLimits(DefaultMaxBulkLen))
	if err != nil || n != len(full) || need != 0 || len(args) != 3 || len(args[2]) != size {
		t.Errorf("ParseRequest(<%d bytes>) = %d args, n=%d, need=%d, err=%v; want 3 args, n=%d", len(full), len(args), n, need, err, len(full))
	}
}

// TestParseArgsDoNotOverlap checks that appending to one parsed argument
// cannot overwrite the next one in the shared buffer.
func TestParseArgsDoNotOverlap(t *testing.T) {
	in := mbulk("SET", "k", "v")
	buf := []byte(in)
	args, _, _, err := ParseRequest(buf, testLimits(1024))
	if err != nil {
		t.Fatalf("ParseRequest(%q): %v", in, err)
	}
	_ = append(args[1], "XXXXXXXX"...)
	if string(buf) != in {
		t.Errorf("append to args[1] changed the buffer: %q, want %q", buf, in)
	}
}

// Reference: Redis networking.c processMultibulkBuffer and
// processInlineBuffer for the error texts.
func TestParseErrors(t *testing.T) {
	big := strings.Repeat("a", maxInlineLen+1)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"count not a number", "*abc\r\n", "invalid multibulk length"},
		{"count empty", "*\r\n", "invalid multibulk length"},
		{"count too big", "*2000000\r\n", "invalid multibulk length"},
		{"count just over the limit", "*" + strconv.Itoa(MaxMultibulkLen+1) + "\r\n", "invalid multibulk length"},
		{"count max int64", "*9223372036854775807\r\n", "invalid multibulk length"},
		{"count past int64", "*99999999999999999999999\r\n", "invalid multibulk length"},
		{"count with plus", "*+1\r\n", "invalid multibulk length"},
		{"count with space", "*1 \r\n", "invalid multibulk length"},
		{"count without cr", "*1\n$4\r\nPING\r\n", "invalid multibulk length"},
		{"bulk negative", "*1\r\n$-5\r\n", "invalid bulk length"},
		{"bulk minus one", "*1\r\n$-1\r\n", "invalid bulk length"},
		{"bulk max int64", "*1\r\n$9223372036854775807\r\n", "invalid bulk length"},
		{"bulk max int64 with data", "*1\r\n$9223372036854775807\r\nabc\r\n", "invalid bulk length"}, // panics tidwall/redcon's parser
		{"bulk past int64", "*1\r\n$18446744073709551616\r\n", "invalid bulk length"},
		{"bulk over max", "*1\r\n$1025\r\n", "invalid bulk length"},
		{"bulk not a number", "*1\r\n$abc\r\n", "invalid bulk length"},
		{"bulk empty length", "*1\r\n$\r\n", "invalid bulk length"},
		{"bulk without cr", "*1\r\n$4\nPING\r\n", "invalid bulk length"},
		{"bulk missing crlf", "*1\r\n$3\r\nabcXY", "invalid bulk length"},
		{"bulk missing lf", "*1\r\n$3\r\nabc\rX", "invalid bulk length"},
		{"bulk longer than declared", "*1\r\n$2\r\nabc\r\n", "invalid bulk length"},
		{"second bulk bad", "*2\r\n$3\r\nGET\r\n$x\r\n", "invalid bulk length"},
		{"not a bulk", "*1\r\nx", "expected '$', got 'x'"},
		{"integer instead of bulk", "*2\r\n$3\r\nGET\r\n:1\r\n", "expected '$', got ':'"},
		{"inline too big", big, "too big inline request"},
		{"inline line too big", big + "\r\n", "too big inline request"},
		{"mbulk count too long", "*" + strings.Repeat("1", maxInlineLen+1), "too big mbulk count string"},
		{"bulk count too long", "*1\r\n$" + strings.Repeat("1", maxInlineLen+1), "too big bulk count string"},
		{"unbalanced double", `SET "a b` + "\r\n", "unbalanced quotes in request"},
		{"unbalanced single", `SET 'a b` + "\r\n", "unbalanced quotes in request"},
		{"double followed by text", `SET "a"b` + "\r\n", "unbalanced quotes in request"},
		{"single followed by text", `SET 'a'b` + "\r\n", "unbalanced quotes in request"},
		{"trailing backslash", `SET "a\` + "\r\n", "unbalanced quotes in request"},
		{"escaped closing quote", `SET "a\"` + "\r\n", "unbalanced quotes in request"},
		{"single quotes with doubled quote", `SET 'a key' 'it''s'` + "\n", "unbalanced quotes in request"},
	}
	for _, tt := range tests {
		args, n, need, err := ParseRequest([]byte(tt.in), testLimits(1024))
		want := "Protocol error: " + tt.want
		if got := protoText(err); got != want || args != nil || n != 0 || need != 0 {
			t.Errorf("%s: ParseRequest(%.60q) = %q, n=%d, need=%d, err=%v; want %q", tt.name, tt.in, argStrings(args), n, need, err, want)
		}
	}
}

// TestParseLimits checks the inputs right at the limits are accepted or
// still incomplete.
func TestParseLimits(t *testing.T) {
	exact := strings.Repeat("a", maxInlineLen)
	if _, _, _, err := ParseRequest([]byte(exact), testLimits(1024)); !errors.Is(err, ErrIncomplete) {
		t.Errorf("ParseRequest(<%d bytes without newline>) err=%v, want ErrIncomplete", len(exact), err)
	}
	args, n, _, err := ParseRequest([]byte(exact+"\n"), testLimits(1024))
	if err != nil || n != len(exact)+1 || len(args) != 1 || string(args[0]) != exact {
		t.Errorf("ParseRequest(<%d-byte inline line>) = %d args, n=%d, err=%v; want 1 arg", len(exact), len(args), n, err)
	}
	bulk := strings.Repeat("b", 1024)
	in := mbulk("SET", "k", bulk)
	args, n, _, err = ParseRequest([]byte(in), testLimits(1024))
	if err != nil || n != len(in) || len(args) != 3 || string(args[2]) != bulk {
		t.Errorf("ParseRequest(SET with a bulk of exactly maxBulk) = %d args, n=%d, err=%v; want 3 args", len(args), n, err)
	}
	count := "*" + strconv.Itoa(MaxMultibulkLen) + "\r\n"
	if _, _, _, err := ParseRequest([]byte(count), testLimits(1024)); !errors.Is(err, ErrIncomplete) {
		t.Errorf("ParseRequest(%q) err=%v, want ErrIncomplete", count, err)
	}
}

// FuzzParseRequest checks the parser never panics, never reads past its
// input, and that what it parses round-trips through the multibulk
// encoding. Seeds: testdata/fuzz/FuzzParseRequest.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(mbulk("SET", "k", "v")))
	f.Add([]byte("PING\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const maxBulk = 1 << 16
		args, n, need, err := ParseRequest(in, testLimits(maxBulk))
		switch {
		case errors.Is(err, ErrIncomplete):
			if args != nil || n != 0 {
				t.Fatalf("ParseRequest(%q): ErrIncomplete with args %q, n=%d", in, argStrings(args), n)
			}
			if need != 0 && need <= len(in) {
				t.Fatalf("ParseRequest(%q): ErrIncomplete with need=%d <= len(input)=%d", in, need, len(in))
			}
			return
		case err != nil:
			if protoText(err) == "" {
				t.Fatalf("ParseRequest(%q): error %v (%T) is not a *ProtocolError", in, err, err)
			}
			if args != nil || n != 0 {
				t.Fatalf("ParseRequest(%q): error %v with args %q, n=%d", in, err, argStrings(args), n)
			}
			return
		}
		if n < 1 || n > len(in) || need != 0 {
			t.Fatalf("ParseRequest(%q) = %q, n=%d, need=%d; want 1 <= n <= %d and need 0", in, argStrings(args), n, need, len(in))
		}
		for _, a := range args {
			if len(a) > maxBulk && in[0] == '*' {
				t.Fatalf("ParseRequest(%q): a bulk of %d bytes exceeds maxBulk %d", in, len(a), maxBulk)
			}
		}
		// The request alone parses the same.
		again, n2, _, err := ParseRequest(in[:n], testLimits(maxBulk))
		if err != nil || n2 != n || !equalArgs(again, args) {
			t.Fatalf("ParseRequest(%q) = %q, n=%d, err=%v; the whole input gave %q, n=%d", in[:n], argStrings(again), n2, err, argStrings(args), n)
		}
		// Every strict prefix of the request is incomplete.
		if n <= 4096 {
			for cut := range n {
				if a, m, _, err := ParseRequest(in[:cut], testLimits(maxBulk)); !errors.Is(err, ErrIncomplete) {
					t.Fatalf("ParseRequest(%q) (prefix of %q) = %q, n=%d, err=%v; want ErrIncomplete", in[:cut], in[:n], argStrings(a), m, err)
				}
			}
		}
		if len(args) == 0 {
			return
		}
		// Re-encoded as multibulk, the arguments parse back unchanged.
		enc := AppendRequest(nil, args...)
		back, m, _, err := ParseRequest(enc, testLimits(len(enc)))
		if err != nil || m != len(enc) || !equalArgs(back, args) {
			t.Fatalf("re-encoded %q as %q: parsed %q, n=%d, err=%v", argStrings(args), enc, argStrings(back), m, err)
		}
	})
}

// BenchmarkParsePipeline parses buffers of 16 pipelined SETs.
func BenchmarkParsePipeline(b *testing.B) {
	var buf []byte
	for i := range 16 {
		buf = append(buf, mbulk("SET", "key:"+strconv.Itoa(i), strings.Repeat("v", 64))...)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		rest := buf
		for len(rest) > 0 {
			_, n, _, err := ParseRequest(rest, testLimits(DefaultMaxBulkLen))
			if err != nil {
				b.Fatalf("parseRequest: %v", err)
			}
			rest = rest[n:]
		}
	}
}

func testLimits(maxBulk int) Limits { return Limits{MaxBulk: maxBulk, MaxArgs: MaxMultibulkLen} }

// Reference: Redis networking.c, before AUTH a client may send at most 10
// arguments of 16 KB.
func TestParseUnauthenticatedLimits(t *testing.T) {
	tests := []struct{ in, want string }{
		{"*11\r\n", "Protocol error: unauthenticated multibulk length"},
		{"*1\r\n$16385\r\n", "Protocol error: unauthenticated bulk length"},
	}
	for _, tt := range tests {
		_, _, _, err := ParseRequest([]byte(tt.in), UnauthLimits)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseRequest(%q, unauthenticated) error = %v, want %q", tt.in, err, tt.want)
		}
	}
	args, _, _, err := ParseRequest([]byte("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"), UnauthLimits)
	if err != nil || len(args) != 2 {
		t.Errorf("AUTH before authenticating: %q, %v; want parsed", args, err)
	}
}
