package resp

import (
	"strconv"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// Sorted set commands (t_zset.c). Arguments are parsed here, in Redis's
// order (options, then their conflicts, then numbers and ranges, then the
// key); writes are kv's OpZAdd, OpZRem, OpZPopMin/Max, OpZRemRangeBy* and
// OpZRangeStore, computed by the state machine; reads walk the set through
// a View (kv.Coll.ZRange and friends).

func zsetCommands() []*command {
	return []*command{
		{name: "zadd", arity: -4, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Adds members to a sorted set, or updates their scores (NX XX GT LT CH INCR).", build: buildZAdd(0)},
		{name: "zincrby", arity: 4, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Increments the score of a member of a sorted set.", build: buildZAdd(kv.ZAddIncr)},
		{name: "zrem", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Removes members from a sorted set.", build: buildZRem},
		{name: "zcard", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Returns the number of members of a sorted set.", run: cmdCollLen(kv.TypeZSet)},
		{name: "zscore", arity: 3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Returns the score of a member of a sorted set.", run: cmdZScore},
		{name: "zmscore", arity: -3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Returns the scores of members of a sorted set.", run: cmdZMScore},
		{name: "zrank", arity: 3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Returns the rank of a member in ascending score order.", run: cmdZRank(false)},
		{name: "zrevrank", arity: 3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Returns the rank of a member in descending score order.", run: cmdZRank(true)},
		{name: "zcount", arity: 4, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Counts the members whose scores are within a range.", run: cmdZCount(kv.ZRangeByScore)},
		{name: "zlexcount", arity: 4, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Counts the members within a lexicographical range.", run: cmdZCount(kv.ZRangeByLex)},
		{name: "zrange", arity: -4, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Returns members of a sorted set by rank, score or member (BYSCORE BYLEX REV LIMIT WITHSCORES).", run: cmdZRange(zrangeAuto)},
		{name: "zrangestore", arity: -5, flags: flagWrite, firstKey: 1, lastKey: 2, step: 1, group: "sorted-set", summary: "Stores a range of a sorted set in another key.", build: buildZRangeStore},
		{name: "zrevrange", arity: -4, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Returns members of a sorted set by rank, highest scores first.", run: cmdZRange(zrangeFixed | kv.ZRangeRev)},
		{name: "zrangebyscore", arity: -4, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Returns members of a sorted set within a range of scores.", run: cmdZRange(zrangeFixed | kv.ZRangeByScore)},
		{name: "zrevrangebyscore", arity: -4, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Returns members of a sorted set within a range of scores, highest first.", run: cmdZRange(zrangeFixed | kv.ZRangeByScore | kv.ZRangeRev)},
		{name: "zrangebylex", arity: -4, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Returns members of a sorted set within a lexicographical range.", run: cmdZRange(zrangeFixed | kv.ZRangeByLex)},
		{name: "zrevrangebylex", arity: -4, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Returns members of a sorted set within a lexicographical range, in reverse order.", run: cmdZRange(zrangeFixed | kv.ZRangeByLex | kv.ZRangeRev)},
		{name: "zremrangebyrank", arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Removes the members within a range of ranks.", build: buildZRemRange(kv.OpZRemRangeByRank, 0)},
		{name: "zremrangebyscore", arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Removes the members within a range of scores.", build: buildZRemRange(kv.OpZRemRangeByScore, kv.ZRangeByScore)},
		{name: "zremrangebylex", arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Removes the members within a lexicographical range.", build: buildZRemRange(kv.OpZRemRangeByLex, kv.ZRangeByLex)},
		{name: "zpopmin", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Removes and returns the members with the lowest scores.", build: buildZPop(kv.OpZPopMin)},
		{name: "zpopmax", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Removes and returns the members with the highest scores.", build: buildZPop(kv.OpZPopMax)},
		{name: "zmpop", arity: -4, flags: flagWrite, numkeysAt: 1, group: "sorted-set", summary: "Removes and returns members of the first non-empty sorted set of several.", build: buildZMPop, keys: zmpopKeys},
		{name: "zrandmember", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Returns random members of a sorted set.", run: cmdRandomMembers(kv.TypeZSet, "withscores")},
		{name: "zscan", arity: -3, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Iterates over the members and scores of a sorted set.", run: cmdCollScan(kv.TypeZSet)},
	}
}

var (
	errZLimitByRank   = redisError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
	errZWithScoresLex = redisError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
	errNotPositive    = redisError("ERR value is out of range, must be positive")
)

// appendStoredScore replies with a score a sorted set holds, -0 as 0: as
// Redis answers from a listpack (kv/zset.go stores -0 as 0; this covers a
// -0 that another op stored).
func (s *session) appendStoredScore(f float64) {
	if f == 0 {
		f = 0
	}
	s.out = respwire.AppendDouble(s.out, f, s.proto)
}

// Reference: https://redis.io/docs/latest/commands/zadd/ and zincrby
// (t_zset.c zaddGenericCommand: ZINCRBY is ZADD INCR and parses the same
// options, so "ZINCRBY k nx m" is a syntax error). Options, then the pair
// count, then their conflicts, then the scores, then the key.
func buildZAdd(preset int64) func(*session, [][]byte) (*kv.Command, replyFunc, error) {
	return func(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
		flags := preset
		i := 2
	options:
		for ; i < len(args); i++ {
			switch {
			case equalFold(args[i], "nx"):
				flags |= kv.ZAddNX
			case equalFold(args[i], "xx"):
				flags |= kv.ZAddXX
			case equalFold(args[i], "ch"):
				flags |= kv.ZAddCH
			case equalFold(args[i], "incr"):
				flags |= kv.ZAddIncr
			case equalFold(args[i], "gt"):
				flags |= kv.ZAddGT
			case equalFold(args[i], "lt"):
				flags |= kv.ZAddLT
			default:
				break options
			}
		}
		elems := len(args) - i
		if elems == 0 || elems%2 != 0 {
			return nil, nil, errSyntax
		}
		if err := kv.ZAddConflict(flags, elems/2); err != nil {
			return nil, nil, err
		}
		for j := i; j < len(args); j += 2 {
			if _, ok := kv.ParseScore(args[j]); !ok {
				return nil, nil, kv.ErrZNotFloat
			}
		}
		c := &kv.Command{Op: kv.OpZAdd, Args: append([][]byte{args[1]}, args[i:]...), Int: flags}
		if flags&kv.ZAddIncr != 0 {
			return c, replyZIncr, nil
		}
		return c, replyInt, nil
	}
}

// replyZIncr replies with the score ZADD INCR or ZINCRBY left, or null.
func replyZIncr(s *session, r kv.Result) {
	if r.Null {
		s.out = respwire.AppendNull(s.out, s.proto)
		return
	}
	f, err := kv.DecodeScore(r.Value)
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendDouble(s.out, f, s.proto)
}

// Reference: https://redis.io/docs/latest/commands/zrem/
func buildZRem(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpZRem, Args: args[1:]}, replyInt, nil
}

// Reference: https://redis.io/docs/latest/commands/zscore/
func cmdZScore(s *session, args [][]byte) {
	var score float64
	var ok bool
	err := s.readColl(args[1], kv.TypeZSet, func(z *kv.Coll) (err error) {
		if z != nil {
			score, ok, err = z.Score(args[2])
		}
		return err
	})
	switch {
	case err != nil:
		s.writeErr(err)
	case !ok:
		s.out = respwire.AppendNull(s.out, s.proto)
	default:
		s.appendStoredScore(score)
	}
}

// Reference: https://redis.io/docs/latest/commands/zmscore/ (a missing
// key is an empty set: a null per member)
func cmdZMScore(s *session, args [][]byte) {
	members := args[2:]
	scores := make([]float64, len(members))
	found := make([]bool, len(members))
	err := s.readColl(args[1], kv.TypeZSet, func(z *kv.Coll) error {
		for i, m := range members {
			if z == nil {
				break
			}
			f, ok, err := z.Score(m)
			if err != nil {
				return err
			}
			scores[i], found[i] = f, ok
		}
		return nil
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, len(members))
	for i := range members {
		if found[i] {
			s.appendStoredScore(scores[i])
		} else {
			s.out = respwire.AppendNull(s.out, s.proto)
		}
	}
}

// cmdZRank is ZRANK or ZREVRANK (O(rank): kv.Coll.ZRank).
func cmdZRank(rev bool) func(*session, [][]byte) {
	return func(s *session, args [][]byte) {
		var rank int64
		var ok bool
		err := s.readColl(args[1], kv.TypeZSet, func(z *kv.Coll) (err error) {
			if z != nil {
				rank, ok, err = z.ZRank(args[2], rev)
			}
			return err
		})
		switch {
		case err != nil:
			s.writeErr(err)
		case !ok:
			s.out = respwire.AppendNull(s.out, s.proto)
		default:
			s.out = respwire.AppendInt(s.out, rank)
		}
	}
}

// cmdZCount is ZCOUNT (by score) or ZLEXCOUNT (by member): the range is
// checked before the key.
func cmdZCount(by int64) func(*session, [][]byte) {
	return func(s *session, args [][]byte) {
		q, err := kv.NewZQuery(by, args[2], args[3])
		if err != nil {
			s.writeErr(err)
			return
		}
		var n int64
		err = s.readColl(args[1], kv.TypeZSet, func(z *kv.Coll) (err error) {
			if z != nil {
				n, err = z.ZCount(q)
			}
			return err
		})
		if err != nil {
			s.writeErr(err)
			return
		}
		s.out = respwire.AppendInt(s.out, n)
	}
}

// zrangeFixed marks a ZRANGE variant whose kind and direction its name
// fixes (ZREVRANGE, ZRANGEBYSCORE, ...): BYSCORE, BYLEX and REV are not
// options of it. zrangeAuto is ZRANGE's and ZRANGESTORE's: they are.
const (
	zrangeAuto  = 0
	zrangeFixed = 1 << 8
)

// zrangeArgs is a parsed ZRANGE-family request.
type zrangeArgs struct {
	flags      int64 // kv.ZRange* options
	withScores bool
	limit      bool // LIMIT given, by score or member (by rank it is ignored: see parseZRange)
	offset     int64
	count      int64
	query      kv.ZQuery
}

// parseZRange parses args[at:] (key min max [options]) of a ZRANGE-family
// command: the options (WITHSCORES unless store), their conflicts, then
// the range.
//
// Reference: t_zset.c zrangeGenericCommand. LIMIT with a count of -1 is
// "no LIMIT" there, so ZRANGE k 0 -1 LIMIT 5 -1 (by rank) is accepted.
func parseZRange(args [][]byte, at int, preset int64, store bool) (zrangeArgs, error) {
	z := zrangeArgs{flags: preset &^ zrangeFixed, count: -1}
	fixed := preset&zrangeFixed != 0
	byDone, revDone := fixed, fixed
	for j := at + 3; j < len(args); j++ {
		left := len(args) - j - 1
		switch {
		case !store && equalFold(args[j], "withscores"):
			z.withScores = true
		case equalFold(args[j], "limit") && left >= 2:
			var err1, err2 error
			z.offset, err1 = kv.ParseInt(args[j+1])
			z.count, err2 = kv.ParseInt(args[j+2])
			if err1 != nil || err2 != nil {
				return z, errNotInteger
			}
			z.limit = true
			j += 2
		case !revDone && equalFold(args[j], "rev"):
			z.flags |= kv.ZRangeRev
			revDone = true
		case !byDone && equalFold(args[j], "bylex"):
			z.flags |= kv.ZRangeByLex
			byDone = true
		case !byDone && equalFold(args[j], "byscore"):
			z.flags |= kv.ZRangeByScore
			byDone = true
		default:
			return z, errSyntax
		}
	}
	byRank := z.flags&(kv.ZRangeByScore|kv.ZRangeByLex) == 0
	if z.count != -1 && byRank {
		return z, errZLimitByRank
	}
	if z.withScores && z.flags&kv.ZRangeByLex != 0 {
		return z, errZWithScoresLex
	}
	q, err := kv.NewZQuery(z.flags, args[at+1], args[at+2])
	if err != nil {
		return z, err
	}
	z.limit = z.limit && !byRank
	if z.limit {
		q.Limit(z.offset, z.count)
	}
	z.query = q
	return z, nil
}

// cmdZRange is ZRANGE and its older forms (preset: what the name fixes).
// WITHSCORES replies member, score, ... in RESP2 and [member, score]
// pairs in RESP3.
func cmdZRange(preset int64) func(*session, [][]byte) {
	return func(s *session, args [][]byte) {
		z, err := parseZRange(args, 1, preset, false)
		if err != nil {
			s.writeErr(err)
			return
		}
		var members []kv.ZMember
		err = s.readColl(args[1], kv.TypeZSet, func(c *kv.Coll) (err error) {
			if c != nil {
				members, err = c.ZRange(z.query)
			}
			return err
		})
		if err != nil {
			s.writeErr(err)
			return
		}
		s.appendZMembers(members, z.withScores)
	}
}

// appendZMembers replies with members a sorted set holds, with their
// scores if withScores: flat in RESP2, as [member, score] pairs in RESP3.
func (s *session) appendZMembers(members []kv.ZMember, withScores bool) {
	s.appendZPairs(members, withScores, s.appendStoredScore)
}

// appendZPairs is appendZMembers with the scores written by score.
func (s *session) appendZPairs(members []kv.ZMember, withScores bool, score func(float64)) {
	n := len(members)
	if withScores && s.proto < 3 {
		n *= 2
	}
	s.out = respwire.AppendArrayLen(s.out, n)
	for _, m := range members {
		if withScores && s.proto >= 3 {
			s.out = respwire.AppendArrayLen(s.out, 2)
		}
		s.out = respwire.AppendBulk(s.out, m.Member)
		if withScores {
			score(m.Score)
		}
	}
}

// Reference: https://redis.io/docs/latest/commands/zrangestore/ (dst is
// replaced whatever it holds; an empty range deletes it)
func buildZRangeStore(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	z, err := parseZRange(args, 2, zrangeAuto, true)
	if err != nil {
		return nil, nil, err
	}
	cargs := [][]byte{args[1], args[2], args[3], args[4]}
	if z.limit {
		cargs = append(cargs, strconv.AppendInt(nil, z.offset, 10), strconv.AppendInt(nil, z.count, 10))
	}
	return &kv.Command{Op: kv.OpZRangeStore, Args: cargs, Int: z.flags}, replyInt, nil
}

// buildZRemRange is ZREMRANGEBYRANK, ZREMRANGEBYSCORE or ZREMRANGEBYLEX:
// the range is checked here, before the key, and applied by the state
// machine.
func buildZRemRange(op kv.Op, by int64) func(*session, [][]byte) (*kv.Command, replyFunc, error) {
	return func(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
		if _, err := kv.NewZQuery(by, args[2], args[3]); err != nil {
			return nil, nil, err
		}
		return &kv.Command{Op: op, Args: args[1:4]}, replyInt, nil
	}
}

// Reference: https://redis.io/docs/latest/commands/zpopmin/ (t_zset.c
// zpopMinMaxCommand: one optional positive count; without it the reply
// is flat in RESP3 too)
func buildZPop(op kv.Op) func(*session, [][]byte) (*kv.Command, replyFunc, error) {
	return func(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
		if len(args) > 3 {
			return nil, nil, errSyntax
		}
		count, nested := int64(1), false
		if len(args) == 3 {
			n, err := kv.ParseInt(args[2])
			if err != nil || n < 0 {
				return nil, nil, errNotPositive
			}
			count, nested = n, true
		}
		reply := func(s *session, r kv.Result) {
			s.appendPopped(r.Array, nested && s.proto >= 3)
		}
		return &kv.Command{Op: op, Args: args[1:2], Int: count}, reply, nil
	}
}

// appendPopped replies with the members and scores an OpZPop* popped
// (member, score, ...): flat, or as [member, score] pairs.
func (s *session) appendPopped(a []kv.Result, nested bool) {
	n := len(a)
	if nested {
		n /= 2
	}
	s.out = respwire.AppendArrayLen(s.out, n)
	for i := 0; i+1 < len(a); i += 2 {
		if nested {
			s.out = respwire.AppendArrayLen(s.out, 2)
		}
		s.out = respwire.AppendBulk(s.out, a[i].Value)
		f, _ := kv.DecodeScore(a[i+1].Value)
		s.appendStoredScore(f)
	}
}

// zmpopNumKeys parses ZMPOP's numkeys: 1 or more (Redis's one error for
// a bad number and one out of range).
func zmpopNumKeys(args [][]byte) (int64, error) {
	n, err := kv.ParseInt(args[1])
	if err != nil || n < 1 {
		return 0, redisError("ERR numkeys should be greater than 0")
	}
	return n, nil
}

// zmpopKeys returns ZMPOP's keys (its row's keys function).
func zmpopKeys(args [][]byte) [][]byte {
	n, err := zmpopNumKeys(args)
	if err != nil || n > int64(len(args)-2) {
		return nil
	}
	return args[2 : 2+n]
}

// Reference: https://redis.io/docs/latest/commands/zmpop/ (t_zset.c
// zmpopGenericCommand: numkeys key... MIN|MAX [COUNT n]; pops from the
// first key that exists; a null array when none does)
func buildZMPop(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	n, err := zmpopNumKeys(args)
	if err != nil {
		return nil, nil, err
	}
	if n >= int64(len(args)-2) { // no room for MIN|MAX after the keys
		return nil, nil, errSyntax
	}
	where := 2 + int(n)
	var op kv.Op
	switch {
	case equalFold(args[where], "min"):
		op = kv.OpZPopMin
	case equalFold(args[where], "max"):
		op = kv.OpZPopMax
	default:
		return nil, nil, errSyntax
	}
	count, err := parseMPopCount(args, where+1)
	if err != nil {
		return nil, nil, err
	}
	return &kv.Command{Op: op, Args: args[2:where], Int: count}, replyZMPop, nil
}

// replyZMPop replies [key, [[member, score], ...]], or a null array.
func replyZMPop(s *session, r kv.Result) {
	if r.Null {
		s.out = respwire.AppendNullArray(s.out, s.proto)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, 2)
	s.out = respwire.AppendBulk(s.out, r.Value)
	s.appendPopped(r.Array, true)
}

// parseMPopCount parses what follows ZMPOP's or LMPOP's MIN|MAX or
// LEFT|RIGHT, args[from:]: nothing, or COUNT n once (n at least 1). It
// returns the count, 1 without COUNT.
func parseMPopCount(args [][]byte, from int) (int64, error) {
	count := int64(-1)
	for j := from; j < len(args); j++ {
		if count != -1 || !equalFold(args[j], "count") || j == len(args)-1 {
			return 0, errSyntax
		}
		j++
		c, err := kv.ParseInt(args[j])
		if err != nil || c < 1 {
			return 0, redisError("ERR count should be greater than 0")
		}
		count = c
	}
	return max(count, 1), nil
}
