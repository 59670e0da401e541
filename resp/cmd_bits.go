package resp

import (
	"encoding/binary"
	"math/bits"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// Bit commands on strings. Bit 0 is the most significant bit of the first
// byte.

var errBitOffset = redisError("ERR bit offset is not an integer or out of range")

// bitOffset parses a bit offset: an integer from 0 to below 8 times
// proto-max-bulk-len (bitops.c getBitOffsetFromArgument).
func (s *session) bitOffset(arg []byte) (int64, error) {
	off, err := kv.ParseInt(arg)
	if err != nil || off < 0 || off>>3 >= int64(s.srv.maxBulkLen()) {
		return 0, errBitOffset
	}
	return off, nil
}

// Reference: https://redis.io/docs/latest/commands/setbit/ (keeps the TTL)
func buildSetBit(s *session, args [][]byte) (*kv.Command, replyFunc, error) {
	off, err := s.bitOffset(args[2])
	if err != nil {
		return nil, nil, err
	}
	if on, err := kv.ParseInt(args[3]); err != nil || on&^1 != 0 {
		return nil, nil, redisError("ERR bit is not an integer or out of range")
	}
	bit := []byte{args[3][0]} // "0" or "1"
	return &kv.Command{Op: kv.OpSetBit, Args: [][]byte{args[1], bit}, Int: off}, replyInt, nil
}

// Reference: https://redis.io/docs/latest/commands/getbit/
func cmdGetBit(s *session, args [][]byte) {
	off, err := s.bitOffset(args[2])
	if err != nil {
		s.writeErr(err)
		return
	}
	err = s.read(func(v *kv.View) error {
		val, _, err := v.Get(args[1], s.now)
		if err != nil {
			return err
		}
		var bit int64
		if i := off >> 3; i < int64(len(val)) && val[i]&(0x80>>(off&7)) != 0 {
			bit = 1
		}
		s.out = respwire.AppendInt(s.out, bit)
		return nil
	})
	if err != nil {
		s.writeErr(err)
	}
}

// Reference: https://redis.io/docs/latest/commands/bitcount/ (Redis 7.2:
// the arguments are checked even when the key does not exist)
func cmdBitCount(s *session, args [][]byte) {
	var start, end int64
	isBit := false
	switch len(args) {
	case 2:
	case 4, 5:
		var err1, err2 error
		start, err1 = kv.ParseInt(args[2])
		end, err2 = kv.ParseInt(args[3])
		if err1 != nil || err2 != nil {
			s.writeErr(errNotInteger)
			return
		}
		if len(args) == 5 {
			switch {
			case equalFold(args[4], "bit"):
				isBit = true
			case equalFold(args[4], "byte"):
			default:
				s.writeErr(errSyntax)
				return
			}
		}
	default:
		s.writeErr(errSyntax)
		return
	}
	err := s.read(func(v *kv.View) error {
		val, _, err := v.Get(args[1], s.now)
		if err != nil {
			return err
		}
		if len(args) == 2 {
			s.out = respwire.AppendInt(s.out, popcount(val))
			return nil
		}
		s.out = respwire.AppendInt(s.out, bitCountRange(val, start, end, isBit))
		return nil
	})
	if err != nil {
		s.writeErr(err)
	}
}

// bitCountRange counts the set bits of val from start to end inclusive,
// in bytes or bits, negative counting from the end (bitops.c
// bitcountCommand).
func bitCountRange(val []byte, start, end int64, isBit bool) int64 {
	if start < 0 && end < 0 && start > end {
		return 0
	}
	total := int64(len(val))
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	if start > end {
		return 0
	}
	if !isBit {
		return popcount(val[start : end+1])
	}
	n := popcount(val[start>>3 : end>>3+1])
	// Take away the bits of the first and last bytes outside the range.
	n -= int64(bits.OnesCount8(val[start>>3] & ^byte(0xff>>(start&7))))
	n -= int64(bits.OnesCount8(val[end>>3] & byte(0xff>>(end&7+1))))
	return n
}

func popcount(b []byte) int64 {
	var n int
	for len(b) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	for _, c := range b {
		n += bits.OnesCount8(c)
	}
	return int64(n)
}
