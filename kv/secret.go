package kv

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/riotkv/riot/storage"
)

// The node secret. Node-to-node commands (RIOT.APPLY, RIOT.READINDEX, ...)
// travel over the client port, so a node proves it is one of the cluster's
// by presenting a secret only the cluster's state machines hold: the first
// leader draws it at random and proposes it (OpSecret); every replica
// stores it (it travels in snapshots, never in a client reply). A node
// learns it by applying the log, that is, by being added to the cluster,
// and presents it once per connection (RIOT.AUTH).

// minSecretBytes is the shortest secret OpSecret accepts.
const minSecretBytes = 16

// applySecret: Args the secret. The first secret recorded stays (two
// leaders of successive terms may both propose one). Result.Int: 1 if this
// entry recorded it.
func applySecret(tx *txn, c *Command) Result {
	_, found, err := tx.getRaw(keySecret)
	if err != nil || found {
		return Result{Err: err}
	}
	tx.putRaw(keySecret, c.Args[0])
	tx.secret = c.Args[0]
	return Result{Int: 1}
}

func readSecret(r storage.Reader) ([]byte, error) {
	b, err := r.Get(keySecret)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("raftkv: read node secret: %w", err)
	}
	return b, nil
}

// Secret returns the cluster's node secret, nil until this node has
// applied the entry that recorded it.
func (f *FSM) Secret() []byte {
	if p := f.secret.Load(); p != nil {
		return *p
	}
	return nil
}

// loadSecret sets the in-memory copy of the secret from the engine.
func (f *FSM) loadSecret() error {
	b, err := readSecret(f.eng)
	if err != nil {
		return err
	}
	f.setSecret(b)
	return nil
}

func (f *FSM) setSecret(b []byte) {
	if b == nil {
		f.secret.Store(nil)
		return
	}
	b = bytes.Clone(b)
	f.secret.Store(&b)
}
