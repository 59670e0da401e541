package cluster

import (
	"context"

	"github.com/riotkv/riot/kv"
)

// Backup returns a consistent copy of the state for a backup, taken from
// this node's own state once it reflects every write acknowledged before
// the call (the linearizable read barrier, asked of the leader on a
// follower). The caller writes it and closes it.
func (r *Router) Backup(ctx context.Context) (*kv.Backup, error) {
	if err := r.ready(ctx, Linearizable); err != nil {
		return nil, err
	}
	return r.node.FSM().Backup()
}
