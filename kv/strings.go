package kv

import (
	"strconv"
)

// String operations. Each reads the live value (a key past its deadline is
// absent, see txn.get), answers ErrWrongType for a key of another type, and
// keeps the key's deadline when it modifies a value in place (APPEND,
// SETRANGE, SETBIT, INCRBY, INCRBYFLOAT), as Redis does.

// SET options: Command.Int of OpSet. An entry with none is a plain SET.
const (
	SetNX      = 1 << 0 // only if the key does not exist
	SetXX      = 1 << 1 // only if the key exists
	SetGet     = 1 << 2 // Result.Value: the old value (Null when none)
	SetKeepTTL = 1 << 3 // keep the key's deadline
)

// GETEX options: Command.Int of OpGetEx. The handler validates the expiry
// argument, but Redis reports a bad one only once the key is known to hold a
// string, so the verdict travels in the entry.
const (
	GetExPersist = 1 << 0 // drop the deadline
	GetExSet     = 1 << 1 // set the deadline to Command.ExpireAt
	GetExBadInt  = 1 << 2 // the expiry was not an integer: ErrNotInteger
	GetExBadTime = 1 << 3 // the expiry was out of range: ErrInvalidExpire
)

// applySet: Args key, value; ExpireAt; Int SET options. With options,
// Result.Int is 1 when the value was written; with SetGet, Result.Value
// holds the old value (Null when there was none); without it, Null marks a
// condition not met. A plain SET's Result is empty.
func applySet(tx *txn, c *Command) Result {
	key, val := c.Args[0], c.Args[1]
	if c.Int == 0 {
		if err := tx.putString(key, val, c.ExpireAt); err != nil {
			return errResult(err)
		}
		return Result{}
	}
	old, found, err := tx.get(key)
	if err != nil {
		return errResult(err)
	}
	var r Result
	if c.Int&SetGet != 0 {
		switch {
		case found && old.typ != typeString:
			return errResult(ErrWrongType)
		case found:
			r = bulk(old.data)
		default:
			r.Null = true
		}
	}
	if (c.Int&SetNX != 0 && found) || (c.Int&SetXX != 0 && !found) {
		if c.Int&SetGet == 0 {
			r.Null = true
		}
		return r
	}
	expireAt := c.ExpireAt
	if c.Int&SetKeepTTL != 0 && found {
		expireAt = old.expireAt
	}
	if err := tx.putString(key, val, expireAt); err != nil {
		return errResult(err)
	}
	r.Int = 1
	return r
}

// applyMSet: Args key, value, key, value...
func applyMSet(tx *txn, c *Command) Result {
	for i := 0; i < len(c.Args); i += 2 {
		if err := tx.putString(c.Args[i], c.Args[i+1], 0); err != nil {
			return errResult(err)
		}
	}
	return Result{}
}

// applyMSetNX: like MSET when none of the keys exists (Result.Int 1), else
// nothing (0).
func applyMSetNX(tx *txn, c *Command) Result {
	for i := 0; i < len(c.Args); i += 2 {
		_, found, err := tx.get(c.Args[i])
		if err != nil {
			return errResult(err)
		}
		if found {
			return Result{Int: 0}
		}
	}
	if r := applyMSet(tx, c); r.Err != nil {
		return r
	}
	return Result{Int: 1}
}

// applyGetDel: Args key. Result.Value: the value, deleted; Null if none.
func applyGetDel(tx *txn, c *Command) Result {
	v, ok, err := tx.getString(c.Args[0])
	if err != nil || !ok {
		return Result{Err: err, Null: err == nil}
	}
	tx.remove(c.Args[0], v)
	return bulk(v.data)
}

// applyGetEx: Args key; Int GETEX options; ExpireAt with GetExSet.
// Result.Value: the value; Null if none.
func applyGetEx(tx *txn, c *Command) Result {
	key := c.Args[0]
	v, ok, err := tx.getString(key)
	if err != nil || !ok {
		return Result{Err: err, Null: err == nil}
	}
	switch {
	case c.Int&GetExBadInt != 0:
		return errResult(ErrNotInteger)
	case c.Int&GetExBadTime != 0:
		return errResult(ErrInvalidExpire)
	}
	r := bulk(v.data)
	switch {
	case c.Int&GetExSet != 0:
		err = tx.putString(key, v.data, c.ExpireAt)
	case c.Int&GetExPersist != 0 && v.expireAt != 0:
		err = tx.putString(key, v.data, 0)
	}
	if err != nil {
		return errResult(err)
	}
	return r
}

// maxLenArg parses the length limit a handler puts in Args[i] (its
// proto-max-bulk-len, which Redis checks string growth against), never
// more than MaxStringBytes whatever the entry says.
func maxLenArg(c *Command, i int) (int64, bool) {
	if len(c.Args) <= i {
		return 0, false
	}
	n, err := ParseInt(c.Args[i])
	return min(n, MaxStringBytes), err == nil && n >= 0
}

// applyAppend: Args key, suffix, max length. Result.Int: the new length.
func applyAppend(tx *txn, c *Command) Result {
	limit, _ := maxLenArg(c, 2)
	key, suffix := c.Args[0], c.Args[1]
	v, found, err := tx.getString(key)
	if err != nil {
		return errResult(err)
	}
	if !found {
		if err := tx.putString(key, suffix, 0); err != nil {
			return errResult(err)
		}
		return Result{Int: int64(len(suffix))}
	}
	if int64(len(v.data))+int64(len(suffix)) > limit {
		return errResult(ErrTooLong)
	}
	data := make([]byte, 0, len(v.data)+len(suffix))
	data = append(append(data, v.data...), suffix...)
	if err := tx.putString(key, data, v.expireAt); err != nil {
		return errResult(err)
	}
	return Result{Int: int64(len(data))}
}

// applySetRange: Args key, value, max length; Int offset (>= 0).
// Result.Int: the new length.
func applySetRange(tx *txn, c *Command) Result {
	limit, _ := maxLenArg(c, 2)
	key, val, off := c.Args[0], c.Args[1], c.Int
	v, _, err := tx.getString(key)
	if err != nil {
		return errResult(err)
	}
	if len(val) == 0 {
		return Result{Int: int64(len(v.data))} // nothing to write, no key created
	}
	if off > limit || int64(len(val)) > limit-off {
		return errResult(ErrTooLong)
	}
	end := int(off) + len(val)
	data := make([]byte, max(end, len(v.data)))
	copy(data, v.data)
	copy(data[off:], val)
	if err := tx.putString(key, data, v.expireAt); err != nil {
		return errResult(err)
	}
	return Result{Int: int64(len(data))}
}

// applySetBit: Args key, bit ("0" or "1"); Int bit offset (bit 0 is the
// most significant bit of the first byte). Result.Int: the bit's old value.
func applySetBit(tx *txn, c *Command) Result {
	key, on := c.Args[0], c.Args[1][0] == '1'
	v, found, err := tx.getString(key)
	if err != nil {
		return errResult(err)
	}
	idx := int(c.Int >> 3)
	data := make([]byte, max(idx+1, len(v.data)))
	copy(data, v.data)
	mask := byte(1) << (7 - uint(c.Int&7))
	old := int64(0)
	if data[idx]&mask != 0 {
		old = 1
	}
	if found && idx < len(v.data) && (old == 1) == on {
		// Nothing changes: no write, as Redis 7 (a WATCH of the key is
		// not invalidated).
		return Result{Int: old}
	}
	if on {
		data[idx] |= mask
	} else {
		data[idx] &^= mask
	}
	if err := tx.putString(key, data, v.expireAt); err != nil {
		return errResult(err)
	}
	return Result{Int: old}
}

// applyIncrBy: Args key; Int delta. Result.Int: the new value.
func applyIncrBy(tx *txn, c *Command) Result {
	v, ok, err := tx.getString(c.Args[0])
	if err != nil {
		return errResult(err)
	}
	var cur int64
	if ok {
		if cur, err = ParseInt(v.data); err != nil {
			return errResult(err)
		}
	}
	if (c.Int > 0 && cur > maxInt64-c.Int) || (c.Int < 0 && cur < minInt64-c.Int) {
		return errResult(ErrOverflow)
	}
	cur += c.Int
	if err := tx.putString(c.Args[0], strconv.AppendInt(nil, cur, 10), v.expireAt); err != nil {
		return errResult(err)
	}
	return Result{Int: cur}
}

// applyIncrByFloat: Args key, increment. Result.Value: the new value as
// Redis formats it. The arithmetic is that of Redis on x86-64 (80-bit long
// double), see float.go.
func applyIncrByFloat(tx *txn, c *Command) Result {
	v, ok, err := tx.getString(c.Args[0])
	if err != nil {
		return errResult(err)
	}
	cur := []byte("0")
	if ok {
		cur = v.data
	}
	sum, err := addLongDouble(cur, c.Args[1])
	if err != nil {
		return errResult(err)
	}
	if err := tx.putString(c.Args[0], sum, v.expireAt); err != nil {
		return errResult(err)
	}
	return bulk(sum)
}
