package raftkv

import (
	"fmt"
	"strconv"
)

// applyFunc applies one command inside a transaction. It must be
// deterministic: no clock, no randomness, no map iteration, no local config.
type applyFunc func(tx *txn, c *Command) Result

// ops is the state machine's op table, built once.
var ops = map[Op]applyFunc{
	OpNoop:   func(*txn, *Command) Result { return Result{} },
	OpSet:    applySet,
	OpDel:    applyDel,
	OpIncrBy: applyIncrBy,
	OpMSet:   applyMSet,

	OpSetMember:     applySetMember,
	OpDelMember:     applyDelMember,
	OpPruneRequests: applyPruneRequests,
}

func argError(c *Command, want string) Result {
	return Result{Err: fmt.Errorf("%w: %s needs %s, got %d args", ErrBadEntry, c.Op, want, len(c.Args))}
}

func applySet(tx *txn, c *Command) Result {
	if len(c.Args) != 2 {
		return argError(c, "2")
	}
	tx.put(c.Args[0], value{typ: typeString, expireAt: c.ExpireAt, data: c.Args[1]})
	return Result{}
}

func applyMSet(tx *txn, c *Command) Result {
	if len(c.Args) == 0 || len(c.Args)%2 != 0 {
		return argError(c, "pairs")
	}
	for i := 0; i < len(c.Args); i += 2 {
		tx.put(c.Args[i], value{typ: typeString, data: c.Args[i+1]})
	}
	return Result{}
}

func applyDel(tx *txn, c *Command) Result {
	var n int64
	for _, k := range c.Args {
		_, ok, err := tx.get(k)
		if err != nil {
			return Result{Err: err}
		}
		if ok {
			tx.del(k)
			n++
		}
	}
	return Result{Int: n}
}

func applyIncrBy(tx *txn, c *Command) Result {
	if len(c.Args) != 1 {
		return argError(c, "1")
	}
	v, ok, err := tx.get(c.Args[0])
	if err != nil {
		return Result{Err: err}
	}
	var cur int64
	if ok {
		if v.typ != typeString {
			return Result{Err: ErrWrongType}
		}
		if cur, err = ParseInt(v.data); err != nil {
			return Result{Err: err}
		}
	}
	if (c.Int > 0 && cur > maxInt64-c.Int) || (c.Int < 0 && cur < minInt64-c.Int) {
		return Result{Err: ErrOverflow}
	}
	cur += c.Int
	tx.put(c.Args[0], value{typ: typeString, expireAt: v.expireAt, data: strconv.AppendInt(nil, cur, 10)})
	return Result{Int: cur}
}

const (
	maxInt64 = 1<<63 - 1
	minInt64 = -1 << 63
)

// ParseInt parses b the way Redis parses an integer argument or value: an
// optional '-', digits, no leading zeros, no spaces or '+', and within int64.
func ParseInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, ErrNotInteger
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, nil
	}
	neg := b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	if len(d) == 0 || d[0] < '1' || d[0] > '9' {
		return 0, ErrNotInteger
	}
	var u uint64
	for _, ch := range d {
		if ch < '0' || ch > '9' {
			return 0, ErrNotInteger
		}
		// u*10+9 must not wrap: past (1<<63)/10 the result is out of
		// range anyway. (Bounding by MaxUint64/10 let 20-digit inputs
		// such as "18446744073709551619" wrap around to small values.)
		if u > (1<<63)/10 {
			return 0, ErrNotInteger
		}
		u = u*10 + uint64(ch-'0')
		if u > 1<<63 {
			return 0, ErrNotInteger
		}
	}
	if neg {
		return -int64(u-1) - 1, nil
	}
	if u > maxInt64 {
		return 0, ErrNotInteger
	}
	return int64(u), nil
}
