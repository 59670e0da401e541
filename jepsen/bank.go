package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
)

// The bank workload (Jepsen's "bank"): a few accounts, created with a
// fixed total, between which clients move money with MULTI/EXEC, while
// others read every balance. Whatever the faults, every read must see the
// total, and the final balances must be those of the acknowledged
// transfers plus some of the indeterminate ones. The workload runs in
// generations: after WorkloadConfig.BankGeneration ops the workers move
// to fresh accounts, so that each generation's history (a porcupine
// partition, and a final-state check) stays short however long the run.

// Bank transfer and read modes (Op.Mode).
const (
	// bankWatch: WATCH from to; GET from; GET to; if from >= amount:
	// MULTI; DECRBY from amount; INCRBY to amount; EXEC (a null reply: a
	// watched key changed, nothing applied), else UNWATCH (refused).
	bankWatch = "watch"
	// bankPlain: MULTI; DECRBY from amount; INCRBY to amount; EXEC, with
	// no check: balances may go negative.
	bankPlain = "plain"
	// bankMGet: MGET of every account (a linearizable read).
	bankMGet = "mget"
	// bankMulti: MULTI; GET of every account; EXEC (reads in the entry).
	bankMulti = "multi"
)

const (
	// bankMaxAccounts bounds WorkloadConfig.BankAccounts (the model's
	// state is a fixed-size array).
	bankMaxAccounts = 8
	// bankMaxAmount is the largest transfer.
	bankMaxAmount = 8
	// bankMaxReach bounds the balance vectors the final-state check
	// enumerates; past it, only per-account bounds are checked.
	bankMaxReach = 1 << 16
)

// balances is the bank's state: account i's balance at i (0 past the
// accounts in use).
type balances [bankMaxAccounts]int64

// bank is the bank workload's state: its generations, each with fresh
// accounts, created one after the other as the workers use up their
// budgets (WorkloadConfig.BankGeneration).
type bank struct {
	prefix  string
	sharded bool
	n       int     // accounts per generation
	init    []int64 // every generation's initial balances
	budget  int64   // ops per generation; 0: one generation
	seed    uint64

	mu   sync.Mutex
	gens []*bankGen // gens[g] is generation g, once some worker asked for it
}

// bankGen is one generation: its accounts and whether they exist yet.
type bankGen struct {
	gen      int
	key      string // the Key of its ops: one porcupine partition
	accounts []string
	ready    chan struct{} // closed once the accounts exist
	ops      atomic.Int64  // ops started on it by the workers

	mu      sync.Mutex
	lastErr string // the last failed attempt to create the accounts
}

// BankGen is one generation of the bank's accounts, as the checks see it.
type BankGen struct {
	Gen      int
	Key      string // the Key of the generation's ops (bankKey)
	Accounts []string
}

// Bank returns the generations whose accounts were created, in order, and
// their initial balances (the same for every generation). A generation
// whose creation was never acknowledged is left out, but for generation
// 0: then err says why the accounts were never created. Everything is nil
// without bank workers.
func (w *Workload) Bank() (gens []BankGen, init []int64, err error) {
	b := w.bank
	if b == nil {
		return nil, nil, nil
	}
	b.mu.Lock()
	all := slices.Clone(b.gens)
	b.mu.Unlock()
	for _, g := range all {
		select {
		case <-g.ready:
			gens = append(gens, BankGen{Gen: g.gen, Key: g.key, Accounts: g.accounts})
			continue
		default:
		}
		if g.gen == 0 {
			g.mu.Lock()
			defer g.mu.Unlock()
			return nil, b.init, fmt.Errorf("the accounts were never created: %s", g.lastErr)
		}
	}
	return gens, b.init, nil
}

// startBank creates generation 0's accounts and starts the bank workers,
// which wait until the accounts exist.
func (w *Workload) startBank(ctx context.Context, seed uint64) {
	b := &bank{prefix: w.cfg.Prefix, sharded: w.rt != nil, n: min(max(w.cfg.BankAccounts, 2), bankMaxAccounts),
		budget: w.cfg.BankGeneration, seed: seed}
	for range b.n {
		b.init = append(b.init, w.cfg.BankBalance)
	}
	w.bank = b
	b.mu.Lock()
	g := w.newBankGen(ctx)
	b.mu.Unlock()
	for i := range w.cfg.BankWorkers {
		w.wg.Add(1)
		go w.bankWorker(ctx, g, w.cfg.Workers+i, rand.New(rand.NewPCG(seed, 1<<32+uint64(i)+1)))
	}
}

// newBankGen appends the next generation and starts creating its accounts
// (bankInit, in its own goroutine). w.bank.mu must be held.
func (w *Workload) newBankGen(ctx context.Context) *bankGen {
	b := w.bank
	n := len(b.gens)
	g := &bankGen{gen: n, key: bankKey(b.prefix, n), ready: make(chan struct{})}
	for i := range b.n {
		g.accounts = append(g.accounts, bankAccount(b.prefix, n, i, b.sharded))
	}
	b.gens = append(b.gens, g)
	w.wg.Add(1)
	go w.bankInit(ctx, g, rand.New(rand.NewPCG(b.seed, 1<<33+uint64(n))))
	return g
}

// bankNext returns the generation after g, which the first worker past
// g's budget creates.
func (w *Workload) bankNext(ctx context.Context, g *bankGen) *bankGen {
	b := w.bank
	b.mu.Lock()
	defer b.mu.Unlock()
	if g.gen+1 < len(b.gens) {
		return b.gens[g.gen+1]
	}
	return w.newBankGen(ctx)
}

// bankAccount is account i of generation g. In the sharded mode a
// generation's accounts have the hash tag {prefix:acct:g}, so that they
// share a slot (one group) and a transaction, WATCH or MGET may name
// several; successive generations land in other slots, often other groups.
func bankAccount(prefix string, g, i int, sharded bool) string {
	if sharded {
		return fmt.Sprintf("{%s:acct:%d}:%d", prefix, g, i)
	}
	return fmt.Sprintf("%s:acct:%d:%d", prefix, g, i)
}

// bankKey is the Key of every op of generation g: each generation is its
// own porcupine partition.
func bankKey(prefix string, g int) string { return fmt.Sprintf("%s:acct:%d", prefix, g) }

// bankInit creates g's accounts with MSETNX through random members until
// one attempt is acknowledged (in the sharded mode, following MOVED). An
// earlier attempt that is applied late (indeterminate) changes nothing
// then: the keys exist.
func (w *Workload) bankInit(ctx context.Context, g *bankGen, rng *rand.Rand) {
	defer w.wg.Done()
	args := make([]any, 0, 2*len(g.accounts))
	for i, k := range g.accounts {
		args = append(args, k, w.bank.init[i])
	}
	tick := time.NewTicker(w.cfg.Interval)
	defer tick.Stop()
	for {
		if members := w.c.Members(); len(members) > 0 {
			s := members[rng.IntN(len(members))]
			if w.rt != nil {
				s = w.rt.target(g.accounts[0], s)
			}
			octx, cancel := context.WithTimeout(ctx, w.cfg.OpTimeout)
			err := w.client(-1, s).MSetNX(octx, args...).Err()
			cancel()
			if err != nil && w.rt != nil {
				if _, moved := w.rt.moved(err.Error()); !moved {
					w.rt.forget(g.accounts[0])
				}
			}
			if err == nil {
				close(g.ready)
				return
			}
			g.mu.Lock()
			g.lastErr = fmt.Sprintf("MSETNX via %s: %v", s.ID, err)
			g.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// bankWorker runs bank ops on generation g until its budget is used up,
// then on the next one, once its accounts exist; an op in flight when the
// budget runs out finishes on its generation.
func (w *Workload) bankWorker(ctx context.Context, g *bankGen, id int, rng *rand.Rand) {
	defer w.wg.Done()
	select {
	case <-ctx.Done():
		return
	case <-g.ready:
	}
	n := w.bank.n
	proc := w.h.newProcess()
	tick := time.NewTicker(w.cfg.Interval)
	defer tick.Stop()
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
		for w.bank.budget > 0 && g.ops.Add(1) > w.bank.budget {
			g = w.bankNext(ctx, g)
			select {
			case <-ctx.Done():
				return
			case <-g.ready:
			}
		}
		accounts := g.accounts
		s := members[rng.IntN(len(members))]
		op := Op{Process: proc, Key: g.key}
		switch r := rng.Float64(); {
		case r < 0.5:
			op.Kind, op.Mode = OpTransfer, bankWatch
			if rng.Float64() < w.cfg.BankPlainShare {
				op.Mode = bankPlain
			}
			op.From = rng.IntN(n)
			op.To = (op.From + 1 + rng.IntN(n-1)) % n
			op.Amount = 1 + rng.Int64N(bankMaxAmount)
		case r < 0.75:
			op.Kind, op.Mode = OpBankRead, bankMGet
		default:
			op.Kind, op.Mode = OpBankRead, bankMulti
		}
		w.rt.redirected(accounts[0], s, &op, func(t *Server) {
			InvokeBank(w.h, w.client(id, t), t, &op, accounts, w.cfg.OpTimeout)
		})
		w.h.add(op)
		if op.Status == StatusInfo {
			proc = w.h.newProcess()
		}
	}
}

// InvokeBank runs the bank op through cl (a client of server s), records
// call and return times on h's clock and classifies the outcome: an error
// before the transaction was sent (WATCH, the GETs) and a null EXEC (a
// watched key changed) are definite failures. A transaction refused with
// MOVED (its first queued command's reply; EXEC answers EXECABORT) fails
// with the MOVED, so that the router follows it.
func InvokeBank(h *History, cl *redis.Client, s *Server, op *Op, accounts []string, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	op.Node = s.ID
	op.Call = h.Now()
	sent := true // whether EXEC may have been sent
	var err error
	switch op.Mode {
	case bankMGet:
		var vals []any
		if vals, err = cl.MGet(ctx, accounts...).Result(); err == nil {
			_, op.Balances, err = parseBalances(vals)
		}
	case bankMulti:
		var cmds []redis.Cmder
		cmds, err = cl.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range accounts {
				p.Get(ctx, k)
			}
			return nil
		})
		if err == nil || errors.Is(err, redis.Nil) {
			op.Balances, err = replyInts(cmds, len(accounts))
		}
		err = movedErr(err, cmds)
	case bankPlain:
		var cmds []redis.Cmder
		if cmds, err = cl.TxPipelined(ctx, transferCmds(ctx, op, accounts)); err == nil {
			op.Balances, err = replyInts(cmds, 2)
		}
		err = movedErr(err, cmds)
	case bankWatch:
		sent = false
		from, to := accounts[op.From], accounts[op.To]
		err = cl.Watch(ctx, func(tx *redis.Tx) error {
			cmds, err := tx.Pipelined(ctx, func(p redis.Pipeliner) error {
				p.Get(ctx, from)
				p.Get(ctx, to)
				return nil
			})
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			if op.Seen, err = replyInts(cmds, 2); err != nil {
				return err
			}
			if op.Seen[0] < op.Amount {
				op.Refused = true // Watch's Close sends UNWATCH
				return nil
			}
			sent = true
			cmds, err = tx.TxPipelined(ctx, transferCmds(ctx, op, accounts))
			if err == nil {
				op.Balances, err = replyInts(cmds, 2)
			}
			return movedErr(err, cmds)
		}, from, to)
	default:
		err = fmt.Errorf("jepsen: unknown bank mode %q", op.Mode)
	}
	op.Return = h.Now()
	op.Status = StatusOK
	if err != nil {
		op.Status, op.Err = classify(err), err.Error()
		if !sent || errors.Is(err, redis.TxFailedErr) {
			op.Status = StatusFail
		}
	}
}

func transferCmds(ctx context.Context, op *Op, accounts []string) func(redis.Pipeliner) error {
	return func(p redis.Pipeliner) error {
		p.DecrBy(ctx, accounts[op.From], op.Amount)
		p.IncrBy(ctx, accounts[op.To], op.Amount)
		return nil
	}
}

// replyInts returns the integer replies of cmds (GETs, DECRBY, INCRBY): a
// missing key is 0, as DECRBY and INCRBY take it.
func replyInts(cmds []redis.Cmder, want int) ([]int64, error) {
	if len(cmds) != want {
		return nil, fmt.Errorf("jepsen: %d replies, want %d", len(cmds), want)
	}
	out := make([]int64, 0, want)
	for _, c := range cmds {
		switch c := c.(type) {
		case *redis.IntCmd:
			v, err := c.Result()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		case *redis.StringCmd:
			v, err := c.Result()
			switch {
			case errors.Is(err, redis.Nil):
				out = append(out, 0)
				continue
			case err != nil:
				return nil, err
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("jepsen: balance %q: %w", v, err)
			}
			out = append(out, n)
		default:
			return nil, fmt.Errorf("jepsen: unexpected reply %v", c)
		}
	}
	return out, nil
}

// parseBalances parses an MGET of the accounts: the raw values ("" for a
// missing key) and the balances (a missing account is 0).
func parseBalances(vals []any) (raw []string, bal []int64, err error) {
	for _, v := range vals {
		switch v := v.(type) {
		case nil:
			raw, bal = append(raw, ""), append(bal, 0)
		case string:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("jepsen: balance %q: %w", v, err)
			}
			raw, bal = append(raw, v), append(bal, n)
		default:
			return nil, nil, fmt.Errorf("jepsen: MGET returned %#v", v)
		}
	}
	return raw, bal, nil
}

func (o Op) bankString() string {
	var b strings.Builder
	if o.Kind == OpBankRead {
		if o.Mode == bankMulti {
			b.WriteString("MULTI GET ")
		} else {
			b.WriteString("MGET ")
		}
		b.WriteString(o.Key)
		if o.Status == StatusOK {
			fmt.Fprintf(&b, " -> %v (sum %d)", o.Balances, sum(o.Balances))
		}
		return b.String()
	}
	fmt.Fprintf(&b, "TRANSFER(%s) %s %d->%d %d", o.Mode, o.Key, o.From, o.To, o.Amount)
	if o.Seen != nil {
		fmt.Fprintf(&b, " saw %v", o.Seen)
	}
	switch {
	case o.Status != StatusOK:
	case o.Refused:
		b.WriteString(" refused (overdraft)")
	default:
		fmt.Fprintf(&b, " -> %v", o.Balances)
	}
	return b.String()
}

func sum(v []int64) int64 {
	var s int64
	for _, x := range v {
		s += x
	}
	return s
}

// BankModel is the bank for porcupine: the state is every balance; a
// transfer subtracts from one account and adds to another and returns
// both new balances (anything when indeterminate); a read returns every
// balance.
func BankModel(init []int64) porcupine.Model {
	var start balances
	copy(start[:], init)
	return porcupine.Model{
		Partition: partitionByKey,
		Init:      func() any { return start },
		Step: func(state, in, out any) (bool, any) {
			st, i, o := state.(balances), in.(input), out.(output)
			if i.Kind == OpBankRead {
				if len(o.Balances) != len(init) {
					return false, st
				}
				for j, v := range o.Balances {
					if st[j] != v {
						return false, st
					}
				}
				return true, st
			}
			ok := o.Unknown || len(o.Balances) == 2 && o.Balances[0] == st[i.From]-i.Amount && o.Balances[1] == st[i.To]+i.Amount
			st[i.From] -= i.Amount
			st[i.To] += i.Amount
			return ok, st
		},
		Hash: func(state any) uint64 { // FNV-1a over the balances
			h := uint64(14695981039346656037)
			for _, v := range state.(balances) {
				h = (h ^ uint64(v)) * 1099511628211
			}
			return h
		},
		DescribeOperation: describeOp,
		DescribeState: func(state any) string {
			st := state.(balances)
			return fmt.Sprint(st[:len(init)])
		},
		DescribeOperationMetadata: func(m any) string { s, _ := m.(string); return s },
	}
}

// BankStats counts the bank's operations over every generation.
type BankStats struct {
	Generations int // whose accounts were created
	Accounts    int // per generation
	Total       int64
	Transfers   int     // invoked
	OK          int     // acknowledged and applied
	Aborted     int     // EXEC answered null: a watched key changed
	Refused     int     // overdraft: not sent
	Failed      int     // definitely not applied, for another reason
	Info        int     // indeterminate
	Reads       int     // acknowledged reads, final ones excluded
	Final       []int64 // the last generation's final balances
	// Explained says how the final balances were checked: "exact" when
	// some subset of the indeterminate transfers explains every
	// generation's, else "exact N, bounds M" (N generations explained
	// exactly, M only within per-account bounds).
	Explained string
}

func bankStats(ops []Op, gens []BankGen, init []int64) *BankStats {
	st := &BankStats{Generations: len(gens), Accounts: len(init), Total: sum(init)}
	last := ""
	if len(gens) > 0 {
		last = gens[len(gens)-1].Key
	}
	for _, op := range ops {
		switch {
		case op.Kind == OpBankRead && op.Status == StatusOK && op.Final:
			if op.Key == last {
				st.Final = op.Balances
			}
		case op.Kind == OpBankRead && op.Status == StatusOK:
			st.Reads++
		case op.Kind != OpTransfer:
		case op.Status == StatusOK && op.Refused:
			st.Transfers++
			st.Refused++
		case op.Status == StatusOK:
			st.Transfers++
			st.OK++
		case op.Status == StatusInfo:
			st.Transfers++
			st.Info++
		case op.Err == redis.TxFailedErr.Error():
			st.Transfers++
			st.Aborted++
		default:
			st.Transfers++
			st.Failed++
		}
	}
	return st
}

// checkBank checks each generation's ops (those with its Key) with
// checkGeneration against the initial balances. It returns the problems,
// each naming its generation, and how the final balances were explained:
// "exact" when every generation's were exactly, else "exact N, bounds M".
func checkBank(ops []Op, gens []BankGen, init []int64) (problems []string, explained string) {
	byKey := map[string][]Op{}
	for _, op := range ops {
		if op.Kind == OpTransfer || op.Kind == OpBankRead {
			byKey[op.Key] = append(byKey[op.Key], op)
		}
	}
	exact, bounds := 0, 0
	for _, g := range gens {
		p, how := checkGeneration(byKey[g.Key], init, g.Gen)
		problems = append(problems, p[:min(len(p), 50-len(problems))]...)
		switch how {
		case "exact":
			exact++
		case "bounds":
			bounds++
		}
	}
	if exact == len(gens) {
		return problems, "exact"
	}
	return problems, fmt.Sprintf("exact %d, bounds %d", exact, bounds)
}

// checkGeneration checks the history of generation gen against the
// accounts' initial balances: every acknowledged read (final ones
// included) sees every account and the total; no balance is ever negative
// when no transfer went without the overdraft check; an acknowledged WATCH
// transfer's EXEC replies are the balances it read minus and plus its
// amount (else a key changed between WATCH and EXEC and EXEC did not
// abort); the last final read equals the initial balances plus every
// acknowledged transfer plus some subset of the indeterminate ones, so
// that nothing acknowledged was lost and nothing that failed definitely (a
// null EXEC included) was applied. It returns the problems and how the
// final balances were explained ("exact" or "bounds").
func checkGeneration(ops []Op, init []int64, gen int) (problems []string, explained string) {
	add := func(format string, args ...any) {
		if len(problems) < 50 {
			problems = append(problems, fmt.Sprintf("bank generation %d: ", gen)+fmt.Sprintf(format, args...))
		}
	}
	n, total := len(init), sum(init)
	plain := false
	for _, op := range ops {
		if op.Kind == OpTransfer && op.Mode == bankPlain && op.Status != StatusFail {
			plain = true
		}
	}
	var want balances
	copy(want[:], init)
	var unknown []Op
	var final *Op
	acked := 0
	for _, op := range ops {
		switch {
		case op.Kind == OpBankRead && op.Status == StatusOK:
			if len(op.Balances) != n {
				add("%s read %d accounts, want %d", op, len(op.Balances), n)
				continue
			}
			if s := sum(op.Balances); s != total {
				add("%s sums to %d, want the total %d", op, s, total)
			}
			if !plain && slicesMin(op.Balances) < 0 {
				add("%s: a negative balance, although every transfer refuses overdrafts", op)
			}
			if op.Final {
				final = &op
			}
		case op.Kind == OpTransfer && op.Status == StatusOK && !op.Refused:
			acked++
			want[op.From] -= op.Amount
			want[op.To] += op.Amount
			if len(op.Balances) != 2 {
				add("%s: %d EXEC replies, want 2", op, len(op.Balances))
				continue
			}
			if op.Mode == bankWatch && (len(op.Seen) != 2 || op.Balances[0] != op.Seen[0]-op.Amount || op.Balances[1] != op.Seen[1]+op.Amount) {
				add("WATCH did not protect %s: the balances changed between WATCH and EXEC, yet EXEC applied the transfer", op)
			}
			if !plain && op.Balances[0] < 0 {
				add("%s left a negative balance, although every transfer refuses overdrafts", op)
			}
		case op.Kind == OpTransfer && op.Status == StatusInfo:
			unknown = append(unknown, op)
		}
	}
	if final == nil {
		add("no final read of the accounts")
		return problems, ""
	}
	var got, diff balances
	copy(got[:], final.Balances)
	for j := range diff {
		diff[j] = got[j] - want[j]
	}
	ok, how := explainable(diff, unknown)
	if !ok {
		add("the final balances %v are not the initial %v plus the %d acknowledged transfers (%v) plus any subset of the %d indeterminate ones (checked: %s): an acknowledged transfer was lost or a failed one (a null EXEC included) applied",
			got[:n], init, acked, want[:n], len(unknown), how)
	}
	return problems, how
}

func slicesMin(v []int64) int64 {
	m := v[0]
	for _, x := range v[1:] {
		m = min(m, x)
	}
	return m
}

// explainable reports whether diff is the sum of the changes of some subset
// of the transfers: "exact" grows the set of reachable sums one transfer
// at a time while it stays below bankMaxReach vectors; past that, "bounds"
// only checks each account against the sums of the transfers' debits and
// credits.
func explainable(diff balances, transfers []Op) (bool, string) {
	reach := map[balances]struct{}{{}: {}}
	for _, t := range transfers {
		next := make(map[balances]struct{}, 2*len(reach))
		for v := range reach {
			next[v] = struct{}{}
			v[t.From] -= t.Amount
			v[t.To] += t.Amount
			next[v] = struct{}{}
		}
		if reach = next; len(reach) > bankMaxReach {
			reach = nil
			break
		}
	}
	if reach != nil {
		_, ok := reach[diff]
		return ok, "exact"
	}
	var lo, hi balances
	for _, t := range transfers {
		lo[t.From] -= t.Amount
		hi[t.To] += t.Amount
	}
	var s int64
	for j, d := range diff {
		s += d
		if d < lo[j] || d > hi[j] {
			return false, "bounds"
		}
	}
	return s == 0, "bounds"
}
