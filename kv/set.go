package kv

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// Sets: one 's' record per member, with an empty value (collection.go).
// Every op reads the live key (ErrWrongType for another type), creates the
// set when it adds the first member and deletes it when it removes the
// last. Members are visited in byte order, so the combinations (SINTER,
// SUNION, SDIFF and their STORE forms) come out in byte order too.

// Set ops, 36-47 (values are part of the log format: never renumber them).
const (
	OpSAdd        Op = 36 // Args: key, members...; Result.Int: members added
	OpSRem        Op = 37 // Args: key, members...; Result.Int: members removed
	OpSMove       Op = 38 // Args: src, dst, member; Result.Int: 1 if moved
	OpSPop        Op = 39 // Args: key, seed (8 bytes); Int: count; Result.Array: the members
	OpSInterStore Op = 40 // Args: dst, keys...; Result.Int: the size stored
	OpSUnionStore Op = 41 // Args: dst, keys...; Result.Int: the size stored
	OpSDiffStore  Op = 42 // Args: dst, keys...; Result.Int: the size stored
)

var setOps = map[Op]opDef{
	OpSAdd:        {name: "sadd", apply: applySAdd, args: argSpec{2, -1, false}},
	OpSRem:        {name: "srem", apply: applySRem, args: argSpec{2, -1, false}},
	OpSMove:       {name: "smove", apply: applySMove, args: argSpec{3, 3, false}},
	OpSPop:        {name: "spop", apply: applySPop, args: argSpec{2, 2, false}, check: checkSPop},
	OpSInterStore: {name: "sinterstore", apply: applySetStore(SetInter), args: argSpec{2, -1, false}},
	OpSUnionStore: {name: "sunionstore", apply: applySetStore(SetUnion), args: argSpec{2, -1, false}},
	OpSDiffStore:  {name: "sdiffstore", apply: applySetStore(SetDiff), args: argSpec{2, -1, false}},
}

// SPopSeedLen is the length of OpSPop's seed argument.
const SPopSeedLen = 8

func checkSPop(c *Command) error {
	if len(c.Args[1]) != SPopSeedLen {
		return badEntry(c, "a seed of %d bytes", len(c.Args[1]))
	}
	if c.Int < 0 {
		return badEntry(c, "count %d", c.Int)
	}
	return nil
}

// applySAdd: Args key, members... Result.Int: the number of members added.
func applySAdd(tx *txn, c *Command) Result {
	s, err := tx.getOrNewColl(c.Args[0], typeSet)
	if err != nil {
		return errResult(err)
	}
	var added int64
	for _, m := range c.Args[1:] {
		had, err := s.Has(m)
		if err != nil {
			return errResult(tx.failf("%w", err))
		}
		if !had {
			tx.putElem(s, m, nil)
			s.size++
			added++
		}
	}
	if added == 0 {
		return Result{}
	}
	if err := tx.saveColl(s); err != nil {
		return errResult(err)
	}
	return Result{Int: added}
}

// applySRem: Args key, members... Result.Int: the number of members
// removed.
func applySRem(tx *txn, c *Command) Result {
	s, ok, err := tx.getColl(c.Args[0], typeSet)
	if err != nil || !ok {
		return Result{Err: err}
	}
	var n int64
	for _, m := range c.Args[1:] {
		had, err := s.Has(m)
		if err != nil {
			return errResult(tx.failf("%w", err))
		}
		if had {
			tx.delElem(s, m)
			s.size--
			n++
		}
	}
	if n == 0 {
		return Result{}
	}
	if err := tx.saveColl(s); err != nil {
		return errResult(err)
	}
	return Result{Int: n}
}

// applySMove: Args src, dst, member. Result.Int: 1 if the member was in
// src (and is now in dst). As Redis (t_set.c smoveCommand): a missing src
// is 0 whatever dst holds; then src and dst must be sets; a move onto the
// same key changes nothing and answers whether the member is there.
func applySMove(tx *txn, c *Command) Result {
	srcKey, dstKey, m := c.Args[0], c.Args[1], c.Args[2]
	src, ok, err := tx.getColl(srcKey, typeSet)
	if err != nil || !ok {
		return Result{Err: err}
	}
	dst, err := tx.getOrNewColl(dstKey, typeSet)
	if err != nil {
		return errResult(err)
	}
	had, err := src.Has(m)
	if err != nil {
		return errResult(tx.failf("%w", err))
	}
	if !had {
		return Result{}
	}
	if bytes.Equal(srcKey, dstKey) {
		return Result{Int: 1}
	}
	tx.delElem(src, m)
	src.size--
	if err := tx.saveColl(src); err != nil {
		return errResult(err)
	}
	in, err := dst.Has(m)
	if err != nil {
		return errResult(tx.failf("%w", err))
	}
	if !in {
		tx.putElem(dst, m, nil)
		dst.size++
		if err := tx.saveColl(dst); err != nil {
			return errResult(err)
		}
	}
	return Result{Int: 1}
}

// applySPop: Args key, seed; Int the count (SPOP without a count is
// count 1). Result.Array: the members removed, in byte order (none for a
// missing key or count 0). The members are drawn by a PRNG seeded with
// the entry's seed, so every replica removes the same ones. Finding the
// members at the drawn ranks walks the set up to the last of them.
func applySPop(tx *txn, c *Command) Result {
	s, ok, err := tx.getColl(c.Args[0], typeSet)
	if err != nil {
		return errResult(err)
	}
	if !ok || c.Int == 0 {
		return Result{Array: []Result{}}
	}
	seed := binary.BigEndian.Uint64(c.Args[1])
	members, err := membersAt(s, pickRanks(rand.NewPCG(seed, seed), s.size, c.Int))
	if err != nil {
		return errResult(tx.failf("%w", err))
	}
	out := make([]Result, len(members))
	for i, m := range members {
		tx.delElem(s, m)
		out[i] = bulk(m)
	}
	s.size -= int64(len(members))
	if err := tx.saveColl(s); err != nil {
		return errResult(err)
	}
	return Result{Array: out}
}

// pickRanks returns min(count, size) distinct ranks below size, in
// ascending order: all of them when count covers the set, else drawn by
// Floyd's algorithm (count draws, whatever the size). Only lookups touch
// the map, never its order, so the result depends on r alone.
func pickRanks(r *rand.PCG, size, count int64) []int64 {
	if count >= size {
		ranks := make([]int64, size)
		for i := range ranks {
			ranks[i] = int64(i)
		}
		return ranks
	}
	seen := make(map[int64]bool, count)
	ranks := make([]int64, 0, count)
	for j := size - count; j < size; j++ {
		p := int64(below(r, uint64(j+1)))
		if seen[p] {
			p = j
		}
		seen[p] = true
		ranks = append(ranks, p)
	}
	slices.Sort(ranks)
	return ranks
}

// below returns a number in [0, n) drawn from r (n > 0), by Lemire's
// multiply-and-reject. It is written here rather than taken from
// math/rand, whose bounded draws may change between Go releases: every
// replica, whatever Go built it, must draw the same. PCG's output is
// fixed by its definition.
func below(r *rand.PCG, n uint64) uint64 {
	threshold := -n % n
	for {
		hi, lo := bits.Mul64(r.Uint64(), n)
		if lo >= threshold {
			return hi
		}
	}
}

// membersAt returns the members of s at ranks (ascending, distinct).
func membersAt(s *Coll, ranks []int64) ([][]byte, error) {
	out := make([][]byte, 0, len(ranks))
	var rank int64
	err := s.Scan(nil, false, func(m, _ []byte) bool {
		if len(out) < len(ranks) && ranks[len(out)] == rank {
			out = append(out, bytes.Clone(m))
		}
		rank++
		return len(out) < len(ranks)
	})
	return out, err
}

// SetOp is a combination of sets.
type SetOp int

// The combinations of SINTER, SUNION and SDIFF.
const (
	SetInter SetOp = iota // members in every set
	SetUnion              // members in any set
	SetDiff               // members of the first set in none of the others
)

// CombineSets calls fn with each member of op's combination of sets, in
// byte order, until fn returns false. A nil set is an empty one (a missing
// key). member is valid only during the call. An intersection walks the
// smallest set and looks each member up in the others, a difference walks
// the first; a union holds every member in memory to order them.
func CombineSets(op SetOp, sets []*Coll, fn func(member []byte) bool) error {
	switch op {
	case SetInter:
		if len(sets) == 0 || slices.Contains(sets, nil) {
			return nil
		}
		bySize := slices.Clone(sets)
		slices.SortStableFunc(bySize, func(a, b *Coll) int { return cmp.Compare(a.Len(), b.Len()) })
		return walkWhere(bySize[0], bySize[1:], true, fn)
	case SetDiff:
		if len(sets) == 0 || sets[0] == nil {
			return nil
		}
		var others []*Coll
		for _, s := range sets[1:] {
			if s != nil {
				others = append(others, s)
			}
		}
		return walkWhere(sets[0], others, false, fn)
	}
	all := make(map[string]struct{})
	for _, s := range sets {
		if s == nil {
			continue
		}
		if err := s.Scan(nil, false, func(m, _ []byte) bool {
			all[string(m)] = struct{}{}
			return true
		}); err != nil {
			return err
		}
	}
	members := make([]string, 0, len(all))
	for m := range all {
		members = append(members, m)
	}
	slices.Sort(members) // the order is byte order, not the map's
	for _, m := range members {
		if !fn([]byte(m)) {
			break
		}
	}
	return nil
}

// walkWhere calls fn with each member of s that is in every one of others
// (in: true) or in none of them (in: false), until fn returns false.
func walkWhere(s *Coll, others []*Coll, in bool, fn func(member []byte) bool) error {
	var lookupErr error
	err := s.Scan(nil, false, func(m, _ []byte) bool {
		for _, o := range others {
			has, err := o.Has(m)
			if err != nil {
				lookupErr = err
				return false
			}
			if has != in {
				return true
			}
		}
		return fn(m)
	})
	if lookupErr != nil {
		return lookupErr
	}
	return err
}

// applySetStore is SINTERSTORE, SUNIONSTORE or SDIFFSTORE: Args dst,
// keys... The combination replaces whatever dst holds (its TTL too); an
// empty one deletes dst. Result.Int: the size of the set stored.
func applySetStore(op SetOp) applyFunc {
	return func(tx *txn, c *Command) Result {
		dst, keys := c.Args[0], c.Args[1:]
		sets := make([]*Coll, len(keys))
		for i, k := range keys {
			s, ok, err := tx.getColl(k, typeSet)
			if err != nil {
				return errResult(err)
			}
			if ok {
				sets[i] = s
			}
		}
		// Every member is read before dst is written: dst may be one of
		// the keys.
		var members [][]byte
		if err := CombineSets(op, sets, func(m []byte) bool {
			members = append(members, bytes.Clone(m))
			return true
		}); err != nil {
			return errResult(tx.failf("%w", err))
		}
		if len(members) == 0 {
			if _, err := tx.del(dst); err != nil {
				return errResult(err)
			}
			return Result{}
		}
		d := tx.newColl(dst, typeSet, 0)
		for _, m := range members {
			tx.putElem(d, m, nil)
		}
		d.size = int64(len(members))
		if err := tx.saveColl(d); err != nil {
			return errResult(err)
		}
		return Result{Int: d.size}
	}
}
