package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
)

// The collection workloads take a share of the workers' turns (no more
// clients, so a run's load and length stay the same):
//
//   - hash counters: HINCRBY by 1 of a field of a few hashes (also inside
//     the workers' pipelines), and HGET of a field; one counter per
//     (hash, field), checked with CounterModel.
//   - sorted set scores: ZADD of a unique integer score, ZINCRBY by 1 and
//     ZSCORE of a member of a few sorted sets; one register-with-increments
//     per (sorted set, member), checked with ZScoreModel. Only when the
//     servers know ZADD (COMMAND INFO at the start), so that the suite
//     runs on builds without sorted sets.
//
// Hashes and sorted sets are replaced by fresh ones after OpsPerKey ops,
// as registers are; after healing, every field and member is read through
// the leader (final reads, in the history) and on every member (READONLY)
// for the convergence check, and each hash counter must lie between its
// acknowledged HINCRBYs and those plus the indeterminate ones.

// collWorkload is the state of the collection workloads.
type collWorkload struct {
	hashes  *keyspace
	zsets   *keyspace // nil when the servers have no sorted sets
	fields  []string
	members []string
	zskip   string    // why the sorted set workload does not run
	queues  *keyspace // nil when the queue workload does not run
	qskip   string    // why the queue workload does not run
	qseq    atomic.Int64
}

// collKey is the porcupine partition and final-read key of a field or
// member of a collection.
func collKey(key, elem string) string { return key + " " + elem }

// splitCollKey returns the collection and the element of a collKey.
func splitCollKey(k string) (key, elem string) {
	key, elem, _ = strings.Cut(k, " ")
	return key, elem
}

func elems(prefix string, n int) []string {
	out := make([]string, max(n, 1))
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// startCollections sets the collection workloads up: the sorted sets only
// when a member answers that it knows ZADD.
func (w *Workload) startCollections() {
	cw := &collWorkload{
		hashes:  newKeyspace(w.cfg.Prefix+":h", max(w.cfg.HashKeys, 1), w.cfg.OpsPerKey),
		fields:  elems("f", w.cfg.HashFields),
		members: elems("m", w.cfg.ZSetMembers),
	}
	w.coll = cw
	w.startQueues(cw)
	if w.cfg.ZSetShare <= 0 {
		cw.zskip = "no share of the turns"
		return
	}
	known, err := w.probeCommand("zadd")
	switch {
	case err != nil:
		cw.zskip = fmt.Sprintf("COMMAND INFO zadd failed: %v", err)
	case !known:
		cw.zskip = "the servers do not know ZADD"
	default:
		cw.zsets = newKeyspace(w.cfg.Prefix+":z", max(w.cfg.ZSetKeys, 1), w.cfg.OpsPerKey)
	}
}

// probeCommand asks the members (until one answers, for at most 10s)
// whether they know the command: COMMAND INFO answers null for an
// unknown one.
func (w *Workload) probeCommand(name string) (bool, error) {
	var known bool
	err := waitFor(10*time.Second, func() error {
		for _, s := range w.c.Members() {
			ctx, cancel := context.WithTimeout(context.Background(), w.cfg.OpTimeout)
			res, err := w.client(-2, s).Do(ctx, "COMMAND", "INFO", name).Slice()
			cancel()
			if err == nil && len(res) == 1 {
				known = res[0] != nil
				return nil
			}
		}
		return errors.New("no member answered")
	})
	return known, err
}

// collOp returns a collection op for a worker's turn, or false when the
// turn is not one (r, drawn by the caller, is below the shares).
func (w *Workload) collOp(rng *rand.Rand, r float64) (Op, bool) {
	cw := w.coll
	if cw == nil {
		return Op{}, false
	}
	if r < w.cfg.HashShare {
		op := Op{Kind: OpHGet, Key: cw.hashes.pick(rng), Field: cw.fields[rng.IntN(len(cw.fields))]}
		if rng.IntN(3) != 0 {
			op.Kind = OpHIncr
		}
		return op, true
	}
	if r >= w.cfg.HashShare+w.cfg.ZSetShare {
		if cw.queues == nil || r >= w.cfg.HashShare+w.cfg.ZSetShare+w.cfg.QueueShare {
			return Op{}, false
		}
		return cw.queueOp(rng), true
	}
	if cw.zsets == nil {
		return Op{}, false
	}
	op := Op{Key: cw.zsets.pick(rng), Field: cw.members[rng.IntN(len(cw.members))]}
	switch rng.IntN(3) {
	case 0:
		op.Kind = OpZScore
	case 1:
		op.Kind = OpZIncr
	default:
		op.Kind = OpZAdd
		// Unique per write and exact as a double (below 2^53); ZINCRBYs
		// that follow add less than 1000.
		op.Count = 1_000_000*(1+rng.Int64N(1<<20)) + 1000*rng.Int64N(1000)
	}
	return op, true
}

// invokeColl runs a collection op (Invoke's part for them).
func invokeColl(ctx context.Context, cl *redis.Client, op *Op) error {
	var err error
	switch op.Kind {
	case OpHIncr:
		op.Count, err = cl.HIncrBy(ctx, op.Key, op.Field, 1).Result()
	case OpHGet:
		var v string
		v, err = cl.HGet(ctx, op.Key, op.Field).Result()
		switch {
		case errors.Is(err, redis.Nil):
			op.Count, err = 0, nil
		case err == nil:
			op.Count, err = strconv.ParseInt(v, 10, 64)
		}
	case OpZAdd:
		// The reply (0 or 1 added) depends on the state; the model
		// checks the scores read.
		err = cl.ZAdd(ctx, op.Key, redis.Z{Score: float64(op.Count), Member: op.Field}).Err()
	case OpZIncr:
		var f float64
		f, err = cl.ZIncrBy(ctx, op.Key, 1, op.Field).Result()
		op.Count = int64(f)
	case OpZScore:
		var f float64
		f, err = cl.ZScore(ctx, op.Key, op.Field).Result()
		switch {
		case errors.Is(err, redis.Nil):
			op.Value, err = "", nil
		case err == nil:
			op.Value, op.Count = strconv.FormatFloat(f, 'f', -1, 64), int64(f)
		}
	case OpRPush, OpLPop, OpLRange:
		err = invokeQueue(ctx, cl, op)
	default:
		err = fmt.Errorf("jepsen: not a collection op: %s", op.Kind)
	}
	return err
}

// zscore is ZScoreModel's state: the member's score, if it has one.
type zscore struct {
	ok    bool
	score int64
}

// ZScoreModel is a sorted set member per key: ZADD sets its score,
// ZINCRBY adds 1 and returns the new score (1 for a new member; any when
// the reply is unknown), ZSCORE returns the score or nothing.
var ZScoreModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return zscore{} },
	Step: func(state, in, out any) (bool, any) {
		st, i, o := state.(zscore), in.(input), out.(output)
		switch i.Kind {
		case OpZAdd:
			return true, zscore{true, i.Score}
		case OpZIncr:
			next := zscore{true, st.score + 1}
			return o.Unknown || o.Count == next.score, next
		}
		if o.Value == "" {
			return !st.ok, st
		}
		return st.ok && o.Count == st.score, st
	},
	DescribeOperation: describeOp,
	DescribeState: func(state any) string {
		if st := state.(zscore); st.ok {
			return fmt.Sprint(st.score)
		}
		return "nil"
	},
	DescribeOperationMetadata: func(m any) string { s, _ := m.(string); return s },
}

// collKeys returns the (collection, element) pairs used: every field of
// every hash, every member of every sorted set.
func (w *Workload) collKeys() (hashes, zsets []string) {
	cw := w.coll
	if cw == nil {
		return nil, nil
	}
	for _, k := range cw.hashes.keys() {
		for _, f := range cw.fields {
			hashes = append(hashes, collKey(k, f))
		}
	}
	if cw.zsets != nil {
		for _, k := range cw.zsets.keys() {
			for _, m := range cw.members {
				zsets = append(zsets, collKey(k, m))
			}
		}
	}
	return hashes, zsets
}

// CollStats counts the collection ops of a run.
type CollStats struct {
	Hash, ZSet, Queue [3]int // by Status
	ZSkip             string // why the sorted set workload did not run
	QSkip             string // why the queue workload did not run
}

func collStats(ops []Op, zskip, qskip string) *CollStats {
	st := &CollStats{ZSkip: zskip, QSkip: qskip}
	for _, op := range ops {
		if op.Final {
			continue
		}
		switch op.Kind {
		case OpHIncr, OpHGet:
			st.Hash[op.Status]++
		case OpZAdd, OpZIncr, OpZScore:
			st.ZSet[op.Status]++
		case OpRPush, OpLPop:
			st.Queue[op.Status]++
		}
	}
	return st
}

func (st *CollStats) String() string {
	return fmtOps("hash", st.Hash, "") + ", " + fmtOps("zset", st.ZSet, st.ZSkip) + ", " + fmtOps("queue", st.Queue, st.QSkip)
}

// fmtOps counts one workload's ops for the summary line, or says why it
// did not run.
func fmtOps(name string, n [3]int, skip string) string {
	if skip != "" {
		return name + " workload skipped (" + skip + ")"
	}
	return fmt.Sprintf("%s ops %d (ok %d, failed %d, indeterminate %d)", name, n[0]+n[1]+n[2], n[0], n[1], n[2])
}

// checkHashCounters: each hash counter lies between its acknowledged
// HINCRBYs and those plus the indeterminate ones.
func checkHashCounters(ops []Op, hashKeys []string, fs finalState) []string {
	incr := map[string][3]int64{}
	for _, op := range ops {
		if op.Kind == OpHIncr {
			k := collKey(op.Key, op.Field)
			t := incr[k]
			t[op.Status]++
			incr[k] = t
		}
	}
	var problems []string
	for _, k := range hashKeys {
		fr, ok := fs.reads[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("durability: no final read of hash field %s", k))
			continue
		}
		t := incr[k]
		if fr.Count < t[StatusOK] || fr.Count > t[StatusOK]+t[StatusInfo] {
			problems = append(problems, fmt.Sprintf("hash counter: %s = %d after healing; want between %d acknowledged HINCRBYs and %d (plus %d indeterminate); %d failed definitely",
				k, fr.Count, t[StatusOK], t[StatusOK]+t[StatusInfo], t[StatusInfo], t[StatusFail]))
		}
		if len(problems) >= 50 {
			break
		}
	}
	return problems
}

// localCollValues reads the fields and members named by keys (collKey
// pairs; zset tells which) from s's local state (READONLY), as
// convergence compares them: a counter's decimal value, a score as
// invokeColl formats it, nil when missing.
func localCollValues(s *Server, keys []string, zset bool, out map[string]*string) error {
	cl := newDataClient(s.Addr, 5*time.Second, true)
	defer cl.Close()
	for _, k := range keys {
		op := Op{Kind: OpHGet, Final: true}
		if zset {
			op.Kind = OpZScore
		}
		op.Key, op.Field = splitCollKey(k)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := invokeColl(ctx, cl, &op)
		cancel()
		if err != nil {
			return fmt.Errorf("READONLY read of %s on %s: %w", k, s.ID, err)
		}
		if v := finalValue(op); v != "" {
			out[k] = &v
		}
	}
	return nil
}

// finalValue is what convergence compares of a final read: the value
// ("" for none); a counter's 0 is none.
func finalValue(fr Op) string {
	switch fr.Kind {
	case OpCount, OpHGet:
		if fr.Count == 0 {
			return ""
		}
		return fmt.Sprint(fr.Count)
	case OpLRange:
		return strings.Join(fr.Elems, " ")
	}
	return fr.Value
}
