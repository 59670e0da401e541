package raftkv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/riotkv/riot/kv"
)

// The node secret itself, how it is applied and kept, is kv's (kv/secret.go).

// ProposeSecret proposes the node secret: a fresh one when the state
// machine has none (the cluster's first leader, or the first one of a
// release that has secrets), else the one it has again. A new leader runs
// it once its term's barrier committed, and the cluster package again when
// a caught-up member reports it has none. Proposing it again is a no-op for
// the nodes that have it, and gives it to a node that applied the first
// OpSecret with an older release (which knew no such op) and was upgraded
// since: without it, that node could never forward a write.
func (n *Node) ProposeSecret(ctx context.Context) error {
	secret := n.fsm.Secret()
	if secret == nil {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("raftkv: draw a node secret: %w", err)
		}
		secret = []byte(hex.EncodeToString(b))
	}
	_, err := n.Apply(ctx, &kv.Command{Op: kv.OpSecret, Args: [][]byte{secret}})
	return err
}
