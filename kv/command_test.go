package kv_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/riotkv/riot/kv"
)

// sameCommand reports whether a and b are the same command. A nil and an
// empty Args (or arg) are the same: the encoding does not tell them apart.
func sameCommand(a, b kv.Command) bool {
	if a.Op != b.Op || a.Int != b.Int || a.ExpireAt != b.ExpireAt || a.Now != b.Now || a.ClientID != b.ClientID || a.Seq != b.Seq || a.DB != b.DB || len(a.Args) != len(b.Args) {
		return false
	}
	for i := range a.Args {
		if !bytes.Equal(a.Args[i], b.Args[i]) {
			return false
		}
	}
	return true
}

func fmtCommand(c kv.Command) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "{Op:%s Int:%d ExpireAt:%d Now:%d ClientID:%d Seq:%d Args:[", c.Op, c.Int, c.ExpireAt, c.Now, c.ClientID, c.Seq)
	for i, a := range c.Args {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%q", a)
	}
	sb.WriteString("]}")
	return sb.String()
}

func bs(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}

// roundTripCommands covers every Op, the integer and expiry edge values and
// unusual arguments. It also seeds FuzzDecodeCommand.
var roundTripCommands = []struct {
	name string
	cmd  kv.Command
}{
	{"noop", kv.Command{Op: kv.OpNoop}},
	{"set", kv.Command{Op: kv.OpSet, Args: bs("k", "v")}},
	{"set expire", kv.Command{Op: kv.OpSet, Args: bs("k", "v"), ExpireAt: 1_700_000_000_123}},
	{"set expire max", kv.Command{Op: kv.OpSet, Args: bs("k", "v"), ExpireAt: math.MaxInt64}},
	{"set expire negative", kv.Command{Op: kv.OpSet, Args: bs("k", "v"), ExpireAt: -1}},
	{"del one", kv.Command{Op: kv.OpDel, Args: bs("k")}},
	{"del many", kv.Command{Op: kv.OpDel, Args: bs("a", "b", "c", "d")}},
	{"incrby zero", kv.Command{Op: kv.OpIncrBy, Args: bs("n"), Int: 0}},
	{"incrby one", kv.Command{Op: kv.OpIncrBy, Args: bs("n"), Int: 1}},
	{"incrby negative", kv.Command{Op: kv.OpIncrBy, Args: bs("n"), Int: -1}},
	{"incrby max", kv.Command{Op: kv.OpIncrBy, Args: bs("n"), Int: math.MaxInt64}},
	{"incrby min", kv.Command{Op: kv.OpIncrBy, Args: bs("n"), Int: math.MinInt64}},
	{"request id", kv.Command{Op: kv.OpIncrBy, Args: bs("n"), Int: 1, ClientID: 1<<64 - 1, Seq: 0}},
	{"request id seq", kv.Command{Op: kv.OpSet, Args: bs("k", "v"), ClientID: 7, Seq: 1 << 40}},
	{"int and expire", kv.Command{Op: kv.OpIncrBy, Args: bs("n"), Int: math.MinInt64, ExpireAt: math.MinInt64}},
	{"mset", kv.Command{Op: kv.OpMSet, Args: bs("a", "1", "b", "2")}},
	{"empty args nil", kv.Command{Op: kv.OpDel}},
	{"empty args non-nil", kv.Command{Op: kv.OpDel, Args: [][]byte{}}},
	{"empty arg", kv.Command{Op: kv.OpSet, Args: bs("", "")}},
	{"nil arg", kv.Command{Op: kv.OpSet, Args: [][]byte{nil, []byte("v")}}},
	{"binary args", kv.Command{Op: kv.OpSet, Args: [][]byte{{0, 0xff, '\r', '\n', 0x80}, {0x01, 0x00, 0x00}}}},
	{"long arg", kv.Command{Op: kv.OpSet, Args: [][]byte{[]byte("k"), bytes.Repeat([]byte{0xab}, 70000)}}},
	{"set now", kv.Command{Op: kv.OpSet, Args: bs("k", "v"), ExpireAt: 1_700_000_000_123, Now: 1_700_000_000_000}},
	{"now negative", kv.Command{Op: kv.OpIncrBy, Args: bs("n"), Int: 1, Now: -1}},
	{"now max", kv.Command{Op: kv.OpNoop, Now: math.MaxInt64}},
	{"all fields", kv.Command{Op: kv.OpSet, Args: bs("k", "v"), Int: kv.SetNX | kv.SetGet, ExpireAt: 5, Now: 4, ClientID: 9, Seq: 10}},
	{"msetnx", kv.Command{Op: kv.OpMSetNX, Args: bs("a", "1", "b", "2"), Now: 1}},
	{"getdel", kv.Command{Op: kv.OpGetDel, Args: bs("k"), Now: 1}},
	{"getex", kv.Command{Op: kv.OpGetEx, Args: bs("k"), Int: kv.GetExSet, ExpireAt: 9, Now: 1}},
	{"append", kv.Command{Op: kv.OpAppend, Args: bs("k", "x", "536870912"), Now: 1}},
	{"setrange", kv.Command{Op: kv.OpSetRange, Args: bs("k", "x", "536870912"), Int: 7, Now: 1}},
	{"setbit", kv.Command{Op: kv.OpSetBit, Args: bs("k", "1"), Int: 4294967295, Now: 1}},
	{"incrbyfloat", kv.Command{Op: kv.OpIncrByFloat, Args: bs("k", "0.1"), Now: 1}},
	{"rename", kv.Command{Op: kv.OpRename, Args: bs("a", "b"), Int: 1, Now: 1}},
	{"copy", kv.Command{Op: kv.OpCopy, Args: bs("a", "b"), Int: 1, Now: 1}},
	{"flush", kv.Command{Op: kv.OpFlush, Now: 1}},
	{"flushdb", kv.Command{Op: kv.OpFlush, Int: 1, Now: 1, DB: 3}},
	{"db 255", kv.Command{Op: kv.OpSet, Args: bs("k", "v"), ExpireAt: 5, Now: 4, ClientID: 9, Seq: 10, DB: 255}},
	{"move", kv.Command{Op: kv.OpMove, Args: bs("k"), Int: 2, Now: 1, DB: 1}},
	{"swapdb", kv.Command{Op: kv.OpSwapDB, Args: [][]byte{{0}, {15}}, Now: 1}},
	{"copy db", kv.Command{Op: kv.OpCopy, Args: [][]byte{[]byte("a"), []byte("a"), {4}}, Now: 1, DB: 2}},
	{"pexpireat", kv.Command{Op: kv.OpPExpireAt, Args: [][]byte{[]byte("k"), {kv.ExpireGT}}, Int: -5, Now: 1}},
	{"persist", kv.Command{Op: kv.OpPersist, Args: bs("k"), Now: 1}},
	{"expire", kv.Command{Op: kv.OpExpire, Args: bs("a", "b", "c"), Now: 1}},
	{"lookup", kv.Command{Op: kv.OpLookup, Args: bs("a", "b"), Now: 1}},
	{"multi", *withRequest(kv.NewMulti(
		[]kv.Watch{{Key: []byte("w"), Live: true, Version: 42}, {Key: []byte("x")}},
		[]*kv.Command{{Op: kv.OpSet, Args: bs("k", "v"), ExpireAt: 9}, {Op: kv.OpLookup, Args: bs("k")}},
	))},
	{"unknown op", kv.Command{Op: kv.Op(200), Args: bs("x")}},
	{"op zero", kv.Command{Op: 0}},
}

// withRequest gives c a time and a request ID, as a forwarded EXEC has.
func withRequest(c *kv.Command) *kv.Command {
	c.Now, c.ClientID, c.Seq = 5, 6, 7
	return c
}

func TestCommandRoundTrip(t *testing.T) {
	for _, tc := range roundTripCommands {
		t.Run(tc.name, func(t *testing.T) {
			enc := tc.cmd.Encode()
			got, err := kv.DecodeCommand(enc)
			if err != nil {
				t.Fatalf("DecodeCommand(Encode(%s)) error: %v", fmtCommand(tc.cmd), err)
			}
			if !sameCommand(got, tc.cmd) {
				t.Fatalf("DecodeCommand(Encode(%s)) = %s, want the input back", fmtCommand(tc.cmd), fmtCommand(got))
			}
			// AppendEncode appends exactly the same bytes after a prefix.
			prefix := []byte("prefix")
			app := tc.cmd.AppendEncode(append([]byte(nil), prefix...))
			if want := append(append([]byte(nil), prefix...), enc...); !bytes.Equal(app, want) {
				t.Fatalf("AppendEncode(%q) of %s = %x, want %x", prefix, fmtCommand(tc.cmd), app, want)
			}
		})
	}
}

// TestDecodeCommandAliases checks the documented contract that decoded Args
// alias the input, and that appending to one arg cannot clobber the next.
func TestDecodeCommandAliases(t *testing.T) {
	in := kv.Command{Op: kv.OpSet, Args: bs("key", "value")}
	enc := in.Encode()
	got, err := kv.DecodeCommand(enc)
	if err != nil {
		t.Fatalf("DecodeCommand(%x): %v", enc, err)
	}
	_ = append(got.Args[0], 'X')
	if !bytes.Equal(got.Args[1], []byte("value")) {
		t.Fatalf("after appending to Args[0], Args[1] = %q, want %q", got.Args[1], "value")
	}
}

func TestDecodeCommandMalformed(t *testing.T) {
	valid := (&kv.Command{Op: kv.OpSet, Args: bs("k", "v"), Int: 5, ExpireAt: 9, Now: 11, ClientID: 3, Seq: 4}).Encode()
	tests := []struct {
		name string
		in   []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"one byte", []byte{1}},
		{"two bytes", []byte{1, 2}},
		{"header only", []byte{1, 2, 0}},
		{"version 0", []byte{0, 2, 0, 0}},
		{"version 2", []byte{2, 2, 0, 0}},
		{"unknown flag", []byte{1, 2, 4, 0}},
		{"all flags", []byte{1, 2, 0xff, 0}},
		{"int missing", []byte{1, 4, 1}},
		{"int truncated varint", []byte{1, 4, 1, 0x80}},
		{"int overlong varint", []byte{1, 4, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0}},
		{"expire missing", []byte{1, 2, 2}},
		{"expire truncated varint", []byte{1, 2, 2, 0x80}},
		{"now missing", []byte{1, 2, 8}},
		{"now truncated varint", []byte{1, 2, 8, 0x80}},
		{"unknown flag bit 4", []byte{1, 2, 16, 0}},
		{"nargs truncated varint", []byte{1, 2, 0, 0x80}},
		{"nargs huge", []byte{1, 2, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"nargs beyond data", []byte{1, 2, 0, 5, 0}},
		{"arg len truncated varint", []byte{1, 2, 0, 1, 0x80}},
		{"arg len beyond data", []byte{1, 2, 0, 1, 3, 'a', 'b'}},
		{"arg len huge", []byte{1, 2, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"second arg missing", []byte{1, 2, 0, 2, 1, 'k'}},
		{"trailing byte", append(append([]byte(nil), valid...), 0)},
		{"truncated valid", valid[:len(valid)-1]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kv.DecodeCommand(tc.in)
			if !errors.Is(err, kv.ErrBadEntry) {
				t.Fatalf("DecodeCommand(%x) = %s, %v; want an error wrapping ErrBadEntry", tc.in, fmtCommand(got), err)
			}
		})
	}
	// Every strict prefix of a valid encoding is malformed.
	for i := range valid {
		if _, err := kv.DecodeCommand(valid[:i]); !errors.Is(err, kv.ErrBadEntry) {
			t.Errorf("DecodeCommand(%x) (prefix of %d bytes) error = %v, want ErrBadEntry", valid[:i], i, err)
		}
	}
}

// FuzzDecodeCommand: DecodeCommand never panics, fails only with
// ErrBadEntry, and whatever it accepts survives Encode and DecodeCommand
// unchanged.
func FuzzDecodeCommand(f *testing.F) {
	for _, tc := range roundTripCommands {
		f.Add(tc.cmd.Encode())
	}
	f.Add([]byte{})
	f.Add([]byte{1, 4, 1, 0x80, 0x00, 0}) // non-minimal varint for Int 0
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := kv.DecodeCommand(data)
		if err != nil {
			if !errors.Is(err, kv.ErrBadEntry) {
				t.Fatalf("DecodeCommand(%x) error = %v, want ErrBadEntry", data, err)
			}
			return
		}
		enc := c.Encode()
		c2, err := kv.DecodeCommand(enc)
		if err != nil {
			t.Fatalf("DecodeCommand(%x) = %s, but decoding its Encode() %x fails: %v", data, fmtCommand(c), enc, err)
		}
		if !sameCommand(c2, c) {
			t.Fatalf("DecodeCommand(%x) = %s; after Encode and DecodeCommand got %s", data, fmtCommand(c), fmtCommand(c2))
		}
		// The encoding is canonical: encoding again gives the same bytes.
		if enc2 := c2.Encode(); !bytes.Equal(enc2, enc) {
			t.Fatalf("Encode is not stable for %s: %x then %x", fmtCommand(c), enc, enc2)
		}
		if len(enc) > len(data) {
			t.Fatalf("canonical encoding %x of %x is longer than the input", enc, data)
		}
	})
}

func TestOpString(t *testing.T) {
	tests := []struct {
		op   kv.Op
		want string
	}{
		{kv.OpNoop, "noop"},
		{kv.OpSet, "set"},
		{kv.OpDel, "del"},
		{kv.OpIncrBy, "incrby"},
		{kv.OpMSet, "mset"},
		{kv.OpIncrByFloat, "incrbyfloat"},
		{kv.OpPExpireAt, "pexpireat"},
		{kv.OpExpire, "expire"},
		{kv.Op(0), "op(0)"},
		{kv.Op(99), "op(99)"},
	}
	for _, tc := range tests {
		if got := tc.op.String(); got != tc.want {
			t.Errorf("Op(%d).String() = %q, want %q", uint8(tc.op), got, tc.want)
		}
	}
}

func BenchmarkEncodeCommand(b *testing.B) {
	c := kv.Command{Op: kv.OpSet, Args: [][]byte{[]byte("user:1234567"), bytes.Repeat([]byte("v"), 100)}, ExpireAt: 1_700_000_000_000}
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = c.Encode()
		}
	})
	b.Run("AppendEncode", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf = c.AppendEncode(buf[:0])
		}
	})
}

func BenchmarkDecodeCommand(b *testing.B) {
	tests := []struct {
		name string
		cmd  kv.Command
	}{
		{"set100", kv.Command{Op: kv.OpSet, Args: [][]byte{[]byte("user:1234567"), bytes.Repeat([]byte("v"), 100)}, ExpireAt: 1_700_000_000_000}},
		{"incrby", kv.Command{Op: kv.OpIncrBy, Args: bs("counter"), Int: 1}},
		{"mset64", kv.Command{Op: kv.OpMSet, Args: func() [][]byte {
			var a [][]byte
			for i := range 64 {
				a = append(a, fmt.Appendf(nil, "key:%d", i), bytes.Repeat([]byte("v"), 100))
			}
			return a
		}()}},
	}
	for _, tc := range tests {
		enc := tc.cmd.Encode()
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				if _, err := kv.DecodeCommand(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
