package resp

import (
	"github.com/riotkv/riot/raftkv"
)

// Reference: https://redis.io/docs/latest/commands/get/
func cmdGet(s *session, args [][]byte) {
	err := s.read(func(v *raftkv.View) error {
		val, ok, err := v.Get(args[1])
		if err != nil {
			return err
		}
		if !ok {
			s.out = appendNull(s.out, s.proto)
		} else {
			s.out = appendBulk(s.out, val)
		}
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
	err := s.readConsistent(func(v *raftkv.View) error {
		for i, k := range keys {
			val, ok, err := v.Get(k)
			if err != nil && err != raftkv.ErrWrongType {
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
	s.out = appendArrayLen(s.out, len(vals))
	for _, v := range vals {
		if v == nil {
			s.out = appendNull(s.out, s.proto)
		} else {
			s.out = appendBulk(s.out, v)
		}
	}
}

// Reference: https://redis.io/docs/latest/commands/exists/ (a key named
// twice counts twice).
func cmdExists(s *session, args [][]byte) {
	var n int64
	err := s.readConsistent(func(v *raftkv.View) error {
		for _, k := range args[1:] {
			ok, err := v.Exists(k)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return nil
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = appendInt(s.out, n)
}

func replyOK(s *session, _ raftkv.Result)  { s.out = appendOK(s.out) }
func replyInt(s *session, r raftkv.Result) { s.out = appendInt(s.out, r.Int) }

// Reference: https://redis.io/docs/latest/commands/set/ (plain form; the
// options arrive with the Redis-compatibility work).
func buildSet(_ *session, args [][]byte) (*raftkv.Command, replyFunc, error) {
	if len(args) != 3 {
		return nil, nil, errSyntax
	}
	return &raftkv.Command{Op: raftkv.OpSet, Args: args[1:3]}, replyOK, nil
}

// Reference: https://redis.io/docs/latest/commands/mset/
func buildMSet(_ *session, args [][]byte) (*raftkv.Command, replyFunc, error) {
	if len(args)%2 != 1 {
		return nil, nil, errArity("mset")
	}
	return &raftkv.Command{Op: raftkv.OpMSet, Args: args[1:]}, replyOK, nil
}

// Reference: https://redis.io/docs/latest/commands/del/
func buildDel(_ *session, args [][]byte) (*raftkv.Command, replyFunc, error) {
	return &raftkv.Command{Op: raftkv.OpDel, Args: args[1:]}, replyInt, nil
}

// buildIncr builds INCR (sign 1) and DECR (sign -1).
func buildIncr(delta int64) func(*session, [][]byte) (*raftkv.Command, replyFunc, error) {
	return func(_ *session, args [][]byte) (*raftkv.Command, replyFunc, error) {
		return &raftkv.Command{Op: raftkv.OpIncrBy, Args: args[1:2], Int: delta}, replyInt, nil
	}
}

// buildIncrBy builds INCRBY (sign 1) and DECRBY (sign -1).
// Reference: https://redis.io/docs/latest/commands/incrby/
func buildIncrBy(sign int64) func(*session, [][]byte) (*raftkv.Command, replyFunc, error) {
	return func(_ *session, args [][]byte) (*raftkv.Command, replyFunc, error) {
		d, err := raftkv.ParseInt(args[2])
		if err != nil {
			return nil, nil, errNotInteger
		}
		if sign < 0 {
			if d == -1<<63 {
				return nil, nil, redisError("ERR decrement would overflow")
			}
			d = -d
		}
		return &raftkv.Command{Op: raftkv.OpIncrBy, Args: args[1:2], Int: d}, replyInt, nil
	}
}
