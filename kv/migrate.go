package kv

import (
	"encoding/binary"
	"fmt"

	"github.com/riotkv/riot/storage"
)

// Format-1 families (releases before 2026-12-07): 'd' + user key (values),
// 'e' + deadline + user key (the expiry index), 't' + user key
// (tombstones).
const (
	prefixDataV1   = 'd'
	prefixExpireV1 = 'e'
	prefixTombV1   = 't'
)

// migrateBatch bounds the records one migration batch moves.
const migrateBatch = 4096

// migrateV1 moves every format-1 record of eng to its format-2 family (db 0,
// the key's slot; see keys.go) and returns how many it moved. Each batch
// writes the new records and deletes the old ones atomically, so a crash in
// the middle leaves every record in exactly one family and the next call
// finishes the move. It is a pure function of the engine's content: every
// replica that migrates the same state writes the same records.
func migrateV1(eng storage.Engine) (int, error) {
	moved := 0
	for _, family := range []byte{prefixDataV1, prefixExpireV1, prefixTombV1} {
		for {
			var b storage.Batch
			it := eng.NewIterator(storage.PrefixRange([]byte{family}))
			n := 0
			for n < migrateBatch && it.Next() {
				k := it.Key()
				nk, ok := migratedKey(k)
				if !ok {
					it.Close()
					return moved, fmt.Errorf("raftkv: migrate: malformed format-1 key %q", k)
				}
				b.Put(nk, it.Value())
				b.Delete(k)
				n++
			}
			if err := it.Close(); err != nil {
				return moved, fmt.Errorf("raftkv: migrate: read: %w", err)
			}
			if n == 0 {
				break
			}
			if err := eng.Write(&b); err != nil {
				return moved, fmt.Errorf("raftkv: migrate: write: %w", err)
			}
			moved += n
		}
	}
	return moved, nil
}

// migratedKey returns the format-2 key of format-1 key k.
func migratedKey(k []byte) ([]byte, bool) {
	switch k[0] {
	case prefixDataV1:
		return dataKey(0, k[1:]), true
	case prefixTombV1:
		return tombKey(0, k[1:]), true
	case prefixExpireV1:
		if len(k) < 9 {
			return nil, false
		}
		return expireKey(int64(binary.BigEndian.Uint64(k[1:9])), 0, k[9:]), true
	}
	return nil, false
}
