package kv

import (
	"context"
	"sync"
)

// appliedWaiters lets readers wait until the state machine has applied a
// given index.
type appliedWaiters struct {
	mu      sync.Mutex
	applied uint64
	failed  bool
	ch      chan struct{} // closed and replaced on every advance
}

func (w *appliedWaiters) init() { w.ch = make(chan struct{}) }

func (w *appliedWaiters) notify(idx uint64) {
	w.mu.Lock()
	if idx > w.applied {
		w.applied = idx
		close(w.ch)
		w.ch = make(chan struct{})
	}
	w.mu.Unlock()
}

func (w *appliedWaiters) fail() {
	w.mu.Lock()
	w.failed = true
	close(w.ch)
	w.ch = make(chan struct{})
	w.mu.Unlock()
}

func (w *appliedWaiters) recover() {
	w.mu.Lock()
	w.failed = false
	w.mu.Unlock()
}

// WaitApplied blocks until the state machine has applied index idx, the
// context ends, or the state machine fails.
func (f *FSM) WaitApplied(ctx context.Context, idx uint64) error {
	for {
		if f.applied.Load() >= idx {
			return nil
		}
		f.waiters.mu.Lock()
		ch, failed := f.waiters.ch, f.waiters.failed
		f.waiters.mu.Unlock()
		if failed {
			return f.Err()
		}
		if f.applied.Load() >= idx {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
