package kv

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Results travel from the leader back to a follower that forwarded the
// command. Encoding, version 1:
//
//	version byte (1)
//	flags   byte (bit 0: Int present, bit 1: error present, bit 2: Value present, bit 3: Null,
//	              bit 4: Array present)
//	[Int    varint]
//	[error  code byte; for codeOther: uvarint length + message]
//	[Value  uvarint length + bytes]
//	[Array  uvarint count, then count x (uvarint length + encoded Result)]
//
// Bit 4 was added with transactions.
const (
	resultV1     = 1
	resHasInt    = 1 << 0
	resHasErr    = 1 << 1
	resHasValue  = 1 << 2
	resNull      = 1 << 3
	resHasArray  = 1 << 4
	resKnownBits = resHasInt | resHasErr | resHasValue | resNull | resHasArray
)

// maxResultDepth bounds how deeply Arrays nest in a decoded Result (a
// transaction's lookup is 2 deep).
const maxResultDepth = 4

// resultErrors are the sentinel errors a Result can carry, by wire code.
// Codes are part of the format: never renumber.
var resultErrors = []error{
	1:  ErrNotInteger,
	2:  ErrOverflow,
	3:  ErrWrongType,
	4:  ErrUnknownOp,
	5:  ErrBadEntry,
	6:  ErrFailed,
	7:  ErrTooLong,
	8:  ErrNotFloat,
	9:  ErrNaNOrInf,
	10: ErrNoSuchKey,
	11: ErrInvalidExpire,
}

const (
	// codeReply: a ReplyError, its text follows as codeOther's does.
	codeReply = 0xfe
	codeOther = 0xff
)

// AppendEncodeResult appends the encoding of r.
func AppendEncodeResult(dst []byte, r Result) []byte {
	var flags byte
	if r.Int != 0 {
		flags |= resHasInt
	}
	if r.Err != nil {
		flags |= resHasErr
	}
	if r.Value != nil {
		flags |= resHasValue
	}
	if r.Null {
		flags |= resNull
	}
	if r.Array != nil {
		flags |= resHasArray
	}
	dst = append(dst, resultV1, flags)
	if r.Int != 0 {
		dst = binary.AppendVarint(dst, r.Int)
	}
	if r.Err != nil {
		code := byte(codeOther)
		var re ReplyError
		if errors.As(r.Err, &re) {
			code = codeReply
		}
		for i, e := range resultErrors {
			if e != nil && errors.Is(r.Err, e) && r.Err.Error() == e.Error() {
				code = byte(i)
				break
			}
		}
		dst = append(dst, code)
		if code == codeOther || code == codeReply {
			msg := r.Err.Error()
			dst = binary.AppendUvarint(dst, uint64(len(msg)))
			dst = append(dst, msg...)
		}
	}
	if r.Value != nil {
		dst = binary.AppendUvarint(dst, uint64(len(r.Value)))
		dst = append(dst, r.Value...)
	}
	if r.Array != nil {
		dst = binary.AppendUvarint(dst, uint64(len(r.Array)))
		for _, e := range r.Array {
			sub := AppendEncodeResult(nil, e)
			dst = binary.AppendUvarint(dst, uint64(len(sub)))
			dst = append(dst, sub...)
		}
	}
	return dst
}

// DecodeResult decodes what AppendEncodeResult wrote. An error that was not
// one of the sentinels comes back as a plain error with the same text.
func DecodeResult(b []byte) (Result, error) {
	return decodeResult(b, 0)
}

func decodeResult(b []byte, depth int) (Result, error) {
	var r Result
	if len(b) < 2 || b[0] != resultV1 || b[1]&^resKnownBits != 0 {
		return r, fmt.Errorf("%w: bad result header", ErrBadEntry)
	}
	flags := b[1]
	p := b[2:]
	if flags&resHasInt != 0 {
		v, n := binary.Varint(p)
		if n <= 0 {
			return r, fmt.Errorf("%w: bad result int", ErrBadEntry)
		}
		r.Int, p = v, p[n:]
	}
	if flags&resHasErr != 0 {
		if len(p) == 0 {
			return r, fmt.Errorf("%w: missing error code", ErrBadEntry)
		}
		code := p[0]
		p = p[1:]
		switch {
		case code == codeOther || code == codeReply:
			l, n := binary.Uvarint(p)
			if n <= 0 || l > uint64(len(p)-n) {
				return r, fmt.Errorf("%w: bad error message", ErrBadEntry)
			}
			r.Err = errors.New(string(p[n : n+int(l)]))
			if code == codeReply {
				r.Err = ReplyError(p[n : n+int(l)])
			}
			p = p[n+int(l):]
		case int(code) < len(resultErrors) && resultErrors[code] != nil:
			r.Err = resultErrors[code]
		default:
			return r, fmt.Errorf("%w: unknown error code %d", ErrBadEntry, code)
		}
	}
	if flags&resHasValue != 0 {
		l, n := binary.Uvarint(p)
		if n <= 0 || l > uint64(len(p)-n) {
			return r, fmt.Errorf("%w: bad result value", ErrBadEntry)
		}
		r.Value = append([]byte{}, p[n:n+int(l)]...)
		p = p[n+int(l):]
	}
	if flags&resHasArray != 0 {
		count, n := binary.Uvarint(p)
		// Each element takes at least 3 bytes (length, version, flags).
		if n <= 0 || count > uint64(len(p)-n)/3 || depth >= maxResultDepth {
			return r, fmt.Errorf("%w: bad result array", ErrBadEntry)
		}
		p = p[n:]
		r.Array = make([]Result, count)
		for i := range r.Array {
			l, n := binary.Uvarint(p)
			if n <= 0 || l > uint64(len(p)-n) {
				return r, fmt.Errorf("%w: bad result array element %d", ErrBadEntry, i)
			}
			e, err := decodeResult(p[n:n+int(l)], depth+1)
			if err != nil {
				return r, err
			}
			r.Array[i] = e
			p = p[n+int(l):]
		}
	}
	r.Null = flags&resNull != 0
	if len(p) != 0 {
		return r, fmt.Errorf("%w: %d trailing result bytes", ErrBadEntry, len(p))
	}
	return r, nil
}
