package kv

import (
	"bytes"
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
	if len(c.Args) != 2 {
		return argError(c, "2")
	}
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
	if err := tx.put(dst, v); err != nil {
		return errResult(err)
	}
	return Result{Int: 1}
}

// applyCopy: Args src, dst; Int 1 to replace dst. The copy keeps the
// deadline. Result.Int: 1 if copied.
func applyCopy(tx *txn, c *Command) Result {
	if len(c.Args) != 2 || bytes.Equal(c.Args[0], c.Args[1]) {
		return argError(c, "two different keys")
	}
	v, ok, err := tx.get(c.Args[0])
	if err != nil || !ok {
		return Result{Err: err}
	}
	_, exists, err := tx.get(c.Args[1])
	if err != nil {
		return errResult(err)
	}
	if exists && c.Int != 1 {
		return Result{Int: 0}
	}
	if err := tx.put(c.Args[1], v); err != nil {
		return errResult(err)
	}
	return Result{Int: 1}
}

// applyFlush deletes every key and the whole expiry index. It costs one
// batch operation per key.
func applyFlush(tx *txn, _ *Command) Result {
	for _, p := range [][]byte{dataPrefix, expirePrefix} {
		it := tx.eng.NewIterator(storage.PrefixRange(p))
		for it.Next() {
			if _, written := tx.overlay[string(it.Key())]; !written {
				tx.delRaw(it.Key())
				if p[0] == prefixData {
					tx.tombstone(dataUser(it.Key()), it.Value())
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
			tx.tombstone(dataUser([]byte(k)), tx.overlay[k])
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
}

// Lookup returns what key holds at now; ok is false when it does not exist.
func (v *View) Lookup(key []byte, now int64) (KeyInfo, bool, error) {
	dv, ok, err := v.lookup(key, now)
	if !ok || err != nil {
		return KeyInfo{}, false, err
	}
	return KeyInfo{Type: Type(dv.typ), ExpireAt: dv.expireAt, Value: dv.data, Version: dv.version}, true, nil
}

// Scan calls fn for each key live at now, in the order of their positions
// (slot, then key bytes; see Position), from the first position at or
// after start, until fn returns false. pos, key and info.Value are valid
// only during the call.
func (v *View) Scan(start []byte, now int64, fn func(pos, key []byte, info KeyInfo) bool) error {
	now = v.Time(now)
	it := v.r.NewIterator(storage.Range{Start: append(slices.Clip(dataPrefix), start...), Limit: []byte{prefixData, db + 1}})
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

// Count returns the number of keys live at now (a scan of the key space).
func (v *View) Count(now int64) (int64, error) {
	var n int64
	err := v.Scan(nil, now, func(_, _ []byte, _ KeyInfo) bool { n++; return true })
	return n, err
}
