package raftkv

import (
	"context"
	"time"

	"github.com/riotkv/riot/kv"
)

// Active expiry: the leader deletes expired keys in the background by
// proposing OpExpire (see kv/expire.go for how deadlines are applied).

// expireLoop is the leader's active expiry: every ActiveExpireInterval it
// proposes OpExpire for the keys whose deadline has passed, at most
// ActiveExpireBatch per entry, until none is left. Any leader may do it: a
// deletion applies only to a key still expired at the entry's time, and
// reads already hide expired keys, so a leader change neither resurrects
// nor early-expires anything.
func (n *Node) expireLoop() {
	if n.cfg.ActiveExpireInterval <= 0 {
		return
	}
	t := time.NewTicker(n.cfg.ActiveExpireInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-n.reads.done:
			return
		}
		for n.IsLeader() {
			deleted, listed, err := n.ExpireOnce(context.Background())
			if err != nil {
				n.logger.Debug("active expiry", "err", err)
				break
			}
			if listed < n.cfg.ActiveExpireBatch || deleted == 0 {
				break
			}
		}
	}
}

// ExpireOnce runs one round of active expiry on the leader: it lists up to
// ActiveExpireBatch expired keys and proposes their deletion in one entry
// per database.
// It returns how many keys were deleted and how many were listed.
func (n *Node) ExpireOnce(ctx context.Context) (deleted, listed int, err error) {
	v, release := n.fsm.View()
	now := v.Time(time.Now().UnixMilli())
	byDB, err := v.ExpiredByDB(now, n.cfg.ActiveExpireBatch)
	release()
	if err != nil || len(byDB) == 0 {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.ApplyTimeout)
	defer cancel()
	// One entry per database: OpExpire's keys are in its Command.DB.
	for _, d := range byDB {
		listed += len(d.Keys)
		res, err := n.Apply(ctx, &kv.Command{Op: kv.OpExpire, Args: d.Keys, Now: now, DB: d.DB})
		if err == nil {
			err = res.Err
		}
		deleted += int(res.Int)
		if err != nil {
			return deleted, listed, err
		}
	}
	return deleted, listed, nil
}
