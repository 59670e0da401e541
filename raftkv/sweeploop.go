package raftkv

import (
	"errors"
	"time"

	"github.com/riotkv/riot/kv"
)

// sweepLoop removes the elements of deleted collections on this node
// (kv.FSM.Sweep), on every node, leader or not: it is outside the log.
// Every SweepInterval it runs steps of SweepBatch records until a pass
// ends without deleting anything or SweepBudget records were examined, so
// a huge DEL is swept at a bounded rate, a few ticks at a time. It ends
// when stop is closed; done is closed once it has.
func (n *Node) sweepLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(n.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-stop:
			return
		}
		n.sweepTick(stop)
	}
}

// sweepTick is one tick of sweepLoop.
func (n *Node) sweepTick(stop <-chan struct{}) {
	for examined := 0; examined < n.cfg.SweepBudget; {
		select {
		case <-stop:
			return
		default:
		}
		st, err := n.fsm.Sweep(min(n.cfg.SweepBatch, n.cfg.SweepBudget-examined))
		if err != nil {
			if !errors.Is(err, kv.ErrFailed) {
				n.logger.Warn("sweeper", "err", err)
			}
			return
		}
		examined += st.Examined
		if st.PassDone && st.PassDeleted == 0 {
			return
		}
	}
}
