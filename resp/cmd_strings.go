package resp

import (
	"math"
	"strconv"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// String commands. Writes are decided here down to what the state machine
// needs: options parsed, relative TTLs turned into deadlines from the
// request's time (s.now), argument errors answered without proposing.
// Whatever depends on the key's current value (its type, its existence, its
// length) is decided by the state machine, in the order Redis checks it.

// Reference: https://redis.io/docs/latest/commands/get/
func cmdGet(s *session, args [][]byte) {
	err := s.read(func(v *kv.View) error {
		val, ok, err := v.Get(args[1], s.now)
		if err != nil {
			return err
		}
		s.appendBulkOrNull(val, ok)
		return nil
	})
	if err != nil {
		s.writeErr(err)
	}
}

// Reference: https://redis.io/docs/latest/commands/mget/ (a key holding
// another type reads as nil).
func cmdMGet(s *session, args [][]byte) {
	keys := args[1:]
	vals := make([][]byte, len(keys))
	err := s.readConsistent(func(v *kv.View) error {
		for i, k := range keys {
			val, ok, err := v.Get(k, s.now)
			if err != nil && err != kv.ErrWrongType {
				return err
			}
			if ok {
				vals[i] = val
			}
		}
		return nil
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, len(vals))
	for _, v := range vals {
		s.appendBulkOrNull(v, v != nil)
	}
}

func (s *session) appendBulkOrNull(v []byte, ok bool) {
	if ok {
		s.out = respwire.AppendBulk(s.out, v)
	} else {
		s.out = respwire.AppendNull(s.out, s.proto)
	}
}

func replyOK(s *session, _ kv.Result)  { s.out = respwire.AppendOK(s.out) }
func replyInt(s *session, r kv.Result) { s.out = respwire.AppendInt(s.out, r.Int) }

// replyBulkOrNull replies with the result's value, or null.
func replyBulkOrNull(s *session, r kv.Result) { s.appendBulkOrNull(r.Value, !r.Null) }

// replyOKOrNull replies +OK, or null when a condition was not met.
func replyOKOrNull(s *session, r kv.Result) {
	if r.Null {
		s.out = respwire.AppendNull(s.out, s.proto)
	} else {
		s.out = respwire.AppendOK(s.out)
	}
}

// String command options (t_string.c parseExtendedStringArgumentsOrReply).
const (
	optNX = 1 << iota
	optXX
	optGet
	optKeepTTL
	optPersist
	optEX
	optPX
	optEXAT
	optPXAT

	optExpiry = optEX | optPX | optEXAT | optPXAT
)

// stringOptions are SET's or GETEX's parsed options.
type stringOptions struct {
	flags  int
	expiry []byte // the EX/PX/EXAT/PXAT argument
}

// parseStringOptions parses args[from:] as SET's options (getex false) or
// GETEX's, with Redis's rules: an option may repeat, but not combine with
// one it excludes; anything else is a syntax error.
func parseStringOptions(args [][]byte, from int, getex bool) (stringOptions, error) {
	var o stringOptions
	set := !getex
	for j := from; j < len(args); j++ {
		opt, next := args[j], j+1 < len(args)
		f := o.flags
		switch {
		case set && equalFold(opt, "nx") && f&optXX == 0:
			o.flags |= optNX
		case set && equalFold(opt, "xx") && f&optNX == 0:
			o.flags |= optXX
		case set && equalFold(opt, "get"):
			o.flags |= optGet
		case set && equalFold(opt, "keepttl") && f&(optPersist|optExpiry) == 0:
			o.flags |= optKeepTTL
		case getex && equalFold(opt, "persist") && f&(optKeepTTL|optExpiry) == 0:
			o.flags |= optPersist
		case expiryOption(opt) != 0 && next && f&(optKeepTTL|optPersist|optExpiry&^expiryOption(opt)) == 0:
			o.flags |= expiryOption(opt)
			o.expiry = args[j+1]
			j++
		default:
			return o, errSyntax
		}
	}
	return o, nil
}

// expiryOption returns the flag of EX, PX, EXAT or PXAT, 0 for other
// words.
func expiryOption(opt []byte) int {
	switch {
	case equalFold(opt, "ex"):
		return optEX
	case equalFold(opt, "px"):
		return optPX
	case equalFold(opt, "exat"):
		return optEXAT
	case equalFold(opt, "pxat"):
		return optPXAT
	}
	return 0
}

// expiryDeadline turns an EX/PX/EXAT/PXAT argument into a deadline in
// Unix ms (t_string.c getExpireMillisecondsOrReply): relative ones count
// from now; zero, negative and overflowing values are invalid.
func expiryDeadline(arg []byte, flags int, now int64, cmd string) (int64, error) {
	ms, err := kv.ParseInt(arg)
	if err != nil {
		return 0, errNotInteger
	}
	seconds := flags&(optEX|optEXAT) != 0
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		return 0, errExpireTime(cmd)
	}
	if seconds {
		ms *= 1000
	}
	if flags&(optEX|optPX) != 0 {
		ms += now // wraps on overflow, which the check below catches
	}
	if ms <= 0 {
		return 0, errExpireTime(cmd)
	}
	return ms, nil
}

// Reference: https://redis.io/docs/latest/commands/set/ (EX, PX, EXAT,
// PXAT, NX, XX, GET, KEEPTTL)
func buildSet(s *session, args [][]byte) (*kv.Command, replyFunc, error) {
	o, err := parseStringOptions(args, 3, false)
	if err != nil {
		return nil, nil, err
	}
	c := &kv.Command{Op: kv.OpSet, Args: args[1:3]}
	if o.expiry != nil {
		if c.ExpireAt, err = expiryDeadline(o.expiry, o.flags, s.now, "set"); err != nil {
			return nil, nil, err
		}
	}
	for _, f := range [][2]int{{optNX, kv.SetNX}, {optXX, kv.SetXX}, {optGet, kv.SetGet}, {optKeepTTL, kv.SetKeepTTL}} {
		if o.flags&f[0] != 0 {
			c.Int |= int64(f[1])
		}
	}
	if o.flags&optGet != 0 {
		return c, replyBulkOrNull, nil
	}
	return c, replyOKOrNull, nil
}

// Reference: https://redis.io/docs/latest/commands/setnx/
func buildSetNX(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpSet, Args: args[1:3], Int: kv.SetNX}, replyInt, nil
}

// buildSetEx builds SETEX (seconds) and PSETEX (milliseconds): key, TTL,
// value.
// Reference: https://redis.io/docs/latest/commands/setex/, psetex/
func buildSetEx(name string, unit int) func(*session, [][]byte) (*kv.Command, replyFunc, error) {
	return func(s *session, args [][]byte) (*kv.Command, replyFunc, error) {
		at, err := expiryDeadline(args[2], unit, s.now, name)
		if err != nil {
			return nil, nil, err
		}
		return &kv.Command{Op: kv.OpSet, Args: [][]byte{args[1], args[3]}, ExpireAt: at}, replyOK, nil
	}
}

// Reference: https://redis.io/docs/latest/commands/getset/ (the TTL is
// dropped, as by SET)
func buildGetSet(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpSet, Args: args[1:3], Int: kv.SetGet}, replyBulkOrNull, nil
}

// Reference: https://redis.io/docs/latest/commands/getdel/
func buildGetDel(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpGetDel, Args: args[1:2]}, replyBulkOrNull, nil
}

// Reference: https://redis.io/docs/latest/commands/getex/ (a bad expiry is
// reported only when the key holds a string; a missing key is nil first)
func buildGetEx(s *session, args [][]byte) (*kv.Command, replyFunc, error) {
	o, err := parseStringOptions(args, 2, true)
	if err != nil {
		return nil, nil, err
	}
	c := &kv.Command{Op: kv.OpGetEx, Args: args[1:2]}
	switch {
	case o.expiry != nil:
		at, err := expiryDeadline(o.expiry, o.flags, s.now, "getex")
		switch {
		case err == errNotInteger:
			c.Int = kv.GetExBadInt
		case err != nil:
			c.Int = kv.GetExBadTime
		default:
			c.Int, c.ExpireAt = kv.GetExSet, at
		}
	case o.flags&optPersist != 0:
		c.Int = kv.GetExPersist
	}
	return c, replyBulkOrNull, nil
}

// Reference: https://redis.io/docs/latest/commands/mset/
func buildMSet(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	if len(args)%2 != 1 {
		return nil, nil, errArity("mset")
	}
	return &kv.Command{Op: kv.OpMSet, Args: args[1:]}, replyOK, nil
}

// Reference: https://redis.io/docs/latest/commands/msetnx/
func buildMSetNX(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	if len(args)%2 != 1 {
		return nil, nil, errArity("msetnx")
	}
	return &kv.Command{Op: kv.OpMSetNX, Args: args[1:]}, replyInt, nil
}

// buildIncr builds INCR (sign 1) and DECR (sign -1).
func buildIncr(delta int64) func(*session, [][]byte) (*kv.Command, replyFunc, error) {
	return func(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
		return &kv.Command{Op: kv.OpIncrBy, Args: args[1:2], Int: delta}, replyInt, nil
	}
}

// buildIncrBy builds INCRBY (sign 1) and DECRBY (sign -1).
// Reference: https://redis.io/docs/latest/commands/incrby/
func buildIncrBy(sign int64) func(*session, [][]byte) (*kv.Command, replyFunc, error) {
	return func(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
		d, err := kv.ParseInt(args[2])
		if err != nil {
			return nil, nil, errNotInteger
		}
		if sign < 0 {
			if d == -1<<63 {
				return nil, nil, redisError("ERR decrement would overflow")
			}
			d = -d
		}
		return &kv.Command{Op: kv.OpIncrBy, Args: args[1:2], Int: d}, replyInt, nil
	}
}

// Reference: https://redis.io/docs/latest/commands/incrbyfloat/ (80-bit
// long double arithmetic and "%.17Lf" formatting, as Redis on x86-64)
func buildIncrByFloat(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpIncrByFloat, Args: args[1:3]}, replyBulkOrNull, nil
}

// Reference: https://redis.io/docs/latest/commands/append/ (keeps the TTL)
func buildAppend(s *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpAppend, Args: [][]byte{args[1], args[2], s.srv.maxLenArg()}}, replyInt, nil
}

// maxLenArg is the string length limit carried by commands that grow a
// string: proto-max-bulk-len, as Redis's checkStringLength.
func (s *Server) maxLenArg() []byte { return []byte(strconv.Itoa(s.maxBulkLen())) }

// Reference: https://redis.io/docs/latest/commands/strlen/
func cmdStrlen(s *session, args [][]byte) {
	err := s.read(func(v *kv.View) error {
		val, _, err := v.Get(args[1], s.now)
		if err == nil {
			s.out = respwire.AppendInt(s.out, int64(len(val)))
		}
		return err
	})
	if err != nil {
		s.writeErr(err)
	}
}

// Reference: https://redis.io/docs/latest/commands/getrange/ (a missing
// key is ""; the range is clamped as Redis 7 does)
func cmdGetRange(s *session, args [][]byte) {
	start, err1 := kv.ParseInt(args[2])
	end, err2 := kv.ParseInt(args[3])
	if err1 != nil || err2 != nil {
		s.writeErr(errNotInteger)
		return
	}
	err := s.read(func(v *kv.View) error {
		val, _, err := v.Get(args[1], s.now)
		if err == nil {
			s.out = respwire.AppendBulk(s.out, substr(val, start, end))
		}
		return err
	})
	if err != nil {
		s.writeErr(err)
	}
}

// substr returns val[start..end] (inclusive, negative counting from the
// end) as t_string.c getrangeCommand computes it.
func substr(val []byte, start, end int64) []byte {
	n := int64(len(val))
	if start < 0 && end < 0 && start > end {
		return nil
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return nil
	}
	return val[start : end+1]
}

// Reference: https://redis.io/docs/latest/commands/setrange/ (keeps the
// TTL; the offset is limited by proto-max-bulk-len)
func buildSetRange(s *session, args [][]byte) (*kv.Command, replyFunc, error) {
	off, err := kv.ParseInt(args[2])
	if err != nil {
		return nil, nil, errNotInteger
	}
	if off < 0 {
		return nil, nil, redisError("ERR offset is out of range")
	}
	return &kv.Command{Op: kv.OpSetRange, Args: [][]byte{args[1], args[3], s.srv.maxLenArg()}, Int: off}, replyInt, nil
}
