package kv

import (
	"bytes"
	"errors"
	"math"
	"strconv"
)

// Sorted sets: one 's' record per member, whose value is the score's bits,
// and one 'z' record per member ordering (score, member) (collection.go;
// txn.putMember and delMember keep the two in step). Writes whose outcome
// depends on the data (popping, removing a range, storing a range) are ops
// that compute in apply; the ranges they and the reads walk are this
// file's (ZQuery, Coll.ZRange).
//
// Ranks are counted, not stored: finding the member at rank r, or the
// rank of a member, walks r records of the 'z' family (O(rank), where
// Redis's skiplist takes O(log n)). A rank range walks from whichever end
// of the set is nearer. ZCOUNT and ZLEXCOUNT count the members in range
// (O(count)); a range by member walks from the lowest score (O(position)),
// as the index is ordered by score first. This is accepted: the layout
// keeps every write O(members written) and every key O(1) to delete.
//
// A score of -0 is stored as 0: Redis 7.0 keeps a small sorted set as a
// listpack, which prints the score as an integer and so loses the sign
// (ZADD k -0 m; ZSCORE k m is "0"), and riot derives an encoding from the
// contents, not from the set's history. Replies that give the score an op
// computed (ZINCRBY, ZADD INCR) keep the sign, as Redis's do.

// Sorted set ops (48-63, 56-63 free; values are part of the log format:
// never renumber them).
const (
	OpZAdd             Op = 48
	OpZRem             Op = 49
	OpZPopMin          Op = 50
	OpZPopMax          Op = 51
	OpZRemRangeByRank  Op = 52
	OpZRemRangeByScore Op = 53
	OpZRemRangeByLex   Op = 54
	OpZRangeStore      Op = 55
)

var zsetOps = map[Op]opDef{
	OpZAdd:             {name: "zadd", apply: applyZAdd, args: argSpec{3, -1, false}, check: checkZAdd},
	OpZRem:             {name: "zrem", apply: applyZRem, args: argSpec{2, -1, false}},
	OpZPopMin:          {name: "zpopmin", apply: applyZPop, args: argSpec{1, -1, false}, check: checkZPop},
	OpZPopMax:          {name: "zpopmax", apply: applyZPop, args: argSpec{1, -1, false}, check: checkZPop},
	OpZRemRangeByRank:  {name: "zremrangebyrank", apply: applyZRemRange, args: argSpec{3, 3, false}, check: checkZRemRange},
	OpZRemRangeByScore: {name: "zremrangebyscore", apply: applyZRemRange, args: argSpec{3, 3, false}, check: checkZRemRange},
	OpZRemRangeByLex:   {name: "zremrangebylex", apply: applyZRemRange, args: argSpec{3, 3, false}, check: checkZRemRange},
	OpZRangeStore:      {name: "zrangestore", apply: applyZRangeStore, args: argSpec{4, 6, false}, check: checkZRangeStore},
}

// ZADD options: Command.Int of OpZAdd (ZINCRBY is ZAddIncr).
const (
	ZAddNX   = 1 << 0
	ZAddXX   = 1 << 1
	ZAddGT   = 1 << 2
	ZAddLT   = 1 << 3
	ZAddCH   = 1 << 4
	ZAddIncr = 1 << 5

	zaddAll = ZAddNX | ZAddXX | ZAddGT | ZAddLT | ZAddCH | ZAddIncr
)

// ZRANGE options: Command.Int of OpZRangeStore, and ZQuery's kind.
const (
	ZRangeByScore = 1 << 0
	ZRangeByLex   = 1 << 1
	ZRangeRev     = 1 << 2

	zrangeAll = ZRangeByScore | ZRangeByLex | ZRangeRev
)

// Errors of the sorted set commands, with Redis's text.
var (
	ErrZNotFloat       = ReplyError("ERR value is not a valid float")
	ErrZRangeNotFloat  = ReplyError("ERR min or max is not a float")
	ErrZRangeNotString = ReplyError("ERR min or max not valid string range item")
	ErrZAddXXNX        = ReplyError("ERR XX and NX options at the same time are not compatible")
	ErrZAddGTLTNX      = ReplyError("ERR GT, LT, and/or NX options at the same time are not compatible")
	ErrZAddIncrPairs   = ReplyError("ERR INCR option supports a single increment-element pair")
	errZNaN            = ReplyError("ERR resulting score is not a number (NaN)")
)

// ZAddConflict returns the error of ZADD options that do not go together
// (Redis checks XX with NX first, then GT, LT and NX), or nil.
func ZAddConflict(flags int64, pairs int) error {
	switch {
	case flags&ZAddNX != 0 && flags&ZAddXX != 0:
		return ErrZAddXXNX
	case flags&ZAddNX != 0 && flags&(ZAddGT|ZAddLT) != 0, flags&ZAddGT != 0 && flags&ZAddLT != 0:
		return ErrZAddGTLTNX
	case flags&ZAddIncr != 0 && pairs > 1:
		return ErrZAddIncrPairs
	}
	return nil
}

func checkZAdd(c *Command) error {
	pairs := (len(c.Args) - 1) / 2
	if len(c.Args)%2 != 1 {
		return badEntry(c, "%d arguments", len(c.Args))
	}
	if c.Int&^zaddAll != 0 || ZAddConflict(c.Int, pairs) != nil {
		return badEntry(c, "options %#x with %d pairs", c.Int, pairs)
	}
	for i := 1; i < len(c.Args); i += 2 {
		if _, ok := ParseScore(c.Args[i]); !ok {
			return badEntry(c, "score %q", c.Args[i])
		}
	}
	return nil
}

func checkZPop(c *Command) error {
	if c.Int < 0 {
		return badEntry(c, "count %d", c.Int)
	}
	return nil
}

func checkZRemRange(c *Command) error {
	if _, err := zremQuery(c); err != nil {
		return badEntry(c, "range %q %q: %v", c.Args[1], c.Args[2], err)
	}
	return nil
}

func checkZRangeStore(c *Command) error {
	if _, err := zrangeStoreQuery(c); err != nil {
		return badEntry(c, "query: %v", err)
	}
	return nil
}

// zremQuery is the range of a ZREMRANGEBY* command: Args key, min, max.
func zremQuery(c *Command) (ZQuery, error) {
	var kind int64
	switch c.Op {
	case OpZRemRangeByScore:
		kind = ZRangeByScore
	case OpZRemRangeByLex:
		kind = ZRangeByLex
	}
	return NewZQuery(kind, c.Args[1], c.Args[2])
}

// zrangeStoreQuery is the range of a ZRANGESTORE: Args dst, src, min, max
// and, with LIMIT (by score or lex only), offset and count; Int the
// ZRange* options.
func zrangeStoreQuery(c *Command) (ZQuery, error) {
	if c.Int&^zrangeAll != 0 || c.Int&(ZRangeByScore|ZRangeByLex) == ZRangeByScore|ZRangeByLex {
		return ZQuery{}, ErrBadEntry
	}
	q, err := NewZQuery(c.Int, c.Args[2], c.Args[3])
	if err != nil {
		return q, err
	}
	if len(c.Args) == 6 {
		if q.by == zbyRank {
			return q, ErrBadEntry
		}
		off, err1 := ParseInt(c.Args[4])
		n, err2 := ParseInt(c.Args[5])
		if err1 != nil || err2 != nil {
			return q, ErrNotInteger
		}
		q.Limit(off, n)
	}
	return q, nil
}

// normScore is how a score is stored: -0 as 0 (see the top of the file).
func normScore(f float64) float64 {
	if f == 0 {
		return 0
	}
	return f
}

// ScoreValue is a score as a Result carries it: its bits (DecodeScore
// reads them).
func ScoreValue(f float64) []byte { return scoreBits(f) }

// applyZAdd: Args key, score, member, score, member...; Int ZAdd* options
// (ZINCRBY: ZAddIncr). Result.Int: members added (ZAddCH: added or
// changed); with ZAddIncr, Result.Value the new score (ScoreValue) or
// Result.Null when the member was left alone (NX, XX, GT, LT).
//
// Reference: t_zset.c zaddGenericCommand and zsetAdd.
func applyZAdd(tx *txn, c *Command) Result {
	flags := c.Int
	z, err := tx.getOrNewColl(c.Args[0], typeZSet)
	if err != nil {
		return errResult(err)
	}
	var added, updated, processed int64
	var last float64
	for i := 1; i < len(c.Args); i += 2 {
		score, _ := ParseScore(c.Args[i]) // checked by checkZAdd
		member := c.Args[i+1]
		cur, had, err := z.Score(member)
		if err != nil {
			return errResult(tx.failf("%w", err))
		}
		switch {
		case had:
			if flags&ZAddNX != 0 {
				continue
			}
			if flags&ZAddIncr != 0 {
				if score += cur; math.IsNaN(score) {
					return errResult(errZNaN) // INCR has one pair: nothing written
				}
			}
			if (flags&ZAddLT != 0 && score >= cur) || (flags&ZAddGT != 0 && score <= cur) {
				continue
			}
			if score != cur { // -0 and 0 are the same score: no update
				tx.putMember(z, member, normScore(score), cur, true)
				updated++
			}
		case flags&ZAddXX == 0:
			tx.putMember(z, member, normScore(score), 0, false)
			z.size++
			added++
		default:
			continue
		}
		processed++
		last = score
	}
	if added+updated > 0 {
		if err := tx.saveColl(z); err != nil {
			return errResult(err)
		}
	}
	if flags&ZAddIncr != 0 {
		if processed == 0 {
			return Result{Null: true}
		}
		return Result{Value: ScoreValue(last)}
	}
	if flags&ZAddCH != 0 {
		return Result{Int: added + updated}
	}
	return Result{Int: added}
}

// applyZRem: Args key, members... Result.Int: members removed.
func applyZRem(tx *txn, c *Command) Result {
	z, ok, err := tx.getColl(c.Args[0], typeZSet)
	if err != nil || !ok {
		return Result{Err: err}
	}
	var n int64
	for _, m := range c.Args[1:] {
		score, had, err := z.Score(m)
		if err != nil {
			return errResult(tx.failf("%w", err))
		}
		if had {
			tx.delMember(z, m, score)
			z.size--
			n++
		}
	}
	if n == 0 {
		return Result{}
	}
	if err := tx.saveColl(z); err != nil {
		return errResult(err)
	}
	return Result{Int: n}
}

// applyZPop is ZPOPMIN, ZPOPMAX and ZMPOP: Args keys (the first that
// exists is popped from; a key of another type met before it is
// WRONGTYPE); Int how many members to pop (0: none, after the type
// check). Result.Null: no key exists; else Result.Value the key and
// Result.Array the members popped and their scores (ScoreValue), lowest
// first (OpZPopMax: highest first).
//
// Reference: t_zset.c genericZpopCommand.
func applyZPop(tx *txn, c *Command) Result {
	var z *Coll
	for _, key := range c.Args {
		zz, ok, err := tx.getColl(key, typeZSet)
		if err != nil {
			return errResult(err)
		}
		if ok {
			z = zz
			break
		}
	}
	if z == nil {
		return Result{Null: true}
	}
	res := bulk(z.key)
	if c.Int == 0 {
		return res
	}
	var popped []ZMember
	err := z.ScanScores(nil, c.Op == OpZPopMax, func(score float64, member []byte) bool {
		popped = append(popped, ZMember{Member: bytes.Clone(member), Score: score})
		return int64(len(popped)) < c.Int
	})
	if err != nil {
		return errResult(tx.failf("%w", err))
	}
	res.Array = make([]Result, 0, 2*len(popped))
	for _, p := range popped {
		tx.delMember(z, p.Member, p.Score)
		res.Array = append(res.Array, bulk(p.Member), Result{Value: ScoreValue(p.Score)})
	}
	z.size -= int64(len(popped))
	if err := tx.saveColl(z); err != nil {
		return errResult(err)
	}
	return res
}

// applyZRemRange is ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX:
// Args key, min, max (as the client sent them). Result.Int: members
// removed.
func applyZRemRange(tx *txn, c *Command) Result {
	q, _ := zremQuery(c) // checked by checkZRemRange
	z, ok, err := tx.getColl(c.Args[0], typeZSet)
	if err != nil || !ok {
		return Result{Err: err}
	}
	doomed, err := z.ZRange(q)
	if err != nil {
		return errResult(tx.failf("%w", err))
	}
	if len(doomed) == 0 {
		return Result{}
	}
	for _, m := range doomed {
		tx.delMember(z, m.Member, m.Score)
	}
	z.size -= int64(len(doomed))
	if err := tx.saveColl(z); err != nil {
		return errResult(err)
	}
	return Result{Int: int64(len(doomed))}
}

// applyZRangeStore: Args dst, src, min, max [offset, count]; Int ZRange*
// options. dst is replaced by the range of src, whatever it held, or
// deleted when the range is empty. Result.Int: members stored.
//
// Reference: t_zset.c zrangestoreCommand (zrangeResultFinalizeStore).
func applyZRangeStore(tx *txn, c *Command) Result {
	q, _ := zrangeStoreQuery(c) // checked by checkZRangeStore
	dst := c.Args[0]
	src, ok, err := tx.getColl(c.Args[1], typeZSet)
	if err != nil {
		return errResult(err)
	}
	var members []ZMember
	if ok {
		if members, err = src.ZRange(q); err != nil {
			return errResult(tx.failf("%w", err))
		}
	}
	if len(members) == 0 {
		if _, err := tx.del(dst); err != nil {
			return errResult(err)
		}
		return Result{}
	}
	z := tx.newColl(dst, typeZSet, 0)
	for _, m := range members {
		tx.putMember(z, m.Member, m.Score, 0, false)
	}
	z.size = int64(len(members))
	if err := tx.saveColl(z); err != nil {
		return errResult(err)
	}
	return Result{Int: z.size}
}

// Ranges of the ZRANGE family (ZRANGE, ZRANGESTORE, Z[REV]RANGEBY*,
// ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*), shared by the reads (resp, through a
// View's Coll) and the ops above.

// ZMember is a member of a sorted set and its score.
type ZMember struct {
	Member []byte
	Score  float64
}

// zby is a range's kind: by rank, score or member.
type zby uint8

const (
	zbyRank zby = iota
	zbyScore
	zbyLex
)

// ZQuery is a range of a sorted set: ranks start..stop (negative from the
// end), a ScoreRange or a LexRange, in ascending or, reversed, descending
// order, with LIMIT's offset and count for the last two. Make one with
// NewZQuery.
type ZQuery struct {
	by          zby
	rev         bool
	start, stop int64
	score       ScoreRange
	lex         LexRange
	// offset and count: LIMIT (count < 0: no limit).
	offset, count int64
}

// NewZQuery parses the range min max of kind flags (ZRangeByScore,
// ZRangeByLex or neither for ranks; ZRangeRev): for ranks two integers
// (ErrNotInteger), for scores two ScoreRange bounds (ErrZRangeNotFloat),
// for members two LexRange bounds (ErrZRangeNotString). Reversed, min is
// the high end, as the commands take them (ZRANGE k max min BYSCORE REV).
func NewZQuery(flags int64, min, max []byte) (ZQuery, error) {
	q := ZQuery{rev: flags&ZRangeRev != 0, count: -1}
	if q.rev && flags&(ZRangeByScore|ZRangeByLex) != 0 {
		min, max = max, min
	}
	switch {
	case flags&ZRangeByScore != 0:
		q.by = zbyScore
		r, ok := ParseScoreRange(min, max)
		if !ok {
			return q, ErrZRangeNotFloat
		}
		q.score = r
	case flags&ZRangeByLex != 0:
		q.by = zbyLex
		r, ok := ParseLexRange(min, max)
		if !ok {
			return q, ErrZRangeNotString
		}
		q.lex = r
	default:
		var err1, err2 error
		q.start, err1 = ParseInt(min)
		q.stop, err2 = ParseInt(max)
		if err1 != nil || err2 != nil {
			return q, ErrNotInteger
		}
	}
	return q, nil
}

// Limit sets LIMIT offset count (a range by score or member only): a
// negative offset selects nothing, a negative count everything from the
// offset on.
func (q *ZQuery) Limit(offset, count int64) { q.offset, q.count = offset, count }

// ScoreRange is an interval of scores: each bound a score as strtod reads
// it, "(" before it making it exclusive.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

// ParseScoreRange parses the bounds of ZRANGEBYSCORE, ZCOUNT ...
//
// Reference: t_zset.c zslParseRange: each bound is read with strtod alone
// (not string2d as scores are), so leading spaces, an empty string (0),
// and values out of range (inf) are accepted, and a NUL ends the bound.
func ParseScoreRange(min, max []byte) (ScoreRange, bool) {
	var r ScoreRange
	var ok1, ok2 bool
	r.Min, r.MinEx, ok1 = parseScoreBound(min)
	r.Max, r.MaxEx, ok2 = parseScoreBound(max)
	return r, ok1 && ok2
}

func parseScoreBound(b []byte) (float64, bool, bool) {
	ex := len(b) > 0 && b[0] == '('
	if ex {
		b = b[1:]
	}
	f, ok := strtod(b)
	return f, ex, ok
}

// strtod parses b as C's strtod with the whole (NUL-terminated) string
// consumed: leading white space, a sign, then a decimal or hexadecimal
// float, inf or infinity. NaN is refused; overflow is ±inf. An empty
// string is 0 (strtod converts nothing and stops at the terminator).
func strtod(b []byte) (float64, bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) == 0 {
		return 0, true
	}
	s := string(bytes.TrimLeft(b, " \t\n\v\f\r"))
	if s == "" {
		return 0, false
	}
	body := s
	neg := body[0] == '-'
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	lower := string(bytes.ToLower([]byte(body)))
	switch {
	case lower == "inf" || lower == "infinity":
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case len(lower) >= 2 && lower[:2] == "0x":
		if !validHexFloat(body[2:]) {
			return 0, false
		}
		if !bytes.ContainsAny([]byte(lower), "p") {
			s += "p0" // strtod's binary exponent is optional, Go's is not
		}
	default:
		if !validDecimalFloat(body) {
			return 0, false
		}
	}
	// strconv reports overflow (±inf) and underflow (0) as ErrRange,
	// where strtod returns the same values and the bound is accepted.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// validDecimalFloat checks an unsigned decimal float: digits with an
// optional point (at least one digit), then an optional exponent
// e[+-]digits.
func validDecimalFloat(s string) bool {
	i, digits := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}

func (r ScoreRange) gteMin(f float64) bool {
	if r.MinEx {
		return f > r.Min
	}
	return f >= r.Min
}

func (r ScoreRange) lteMax(f float64) bool {
	if r.MaxEx {
		return f < r.Max
	}
	return f <= r.Max
}

// empty reports a range no score is in (zslIsInRange's first test).
func (r ScoreRange) empty() bool {
	return r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx))
}

// LexRange is an interval of members: each bound "-" (below every
// member), "+" (above every member), or a member after "[" (inclusive)
// or "(" (exclusive).
type LexRange struct {
	Min, Max lexBound
}

type lexBound struct {
	inf   int // -1: "-", +1: "+", 0: value
	value []byte
	ex    bool
}

// ParseLexRange parses the bounds of ZRANGEBYLEX, ZLEXCOUNT ...
//
// Reference: t_zset.c zslParseLexRangeItem ("+" and "-" stand alone; the
// check of the byte after them is C's, so a NUL may follow).
func ParseLexRange(min, max []byte) (LexRange, bool) {
	var r LexRange
	var ok1, ok2 bool
	r.Min, ok1 = parseLexBound(min)
	r.Max, ok2 = parseLexBound(max)
	return r, ok1 && ok2
}

func parseLexBound(b []byte) (lexBound, bool) {
	if len(b) == 0 {
		return lexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		if len(b) > 1 && b[1] != 0 {
			return lexBound{}, false
		}
		if b[0] == '+' {
			return lexBound{inf: 1, ex: true}, true
		}
		return lexBound{inf: -1, ex: true}, true
	case '(', '[':
		return lexBound{value: b[1:], ex: b[0] == '('}, true
	}
	return lexBound{}, false
}

// cmpLex compares member m with bound b (sdscmplex).
func cmpLex(m []byte, b lexBound) int {
	if b.inf != 0 {
		return -b.inf
	}
	return bytes.Compare(m, b.value)
}

func (r LexRange) gteMin(m []byte) bool {
	if r.Min.ex {
		return cmpLex(m, r.Min) > 0
	}
	return cmpLex(m, r.Min) >= 0
}

func (r LexRange) lteMax(m []byte) bool {
	if r.Max.ex {
		return cmpLex(m, r.Max) < 0
	}
	return cmpLex(m, r.Max) <= 0
}

// empty reports a range no member is in (zslIsInLexRange's first test).
func (r LexRange) empty() bool {
	var c int
	switch {
	case r.Min.inf != 0 && r.Min.inf == r.Max.inf:
		c = 0
	case r.Min.inf == -1 || r.Max.inf == 1:
		c = -1
	case r.Min.inf == 1 || r.Max.inf == -1:
		c = 1
	default:
		c = bytes.Compare(r.Min.value, r.Max.value)
	}
	return c > 0 || (c == 0 && (r.Min.ex || r.Max.ex))
}

// ZRange returns the members of q in q's order, with their scores.
func (c *Coll) ZRange(q ZQuery) ([]ZMember, error) {
	if q.by == zbyRank {
		return c.rankRange(q.start, q.stop, q.rev)
	}
	var out []ZMember
	err := c.walkRange(q, func(score float64, member []byte) {
		out = append(out, ZMember{Member: bytes.Clone(member), Score: score})
	})
	return out, err
}

// ZCount returns how many members are in q (by score or member; ZCOUNT,
// ZLEXCOUNT). It counts them: O(count).
func (c *Coll) ZCount(q ZQuery) (int64, error) {
	var n int64
	err := c.walkRange(q, func(float64, []byte) { n++ })
	return n, err
}

// rankRange returns the members of ranks start..stop (negative: from the
// end; t_zset.c genericZrangebyrankCommand's sanitizing), descending
// ranks when rev. It walks from the nearer end of the set.
func (c *Coll) rankRange(start, stop int64, rev bool) ([]ZMember, error) {
	n := c.size
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	if start > stop || start >= n {
		return nil, nil
	}
	stop = min(stop, n-1)
	// lo..hi: the ranks in ascending order.
	lo, hi := start, stop
	if rev {
		lo, hi = n-1-stop, n-1-start
	}
	want := hi - lo + 1
	down := n-1-hi < lo // walking down from the top skips fewer
	skip := lo
	if down {
		skip = n - 1 - hi
	}
	out := make([]ZMember, 0, min(want, 1024))
	err := c.ScanScores(nil, down, func(score float64, member []byte) bool {
		if skip > 0 {
			skip--
			return true
		}
		out = append(out, ZMember{Member: bytes.Clone(member), Score: score})
		return int64(len(out)) < want
	})
	if down != rev {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, err
}

// walkRange calls fn for each member of q (by score or member), as Redis
// walks a listpack: from the first member in range (rev: the last),
// LIMIT's offset members skipped without looking at them, then members
// while they are within the far bound, at most LIMIT's count of them. For
// a range by member on a set whose scores differ, whose result Redis
// leaves unspecified, this gives what Redis gives for a set small enough
// to be a listpack (Redis's skiplist walk depends on its random levels).
//
// Reference: t_zset.c genericZrangebyscoreCommand, genericZrangebylexCommand,
// zzlFirstInRange, zzlLastInLexRange, zzlIsInLexRange.
func (c *Coll) walkRange(q ZQuery, fn func(score float64, member []byte)) error {
	var gteMin, lteMax func(score float64, member []byte) bool
	var from *float64
	switch q.by {
	case zbyScore:
		if q.score.empty() {
			return nil
		}
		gteMin = func(s float64, _ []byte) bool { return q.score.gteMin(s) }
		lteMax = func(s float64, _ []byte) bool { return q.score.lteMax(s) }
		from = &q.score.Min
		if q.rev {
			from = &q.score.Max
		}
	case zbyLex:
		if q.lex.empty() {
			return nil
		}
		gteMin = func(_ float64, m []byte) bool { return q.lex.gteMin(m) }
		lteMax = func(_ float64, m []byte) bool { return q.lex.lteMax(m) }
		// zzlIsInLexRange: the last member must be >= min and the first
		// <= max, whatever lies between.
		last, ok, err := c.edge(true)
		if err != nil || !ok || !q.lex.gteMin(last) {
			return err
		}
		first, _, err := c.edge(false)
		if err != nil || !q.lex.lteMax(first) {
			return err
		}
	default:
		return nil
	}
	if q.offset < 0 || q.count == 0 {
		return nil // Redis walks past the end with a negative offset
	}
	inFar, inNear := lteMax, gteMin
	if q.rev {
		inFar, inNear = gteMin, lteMax
	}
	found := false
	offset, count := q.offset, q.count
	return c.ScanScores(from, q.rev, func(score float64, member []byte) bool {
		if !found {
			if !inNear(score, member) {
				return true
			}
			if !inFar(score, member) {
				return false
			}
			found = true
		}
		if offset > 0 {
			offset--
			return true
		}
		if !inFar(score, member) {
			return false
		}
		fn(score, member)
		count--
		return count != 0
	})
}

// edge returns the first member in score order (last: the last one).
func (c *Coll) edge(last bool) ([]byte, bool, error) {
	var m []byte
	ok := false
	err := c.ScanScores(nil, last, func(_ float64, member []byte) bool {
		m, ok = bytes.Clone(member), true
		return false
	})
	return m, ok, err
}

// ZRank returns member's rank in ascending score order (rev: descending)
// and whether it is in the set. It counts the members before it from the
// end the rank is from: O(rank).
func (c *Coll) ZRank(member []byte, rev bool) (int64, bool, error) {
	score, ok, err := c.Score(member)
	if !ok || err != nil {
		return 0, false, err
	}
	if !rev {
		n, err := c.ScoreRank(score, member)
		return n, err == nil, err
	}
	var n int64
	score = normScore(score)
	err = c.ScanScores(nil, true, func(s float64, m []byte) bool {
		if s == score && bytes.Equal(m, member) {
			return false
		}
		n++
		return true
	})
	return n, err == nil, err
}
