package resp

import (
	"bytes"
	"errors"
	"math"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// lcsOptions are LCS's options after parsing.
type lcsOptions struct {
	getLen, getIdx, withMatchLen bool
	minMatchLen                  int64
}

// lcsMatch is one IDX range: a[aStart..aEnd] equals b[bStart..bEnd].
type lcsMatch struct {
	aStart, aEnd, bStart, bEnd int
}

// Reference: https://redis.io/docs/latest/commands/lcs/ (t_string.c
// lcsCommand: the keys are looked up first, a missing key is ""; then the
// options; the dynamic-programming table, 4 bytes per cell, may not exceed
// proto-max-bulk-len)
func cmdLCS(s *session, args [][]byte) {
	var a, b []byte
	err := s.readConsistent(func(v *kv.View) error {
		va, _, err := v.Get(args[1], s.now)
		if err != nil {
			return err
		}
		vb, _, err := v.Get(args[2], s.now)
		if err != nil {
			return err
		}
		a, b = bytes.Clone(va), bytes.Clone(vb)
		return nil
	})
	if errors.Is(err, kv.ErrWrongType) {
		s.writeErr(redisError("ERR The specified keys must contain string values"))
		return
	}
	if err != nil {
		s.writeErr(err)
		return
	}
	var opt lcsOptions
	for j := 3; j < len(args); j++ {
		switch {
		case equalFold(args[j], "idx"):
			opt.getIdx = true
		case equalFold(args[j], "len"):
			opt.getLen = true
		case equalFold(args[j], "withmatchlen"):
			opt.withMatchLen = true
		case equalFold(args[j], "minmatchlen") && j+1 < len(args):
			n, err := kv.ParseInt(args[j+1])
			if err != nil {
				s.writeErr(errNotInteger)
				return
			}
			opt.minMatchLen = max(n, 0)
			j++
		default:
			s.writeErr(errSyntax)
			return
		}
	}
	if opt.getIdx && opt.getLen {
		s.writeErr(redisError("ERR If you want both the length and indexes, please just use IDX."))
		return
	}
	if len(a) >= math.MaxUint32-1 || len(b) >= math.MaxUint32-1 {
		s.writeErr(redisError("ERR String too long for LCS"))
		return
	}
	// The table has (len(a)+1)*(len(b)+1) cells of 4 bytes; Redis refuses
	// one larger than proto-max-bulk-len.
	cells := uint64(len(a)+1) * uint64(len(b)+1)
	if cells > math.MaxInt64/4 || cells*4 > uint64(s.srv.maxBulkLen()) {
		s.writeErr(redisError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"))
		return
	}
	length, lcs, matches := computeLCS(a, b, opt)
	switch {
	case opt.getIdx:
		s.out = respwire.AppendMapLen(s.out, 2, s.proto)
		s.out = respwire.AppendBulkString(s.out, "matches")
		s.out = respwire.AppendArrayLen(s.out, len(matches))
		for _, m := range matches {
			n := 2
			if opt.withMatchLen {
				n = 3
			}
			s.out = respwire.AppendArrayLen(s.out, n)
			s.out = respwire.AppendArrayLen(s.out, 2)
			s.out = respwire.AppendInt(s.out, int64(m.aStart))
			s.out = respwire.AppendInt(s.out, int64(m.aEnd))
			s.out = respwire.AppendArrayLen(s.out, 2)
			s.out = respwire.AppendInt(s.out, int64(m.bStart))
			s.out = respwire.AppendInt(s.out, int64(m.bEnd))
			if opt.withMatchLen {
				s.out = respwire.AppendInt(s.out, int64(m.aEnd-m.aStart+1))
			}
		}
		s.out = respwire.AppendBulkString(s.out, "len")
		s.out = respwire.AppendInt(s.out, int64(length))
	case opt.getLen:
		s.out = respwire.AppendInt(s.out, int64(length))
	default:
		s.out = respwire.AppendBulk(s.out, lcs)
	}
}

// computeLCS returns the length of the longest common subsequence of a and
// b, the subsequence itself (unless only the length is asked for), and, for
// IDX, the matching ranges from the end of the strings backwards, of at
// least MINMATCHLEN bytes. It walks the table exactly as Redis does, so
// that among several longest subsequences it picks Redis's.
func computeLCS(a, b []byte, opt lcsOptions) (length int, lcs []byte, matches []lcsMatch) {
	alen, blen := len(a), len(b)
	w := blen + 1
	table := make([]uint32, (alen+1)*w)
	at := func(i, j int) uint32 { return table[j+i*w] }
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				table[j+i*w] = at(i-1, j-1) + 1
			} else {
				table[j+i*w] = max(at(i-1, j), at(i, j-1))
			}
		}
	}
	length = int(at(alen, blen))
	if opt.getLen && !opt.getIdx {
		return length, nil, nil
	}
	lcs = make([]byte, length)
	idx := length
	// aStart == alen means "no range open".
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			lcs[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if at(i-1, j) > at(i, j-1) {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			if n := int64(aEnd - aStart + 1); opt.getIdx && (opt.minMatchLen == 0 || n >= opt.minMatchLen) {
				matches = append(matches, lcsMatch{aStart, aEnd, bStart, bEnd})
			}
			aStart = alen
		}
	}
	return length, lcs, matches
}
