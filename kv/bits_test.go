package kv

import (
	"errors"
	"fmt"
	"testing"
)

func bitOp(op int64, dst string, srcs ...string) Command {
	return Command{Op: OpBitOp, Args: strs(append([]string{dst}, srcs...)...), Int: op}
}

func bitField(key string, ops ...BitFieldOp) Command {
	args := [][]byte{[]byte(key)}
	for _, o := range ops {
		args = append(args, o.Encode())
	}
	return Command{Op: OpBitField, Args: args}
}

// fmtFields is a BITFIELD Result's array: Ints, "nil" for Null.
func fmtFields(r Result) string {
	s := ""
	for _, e := range r.Array {
		if e.Null {
			s += "nil "
		} else {
			s += fmt.Sprint(e.Int, " ")
		}
	}
	return s
}

// TestBitOp: the result is as long as the longest source, shorter ones
// padded with zeros; it replaces the destination, TTL and type included;
// an empty one deletes it; a non-string source is WRONGTYPE and writes
// nothing.
func TestBitOp(t *testing.T) {
	a := newApplier(t)
	a.run([]step{
		{t0, set("a", "\xff\x0f"), Result{}},
		{t0, set("b", "\x33"), Result{}},
		{t0, bitOp(BitAnd, "d", "a", "b"), Result{Int: 2}},
		{t0, bitOp(BitOr, "o", "a", "b", "nosuch"), Result{Int: 2}},
		{t0, bitOp(BitXor, "x", "b", "a"), Result{Int: 2}},
		{t0, bitOp(BitNot, "n", "b"), Result{Int: 1}},
		{t0, Command{Op: OpSet, Args: strs("t", "v"), ExpireAt: t0 + 1000}, Result{}},
		{t0, bitOp(BitOr, "t", "b"), Result{Int: 1}},
		{t0, hset("h", "f", "v"), Result{Int: 1}},
		{t0, bitOp(BitAnd, "d2", "a", "h"), Result{Err: ErrWrongType}},
		{t0, bitOp(BitAnd, "h", "a"), Result{Int: 2}},
		{t0, bitOp(BitAnd, "b", "b", "a"), Result{Int: 2}}, // the destination is a source
		{t0, bitOp(BitAnd, "a", "nosuch", "nosuch2"), Result{}},
		{t0, bitOp(BitNot, "x", "a", "b"), Result{Err: ErrBadEntry}},
		{t0, bitOp(5, "x", "a"), Result{Err: ErrBadEntry}},
	})
	a.wantStored("d", "\x33\x00", 0)
	a.wantStored("o", "\xff\x0f", 0)
	a.wantStored("x", "\xcc\x0f", 0)
	a.wantStored("n", "\xcc", 0)
	a.wantStored("t", "\x33", 0)
	a.wantStored("h", "\xff\x0f", 0)
	a.wantStored("b", "\x33\x00", 0)
	a.wantGone("d2")
	a.wantGone("a")
}

// TestBitField: SET replies the old value, INCRBY the new one, GET reads
// zeros past the end; a write grows the string to its field (even one
// that fails with OVERFLOW FAIL) and keeps the TTL; a GET-only command
// writes nothing.
func TestBitField(t *testing.T) {
	a := newApplier(t)
	steps := []struct {
		cmd  Command
		want string
	}{
		{bitField("k", BitFieldOp{Code: BitFieldSet, Bits: 8, Value: 200}, BitFieldOp{Code: BitFieldGet, Signed: true, Bits: 8},
			BitFieldOp{Code: BitFieldIncrBy, Bits: 8, Value: 100}, BitFieldOp{Code: BitFieldGet, Bits: 4, Offset: 100}), "0 -56 44 0 "},
		{bitField("k", BitFieldOp{Code: BitFieldIncrBy, Bits: 8, Overflow: OverflowFail, Value: 300, Offset: 0},
			BitFieldOp{Code: BitFieldIncrBy, Signed: true, Bits: 8, Overflow: OverflowSat, Value: 300, Offset: 0},
			BitFieldOp{Code: BitFieldSet, Signed: true, Bits: 4, Overflow: OverflowFail, Value: 8, Offset: 20}), "nil 127 nil "},
		{bitField("g", BitFieldOp{Code: BitFieldGet, Bits: 8}), "0 "},
		{bitField("f", BitFieldOp{Code: BitFieldSet, Bits: 8, Overflow: OverflowFail, Value: 256, Offset: 16}), "nil "},
	}
	for _, s := range steps {
		r := a.at(t0, s.cmd)
		if r.Err != nil || fmtFields(r) != s.want {
			t.Errorf("%q = %s (%v), want %s", s.cmd.Args, fmtFields(r), r.Err, s.want)
		}
	}
	a.wantStored("k", "\x7f\x00\x00", 0)
	a.wantGone("g")
	a.wantStored("f", "\x00\x00\x00", 0)

	a.at(t0, Command{Op: OpSet, Args: strs("ttl", "a"), ExpireAt: t0 + 1000})
	a.at(t0, bitField("ttl", BitFieldOp{Code: BitFieldSet, Bits: 1, Offset: 15, Value: 1}))
	a.wantStored("ttl", "a\x01", t0+1000)

	a.at(t0, hset("h", "f", "v"))
	if r := a.at(t0, bitField("h", BitFieldOp{Code: BitFieldGet, Bits: 8})); !errors.Is(r.Err, ErrWrongType) {
		t.Errorf("BITFIELD of a hash: %v, want WRONGTYPE", r.Err)
	}
}

// TestBitFieldValidate: entries a handler never makes are refused.
func TestBitFieldValidate(t *testing.T) {
	for _, c := range []Command{
		bitField("k", BitFieldOp{Code: 3, Bits: 8}),
		bitField("k", BitFieldOp{Bits: 0}),
		bitField("k", BitFieldOp{Bits: 64}),
		bitField("k", BitFieldOp{Signed: true, Bits: 65}),
		bitField("k", BitFieldOp{Bits: 8, Overflow: 3}),
		bitField("k", BitFieldOp{Bits: 8, Offset: -1}),
		bitField("k", BitFieldOp{Bits: 8, Offset: MaxStringBytes * 8}),
		{Op: OpBitField, Args: strs("k", "short")},
		{Op: OpBitField},
		{Op: OpBitOp, Args: strs("d"), Int: BitAnd},
	} {
		if err := c.Validate(); !errors.Is(err, ErrBadEntry) {
			t.Errorf("Validate(%q) = %v, want ErrBadEntry", c.Args, err)
		}
	}
	c := bitField("k", BitFieldOp{Signed: true, Bits: 64, Offset: MaxStringBytes*8 - 1})
	if err := c.Validate(); err != nil {
		t.Errorf("Validate(the last offset) = %v", err)
	}
}

// TestBitFieldOverflow: Redis's overflow arithmetic (bitops.c
// checkSignedBitfieldOverflow and checkUnsignedBitfieldOverflow), the
// replies redis-server 7.0 gives.
func TestBitFieldOverflow(t *testing.T) {
	const maxI, minI = int64(maxInt64), int64(minInt64)
	for _, tt := range []struct {
		signed   bool
		bits     int
		value    int64
		incr     int64
		owtype   byte
		want     int64
		overflow bool
	}{
		{false, 8, 255, 1, OverflowWrap, 0, true},
		{false, 8, 255, 1, OverflowSat, 255, true},
		{false, 8, 0, -1, OverflowSat, 0, true},
		{false, 8, 0, -1, OverflowWrap, 255, true},
		{false, 8, 10, -10, OverflowWrap, 0, false},
		{false, 8, -1, 0, OverflowSat, 255, true}, // SET -1
		{false, 63, 0, maxI, OverflowWrap, 0, false},
		{false, 63, 1, maxI, OverflowWrap, 0, true},
		{false, 63, 1, maxI, OverflowSat, maxI, true},
		{false, 63, minI, 0, OverflowWrap, 0, true},
		{true, 8, 127, 1, OverflowWrap, -128, true},
		{true, 8, 127, 1, OverflowSat, 127, true},
		{true, 8, -128, -1, OverflowSat, -128, true},
		{true, 8, 128, 0, OverflowWrap, -128, true},
		{true, 8, -129, 0, OverflowWrap, 127, true},
		{true, 8, 100, -200, OverflowWrap, 0, false},
		{true, 64, maxI, 1, OverflowWrap, minI, true},
		{true, 64, maxI, 1, OverflowSat, maxI, true},
		{true, 64, minI, -1, OverflowSat, minI, true},
		{true, 64, -1, minI, OverflowWrap, maxI, true},
		{true, 64, -1, maxI, OverflowWrap, 0, false},
		{true, 1, 0, 1, OverflowWrap, -1, true},
		{true, 1, -1, 1, OverflowWrap, 0, false},
	} {
		var got int64
		var over bool
		if tt.signed {
			got, over = signedOverflow(tt.value, tt.incr, tt.bits, tt.owtype)
		} else {
			var u uint64
			u, over = unsignedOverflow(uint64(tt.value), tt.incr, tt.bits, tt.owtype)
			got = int64(u)
		}
		if over != tt.overflow || (over && got != tt.want) {
			t.Errorf("signed %v bits %d: %d + %d (overflow %d) = %d, %v; want %d, %v",
				tt.signed, tt.bits, tt.value, tt.incr, tt.owtype, got, over, tt.want, tt.overflow)
		}
	}
}

// TestGetBitField: fields across bytes and past the end, sign-extended.
func TestGetBitField(t *testing.T) {
	p := []byte{0x00, 0xff, 0xf0, 0x0f, 0x01}
	for _, tt := range []struct {
		signed bool
		bits   int
		off    int64
		want   int64
	}{
		{false, 8, 0, 0}, {false, 8, 8, 255}, {true, 8, 8, -1}, {false, 4, 20, 0},
		{true, 12, 4, 0x0ff}, {true, 4, 16, -1}, {false, 8, 36, 0x10}, {false, 8, 40, 0},
		{true, 64, 8, -0x000ff0ff00000000}, {false, 63, 100, 0}, {true, 1, 39, -1},
	} {
		if got := GetBitField(p, tt.signed, tt.bits, tt.off); got != tt.want {
			t.Errorf("GetBitField(signed %v, %d bits at %d) = %#x, want %#x", tt.signed, tt.bits, tt.off, got, tt.want)
		}
	}
}
