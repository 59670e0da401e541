package resp

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// Hash commands (t_hash.c). Writes are kv's OpHSet, OpHDel, OpHIncrBy and
// OpHIncrByFloat; reads walk the hash's elements through a View.

func hashCommands() []*command {
	return []*command{
		{name: "hset", arity: -4, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Sets the values of fields of a hash, creating it if needed.", build: buildHSet("hset")},
		{name: "hmset", arity: -4, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Sets the values of fields of a hash (old form of HSET).", build: buildHSet("hmset")},
		{name: "hsetnx", arity: 4, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Sets a field of a hash only if it does not exist.", build: buildHSetNX},
		{name: "hget", arity: 3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Returns the value of a field of a hash.", run: cmdHGet},
		{name: "hmget", arity: -3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Returns the values of fields of a hash.", run: cmdHMGet},
		{name: "hgetall", arity: 2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Returns every field and value of a hash.", run: cmdHGetAll(true, true)},
		{name: "hkeys", arity: 2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Returns every field of a hash.", run: cmdHGetAll(true, false)},
		{name: "hvals", arity: 2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Returns every value of a hash.", run: cmdHGetAll(false, true)},
		{name: "hdel", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Deletes fields of a hash.", build: buildHDel},
		{name: "hlen", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Returns the number of fields of a hash.", run: cmdCollLen(kv.TypeHash)},
		{name: "hstrlen", arity: 3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Returns the length of a field's value.", run: cmdHStrlen},
		{name: "hexists", arity: 3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Returns whether a field exists in a hash.", run: cmdHExists},
		{name: "hincrby", arity: 4, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Increments the integer value of a field of a hash.", build: buildHIncrBy},
		{name: "hincrbyfloat", arity: 4, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Increments the floating point value of a field of a hash.", build: buildHIncrByFloat},
		{name: "hrandfield", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Returns random fields of a hash.", run: cmdRandomMembers(kv.TypeHash, "withvalues")},
		{name: "hscan", arity: -3, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "hash", summary: "Iterates over the fields and values of a hash.", run: cmdCollScan(kv.TypeHash)},
	}
}

// Reference: https://redis.io/docs/latest/commands/hset/ (HMSET replies
// OK; both refuse an odd field/value list with the arity error)
func buildHSet(name string) func(*session, [][]byte) (*kv.Command, replyFunc, error) {
	reply := replyInt
	if name == "hmset" {
		reply = replyOK
	}
	return func(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
		if len(args)%2 != 0 {
			return nil, nil, errArity(name)
		}
		return &kv.Command{Op: kv.OpHSet, Args: args[1:]}, reply, nil
	}
}

// Reference: https://redis.io/docs/latest/commands/hsetnx/
func buildHSetNX(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpHSet, Args: args[1:], Int: kv.HSetNX}, replyInt, nil
}

// Reference: https://redis.io/docs/latest/commands/hdel/
func buildHDel(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpHDel, Args: args[1:]}, replyInt, nil
}

// Reference: https://redis.io/docs/latest/commands/hincrby/ (the increment
// is checked before the key)
func buildHIncrBy(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	n, err := kv.ParseInt(args[3])
	if err != nil {
		return nil, nil, errNotInteger
	}
	return &kv.Command{Op: kv.OpHIncrBy, Args: args[1:3], Int: n}, replyInt, nil
}

// Reference: https://redis.io/docs/latest/commands/hincrbyfloat/ (t_hash.c
// hincrbyfloatCommand: an infinite increment is refused before the key is
// looked up, with its own text)
func buildHIncrByFloat(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	if !kv.IsLongDouble(args[3]) {
		return nil, nil, redisError("ERR value is not a valid float")
	}
	if isInfLiteral(args[3]) {
		return nil, nil, redisError("ERR value is NaN or Infinity")
	}
	return &kv.Command{Op: kv.OpHIncrByFloat, Args: args[1:4]}, replyBulkOrNull, nil
}

// isInfLiteral reports whether b, a valid long double, is infinite: the
// only infinite long doubles are the words (a number out of range is not
// a long double at all).
func isInfLiteral(b []byte) bool {
	b = bytes.TrimLeft(b, "+-")
	return equalFold(b, "inf") || equalFold(b, "infinity")
}

// readColl reads key's collection of type t: fn runs with it, or with nil
// when the key does not exist. A key of another type is ErrWrongType.
func (s *session) readColl(key []byte, t kv.Type, fn func(c *kv.Coll) error) error {
	return s.read(func(v *kv.View) error {
		c, ok, err := v.Collection(key, s.now, t)
		if err != nil {
			return err
		}
		if !ok {
			c = nil
		}
		return fn(c)
	})
}

// Reference: https://redis.io/docs/latest/commands/hget/
func cmdHGet(s *session, args [][]byte) {
	var val []byte
	var ok bool
	err := s.readColl(args[1], kv.TypeHash, func(h *kv.Coll) (err error) {
		if h != nil {
			val, ok, err = h.Get(args[2])
		}
		return err
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.appendBulkOrNull(val, ok)
}

// Reference: https://redis.io/docs/latest/commands/hmget/
func cmdHMGet(s *session, args [][]byte) {
	fields := args[2:]
	vals := make([][]byte, len(fields))
	found := make([]bool, len(fields))
	err := s.readColl(args[1], kv.TypeHash, func(h *kv.Coll) error {
		for i, f := range fields {
			if h == nil {
				break
			}
			v, ok, err := h.Get(f)
			if err != nil {
				return err
			}
			vals[i], found[i] = v, ok
		}
		return nil
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, len(fields))
	for i := range fields {
		s.appendBulkOrNull(vals[i], found[i])
	}
}

// cmdHGetAll is HGETALL (fields and values: a map in RESP3), HKEYS or
// HVALS.
func cmdHGetAll(fields, values bool) func(*session, [][]byte) {
	return func(s *session, args [][]byte) {
		var out [][]byte
		err := s.readColl(args[1], kv.TypeHash, func(h *kv.Coll) error {
			if h == nil {
				return nil
			}
			return h.Scan(nil, false, func(f, v []byte) bool {
				if fields {
					out = append(out, bytes.Clone(f))
				}
				if values {
					out = append(out, bytes.Clone(v))
				}
				return true
			})
		})
		if err != nil {
			s.writeErr(err)
			return
		}
		if fields && values {
			s.out = respwire.AppendMapLen(s.out, len(out)/2, s.proto)
		} else {
			s.out = respwire.AppendArrayLen(s.out, len(out))
		}
		for _, b := range out {
			s.out = respwire.AppendBulk(s.out, b)
		}
	}
}

// cmdCollLen is HLEN, SCARD or ZCARD: the size the metadata holds.
func cmdCollLen(t kv.Type) func(*session, [][]byte) {
	return func(s *session, args [][]byte) {
		var n int64
		err := s.readColl(args[1], t, func(c *kv.Coll) error {
			if c != nil {
				n = c.Len()
			}
			return nil
		})
		if err != nil {
			s.writeErr(err)
			return
		}
		s.out = respwire.AppendInt(s.out, n)
	}
}

// Reference: https://redis.io/docs/latest/commands/hstrlen/
func cmdHStrlen(s *session, args [][]byte) {
	var n int
	err := s.readColl(args[1], kv.TypeHash, func(h *kv.Coll) error {
		if h == nil {
			return nil
		}
		v, _, err := h.Get(args[2])
		n = len(v)
		return err
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendInt(s.out, int64(n))
}

// Reference: https://redis.io/docs/latest/commands/hexists/
func cmdHExists(s *session, args [][]byte) {
	var ok bool
	err := s.readColl(args[1], kv.TypeHash, func(h *kv.Coll) (err error) {
		if h != nil {
			ok, err = h.Has(args[2])
		}
		return err
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendInt(s.out, boolInt(ok))
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// cmdRandomMembers is HRANDFIELD (with "withvalues"), SRANDMEMBER (no
// word) or ZRANDMEMBER ("withscores"): without a count one element or
// null; a positive count distinct elements (the whole collection when it
// has no more); a negative count that many, repeats allowed; with the
// word, each with its value or score (pairs in RESP3). Picked on the node
// that reads, O(size).
//
// Reference: https://redis.io/docs/latest/commands/hrandfield/,
// srandmember/, zrandmember/ (t_hash.c hrandfieldWithCountCommand; a set
// refuses extra arguments before parsing the count)
func cmdRandomMembers(t kv.Type, with string) func(*session, [][]byte) {
	return func(s *session, args [][]byte) {
		switch {
		case len(args) == 2:
			s.randOne(args[1], t)
			return
		case with == "" && len(args) > 3:
			s.writeErr(errSyntax)
			return
		}
		r, ok := s.parseRandCount(args, with)
		if !ok {
			return
		}
		var fields, values [][]byte
		err := s.readColl(args[1], t, func(c *kv.Coll) error {
			if c == nil {
				return nil
			}
			var err error
			fields, values, err = randomElements(c, r.count)
			return err
		})
		if err != nil {
			s.writeErr(err)
			return
		}
		s.appendPairs(fields, values, r.with, func(v []byte) {
			if t == kv.TypeZSet {
				f, _ := kv.DecodeScore(v)
				s.appendStoredScore(f)
				return
			}
			s.out = respwire.AppendBulk(s.out, v)
		})
	}
}

// randCount is the parsed count of HRANDFIELD, SRANDMEMBER or ZRANDMEMBER
// and whether WITHVALUES or WITHSCORES was given.
type randCount struct {
	count int64
	with  bool
}

// parseRandCount parses args[2:] of a random-elements command with a
// count: the count (Redis's range: -LONG_MAX..LONG_MAX, and half that
// when with is given and the count is negative), then optionally the word
// with. It writes the error and returns false when they are wrong.
func (s *session) parseRandCount(args [][]byte, with string) (randCount, bool) {
	var r randCount
	n, err := kv.ParseInt(args[2])
	if err != nil {
		s.writeErr(errNotInteger)
		return r, false
	}
	if n == -1<<63 { // getRangeLongFromObjectOrReply's text (sic)
		s.writeErr(redisError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"))
		return r, false
	}
	switch {
	case len(args) == 4 && with != "" && equalFold(args[3], with):
		r.with = true
	case len(args) >= 4:
		s.writeErr(errSyntax)
		return r, false
	}
	if r.with && n < -(1<<63-1)/2 {
		s.writeErr(redisError("ERR value is out of range"))
		return r, false
	}
	r.count = n
	return r, true
}

// randOne replies with one random element of key's collection, or null.
func (s *session) randOne(key []byte, t kv.Type) {
	var field []byte
	err := s.readColl(key, t, func(c *kv.Coll) error {
		if c == nil {
			return nil
		}
		fs, _, err := randomElements(c, 1)
		if len(fs) > 0 {
			field = fs[0]
		}
		return err
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.appendBulkOrNull(field, field != nil)
}

// maxRandomCount bounds the elements one random-elements reply holds, as
// the client output buffer does in Redis.
const maxRandomCount = 1 << 22

// randomElements picks elements of c: count > 0 distinct ones (all of
// them when c has no more), count < 0 -count of them with repeats. It
// walks c once, O(size).
func randomElements(c *kv.Coll, count int64) (fields, values [][]byte, err error) {
	size := c.Len()
	if count == 0 || size == 0 {
		return nil, nil, nil
	}
	var picks []int64 // element ranks, sorted
	switch {
	case count < 0:
		n := min(-count, maxRandomCount)
		picks = make([]int64, n)
		for i := range picks {
			picks[i] = rand.Int64N(size)
		}
	case count >= size:
		picks = make([]int64, size)
		for i := range picks {
			picks[i] = int64(i)
		}
	default: // count distinct ranks below size
		seen := make(map[int64]bool, count)
		for int64(len(picks)) < count {
			if p := rand.Int64N(size); !seen[p] {
				seen[p] = true
				picks = append(picks, p)
			}
		}
	}
	order := make([]int, len(picks)) // the reply order: the picks' order
	for i := range order {
		order[i] = i
	}
	sortByRank(order, picks)
	fields = make([][]byte, len(picks))
	values = make([][]byte, len(picks))
	var rank int64
	i := 0
	err = c.Scan(nil, false, func(f, v []byte) bool {
		for i < len(order) && picks[order[i]] == rank {
			fields[order[i]], values[order[i]] = bytes.Clone(f), bytes.Clone(v)
			i++
		}
		rank++
		return i < len(order)
	})
	return fields, values, err
}

// appendPairs replies with fields, or with fields and their values: flat
// in RESP2, as two-element arrays in RESP3.
func (s *session) appendPairs(fields, values [][]byte, with bool, appendValue func([]byte)) {
	if !with {
		s.out = respwire.AppendArrayLen(s.out, len(fields))
		for _, f := range fields {
			s.out = respwire.AppendBulk(s.out, f)
		}
		return
	}
	if s.proto >= 3 {
		s.out = respwire.AppendArrayLen(s.out, len(fields))
	} else {
		s.out = respwire.AppendArrayLen(s.out, 2*len(fields))
	}
	for i, f := range fields {
		if s.proto >= 3 {
			s.out = respwire.AppendArrayLen(s.out, 2)
		}
		s.out = respwire.AppendBulk(s.out, f)
		appendValue(values[i])
	}
}

// sortByRank sorts order (indexes into picks) by the picks' ranks.
func sortByRank(order []int, picks []int64) {
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(picks[a], picks[b]) })
}
