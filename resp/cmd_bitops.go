package resp

import (
	"bytes"
	"encoding/binary"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// BITPOS, BITOP, BITFIELD, BITFIELD_RO (bitops.c). BITPOS and BITFIELD_RO
// read through a View; BITOP applies kv.OpBitOp and BITFIELD
// kv.OpBitField, one log entry each (a BITFIELD of GETs only too: it then
// writes nothing).

func bitCommands() []*command {
	return []*command{
		{name: "bitpos", arity: -3, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "bitmap", summary: "Finds the first set or clear bit of a string or a range.", run: cmdBitPos},
		{name: "bitop", arity: -4, flags: flagWrite, firstKey: 2, lastKey: -1, step: 1, group: "bitmap", summary: "Stores the bitwise AND, OR, XOR or NOT of strings in a key.", build: buildBitOp},
		{name: "bitfield", arity: -2, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "bitmap", summary: "Gets, sets and increments integer fields of a string.", build: buildBitField},
		{name: "bitfield_ro", arity: -2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "bitmap", summary: "Gets integer fields of a string.", run: cmdBitFieldRO},
	}
}

// Reference: https://redis.io/docs/latest/commands/bitpos/ (Redis 7.0: a
// missing key answers before the range is looked at; a clear bit searched
// without an end may be found just past the end of the string)
func cmdBitPos(s *session, args [][]byte) {
	bit, err := kv.ParseInt(args[2])
	if err != nil {
		s.writeErr(errNotInteger)
		return
	}
	if bit != 0 && bit != 1 {
		s.writeErr(redisError("ERR The bit argument must be 1 or 0."))
		return
	}
	err = s.read(func(v *kv.View) error {
		val, ok, err := v.Get(args[1], s.now)
		if err != nil {
			return err
		}
		if !ok {
			s.out = respwire.AppendInt(s.out, -bit) // 0 is everywhere, 1 nowhere
			return nil
		}
		pos, err := bitPosArgs(val, byte(bit), args[3:])
		if err != nil {
			return err
		}
		s.out = respwire.AppendInt(s.out, pos)
		return nil
	})
	if err != nil {
		s.writeErr(err)
	}
}

// bitPosArgs is BITPOS of val with its range arguments: [start [end [BYTE
// | BIT]]].
func bitPosArgs(val []byte, bit byte, rng [][]byte) (int64, error) {
	total := int64(len(val)) << 3
	if len(rng) == 0 {
		if total == 0 {
			return -1, nil
		}
		return bitPos(val, bit, 0, total-1, false), nil
	}
	if len(rng) > 3 {
		return 0, errSyntax
	}
	start, err := kv.ParseInt(rng[0])
	if err != nil {
		return 0, errNotInteger
	}
	isBit := false
	if len(rng) == 3 {
		switch {
		case equalFold(rng[2], "bit"):
			isBit = true
		case equalFold(rng[2], "byte"):
		default:
			return 0, errSyntax
		}
	}
	n := int64(len(val)) // the range's unit count
	if isBit {
		n = total
	}
	end := n - 1
	if len(rng) >= 2 {
		if end, err = kv.ParseInt(rng[1]); err != nil {
			return 0, errNotInteger
		}
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), min(max(end, 0), n-1)
	if start > end {
		return -1, nil // an empty range has neither
	}
	if !isBit {
		start, end = start<<3, end<<3+7
	}
	return bitPos(val, bit, start, end, len(rng) >= 2), nil
}

// bitPos returns the position of the first bit of val equal to bit from
// bit start to bit end inclusive (within val), or -1. A clear bit not
// found is the bit after the range when no end was given: the string
// continues with zeros (bitops.c bitposCommand).
func bitPos(val []byte, bit byte, start, end int64, endGiven bool) int64 {
	skip, skip64 := byte(0), uint64(0) // bytes without the bit sought
	if bit == 0 {
		skip, skip64 = 0xff, ^uint64(0)
	}
	whole := (end + 1) >> 3 // the bytes before it lie wholly in the range
	for p := start; p <= end; p++ {
		if p&7 == 0 {
			i := p >> 3
			for i+8 <= whole && binary.LittleEndian.Uint64(val[i:]) == skip64 {
				i += 8
			}
			for i < whole && val[i] == skip {
				i++
			}
			if p = i << 3; p > end {
				break
			}
		}
		if (val[p>>3]>>(7-p&7))&1 == bit {
			return p
		}
	}
	if bit == 1 || endGiven {
		return -1
	}
	return end + 1
}

// Reference: https://redis.io/docs/latest/commands/bitop/ (a missing
// source is an empty string; an empty result deletes the destination)
func buildBitOp(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	var op int64
	switch {
	case equalFold(args[1], "and"):
		op = kv.BitAnd
	case equalFold(args[1], "or"):
		op = kv.BitOr
	case equalFold(args[1], "xor"):
		op = kv.BitXor
	case equalFold(args[1], "not"):
		op = kv.BitNot
	default:
		return nil, nil, errSyntax
	}
	if op == kv.BitNot && len(args) != 4 {
		return nil, nil, redisError("ERR BITOP NOT must be called with a single source key.")
	}
	return &kv.Command{Op: kv.OpBitOp, Args: args[2:], Int: op}, replyInt, nil
}

// errBitFieldType is the reply to a field type other than i1-i64 and
// u1-u63.
var errBitFieldType = redisError("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")

// parseBitField parses BITFIELD's sub-commands, args after the key, and
// reports whether any writes (bitops.c bitfieldGeneric: every argument is
// checked, in order, before the key is looked up).
func (s *session) parseBitField(args [][]byte) (ops []kv.BitFieldOp, writes bool, err error) {
	overflow := byte(kv.OverflowWrap)
	for j := 0; j < len(args); j++ {
		rem := len(args) - j - 1
		o := kv.BitFieldOp{Overflow: overflow}
		switch {
		case equalFold(args[j], "get") && rem >= 2:
			o.Code = kv.BitFieldGet
		case equalFold(args[j], "set") && rem >= 3:
			o.Code = kv.BitFieldSet
		case equalFold(args[j], "incrby") && rem >= 3:
			o.Code = kv.BitFieldIncrBy
		case equalFold(args[j], "overflow") && rem >= 1:
			j++
			switch {
			case equalFold(args[j], "wrap"):
				overflow = kv.OverflowWrap
			case equalFold(args[j], "sat"):
				overflow = kv.OverflowSat
			case equalFold(args[j], "fail"):
				overflow = kv.OverflowFail
			default:
				return nil, false, redisError("ERR Invalid OVERFLOW type specified")
			}
			continue
		default:
			return nil, false, errSyntax
		}
		if o.Signed, o.Bits, err = bitFieldType(args[j+1]); err != nil {
			return nil, false, err
		}
		if o.Offset, err = s.bitFieldOffset(args[j+2], o.Bits); err != nil {
			return nil, false, err
		}
		if o.Code != kv.BitFieldGet {
			writes = true
			if o.Value, err = kv.ParseInt(args[j+3]); err != nil {
				return nil, false, errNotInteger
			}
			j++
		}
		j += 2
		ops = append(ops, o)
	}
	return ops, writes, nil
}

// bitFieldType parses a field type: i1 to i64 or u1 to u63 (lower case;
// the digits end at a NUL byte, as Redis reads them with strlen).
func bitFieldType(arg []byte) (signed bool, bits int, err error) {
	if len(arg) == 0 || (arg[0] != 'i' && arg[0] != 'u') {
		return false, 0, errBitFieldType
	}
	digits := arg[1:]
	if i := bytes.IndexByte(digits, 0); i >= 0 {
		digits = digits[:i]
	}
	n, err := kv.ParseInt(digits)
	signed = arg[0] == 'i'
	if err != nil || n < 1 || n > 64 || (!signed && n > 63) {
		return false, 0, errBitFieldType
	}
	return signed, int(n), nil
}

// bitFieldOffset parses a field's offset: a bit offset, or #n for the n-th
// field of its width (the product wraps as in Redis), below 8 times
// proto-max-bulk-len.
func (s *session) bitFieldOffset(arg []byte, bits int) (int64, error) {
	hash := len(arg) > 0 && arg[0] == '#'
	if hash {
		arg = arg[1:]
	}
	off, err := kv.ParseInt(arg)
	if err != nil {
		return 0, errBitOffset
	}
	if hash {
		off *= int64(bits)
	}
	if off < 0 || off>>3 >= int64(s.srv.maxBulkLen()) {
		return 0, errBitOffset
	}
	return off, nil
}

// Reference: https://redis.io/docs/latest/commands/bitfield/ (a SET or
// INCRBY creates or grows the key to hold its field even when it fails
// with OVERFLOW FAIL)
func buildBitField(s *session, args [][]byte) (*kv.Command, replyFunc, error) {
	ops, _, err := s.parseBitField(args[2:])
	if err != nil {
		return nil, nil, err
	}
	cargs := make([][]byte, 0, 1+len(ops))
	cargs = append(cargs, args[1])
	for _, o := range ops {
		cargs = append(cargs, o.Encode())
	}
	return &kv.Command{Op: kv.OpBitField, Args: cargs}, replyBitField, nil
}

func replyBitField(s *session, r kv.Result) {
	s.out = respwire.AppendArrayLen(s.out, len(r.Array))
	for _, e := range r.Array {
		if e.Null {
			s.out = respwire.AppendNull(s.out, s.proto)
		} else {
			s.out = respwire.AppendInt(s.out, e.Int)
		}
	}
}

// Reference: https://redis.io/docs/latest/commands/bitfield_ro/
func cmdBitFieldRO(s *session, args [][]byte) {
	ops, writes, err := s.parseBitField(args[2:])
	if err == nil && writes {
		err = redisError("ERR BITFIELD_RO only supports the GET subcommand")
	}
	if err != nil {
		s.writeErr(err)
		return
	}
	err = s.read(func(v *kv.View) error {
		val, _, err := v.Get(args[1], s.now)
		if err != nil {
			return err
		}
		s.out = respwire.AppendArrayLen(s.out, len(ops))
		for _, o := range ops {
			s.out = respwire.AppendInt(s.out, kv.GetBitField(val, o.Signed, o.Bits, o.Offset))
		}
		return nil
	})
	if err != nil {
		s.writeErr(err)
	}
}
