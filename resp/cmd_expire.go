package resp

import (
	"math"
	"strconv"
	"time"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// Expiry commands. A TTL becomes an absolute deadline here, from the
// request's time, before the command is proposed; the state machine
// compares deadlines with the time the command carries, never with a
// clock of its own.

// buildExpire builds EXPIRE (seconds, relative), PEXPIRE (ms, relative),
// EXPIREAT (seconds, absolute) and PEXPIREAT (ms, absolute), with NX, XX,
// GT and LT (expire.c expireGenericCommand). A deadline at or before now
// deletes the key.
// Reference: https://redis.io/docs/latest/commands/expire/, pexpire/,
// expireat/, pexpireat/
func buildExpire(name string, seconds, absolute bool) func(*session, [][]byte) (*kv.Command, replyFunc, error) {
	return func(s *session, args [][]byte) (*kv.Command, replyFunc, error) {
		var cond byte
		for _, opt := range args[3:] {
			switch {
			case equalFold(opt, "nx"):
				cond |= kv.ExpireNX
			case equalFold(opt, "xx"):
				cond |= kv.ExpireXX
			case equalFold(opt, "gt"):
				cond |= kv.ExpireGT
			case equalFold(opt, "lt"):
				cond |= kv.ExpireLT
			default:
				return nil, nil, redisError("ERR Unsupported option " + string(opt))
			}
		}
		if cond&kv.ExpireNX != 0 && cond&^kv.ExpireNX != 0 {
			return nil, nil, redisError("ERR NX and XX, GT or LT options at the same time are not compatible")
		}
		if cond&kv.ExpireGT != 0 && cond&kv.ExpireLT != 0 {
			return nil, nil, redisError("ERR GT and LT options at the same time are not compatible")
		}
		when, err := kv.ParseInt(args[2])
		if err != nil {
			return nil, nil, errNotInteger
		}
		if seconds {
			if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
				return nil, nil, errExpireTime(name)
			}
			when *= 1000
		}
		var base int64
		if !absolute {
			base = s.now
		}
		if when > math.MaxInt64-base {
			return nil, nil, errExpireTime(name)
		}
		c := &kv.Command{Op: kv.OpPExpireAt, Args: [][]byte{args[1]}, Int: when + base}
		if cond != 0 {
			c.Args = append(c.Args, []byte{cond})
		}
		return c, replyInt, nil
	}
}

// Reference: https://redis.io/docs/latest/commands/persist/
func buildPersist(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	return &kv.Command{Op: kv.OpPersist, Args: args[1:2]}, replyInt, nil
}

// ttlReply selects what TTL-like commands report.
type ttlReply struct {
	ms       bool // milliseconds, else seconds (rounded)
	absolute bool // the deadline, else the time left
}

// cmdTTL serves TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a missing
// key, -1 for a key without a deadline (expire.c ttlGenericCommand).
// Reference: https://redis.io/docs/latest/commands/ttl/, pttl/,
// expiretime/, pexpiretime/
func cmdTTL(how ttlReply) func(*session, [][]byte) {
	return func(s *session, args [][]byte) {
		err := s.read(func(v *kv.View) error {
			info, ok, err := v.Lookup(args[1], s.now)
			switch {
			case err != nil:
				return err
			case !ok:
				s.out = respwire.AppendInt(s.out, -2)
			case info.ExpireAt == 0:
				s.out = respwire.AppendInt(s.out, -1)
			default:
				t := info.ExpireAt
				if !how.absolute {
					t = max(t-v.Time(s.now), 0)
				}
				if !how.ms {
					t = (t + 500) / 1000
				}
				s.out = respwire.AppendInt(s.out, t)
			}
			return nil
		})
		if err != nil {
			s.writeErr(err)
		}
	}
}

// Reference: https://redis.io/docs/latest/commands/time/ (this node's
// clock)
func cmdTime(s *session, _ [][]byte) {
	now := time.Now()
	s.out = respwire.AppendArrayLen(s.out, 2)
	s.out = respwire.AppendBulkString(s.out, strconv.FormatInt(now.Unix(), 10))
	s.out = respwire.AppendBulkString(s.out, strconv.Itoa(now.Nanosecond()/1000))
}
