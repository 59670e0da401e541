package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// Backup returns a consistent copy of the state for a backup, taken from
// this node's own state once it reflects every write acknowledged before
// the call (the linearizable read barrier, asked of the leader on a
// follower). The caller writes it and closes it.
func (r *Router) Backup(ctx context.Context) (*kv.Backup, error) {
	if err := r.backupBarrier(ctx); err != nil {
		return nil, err
	}
	return r.node.FSM().Backup()
}

// backupBarrier is the linearizable read barrier (ready), also on a
// follower of a data group. A data group's reads are otherwise served by
// its leader alone (clients are redirected, and its router never forwards),
// but a backup may be taken from any replica: the follower asks the
// group's leader for a read index (RIOT.READINDEX <group>) and waits until
// it has applied it.
func (r *Router) backupBarrier(ctx context.Context) error {
	if err := r.node.FSM().Err(); err != nil {
		return err
	}
	if r.group != 0 && !r.node.IsLeader() {
		raw, err := r.call(ctx, []byte(CmdReadIndex), []byte(strconv.FormatUint(uint64(r.group), 10)))
		switch {
		case errors.Is(err, errBecameLeader):
			return r.ready(ctx, Linearizable)
		case err != nil:
			return fmt.Errorf("cluster: read index of group %d: %w", r.group, err)
		}
		n, err := respwire.ReplyInt(raw)
		if err != nil || n < 0 {
			return fmt.Errorf("cluster: bad read index reply %q: %v", raw, err)
		}
		return r.node.WaitApplied(ctx, uint64(n))
	}
	return r.ready(ctx, Linearizable)
}
