package resp

import (
	"fmt"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// Sorted set combinations (t_zset.c zunionInterDiffGenericCommand and
// zinterCardCommand). ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE are kv's
// OpZStore; ZUNION, ZINTER, ZDIFF and ZINTERCARD read every source through
// one consistent View. Sources are sorted sets or sets (members score 1).
// As Redis: numkeys is checked first, then every source is looked up
// (WRONGTYPE), and only then are the options parsed.

func zsetStoreCommands() []*command {
	return []*command{
		{name: "zunion", arity: -3, flags: flagReadonly, numkeysAt: 1, group: "sorted-set", summary: "Returns the union of sorted sets.", run: cmdZCombine("zunion", kv.CombineUnion), keys: combineKeys(1, false)},
		{name: "zinter", arity: -3, flags: flagReadonly, numkeysAt: 1, group: "sorted-set", summary: "Returns the intersection of sorted sets.", run: cmdZCombine("zinter", kv.CombineInter), keys: combineKeys(1, false)},
		{name: "zdiff", arity: -3, flags: flagReadonly, numkeysAt: 1, group: "sorted-set", summary: "Returns the difference between sorted sets.", run: cmdZCombine("zdiff", kv.CombineDiff), keys: combineKeys(1, false)},
		{name: "zintercard", arity: -3, flags: flagReadonly, numkeysAt: 1, group: "sorted-set", summary: "Returns the number of members of the intersection of sorted sets.", run: cmdZInterCard, keys: combineKeys(1, false)},
		{name: "zunionstore", arity: -4, flags: flagWrite, numkeysAt: 2, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Stores the union of sorted sets in a key.", build: buildZStore("zunionstore", kv.CombineUnion), keys: combineKeys(2, true)},
		{name: "zinterstore", arity: -4, flags: flagWrite, numkeysAt: 2, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Stores the intersection of sorted sets in a key.", build: buildZStore("zinterstore", kv.CombineInter), keys: combineKeys(2, true)},
		{name: "zdiffstore", arity: -4, flags: flagWrite, numkeysAt: 2, firstKey: 1, lastKey: 1, step: 1, group: "sorted-set", summary: "Stores the difference between sorted sets in a key.", build: buildZStore("zdiffstore", kv.CombineDiff), keys: combineKeys(2, true)},
	}
}

// combineKeys returns the keys of a combination whose numkeys is args[at]
// (a store's destination is args[1]), in the order of Redis 7.0's COMMAND
// GETKEYS: from the key specs when numkeys is an integer that fits the
// arguments (the destination first); else from genericGetKeys, which
// reads numkeys as atoi does (the destination last). A count below 1 or
// past the arguments names no key.
func combineKeys(at int, store bool) func(args [][]byte) [][]byte {
	return func(args [][]byte) [][]byte {
		if at >= len(args) {
			return nil
		}
		avail := int64(len(args) - at - 1)
		n, err := kv.ParseInt(args[at])
		specs := err == nil && n >= 1 && n <= avail
		if !specs {
			n = atoi(args[at])
		}
		if n < 1 || n > avail {
			return nil
		}
		var keys [][]byte
		if store && specs {
			keys = append(keys, args[1])
		}
		keys = append(keys, args[at+1:at+1+int(n)]...)
		if store && !specs {
			keys = append(keys, args[1])
		}
		return keys
	}
}

// atoi reads b as C's atoi does: leading spaces, a sign, then digits up
// to the first other byte (saturating instead of overflowing).
func atoi(b []byte) int64 {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var n int64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = min(n*10+int64(b[i]-'0'), 1<<40)
	}
	if neg {
		return -n
	}
	return n
}

// combineArgs is a parsed combination command.
type combineArgs struct {
	keys       [][]byte
	z          kv.ZCombination
	weightArgs [][]byte // the weights as the client sent them
	withScores bool
	limit      int64 // ZINTERCARD's LIMIT (0: none)
	// optErr is an error in the options: Redis replies with it only if
	// every source is a set, a sorted set or missing.
	optErr error
}

// parseCombine parses the numkeys argument at args[at], the keys after it
// and the options of a combination of kind: WEIGHTS and AGGREGATE (not
// for a difference), WITHSCORES (not for a store), LIMIT (only for
// ZINTERCARD: card). The error is numkeys's; an option's is in optErr.
func parseCombine(name string, args [][]byte, at, kind int, store, card bool) (combineArgs, error) {
	p := combineArgs{z: kv.ZCombination{Kind: kind}}
	n, err := kv.ParseInt(args[at])
	switch {
	case err != nil:
		return p, errNotInteger
	case n < 1:
		return p, redisError(fmt.Sprintf("ERR at least 1 input key is needed for '%s' command", name))
	case n > int64(len(args)-at-1):
		return p, errSyntax
	}
	p.keys = args[at+1 : at+1+int(n)]
	opts := kind != kv.CombineDiff && !card // WEIGHTS and AGGREGATE
	for rest := args[at+1+int(n):]; len(rest) > 0; {
		switch {
		case opts && len(rest) > len(p.keys) && equalFold(rest[0], "weights"):
			p.weightArgs = rest[1 : 1+len(p.keys)]
			p.z.Weights = make([]float64, len(p.keys))
			for i, w := range p.weightArgs {
				f, ok := kv.ParseScore(w)
				if !ok {
					p.optErr = redisError("ERR weight value is not a float")
					return p, nil
				}
				p.z.Weights[i] = f
			}
			rest = rest[1+len(p.keys):]
		case opts && len(rest) >= 2 && equalFold(rest[0], "aggregate"):
			switch {
			case equalFold(rest[1], "sum"):
				p.z.Aggregate = kv.CombineSum
			case equalFold(rest[1], "min"):
				p.z.Aggregate = kv.CombineMin
			case equalFold(rest[1], "max"):
				p.z.Aggregate = kv.CombineMax
			default:
				p.optErr = errSyntax
				return p, nil
			}
			rest = rest[2:]
		case !store && !card && equalFold(rest[0], "withscores"):
			p.withScores = true
			rest = rest[1:]
		case card && len(rest) >= 2 && equalFold(rest[0], "limit"):
			l, err := kv.ParseInt(rest[1])
			if err != nil || l < 0 {
				p.optErr = redisError("ERR LIMIT can't be negative")
				return p, nil
			}
			p.limit = l
			rest = rest[2:]
		default:
			p.optErr = errSyntax
			return p, nil
		}
	}
	return p, nil
}

// Reference: https://redis.io/docs/latest/commands/zunionstore/,
// zinterstore/ and zdiffstore/. An error in the options still proposes
// the op, which looks the sources up and then fails with it (Redis's
// order: WRONGTYPE first).
func buildZStore(name string, kind int) func(*session, [][]byte) (*kv.Command, replyFunc, error) {
	return func(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
		p, err := parseCombine(name, args, 2, kind, true, false)
		if err != nil {
			return nil, nil, err
		}
		c := &kv.Command{Op: kv.OpZStore, Int: int64(kind), Args: append([][]byte{args[1]}, p.keys...)}
		switch {
		case p.optErr == errSyntax:
			c.Int |= kv.CombineFailSyntax
		case p.optErr != nil:
			c.Int |= kv.CombineFailWeight
		default:
			c.Int |= int64(p.z.Aggregate)
			if p.weightArgs != nil {
				c.Int |= kv.CombineWeights
				c.Args = append(c.Args, p.weightArgs...)
			}
		}
		return c, replyInt, nil
	}
}

// combineSources looks every key up in v: nil for a missing key,
// WRONGTYPE for a key that is neither a set nor a sorted set.
func (s *session) combineSources(v *kv.View, keys [][]byte) ([]*kv.Coll, error) {
	srcs := make([]*kv.Coll, len(keys))
	for i, k := range keys {
		c, err := v.CombineSource(k, s.now)
		if err != nil {
			return nil, err
		}
		srcs[i] = c
	}
	return srcs, nil
}

// Reference: https://redis.io/docs/latest/commands/zunion/, zinter/ and
// zdiff/. WITHSCORES replies member, score pairs: flat in RESP2, as
// two-element arrays in RESP3 (Redis keeps the order, so no map).
func cmdZCombine(name string, kind int) func(*session, [][]byte) {
	return func(s *session, args [][]byte) {
		p, err := parseCombine(name, args, 1, kind, false, false)
		if err != nil {
			s.writeErr(err)
			return
		}
		var members []kv.ZMember
		err = s.readConsistent(func(v *kv.View) error {
			srcs, err := s.combineSources(v, p.keys)
			if err != nil {
				return err
			}
			if p.optErr != nil {
				return p.optErr
			}
			members, err = p.z.Members(srcs)
			return err
		})
		if err != nil {
			s.writeErr(err)
			return
		}
		// Computed scores: a -0 is replied as it is, as Redis does.
		s.appendZPairs(members, p.withScores, func(f float64) { s.out = respwire.AppendDouble(s.out, f, s.proto) })
	}
}

// Reference: https://redis.io/docs/latest/commands/zintercard/
func cmdZInterCard(s *session, args [][]byte) {
	p, err := parseCombine("zintercard", args, 1, kv.CombineInter, false, true)
	if err != nil {
		s.writeErr(err)
		return
	}
	var n int64
	err = s.readConsistent(func(v *kv.View) error {
		srcs, err := s.combineSources(v, p.keys)
		if err != nil {
			return err
		}
		if p.optErr != nil {
			return p.optErr
		}
		n, err = kv.ZInterCard(srcs, p.limit)
		return err
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendInt(s.out, n)
}
