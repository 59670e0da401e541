package raftkv

import (
	"errors"
	"fmt"

	"github.com/riotkv/riot/storage"
)

// txn accumulates one raft batch's writes into a single storage batch, with
// an overlay so that later commands in the batch see earlier ones. Keys are
// engine keys (prefixed); get/put/del work on user data keys.
type txn struct {
	eng     storage.Reader
	batch   storage.Batch
	overlay map[string][]byte // engine key -> raw value; nil: deleted in this batch
}

func newTxn(eng storage.Reader) *txn {
	return &txn{eng: eng, overlay: make(map[string][]byte)}
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
		return nil, false, fmt.Errorf("raftkv: read %q: %w", k, err)
	}
	return raw, true, nil
}

func (t *txn) putRaw(k, v []byte) {
	v = append(make([]byte, 0, len(v)), v...)
	t.overlay[string(k)] = v
	t.batch.Put(k, v)
}

func (t *txn) delRaw(k []byte) {
	t.overlay[string(k)] = nil
	t.batch.Delete(k)
}

// get returns the value of user key key.
func (t *txn) get(key []byte) (value, bool, error) {
	raw, ok, err := t.getRaw(dataKey(key))
	if !ok || err != nil {
		return value{}, false, err
	}
	v, err := decodeValue(raw)
	if err != nil {
		return value{}, false, err
	}
	return v, true, nil
}

func (t *txn) put(key []byte, v value) { t.putRaw(dataKey(key), encodeValue(v)) }

func (t *txn) del(key []byte) { t.delRaw(dataKey(key)) }
