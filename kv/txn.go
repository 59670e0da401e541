package kv

import (
	"errors"
	"fmt"

	"github.com/riotkv/riot/storage"
)

// txn accumulates one raft batch's writes into a single storage batch, with
// an overlay so that later commands in the batch see earlier ones. Keys are
// engine keys (prefixed); get/put/del work on user data keys.
//
// The txn also keeps the state machine's clock: each command runs at
// max(its Now, the clock so far), so time never runs backwards along the
// log, whatever the proposers' clocks say.
type txn struct {
	eng     storage.Reader
	batch   storage.Batch
	overlay map[string][]byte // engine key -> raw value; nil: deleted in this batch

	now   int64 // the time of the command being applied (Unix ms)
	clock int64 // the largest time so far
	// index is the raft index of the entry being applied: the version
	// put stamps on every value it writes.
	index uint64
	// db is the database of the command being applied (Command.DB): every
	// user key get, put and del name is in it.
	db uint8

	// volatile is the state machine's set of keys (volKey: db + key) that
	// may have a deadline
	// (see FSM.volatile); put and remove keep it in step. nil: not known.
	volatile map[string]struct{}
	// membersChanged is set by a command that writes the address book.
	membersChanged bool
	// sharded: the state machine holds a shard map (FSM.Sharded), or a
	// command of this transaction stored one.
	sharded bool
	// expired counts the keys active expiry (OpExpire) deleted in this
	// batch: INFO's expired_keys, added once the batch is committed.
	expired uint64
	// secret is the node secret an OpSecret recorded in this batch.
	secret []byte
	// scratch is where put encodes a key and value, which the batch copies.
	scratch []byte
	// dropped counts the collections removed or overwritten in this
	// transaction (FSM.dropped).
	dropped uint64
	// created: the collections (volKey) created in this transaction, with
	// the index that created them (see newColl).
	created map[string]uint64
	// fault is the first failure to read or decode what the engine holds
	// (see fault): it stops the state machine instead of becoming a
	// command's result.
	fault error
}

func newTxn(eng storage.Reader, clock int64, volatile map[string]struct{}) *txn {
	return &txn{eng: eng, overlay: make(map[string][]byte), now: clock, clock: clock, volatile: volatile}
}

// begin starts applying c: it sets the time the command runs at.
func (t *txn) begin(c *Command) {
	t.clock = max(t.clock, c.Now)
	t.now = t.clock
	t.db = c.DB
}

// getRaw returns the raw value at engine key k.
func (t *txn) getRaw(k []byte) ([]byte, bool, error) {
	if v, ok := t.overlay[string(k)]; ok {
		return v, v != nil, nil
	}
	raw, err := t.eng.Get(k)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, t.failf("read %q: %w", k, err)
	}
	return raw, true, nil
}

// failf records a fault: the engine could not be read, or holds data that
// does not decode. Unlike an operation error, a fault is not the same on
// every replica (another replica's disk reads fine), so it must not become
// the command's result: ApplyBatch stops the state machine instead (see
// FSM.stop). It returns the error, wrapping ErrFailed, for the caller to
// return.
func (t *txn) failf(format string, a ...any) error {
	err := fmt.Errorf("%w: "+format, append([]any{ErrFailed}, a...)...)
	if t.fault == nil {
		t.fault = err
	}
	return err
}

func (t *txn) putRaw(k, v []byte) {
	t.overlay[string(k)] = t.batch.Put(k, v)
}

func (t *txn) delRaw(k []byte) {
	t.overlay[string(k)] = nil
	t.batch.Delete(k)
}

// load returns the stored value of user key key, expired or not.
func (t *txn) load(key []byte) (value, bool, error) {
	raw, ok, err := t.getRaw(dataKey(t.db, key))
	if !ok || err != nil {
		return value{}, false, err
	}
	v, err := decodeValue(raw)
	if err != nil {
		return value{}, false, t.failf("stored value of %q: %w", key, err)
	}
	return v, true, nil
}

// get returns the live value of user key key at the command's time. A
// value whose deadline has passed is absent, and is deleted in this batch.
func (t *txn) get(key []byte) (value, bool, error) {
	v, ok, err := t.load(key)
	if !ok || err != nil {
		return value{}, false, err
	}
	if v.expired(t.now) {
		t.remove(key, v)
		return value{}, false, nil
	}
	return v, true, nil
}

// getString is get for commands that work on strings: ErrWrongType for a
// key of another type.
func (t *txn) getString(key []byte) (value, bool, error) {
	v, ok, err := t.get(key)
	if ok && v.typ != typeString {
		return value{}, false, ErrWrongType
	}
	return v, ok, err
}

// put stores v at key, replacing whatever is there, and keeps the expiry
// index in step. A v whose deadline has already passed deletes the key.
//
// The old value matters only for its deadline (its expiry index entry goes)
// and for a v that is already expired. A value without a deadline written
// over a key outside the volatile set, which is most SETs, skips the read:
// the old value, if any, has no deadline and no index entry.
func (t *txn) put(key []byte, v value) error {
	var old value
	var had bool
	if v.expireAt != 0 || t.mayHaveDeadline(key) {
		var err error
		if old, had, err = t.load(key); err != nil {
			return err
		}
	}
	if v.expired(t.now) {
		if had {
			t.remove(key, old)
		} else {
			// Written and at once expired: to WATCH, a key created and
			// deleted (Redis signals the write).
			t.putRaw(tombKey(t.db, key), encodeTomb(t.index, t.index))
		}
		return nil
	}
	if had && isCollection(old.typ) && (old.typ != v.typ || collGen(old) != collGen(v)) {
		t.dropped++ // overwritten: its generation goes
	}
	if had && old.expireAt != 0 && old.expireAt != v.expireAt {
		t.delRaw(expireKey(old.expireAt, t.db, key))
	}
	v.version = t.index
	t.scratch = appendDataKey(t.scratch[:0], t.db, key)
	k := len(t.scratch)
	t.scratch = appendValue(t.scratch, v)
	t.putRaw(t.scratch[:k], t.scratch[k:])
	if v.expireAt != 0 && (!had || old.expireAt != v.expireAt) {
		t.putRaw(expireKey(v.expireAt, t.db, key), nil)
	}
	t.markVolatile(key, v.expireAt != 0)
	return nil
}

// mayHaveDeadline reports whether the stored value of key may have a
// deadline: true unless the volatile set is known and lacks key.
func (t *txn) mayHaveDeadline(key []byte) bool {
	if t.volatile == nil {
		return true
	}
	_, ok := t.volatile[volKey(t.db, key)]
	return ok
}

// markVolatile records whether key's value now has a deadline.
func (t *txn) markVolatile(key []byte, has bool) {
	switch {
	case t.volatile == nil:
	case has:
		t.volatile[volKey(t.db, key)] = struct{}{}
	default:
		delete(t.volatile, volKey(t.db, key))
	}
}

// putString stores a string value.
func (t *txn) putString(key, data []byte, expireAt int64) error {
	return t.put(key, value{typ: typeString, expireAt: expireAt, data: data})
}

// del deletes key and reports whether it was live (an expired key is
// deleted too, but does not count).
func (t *txn) del(key []byte) (bool, error) {
	v, ok, err := t.load(key)
	if !ok || err != nil {
		return false, err
	}
	t.remove(key, v)
	return !v.expired(t.now), nil
}

// remove deletes key, whose stored value is v, and its expiry index entry,
// and leaves a tombstone for WATCH (see multi.go).
func (t *txn) remove(key []byte, v value) {
	if isCollection(v.typ) {
		t.dropped++
	}
	t.delRaw(dataKey(t.db, key))
	t.putRaw(tombKey(t.db, key), encodeTomb(t.index, v.version))
	if v.expireAt != 0 {
		t.delRaw(expireKey(v.expireAt, t.db, key))
	}
	t.markVolatile(key, false)
}
