package kv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// Lists: one 's' record per element (collection.go), whose field is the
// element's position, 8 bytes big-endian, and whose value is the element.
// A list's metadata holds its head, the position of its first element:
// element i is at head+i. A new list's head is listStart, the middle of
// the positions, so LPUSH takes the positions below the head and RPUSH
// those above the tail: LINDEX, LSET, pushes and pops touch only the
// elements they read or write, LRANGE is a range scan. Edits in the middle
// (LINSERT, LREM) rewrite the elements after the edit point, O(N) as in
// Redis. 2^63 pushes at one end of a list that never empties would run out
// of positions; applyPush refuses a push past the end of them.

// List ops, 72-87 (values are part of the log format: never renumber them).
const (
	OpLPush   Op = 72 // Args: key, elements...; Int: ListPushX or 0; Result.Int: the new length
	OpRPush   Op = 73 // as OpLPush, at the tail
	OpLPop    Op = 74 // Args: key; Int: count; Result.Array: the elements; Null: no such key
	OpRPop    Op = 75 // as OpLPop, from the tail (the elements tail first)
	OpLSet    Op = 76 // Args: key, index (decimal), element
	OpLTrim   Op = 77 // Args: key, start, stop (decimal)
	OpLRem    Op = 78 // Args: key, element; Int: count; Result.Int: elements removed
	OpLInsert Op = 79 // Args: key, pivot, element; Int: ListAfter or 0; Result.Int: the new length, -1, 0
	OpLMove   Op = 80 // Args: src, dst; Int: ListFromRight|ListToRight; Result.Value: the element; Null: none
	OpLMPop   Op = 81 // Args: "L" or "R", keys...; Int: count; Result.Value: the key, Array: the elements; Null: none
)

// Flags of the list ops' Int operand.
const (
	ListPushX     = 1 // OpLPush, OpRPush: only onto an existing list
	ListAfter     = 1 // OpLInsert: after the pivot
	ListFromRight = 1 // OpLMove: pop the source's tail
	ListToRight   = 2 // OpLMove: push at the destination's tail
)

var listOps = map[Op]opDef{
	OpLPush:   {name: "lpush", apply: applyPush(false), args: argSpec{2, -1, false}, check: checkFlags(ListPushX)},
	OpRPush:   {name: "rpush", apply: applyPush(true), args: argSpec{2, -1, false}, check: checkFlags(ListPushX)},
	OpLPop:    {name: "lpop", apply: applyPop(false), args: argSpec{1, 1, false}, check: checkCount},
	OpRPop:    {name: "rpop", apply: applyPop(true), args: argSpec{1, 1, false}, check: checkCount},
	OpLSet:    {name: "lset", apply: applyLSet, args: argSpec{3, 3, false}},
	OpLTrim:   {name: "ltrim", apply: applyLTrim, args: argSpec{3, 3, false}, check: checkLTrim},
	OpLRem:    {name: "lrem", apply: applyLRem, args: argSpec{2, 2, false}},
	OpLInsert: {name: "linsert", apply: applyLInsert, args: argSpec{3, 3, false}, check: checkFlags(ListAfter)},
	OpLMove:   {name: "lmove", apply: applyLMove, args: argSpec{2, 2, false}, check: checkFlags(ListFromRight | ListToRight)},
	OpLMPop:   {name: "lmpop", apply: applyLMPop, args: argSpec{2, -1, false}, check: checkLMPop},
}

// listStart is a new list's head.
const listStart = 1 << 63

// Replies of the list ops that fail.
var (
	ErrListIndex    = ReplyError("ERR index out of range")
	errListTooLarge = ReplyError("ERR list has no position left at this end")
)

func checkFlags(mask int64) func(c *Command) error {
	return func(c *Command) error {
		if c.Int&^mask != 0 {
			return badEntry(c, "flags %d", c.Int)
		}
		return nil
	}
}

func checkCount(c *Command) error {
	if c.Int < 0 {
		return badEntry(c, "count %d", c.Int)
	}
	return nil
}

func checkLTrim(c *Command) error {
	for _, a := range c.Args[1:] {
		if _, err := ParseInt(a); err != nil {
			return badEntry(c, "bound %q", a)
		}
	}
	return nil
}

func checkLMPop(c *Command) error {
	if d := string(c.Args[0]); d != "L" && d != "R" {
		return badEntry(c, "direction %q", d)
	}
	if c.Int < 1 {
		return badEntry(c, "count %d", c.Int)
	}
	return nil
}

// position is the field of the element record at list position p.
func position(p uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), p) }

// ListIndex returns element i of list c, counted from the head (negative:
// from the tail, -1 the last); ok is false when there is none.
func (c *Coll) ListIndex(i int64) ([]byte, bool, error) {
	if i < 0 {
		i += c.size
	}
	if i < 0 || i >= c.size {
		return nil, false, nil
	}
	return c.Get(position(c.head + uint64(i)))
}

// ListBounds clamps LRANGE's (and LTRIM's) start and stop to list
// indexes, as Redis does (negative ones count from the tail); ok is false
// when the range is empty.
func ListBounds(start, stop, size int64) (int64, int64, bool) {
	if start < 0 {
		start += size
	}
	if stop < 0 {
		stop += size
	}
	start = max(start, 0)
	if start > stop || start >= size {
		return 0, 0, false
	}
	return start, min(stop, size-1), true
}

// ListRange calls fn with the elements at indexes start to stop (within
// the list, start <= stop; reverse: from stop down to start) and their
// indexes, until fn returns false. v is valid only during the call.
func (c *Coll) ListRange(start, stop int64, reverse bool, fn func(i int64, v []byte) bool) error {
	from, i, step := start, start, int64(1)
	if reverse {
		from, i, step = stop, stop, -1
	}
	var bad error
	err := c.Scan(position(c.head+uint64(from)), reverse, func(field, v []byte) bool {
		if len(field) != 8 || binary.BigEndian.Uint64(field) != c.head+uint64(i) {
			bad = fmt.Errorf("raftkv: list %q: element at index %d missing", c.key, i)
			return false
		}
		ok := fn(i, v)
		i += step
		return ok && i >= start && i <= stop
	})
	if err == nil {
		err = bad
	}
	return err
}

// listValues returns the elements of list c from index from to its end.
func listValues(c *Coll, from int64) ([][]byte, error) {
	if from >= c.size {
		return nil, nil
	}
	out := make([][]byte, 0, c.size-from)
	err := c.ListRange(from, c.size-1, false, func(_ int64, v []byte) bool {
		out = append(out, bytes.Clone(v))
		return true
	})
	return out, err
}

// hasRoom reports whether n elements fit at the head (or, right, the
// tail) of list c: an op checks before it writes anything, so that one
// refused applies nothing.
func hasRoom(c *Coll, right bool, n int) bool {
	if right {
		return math.MaxUint64-c.head >= uint64(c.size)+uint64(n)-1
	}
	return c.head >= uint64(n)
}

// listPush adds v at the head (or, right, the tail) of list c, which has
// room for it.
func (t *txn) listPush(c *Coll, right bool, v []byte) {
	if right {
		t.putElem(c, position(c.head+uint64(c.size)), v)
	} else {
		c.head--
		t.putElem(c, position(c.head), v)
	}
	c.size++
}

// listPop removes and returns the head (or, right, the tail) of list c,
// which has an element.
func (t *txn) listPop(c *Coll, right bool) ([]byte, error) {
	p := c.head
	if right {
		p += uint64(c.size - 1)
	}
	v, ok, err := c.Get(position(p))
	if err != nil {
		return nil, t.failf("%w", err)
	}
	if !ok {
		return nil, t.failf("list %q: element at position %d missing", c.key, p)
	}
	v = bytes.Clone(v)
	t.delElem(c, position(p))
	if !right {
		c.head++
	}
	c.size--
	return v, nil
}

// rewriteFrom replaces the elements of list c from index from on with
// tail, deleting the positions left over at the end.
func (t *txn) rewriteFrom(c *Coll, from int64, tail [][]byte) {
	for j, v := range tail {
		t.putElem(c, position(c.head+uint64(from)+uint64(j)), v)
	}
	n := from + int64(len(tail))
	for i := n; i < c.size; i++ {
		t.delElem(c, position(c.head+uint64(i)))
	}
	c.size = n
}

// applyPush is LPUSH, RPUSH (right) and their X forms: Args key,
// elements..., pushed one after the other. Result.Int: the list's length
// (0 for the X forms on a missing key).
func applyPush(right bool) applyFunc {
	return func(tx *txn, c *Command) Result {
		var l *Coll
		var err error
		if c.Int&ListPushX != 0 {
			var ok bool
			if l, ok, err = tx.getColl(c.Args[0], typeList); err != nil || !ok {
				return Result{Err: err}
			}
		} else if l, err = tx.getOrNewColl(c.Args[0], typeList); err != nil {
			return errResult(err)
		}
		if !hasRoom(l, right, len(c.Args)-1) {
			return errResult(errListTooLarge)
		}
		for _, v := range c.Args[1:] {
			tx.listPush(l, right, v)
		}
		if err := tx.saveColl(l); err != nil {
			return errResult(err)
		}
		return Result{Int: l.size}
	}
}

// applyPop is LPOP and RPOP (right): Args key; Int the count. Result.Array:
// up to count elements in the order popped; Null for a missing key.
func applyPop(right bool) applyFunc {
	return func(tx *txn, c *Command) Result {
		l, ok, err := tx.getColl(c.Args[0], typeList)
		if err != nil {
			return errResult(err)
		}
		if !ok {
			return Result{Null: true}
		}
		out, err := tx.popN(l, right, c.Int)
		if err != nil {
			return errResult(err)
		}
		return Result{Array: out}
	}
}

// popN pops up to n elements off list l and saves it.
func (t *txn) popN(l *Coll, right bool, n int64) ([]Result, error) {
	out := make([]Result, 0, min(n, l.size))
	for int64(len(out)) < n && l.size > 0 {
		v, err := t.listPop(l, right)
		if err != nil {
			return nil, err
		}
		out = append(out, bulk(v))
	}
	if len(out) > 0 {
		if err := t.saveColl(l); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// applyLSet: Args key, index, element. As Redis (t_list.c lsetCommand),
// in this order: a missing key is ErrNoSuchKey, then the type, then an
// index that is not an integer ErrNotInteger (so the index is parsed
// here, not by the proposer), one outside the list ErrListIndex.
func applyLSet(tx *txn, c *Command) Result {
	l, ok, err := tx.getColl(c.Args[0], typeList)
	if err != nil {
		return errResult(err)
	}
	if !ok {
		return errResult(ErrNoSuchKey)
	}
	i, err := ParseInt(c.Args[1])
	if err != nil {
		return errResult(ErrNotInteger)
	}
	if i < 0 {
		i += l.size
	}
	if i < 0 || i >= l.size {
		return errResult(ErrListIndex)
	}
	tx.putElem(l, position(l.head+uint64(i)), c.Args[2])
	if err := tx.saveColl(l); err != nil {
		return errResult(err)
	}
	return Result{}
}

// applyLTrim: Args key, start, stop. Deletes the elements outside the
// range (the whole list when it is empty: the metadata alone).
func applyLTrim(tx *txn, c *Command) Result {
	l, ok, err := tx.getColl(c.Args[0], typeList)
	if err != nil || !ok {
		return Result{Err: err}
	}
	start, _ := ParseInt(c.Args[1]) // checkLTrim
	stop, _ := ParseInt(c.Args[2])
	start, stop, ok = ListBounds(start, stop, l.size)
	if !ok {
		l.size = 0 // the metadata alone goes
		if err := tx.saveColl(l); err != nil {
			return errResult(err)
		}
		return Result{}
	}
	// Saved even when nothing is trimmed: Redis signals the key modified.
	for i := range start {
		tx.delElem(l, position(l.head+uint64(i)))
	}
	for i := stop + 1; i < l.size; i++ {
		tx.delElem(l, position(l.head+uint64(i)))
	}
	l.head += uint64(start)
	l.size = stop - start + 1
	if err := tx.saveColl(l); err != nil {
		return errResult(err)
	}
	return Result{}
}

// applyLRem: Args key, element; Int the count: remove the first count
// elements equal to element (negative: the last -count; 0: all).
// Result.Int: how many were removed. The elements after the first one
// removed are rewritten.
func applyLRem(tx *txn, c *Command) Result {
	l, ok, err := tx.getColl(c.Args[0], typeList)
	if err != nil || !ok {
		return Result{Err: err}
	}
	vals, err := listValues(l, 0)
	if err != nil {
		return errResult(tx.failf("%w", err))
	}
	drop := make([]bool, len(vals))
	limit, removed := c.Int, int64(0)
	if limit < 0 {
		limit = -limit // minInt64 stays negative: no limit, as 0
	}
	for j := range vals {
		i := j
		if c.Int < 0 {
			i = len(vals) - 1 - j
		}
		if limit > 0 && removed == limit {
			break
		}
		if bytes.Equal(vals[i], c.Args[1]) {
			drop[i] = true
			removed++
		}
	}
	if removed == 0 {
		return Result{}
	}
	first := int64(-1)
	var tail [][]byte
	for i, v := range vals {
		if drop[i] && first < 0 {
			first = int64(i)
		}
		if first >= 0 && !drop[i] {
			tail = append(tail, v)
		}
	}
	tx.rewriteFrom(l, first, tail)
	if err := tx.saveColl(l); err != nil {
		return errResult(err)
	}
	return Result{Int: removed}
}

// applyLInsert: Args key, pivot, element; Int ListAfter or 0 (before).
// Result.Int: the new length; -1 when the pivot is not in the list, 0 for
// a missing key. The elements after the insertion point are rewritten.
func applyLInsert(tx *txn, c *Command) Result {
	l, ok, err := tx.getColl(c.Args[0], typeList)
	if err != nil || !ok {
		return Result{Err: err}
	}
	at := int64(-1)
	err = l.ListRange(0, l.size-1, false, func(i int64, v []byte) bool {
		if bytes.Equal(v, c.Args[1]) {
			at = i
			return false
		}
		return true
	})
	if err != nil {
		return errResult(tx.failf("%w", err))
	}
	if at < 0 {
		return Result{Int: -1}
	}
	if c.Int&ListAfter != 0 {
		at++
	}
	rest, err := listValues(l, at)
	if err != nil {
		return errResult(tx.failf("%w", err))
	}
	if !hasRoom(l, true, 1) {
		return errResult(errListTooLarge)
	}
	tx.rewriteFrom(l, at, append([][]byte{c.Args[2]}, rest...))
	if err := tx.saveColl(l); err != nil {
		return errResult(err)
	}
	return Result{Int: l.size}
}

// applyLMove is LMOVE and RPOPLPUSH: Args src, dst; Int where to pop and
// push. Result.Value: the element moved; Null when src is missing. As
// Redis (t_list.c lmoveGenericCommand): src is checked first, then dst's
// type; a move onto the same list rotates it.
func applyLMove(tx *txn, c *Command) Result {
	src, ok, err := tx.getColl(c.Args[0], typeList)
	if err != nil {
		return errResult(err)
	}
	if !ok {
		return Result{Null: true}
	}
	dst := src
	if !bytes.Equal(c.Args[0], c.Args[1]) {
		if dst, err = tx.getOrNewColl(c.Args[1], typeList); err != nil {
			return errResult(err)
		}
	}
	if !hasRoom(dst, c.Int&ListToRight != 0, 1) {
		return errResult(errListTooLarge)
	}
	v, err := tx.listPop(src, c.Int&ListFromRight != 0)
	if err != nil {
		return errResult(err)
	}
	if dst != src {
		if err := tx.saveColl(src); err != nil {
			return errResult(err)
		}
	}
	tx.listPush(dst, c.Int&ListToRight != 0, v)
	if err := tx.saveColl(dst); err != nil {
		return errResult(err)
	}
	return Result{Value: v}
}

// applyLMPop: Args "L" or "R", keys...; Int the count. Pops up to count
// elements off the first key that holds a list. Result.Value: that key,
// Array: the elements; Null when no key holds one. As Redis (t_list.c
// mpopGenericCommand), a key of another type before it is ErrWrongType.
func applyLMPop(tx *txn, c *Command) Result {
	right := string(c.Args[0]) == "R"
	for _, k := range c.Args[1:] {
		l, ok, err := tx.getColl(k, typeList)
		if err != nil {
			return errResult(err)
		}
		if !ok {
			continue
		}
		out, err := tx.popN(l, right, c.Int)
		if err != nil {
			return errResult(err)
		}
		return Result{Value: bytes.Clone(k), Array: out}
	}
	return Result{Null: true}
}
