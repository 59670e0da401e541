package kv

import "encoding/binary"

// Bit commands on strings that write (bitops.c): BITOP and BITFIELD with
// SET or INCRBY. Bit 0 is the most significant bit of the first byte, as
// in SETBIT. Ops 88-95 (values are part of the log format: never renumber
// them).
const (
	// OpBitOp is BITOP: Args destination, source keys...; Int the
	// operation (BitAnd, BitOr, BitXor or BitNot, which takes one
	// source). A missing source is an empty string; the result, as long
	// as the longest source, replaces the destination whatever it held
	// (its TTL too), or deletes it when empty. Result.Int: its length.
	OpBitOp Op = 88
	// OpBitField is BITFIELD: Args key, then one sub-operation per
	// argument (BitFieldOp.Encode). Result.Array: one Int per
	// sub-operation, Null for a SET or INCRBY that overflowed with
	// OVERFLOW FAIL.
	OpBitField Op = 89
)

// BITOP's operations, OpBitOp's Int.
const (
	BitAnd = 1
	BitOr  = 2
	BitXor = 3
	BitNot = 4
)

var bitOps = map[Op]opDef{
	OpBitOp:    {name: "bitop", apply: applyBitOp, args: argSpec{2, -1, false}, check: checkBitOp},
	OpBitField: {name: "bitfield", apply: applyBitField, args: argSpec{1, -1, false}, check: checkBitField},
}

// BITFIELD's sub-operations (BitFieldOp.Code) and overflow behaviours
// (BitFieldOp.Overflow).
const (
	BitFieldGet    = 0
	BitFieldSet    = 1
	BitFieldIncrBy = 2

	OverflowWrap = 0
	OverflowSat  = 1
	OverflowFail = 2
)

// BitFieldOp is one sub-operation of BITFIELD: a field of Bits bits
// (1-64 signed, 1-63 unsigned) at bit Offset, and for SET and INCRBY the
// operand and the overflow behaviour in force.
type BitFieldOp struct {
	Code     byte
	Signed   bool
	Bits     int
	Overflow byte
	Offset   int64
	Value    int64
}

// bitFieldOpLen is the length of an encoded BitFieldOp: code, sign, bits,
// overflow, then offset and value (8 bytes big-endian each).
const bitFieldOpLen = 4 + 8 + 8

// Encode returns the op as OpBitField carries it.
func (o BitFieldOp) Encode() []byte {
	b := make([]byte, 4, bitFieldOpLen)
	b[0], b[2], b[3] = o.Code, byte(o.Bits), o.Overflow
	if o.Signed {
		b[1] = 1
	}
	b = binary.BigEndian.AppendUint64(b, uint64(o.Offset))
	return binary.BigEndian.AppendUint64(b, uint64(o.Value))
}

func decodeBitFieldOp(b []byte) BitFieldOp {
	return BitFieldOp{
		Code: b[0], Signed: b[1] == 1, Bits: int(b[2]), Overflow: b[3],
		Offset: int64(binary.BigEndian.Uint64(b[4:])),
		Value:  int64(binary.BigEndian.Uint64(b[12:])),
	}
}

func checkBitOp(c *Command) error {
	if c.Int < BitAnd || c.Int > BitNot {
		return badEntry(c, "bit operation %d", c.Int)
	}
	if c.Int == BitNot && len(c.Args) != 2 {
		return badEntry(c, "NOT of %d sources", len(c.Args)-1)
	}
	return nil
}

func checkBitField(c *Command) error {
	for _, a := range c.Args[1:] {
		if len(a) != bitFieldOpLen {
			return badEntry(c, "a sub-operation of %d bytes", len(a))
		}
		o := decodeBitFieldOp(a)
		switch {
		case o.Code > BitFieldIncrBy, a[1] > 1, o.Overflow > OverflowFail:
			return badEntry(c, "sub-operation %x", a[:4])
		case o.Bits < 1 || o.Bits > 64 || (!o.Signed && o.Bits > 63):
			return badEntry(c, "a field of %d bits", o.Bits)
		case o.Offset < 0 || o.Offset>>3 >= MaxStringBytes:
			return badEntry(c, "bit offset %d", o.Offset)
		}
	}
	return nil
}

// applyBitOp: see OpBitOp.
func applyBitOp(tx *txn, c *Command) Result {
	dst, keys := c.Args[0], c.Args[1:]
	srcs := make([][]byte, len(keys))
	var maxLen int
	for i, k := range keys {
		v, _, err := tx.getString(k)
		if err != nil {
			return errResult(err)
		}
		srcs[i] = v.data
		maxLen = max(maxLen, len(v.data))
	}
	if maxLen == 0 {
		if _, err := tx.del(dst); err != nil {
			return errResult(err)
		}
		return Result{}
	}
	// Every source is read before dst is written: dst may be one of them.
	res := BitOp(int(c.Int), srcs, maxLen)
	if err := tx.put(dst, value{typ: typeString, data: res}); err != nil {
		return errResult(err)
	}
	return Result{Int: int64(maxLen)}
}

// BitOp combines srcs byte by byte into a new string of n bytes, a source
// shorter than that padded with zero bytes (bitops.c bitopCommand).
func BitOp(op int, srcs [][]byte, n int) []byte {
	res := make([]byte, n)
	copy(res, srcs[0])
	if op == BitNot {
		for i := range res {
			res[i] = ^res[i]
		}
		return res
	}
	for _, s := range srcs[1:] {
		switch op {
		case BitAnd:
			for i := range res {
				if i < len(s) {
					res[i] &= s[i]
				} else {
					res[i] = 0
				}
			}
		case BitOr:
			for i, b := range s {
				res[i] |= b
			}
		case BitXor:
			for i, b := range s {
				res[i] ^= b
			}
		}
	}
	return res
}

// applyBitField: see OpBitField. As Redis, a command with a SET or INCRBY
// creates the key, or grows it with zero bytes, to hold the furthest
// field written, even when every write fails with OVERFLOW FAIL.
func applyBitField(tx *txn, c *Command) Result {
	key := c.Args[0]
	v, _, err := tx.getString(key)
	if err != nil {
		return errResult(err)
	}
	ops := make([]BitFieldOp, len(c.Args)-1)
	var need int64 // the bytes the writes reach
	writes := false
	for i, a := range c.Args[1:] {
		ops[i] = decodeBitFieldOp(a)
		if ops[i].Code != BitFieldGet {
			writes = true
			need = max(need, (ops[i].Offset+int64(ops[i].Bits)-1)>>3+1)
		}
	}
	data := v.data
	if writes {
		data = make([]byte, max(int64(len(v.data)), need))
		copy(data, v.data)
	}
	out := make([]Result, len(ops))
	for i, o := range ops {
		if o.Code == BitFieldGet {
			out[i] = Result{Int: GetBitField(data, o.Signed, o.Bits, o.Offset)}
			continue
		}
		r, ok := o.write(data)
		out[i] = Result{Int: r, Null: !ok}
	}
	if writes {
		if err := tx.putString(key, data, v.expireAt); err != nil {
			return errResult(err)
		}
	}
	return Result{Array: out}
}

// write applies SET or INCRBY to p, which holds the field, and returns the
// reply: SET's old value or INCRBY's new one; false when the operation
// overflowed with OVERFLOW FAIL and wrote nothing.
func (o BitFieldOp) write(p []byte) (int64, bool) {
	old := GetBitField(p, o.Signed, o.Bits, o.Offset)
	var val, reply int64
	var over bool
	if o.Signed {
		if o.Code == BitFieldIncrBy {
			val, over = signedOverflow(old, o.Value, o.Bits, o.Overflow)
			if !over {
				val = old + o.Value
			}
			reply = val
		} else {
			val, over = signedOverflow(o.Value, 0, o.Bits, o.Overflow)
			if !over {
				val = o.Value
			}
			reply = old
		}
	} else {
		var u uint64
		if o.Code == BitFieldIncrBy {
			u, over = unsignedOverflow(uint64(old), o.Value, o.Bits, o.Overflow)
			if !over {
				u = uint64(old) + uint64(o.Value)
			}
			val, reply = int64(u), int64(u)
		} else {
			u, over = unsignedOverflow(uint64(o.Value), 0, o.Bits, o.Overflow)
			if !over {
				u = uint64(o.Value)
			}
			val, reply = int64(u), old
		}
	}
	if over && o.Overflow == OverflowFail {
		return 0, false
	}
	setBitField(p, o.Bits, o.Offset, uint64(val))
	return reply, true
}

// GetBitField reads the field of bits bits at bit offset off of p, bits
// past its end being zeros; a signed field is sign-extended.
func GetBitField(p []byte, signed bool, bits int, off int64) int64 {
	var u uint64
	for j := int64(0); j < int64(bits); j++ {
		u <<= 1
		if i := (off + j) >> 3; i < int64(len(p)) {
			u |= uint64(p[i]>>(7-uint((off+j)&7))) & 1
		}
	}
	if signed && bits < 64 && u&(1<<(bits-1)) != 0 {
		u |= ^uint64(0) << bits
	}
	return int64(u)
}

// setBitField writes the low bits bits of val at bit offset off of p,
// which holds them.
func setBitField(p []byte, bits int, off int64, val uint64) {
	for j := 0; j < bits; j++ {
		i, mask := (off+int64(j))>>3, byte(0x80)>>uint((off+int64(j))&7)
		if val&(1<<(bits-1-j)) != 0 {
			p[i] |= mask
		} else {
			p[i] &^= mask
		}
	}
}

// unsignedOverflow is bitops.c checkUnsignedBitfieldOverflow: whether
// value+incr leaves the range of an unsigned field of bits bits, and then
// the value the overflow behaviour gives (WRAP: wrapped; SAT: the bound
// crossed; FAIL: none). The arithmetic wraps as Redis's does in C.
func unsignedOverflow(value uint64, incr int64, bits int, owtype byte) (uint64, bool) {
	maxv := uint64(1)<<bits - 1
	maxIncr, minIncr := int64(maxv-value), -int64(value)
	var limit uint64
	switch {
	case value > maxv || (incr > 0 && incr > maxIncr):
		limit = maxv
	case incr < 0 && incr < minIncr:
		limit = 0
	default:
		return 0, false
	}
	switch owtype {
	case OverflowWrap:
		return (value + uint64(incr)) &^ (^uint64(0) << bits), true
	case OverflowSat:
		return limit, true
	}
	return 0, true
}

// signedOverflow is bitops.c checkSignedBitfieldOverflow, as
// unsignedOverflow for a signed field.
func signedOverflow(value, incr int64, bits int, owtype byte) (int64, bool) {
	maxv := int64(maxInt64)
	if bits < 64 {
		maxv = int64(1)<<(bits-1) - 1
	}
	minv := -maxv - 1
	maxIncr, minIncr := int64(uint64(maxv)-uint64(value)), minv-value
	var limit int64
	switch {
	case value > maxv || (bits != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr):
		limit = maxv
	case value < minv || (bits != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr):
		limit = minv
	default:
		return 0, false
	}
	switch owtype {
	case OverflowWrap:
		c := uint64(value) + uint64(incr)
		if bits < 64 {
			if mask := ^uint64(0) << bits; c&(1<<(bits-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return int64(c), true
	case OverflowSat:
		return limit, true
	}
	return 0, true
}
