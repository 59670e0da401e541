package jepsen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
)

// RunConfig is one test run: a cluster, a workload, a fault schedule.
type RunConfig struct {
	Name        string
	Seed        uint64
	Nodes       int
	Nemesis     NemesisConfig
	Workload    WorkloadConfig // zero: DefaultWorkload(Nodes)
	UnsafeReads bool           // --test-unsafe-local-reads (the checker must catch it)
	// Shards > 1 runs the sharded mode (shards.go): every node with
	// --shards Shards; 0 or 1: one raft group, as always.
	Shards int
	Bin    string   // riot-server
	Flags  []string // more riot-server flags for every node
	Dir    string   // data directories
	// Snapshots, when set, runs the snapshot mode (snapshots.go): followers
	// catch up by snapshot installs, which the run must see.
	Snapshots *SnapshotMode
	// OutDir receives the artifacts of a failed run. Empty: $JEPSEN_OUT/<name>
	// when $JEPSEN_OUT is set, else a new directory under the system temp
	// dir (kept, and named in the report).
	OutDir string
	// LogDir, when set, gets the nodes' logs as they are written (the long
	// runs: what led to a hang survives it).
	LogDir string
	Logf   func(string, ...any)
}

// Report is what a run did and found.
type Report struct {
	Name   string
	Seed   uint64
	Nodes  int
	Shards int // data groups; 0: unsharded

	Ops           int            // operations invoked
	OK            int            // acknowledged
	Failed        int            // definitely not applied
	Indeterminate int            // outcome unknown (writes and INCRs kept as such; reads dropped)
	Errors        map[string]int // failed and indeterminate ops by error class
	Keys          int            // registers and counters used (and bank accounts)
	Redirects     int64          // sharded mode: MOVED replies the clients followed
	Bank          *BankStats     // nil without bank workers
	Coll          *CollStats     // nil without the collection workloads
	Snapshots     *SnapshotStats // nil outside the snapshot mode

	Faults []FaultEvent
	Lin    []*Linearizability
	// Problems are the safety violations (and liveness failures) found;
	// a run passes when it has none and every model is linearizable.
	Problems []string
	OutDir   string // where the artifacts went, for a failed run
	Elapsed  time.Duration
}

// Linearizable reports whether every model checked Ok.
func (r *Report) Linearizable() bool {
	for _, l := range r.Lin {
		if l.Result != porcupine.Ok {
			return false
		}
	}
	return len(r.Lin) > 0
}

// Bad reports whether the run found anything wrong.
func (r *Report) Bad() bool { return len(r.Problems) > 0 || !r.Linearizable() }

// FaultCounts counts the injected faults by kind.
func (r *Report) FaultCounts() map[string]int {
	m := map[string]int{}
	for _, f := range r.Faults {
		m[f.Kind]++
	}
	return m
}

func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s: seed %d, %d nodes%s, %s\n", r.Name, r.Seed, r.Nodes, r.shardsNote(), r.Elapsed.Round(100*time.Millisecond))
	fmt.Fprintf(&b, "  ops: %d invoked, %d ok, %d failed, %d indeterminate; %d keys; errors %s\n",
		r.Ops, r.OK, r.Failed, r.Indeterminate, r.Keys, fmtCounts(r.Errors))
	if r.Shards > 1 {
		fmt.Fprintf(&b, "  sharded: %d data groups; %d MOVED redirects followed\n", r.Shards, r.Redirects)
	}
	if k := r.Bank; k != nil {
		gens := fmt.Sprintf("%d generations", k.Generations)
		if k.Generations == 1 {
			gens = "1 generation"
		}
		fmt.Fprintf(&b, "  bank: %s of %d accounts, total %d; transfers: %d invoked, %d ok, %d aborted by WATCH, %d refused (overdraft), %d failed, %d indeterminate; %d reads ok; last final %v (explained: %s)\n",
			gens, k.Accounts, k.Total, k.Transfers, k.OK, k.Aborted, k.Refused, k.Failed, k.Info, k.Reads, k.Final, k.Explained)
	}
	if st := r.Coll; st != nil {
		fmt.Fprintf(&b, "  collections: %s\n", st)
	}
	if st := r.Snapshots; st != nil {
		fmt.Fprintf(&b, "  snapshots: %s; %d restore errors logged; %d padding keys checked on every member\n", st, st.RestoreErrors, st.PadKeys)
	}
	fmt.Fprintf(&b, "  faults: %d %s\n", len(r.Faults), fmtCounts(r.FaultCounts()))
	for _, f := range r.Faults {
		fmt.Fprintf(&b, "    %s\n", f)
	}
	for _, l := range r.Lin {
		fmt.Fprintf(&b, "  linearizability (%s, %d ops): %s in %s", l.Model, l.Ops, l.Result, l.Elapsed.Round(time.Millisecond))
		if len(l.BadKeys) > 0 {
			fmt.Fprintf(&b, "; keys not linearizable: %s (see %s.html)", strings.Join(l.BadKeys, " "), l.Model)
		}
		b.WriteByte('\n')
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  PROBLEM: %s\n", p)
	}
	if r.OutDir != "" {
		fmt.Fprintf(&b, "  artifacts: %s\n", r.OutDir)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Summary is the report in one line, for CI logs: operations (with the
// indeterminate ones), the faults injected per kind (and those that could
// not be), the checkers' verdict and the result.
func (r *Report) Summary() string {
	injected, notInjected := map[string]int{}, 0
	slow := ""
	for _, f := range r.Faults {
		if f.Err != "" {
			notInjected++
			continue
		}
		injected[f.Kind]++
		if f.Kind == FaultSlow && strings.HasPrefix(f.Desc, "tc tbf") {
			slow = " (slow as tbf: no sch_netem)"
		}
	}
	lin := "linearizable"
	if !r.Linearizable() {
		lin = "NOT linearizable"
	}
	result := "PASS"
	if r.Bad() {
		result = fmt.Sprintf("FAIL (problems: %d; artifacts: %s)", len(r.Problems), r.OutDir)
	}
	bank := ""
	if k := r.Bank; k != nil {
		bank = fmt.Sprintf("; bank generations %d, transfers %d (ok %d, aborted %d, refused %d, indeterminate %d), reads %d",
			k.Generations, k.Transfers, k.OK, k.Aborted, k.Refused, k.Info, k.Reads)
	}
	if st := r.Coll; st != nil {
		bank += "; " + st.String()
	}
	snaps := ""
	if st := r.Snapshots; st != nil {
		snaps = "; " + st.String()
	}
	return fmt.Sprintf("run %s: seed %d, %d nodes%s, %s; ops %d (ok %d, failed %d, indeterminate %d)%s; faults %d %s%s, %d not injected%s; %s; %s",
		r.Name, r.Seed, r.Nodes, r.shardsNote(), r.Elapsed.Round(100*time.Millisecond), r.Ops, r.OK, r.Failed, r.Indeterminate, bank,
		len(r.Faults)-notInjected, fmtCounts(injected), slow, notInjected, snaps, lin, result)
}

// shardsNote is ", N shards (M MOVED followed)" in the sharded mode.
func (r *Report) shardsNote() string {
	if r.Shards <= 1 {
		return ""
	}
	return fmt.Sprintf(", %d shards (%d MOVED followed)", r.Shards, r.Redirects)
}

func fmtCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// Run is a run in progress: a cluster with a workload on it.
type Run struct {
	Cfg      RunConfig
	Cluster  *Cluster
	History  *History
	Workload *Workload
	Nemesis  *Nemesis
	begin    time.Time
	logf     func(string, ...any)
}

// StartRun starts the cluster and the workload; the nemesis is created but
// not started. The caller must Close the run.
func StartRun(cfg RunConfig) (*Run, error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Workload.Workers == 0 {
		wl := DefaultWorkload(cfg.Nodes)
		wl.Prefix = cfg.Workload.Prefix
		if wl.Prefix == "" {
			wl.Prefix = "j"
		}
		cfg.Workload = wl
	}
	spare := 0
	for _, k := range cfg.Nemesis.Kinds {
		if k == FaultGrow {
			spare = 1
		}
		if slices.Contains(SnapshotFaults, k) && cfg.Snapshots == nil {
			return nil, fmt.Errorf("jepsen: the %s fault needs the snapshot mode (JEPSEN_SNAPSHOTS=1)", k)
		}
	}
	if cfg.Shards > 1 && cfg.Snapshots != nil {
		// RAFT.SNAPSHOT, the padding (MSET) and the restore counters
		// address one raft group: the mode is not built for data groups.
		return nil, fmt.Errorf("jepsen: the snapshot mode does not run sharded (shards %d)", cfg.Shards)
	}
	if cfg.Snapshots != nil {
		m := cfg.Snapshots.withDefaults()
		cfg.Snapshots, cfg.Nemesis.Snapshots = &m, &m
		cfg.Flags = append(m.flags(), cfg.Flags...)
	}
	r := &Run{Cfg: cfg, begin: time.Now(), logf: cfg.Logf}
	c, err := StartCluster(ClusterConfig{Bin: cfg.Bin, Dir: cfg.Dir, Nodes: cfg.Nodes, Spare: spare, UnsafeReads: cfg.UnsafeReads,
		Shards: cfg.Shards, Flags: cfg.Flags, LogDir: cfg.LogDir, Logf: cfg.Logf})
	if err != nil {
		return nil, err
	}
	r.Cluster = c
	if m := cfg.Snapshots; m != nil {
		start := time.Now()
		if err := writePadding(c, *m, cfg.Seed); err != nil {
			c.Close()
			return nil, err
		}
		cfg.Logf("snapshot mode: %d padding keys of %d bytes written in %s", m.PadKeys, m.PadBytes, time.Since(start).Round(time.Millisecond))
	}
	r.History = NewHistory()
	r.Nemesis = NewNemesis(c, r.History, cfg.Nemesis, cfg.Seed, cfg.Logf)
	r.Workload = StartWorkload(c, r.History, cfg.Workload, cfg.Seed)
	return r, nil
}

// Close stops the workload and tears the cluster and network down. It is
// safe to call more than once.
func (r *Run) Close() {
	r.Workload.Stop()
	r.Cluster.Close()
}

// Finish heals everything, lets the workload show the cluster serves
// again, stops it, reads the final state and checks the history. Failed
// runs get their artifacts written (Report.OutDir).
func (r *Run) Finish() *Report {
	rep := &Report{Name: r.Cfg.Name, Seed: r.Cfg.Seed, Nodes: r.Cfg.Nodes, Errors: map[string]int{}}
	if r.Cluster.Sharded() {
		rep.Shards = r.Cfg.Shards
	}
	if err := r.Nemesis.HealAll(); err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("harness: healing: %v", err))
	}
	if err := r.Cluster.WaitHealthy(2 * recoverTimeout); err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("liveness: the cluster is not whole %s after healing: %v", 2*recoverTimeout, err))
	}
	// The healed cluster must serve the workload again.
	base := r.History.Acked()
	err := waitFor(recoverTimeout, func() error {
		if n := r.History.Acked() - base; n < 20 {
			return fmt.Errorf("%d ops acknowledged since healing", n)
		}
		return nil
	})
	if err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("liveness: the healed cluster does not serve clients: %v", err))
	}
	r.Workload.Stop()
	regs, ctrs := r.Workload.Keys()
	hashes, zsets := r.Workload.collKeys()
	queues := r.Workload.queueKeys()
	bankGens, bankInit, bankErr := r.Workload.Bank()
	if bankErr != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("bank: %v", bankErr))
		bankGens, bankInit = nil, nil
	}
	keys := finalKeys{regs: regs, ctrs: ctrs, bank: bankGens, hashes: hashes, zsets: zsets, queues: queues}
	fs, err := r.finalState(keys)
	if err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("final state: %v", err))
	}
	ops := r.History.Ops()
	rep.Redirects = r.Workload.Redirects()
	rep.Keys = len(keys.all())
	if cw := r.Workload.coll; cw != nil {
		rep.Coll = collStats(ops, cw.zskip, cw.qskip)
	}
	for _, op := range ops {
		if op.Final {
			continue
		}
		rep.Ops++
		switch op.Status {
		case StatusOK:
			rep.OK++
		case StatusFail:
			rep.Failed++
		case StatusInfo:
			rep.Indeterminate++
		}
		if op.Status != StatusOK {
			rep.Errors[op.Status.String()+":"+errClass(op.Err)]++
		}
	}
	rep.Faults = r.Nemesis.Events()
	for _, f := range rep.Faults {
		if f.Err != "" && !(f.Kind == FaultSlow && strings.HasPrefix(f.Desc, "slow network unavailable")) {
			rep.Problems = append(rep.Problems, fmt.Sprintf("fault %s (%s): %s", f.Kind, f.Desc, f.Err))
		}
		if f.Recovered < 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("liveness: the cluster was not whole %s after healing %s (%s)", recoverTimeout, f.Kind, f.Desc))
		}
	}
	if r.Cfg.Snapshots != nil {
		rep.Problems = append(rep.Problems, r.checkSnapshots(rep, err == nil)...)
	}
	rep.Lin = CheckLinearizability(ops, bankInit)
	for _, l := range rep.Lin {
		if l.Result != porcupine.Ok {
			rep.Problems = append(rep.Problems, fmt.Sprintf("linearizability: %s history (%d ops) is %s", l.Model, l.Ops, l.Result))
		}
	}
	if err == nil {
		rep.Problems = append(rep.Problems, checkDurability(ops, regs, ctrs, fs)...)
		rep.Problems = append(rep.Problems, checkHashCounters(ops, hashes, fs)...)
		rep.Problems = append(rep.Problems, checkQueues(ops, queues, fs)...)
		rep.Problems = append(rep.Problems, checkConvergence(keys.all(), fs)...)
	}
	if bankInit != nil {
		rep.Bank = bankStats(ops, bankGens, bankInit)
		if err == nil {
			var problems []string
			problems, rep.Bank.Explained = checkBank(ops, bankGens, bankInit)
			rep.Problems = append(rep.Problems, problems...)
		}
	}
	rep.Elapsed = time.Since(r.begin)
	if rep.Bad() {
		rep.OutDir = r.outDir()
		if err := writeArtifacts(rep.OutDir, rep, ops, rep.Lin, r.Cluster.All()); err != nil {
			rep.Problems = append(rep.Problems, err.Error())
		}
	}
	return rep
}

// checkSnapshots fills rep.Snapshots and returns the snapshot mode's
// problems: no follower installed a snapshot; a member's INFO restore
// counter disagrees with its log; and, when the members caught up
// (caughtUp), a padding key missing or wrong on one of them.
func (r *Run) checkSnapshots(rep *Report, caughtUp bool) []string {
	m := r.Cfg.Snapshots
	st := snapshotStats(r.Cluster.All(), rep.Faults)
	rep.Snapshots = st
	problems := append(st.problems(), checkRestoreCounters(r.Cluster)...)
	if caughtUp {
		st.PadKeys = m.PadKeys
		problems = append(problems, checkPadding(r.Cluster.Members(), *m, r.Cfg.Seed)...)
	}
	return problems
}

func (r *Run) outDir() string {
	if r.Cfg.OutDir != "" {
		return r.Cfg.OutDir
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(r.Cfg.Name)
	if base := os.Getenv("JEPSEN_OUT"); base != "" {
		return filepath.Join(base, fmt.Sprintf("%s-seed%d-%s", name, r.Cfg.Seed, time.Now().Format("20060102-150405")))
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("riot-jepsen-%s-seed%d-", name, r.Cfg.Seed))
	if err != nil {
		return filepath.Join(os.TempDir(), fmt.Sprintf("riot-jepsen-%s-seed%d", name, r.Cfg.Seed))
	}
	return dir
}

// finalState reads every key through the leader (linearizable reads,
// recorded in the history as final reads; in the sharded mode through the
// router, from the metadata leader to each key's group leader) and, once
// every member has caught up, every member's local copy (READONLY; in the
// sharded mode, of the keys of the groups it holds a replica of). A write a server was
// still retrying when its client gave up may land after the final reads,
// so the rounds repeat (a few times at most) until the local copies match
// the final reads.
func (r *Run) finalState(keys finalKeys) (finalState, error) {
	var fs finalState
	var err error
	for round := range 5 {
		fs, err = r.finalRound(keys)
		if err != nil || len(checkConvergence(keys.all(), fs)) == 0 {
			return fs, err
		}
		r.logf("final state: round %d: members differ from the final reads; reading again", round+1)
	}
	return fs, err
}

// finalKeys are the keys the final state reads: registers, counters,
// the bank's generations (their accounts), hash fields and sorted set
// members (collKey pairs), and queues.
type finalKeys struct {
	regs, ctrs, hashes, zsets, queues []string
	bank                              []BankGen
}

func (k finalKeys) all() []string {
	return allKeys(k.regs, k.ctrs, k.accounts(), k.hashes, k.zsets, k.queues)
}

// accounts are every generation's accounts.
func (k finalKeys) accounts() []string {
	var out []string
	for _, g := range k.bank {
		out = append(out, g.Accounts...)
	}
	return out
}

func allKeys(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func (r *Run) finalRound(keys finalKeys) (finalState, error) {
	regs, ctrs, accounts := keys.regs, keys.ctrs, keys.accounts()
	fs := finalState{reads: map[string]Op{}, nodes: map[string]map[string]*string{}}
	c := r.Cluster
	ld, err := c.WaitLeader(recoverTimeout)
	if err != nil {
		return fs, fmt.Errorf("no leader for the final reads: %w", err)
	}
	clients := map[*Server]*redis.Client{}
	client := func(s *Server) *redis.Client {
		if clients[s] == nil {
			clients[s] = newDataClient(s.Addr, 5*time.Second, false)
		}
		return clients[s]
	}
	defer func() {
		for _, cl := range clients {
			_ = cl.Close()
		}
	}()
	rt := r.Workload.rt // nil unsharded: every read through ld
	proc := r.History.newProcess()
	read := func(key string, kind OpKind) error {
		return waitFor(recoverTimeout, func() error {
			op := Op{Process: proc, Kind: kind, Key: key, Final: true}
			if kind == OpHGet || kind == OpZScore {
				op.Key, op.Field = splitCollKey(key)
			}
			rt.redirected(op.Key, ld, &op, func(t *Server) {
				Invoke(r.History, client(t), t, &op, 5*time.Second)
			})
			if op.Status != StatusOK {
				if op.Status == StatusInfo {
					proc = r.History.newProcess()
				}
				return fmt.Errorf("final %s %s via %s: %s", kind, key, op.Node, op.Err)
			}
			r.History.add(op)
			fs.reads[key] = op
			return nil
		})
	}
	for _, k := range regs {
		if err := read(k, OpRead); err != nil {
			return fs, err
		}
	}
	for _, k := range ctrs {
		if err := read(k, OpCount); err != nil {
			return fs, err
		}
	}
	for _, k := range keys.hashes {
		if err := read(k, OpHGet); err != nil {
			return fs, err
		}
	}
	for _, k := range keys.zsets {
		if err := read(k, OpZScore); err != nil {
			return fs, err
		}
	}
	for _, k := range keys.queues {
		if err := read(k, OpLRange); err != nil {
			return fs, err
		}
	}
	for _, g := range keys.bank {
		// One MGET of every account of each generation created (the
		// bank's final reads), recorded like a bank read; each account's
		// value then joins the final reads for the convergence check.
		err := waitFor(recoverTimeout, func() error {
			op := Op{Process: proc, Kind: OpBankRead, Mode: bankMGet, Key: g.Key, Final: true}
			var raw []string
			rt.redirected(g.Accounts[0], ld, &op, func(t *Server) {
				op.Node, op.Call = t.ID, r.History.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				vals, err := client(t).MGet(ctx, g.Accounts...).Result()
				cancel()
				if err == nil {
					raw, op.Balances, err = parseBalances(vals)
				}
				op.Return, op.Status = r.History.Now(), StatusOK
				if err != nil {
					op.Status, op.Err = classify(err), err.Error()
				}
			})
			if op.Status != StatusOK {
				if op.Status == StatusInfo {
					proc = r.History.newProcess()
				}
				return fmt.Errorf("final MGET of generation %d's accounts via %s: %s", g.Gen, op.Node, op.Err)
			}
			r.History.add(op)
			for i, k := range g.Accounts {
				fs.reads[k] = Op{Kind: OpRead, Key: k, Value: raw[i], Final: true, Node: op.Node}
			}
			return nil
		})
		if err != nil {
			return fs, err
		}
	}
	if err := c.WaitCaughtUp(recoverTimeout); err != nil {
		return fs, fmt.Errorf("members did not catch up: %w", err)
	}
	held := func(_ *Server, list []string) []string { return list }
	perKey := false
	if c.Sharded() {
		// Each member holds only the keys of its groups: compare those.
		var err error
		if fs.keysOf, err = c.replicaKeys(keys.all()); err != nil {
			return fs, fmt.Errorf("the data groups' replicas: %w", err)
		}
		sets := map[string]map[string]bool{}
		for id, ks := range fs.keysOf {
			sets[id] = map[string]bool{}
			for _, k := range ks {
				sets[id][k] = true
			}
		}
		held = func(s *Server, list []string) []string {
			return slices.DeleteFunc(slices.Clone(list), func(k string) bool { return !sets[s.ID][k] })
		}
		perKey = true
	}
	for _, s := range c.Members() {
		vals, err := localValues(s, held(s, allKeys(regs, ctrs, accounts)), perKey)
		if err != nil {
			return fs, err
		}
		if err := localCollValues(s, held(s, keys.hashes), false, vals); err != nil {
			return fs, err
		}
		if err := localCollValues(s, held(s, keys.zsets), true, vals); err != nil {
			return fs, err
		}
		if err := localQueueValues(s, held(s, keys.queues), vals); err != nil {
			return fs, err
		}
		fs.nodes[s.ID] = vals
	}
	return fs, nil
}

// localValues reads keys from s's local state (READONLY), in batches:
// one MGET each, or with perKey (the sharded mode, where an MGET of keys
// of several slots is refused) one GET per key in a pipeline.
func localValues(s *Server, keys []string, perKey bool) (map[string]*string, error) {
	cl := newDataClient(s.Addr, 5*time.Second, true)
	defer cl.Close()
	read := mgetInto
	if perKey {
		read = getEachInto
	}
	out := map[string]*string{}
	const batch = 200
	for lo := 0; lo < len(keys); lo += batch {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := read(ctx, cl, keys[lo:min(lo+batch, len(keys))], out)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("READONLY reads on %s: %w", s.ID, err)
		}
	}
	return out, nil
}

// mgetInto reads keys with one MGET into out (missing keys left out).
func mgetInto(ctx context.Context, cl *redis.Client, keys []string, out map[string]*string) error {
	vals, err := cl.MGet(ctx, keys...).Result()
	if err != nil {
		return fmt.Errorf("MGET: %w", err)
	}
	for i, k := range keys {
		if v, ok := vals[i].(string); ok {
			out[k] = &v
		} else if vals[i] != nil {
			return fmt.Errorf("MGET: %s = %#v", k, vals[i])
		}
	}
	return nil
}
