package raftkv

import (
	"errors"
	"fmt"

	"github.com/riotkv/riot/storage"
)

// View reads the state machine's data. It is not linearizable by itself:
// the caller (cluster) decides when it is safe to read.
type View struct {
	r storage.Reader
}

// Get returns the string value of key. ok is false when the key does not
// exist; err is ErrWrongType when it holds another type.
func (v *View) Get(key []byte) (val []byte, ok bool, err error) {
	raw, err := v.r.Get(dataKey(key))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("raftkv: get %q: %w", key, err)
	}
	dv, err := decodeValue(raw)
	if err != nil {
		return nil, false, err
	}
	if dv.typ != typeString {
		return nil, false, ErrWrongType
	}
	return dv.data, true, nil
}

// Exists reports whether key exists.
func (v *View) Exists(key []byte) (bool, error) {
	_, err := v.r.Get(dataKey(key))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("raftkv: exists %q: %w", key, err)
	}
	return true, nil
}

// Count returns the number of keys.
func (v *View) Count() (int64, error) {
	it := v.r.NewIterator(storage.PrefixRange(dataPrefix))
	var n int64
	for it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		return 0, fmt.Errorf("raftkv: count keys: %w", err)
	}
	return n, nil
}
