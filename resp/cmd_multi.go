package resp

import (
	"fmt"
	"strings"
	"time"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
// Reference: https://redis.io/docs/latest/develop/interact/transactions/
//
// Between MULTI and EXEC a connection queues its commands (+QUEUED).
// EXEC turns the queue into one kv.OpMulti log entry: every write as
// its own command, every read as an OpLookup of its keys, and the keys the
// connection WATCHed with the versions WATCH saw. The entry is applied
// whole or not at all on every node; EXEC replies with one reply per queued
// command, reads formatted from what the transaction read
// (kv.LookupView), connection commands (PING, ECHO, ...) run as the
// reply is built. A follower forwards the entry to the leader like any
// write.
//
// As in Redis: a command that cannot be queued (unknown, wrong arity, not
// allowed) gets an error and makes EXEC answer EXECABORT; an error while
// running (INCR of a non-integer, a syntax error in SET's options) is that
// command's reply and the others still apply. A watched key that changed
// since WATCH makes EXEC answer a null array and apply nothing.

// multiState is a connection's open transaction.
type multiState struct {
	queued []queuedCmd
	dirty  bool // a command could not be queued: EXEC aborts
}

type queuedCmd struct {
	cmd  *command
	args [][]byte // copied: the read buffer is reused
}

// txnControl reports whether cmd runs at once inside MULTI instead of
// being queued (as Redis's processCommand does for these).
func txnControl(cmd *command) bool {
	switch cmd.name {
	case "multi", "exec", "discard", "watch", "quit":
		return true
	}
	return false
}

// errNotInMulti is Redis's reply to commands a transaction refuses.
const errNotInMulti = "ERR Command not allowed inside a transaction"

// txnRejected returns the error reply for a command that was refused
// before running (unknown, wrong arity, NOAUTH). Inside MULTI this also
// marks the transaction to abort; a refused EXEC, in MULTI or not, discards
// the transaction and the watches at once, with Redis's texts.
func (s *session) txnRejected(args [][]byte, msg string) string {
	if equalFold(args[0], "exec") {
		// As Redis 7.0 (execCommandAbort), in MULTI or not: the
		// transaction and the watches are dropped.
		s.multi, s.watches = nil, nil
		return "EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR ")
	}
	if s.multi == nil {
		return msg
	}
	s.multi.dirty = true
	return msg
}

// queue queues a command of an open transaction, or refuses it.
func (s *session) queue(cmd *command, args [][]byte) {
	switch {
	case cmd.flags&(flagInternal|flagNoMulti) != 0 || strings.HasPrefix(cmd.name, "raft."):
		s.multi.dirty = true
		s.out = respwire.AppendError(s.out, errNotInMulti)
		return
	case cmd.build == nil && cmd.flags&flagReadonly != 0 && cmd.firstKey == 0 && cmd.keys == nil:
		// KEYS, SCAN, RANDOMKEY, DBSIZE, MEMORY: a transaction reads the
		// keys its commands name, not the whole keyspace.
		s.multi.dirty = true
		s.writeErr(redisError(fmt.Sprintf("ERR %s is not supported inside MULTI: riot runs a transaction as one log entry, whose reads must name their keys", strings.ToUpper(cmd.name))))
		return
	}
	q := queuedCmd{cmd: cmd, args: make([][]byte, len(args))}
	for i, a := range args {
		q.args[i] = append([]byte(nil), a...)
	}
	s.multi.queued = append(s.multi.queued, q)
	s.out = respwire.AppendSimple(s.out, "QUEUED")
}

// Reference: https://redis.io/docs/latest/commands/multi/
func cmdMulti(s *session, _ [][]byte) {
	if s.multi != nil {
		s.writeErr(redisError("ERR MULTI calls can not be nested"))
		return
	}
	s.multi = &multiState{}
	s.out = respwire.AppendOK(s.out)
}

// Reference: https://redis.io/docs/latest/commands/discard/
func cmdDiscard(s *session, _ [][]byte) {
	if s.multi == nil {
		s.writeErr(redisError("ERR DISCARD without MULTI"))
		return
	}
	s.multi, s.watches = nil, nil
	s.out = respwire.AppendOK(s.out)
}

// Reference: https://redis.io/docs/latest/commands/unwatch/ (inside MULTI
// it is queued, and EXEC has dropped the watches by the time it runs)
func cmdUnwatch(s *session, _ [][]byte) {
	s.watches = nil
	s.out = respwire.AppendOK(s.out)
}

// Reference: https://redis.io/docs/latest/commands/watch/
//
// WATCH reads each key's version and liveness, and the applied index of
// that state, with a linearizable read (whatever the connection's read
// level), so that on a follower too EXEC compares them with the state that
// was current. A key watched twice keeps
// what the first WATCH saw, as in Redis.
func cmdWatch(s *session, args [][]byte) {
	if s.multi != nil {
		s.writeErr(redisError("ERR WATCH inside MULTI is not allowed"))
		return
	}
	seen := make(map[string]bool, len(s.watches)+len(args))
	for _, w := range s.watches {
		seen[string(w.Key)] = true
	}
	var ws []kv.Watch
	err := s.be.ReadConsistent(s.ctx, cluster.Linearizable, func(v *kv.View) error {
		for _, k := range args[1:] {
			if seen[string(k)] {
				continue
			}
			seen[string(k)] = true
			w, err := v.DB(s.db).Watch(k, s.now)
			if err != nil {
				return err
			}
			ws = append(ws, w)
		}
		return nil
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.watches = append(s.watches, ws...)
	s.out = respwire.AppendOK(s.out)
}

// txnSlot is one queued command at EXEC: how its reply is made.
type txnSlot struct {
	q     queuedCmd
	err   error     // refused when built (replied as its error)
	sub   int       // index of its command in the entry; -1: none
	reply replyFunc // for a write
	keys  [][]byte  // for a read: the keys it looked up
}

// Reference: https://redis.io/docs/latest/commands/exec/
func cmdExec(s *session, _ [][]byte) {
	start := time.Now()
	m, watches := s.multi, s.watches
	if m == nil {
		s.writeErr(redisError("ERR EXEC without MULTI"))
		return
	}
	s.multi, s.watches = nil, nil
	if m.dirty {
		s.writeErr(redisError("EXECABORT Transaction discarded because of previous errors."))
		return
	}
	slots := make([]txnSlot, len(m.queued))
	var cmds []*kv.Command
	// A queued SELECT changes the database of the commands after it, as
	// in Redis: they are built in it, and it runs (setting s.db again)
	// when its reply is made.
	selected := s.db
	for i, q := range m.queued {
		sl := txnSlot{q: q, sub: -1}
		switch {
		case q.cmd.build != nil || q.cmd.txnBuild != nil:
			build := q.cmd.build
			if build == nil {
				build = q.cmd.txnBuild
			}
			c, reply, err := build(s, q.args)
			if err != nil {
				sl.err = err
				break
			}
			c.Now, c.DB = 0, s.db // the transaction's time applies
			sl.sub, sl.reply = len(cmds), reply
			cmds = append(cmds, c)
		case q.cmd.flags&flagReadonly != 0:
			sl.keys = commandKeys(q.cmd, q.args)
			sl.sub = len(cmds)
			cmds = append(cmds, &kv.Command{Op: kv.OpLookup, Args: sl.keys, DB: s.db})
		case q.cmd.name == "select":
			if db, err := s.dbIndex(q.args[1], nil); err == nil {
				s.db = db
			}
		}
		slots[i] = sl
	}
	s.db = selected
	var res kv.Result
	if len(cmds) > 0 || len(watches) > 0 {
		mc := kv.NewMulti(watches, cmds)
		mc.Now = s.now
		var err error
		res, err = s.be.Propose(s.ctx, mc).Wait()
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if err != nil {
			s.writeErr(err)
			return
		}
		if res.Null {
			s.out = respwire.AppendNullArray(s.out, s.proto) // a watched key changed
			return
		}
		if len(res.Array) != len(cmds) {
			s.writeErr(fmt.Errorf("transaction of %d commands returned %d results", len(cmds), len(res.Array)))
			return
		}
	}
	s.out = respwire.AppendArrayLen(s.out, len(slots))
	for _, sl := range slots {
		mark := len(s.out)
		s.execSlot(sl, res)
		// As Redis, each queued command counts in INFO commandstats (and
		// the metrics) as a call of its own, timed from EXEC's start.
		sl.q.cmd.stats.done(start, isErrorReply(s.out, mark))
	}
}

// execSlot appends the reply of one queued command of a transaction whose
// entry returned res.
func (s *session) execSlot(sl txnSlot, res kv.Result) {
	switch {
	case sl.err != nil:
		s.writeErr(sl.err)
	case sl.reply != nil:
		r := res.Array[sl.sub]
		if r.Err != nil {
			s.writeErr(r.Err)
		} else {
			sl.reply(s, r)
		}
	case sl.sub >= 0:
		v, err := kv.LookupView(sl.keys, res.Array[sl.sub])
		if err != nil {
			s.writeErr(err)
			break
		}
		s.txView = v
		sl.q.cmd.run(s, sl.q.args)
		s.txView = nil
	default:
		sl.q.cmd.run(s, sl.q.args)
	}
}

// commandKeys returns the keys of a command from the table's key positions
// (first, last: -1 for the last argument, step).
func commandKeys(cmd *command, args [][]byte) [][]byte {
	if cmd.keys != nil {
		return cmd.keys(args)
	}
	if cmd.firstKey <= 0 || cmd.firstKey >= len(args) {
		return nil
	}
	last := cmd.lastKey
	if last < 0 {
		last += len(args)
	}
	last = min(last, len(args)-1)
	step := max(cmd.step, 1)
	var keys [][]byte
	for i := cmd.firstKey; i <= last; i += step {
		keys = append(keys, args[i])
	}
	return keys
}
