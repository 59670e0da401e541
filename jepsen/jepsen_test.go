package jepsen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/riotkv/riot/internal/testsummary"
)

// ciRuns is the CI mode: fixed seeds, 3 and 5 nodes, each run injecting
// every fault kind once, in an order its seed picks. bankPlain is the
// share of bank transfers sent without WATCH: none with 3 nodes, so that
// no balance may go negative there. shards > 1 is the sharded mode
// (shards.go): 5 nodes, so that each data group has 3 replicas of the 5
// and the nodes hold different groups.
var ciRuns = []struct {
	name      string
	nodes     int
	seed      uint64
	kinds     []string
	bankPlain float64
	shards    int
}{
	{"3nodes", 3, 1, AllFaults, 0, 0},
	{"5nodes", 5, 2, AllFaults, 0.5, 0},
	{"sharded", 5, 3, AllFaults, 0, 3},
}

// TestJepsenCI runs the CI mode. Each run prints a one-line summary
// (printSummary), -v or not; -v also shows the full report: operations (ok,
// failed, indeterminate), every fault, checker results.
func TestJepsenCI(t *testing.T) {
	needRoot(t)
	seen := map[string]int{}
	for _, rc := range ciRuns {
		t.Run(rc.name, func(t *testing.T) {
			wl := DefaultWorkload(rc.nodes)
			wl.BankPlainShare = rc.bankPlain
			rep := execute(t, RunConfig{
				Name: "ci-" + rc.name, Seed: rc.seed, Nodes: rc.nodes, Shards: rc.shards, Workload: wl,
				Nemesis: NemesisConfig{Kinds: rc.kinds, Rounds: 1, Quiet: 800 * time.Millisecond, Hold: 2500 * time.Millisecond},
			})
			for _, f := range rep.Faults {
				if f.Err == "" {
					seen[f.Kind]++
				}
			}
		})
	}
	if t.Failed() {
		return
	}
	for _, k := range AllFaults {
		if seen[k] == 0 {
			t.Errorf("fault %s was never injected without error in CI mode (injected: %v)", k, seen)
		}
	}
}

// execute runs cfg (adding the binary, directories and logger), logs the
// report and fails the test on any problem.
func execute(t *testing.T, cfg RunConfig) *Report {
	t.Helper()
	cfg.Bin, cfg.Dir, cfg.Logf = serverBin, t.TempDir(), t.Logf
	// $JEPSEN_SERVER_FLAGS: more riot-server flags for every node of the
	// CI and long runs (e.g. "--log-store wal").
	cfg.Flags = append(cfg.Flags, strings.Fields(os.Getenv("JEPSEN_SERVER_FLAGS"))...)
	r, err := StartRun(cfg)
	if err != nil {
		t.Fatalf("start run %s: %v", cfg.Name, err)
	}
	t.Cleanup(r.Close)
	defer r.Close()
	ctx, cancel := testContext(t)
	defer cancel()
	r.Nemesis.Run(ctx)
	rep := r.Finish()
	t.Logf("\n%s", rep)
	printSummary(t, rep)
	if rep.Bad() {
		t.Errorf("run %s (seed %d) failed; artifacts (history, porcupine HTML, node logs) in %s:\n%s",
			cfg.Name, cfg.Seed, rep.OutDir, strings.Join(rep.Problems, "\n"))
	}
	return rep
}

// printSummary prints rep's one-line summary with a "jepsen:" prefix where
// a passing run shows it too: on stderr (go test -v, or go test run in this
// directory) and in the summary `make test` prints after the tests
// (internal/testsummary), since `go test ./...` hides the output of a
// package that passes.
func printSummary(t *testing.T, rep *Report) {
	t.Helper()
	if err := writeSummary(os.Stderr, rep); err != nil {
		t.Errorf("summary: %v", err)
	}
}

func writeSummary(w io.Writer, rep *Report) error {
	line := "jepsen: " + rep.Summary()
	fmt.Fprintln(w, line)
	return testsummary.Add(line)
}

// testContext ends a minute before the test's deadline, so that a run
// still heals, checks and reports.
func testContext(t *testing.T) (context.Context, context.CancelFunc) {
	if d, ok := t.Deadline(); ok {
		return context.WithDeadline(context.Background(), d.Add(-time.Minute))
	}
	return context.WithCancel(context.Background())
}

// TestJepsenSnapshots is the snapshot mode at CI size (snapshots.go): 3
// nodes, a follower killed in the middle of a snapshot install (snapkill),
// a kill -9 and an isolated leader, each once; the stopped and cut-off
// nodes catch up by snapshot. On top of the run's checks: some snapkill
// landed during a restore.
func TestJepsenSnapshots(t *testing.T) {
	needRoot(t)
	rep := execute(t, RunConfig{
		Name: "ci-snapshots", Seed: 3, Nodes: 3, Snapshots: &SnapshotMode{},
		Nemesis: NemesisConfig{Kinds: []string{FaultSnapKill, FaultKill, FaultIsolate}, Rounds: 1, Quiet: 800 * time.Millisecond, Hold: 2500 * time.Millisecond},
	})
	if st := rep.Snapshots; st == nil || st.Snapkills == 0 {
		t.Errorf("no snapkill fault killed a follower during a restore: %v", st)
	}
}

// TestJepsenLong is the long mode (make jepsen): a mixed schedule for
// $JEPSEN_DURATION. Skipped unless JEPSEN_DURATION is set. Knobs:
// JEPSEN_FAULTS (kinds and groups, default all), JEPSEN_NODES (default 5),
// JEPSEN_SEED (default: the time), JEPSEN_HOLD and JEPSEN_QUIET (fault and
// pause lengths, default 5s and 2s), JEPSEN_SNAPSHOTS=1 (the snapshot
// mode, with the snapkill fault added to the kinds), JEPSEN_SHARDS (the
// sharded mode with that many data groups; default 1: unsharded),
// JEPSEN_OUT (artifacts; the nodes' logs are written there as they come,
// under long-seed<seed>-logs, or under the system temp dir without it).
func TestJepsenLong(t *testing.T) {
	dur := os.Getenv("JEPSEN_DURATION")
	if dur == "" {
		t.Skip("long mode: set JEPSEN_DURATION (make jepsen DURATION=30m)")
	}
	needRoot(t)
	d, err := time.ParseDuration(dur)
	if err != nil {
		t.Fatalf("JEPSEN_DURATION=%q: %v", dur, err)
	}
	faults, err := ParseFaults(envOr("JEPSEN_FAULTS", "all"))
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := strconv.Atoi(envOr("JEPSEN_NODES", "5"))
	if err != nil || nodes < 1 {
		t.Fatalf("JEPSEN_NODES=%q: want a positive number", os.Getenv("JEPSEN_NODES"))
	}
	seed := uint64(time.Now().UnixNano() % 1e6)
	if s := os.Getenv("JEPSEN_SEED"); s != "" {
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("JEPSEN_SEED=%q: %v", s, err)
		}
	}
	hold, err1 := time.ParseDuration(envOr("JEPSEN_HOLD", "5s"))
	quiet, err2 := time.ParseDuration(envOr("JEPSEN_QUIET", "2s"))
	if err1 != nil || err2 != nil {
		t.Fatalf("JEPSEN_HOLD / JEPSEN_QUIET: %v %v", err1, err2)
	}
	var snaps *SnapshotMode
	switch v := os.Getenv("JEPSEN_SNAPSHOTS"); v {
	case "", "0":
	case "1":
		snaps = &SnapshotMode{}
		if !slices.Contains(faults, FaultSnapKill) {
			faults = append(faults, FaultSnapKill)
		}
	default:
		t.Fatalf("JEPSEN_SNAPSHOTS=%q: want 1 or 0", v)
	}
	shards, err := strconv.Atoi(envOr("JEPSEN_SHARDS", "1"))
	if err != nil || shards < 1 {
		t.Fatalf("JEPSEN_SHARDS=%q: want a positive number", os.Getenv("JEPSEN_SHARDS"))
	}
	logs := filepath.Join(envOr("JEPSEN_OUT", os.TempDir()), fmt.Sprintf("long-seed%d-logs", seed))
	t.Logf("long run: %s, faults %v, %d nodes, %d shards, seed %d, snapshot mode %v (rerun with JEPSEN_SEED=%d); node logs in %s", d, faults, nodes, shards, seed, snaps != nil, seed, logs)
	execute(t, RunConfig{
		Name: "long", Seed: seed, Nodes: nodes, Shards: shards, Snapshots: snaps, LogDir: logs,
		Nemesis: NemesisConfig{Kinds: faults, Duration: d, Quiet: quiet, Hold: hold},
	})
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// TestCheckerCatchesUnsafeReads shows the checker can fail: nodes started
// with --test-unsafe-local-reads answer reads from local state. The leader
// is cut off, a new value is written through the majority, and a read
// through the old, isolated leader returns the old value: a stale read
// the register checker must report as not linearizable, with a
// visualization written.
func TestCheckerCatchesUnsafeReads(t *testing.T) {
	needRoot(t)
	for attempt, seed := range []uint64{101, 102, 103} {
		if detected := unsafeReadScenario(t, seed); detected {
			t.Logf("stale read detected on attempt %d (seed %d)", attempt+1, seed)
			return
		}
	}
	t.Fatal("the checker never reported the stale reads of --test-unsafe-local-reads as a linearizability violation")
}

// unsafeReadScenario runs the scenario once and reports whether the
// checker found the violation.
func unsafeReadScenario(t *testing.T, seed uint64) bool {
	t.Helper()
	out := t.TempDir()
	r, err := StartRun(RunConfig{
		Name: "unsafe-reads", Seed: seed, Nodes: 3, UnsafeReads: true,
		Bin: serverBin, Dir: t.TempDir(), OutDir: out, Logf: t.Logf,
	})
	if err != nil {
		t.Fatalf("start run: %v", err)
	}
	t.Cleanup(r.Close)
	defer r.Close()
	c, h := r.Cluster, r.History
	ld, err := c.WaitLeader(recoverTimeout)
	if err != nil {
		t.Fatal(err)
	}
	var others []*Server
	for _, s := range c.Members() {
		if s != ld {
			others = append(others, s)
		}
	}
	ldc := newDataClient(ld.Addr, 2*time.Second, false)
	defer ldc.Close()
	var ocs []*redis.Client
	for _, s := range others {
		cl := newDataClient(s.Addr, time.Second, false)
		defer cl.Close()
		ocs = append(ocs, cl)
	}
	const key = "probe:stale"
	run := func(cl *redis.Client, s *Server, op Op) Op {
		op.Process = h.newProcess()
		Invoke(h, cl, s, &op, 2*time.Second)
		h.add(op)
		return op
	}
	if op := run(ldc, ld, Op{Kind: OpWrite, Key: key, Value: "before-partition"}); op.Status != StatusOK {
		t.Fatalf("write through leader %s: %s", ld.ID, op)
	}
	if err := c.Net.Partition([]*Host{ld.Host}, hostsOf(others)); err != nil {
		t.Fatal(err)
	}
	cut := h.Now()
	// Through the majority, alternating between its nodes (one of them
	// may still forward to the old leader).
	attempt := 0
	err = waitFor(recoverTimeout, func() error {
		s, cl := others[attempt%len(others)], ocs[attempt%len(others)]
		attempt++
		if op := run(cl, s, Op{Kind: OpWrite, Key: key, Value: "after-partition"}); op.Status != StatusOK {
			return errors.New(op.String())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the majority never acknowledged a write after the leader was cut off: %v", err)
	}
	stale := 0
	for range 5 {
		if op := run(ldc, ld, Op{Kind: OpRead, Key: key}); op.Status == StatusOK && op.Value == "before-partition" {
			stale++
		}
	}
	t.Logf("seed %d: isolated old leader %s served %d of 5 reads with the value from before the partition", seed, ld.ID, stale)
	r.Nemesis.record(FaultEvent{Kind: FaultIsolate, Desc: "isolate leader " + ld.ID, Start: cut, End: h.Now()})
	if err := c.Net.HealPartitions(); err != nil {
		t.Fatal(err)
	}
	rep := r.Finish()
	t.Logf("\n%s", rep)
	var reg *Linearizability
	for _, l := range rep.Lin {
		if l.Model == "register" {
			reg = l
		}
	}
	if reg == nil || reg.Result != "Illegal" {
		return false
	}
	if rep.OutDir != out {
		t.Errorf("artifacts went to %q, want %q", rep.OutDir, out)
	}
	for _, f := range []string{"register.html", "history.txt", "summary.txt", "nemesis.txt", filepath.Join("logs", ld.ID+".log")} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("artifact %s missing or empty: %v", f, err)
		}
	}
	return true
}
