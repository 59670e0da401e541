package kv

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/riotkv/riot/storage"
)

// FSM is riot's durable state machine: one batch of log entries
// (ApplyBatch) becomes one atomic storage batch, which also records the
// index of the last entry applied. Entries at or below that index are
// skipped, so replaying the log after a restart never applies a command
// twice. raftkv hands it raft's committed entries (it implements
// raft.BatchingFSM over it).
//
// ApplyBatch, Snapshot and Restore are called from a single goroutine;
// readers (View) may run concurrently with all of them.
type FSM struct {
	eng    storage.Engine
	logger *slog.Logger

	// restoreMu is held for writing while Restore rewrites the engine, so
	// that no reader sees a half-restored state.
	restoreMu sync.RWMutex

	applied atomic.Uint64 // last raft index reflected in the engine
	clock   atomic.Int64  // the largest Command.Now applied (Unix ms)
	waiters appliedWaiters

	failed atomic.Pointer[error]  // set once the state machine stops (stop)
	secret atomic.Pointer[[]byte] // the node secret (secret.go), once applied
	// sharded: this state machine holds a shard map (shards.go): it is a
	// sharded cluster's metadata group, which refuses client operations.
	sharded atomic.Bool

	// volatile holds every user key whose stored value has a deadline
	// (those in the expiry index), so that put reads the old value only
	// for them (see txn.put). It may hold a few keys more, which only costs
	// a read; nil means not known, and put always reads. It is rebuilt from
	// the expiry index at boot and after every restore, and used only by
	// the goroutine that applies (and restores), which raft guarantees is
	// one. Its memory grows with the keys that have a deadline, as Redis's
	// expires dictionary does.
	volatile map[string]struct{}

	// members counts the batches and restores that may have changed the
	// address book (see MembersVersion).
	members atomic.Uint64

	metrics *fsmMetrics
	// sweep is the sweeper's pass (sweep.go).
	sweep sweeper
	// dropped counts the collections whose metadata applies removed (their
	// elements became garbage for the sweeper), as far as apply noticed.
	dropped atomic.Uint64
}

// Entry is one log entry handed to ApplyBatch: its index in the log, and,
// for a command entry, its data (one encoded Command or a batch entry).
// Entries that are not commands (raft's configuration changes, no-ops,
// barriers) only move the applied index.
type Entry struct {
	Index   uint64
	Command bool
	Data    []byte
}

// NewFSM returns the state machine over eng, resuming from the applied index
// recorded in it.
func NewFSM(eng storage.Engine, logger *slog.Logger) (*FSM, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &FSM{eng: eng, logger: logger, metrics: newFSMMetrics()}
	f.sweep.idle = sweepIdle
	f.waiters.init()
	if err := f.migrate(); err != nil {
		return nil, err
	}
	idx, err := readApplied(eng)
	if err != nil {
		return nil, err
	}
	f.applied.Store(idx)
	clock, err := readClock(eng)
	if err != nil {
		return nil, err
	}
	f.clock.Store(clock)
	if f.volatile, err = scanVolatile(eng); err != nil {
		return nil, err
	}
	if err := f.loadSecret(); err != nil {
		return nil, err
	}
	if err := f.loadSharded(); err != nil {
		return nil, err
	}
	return f, nil
}

// migrate moves the engine's format-1 records, if any, to format 2
// (migrate.go): at open, and after a restore or import of a stream written
// by an older release.
func (f *FSM) migrate() error {
	n, err := migrateV1(f.eng)
	if n > 0 {
		f.logger.Info("moved records to the format-2 key layout", "records", n)
	}
	return err
}

// scanVolatile returns the keys in r's expiry index.
func scanVolatile(r storage.Reader) (map[string]struct{}, error) {
	keys := make(map[string]struct{})
	it := r.NewIterator(storage.PrefixRange(expirePrefix))
	for it.Next() {
		if _, db, user, ok := splitExpireKey(it.Key()); ok {
			keys[volKey(db, user)] = struct{}{}
		}
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("raftkv: read expiry index: %w", err)
	}
	return keys, nil
}

// rewritten updates what the state machine keeps in memory about the
// engine after a restore rewrote it: the volatile set (not known when the
// index cannot be read), the address book's version and the sweeper's
// pass (which starts over).
func (f *FSM) rewritten() {
	keys, err := scanVolatile(f.eng)
	if err != nil {
		f.logger.Warn("volatile keys not known, SET reads every old value", "err", err)
	}
	f.volatile = keys
	f.members.Add(1)
	f.sweep.reset()
	if err := f.loadSecret(); err != nil {
		f.logger.Warn("node secret not known after a restore", "err", err)
		f.setSecret(nil)
	}
	if err := f.loadSharded(); err != nil {
		f.logger.Warn("read the shard map after a restore", "err", err)
	}
}

func readClock(r storage.Reader) (int64, error) {
	b, err := r.Get(keyClock)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("raftkv: read clock: %w", err)
	}
	return decodeClock(b)
}

// Clock returns the state machine's time: the largest Command.Now applied,
// in Unix ms. Applying never uses an earlier time, and reads neither.
func (f *FSM) Clock() int64 { return f.clock.Load() }

func readApplied(r storage.Reader) (uint64, error) {
	b, err := r.Get(keyApplied)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("raftkv: read applied index: %w", err)
	}
	return decodeIndex(b)
}

// Restoring reports whether a restore was interrupted (the engine holds a
// mix of old and new state and must be restored again before use): raftkv
// restores a snapshot again at boot, or refuses to start.
func (f *FSM) Restoring() (bool, error) {
	_, err := f.eng.Get(keyRestoring)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("raftkv: read restore marker: %w", err)
	}
	return true, nil
}

// AppliedIndex returns the index of the last entry the engine reflects.
func (f *FSM) AppliedIndex() uint64 { return f.applied.Load() }

// Err returns the storage error that stopped the state machine, if any.
func (f *FSM) Err() error {
	if p := f.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// maxEngineWrite is the size past which ApplyBatch writes what it has
// applied so far to the engine before it goes on: a batch of 64 entries of
// 1 MB values is then written in pieces, not held three times over (the
// transaction's copy, goleveldb's batch and its memtable) at once.
const maxEngineWrite = 8 << 20

// ApplyBatch applies entries, in log order. The i-th response is a Result
// for a command entry (a BatchResult for a batch entry), or nil for
// entries that carry none. The entries go
// to the engine in one write, or in several (maxEngineWrite), each with
// the index of its last entry as the applied index.
//
// Nothing an entry holds can crash the node: a command that fails
// validation gets an error Result (the same on every replica). What is not
// the same on every replica stops the state machine (see stop) instead of
// answering: a storage error, stored data that does not decode, and a
// panic, which is a bug, recovered here so that it cannot crash-loop the
// node on every replay of the entry.
func (f *FSM) ApplyBatch(logs []Entry) (res []any) {
	res = make([]any, len(logs))
	f.metrics.observeBatch(len(logs))
	if err := f.Err(); err != nil {
		return f.failAll(res, err)
	}
	var cur *Entry // the entry being applied, for a panic's report
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("%w: panic applying entry %d: %v", ErrFailed, cur.Index, p)
			f.stop(err, "entry_index", cur.Index, "entry", entryPrefix(cur.Data), "stack", string(debug.Stack()))
			res = f.failAll(res, err)
		}
	}()
	applied := f.applied.Load()
	last := applied
	tx := f.newTxn()
	for i := range logs {
		l := &logs[i]
		if l.Index <= applied {
			continue // already in the engine: replayed after a restart
		}
		last = l.Index
		if l.Command {
			cur = l
			var n int
			res[i], n = applyEntry(tx, l)
			f.metrics.commands.Add(uint64(n))
			if tx.fault != nil {
				f.stop(tx.fault, "entry_index", l.Index)
				return f.failAll(res, tx.fault)
			}
		}
		if tx.batch.Size() >= maxEngineWrite && i < len(logs)-1 {
			if err := f.commit(tx, last); err != nil {
				return f.failAll(res, err)
			}
			tx = f.newTxn()
		}
	}
	if last == f.applied.Load() {
		return res
	}
	if err := f.commit(tx, last); err != nil {
		return f.failAll(res, err)
	}
	return res
}

// entryPrefix is the start of a log entry, in hex, for the log line of an
// entry that stopped the state machine (the whole entry stays in the raft
// log: a stopped state machine takes no snapshot, so raft compacts nothing).
func entryPrefix(data []byte) string {
	const n = 256
	if len(data) > n {
		return hex.EncodeToString(data[:n]) + "..."
	}
	return hex.EncodeToString(data)
}

// applyEntry applies command entry l (one command or a batch entry) in tx
// and returns its response and how many commands it held.
func applyEntry(tx *txn, l *Entry) (any, int) {
	if isBatch(l.Data) {
		return applyBatchEntry(tx, l.Data, l.Index)
	}
	c, err := DecodeCommand(l.Data)
	if err != nil {
		return Result{Err: err}, 1
	}
	return applyCommand(tx, &c, l.Index), 1
}

// commit writes what tx applied, through entry last, to the engine, with
// last as the applied index, and makes it readable.
func (f *FSM) commit(tx *txn, last uint64) error {
	clock := f.clock.Load()
	tx.batch.Put(keyApplied, encodeIndex(last))
	if tx.clock != clock {
		tx.batch.Put(keyClock, encodeIndex(uint64(tx.clock)))
	}
	if err := f.eng.Write(&tx.batch); err != nil {
		// The engine and the log now disagree about what is applied; going
		// on would diverge from the other replicas. Stop applying.
		err = fmt.Errorf("%w: write batch ending at index %d: %w", ErrFailed, last, err)
		f.stop(err)
		return err
	}
	f.clock.Store(tx.clock)
	f.applied.Store(last)
	if tx.dropped > 0 {
		f.dropped.Add(tx.dropped)
	}
	f.metrics.expired.Add(tx.expired)
	if tx.membersChanged {
		f.members.Add(1)
	}
	if tx.secret != nil {
		f.setSecret(tx.secret)
	}
	if tx.sharded {
		f.sharded.Store(true)
	}
	f.waiters.notify(last)
	return nil
}

// stop stops the state machine for err (wrapping ErrFailed): it applies
// nothing more, takes no snapshot, and every read and write on this node
// fails with err, until a snapshot restore succeeds (raft installs one from
// the leader) or the process restarts (and applies the log again from the
// engine's applied index). The node stays up and says so: FSM.Err, the
// health endpoint, INFO's fsm_failed, the riot_fsm_failed metric and an
// error log line with attrs.
func (f *FSM) stop(err error, attrs ...any) {
	f.failed.Store(&err)
	f.metrics.stops.Add(1)
	f.logger.Error("state machine stopped", append([]any{"err", err}, attrs...)...)
	f.waiters.fail()
}

// failAll answers every entry of a batch with err (for entries an earlier
// write of the batch stored, the outcome is reported unknown: an error,
// never a false success).
func (f *FSM) failAll(res []any, err error) []any {
	for i := range res {
		res[i] = Result{Err: err}
	}
	return res
}

// MembersVersion changes whenever an applied batch or a restore may have
// changed the address book (after the change is readable), so a reader may
// cache an address read when the version was v for as long as it stays v.
func (f *FSM) MembersVersion() uint64 { return f.members.Load() }

// BatchResult is the state machine's response to a batch entry: a Result
// per command, in order (raftkv hands each proposer its own).
type BatchResult []Result

// applyBatchEntry applies the commands of a batch entry in order, all at
// index, and returns the response and the number of commands. A malformed
// entry gets one error Result for all of them.
func applyBatchEntry(tx *txn, data []byte, index uint64) (any, int) {
	cmds, err := decodeBatch(data)
	if err != nil {
		return Result{Err: err}, 0
	}
	out := make(BatchResult, len(cmds))
	for j, raw := range cmds {
		c, err := DecodeCommand(raw)
		if err != nil {
			out[j] = Result{Err: err}
			continue
		}
		out[j] = applyCommand(tx, &c, index)
	}
	return out, len(cmds)
}

// applyCommand applies one decoded command at index, at most once for a
// command that carries a request ID. A command that fails validation
// changes nothing.
func applyCommand(tx *txn, c *Command, index uint64) Result {
	// Validate, decoding a transaction's commands once for both.
	var watches []Watch
	var cmds []Command
	err := c.validateOne()
	if err == nil && c.Op == OpMulti {
		watches, cmds, err = decodeTransaction(c)
	}
	if err != nil {
		return Result{Err: err}
	}
	if tx.sharded && clientOps[c.Op] && (c.Op != OpMulti || len(cmds) > 0) {
		// A sharded cluster's metadata group holds no keys: a client
		// write routed here by a node that did not know yet.
		return Result{Err: ErrSharded}
	}
	if c.ClientID != 0 {
		r, seen, err := dedupLookup(tx, c)
		if err != nil {
			return Result{Err: err}
		}
		if seen {
			return r
		}
	}
	tx.begin(c)
	tx.index = index
	var r Result
	if c.Op == OpMulti {
		r = applyMulti(tx, watches, cmds)
	} else {
		r = ops[c.Op](tx, c) // validateOne: a known op
	}
	if c.ClientID != 0 {
		dedupStore(tx, c, index, r)
	}
	return r
}

// View returns a read view of the current state. Callers must call release
// when done. Reads wait while a restore is rewriting the engine.
func (f *FSM) View() (v *View, release func()) {
	f.restoreMu.RLock()
	return &View{r: f.eng, floor: f.clock.Load()}, f.restoreMu.RUnlock
}

// SnapshotView is View over a consistent point-in-time snapshot, for reads
// that span several keys.
func (f *FSM) SnapshotView() (*View, func(), error) {
	f.restoreMu.RLock()
	defer f.restoreMu.RUnlock()
	s, err := f.eng.Snapshot()
	if err != nil {
		return nil, nil, err
	}
	return &View{r: s, floor: f.clock.Load()}, s.Release, nil
}

// EngineStats reports the storage engine's figures.
func (f *FSM) EngineStats() storage.Stats { return f.eng.Stats() }
