package kv

import (
	"strconv"
)

// Hashes: one 's' record per field, whose value is the field's value
// (collection.go). Every op reads the live key (ErrWrongType for another
// type), creates the hash when it adds the first field and deletes it when
// it removes the last.

// Hash ops. The collection families number their ops in their files
// (values are part of the log format: never renumber them): 28-35 are
// the hashes', 36-47 the sets' (set.go), 48-63 the sorted sets'
// (zset.go), 64-71 the sorted set combinations' (zsetstore.go), 72-87
// the lists' (list.go), 88-95 the bit commands' (bits.go).
const (
	OpHSet         Op = 28
	OpHDel         Op = 29
	OpHIncrBy      Op = 30
	OpHIncrByFloat Op = 31
)

var hashOps = map[Op]opDef{
	OpHSet:         {name: "hset", apply: applyHSet, args: argSpec{3, -1, false}, check: checkHSet},
	OpHDel:         {name: "hdel", apply: applyHDel, args: argSpec{2, -1, false}},
	OpHIncrBy:      {name: "hincrby", apply: applyHIncrBy, args: argSpec{2, 2, false}},
	OpHIncrByFloat: {name: "hincrbyfloat", apply: applyHIncrByFloat, args: argSpec{3, 3, false}, check: checkHIncrByFloat},
}

// HSET options: Command.Int of OpHSet.
const (
	HSetNX = 1 // HSETNX: set the one field only if it does not exist
)

// Errors of the hash commands, with Redis's text.
var (
	errHashNotInteger = ReplyError("ERR hash value is not an integer")
	errHashNotFloat   = ReplyError("ERR hash value is not a float")
)

func checkHSet(c *Command) error {
	if len(c.Args)%2 != 1 {
		return badEntry(c, "%d arguments", len(c.Args))
	}
	if c.Int != 0 && (c.Int != HSetNX || len(c.Args) != 3) {
		return badEntry(c, "options %#x with %d arguments", c.Int, len(c.Args))
	}
	return nil
}

func checkHIncrByFloat(c *Command) error {
	if _, ok := parseLongDouble(c.Args[2]); !ok {
		return badEntry(c, "increment %q", c.Args[2])
	}
	return nil
}

// applyHSet: Args key, field, value, field, value...; Int HSetNX for
// HSETNX. Result.Int: the number of fields added (HSETNX: 1 if set).
func applyHSet(tx *txn, c *Command) Result {
	h, err := tx.getOrNewColl(c.Args[0], typeHash)
	if err != nil {
		return errResult(err)
	}
	var added int64
	for i := 1; i < len(c.Args); i += 2 {
		field, val := c.Args[i], c.Args[i+1]
		had, err := h.Has(field)
		if err != nil {
			return errResult(tx.failf("%w", err))
		}
		if had && c.Int == HSetNX {
			return Result{Int: 0}
		}
		if !had {
			added++
			h.size++
		}
		tx.putElem(h, field, val)
	}
	if err := tx.saveColl(h); err != nil {
		return errResult(err)
	}
	return Result{Int: added}
}

// applyHDel: Args key, fields... Result.Int: the number of fields removed.
func applyHDel(tx *txn, c *Command) Result {
	h, ok, err := tx.getColl(c.Args[0], typeHash)
	if err != nil || !ok {
		return Result{Err: err}
	}
	var n int64
	for _, field := range c.Args[1:] {
		had, err := h.Has(field)
		if err != nil {
			return errResult(tx.failf("%w", err))
		}
		if had {
			tx.delElem(h, field)
			h.size--
			n++
		}
	}
	if n == 0 {
		return Result{}
	}
	if err := tx.saveColl(h); err != nil {
		return errResult(err)
	}
	return Result{Int: n}
}

// hashField returns the hash at key (a new one if there is none) and the
// value of its field.
func hashField(tx *txn, key, field []byte) (*Coll, []byte, bool, error) {
	h, err := tx.getOrNewColl(key, typeHash)
	if err != nil {
		return nil, nil, false, err
	}
	v, ok, err := h.Get(field)
	if err != nil {
		return nil, nil, false, tx.failf("%w", err)
	}
	return h, v, ok, nil
}

// setField sets field of h to val and saves h.
func setField(tx *txn, h *Coll, field, val []byte, had bool) error {
	if !had {
		h.size++
	}
	tx.putElem(h, field, val)
	return tx.saveColl(h)
}

// applyHIncrBy: Args key, field; Int the increment. Result.Int: the new
// value.
func applyHIncrBy(tx *txn, c *Command) Result {
	h, cur, had, err := hashField(tx, c.Args[0], c.Args[1])
	if err != nil {
		return errResult(err)
	}
	var n int64
	if had {
		if n, err = ParseInt(cur); err != nil {
			return errResult(errHashNotInteger)
		}
	}
	if (c.Int > 0 && n > maxInt64-c.Int) || (c.Int < 0 && n < minInt64-c.Int) {
		return errResult(ErrOverflow)
	}
	n += c.Int
	if err := setField(tx, h, c.Args[1], strconv.AppendInt(nil, n, 10), had); err != nil {
		return errResult(err)
	}
	return Result{Int: n}
}

// applyHIncrByFloat: Args key, field, increment (as the client sent it).
// Result.Value: the new value, formatted as INCRBYFLOAT's.
func applyHIncrByFloat(tx *txn, c *Command) Result {
	h, cur, had, err := hashField(tx, c.Args[0], c.Args[1])
	if err != nil {
		return errResult(err)
	}
	if !had {
		cur = []byte("0")
	} else if _, ok := parseLongDouble(cur); !ok {
		return errResult(errHashNotFloat)
	}
	sum, err := addLongDouble(cur, c.Args[2])
	if err != nil {
		return errResult(err)
	}
	if err := setField(tx, h, c.Args[1], sum, had); err != nil {
		return errResult(err)
	}
	return bulk(sum)
}
