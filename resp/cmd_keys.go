package resp

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// Keyspace commands: they work on keys of any type.

// Reference: https://redis.io/docs/latest/commands/exists/ (a key named
// twice counts twice).
func cmdExists(s *session, args [][]byte) { s.countExisting(args[1:]) }

// Reference: https://redis.io/docs/latest/commands/touch/ (riot keeps no
// access times: TOUCH only counts the keys that exist)
func cmdTouch(s *session, args [][]byte) { s.countExisting(args[1:]) }

func (s *session) countExisting(keys [][]byte) {
	var n int64
	err := s.readConsistent(func(v *kv.View) error {
		for _, k := range keys {
			ok, err := v.Exists(k, s.now)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return nil
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendInt(s.out, n)
}

// Reference: https://redis.io/docs/latest/commands/del/, unlink/ (UNLINK
// is DEL: the deletion is one log entry either way)
func buildDel(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpDel, Args: args[1:]}, replyInt, nil
}

// Reference: https://redis.io/docs/latest/commands/type/
func cmdType(s *session, args [][]byte) {
	err := s.read(func(v *kv.View) error {
		info, ok, err := v.Lookup(args[1], s.now)
		if err != nil {
			return err
		}
		if ok {
			s.out = respwire.AppendSimple(s.out, info.Type.String())
		} else {
			s.out = respwire.AppendSimple(s.out, "none")
		}
		return nil
	})
	if err != nil {
		s.writeErr(err)
	}
}

// Reference: https://redis.io/docs/latest/commands/dbsize/ (a scan of the
// key space)
func cmdDBSize(s *session, _ [][]byte) {
	var n int64
	err := s.read(func(v *kv.View) error { // sharded: once per led group
		c, err := v.Count(s.now)
		n += c
		return err
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendInt(s.out, n)
}

// keyFilter is KEYS's and SCAN's MATCH: nil matches every key (the pattern
// "*" is not even matched, so that it also covers the empty key, as in
// Redis).
func keyFilter(pat []byte) *glob {
	if len(pat) == 1 && pat[0] == '*' {
		return nil
	}
	return compileGlob(pat, false)
}

// Reference: https://redis.io/docs/latest/commands/keys/
func cmdKeys(s *session, args [][]byte) {
	g := keyFilter(args[1])
	var keys [][]byte
	err := s.readConsistent(func(v *kv.View) error {
		return v.Scan(nil, s.now, func(_, k []byte, _ kv.KeyInfo) bool {
			if g == nil || g.match(k) {
				keys = append(keys, bytes.Clone(k))
			}
			return true
		})
	})
	s.replyKeys(keys, err)
}

// replyKeys answers err, or keys as an array of bulk strings (KEYS,
// CLUSTER GETKEYSINSLOT).
func (s *session) replyKeys(keys [][]byte, err error) {
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, len(keys))
	for _, k := range keys {
		s.out = respwire.AppendBulk(s.out, k)
	}
}

// scanPrefixLen is the number of leading key bytes a SCAN cursor holds.
const scanPrefixLen = 7

// scanGroup is the cursor group of a key: its first 7 bytes, zero-padded.
func scanGroup(key []byte) [scanPrefixLen]byte {
	var g [scanPrefixLen]byte
	copy(g[:], key)
	return g
}

// scanCursor is the cursor that resumes at the group g: g as a big-endian
// integer, plus 1 (0 means "done").
func scanCursor(g [scanPrefixLen]byte) uint64 {
	var b [8]byte
	copy(b[1:], g[:])
	return binary.BigEndian.Uint64(b[:]) + 1
}

// scanStart is the key a SCAN with cursor c resumes at: the smallest key of
// the cursor's group (its prefix without the zero padding).
func scanStart(c uint64) []byte {
	if c == 0 {
		return nil
	}
	c = min(c-1, 1<<(8*scanPrefixLen)-1) // a cursor riot never gave: clamp
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], c)
	return bytes.TrimRight(b[1:], "\x00")
}

// parseCursor parses a cursor as Redis does (strtoul: an optional sign, a
// wrapping minus, no leading space, nothing after the digits).
func parseCursor(b []byte) (uint64, bool) {
	if len(b) > 0 && (b[0] == ' ' || (b[0] >= '\t' && b[0] <= '\r')) {
		return 0, false
	}
	if len(b) == 0 {
		return 0, true // strtoul("") converts nothing and stops at the end
	}
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false // a sign alone: strtoul stops at the sign
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// Reference: https://redis.io/docs/latest/commands/scan/
//
// Keys are scanned in the order of their positions (hash slot, then key
// bytes: kv.Position); a call examines COUNT keys and returns a group cursor
// or a key cursor (scan_cursors.go) for the next position.
func cmdScan(s *session, args [][]byte) {
	cursor, ok := parseCursor(args[1])
	if !ok {
		s.writeErr(redisError("ERR invalid cursor"))
		return
	}
	start := scanStart(cursor)
	if isKeyCursor(cursor) {
		after, ok := s.srv.scans.get(cursor)
		if !ok {
			s.writeErr(redisError("ERR invalid cursor"))
			return
		}
		start = append(append(make([]byte, 0, len(after)+1), after...), 0) // the first key after it
	}
	count := int64(10)
	var g *glob
	var typ []byte
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			s.writeErr(errSyntax)
			return
		}
		switch {
		case equalFold(args[i], "count"):
			n, err := kv.ParseInt(args[i+1])
			if err != nil {
				s.writeErr(errNotInteger)
				return
			}
			if n < 1 {
				s.writeErr(errSyntax)
				return
			}
			count = n
		case equalFold(args[i], "match"):
			g = keyFilter(args[i+1])
		case equalFold(args[i], "type"):
			typ = args[i+1]
		default:
			s.writeErr(errSyntax)
			return
		}
	}
	var keys [][]byte
	var next uint64
	var last []byte      // the position of the last key examined
	var resumeKey []byte // set when the call stops inside a 7-byte group
	var examined int64
	err := s.read(func(v *kv.View) error { // sharded: once per led group, in slot order
		if next != 0 || resumeKey != nil {
			return nil // stopped in an earlier group
		}
		return v.Scan(start, s.now, func(pos, k []byte, info kv.KeyInfo) bool {
			if examined >= count {
				if kg := scanGroup(pos); kg != scanGroup(last) {
					next = scanCursor(kg)
				} else {
					resumeKey = bytes.Clone(last)
				}
				return false
			}
			examined++
			last = append(last[:0], pos...)
			if (g == nil || g.match(k)) && (typ == nil || equalFold(typ, info.Type.String())) {
				keys = append(keys, bytes.Clone(k))
			}
			return true
		})
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.appendScanReply(next, resumeKey, keys)
}

// appendScanReply replies [cursor, items] for SCAN and the collection
// scans: the cursor is next, or a key cursor resuming after resumeKey
// when that is set (scan_cursors.go).
func (s *session) appendScanReply(next uint64, resumeKey []byte, items [][]byte) {
	if resumeKey != nil {
		next = s.srv.scans.put(resumeKey)
	}
	s.out = respwire.AppendArrayLen(s.out, 2)
	s.out = respwire.AppendBulkString(s.out, strconv.FormatUint(next, 10))
	s.out = respwire.AppendArrayLen(s.out, len(items))
	for _, it := range items {
		s.out = respwire.AppendBulk(s.out, it)
	}
}

// Reference: https://redis.io/docs/latest/commands/randomkey/ (the first
// key at or after a random point of the key space, wrapping around: any
// key can come back, but not with equal chances)
func cmdRandomKey(s *session, _ [][]byte) {
	var key []byte
	first := func(_, k []byte, _ kv.KeyInfo) bool { key = bytes.Clone(k); return false }
	// Sharded: once per led group, from a random one, until one has a key.
	err := s.readIn(s.shuffledBackends(), func(v *kv.View) error {
		if key != nil {
			return nil
		}
		var start [8]byte
		binary.BigEndian.PutUint64(start[:], rand.Uint64())
		if err := v.Scan(start[:], s.now, first); err != nil || key != nil {
			return err
		}
		return v.Scan(nil, s.now, first)
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.appendBulkOrNull(key, key != nil)
}

// Reference: https://redis.io/docs/latest/commands/rename/ (keeps the
// TTL; overwrites a key of any type)
func buildRename(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpRename, Args: args[1:3]}, replyOK, nil
}

// Reference: https://redis.io/docs/latest/commands/renamenx/
func buildRenameNX(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpRename, Args: args[1:3], Int: 1}, replyInt, nil
}

// Reference: https://redis.io/docs/latest/commands/copy/ (DB n: the
// target database travels in the entry, Args[2])
func buildCopy(s *session, args [][]byte) (*kv.Command, replyFunc, error) {
	c := &kv.Command{Op: kv.OpCopy, Args: args[1:3]}
	to := s.db
	for j := 3; j < len(args); j++ {
		switch {
		case equalFold(args[j], "replace"):
			c.Int = 1
		case equalFold(args[j], "db") && j+1 < len(args):
			db, err := kv.ParseInt(args[j+1])
			switch {
			case err != nil:
				return nil, nil, errNotInteger
			case db < math.MinInt32 || db > math.MaxInt32:
				return nil, nil, errIntRange
			case db < 0 || db >= int64(s.srv.cfg.databases()):
				return nil, nil, errDBIndex
			}
			to = uint8(db)
			j++
		default:
			return nil, nil, errSyntax
		}
	}
	if to == s.db && bytes.Equal(args[1], args[2]) {
		return nil, nil, errSameObject
	}
	if to != s.db {
		c.Args = [][]byte{args[1], args[2], {to}}
	}
	return c, replyInt, nil
}

// errIntRange is Redis's getIntFromObjectOrReply's error past an int.
var errIntRange = redisError("ERR value is out of range, value must between -2147483648 and 2147483647")

// errSameObject is Redis's shared.sameobjecterr.
var errSameObject = redisError("ERR source and destination objects are the same")

// Reference: https://redis.io/docs/latest/commands/move/
func buildMove(s *session, args [][]byte) (*kv.Command, replyFunc, error) {
	to, err := s.dbIndex(args[2], nil)
	if err != nil {
		return nil, nil, err
	}
	if to == s.db {
		return nil, nil, errSameObject
	}
	return &kv.Command{Op: kv.OpMove, Args: args[1:2], Int: int64(to)}, replyInt, nil
}

// Reference: https://redis.io/docs/latest/commands/swapdb/ (one entry
// that rewrites both databases' records: O(keys))
func buildSwapDB(s *session, args [][]byte) (*kv.Command, replyFunc, error) {
	a, err := s.dbIndex(args[1], redisError("ERR invalid first DB index"))
	if err != nil {
		return nil, nil, err
	}
	b, err := s.dbIndex(args[2], redisError("ERR invalid second DB index"))
	if err != nil {
		return nil, nil, err
	}
	return &kv.Command{Op: kv.OpSwapDB, Args: [][]byte{{a}, {b}}}, replyOK, nil
}

// Reference: https://redis.io/docs/latest/commands/flushdb/, flushall/
// (ASYNC and SYNC are accepted; the flush is one log entry)
// FLUSHDB deletes the selected database's keys (Int 1), FLUSHALL every
// database's (Int 0).
func buildFlush(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	if len(args) > 2 || (len(args) == 2 && !equalFold(args[1], "sync") && !equalFold(args[1], "async")) {
		return nil, nil, errSyntax
	}
	c := &kv.Command{Op: kv.OpFlush}
	if equalFold(args[0], "flushdb") {
		c.Int = 1
	}
	return c, replyOK, nil
}
