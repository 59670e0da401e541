package kv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/riotkv/riot/storage"
)

// Keyspace operations work on keys of any type: a value is moved or copied
// whole, with its deadline.

// applyDel: Args keys. Result.Int: the number of live keys deleted.
func applyDel(tx *txn, c *Command) Result {
	var n int64
	for _, k := range c.Args {
		live, err := tx.del(k)
		if err != nil {
			return errResult(err)
		}
		if live {
			n++
		}
	}
	return Result{Int: n}
}

// applyRename: Args src, dst; Int 1 for RENAMENX (do nothing when dst
// exists). The value keeps its deadline. Result.Int: 1 if renamed.
func applyRename(tx *txn, c *Command) Result {
	src, dst := c.Args[0], c.Args[1]
	v, ok, err := tx.get(src)
	if err != nil {
		return errResult(err)
	}
	if !ok {
		return errResult(ErrNoSuchKey)
	}
	if bytes.Equal(src, dst) {
		return Result{Int: 0}
	}
	if c.Int == 1 {
		_, exists, err := tx.get(dst)
		if err != nil {
			return errResult(err)
		}
		if exists {
			return Result{Int: 0}
		}
	}
	tx.remove(src, v)
	if err := tx.copyValue(tx.db, src, v, dst); err != nil {
		return errResult(err)
	}
	return Result{Int: 1}
}

// applyCopy: Args src, dst, [target database byte]; Int 1 to replace
// dst. The copy keeps the deadline. Result.Int: 1 if copied.
func applyCopy(tx *txn, c *Command) Result {
	to := tx.db
	if len(c.Args) == 3 {
		to = c.Args[2][0]
	}
	v, ok, err := tx.get(c.Args[0])
	if err != nil || !ok {
		return Result{Err: err}
	}
	from := tx.db
	defer func() { tx.db = from }()
	tx.db = to
	_, exists, err := tx.get(c.Args[1])
	if err != nil {
		return errResult(err)
	}
	if exists && c.Int != 1 {
		return Result{Int: 0}
	}
	if err := tx.copyValue(from, c.Args[0], v, c.Args[1]); err != nil {
		return errResult(err)
	}
	return Result{Int: 1}
}

// applyMove: Args key; Int the target database. The value keeps its
// deadline. Result.Int: 1 if moved, 0 if the key does not exist or exists
// in the target database.
func applyMove(tx *txn, c *Command) Result {
	if c.Int < 0 || c.Int >= MaxDatabases || c.Int == int64(tx.db) {
		return Result{Err: badEntry(c, "target database %d", c.Int)}
	}
	key, from, to := c.Args[0], tx.db, uint8(c.Int)
	defer func() { tx.db = from }()
	v, ok, err := tx.get(key)
	if err != nil || !ok {
		return Result{Err: err}
	}
	tx.db = to
	if _, exists, err := tx.get(key); err != nil || exists {
		return Result{Err: err}
	}
	if err := tx.copyValue(from, key, v, key); err != nil {
		return errResult(err)
	}
	tx.db = from
	tx.remove(key, v)
	return Result{Int: 1}
}

// applySwapDB: Args the two databases (a byte each). Every key of each is
// removed (a tombstone for WATCH) and written in the other: O(keys of the
// two).
func applySwapDB(tx *txn, c *Command) Result {
	a, b := c.Args[0][0], c.Args[1][0]
	if a == b {
		return Result{}
	}
	from := tx.db
	defer func() { tx.db = from }()
	var recs [2][]storedKey
	for i, db := range []uint8{a, b} {
		tx.db = db
		var err error
		if recs[i], err = tx.removeAll(); err != nil {
			return errResult(err)
		}
	}
	for i, db := range []uint8{b, a} {
		tx.db = db
		for _, r := range recs[i] {
			var err error
			if isCollection(r.v.typ) {
				err = tx.putLoaded(r.key, r.v, r.elems)
			} else {
				err = tx.put(r.key, r.v)
			}
			if err != nil {
				return errResult(err)
			}
		}
	}
	return Result{}
}

// storedKey is a user key and its stored value; for a collection, its
// elements too.
type storedKey struct {
	key   []byte
	v     value
	elems collElems
}

// removeAll removes every key of tx.db (expired or not, each with its
// tombstone) and returns them, sorted, collections with their elements
// (read before anything is written: SWAPDB writes each database's keys in
// the other).
func (t *txn) removeAll() ([]storedKey, error) {
	keys, err := t.dbKeys(t.db)
	if err != nil {
		return nil, err
	}
	var out []storedKey
	for _, k := range keys {
		v, ok, err := t.load(k)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		r := storedKey{key: k, v: v}
		if isCollection(v.typ) {
			c, err := t.collOf(t.db, k, v)
			if err != nil {
				return nil, err
			}
			if r.elems, err = loadElems(c); err != nil {
				return nil, t.failf("%w", err)
			}
		}
		t.remove(k, v)
		out = append(out, r)
	}
	return out, nil
}

// dbKeys returns the user keys stored in database db, in the engine or
// written earlier in the batch, sorted (the batch is the same on every
// replica).
func (t *txn) dbKeys(db uint8) ([][]byte, error) {
	p := dataPrefix(db)
	var keys [][]byte
	it := t.eng.NewIterator(storage.PrefixRange(p))
	for it.Next() {
		if _, written := t.overlay[string(it.Key())]; !written {
			keys = append(keys, bytes.Clone(dataUser(it.Key())))
		}
	}
	if err := it.Close(); err != nil {
		return nil, t.failf("keys of database %d: %w", db, err)
	}
	for k, v := range t.overlay {
		if v != nil && len(k) >= keyHead && k[0] == prefixData && k[1] == db {
			keys = append(keys, []byte(k[keyHead:]))
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	return keys, nil
}

// applyFlush: Int 0 deletes every key of every database and the whole
// expiry index (FLUSHALL; an entry from before databases existed meant
// database 0, then the only one); Int 1 deletes the keys of the command's
// database (FLUSHDB). It costs one batch operation per key.
func applyFlush(tx *txn, c *Command) Result {
	tx.dropped++ // collections may go: the sweeper looks
	if c.Int == 1 {
		_, err := tx.removeAll()
		return Result{Err: err}
	}
	for _, p := range [][]byte{{prefixData}, expirePrefix} {
		it := tx.eng.NewIterator(storage.PrefixRange(p))
		for it.Next() {
			if _, written := tx.overlay[string(it.Key())]; !written {
				tx.delRaw(it.Key())
				if p[0] == prefixData {
					tx.tombstone(dataDB(it.Key()), dataUser(it.Key()), it.Value())
				}
			}
		}
		if err := it.Close(); err != nil {
			return errResult(tx.failf("flush: %w", err))
		}
	}
	// Keys written earlier in this batch are not in the engine yet.
	var pending []string
	for k, v := range tx.overlay {
		if v != nil && (isDataKey([]byte(k)) || (len(k) > 0 && k[0] == prefixExpire)) {
			pending = append(pending, k)
		}
	}
	slices.Sort(pending) // the batch is the same on every replica
	for _, k := range pending {
		if k[0] == prefixData {
			tx.tombstone(dataDB([]byte(k)), dataUser([]byte(k)), tx.overlay[k])
		}
		tx.delRaw([]byte(k))
	}
	clear(tx.volatile) // no key has a deadline now
	return Result{}
}

// KeyInfo describes a live key.
type KeyInfo struct {
	Type Type
	// ExpireAt is the key's deadline in Unix ms, 0 for none.
	ExpireAt int64
	// Value is the stored payload: for a string, the string.
	Value []byte
	// Version is the raft index of the entry that last wrote the key (0
	// for a key written before versions existed). WATCH records it.
	Version uint64
	// Coll is the collection, for a hash, set or sorted set (Lookup
	// only; nil for a string and in Scan).
	Coll *Coll
}

// Lookup returns what key holds at now; ok is false when it does not exist.
func (v *View) Lookup(key []byte, now int64) (KeyInfo, bool, error) {
	dv, ok, err := v.lookup(key, now)
	if !ok || err != nil {
		return KeyInfo{}, false, err
	}
	info := KeyInfo{Type: Type(dv.typ), ExpireAt: dv.expireAt, Value: dv.data, Version: dv.version}
	if isCollection(dv.typ) {
		if info.Coll, err = collFrom(v.r, v.db, key, dv); err != nil {
			return KeyInfo{}, false, err
		}
	}
	return info, true, nil
}

// Scan calls fn for each key of the view's database live at now, in the order of their positions
// (slot, then key bytes; see Position), from the first position at or
// after start, until fn returns false. pos, key and info.Value are valid
// only during the call.
func (v *View) Scan(start []byte, now int64, fn func(pos, key []byte, info KeyInfo) bool) error {
	now = v.Time(now)
	it := v.r.NewIterator(storage.Range{Start: append(dataPrefix(v.db), start...), Limit: storage.PrefixRange(dataPrefix(v.db)).Limit})
	for it.Next() {
		dv, err := decodeValue(it.Value())
		if err != nil {
			it.Close()
			return err
		}
		if dv.expired(now) {
			continue
		}
		if !fn(dataPos(it.Key()), dataUser(it.Key()), KeyInfo{Type: Type(dv.typ), ExpireAt: dv.expireAt, Value: dv.data, Version: dv.version}) {
			break
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("raftkv: scan keys: %w", err)
	}
	return nil
}

// Count returns the number of keys of the view's database live at now (a scan of the key space).
func (v *View) Count(now int64) (int64, error) {
	var n int64
	err := v.Scan(nil, now, func(_, _ []byte, _ KeyInfo) bool { n++; return true })
	return n, err
}

// slotPrefix is where the data keys of slot slot in the view's database
// begin: one slot of one database is one contiguous range.
func (v *View) slotPrefix(slot uint16) []byte {
	return binary.BigEndian.AppendUint16(dataPrefix(v.db), slot)
}

// scanSlot calls fn for each key of slot in the view's database live at
// now, in key order, until fn returns false. key is valid only during the
// call.
func (v *View) scanSlot(slot uint16, now int64, fn func(key []byte) bool) error {
	now = v.Time(now)
	it := v.r.NewIterator(storage.PrefixRange(v.slotPrefix(slot)))
	for it.Next() {
		dv, err := decodeValue(it.Value())
		if err != nil {
			it.Close()
			return fmt.Errorf("raftkv: keys of slot %d: %w", slot, err)
		}
		if dv.expired(now) {
			continue
		}
		if !fn(dataUser(it.Key())) {
			break
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("raftkv: keys of slot %d: %w", slot, err)
	}
	return nil
}

// CountKeysInSlot returns the number of keys of hash slot slot (see Slot)
// in the view's database live at now: CLUSTER COUNTKEYSINSLOT. It scans
// the slot's keys only.
func (v *View) CountKeysInSlot(slot uint16, now int64) (int64, error) {
	var n int64
	err := v.scanSlot(slot, now, func([]byte) bool { n++; return true })
	return n, err
}

// KeysInSlot returns up to count keys of hash slot slot in the view's
// database live at now, in key order: CLUSTER GETKEYSINSLOT.
func (v *View) KeysInSlot(slot uint16, count int, now int64) ([][]byte, error) {
	var keys [][]byte
	if count <= 0 {
		return nil, nil
	}
	err := v.scanSlot(slot, now, func(k []byte) bool {
		keys = append(keys, bytes.Clone(k))
		return len(keys) < count
	})
	return keys, err
}
