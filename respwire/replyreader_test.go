package respwire

import (
	"bufio"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	tests := []struct {
		in      string
		want    string // raw reply consumed; "" means error
		wantErr bool
	}{
		{in: "+OK\r\n", want: "+OK\r\n"},
		{in: "-ERR x\r\n", want: "-ERR x\r\n"},
		{in: ":42\r\n", want: ":42\r\n"},
		{in: "$3\r\nabc\r\n", want: "$3\r\nabc\r\n"},
		{in: "$-1\r\n", want: "$-1\r\n"},
		{in: "$0\r\n\r\n", want: "$0\r\n\r\n"},
		{in: "*2\r\n$1\r\na\r\n:1\r\n+rest", want: "*2\r\n$1\r\na\r\n:1\r\n"},
		{in: "%1\r\n+k\r\n+v\r\n", want: "%1\r\n+k\r\n+v\r\n"},
		{in: "_\r\n", want: "_\r\n"},
		{in: "$5\r\nab", wantErr: true},
		{in: "?x\r\n", wantErr: true},
		{in: "$abc\r\n", wantErr: true},
		{in: "+OK\n", wantErr: true},
		{in: "$99999999999\r\n", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ReadReply(bufio.NewReader(strings.NewReader(tt.in)))
		if tt.wantErr {
			if err == nil {
				t.Errorf("ReadReply(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("ReadReply(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestReplyDecoders(t *testing.T) {
	if b, err := ReplyBulk([]byte("$3\r\nabc\r\n")); err != nil || string(b) != "abc" {
		t.Errorf("ReplyBulk = %q, %v; want abc", b, err)
	}
	if _, err := ReplyBulk([]byte("$4\r\nabc\r\n")); err == nil {
		t.Error("ReplyBulk of a short bulk: want an error")
	}
	if n, err := ReplyInt([]byte(":-7\r\n")); err != nil || n != -7 {
		t.Errorf("ReplyInt = %d, %v; want -7", n, err)
	}
	if msg := ReplyError([]byte("-TRYAGAIN x\r\n")); msg != "TRYAGAIN x" {
		t.Errorf("ReplyError = %q", msg)
	}
	if msg := ReplyError([]byte("+OK\r\n")); msg != "" {
		t.Errorf("ReplyError(+OK) = %q, want empty", msg)
	}
}

// TestReadReplyStrict checks what only the strict reader refuses, and that
// it reads well-formed replies as ReadReply does.
func TestReadReplyStrict(t *testing.T) {
	good := []string{
		"+OK\r\n", ":-42\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*-1\r\n", "*2\r\n$1\r\na\r\n:1\r\n",
		"%1\r\n+k\r\n,1.5\r\n", "~1\r\n#t\r\n", "_\r\n", ",-inf\r\n", "(-123\r\n", "=7\r\ntxt:abc\r\n", "!3\r\nERR\r\n",
	}
	for _, in := range good {
		got, err := ReadReplyStrict(bufio.NewReader(strings.NewReader(in + "+next\r\n")))
		if err != nil || string(got) != in {
			t.Errorf("ReadReplyStrict(%q) = %q, %v; want it whole", in, got, err)
		}
	}
	// An attribute is read with the reply it precedes.
	attr := "|1\r\n+a\r\n:1\r\n+OK\r\n"
	if got, err := ReadReplyStrict(bufio.NewReader(strings.NewReader(attr))); err != nil || string(got) != attr {
		t.Errorf("ReadReplyStrict(%q) = %q, %v; want it whole", attr, got, err)
	}
	bad := []string{
		":x\r\n", ":+1\r\n", ":\r\n", "$+1\r\na\r\n", "$-2\r\n", "*-2\r\n", "~-1\r\n", "$3\r\nabcXY",
		"=2\r\nab\r\n", "=5\r\nabcde\r\n", ",x\r\n", "#x\r\n", "_x\r\n", "(1a\r\n", "+a\rb\r\n", "+OK",
	}
	for _, in := range bad {
		if got, err := ReadReplyStrict(bufio.NewReader(strings.NewReader(in))); err == nil {
			t.Errorf("ReadReplyStrict(%q) = %q, want an error", in, got)
		}
	}
}
