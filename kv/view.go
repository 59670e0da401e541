package kv

import (
	"errors"
	"fmt"

	"github.com/riotkv/riot/storage"
)

// View reads the state machine's data. It is not linearizable by itself:
// the caller (cluster) decides when it is safe to read.
//
// Reads take a time, now (Unix ms): the reading node's clock. A key whose
// deadline is at or before it is absent. A time earlier than the state
// machine's clock (the largest time applied) is raised to it, so a key the
// log already treated as expired never reappears on a node whose clock is
// behind; now 0 reads at the state machine's clock.
type View struct {
	r     storage.Reader
	floor int64 // the state machine's clock when the view was made
	db    uint8 // the database its key reads and scans read
}

// DB returns a view of database n (SELECT's index) of the same state; a
// View reads database 0 until then.
func (v *View) DB(n uint8) *View {
	c := *v
	c.db = n
	return &c
}

// Database returns the database v reads.
func (v *View) Database() uint8 { return v.db }

// Time returns the time a read given now is made at: now, or the state
// machine's clock if that is later.
func (v *View) Time(now int64) int64 { return max(now, v.floor) }

// lookup returns the live value of key at now.
func (v *View) lookup(key []byte, now int64) (value, bool, error) {
	raw, err := v.r.Get(dataKey(v.db, key))
	if errors.Is(err, storage.ErrNotFound) {
		return value{}, false, nil
	}
	if err != nil {
		return value{}, false, fmt.Errorf("raftkv: get %q: %w", key, err)
	}
	dv, err := decodeValue(raw)
	if err != nil {
		return value{}, false, err
	}
	if dv.expired(v.Time(now)) {
		return value{}, false, nil
	}
	return dv, true, nil
}

// Get returns the string value of key at now. ok is false when the key does
// not exist; err is ErrWrongType when it holds another type.
func (v *View) Get(key []byte, now int64) (val []byte, ok bool, err error) {
	dv, ok, err := v.lookup(key, now)
	if !ok || err != nil {
		return nil, false, err
	}
	if dv.typ != typeString {
		return nil, false, ErrWrongType
	}
	return dv.data, true, nil
}

// Exists reports whether key exists at now.
func (v *View) Exists(key []byte, now int64) (bool, error) {
	_, ok, err := v.lookup(key, now)
	return ok, err
}
