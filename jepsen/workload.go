package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// OpKind is what an operation did.
type OpKind uint8

const (
	OpRead     OpKind = iota // GET of a register
	OpWrite                  // SET of a register to a unique value
	OpIncr                   // INCR of a counter: returns the new value
	OpCount                  // GET of a counter
	OpTransfer               // bank: MULTI/EXEC moving Amount from account From to To
	OpBankRead               // bank: every account's balance, by MGET or inside MULTI
	OpHIncr                  // HINCRBY of a hash field by 1: returns the new value
	OpHGet                   // HGET of a hash field holding a counter
	OpZAdd                   // ZADD of a member with the score Count
	OpZIncr                  // ZINCRBY of a member by 1: returns the new score
	OpZScore                 // ZSCORE of a member: Value "" for none, else Count
	OpRPush                  // queue: RPUSH of the unique Value: returns the new length
	OpLPop                   // queue: LPOP: Value the head, "" for none
	OpLRange                 // queue: LRANGE 0 -1 (the final read): Elems
)

func (k OpKind) String() string {
	return [...]string{"read", "write", "incr", "count", "transfer", "bank-read", "hincr", "hget", "zadd", "zincr", "zscore", "rpush", "lpop", "lrange"}[k]
}

// Status is how an operation ended.
type Status uint8

const (
	// StatusOK: acknowledged; Value/Count hold the reply.
	StatusOK Status = iota
	// StatusFail: definitely did not happen (CLUSTERDOWN, TRYAGAIN,
	// LOADING, or a connection that could not be opened).
	StatusFail
	// StatusInfo: indeterminate (a timeout, UNCERTAIN, TIMEOUT, a
	// connection broken after sending): it may take effect at any time
	// after it was invoked, or never.
	StatusInfo
)

func (s Status) String() string { return [...]string{"ok", "fail", "info"}[s] }

// Op is one operation of a history. Times are nanoseconds since the
// history started, on the monotonic clock.
type Op struct {
	Process int // porcupine client: a new one after each indeterminate op
	Kind    OpKind
	Key     string
	Field   string   // collection ops: the hash field or sorted set member
	Value   string   // OpWrite, OpRPush: the value sent; OpRead, OpZScore, OpLPop: the value read ("" if none)
	Count   int64    // OpIncr, OpCount, OpHIncr, OpHGet, OpZIncr, OpZScore, OpRPush: the value returned; OpZAdd: the score sent
	Elems   []string // OpLRange: the queue, head first
	Call    int64
	Return  int64
	Status  Status
	Err     string // the error, for StatusFail and StatusInfo
	Node    string // the server the client talked to
	Final   bool   // a read of the final state after healing

	// Bank operations (OpTransfer, OpBankRead); see bank.go.
	Mode     string  // transfer: bankWatch or bankPlain; read: bankMGet or bankMulti
	From, To int     // OpTransfer: account indexes
	Amount   int64   // OpTransfer
	Seen     []int64 // bankWatch: the balances of From and To read after WATCH
	Refused  bool    // bankWatch: Seen[0] < Amount, so no MULTI was sent (UNWATCH)
	Balances []int64 // OpTransfer: EXEC's replies (From, To after); OpBankRead: every account
}

func (o Op) String() string {
	var res string
	switch o.Kind {
	case OpTransfer, OpBankRead:
		res = o.bankString()
	case OpWrite:
		res = fmt.Sprintf("SET %s %s", o.Key, o.Value)
	case OpRead:
		res = fmt.Sprintf("GET %s -> %q", o.Key, o.Value)
	case OpIncr:
		res = fmt.Sprintf("INCR %s -> %d", o.Key, o.Count)
	case OpCount:
		res = fmt.Sprintf("GET %s -> %d", o.Key, o.Count)
	case OpHIncr:
		res = fmt.Sprintf("HINCRBY %s %s 1 -> %d", o.Key, o.Field, o.Count)
	case OpHGet:
		res = fmt.Sprintf("HGET %s %s -> %d", o.Key, o.Field, o.Count)
	case OpZAdd:
		res = fmt.Sprintf("ZADD %s %d %s", o.Key, o.Count, o.Field)
	case OpZIncr:
		res = fmt.Sprintf("ZINCRBY %s 1 %s -> %d", o.Key, o.Field, o.Count)
	case OpZScore:
		res = fmt.Sprintf("ZSCORE %s %s -> %q", o.Key, o.Field, o.Value)
	case OpRPush:
		res = fmt.Sprintf("RPUSH %s %s -> %d", o.Key, o.Value, o.Count)
	case OpLPop:
		res = fmt.Sprintf("LPOP %s -> %q", o.Key, o.Value)
	case OpLRange:
		res = fmt.Sprintf("LRANGE %s 0 -1 -> %v", o.Key, o.Elems)
	}
	if o.Status != StatusOK {
		if o.Kind != OpWrite && o.Kind != OpZAdd {
			res, _, _ = strings.Cut(res, " ->")
		}
		res += fmt.Sprintf(" [%s: %s]", o.Status, o.Err)
	}
	final := ""
	if o.Final {
		final = " (final)"
	}
	return fmt.Sprintf("%10.3fs..%10.3fs p%-3d %-3s %s%s", float64(o.Call)/1e9, float64(o.Return)/1e9, o.Process, o.Node, res, final)
}

// History records operations from many goroutines.
type History struct {
	start time.Time
	mu    sync.Mutex
	ops   []Op
	procs int
	acked int // ops with StatusOK so far
}

// NewHistory starts an empty history now.
func NewHistory() *History { return &History{start: time.Now()} }

// Now is the current time on the history's clock.
func (h *History) Now() int64 { return int64(time.Since(h.start)) }

func (h *History) add(op Op) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	if op.Status == StatusOK {
		h.acked++
	}
	h.mu.Unlock()
}

// Acked returns how many acknowledged ops the history holds.
func (h *History) Acked() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.acked
}

// newProcess returns an unused process number.
func (h *History) newProcess() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.procs++
	return h.procs - 1
}

// Ops returns a copy of the operations, in completion order.
func (h *History) Ops() []Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Op(nil), h.ops...)
}

// WorkloadConfig shapes the client load.
type WorkloadConfig struct {
	Workers      int           // concurrent clients; each does one op at a time
	Interval     time.Duration // each worker's pause between ops
	OpTimeout    time.Duration // client deadline of one op
	RegisterKeys int           // registers in use at a time
	CounterKeys  int           // counters in use at a time
	OpsPerKey    int           // ops on a key before it is replaced by a fresh one
	CounterShare float64       // fraction of ops on counters
	// PipelineShare is the fraction of a worker's turns that send 2 to 4
	// writes (SETs and INCRs) in one pipeline instead of one op: writes a
	// follower receives together travel to the leader as one transaction.
	PipelineShare float64
	Prefix        string // key prefix (unique per run)

	// The bank (bank.go): BankWorkers more clients move money between
	// BankAccounts accounts of BankBalance each with MULTI/EXEC, and read
	// every balance. 0 workers: no bank.
	BankWorkers  int
	BankAccounts int // at most bankMaxAccounts
	BankBalance  int64
	// BankPlainShare is the fraction of transfers sent as a plain MULTI
	// (no WATCH, no overdraft check); the rest WATCH both accounts and
	// refuse overdrafts. With 0, no balance may ever be negative.
	BankPlainShare float64
	// BankGeneration is the bank ops per generation (0: one generation for
	// the whole run). Each generation has fresh accounts and its own
	// history, a porcupine partition whose check grows in memory with the
	// square of its length (a 30-minute sharded run's single bank history
	// outgrew 24 GB). The default, 500, is about 5 s of the bank's ops at
	// the tests' load: the shortest CI run (ci-snapshots, 3 faults, about
	// 1,100 bank ops) goes through 2 or 3 generations, the 50-60 s ones
	// (4,000 to 8,000) through 8 or more, and a long run's histories stay
	// short enough to check in milliseconds.
	BankGeneration int64

	// The collection workloads (collections.go) take these shares of the
	// workers' turns: HINCRBY/HGET on HashFields fields of HashKeys
	// hashes, ZADD/ZINCRBY/ZSCORE on ZSetMembers members of ZSetKeys
	// sorted sets (only when the servers know ZADD). HINCRBYs also join
	// the pipelines, in the hash share of their writes.
	HashShare   float64
	HashKeys    int
	HashFields  int
	ZSetShare   float64
	ZSetKeys    int
	ZSetMembers int
	// The queue workload (queue.go) takes QueueShare of the turns: RPUSH
	// of a unique value and LPOP on QueueKeys lists (only when the
	// servers know RPUSH).
	QueueShare float64
	QueueKeys  int
}

// DefaultWorkload returns the load used by the tests for a cluster of n
// nodes.
func DefaultWorkload(n int) WorkloadConfig {
	return WorkloadConfig{
		Workers: 2 * n, Interval: 15 * time.Millisecond, OpTimeout: 2 * time.Second,
		RegisterKeys: 4, CounterKeys: 2, OpsPerKey: 150, CounterShare: 0.3, PipelineShare: 0.2, Prefix: "j",
		BankWorkers: 3, BankAccounts: 5, BankBalance: 20, BankPlainShare: 0.3, BankGeneration: 500,
		HashShare: 0.12, HashKeys: 2, HashFields: 3, ZSetShare: 0.12, ZSetKeys: 2, ZSetMembers: 3,
		QueueShare: 0.1, QueueKeys: 2,
	}
}

// keyspace hands out keys: a few in use at a time, each replaced by a
// fresh one after OpsPerKey operations, so that no key's history grows too
// long for the checker.
type keyspace struct {
	mu     sync.Mutex
	prefix string
	perKey int
	active []string
	used   []int
	gen    int
	all    []string
}

func newKeyspace(prefix string, n, perKey int) *keyspace {
	k := &keyspace{prefix: prefix, perKey: perKey}
	for range n {
		k.active = append(k.active, k.fresh())
		k.used = append(k.used, 0)
	}
	return k
}

func (k *keyspace) fresh() string {
	k.gen++
	key := fmt.Sprintf("%s%d", k.prefix, k.gen)
	k.all = append(k.all, key)
	return key
}

func (k *keyspace) pick(rng *rand.Rand) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	i := rng.IntN(len(k.active))
	if k.used[i] >= k.perKey {
		k.active[i], k.used[i] = k.fresh(), 0
	}
	k.used[i]++
	return k.active[i]
}

func (k *keyspace) keys() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.all...)
}

// Workload runs the workers until Stop.
type Workload struct {
	cfg     WorkloadConfig
	c       *Cluster
	h       *History
	regs    *keyspace
	ctrs    *keyspace
	bank    *bank         // nil without bank workers
	coll    *collWorkload // nil without collection shares
	rt      *router       // the sharded mode's router; nil unsharded
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stop    sync.Once
	clients sync.Map // clientKey -> *redis.Client
}

type clientKey struct {
	worker int
	addr   string
}

// StartWorkload starts cfg.Workers workers, each with its own generator
// seeded from seed, sending ops to random members of c (in the sharded
// mode: to the cached leader of the key's slot when known, following
// MOVED; see router).
func StartWorkload(c *Cluster, h *History, cfg WorkloadConfig, seed uint64) *Workload {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Workload{
		cfg: cfg, c: c, h: h, cancel: cancel,
		regs: newKeyspace(cfg.Prefix+":r", cfg.RegisterKeys, cfg.OpsPerKey),
		ctrs: newKeyspace(cfg.Prefix+":c", cfg.CounterKeys, cfg.OpsPerKey),
	}
	if c.Sharded() {
		w.rt = newRouter(c)
	}
	if cfg.HashShare > 0 || cfg.ZSetShare > 0 || cfg.QueueShare > 0 {
		w.startCollections()
	}
	for i := range cfg.Workers {
		w.wg.Add(1)
		go w.worker(ctx, i, rand.New(rand.NewPCG(seed, uint64(i)+1)))
	}
	if cfg.BankWorkers > 0 {
		w.startBank(ctx, seed)
	}
	return w
}

// Stop ends the workers once their current op is done.
func (w *Workload) Stop() {
	w.stop.Do(func() {
		w.cancel()
		w.wg.Wait()
		w.clients.Range(func(_, v any) bool {
			_ = v.(*redis.Client).Close()
			return true
		})
	})
}

// Redirects returns how many MOVED replies the workload followed (0
// unsharded).
func (w *Workload) Redirects() int64 {
	if w.rt == nil {
		return 0
	}
	return w.rt.redirects.Load()
}

// Keys returns every register and counter key used.
func (w *Workload) Keys() (registers, counters []string) { return w.regs.keys(), w.ctrs.keys() }

func (w *Workload) client(worker int, s *Server) *redis.Client {
	k := clientKey{worker, s.Addr}
	if c, ok := w.clients.Load(k); ok {
		return c.(*redis.Client)
	}
	c := newDataClient(s.Addr, w.cfg.OpTimeout, false)
	if prev, loaded := w.clients.LoadOrStore(k, c); loaded {
		_ = c.Close()
		return prev.(*redis.Client)
	}
	return c
}

// newDataClient returns a client that sends every command once (no
// retries), bounded by the op's context; readonly sends READONLY on
// every new connection (stale local reads).
func newDataClient(addr string, opTimeout time.Duration, readonly bool) *redis.Client {
	o := &redis.Options{
		Addr: addr, Protocol: 2, DisableIdentity: true,
		DialTimeout: opTimeout / 2, ReadTimeout: opTimeout, WriteTimeout: opTimeout,
		ContextTimeoutEnabled: true, MaxRetries: -1, PoolSize: 1, PoolTimeout: opTimeout,
	}
	if readonly {
		o.OnConnect = func(ctx context.Context, cn *redis.Conn) error { return cn.ReadOnly(ctx).Err() }
	}
	return redis.NewClient(o)
}

func (w *Workload) worker(ctx context.Context, id int, rng *rand.Rand) {
	defer w.wg.Done()
	proc := w.h.newProcess()
	tick := time.NewTicker(w.cfg.Interval)
	defer tick.Stop()
	seq := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		members := w.c.Members()
		if len(members) == 0 {
			continue
		}
		s := members[rng.IntN(len(members))]
		if rng.Float64() < w.cfg.PipelineShare {
			ops := make([]*Op, 2+rng.IntN(3))
			for i := range ops {
				op := &Op{Kind: OpIncr, Process: proc}
				if w.coll != nil && rng.Float64() < w.cfg.HashShare {
					op.Kind, op.Key = OpHIncr, w.coll.hashes.pick(rng)
					op.Field = w.coll.fields[rng.IntN(len(w.coll.fields))]
				} else if rng.Float64() < w.cfg.CounterShare {
					op.Key = w.ctrs.pick(rng)
				} else {
					seq++
					op.Kind, op.Key, op.Value = OpWrite, w.regs.pick(rng), fmt.Sprintf("%d-%d", id, seq)
				}
				if i > 0 {
					op.Process = w.h.newProcess() // in flight with the others
				}
				ops[i] = op
			}
			w.rt.pipeline(s, ops, func(t *Server, batch []*Op) {
				InvokePipeline(w.h, w.client(id, t), t, batch, w.cfg.OpTimeout)
			})
			for _, op := range ops {
				w.h.add(*op)
			}
			if ops[0].Status == StatusInfo {
				proc = w.h.newProcess()
			}
			continue
		}
		op, coll := w.collOp(rng, rng.Float64())
		switch {
		case coll:
		case rng.Float64() < w.cfg.CounterShare:
			op = Op{Kind: OpCount, Key: w.ctrs.pick(rng)}
			if rng.IntN(2) == 0 {
				op.Kind = OpIncr
			}
		default:
			op = Op{Kind: OpRead, Key: w.regs.pick(rng)}
			if rng.IntN(2) == 0 {
				seq++
				op.Kind, op.Value = OpWrite, fmt.Sprintf("%d-%d", id, seq)
			}
		}
		op.Process = proc
		w.rt.redirected(op.Key, s, &op, func(t *Server) {
			Invoke(w.h, w.client(id, t), t, &op, w.cfg.OpTimeout)
		})
		w.h.add(op)
		if op.Status == StatusInfo {
			proc = w.h.newProcess() // this one may still be running
		}
	}
}

// Invoke runs op through cl (a client of server s), records call and
// return times on h's clock and classifies the outcome.
func Invoke(h *History, cl *redis.Client, s *Server, op *Op, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	op.Node = s.ID
	op.Call = h.Now()
	var err error
	switch op.Kind {
	case OpWrite:
		var r string
		r, err = cl.Set(ctx, op.Key, op.Value, 0).Result()
		if err == nil && r != "OK" {
			err = fmt.Errorf("SET replied %q", r)
		}
	case OpRead:
		op.Value, err = cl.Get(ctx, op.Key).Result()
		if errors.Is(err, redis.Nil) {
			op.Value, err = "", nil
		}
	case OpIncr:
		op.Count, err = cl.Incr(ctx, op.Key).Result()
	case OpCount:
		var v string
		v, err = cl.Get(ctx, op.Key).Result()
		switch {
		case errors.Is(err, redis.Nil):
			op.Count, err = 0, nil
		case err == nil:
			op.Count, err = strconv.ParseInt(v, 10, 64)
		}
	default:
		err = invokeColl(ctx, cl, op)
	}
	op.Return = h.Now()
	op.Status = StatusOK
	if err != nil {
		op.Status, op.Err = classify(err), err.Error()
	}
}

// InvokePipeline sends ops, writes (OpWrite, OpIncr), in one pipeline
// through cl (a client of server s). Every op gets the pipeline's call and
// return times and its own outcome.
func InvokePipeline(h *History, cl *redis.Client, s *Server, ops []*Op, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	call := h.Now()
	cmds, perr := cl.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, op := range ops {
			switch op.Kind {
			case OpIncr:
				p.Incr(ctx, op.Key)
			case OpHIncr:
				p.HIncrBy(ctx, op.Key, op.Field, 1)
			default:
				p.Set(ctx, op.Key, op.Value, 0)
			}
		}
		return nil
	})
	ret := h.Now()
	// When the connection failed, go-redis may leave the commands it got
	// no reply for without an error (and without a reply): they have the
	// pipeline's error. (A reply error is not a failure of the pipeline.)
	var re redis.Error
	broken := perr != nil && !errors.As(perr, &re)
	for i, op := range ops {
		op.Node, op.Call, op.Return, op.Status = s.ID, call, ret, StatusOK
		var err error
		switch c := pipelineCmd(cmds, i).(type) {
		case nil:
			err = fmt.Errorf("pipeline: no reply for op %d of %d", i, len(ops))
		case redis.Cmder:
			if err = c.Err(); err == nil && broken {
				err = perr
			}
			if err == nil {
				err = pipelineResult(op, c)
			}
		}
		if err != nil {
			op.Status, op.Err = classify(err), err.Error()
		}
	}
}

// pipelineResult takes op's outcome from its command's reply.
func pipelineResult(op *Op, cmd redis.Cmder) error {
	var err error
	switch c := cmd.(type) {
	case *redis.IntCmd:
		op.Count, err = c.Result()
	case *redis.StatusCmd:
		var r string
		if r, err = c.Result(); err == nil && r != "OK" {
			err = fmt.Errorf("SET replied %q", r)
		}
	default:
		err = fmt.Errorf("pipeline: unexpected command %T", cmd)
	}
	return err
}

// pipelineCmd returns cmds[i], or nil.
func pipelineCmd(cmds []redis.Cmder, i int) redis.Cmder {
	if i < len(cmds) {
		return cmds[i]
	}
	return nil
}

// classify tells definite failures (nothing applied) from indeterminate
// ones. The sharded mode's refusals are definite: MOVED and ASK (not this
// node's slot), CROSSSLOT, and EXECABORT (a transaction discarded, e.g.
// because a queued command was refused with MOVED).
func classify(err error) Status {
	var re redis.Error
	if errors.As(err, &re) {
		code, _, _ := strings.Cut(re.Error(), " ")
		switch code {
		case "CLUSTERDOWN", "TRYAGAIN", "LOADING", "MOVED", "ASK", "CROSSSLOT", "EXECABORT":
			return StatusFail
		}
		return StatusInfo // UNCERTAIN, TIMEOUT, anything unexpected
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return StatusFail // never sent
	}
	if errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) {
		return StatusFail
	}
	return StatusInfo
}

// errClass names an error for the tallies: the reply's code or a kind of
// transport error.
func errClass(msg string) string {
	code, _, _ := strings.Cut(msg, " ")
	switch {
	case msg == redis.TxFailedErr.Error():
		return "watch-abort" // EXEC answered null
	case code != "" && code == strings.ToUpper(code) && !strings.ContainsAny(code, ":."):
		return code
	case strings.Contains(msg, "connection refused"):
		return "refused"
	case strings.Contains(msg, "timeout"), strings.Contains(msg, "deadline exceeded"):
		return "timeout"
	case strings.Contains(msg, "EOF"), strings.Contains(msg, "reset"), strings.Contains(msg, "broken pipe"):
		return "conn-broken"
	}
	return "other"
}
