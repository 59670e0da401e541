package resp

import (
	"bytes"
	"math"
	"strconv"

	"github.com/riotkv/riot/kv"
)

// HSCAN, SSCAN and ZSCAN (db.c scanGenericCommand). A collection is
// scanned in field order with the cursors SCAN uses (scan_cursors.go; the
// position is the field or member). A collection Redis would keep compact
// (listpack, intset: see collEncoding) is returned whole with cursor 0, as
// Redis does.

// collScanItems turns one element into its reply items: a field and its
// value (HSCAN), a member (SSCAN), a member and its score (ZSCAN).
type collScanItems func(field, value []byte, novalues bool) [][]byte

// cmdCollScan is HSCAN, SSCAN or ZSCAN on a collection of type t.
func cmdCollScan(t kv.Type) func(*session, [][]byte) {
	return func(s *session, args [][]byte) {
		s.collScan(args, t, collScanItemsOf(t))
	}
}

func collScanItemsOf(t kv.Type) collScanItems {
	switch t {
	case kv.TypeHash:
		return func(f, v []byte, novalues bool) [][]byte {
			if novalues {
				return [][]byte{f}
			}
			return [][]byte{f, v}
		}
	case kv.TypeZSet:
		return func(f, v []byte, _ bool) [][]byte {
			score, _ := kv.DecodeScore(v)
			return [][]byte{f, []byte(formatScore(score))}
		}
	}
	return func(f, _ []byte, _ bool) [][]byte { return [][]byte{f} }
}

// formatScore formats a sorted set score as ZSCAN of a listpack replies
// it: as the listpack holds it (util.c d2string: inf and -inf, an integral
// value within ±2^62 as an integer, so -0 is 0, else %.17g). A skiplist's
// are skiplistScanItems'.
func formatScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == math.Trunc(f) && math.Abs(f) <= 1<<62:
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// skiplistScanItems are ZSCAN's items of a set past the listpack limits:
// Redis prints a skiplist's scores with %.17g (inf and -inf).
func skiplistScanItems(f, v []byte, _ bool) [][]byte {
	score, _ := kv.DecodeScore(v)
	if math.IsInf(score, 0) {
		return [][]byte{f, []byte(formatScore(score))}
	}
	return [][]byte{f, strconv.AppendFloat(nil, score, 'g', 17, 64)}
}

// emptyScan is the reply to a scan of a missing key.
const emptyScan = "*2\r\n$1\r\n0\r\n*0\r\n"

func (s *session) collScan(args [][]byte, t kv.Type, items collScanItems) {
	cursor, ok := parseCursor(args[2])
	if !ok {
		s.writeErr(redisError("ERR invalid cursor"))
		return
	}
	start := scanStart(cursor)
	var out [][]byte
	var next uint64
	var resumeKey []byte
	missing, refused := false, false
	err := s.readColl(args[1], t, func(c *kv.Coll) error {
		if c == nil {
			missing = true
			return nil
		}
		count := int64(10)
		var g *glob
		novalues := false
		for i := 3; i < len(args); {
			more := len(args) - i
			switch {
			case equalFold(args[i], "count") && more >= 2:
				n, err := kv.ParseInt(args[i+1])
				if err != nil {
					return errNotInteger
				}
				if n < 1 {
					return errSyntax
				}
				count = n
				i += 2
			case equalFold(args[i], "match") && more >= 2:
				g = keyFilter(args[i+1])
				i += 2
			case t == kv.TypeHash && equalFold(args[i], "novalues"):
				novalues = true
				i++
			default:
				return errSyntax
			}
		}
		enc, err := s.collEncoding(c)
		if err != nil {
			return err
		}
		// A compact collection is returned whole whatever the cursor, as
		// Redis does (it has no buckets for a cursor to name).
		whole := enc == "listpack" || enc == "intset"
		switch {
		case whole:
			start = nil
		case isKeyCursor(cursor):
			after, ok := s.srv.scans.get(cursor)
			if !ok {
				refused = true
				return nil
			}
			start = append(append(make([]byte, 0, len(after)+1), after...), 0)
		}
		if whole && t == kv.TypeZSet {
			// A listpack holds a sorted set in score order.
			return c.ScanScores(nil, false, func(score float64, m []byte) bool {
				if g == nil || g.match(m) {
					for _, it := range items(m, kv.ScoreValue(score), novalues) {
						out = append(out, bytes.Clone(it))
					}
				}
				return true
			})
		}
		if !whole && t == kv.TypeZSet {
			items = skiplistScanItems
		}
		var examined int64
		var last []byte
		return c.Scan(start, false, func(f, v []byte) bool {
			if !whole && examined >= count {
				if kg := scanGroup(f); kg != scanGroup(last) {
					next = scanCursor(kg)
				} else {
					resumeKey = bytes.Clone(last)
				}
				return false
			}
			examined++
			last = append(last[:0], f...)
			if g == nil || g.match(f) {
				for _, it := range items(f, v, novalues) {
					out = append(out, bytes.Clone(it))
				}
			}
			return true
		})
	})
	switch {
	case err != nil:
		s.writeErr(err)
		return
	case missing:
		s.out = append(s.out, emptyScan...)
		return
	case refused:
		s.writeErr(redisError("ERR invalid cursor"))
		return
	}
	s.appendScanReply(next, resumeKey, out)
}
