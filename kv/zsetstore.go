package kv

import (
	"bytes"
	"cmp"
	"math"
	"slices"
)

// Sorted set combinations (t_zset.c zunionInterDiffGenericCommand and
// zinterCardCommand). ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE apply
// OpZStore; ZUNION, ZINTER, ZDIFF and ZINTERCARD are reads that call
// ZCombination.Members or ZInterCard over one View. The inputs are sorted
// sets, and sets, whose members score 1 (as in Redis); a missing key is an
// empty input. Ops 64-71.

// OpZStore is ZUNIONSTORE, ZINTERSTORE or ZDIFFSTORE: Args destination,
// source keys..., and with CombineWeights one weight per source (the
// client's text, ParseScore's syntax); Int the combination (Combine*
// bits). The destination is replaced by a sorted set of the result, or
// deleted when the result is empty, whatever it held. Result.Int: the
// result's size.
const (
	OpZStore Op = 64
)

var zsetStoreOps = map[Op]opDef{
	OpZStore: {name: "zstore", apply: applyZStore, args: argSpec{2, -1, false}, check: checkZStore},
}

// Combinations: ZCombination.Kind and Aggregate, and Command.Int of
// OpZStore (a kind, an aggregate, and the flags below or'ed together).
const (
	CombineUnion = 1
	CombineInter = 2
	CombineDiff  = 3
	combineKinds = 3

	CombineSum       = 0
	CombineMin       = 1 << 2
	CombineMax       = 2 << 2
	combineAggregate = 3 << 2

	// CombineWeights: OpZStore's Args end with a weight per source.
	CombineWeights = 1 << 4
	// CombineFailSyntax and CombineFailWeight: the command's options are
	// wrong. Redis reports that only once it has looked up every source
	// (a WRONGTYPE comes first), so the op does that and then fails
	// with Redis's reply; it writes nothing.
	CombineFailSyntax = 1 << 5
	CombineFailWeight = 2 << 5
	combineFail       = 3 << 5
)

// Errors of the combinations, with Redis's text.
var (
	errCombineSyntax = ReplyError("ERR syntax error")
	errCombineWeight = ReplyError("ERR weight value is not a float")
)

// ZCombination is how sources combine: union, intersection or difference,
// how the scores of a member in several sources aggregate, and the weight
// each source's scores are multiplied by.
type ZCombination struct {
	Kind      int       // CombineUnion, CombineInter or CombineDiff
	Aggregate int       // CombineSum, CombineMin or CombineMax
	Weights   []float64 // one per source; nil: all 1 (a difference has none)
}

func checkZStore(c *Command) error {
	kind, aggr, fail := c.Int&combineKinds, c.Int&combineAggregate, c.Int&combineFail
	weights := c.Int&CombineWeights != 0
	n := len(c.Args) - 1 // the sources, and their weights
	switch {
	case c.Int&^(combineKinds|combineAggregate|CombineWeights|combineFail) != 0, kind == 0,
		aggr == combineAggregate, fail == combineFail:
		return badEntry(c, "combination %#x", c.Int)
	case kind == CombineDiff && (weights || aggr != CombineSum):
		return badEntry(c, "a difference with weights or an aggregate (%#x)", c.Int)
	case fail != 0 && (weights || aggr != CombineSum):
		return badEntry(c, "a failed combination with options (%#x)", c.Int)
	case weights && n%2 != 0:
		return badEntry(c, "%d sources and weights", n)
	}
	if weights {
		for _, w := range c.Args[1+n/2:] {
			if _, ok := ParseScore(w); !ok {
				return badEntry(c, "weight %q", w)
			}
		}
	}
	return nil
}

// zstoreCombination returns the combination and the source keys of
// OpZStore command c (checked by checkZStore).
func zstoreCombination(c *Command) (ZCombination, [][]byte) {
	z := ZCombination{Kind: int(c.Int & combineKinds), Aggregate: int(c.Int & combineAggregate)}
	keys := c.Args[1:]
	if c.Int&CombineWeights != 0 {
		keys = c.Args[1 : 1+len(keys)/2]
		for _, w := range c.Args[1+len(keys):] {
			f, _ := ParseScore(w)
			z.Weights = append(z.Weights, f)
		}
	}
	return z, keys
}

// applyZStore: see OpZStore.
func applyZStore(tx *txn, c *Command) Result {
	z, keys := zstoreCombination(c)
	srcs := make([]*Coll, len(keys))
	for i, k := range keys {
		src, err := tx.combineSource(k)
		if err != nil {
			return errResult(err)
		}
		srcs[i] = src
	}
	switch c.Int & combineFail {
	case CombineFailSyntax:
		return errResult(errCombineSyntax)
	case CombineFailWeight:
		return errResult(errCombineWeight)
	}
	members, err := z.Members(srcs)
	if err != nil {
		return errResult(tx.failf("%w", err))
	}
	dst := c.Args[0]
	if len(members) == 0 {
		if _, err := tx.del(dst); err != nil {
			return errResult(err)
		}
		return Result{}
	}
	// Every source is read: dst may be one of them. The result has no
	// deadline, as Redis's setKey leaves none.
	d := tx.newColl(dst, typeZSet, 0)
	for _, m := range members { // in score order: the same batch everywhere
		tx.putMember(d, m.Member, normScore(m.Score), 0, false)
	}
	d.size = int64(len(members))
	if err := tx.saveColl(d); err != nil {
		return errResult(err)
	}
	return Result{Int: d.size}
}

// combineSource returns key's set or sorted set read through the
// transaction, nil when the key does not exist: ErrWrongType for a key of
// another type.
func (t *txn) combineSource(key []byte) (*Coll, error) {
	v, ok, err := t.get(key)
	if !ok || err != nil {
		return nil, err
	}
	if v.typ != typeSet && v.typ != typeZSet {
		return nil, ErrWrongType
	}
	return t.collOf(t.db, key, v)
}

// CombineSource returns key's live set or sorted set at now, nil when the
// key does not exist: ErrWrongType for a key of another type. It is a
// source of ZCombination.Members and ZInterCard.
func (v *View) CombineSource(key []byte, now int64) (*Coll, error) {
	dv, ok, err := v.lookup(key, now)
	if !ok || err != nil {
		return nil, err
	}
	if dv.typ != typeSet && dv.typ != typeZSet {
		return nil, ErrWrongType
	}
	return collFrom(v.r, v.db, key, dv)
}

// weighted is a combination's source (nil: a missing key) and its weight.
type weighted struct {
	c *Coll
	w float64
}

// sources pairs srcs with z's weights.
func (z ZCombination) sources(srcs []*Coll) []weighted {
	ws := make([]weighted, len(srcs))
	for i, c := range srcs {
		ws[i] = weighted{c: c, w: 1}
		if i < len(z.Weights) {
			ws[i].w = z.Weights[i]
		}
	}
	return ws
}

// bySize sorts sources from the smallest, as Redis does before a union or
// an intersection: the order in which a member's scores aggregate, which
// matters for a sum of floats. The sort is stable, as glibc's qsort (a
// merge sort) is for Redis.
func bySize(ws []weighted) {
	slices.SortStableFunc(ws, func(a, b weighted) int { return cmp.Compare(a.size(), b.size()) })
}

func (s weighted) size() int64 {
	if s.c == nil {
		return 0
	}
	return s.c.Len()
}

// elemScore is the score of an element whose stored value is v: a sorted
// set's score, 1 for a set's member.
func elemScore(c *Coll, v []byte) (float64, error) {
	if c.meta.typ == typeSet {
		return 1, nil
	}
	return scoreOf(v)
}

// weigh returns score times weight, NaN (0 times an infinity) being 0.
func weigh(score, weight float64) float64 {
	if f := score * weight; !math.IsNaN(f) {
		return f
	}
	return 0
}

// aggregate adds val to acc as z aggregates: a sum that is NaN (inf plus
// -inf) is 0; a NaN val leaves a minimum or a maximum as it is.
func (z ZCombination) aggregate(acc, val float64) float64 {
	switch z.Aggregate {
	case CombineMin:
		if val < acc {
			return val
		}
		return acc
	case CombineMax:
		if val > acc {
			return val
		}
		return acc
	}
	if s := acc + val; !math.IsNaN(s) {
		return s
	}
	return 0
}

// Members returns the combination of srcs (nil: a missing key) in score
// order, members of equal scores in byte order: the order of Redis's
// skiplist, and of the replies.
func (z ZCombination) Members(srcs []*Coll) ([]ZMember, error) {
	var out []ZMember
	var err error
	switch z.Kind {
	case CombineUnion:
		out, err = z.union(z.sources(srcs))
	case CombineInter:
		err = z.inter(z.sources(srcs), func(m []byte, score float64) bool {
			out = append(out, ZMember{Member: bytes.Clone(m), Score: score})
			return true
		})
	case CombineDiff:
		out, err = diff(srcs)
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b ZMember) int {
		if c := cmp.Compare(a.Score, b.Score); c != 0 {
			return c
		}
		return bytes.Compare(a.Member, b.Member)
	})
	return out, nil
}

// ZInterCard returns the size of the intersection of srcs (nil: a
// missing key), counting no further than limit (0: no limit).
func ZInterCard(srcs []*Coll, limit int64) (int64, error) {
	var n int64
	z := ZCombination{Kind: CombineInter}
	err := z.inter(z.sources(srcs), func([]byte, float64) bool {
		n++
		return limit == 0 || n < limit
	})
	return n, err
}

// union aggregates each member's scores source after source, smallest
// source first.
func (z ZCombination) union(ws []weighted) ([]ZMember, error) {
	bySize(ws)
	var out []ZMember
	at := make(map[string]int) // member -> index in out
	for _, s := range ws {
		if s.c == nil {
			continue
		}
		var ferr error
		err := s.c.Scan(nil, false, func(m, v []byte) bool {
			score, err := elemScore(s.c, v)
			if err != nil {
				ferr = err
				return false
			}
			score = weigh(score, s.w)
			if i, ok := at[string(m)]; ok {
				out[i].Score = z.aggregate(out[i].Score, score)
				return true
			}
			at[string(m)] = len(out)
			out = append(out, ZMember{Member: bytes.Clone(m), Score: score})
			return true
		})
		if err = cmp.Or(err, ferr); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// inter calls fn with each member of every source and its aggregated
// score, until fn returns false. It walks the smallest source and looks
// its members up in the others, in Redis's order: the smallest source's
// weighted score (NaN: 0) aggregated with each other's, smallest first.
func (z ZCombination) inter(ws []weighted, fn func(member []byte, score float64) bool) error {
	bySize(ws)
	if len(ws) == 0 || ws[0].size() == 0 {
		return nil // every source is at least as large: all are non-nil
	}
	first := ws[0]
	var ferr error
	err := first.c.Scan(nil, false, func(m, v []byte) bool {
		score, err := elemScore(first.c, v)
		if err != nil {
			ferr = err
			return false
		}
		score = weigh(score, first.w)
		for _, o := range ws[1:] {
			ov, ok, err := o.c.Get(m)
			if err == nil && ok {
				var s float64
				if s, err = elemScore(o.c, ov); err == nil {
					// Not weigh: Redis aggregates the product as it is.
					score = z.aggregate(score, s*o.w)
				}
			}
			if err != nil {
				ferr = err
				return false
			}
			if !ok {
				return true // not in every source
			}
		}
		return fn(m, score)
	})
	return cmp.Or(err, ferr)
}

// diff returns the members of the first source that no other source has,
// with their scores.
func diff(srcs []*Coll) ([]ZMember, error) {
	if len(srcs) == 0 || srcs[0] == nil {
		return nil, nil
	}
	first := srcs[0]
	var out []ZMember
	var ferr error
	err := first.Scan(nil, false, func(m, v []byte) bool {
		for _, o := range srcs[1:] {
			if o == nil {
				continue
			}
			had, err := o.Has(m)
			if err != nil {
				ferr = err
				return false
			}
			if had {
				return true
			}
		}
		score, err := elemScore(first, v)
		if err != nil {
			ferr = err
			return false
		}
		out = append(out, ZMember{Member: bytes.Clone(m), Score: score})
		return true
	})
	return out, cmp.Or(err, ferr)
}
