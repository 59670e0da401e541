package kv

import (
	"bytes"
	"fmt"

	"github.com/riotkv/riot/storage"
)

// Expiry. A deadline is an absolute time in Unix ms, decided by the
// proposer (relative TTLs are turned into deadlines before proposing) and
// stored with the value; the expiry index ('e' + deadline + key, see
// keys.go) lists keys by deadline. Nothing reads a clock while applying:
// each command carries its Now, and a key whose deadline is at or before
// the command's time is absent (and deleted when the command touches it).
// Reads hide expired keys by the reading node's clock. The leader deletes
// expired keys in the background by proposing OpExpire (active expiry).

// EXPIRE conditions: the byte in Args[1] of OpPExpireAt.
const (
	ExpireNX = 1 << 0 // only if the key has no deadline
	ExpireXX = 1 << 1 // only if the key has a deadline
	ExpireGT = 1 << 2 // only if the new deadline is later (none counts as infinite)
	ExpireLT = 1 << 3 // only if the new deadline is earlier
)

// applyPExpireAt: Args key, [conditions byte]; Int the deadline (any
// int64: one at or before now deletes the key). Result.Int: 1 if the
// deadline was set (or the key deleted), 0 if the key does not exist or a
// condition was not met.
func applyPExpireAt(tx *txn, c *Command) Result {
	var cond byte
	if len(c.Args) == 2 {
		cond = c.Args[1][0]
	}
	key, when := c.Args[0], c.Int
	v, ok, err := tx.get(key)
	if err != nil || !ok {
		return Result{Err: err}
	}
	cur := v.expireAt // 0: none
	switch {
	case cond&ExpireNX != 0 && cur != 0,
		cond&ExpireXX != 0 && cur == 0,
		cond&ExpireGT != 0 && (cur == 0 || when <= cur),
		cond&ExpireLT != 0 && cur != 0 && when >= cur:
		return Result{Int: 0}
	}
	if when <= tx.now {
		tx.remove(key, v)
		return Result{Int: 1}
	}
	v.expireAt = when
	if err := tx.put(key, v); err != nil {
		return errResult(err)
	}
	return Result{Int: 1}
}

// applyPersist: Args key. Result.Int: 1 if a deadline was removed.
func applyPersist(tx *txn, c *Command) Result {
	v, ok, err := tx.get(c.Args[0])
	if err != nil || !ok || v.expireAt == 0 {
		return Result{Err: err}
	}
	v.expireAt = 0
	if err := tx.put(c.Args[0], v); err != nil {
		return errResult(err)
	}
	return Result{Int: 1}
}

// applyExpire (active expiry): Args keys. Deletes each key that is expired
// at the command's time; a key rewritten since the leader listed it is
// left alone, and a key already gone is skipped, so applying it twice is
// harmless. Result.Int: keys deleted.
func applyExpire(tx *txn, c *Command) Result {
	var n int64
	for _, k := range c.Args {
		v, ok, err := tx.load(k)
		if err != nil {
			return errResult(err)
		}
		if ok && v.expired(tx.now) {
			tx.remove(k, v)
			n++
		}
	}
	tx.expired += uint64(n)
	return Result{Int: n}
}

// ExpiredKeys lists up to limit keys of the view's database whose
// deadline is at or before now, earliest deadline first, from the expiry
// index.
func (v *View) ExpiredKeys(now int64, limit int) ([][]byte, error) {
	var keys [][]byte
	err := v.scanExpired(now, func(db uint8, user []byte) bool {
		if db == v.db {
			if n := len(keys); n == 0 || !bytes.Equal(keys[n-1], user) {
				keys = append(keys, bytes.Clone(user))
			}
		}
		return len(keys) < limit
	})
	return keys, err
}

// DBKeys are keys of one database.
type DBKeys struct {
	DB   uint8
	Keys [][]byte
}

// ExpiredByDB lists up to limit keys of any database whose deadline is at
// or before now, earliest deadline first, grouped by database (in order of
// the database): active expiry proposes one OpExpire per database.
func (v *View) ExpiredByDB(now int64, limit int) ([]DBKeys, error) {
	var byDB [MaxDatabases][][]byte
	n := 0
	err := v.scanExpired(now, func(db uint8, user []byte) bool {
		if k := len(byDB[db]); k == 0 || !bytes.Equal(byDB[db][k-1], user) {
			byDB[db] = append(byDB[db], bytes.Clone(user))
			n++
		}
		return n < limit
	})
	var out []DBKeys
	for db, keys := range byDB {
		if len(keys) > 0 {
			out = append(out, DBKeys{DB: uint8(db), Keys: keys})
		}
	}
	return out, err
}

// scanExpired calls fn with each expiry index entry whose deadline is at
// or before now, earliest first, until fn returns false.
func (v *View) scanExpired(now int64, fn func(db uint8, user []byte) bool) error {
	now = v.Time(now)
	if now < 0 {
		return nil
	}
	it := v.r.NewIterator(storage.Range{Start: expirePrefix, Limit: expireBound(now + 1)})
	for it.Next() {
		_, db, user, ok := splitExpireKey(it.Key())
		if ok && !fn(db, user) {
			break
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("raftkv: read expiry index: %w", err)
	}
	return nil
}

// CountExpiring returns the number of keys of the view's database live at
// now that have a deadline.
func (v *View) CountExpiring(now int64) (int64, error) {
	it := v.r.NewIterator(storage.Range{Start: expireBound(v.Time(now) + 1), Limit: []byte{prefixExpire + 1}})
	var n int64
	for it.Next() {
		if _, db, _, ok := splitExpireKey(it.Key()); ok && db == v.db {
			n++
		}
	}
	if err := it.Close(); err != nil {
		return 0, fmt.Errorf("raftkv: read expiry index: %w", err)
	}
	return n, nil
}
