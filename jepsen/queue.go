package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
)

// The queue workload (issue 20) takes a share of the workers' turns, as
// the collection workloads do: RPUSH of a unique value (one per push,
// never reused) and LPOP on a few lists used as queues. Queues are
// replaced by fresh ones after OpsPerKey ops, so that porcupine checks
// each queue's history (QueueModel) in reasonable time. After healing,
// each queue is read whole through the leader (a final LRANGE, in the
// history) and on every member (convergence), and checkQueues checks
// that no value came out twice or from nowhere, that every acknowledged
// push came out or is still queued, and the FIFO order of pushes that
// did not overlap in time.

// startQueues sets the queue workload up, only when a member answers
// that it knows RPUSH (so that the suite runs on builds without lists).
func (w *Workload) startQueues(cw *collWorkload) {
	if w.cfg.QueueShare <= 0 {
		cw.qskip = "no share of the turns"
		return
	}
	known, err := w.probeCommand("rpush")
	switch {
	case err != nil:
		cw.qskip = fmt.Sprintf("COMMAND INFO rpush failed: %v", err)
	case !known:
		cw.qskip = "the servers do not know RPUSH"
	default:
		cw.queues = newKeyspace(w.cfg.Prefix+":q", max(w.cfg.QueueKeys, 1), w.cfg.OpsPerKey)
	}
}

// queueOp returns a queue op for a worker's turn: half pushes, half pops.
func (cw *collWorkload) queueOp(rng *rand.Rand) Op {
	op := Op{Kind: OpLPop, Key: cw.queues.pick(rng)}
	if rng.IntN(2) == 0 {
		op.Kind, op.Value = OpRPush, fmt.Sprintf("v%d", cw.qseq.Add(1))
	}
	return op
}

// invokeQueue runs a queue op (invokeColl's part for them).
func invokeQueue(ctx context.Context, cl *redis.Client, op *Op) error {
	var err error
	switch op.Kind {
	case OpRPush:
		op.Count, err = cl.RPush(ctx, op.Key, op.Value).Result()
	case OpLPop:
		op.Value, err = cl.LPop(ctx, op.Key).Result()
		if errors.Is(err, redis.Nil) {
			op.Value, err = "", nil
		}
	case OpLRange:
		op.Elems, err = cl.LRange(ctx, op.Key, 0, -1).Result()
	}
	return err
}

// QueueModel is a FIFO queue per key, its state the values head first,
// separated by spaces (porcupine compares states with ==): RPUSH appends
// and returns the new length (any when the reply is unknown), LPOP
// returns the head ("" when empty; any when unknown, and removes the head
// if there is one), LRANGE returns the whole queue.
var QueueModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return "" },
	Step: func(state, in, out any) (bool, any) {
		st, i, o := state.(string), in.(input), out.(output)
		switch i.Kind {
		case OpRPush:
			next := i.Value
			if st != "" {
				next = st + " " + i.Value
			}
			return o.Unknown || o.Count == int64(strings.Count(next, " ")+1), next
		case OpLPop:
			head, rest, _ := strings.Cut(st, " ")
			return o.Unknown || o.Value == head, rest
		}
		return o.Value == st, st
	},
	DescribeOperation: describeOp,
	DescribeState: func(state any) string {
		return "[" + state.(string) + "]"
	},
	DescribeOperationMetadata: func(m any) string { s, _ := m.(string); return s },
}

// queueKeys returns every queue used.
func (w *Workload) queueKeys() []string {
	if w.coll == nil || w.coll.queues == nil {
		return nil
	}
	return w.coll.queues.keys()
}

// localQueueValues reads the queues from s's local state (READONLY), as
// convergence compares them: the values, head first, separated by
// spaces; nil when empty.
func localQueueValues(s *Server, keys []string, out map[string]*string) error {
	cl := newDataClient(s.Addr, 5*time.Second, true)
	defer cl.Close()
	for _, k := range keys {
		op := Op{Kind: OpLRange, Key: k, Final: true}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := invokeQueue(ctx, cl, &op)
		cancel()
		if err != nil {
			return fmt.Errorf("READONLY LRANGE of %s on %s: %w", k, s.ID, err)
		}
		if v := finalValue(op); v != "" {
			out[k] = &v
		}
	}
	return nil
}

// queueOut is where a value came out of its queue: an acknowledged LPOP,
// or the final LRANGE (at position pos).
type queueOut struct {
	key   string // the queue
	pop   *Op    // nil: still queued at the end
	pos   int
	count int // times it came out (pops and final contents)
}

// checkQueues checks the queues after healing against the final LRANGE
// of each (fs.reads): no value popped (or left) twice, none that was
// never pushed, pushed to another queue or whose push failed definitely;
// every acknowledged push popped or still queued, except for as many as
// the queue's indeterminate LPOPs (each may have taken one, reply lost);
// and FIFO: of two acknowledged pushes to one queue, the first finished
// before the second started, the second does not come out first (popped
// before the first's pop started, popped while the first is still
// queued, or ahead of it in the final contents).
func checkQueues(ops []Op, keys []string, fs finalState) []string {
	var problems []string
	add := func(format string, args ...any) {
		if len(problems) < 50 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	pushes := map[string]Op{}      // value -> push
	acked := map[string][]Op{}     // queue -> acknowledged pushes
	lostPops := map[string]int{}   // queue -> indeterminate LPOPs
	outs := map[string]*queueOut{} // value -> where it came out
	come := func(key, v string, o queueOut) {
		if prev, ok := outs[v]; ok {
			prev.count++
			return
		}
		o.key, o.count = key, 1
		outs[v] = &o
	}
	for i := range ops {
		op := &ops[i]
		switch {
		case op.Kind == OpRPush:
			pushes[op.Value] = *op
			if op.Status == StatusOK {
				acked[op.Key] = append(acked[op.Key], *op)
			}
		case op.Kind == OpLPop && op.Status == StatusInfo:
			lostPops[op.Key]++
		}
	}
	// The pops, in the order they were invoked (the first one names a
	// duplicate's first pop).
	var pops []*Op
	for i := range ops {
		if op := &ops[i]; op.Kind == OpLPop && op.Status == StatusOK && op.Value != "" {
			pops = append(pops, op)
		}
	}
	sort.SliceStable(pops, func(i, j int) bool { return pops[i].Call < pops[j].Call })
	for _, p := range pops {
		come(p.Key, p.Value, queueOut{pop: p})
	}
	for _, k := range keys {
		fr, ok := fs.reads[k]
		if !ok {
			add("durability: no final read of queue %s", k)
			continue
		}
		for i, v := range fr.Elems {
			come(k, v, queueOut{pos: i})
		}
	}
	// Every value that came out: pushed once, to this queue, not failed.
	where := func(v string) string {
		if o := outs[v]; o.pop != nil {
			return "popped by " + o.pop.String()
		}
		return "left in the queue"
	}
	vals := make([]string, 0, len(outs))
	for v := range outs {
		vals = append(vals, v)
	}
	sort.Strings(vals)
	for _, v := range vals {
		o, k := outs[v], outs[v].key
		push, ok := pushes[v]
		switch {
		case !ok:
			add("queue: %s came out of %s (%s) but was never pushed", v, k, where(v))
		case push.Key != k:
			add("queue: %s came out of %s (%s) but was pushed to %s: %s", v, k, where(v), push.Key, push)
		case push.Status == StatusFail:
			add("queue: %s came out of %s (%s), pushed by an RPUSH that failed definitely: %s", v, k, where(v), push)
		}
		if o.count > 1 {
			add("queue: %s came out of %s %d times (first %s)", v, k, o.count, where(v))
		}
	}
	// Every acknowledged push came out, but for what indeterminate LPOPs
	// may have taken; then FIFO among those that did.
	qs := make([]string, 0, len(acked))
	for k := range acked {
		qs = append(qs, k)
	}
	sort.Strings(qs)
	for _, k := range qs {
		var missing []Op
		for _, p := range acked[k] {
			if outs[p.Value] == nil {
				missing = append(missing, p)
			}
		}
		if len(missing) > lostPops[k] {
			add("queue: %s lost %d acknowledged pushes (neither popped nor left in it), more than its %d indeterminate LPOPs can explain; e.g. %s",
				k, len(missing), lostPops[k], missing[0])
		}
		checkFIFO(k, acked[k], outs, add)
	}
	return problems
}

// checkFIFO reports, through add, the pairs of acknowledged pushes to
// queue k that came out in the wrong order (see checkQueues); at most one
// per earlier push.
func checkFIFO(k string, acked []Op, outs map[string]*queueOut, add func(string, ...any)) {
	for _, a := range acked {
		oa := outs[a.Value]
		if oa == nil {
			continue
		}
		for _, b := range acked {
			ob := outs[b.Value]
			if ob == nil || a.Return >= b.Call {
				continue
			}
			var bad string
			switch {
			case ob.pop != nil && oa.pop == nil:
				bad = fmt.Sprintf("%s was popped by %s while %s was still queued (it is left in the queue)", b.Value, ob.pop, a.Value)
			case ob.pop != nil && ob.pop.Return < oa.pop.Call:
				bad = fmt.Sprintf("%s was popped by %s before %s was, by %s", b.Value, ob.pop, a.Value, oa.pop)
			case ob.pop == nil && oa.pop == nil && ob.pos < oa.pos:
				bad = fmt.Sprintf("%s is ahead of %s in the final contents", b.Value, a.Value)
			}
			if bad != "" {
				add("queue: FIFO order broken in %s: %s was pushed by %s, which finished before %s started; but %s", k, a.Value, a, b, bad)
				break
			}
		}
	}
}
