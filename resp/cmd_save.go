package resp

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/respwire"
)

// SAVE, BGSAVE, LASTSAVE and SHUTDOWN. Riot's durable state is the raft
// log and the raft snapshots of the state machine: a "save" is a raft
// snapshot taken on this node (what RAFT.SNAPSHOT does), which lets raft
// truncate its log. Raft also snapshots by itself (its snapshot
// threshold); LASTSAVE and INFO's rdb_* fields count those too.

// saveState is SAVE and BGSAVE's state on this node.
type saveState struct {
	// lastUnix is when the last SAVE or BGSAVE succeeded (Unix seconds);
	// the server's start until one did, as Redis's lastsave after loading.
	lastUnix atomic.Int64
	lastOK   atomic.Bool // the last SAVE or BGSAVE succeeded (or none ran)
	// running is set while a BGSAVE runs; scheduled asks it to run again
	// when done (BGSAVE SCHEDULE).
	running, scheduled atomic.Bool
	startedNano        atomic.Int64 // when the running BGSAVE started
	lastSec            atomic.Int64 // how long the last BGSAVE took, -1: none
}

func (st *saveState) init(started time.Time) {
	st.lastUnix.Store(started.Unix())
	st.lastOK.Store(true)
	st.lastSec.Store(-1)
}

// snapshot takes a raft snapshot and records the outcome.
func (s *Server) snapshot() error {
	err := s.backend.Snapshot()
	s.saves.lastOK.Store(err == nil)
	if err != nil {
		s.logger.Warn("snapshot (SAVE, BGSAVE, SHUTDOWN SAVE) failed", "err", err)
		return err
	}
	s.saves.lastUnix.Store(time.Now().Unix())
	return nil
}

// lastSave is LASTSAVE and rdb_last_save_time: the later of the last SAVE
// or BGSAVE and the last snapshot raft took by itself.
func (s *Server) lastSave() int64 {
	return max(s.saves.lastUnix.Load(), raftInt(s.backend.RaftInfo(), "riot_last_snapshot_time"))
}

// Reference: https://redis.io/docs/latest/commands/save/
func cmdSave(s *session, _ [][]byte) {
	if s.srv.saves.running.Load() {
		s.writeErr(redisError("ERR Background save already in progress"))
		return
	}
	s.okOrErr(s.srv.snapshot())
}

// Reference: https://redis.io/docs/latest/commands/bgsave/
func cmdBgsave(s *session, args [][]byte) {
	schedule := false
	switch {
	case len(args) == 2 && equalFold(args[1], "schedule"):
		schedule = true
	case len(args) > 1:
		s.writeErr(errSyntax)
		return
	}
	st := &s.srv.saves
	if !st.running.CompareAndSwap(false, true) {
		if schedule {
			st.scheduled.Store(true)
			s.out = respwire.AppendSimple(s.out, "Background saving scheduled")
			return
		}
		s.writeErr(redisError("ERR Background save already in progress"))
		return
	}
	// The session's own count keeps the WaitGroup above zero here, so
	// Close waits for the snapshot too.
	s.srv.wg.Add(1)
	go func() {
		defer s.srv.wg.Done()
		s.srv.bgsave()
	}()
	s.out = respwire.AppendSimple(s.out, "Background saving started")
}

// bgsave runs BGSAVE's snapshots, again while one was scheduled meanwhile.
func (s *Server) bgsave() {
	st := &s.saves
	for {
		start := time.Now()
		st.startedNano.Store(start.UnixNano())
		_ = s.snapshot() // logged, and INFO's rdb_last_bgsave_status
		st.lastSec.Store(int64(time.Since(start).Seconds()))
		st.running.Store(false)
		if !st.scheduled.Swap(false) || !st.running.CompareAndSwap(false, true) {
			return
		}
	}
}

// Reference: https://redis.io/docs/latest/commands/lastsave/
func cmdLastsave(s *session, _ [][]byte) {
	s.out = respwire.AppendInt(s.out, s.srv.lastSave())
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: stops this node as SIGTERM
// does (Config.Shutdown): it stops serving, hands leadership over and
// leaves the cluster. SAVE takes a raft snapshot first; without it nothing
// needs saving (the raft log is durable). NOW and FORCE change nothing:
// riot does not wait for replicas to catch up, and has no save to fail
// but SAVE's. The stop starts at once, so there is never one to ABORT.
// On success nothing is replied: the connection closes.
// Reference: https://redis.io/docs/latest/commands/shutdown/
func cmdShutdown(s *session, args [][]byte) {
	var save, nosave, abort, other bool
	for _, a := range args[1:] {
		switch {
		case equalFold(a, "nosave"):
			nosave = true
		case equalFold(a, "save"):
			save = true
		case equalFold(a, "now"), equalFold(a, "force"):
			other = true
		case equalFold(a, "abort"):
			abort = true
		default:
			s.writeErr(errSyntax)
			return
		}
	}
	if (abort && (save || nosave || other)) || (save && nosave) {
		s.writeErr(errSyntax)
		return
	}
	if abort {
		s.writeErr(redisError("ERR No shutdown in progress."))
		return
	}
	fail := redisError("ERR Errors trying to SHUTDOWN. Check logs.")
	if s.srv.cfg.Shutdown == nil {
		s.writeErr(fail)
		return
	}
	if save && s.srv.snapshot() != nil {
		s.writeErr(fail)
		return
	}
	if s.srv.shuttingDown.CompareAndSwap(false, true) {
		s.srv.logger.Info("SHUTDOWN requested by a client", "addr", s.addr)
		s.srv.cfg.Shutdown()
	}
	s.quit = true // no reply: the connection closes
}

// raftInt is the integer value of a RaftInfo field (0 if absent).
func raftInt(fields []raftkv.Field, name string) int64 {
	for _, f := range fields {
		if f.Name == name {
			n, _ := strconv.ParseInt(f.Value, 10, 64)
			return n
		}
	}
	return 0
}
