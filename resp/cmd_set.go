package resp

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// Set commands (t_set.c). Writes are kv's OpSAdd, OpSRem, OpSMove, OpSPop
// and the STORE ops; reads walk the sets' members through a View, several
// sets in one consistent view. Redis leaves the order of a set's members
// unspecified; riot replies in member byte order. In RESP3, SMEMBERS,
// SINTER, SUNION, SDIFF and SPOP with a count reply a set, as Redis 7.0.

func setCommands() []*command {
	return []*command{
		{name: "sadd", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "set", summary: "Adds members to a set, creating it if needed.", build: buildSetOp(kv.OpSAdd)},
		{name: "srem", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "set", summary: "Removes members from a set.", build: buildSetOp(kv.OpSRem)},
		{name: "scard", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "set", summary: "Returns the number of members of a set.", run: cmdCollLen(kv.TypeSet)},
		{name: "sismember", arity: 3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "set", summary: "Returns whether a member is in a set.", run: cmdSIsMember},
		{name: "smismember", arity: -3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "set", summary: "Returns whether each of several members is in a set.", run: cmdSMIsMember},
		{name: "smembers", arity: 2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "set", summary: "Returns every member of a set.", run: cmdSetCombine(kv.SetInter)},
		{name: "spop", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "set", summary: "Removes and returns random members of a set.", build: buildSPop},
		{name: "srandmember", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "set", summary: "Returns random members of a set.", run: cmdRandomMembers(kv.TypeSet, "")},
		{name: "smove", arity: 4, flags: flagWrite | flagFast, firstKey: 1, lastKey: 2, step: 1, group: "set", summary: "Moves a member from one set to another.", build: buildSetOp(kv.OpSMove)},
		{name: "sinter", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: -1, step: 1, group: "set", summary: "Returns the intersection of sets.", run: cmdSetCombine(kv.SetInter)},
		{name: "sintercard", arity: -3, flags: flagReadonly, numkeysAt: 1, group: "set", summary: "Returns the size of the intersection of sets, counting up to a limit.", run: cmdSInterCard, keys: sinterCardKeys},
		{name: "sinterstore", arity: -3, flags: flagWrite, firstKey: 1, lastKey: -1, step: 1, group: "set", summary: "Stores the intersection of sets in a key.", build: buildSetOp(kv.OpSInterStore)},
		{name: "sunion", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: -1, step: 1, group: "set", summary: "Returns the union of sets.", run: cmdSetCombine(kv.SetUnion)},
		{name: "sunionstore", arity: -3, flags: flagWrite, firstKey: 1, lastKey: -1, step: 1, group: "set", summary: "Stores the union of sets in a key.", build: buildSetOp(kv.OpSUnionStore)},
		{name: "sdiff", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: -1, step: 1, group: "set", summary: "Returns the members of a set in none of the others.", run: cmdSetCombine(kv.SetDiff)},
		{name: "sdiffstore", arity: -3, flags: flagWrite, firstKey: 1, lastKey: -1, step: 1, group: "set", summary: "Stores the difference of sets in a key.", build: buildSetOp(kv.OpSDiffStore)},
		{name: "sscan", arity: -3, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "set", summary: "Iterates over the members of a set.", run: cmdCollScan(kv.TypeSet)},
	}
}

// buildSetOp is SADD, SREM, SMOVE and the STORE commands: the op takes the
// arguments as they are and its Result.Int is the reply.
//
// Reference: https://redis.io/docs/latest/commands/sadd/,
// https://redis.io/docs/latest/commands/srem/,
// https://redis.io/docs/latest/commands/smove/ (a missing source is 0
// whatever the destination holds), and
// https://redis.io/docs/latest/commands/sinterstore/ (the result replaces
// the destination, whatever its type; an empty one deletes it)
func buildSetOp(op kv.Op) func(*session, [][]byte) (*kv.Command, replyFunc, error) {
	return func(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
		return &kv.Command{Op: op, Args: args[1:]}, replyInt, nil
	}
}

// errPositive is the reply to a count SPOP refuses: a negative one, or not
// an integer (t_set.c getPositiveLongFromObjectOrReply).
const errPositive = redisError("ERR value is out of range, must be positive")

// Reference: https://redis.io/docs/latest/commands/spop/ (without a count:
// a member or null; with one: a set, empty for count 0 or a missing key).
// The proposer draws the seed the members are picked with, so that every
// replica removes the same ones.
func buildSPop(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	count, reply := int64(1), replySPopOne
	switch len(args) {
	case 2:
	case 3:
		n, err := kv.ParseInt(args[2])
		if err != nil || n < 0 {
			return nil, nil, errPositive
		}
		count, reply = n, replySPopMany
	default:
		return nil, nil, errSyntax
	}
	seed := binary.BigEndian.AppendUint64(make([]byte, 0, kv.SPopSeedLen), rand.Uint64())
	return &kv.Command{Op: kv.OpSPop, Args: [][]byte{args[1], seed}, Int: count}, reply, nil
}

func replySPopOne(s *session, r kv.Result) {
	if len(r.Array) == 0 {
		s.out = respwire.AppendNull(s.out, s.proto)
		return
	}
	s.out = respwire.AppendBulk(s.out, r.Array[0].Value)
}

func replySPopMany(s *session, r kv.Result) {
	s.out = respwire.AppendSetLen(s.out, len(r.Array), s.proto)
	for _, m := range r.Array {
		s.out = respwire.AppendBulk(s.out, m.Value)
	}
}

// Reference: https://redis.io/docs/latest/commands/sismember/
func cmdSIsMember(s *session, args [][]byte) {
	var ok bool
	err := s.readColl(args[1], kv.TypeSet, func(c *kv.Coll) (err error) {
		if c != nil {
			ok, err = c.Has(args[2])
		}
		return err
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendInt(s.out, boolInt(ok))
}

// Reference: https://redis.io/docs/latest/commands/smismember/
func cmdSMIsMember(s *session, args [][]byte) {
	members := args[2:]
	in := make([]bool, len(members))
	err := s.readColl(args[1], kv.TypeSet, func(c *kv.Coll) error {
		if c == nil {
			return nil
		}
		for i, m := range members {
			ok, err := c.Has(m)
			if err != nil {
				return err
			}
			in[i] = ok
		}
		return nil
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, len(members))
	for _, ok := range in {
		s.out = respwire.AppendInt(s.out, boolInt(ok))
	}
}

// readSets reads the sets at keys: fn runs with one Coll per key, nil for
// a missing one. Several keys are read in one consistent view. A key of
// another type is ErrWrongType, whichever key it is (as Redis, which
// checks every key before it combines them).
func (s *session) readSets(keys [][]byte, fn func(sets []*kv.Coll) error) error {
	read := s.readConsistent
	if len(keys) == 1 {
		read = s.read
	}
	return read(func(v *kv.View) error {
		sets := make([]*kv.Coll, len(keys))
		for i, k := range keys {
			c, ok, err := v.Collection(k, s.now, kv.TypeSet)
			if err != nil {
				return err
			}
			if ok {
				sets[i] = c
			}
		}
		return fn(sets)
	})
}

// cmdSetCombine is SINTER, SUNION or SDIFF of the keys args[1:], and
// SMEMBERS (the intersection of one set): a set reply in RESP3.
//
// Reference: https://redis.io/docs/latest/commands/sinter/ (a missing key
// is an empty set), https://redis.io/docs/latest/commands/sunion/,
// https://redis.io/docs/latest/commands/sdiff/ and
// https://redis.io/docs/latest/commands/smembers/
func cmdSetCombine(op kv.SetOp) func(*session, [][]byte) {
	return func(s *session, args [][]byte) {
		var members [][]byte
		err := s.readSets(args[1:], func(sets []*kv.Coll) error {
			return kv.CombineSets(op, sets, func(m []byte) bool {
				members = append(members, bytes.Clone(m))
				return true
			})
		})
		if err != nil {
			s.writeErr(err)
			return
		}
		s.out = respwire.AppendSetLen(s.out, len(members), s.proto)
		for _, m := range members {
			s.out = respwire.AppendBulk(s.out, m)
		}
	}
}

// sinterCardKeys is SINTERCARD's keys: numkeys of them after numkeys; none
// when numkeys is not a count the arguments hold.
func sinterCardKeys(args [][]byte) [][]byte {
	if len(args) < 3 {
		return nil
	}
	n, err := kv.ParseInt(args[1])
	if err != nil || n < 1 || n > int64(len(args)-2) {
		return nil
	}
	return args[2 : 2+n]
}

// Reference: https://redis.io/docs/latest/commands/sintercard/ (t_set.c
// sinterCardCommand: numkeys, then LIMIT, checked in that order before
// the keys are read; LIMIT 0 is no limit)
func cmdSInterCard(s *session, args [][]byte) {
	numkeys, err := kv.ParseInt(args[1])
	if err != nil || numkeys < 1 {
		s.writeErr(redisError("ERR numkeys should be greater than 0"))
		return
	}
	if numkeys > int64(len(args)-2) {
		s.writeErr(redisError("ERR Number of keys can't be greater than number of args"))
		return
	}
	var limit int64
	for j := 2 + int(numkeys); j < len(args); j++ {
		if !equalFold(args[j], "limit") || j == len(args)-1 {
			s.writeErr(errSyntax)
			return
		}
		j++
		if limit, err = kv.ParseInt(args[j]); err != nil || limit < 0 {
			s.writeErr(redisError("ERR LIMIT can't be negative"))
			return
		}
	}
	var n int64
	err = s.readSets(args[2:2+numkeys], func(sets []*kv.Coll) error {
		return kv.CombineSets(kv.SetInter, sets, func([]byte) bool {
			n++
			return limit == 0 || n < limit
		})
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendInt(s.out, n)
}
