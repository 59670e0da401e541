package storage

import (
	"errors"
	"sync"
	"sync/atomic"
)

// ErrInjected is the error a FaultyEngine returns while failing.
var ErrInjected = errors.New("storage: injected storage error")

// FaultyEngine is an Engine that fails on demand, for tests of what its
// user does when the disk does (as pebble's errorfs): reads of the keys a
// FailReads function matches return ErrInjected (a Get of a stored key, an
// iterator from a matching start), or panic with PanicReads; Writes fail
// while FailWrites is set. Snapshots of the engine are not affected.
type FaultyEngine struct {
	Engine
	FailWrites atomic.Bool
	// Failed counts the reads that failed (or panicked).
	Failed atomic.Int64

	mu    sync.Mutex
	match func(key []byte) bool
	panic bool
}

// NewFaultyEngine wraps eng.
func NewFaultyEngine(eng Engine) *FaultyEngine { return &FaultyEngine{Engine: eng} }

// FailReads makes reads of the keys match reports fail (nil: none). An
// iterator is matched by the start of its range.
func (e *FaultyEngine) FailReads(match func(key []byte) bool) { e.set(match, false) }

// PanicReads is FailReads with a panic instead of an error.
func (e *FaultyEngine) PanicReads(match func(key []byte) bool) { e.set(match, true) }

// AllKeys matches every key.
func AllKeys([]byte) bool { return true }

func (e *FaultyEngine) set(match func([]byte) bool, panics bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.match, e.panic = match, panics
}

// fails reports whether a read of key fails, and panics if it must.
func (e *FaultyEngine) fails(key []byte) bool {
	e.mu.Lock()
	match, panics := e.match, e.panic
	e.mu.Unlock()
	if match == nil || !match(key) {
		return false
	}
	e.Failed.Add(1)
	if panics {
		panic("storage: injected panic reading " + string(key))
	}
	return true
}

func (e *FaultyEngine) Get(key []byte) ([]byte, error) {
	v, err := e.Engine.Get(key)
	if err == nil && e.fails(key) {
		return nil, ErrInjected
	}
	return v, err
}

func (e *FaultyEngine) NewIterator(r Range) Iterator {
	if e.fails(r.Start) {
		return failedIterator{}
	}
	return e.Engine.NewIterator(r)
}

func (e *FaultyEngine) Write(b *Batch) error {
	if e.FailWrites.Load() {
		return ErrInjected
	}
	return e.Engine.Write(b)
}

type failedIterator struct{}

func (failedIterator) Next() bool    { return false }
func (failedIterator) Key() []byte   { return nil }
func (failedIterator) Value() []byte { return nil }
func (failedIterator) Err() error    { return ErrInjected }
func (failedIterator) Close() error  { return ErrInjected }
