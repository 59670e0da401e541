package resp

import "testing"

// A bulk header alone must not make the server allocate what it claims:
// the buffer grows as bytes arrive.
func TestSessionBufferGrowsWithData(t *testing.T) {
	s := &session{buf: make([]byte, initialBuf)}
	s.end = copy(s.buf, "*1\r\n$536870912\r\n")
	s.need(536870912 + 32)
	if len(s.buf) > 2*initialBuf {
		t.Fatalf("need(512 MB) with %d bytes buffered grew the buffer to %d bytes, want at most %d", s.end, len(s.buf), 2*initialBuf)
	}
	if string(s.buf[:s.end]) != "*1\r\n$536870912\r\n" {
		t.Fatalf("buffered bytes lost: %q", s.buf[:s.end])
	}
}
