package kv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/riotkv/riot/storage"
)

// Transactions. A MULTI/EXEC transaction is one log entry, OpMulti, that
// holds every queued command; applying it applies them one after the other
// in the entry's txn, at the entry's time, so on every replica the whole
// transaction is in one storage batch and nothing runs between its
// commands. A command's operation error (INCR of a non-integer) is its own
// Result; the others still apply, as in Redis.
//
// WATCH is optimistic: every value records the raft index of the entry
// that last wrote it (its version, see keys.go), and every deletion leaves a
// tombstone (the deleting entry's index and the deleted version). WATCH
// reads each key's version and liveness, and the applied index of the state
// it read, through a linearizable read; the OpMulti entry carries them, and
// applying it first compares them with the keys' state at the entry's time.
// If a key was modified since (written, deleted, renamed over, expired,
// created, even created and deleted again), nothing is applied and the
// Result is Null.
//
// Reads queued in a transaction are OpLookup commands inside the entry:
// they return the stored values at that point of the transaction, and the
// RESP layer formats the reply from them (LookupView), so the reads are as
// linearizable as the writes around them.

// Watch is a watched key and what WATCH saw.
type Watch struct {
	Key []byte
	// DB is the key's database (SELECT's index when WATCH ran).
	DB uint8
	// Live: the key existed (and had not expired).
	Live bool
	// Version of the stored value: of the live key, or of an expired one
	// still stored; 0 if there was none.
	Version uint64
	// Index is the applied index of the state WATCH read: a deletion of
	// the key after it (a tombstone above it) is a modification. 0: not
	// known (tombstones are not checked).
	Index uint64
}

// Watch flag bits (the byte after the key in EncodeWatches).
const (
	watchLive  = 1 << 0
	watchIndex = 1 << 1 // an index follows the version
	watchDB    = 1 << 2 // a database byte follows (absent: 0)
)

// EncodeWatches encodes watches for Args[0] of OpMulti: for each, the key
// (uvarint length + bytes), a flags byte (bit 0 live, bit 1 index present),
// the version (uvarint), with bit 1 the index (uvarint) and with bit 2
// the database (a byte, not 0).
func EncodeWatches(ws []Watch) []byte {
	var b []byte
	for _, w := range ws {
		b = binary.AppendUvarint(b, uint64(len(w.Key)))
		b = append(b, w.Key...)
		var flags byte
		if w.Live {
			flags |= watchLive
		}
		if w.Index != 0 {
			flags |= watchIndex
		}
		if w.DB != 0 {
			flags |= watchDB
		}
		b = append(b, flags)
		b = binary.AppendUvarint(b, w.Version)
		if w.Index != 0 {
			b = binary.AppendUvarint(b, w.Index)
		}
		if w.DB != 0 {
			b = append(b, w.DB)
		}
	}
	return b
}

// decodeWatches decodes what EncodeWatches wrote.
func decodeWatches(b []byte) ([]Watch, error) {
	var ws []Watch
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || l >= uint64(len(b)-n) {
			return nil, fmt.Errorf("%w: bad watched key", ErrBadEntry)
		}
		w := Watch{Key: b[n : n+int(l)]}
		b = b[n+int(l):]
		flags := b[0]
		if flags&^(watchLive|watchIndex|watchDB) != 0 {
			return nil, fmt.Errorf("%w: bad watch flags %d", ErrBadEntry, flags)
		}
		w.Live = flags&watchLive != 0
		b = b[1:]
		if w.Version, n = binary.Uvarint(b); n <= 0 {
			return nil, fmt.Errorf("%w: bad watched version", ErrBadEntry)
		}
		b = b[n:]
		if flags&watchIndex != 0 {
			if w.Index, n = binary.Uvarint(b); n <= 0 || w.Index == 0 {
				return nil, fmt.Errorf("%w: bad watched index", ErrBadEntry)
			}
			b = b[n:]
		}
		if flags&watchDB != 0 {
			if len(b) == 0 || b[0] == 0 {
				return nil, fmt.Errorf("%w: bad watched database", ErrBadEntry)
			}
			w.DB, b = b[0], b[1:]
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// NewMulti returns the OpMulti command of a transaction: the watches and
// the queued commands, in order. The commands must not carry request IDs
// (the transaction as a whole may) and must not be transactions.
func NewMulti(watches []Watch, cmds []*Command) *Command {
	args := make([][]byte, 0, 1+len(cmds))
	args = append(args, EncodeWatches(watches))
	for _, c := range cmds {
		args = append(args, c.Encode())
	}
	return &Command{Op: OpMulti, Args: args}
}

// Watch returns what WATCH records for key, read at now. The view should
// be a snapshot (FSM.SnapshotView), so that the index is that of the state
// the key was read in. The key is in the view's database.
func (v *View) Watch(key []byte, now int64) (Watch, error) {
	w := Watch{Key: append([]byte(nil), key...), DB: v.db}
	raw, err := v.r.Get(dataKey(v.db, key))
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return w, fmt.Errorf("raftkv: watch %q: %w", key, err)
	default:
		dv, err := decodeValue(raw)
		if err != nil {
			return w, err
		}
		w.Live, w.Version = !dv.expired(v.Time(now)), dv.version
	}
	idx, err := readApplied(v.r)
	if err != nil {
		return w, err
	}
	w.Index = idx
	return w, nil
}

// watchChanged reports whether key w.Key was modified since WATCH saw it,
// at the entry's time.
func watchChanged(tx *txn, w Watch) (bool, error) {
	tx.db = w.DB
	v, ok, err := tx.load(w.Key)
	if err != nil {
		return false, err
	}
	live := ok && !v.expired(tx.now)
	switch {
	case live != w.Live:
		return true, nil // deleted, expired or created
	case ok:
		// Live then and now, or expired then and now: the same value?
		return v.version != w.Version, nil
	case w.Index == 0:
		return false, nil
	}
	// Not there then, not stored now: was it deleted since?
	raw, found, err := tx.getRaw(tombKey(w.DB, w.Key))
	if err != nil {
		return false, err
	}
	if !found {
		// No deletion since, unless its tombstone was pruned.
		raw, found, err := tx.getRaw(keyTombFloor)
		if err != nil || !found {
			return false, err
		}
		floor, err := decodeIndex(raw)
		if err != nil {
			return false, tx.failf("tombstone floor: %w", err)
		}
		return w.Index < floor, nil
	}
	at, version, err := decodeTomb(raw)
	if err != nil {
		return false, tx.failf("tombstone of %q: %w", w.Key, err)
	}
	// Deleting the expired value WATCH saw is no modification (Redis).
	return at > w.Index && (w.Version == 0 || version != w.Version), nil
}

// tombstone records the deletion of user key key of database db whose
// stored value was raw, by the entry being applied.
func (t *txn) tombstone(db uint8, key, raw []byte) {
	v, err := decodeValue(raw)
	if err != nil {
		_ = t.failf("stored value of %q: %w", key, err)
		return
	}
	t.putRaw(tombKey(db, key), encodeTomb(t.index, v.version))
}

// pruneTombstones deletes tombstones of deletions at or before index
// cutoff and records the cutoff: a WATCH that read an older state than it
// cannot tell whether its key was deleted since, and aborts.
func pruneTombstones(tx *txn, cutoff uint64) error {
	it := tx.eng.NewIterator(storage.PrefixRange(tombPrefix))
	for it.Next() {
		at, _, err := decodeTomb(it.Value())
		if err != nil {
			it.Close()
			return tx.failf("tombstone %q: %w", it.Key(), err)
		}
		if at <= cutoff {
			tx.delRaw(it.Key())
		}
	}
	if err := it.Close(); err != nil {
		return tx.failf("prune tombstones: %w", err)
	}
	raw, found, err := tx.getRaw(keyTombFloor)
	if err != nil {
		return err
	}
	if found {
		floor, err := decodeIndex(raw)
		if err != nil {
			return tx.failf("tombstone floor: %w", err)
		}
		if floor >= cutoff {
			return nil
		}
	}
	tx.putRaw(keyTombFloor, encodeIndex(cutoff))
	return nil
}

// applyMulti: see OpMulti; watches and cmds are its decoded, validated
// parts (decodeTransaction: a malformed entry is rejected whole before
// anything is applied).
func applyMulti(tx *txn, watches []Watch, cmds []Command) Result {
	for _, w := range watches {
		changed, err := watchChanged(tx, w)
		if err != nil {
			return errResult(err)
		}
		if changed {
			return Result{Null: true} // a watched key changed: EXEC aborts
		}
	}
	res := make([]Result, len(cmds))
	for i := range cmds {
		sub := &cmds[i]
		// Every command runs at the transaction's time, whatever its Now,
		// in its own database (SELECT inside MULTI changes it for the
		// commands after it).
		tx.db = sub.DB
		res[i] = ops[sub.Op](tx, sub) // decodeTransaction: a client op
	}
	return Result{Array: res}
}

// applyLookup: Args keys. Result.Int: the time of the read; Result.Array:
// for each key, Value the stored value if the key is live, else Null; for
// a collection, Array its element records (engine key, value, ...). It
// writes nothing (an expired key is left for active expiry).
func applyLookup(tx *txn, c *Command) Result {
	res := make([]Result, len(c.Args))
	for i, k := range c.Args {
		raw, ok, err := tx.getRaw(dataKey(tx.db, k))
		if err != nil {
			return errResult(err)
		}
		var v value
		if ok {
			if v, err = decodeValue(raw); err != nil {
				return errResult(tx.failf("stored value of %q: %w", k, err))
			}
			ok = !v.expired(tx.now)
		}
		if !ok {
			res[i] = Result{Null: true}
			continue
		}
		res[i] = bulk(raw)
		if isCollection(v.typ) {
			elems, err := lookupElems(tx, k, v)
			if err != nil {
				return errResult(err)
			}
			res[i].Array = elems
		}
	}
	return Result{Int: tx.now, Array: res}
}

// lookupElems returns the element records of collection key (metadata v),
// both families, as engine key, value, key, value...
func lookupElems(tx *txn, key []byte, v value) ([]Result, error) {
	c, err := tx.collOf(tx.db, key, v)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, family := range []byte{prefixElem, prefixScore} {
		err := c.iterate(storage.PrefixRange(c.base(family)), func(k, v []byte) bool {
			out = append(out, bulk(bytes.Clone(k)), bulk(bytes.Clone(v)))
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LookupView returns a View of the keys an OpLookup read, as the lookup
// saw them (r is its Result), at the lookup's time: a read through it
// answers as a read of the state machine at that point of the transaction
// would. Keys the lookup did not read are absent; scans see nothing. The
// view is of database 0, whatever database the lookup read: its keys are
// those the lookup read.
func LookupView(keys [][]byte, r Result) (*View, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	if len(r.Array) != len(keys) {
		return nil, fmt.Errorf("%w: lookup of %d keys returned %d values", ErrBadEntry, len(keys), len(r.Array))
	}
	m := make(map[string][]byte, len(keys))
	for i, k := range keys {
		a := r.Array[i]
		if a.Null {
			continue
		}
		m[string(dataKey(0, k))] = a.Value
		if len(a.Array)%2 != 0 {
			return nil, fmt.Errorf("%w: lookup of %q returned %d element records", ErrBadEntry, k, len(a.Array))
		}
		for j := 0; j < len(a.Array); j += 2 {
			ek := bytes.Clone(a.Array[j].Value)
			if _, _, _, _, ok := splitElemKey(ek); !ok {
				return nil, fmt.Errorf("%w: lookup of %q returned element key %q", ErrBadEntry, k, ek)
			}
			ek[1] = 0 // the view is of database 0
			m[string(ek)] = a.Array[j+1].Value
		}
	}
	// Only the keys the lookup read are there: a scan of the key space
	// sees them alone.
	return &View{r: newSliceReader(m), floor: r.Int}, nil
}
