package resp

import (
	"bytes"
	"math"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// List commands (t_list.c), without the blocking ones. Writes are kv's
// list ops (kv/list.go); reads (LLEN, LINDEX, LRANGE, LPOS) walk the
// list's elements through a View. Each command checks its arguments in
// Redis's order: those Redis parses before it looks the key up are
// refused here, the others by the op.

func listCommands() []*command {
	return []*command{
		{name: "lpush", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Prepends elements to a list, creating it if needed.", build: buildPush(kv.OpLPush, 0)},
		{name: "rpush", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Appends elements to a list, creating it if needed.", build: buildPush(kv.OpRPush, 0)},
		{name: "lpushx", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Prepends elements to a list only when it exists.", build: buildPush(kv.OpLPush, kv.ListPushX)},
		{name: "rpushx", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Appends elements to a list only when it exists.", build: buildPush(kv.OpRPush, kv.ListPushX)},
		{name: "lpop", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Removes and returns the first elements of a list.", build: buildPop("lpop", kv.OpLPop)},
		{name: "rpop", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Removes and returns the last elements of a list.", build: buildPop("rpop", kv.OpRPop)},
		{name: "llen", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Returns the length of a list.", run: cmdCollLen(kv.TypeList)},
		{name: "lindex", arity: 3, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Returns an element of a list by its index.", run: cmdLIndex},
		{name: "lrange", arity: 4, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Returns a range of elements of a list.", run: cmdLRange},
		{name: "lset", arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Sets the element of a list at an index.", build: buildLSet},
		{name: "ltrim", arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Keeps only a range of elements of a list.", build: buildLTrim},
		{name: "lrem", arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Removes elements equal to a value from a list.", build: buildLRem},
		{name: "linsert", arity: 5, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Inserts an element before or after another in a list.", build: buildLInsert},
		{name: "lpos", arity: -3, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: "list", summary: "Returns the indexes of elements equal to a value in a list.", run: cmdLPos},
		{name: "lmove", arity: 5, flags: flagWrite, firstKey: 1, lastKey: 2, step: 1, group: "list", summary: "Pops an element off a list and pushes it onto another.", build: buildLMove},
		{name: "rpoplpush", arity: 3, flags: flagWrite, firstKey: 1, lastKey: 2, step: 1, group: "list", summary: "Pops the last element of a list and prepends it to another.", build: buildRPopLPush},
		{name: "lmpop", arity: -4, flags: flagWrite, numkeysAt: 1, group: "list", summary: "Pops elements off the first non-empty list of several.", build: buildLMPop, keys: zmpopKeys},
	}
}

// Reference: https://redis.io/docs/latest/commands/lpush/,
// https://redis.io/docs/latest/commands/rpush/,
// https://redis.io/docs/latest/commands/lpushx/ and
// https://redis.io/docs/latest/commands/rpushx/ (each element pushed in
// turn: LPUSH a b c leaves c first)
func buildPush(op kv.Op, flags int64) func(*session, [][]byte) (*kv.Command, replyFunc, error) {
	return func(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
		return &kv.Command{Op: op, Args: args[1:], Int: flags}, replyInt, nil
	}
}

// Reference: https://redis.io/docs/latest/commands/lpop/ (t_list.c
// popGenericCommand: more than one argument after the key is the arity
// error; the count, checked before the key, must be a non-negative
// integer; without a count a bulk or null, with one an array, a null
// array for a missing key)
func buildPop(name string, op kv.Op) func(*session, [][]byte) (*kv.Command, replyFunc, error) {
	return func(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
		switch len(args) {
		case 2:
			return &kv.Command{Op: op, Args: args[1:2], Int: 1}, replyPopOne, nil
		case 3:
			n, err := kv.ParseInt(args[2])
			if err != nil || n < 0 {
				return nil, nil, errPositive
			}
			return &kv.Command{Op: op, Args: args[1:2], Int: n}, replyPopMany, nil
		}
		return nil, nil, errArity(name)
	}
}

func replyPopOne(s *session, r kv.Result) {
	if r.Null || len(r.Array) == 0 {
		s.out = respwire.AppendNull(s.out, s.proto)
		return
	}
	s.out = respwire.AppendBulk(s.out, r.Array[0].Value)
}

func replyPopMany(s *session, r kv.Result) {
	if r.Null {
		s.out = respwire.AppendNullArray(s.out, s.proto)
		return
	}
	s.appendBulks(r.Array)
}

func (s *session) appendBulks(a []kv.Result) {
	s.out = respwire.AppendArrayLen(s.out, len(a))
	for _, e := range a {
		s.out = respwire.AppendBulk(s.out, e.Value)
	}
}

// Reference: https://redis.io/docs/latest/commands/lset/ (the index is
// parsed by the op: Redis checks the key first)
func buildLSet(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpLSet, Args: args[1:]}, replyOK, nil
}

// Reference: https://redis.io/docs/latest/commands/ltrim/ (the bounds are
// checked before the key)
func buildLTrim(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	for _, a := range args[2:] {
		if _, err := kv.ParseInt(a); err != nil {
			return nil, nil, errNotInteger
		}
	}
	return &kv.Command{Op: kv.OpLTrim, Args: args[1:]}, replyOK, nil
}

// Reference: https://redis.io/docs/latest/commands/lrem/ (the count is
// checked before the key)
func buildLRem(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	n, err := kv.ParseInt(args[2])
	if err != nil {
		return nil, nil, errNotInteger
	}
	return &kv.Command{Op: kv.OpLRem, Args: [][]byte{args[1], args[3]}, Int: n}, replyInt, nil
}

// Reference: https://redis.io/docs/latest/commands/linsert/ (BEFORE or
// AFTER, checked before the key; -1 when the pivot is not found, 0 for a
// missing key)
func buildLInsert(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	var flags int64
	switch {
	case equalFold(args[2], "before"):
	case equalFold(args[2], "after"):
		flags = kv.ListAfter
	default:
		return nil, nil, errSyntax
	}
	return &kv.Command{Op: kv.OpLInsert, Args: [][]byte{args[1], args[3], args[4]}, Int: flags}, replyInt, nil
}

// listEnd parses LEFT or RIGHT: right is true for RIGHT.
func listEnd(b []byte) (right bool, err error) {
	switch {
	case equalFold(b, "left"):
		return false, nil
	case equalFold(b, "right"):
		return true, nil
	}
	return false, errSyntax
}

// Reference: https://redis.io/docs/latest/commands/lmove/ (a missing
// source is null whatever the destination holds)
func buildLMove(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	from, err := listEnd(args[3])
	if err != nil {
		return nil, nil, err
	}
	to, err := listEnd(args[4])
	if err != nil {
		return nil, nil, err
	}
	var flags int64
	if from {
		flags |= kv.ListFromRight
	}
	if to {
		flags |= kv.ListToRight
	}
	return &kv.Command{Op: kv.OpLMove, Args: args[1:3], Int: flags}, replyBulkOrNull, nil
}

// Reference: https://redis.io/docs/latest/commands/rpoplpush/ (LMOVE src
// dst RIGHT LEFT)
func buildRPopLPush(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpLMove, Args: args[1:3], Int: kv.ListFromRight}, replyBulkOrNull, nil
}

// Reference: https://redis.io/docs/latest/commands/lmpop/ (t_list.c
// lmpopGenericCommand: numkeys key... LEFT|RIGHT [COUNT n]; pops from the
// first key that holds a list; a null array when none does)
func buildLMPop(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	n, err := zmpopNumKeys(args)
	if err != nil {
		return nil, nil, err
	}
	if n >= int64(len(args)-2) { // no room for LEFT|RIGHT after the keys
		return nil, nil, errSyntax
	}
	where := 2 + int(n)
	right, err := listEnd(args[where])
	if err != nil {
		return nil, nil, err
	}
	count, err := parseMPopCount(args, where+1)
	if err != nil {
		return nil, nil, err
	}
	dir := []byte("L")
	if right {
		dir = []byte("R")
	}
	return &kv.Command{Op: kv.OpLMPop, Args: append([][]byte{dir}, args[2:where]...), Int: count}, replyLMPop, nil
}

// replyLMPop replies [key, [element, ...]], or a null array.
func replyLMPop(s *session, r kv.Result) {
	if r.Null {
		s.out = respwire.AppendNullArray(s.out, s.proto)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, 2)
	s.out = respwire.AppendBulk(s.out, r.Value)
	s.appendBulks(r.Array)
}

// Reference: https://redis.io/docs/latest/commands/lindex/ (the key is
// looked up before the index is parsed: a missing key is null whatever
// the index)
func cmdLIndex(s *session, args [][]byte) {
	var val []byte
	var ok bool
	err := s.readColl(args[1], kv.TypeList, func(l *kv.Coll) error {
		if l == nil {
			return nil
		}
		i, err := kv.ParseInt(args[2])
		if err != nil {
			return errNotInteger
		}
		val, ok, err = l.ListIndex(i)
		val = bytes.Clone(val)
		return err
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.appendBulkOrNull(val, ok)
}

// Reference: https://redis.io/docs/latest/commands/lrange/ (the bounds
// are checked before the key)
func cmdLRange(s *session, args [][]byte) {
	start, err1 := kv.ParseInt(args[2])
	stop, err2 := kv.ParseInt(args[3])
	if err1 != nil || err2 != nil {
		s.writeErr(errNotInteger)
		return
	}
	var out [][]byte
	err := s.readColl(args[1], kv.TypeList, func(l *kv.Coll) error {
		if l == nil {
			return nil
		}
		from, to, ok := kv.ListBounds(start, stop, l.Len())
		if !ok {
			return nil
		}
		return l.ListRange(from, to, false, func(_ int64, v []byte) bool {
			out = append(out, bytes.Clone(v))
			return true
		})
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, len(out))
	for _, v := range out {
		s.out = respwire.AppendBulk(s.out, v)
	}
}

// lposArgs are LPOS's options: rank 1 and no count (-1) and no MAXLEN (0)
// unless given.
type lposArgs struct {
	rank, count, maxlen int64
}

// parseLPos parses LPOS's options (t_list.c lposCommand, with its error
// texts).
func parseLPos(args [][]byte) (lposArgs, error) {
	o := lposArgs{rank: 1, count: -1}
	for j := 3; j < len(args); j++ {
		more := j < len(args)-1
		switch {
		case equalFold(args[j], "rank") && more:
			j++
			n, err := kv.ParseInt(args[j])
			if err != nil {
				return o, errNotInteger
			}
			if n == 0 {
				return o, redisError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
			}
			o.rank = n
		case equalFold(args[j], "count") && more:
			j++
			n, err := kv.ParseInt(args[j])
			if err != nil || n < 0 {
				return o, redisError("ERR COUNT can't be negative")
			}
			o.count = n
		case equalFold(args[j], "maxlen") && more:
			j++
			n, err := kv.ParseInt(args[j])
			if err != nil || n < 0 {
				return o, redisError("ERR MAXLEN can't be negative")
			}
			o.maxlen = n
		default:
			return o, errSyntax
		}
	}
	return o, nil
}

// Reference: https://redis.io/docs/latest/commands/lpos/ (the options are
// checked before the key; a negative RANK scans from the tail; COUNT 0 is
// every match; MAXLEN bounds the elements compared). RANK
// -9223372036854775808 is what Redis 7.0's arithmetic makes of it: the
// scan from the tail with every match counted and no COUNT limit.
func cmdLPos(s *session, args [][]byte) {
	o, err := parseLPos(args)
	if err != nil {
		s.writeErr(err)
		return
	}
	reverse, rank, limit := o.rank < 0, o.rank, o.count
	switch {
	case rank == math.MinInt64:
		rank, limit = 1, 0
	case rank < 0:
		rank = -rank
	}
	var found []int64
	err = s.readColl(args[1], kv.TypeList, func(l *kv.Coll) error {
		if l == nil {
			return nil
		}
		var matches, seen int64
		return l.ListRange(0, l.Len()-1, reverse, func(i int64, v []byte) bool {
			if o.maxlen != 0 && seen >= o.maxlen {
				return false
			}
			seen++
			if !bytes.Equal(v, args[2]) {
				return true
			}
			matches++
			if matches < rank {
				return true
			}
			found = append(found, i)
			return o.count != -1 && (limit == 0 || matches-rank+1 < limit)
		})
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	if o.count == -1 {
		if len(found) == 0 {
			s.out = respwire.AppendNull(s.out, s.proto)
			return
		}
		s.out = respwire.AppendInt(s.out, found[0])
		return
	}
	s.out = respwire.AppendArrayLen(s.out, len(found))
	for _, i := range found {
		s.out = respwire.AppendInt(s.out, i)
	}
}
