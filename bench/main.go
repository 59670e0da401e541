// Command bench-compare measures Riot next to etcd and redis-server on one
// machine, with one load generator and the same settings for every system,
// and writes the results into docs/performance.md and docs/bench/*.svg.
//
// It starts riot-server (built from this repository; 1 node and a 3-node
// cluster), etcd 3.4 (Debian's etcd-server; 3 members and 1 member, fsync on
// as by default) and redis-server (appendfsync always), all on loopback with
// temporary data directories, and stops every process it started on every
// way out. Run it with `make bench-compare`; see docs/performance.md.
//
// It lives in a module of its own so that the etcd client and gRPC never
// enter riot's go.mod.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	repo      string
	riotBin   string
	riotRev   string
	systems   []string
	clients   int
	sweep     []int
	duration  time.Duration
	warmup    time.Duration
	runs      int
	keys      int
	valueSize int
	half      bool
	recKeys   int
	doc       string
	svgDir    string
	keepData  bool
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	cfg, err := parseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-compare:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := compare(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench-compare:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("bench-compare", flag.ContinueOnError)
	var cfg config
	var systemsFlag, sweepFlag string
	fs.StringVar(&cfg.repo, "repo", "..", "riot repository root (riot-server is built from it)")
	fs.StringVar(&cfg.riotBin, "riot-bin", "", "use this riot-server binary instead of building one")
	fs.StringVar(&cfg.riotRev, "riot-rev", "", "build riot-server from this git revision (git archive) instead of the work tree")
	fs.StringVar(&systemsFlag, "systems", "riot1,riot3,riot1w,riot3w,riot3s1,riot3s3,riot3s6,etcd3,etcd1,redis",
		"systems to measure, in order (also: rediscluster, 3 redis-server masters in cluster mode)")
	fs.IntVar(&cfg.clients, "clients", 64, "clients for the table rows")
	fs.StringVar(&sweepFlag, "sweep", "1,4,16,64,128", "client counts for the throughput plot (SET and GET); empty: table rows only")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured time of each run")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured time before each run")
	fs.IntVar(&cfg.runs, "runs", 3, "runs of each configuration (the report gives medians and min-max)")
	fs.IntVar(&cfg.keys, "keys", 100000, "key space (preloaded before the GETs)")
	fs.IntVar(&cfg.valueSize, "value-size", 100, "value size in bytes")
	fs.BoolVar(&cfg.half, "half", true, "measure p99 in a rate-limited pass at half of each table row's peak")
	fs.IntVar(&cfg.recKeys, "recovery-keys", 1000000, "keys for the restart and catch-up measurement (0: skip it)")
	fs.StringVar(&cfg.doc, "doc", "docs/performance.md", "Markdown file whose bench-compare section is replaced (relative to -repo; empty: none)")
	fs.StringVar(&cfg.svgDir, "svg-dir", "docs/bench", "directory for the SVG plots (relative to -repo)")
	fs.BoolVar(&cfg.keepData, "keep", false, "keep the temporary data directories and logs")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	known := map[string]bool{}
	var names []string
	for _, s := range systems("") {
		known[s.key] = true
		names = append(names, s.key)
	}
	for _, s := range strings.Split(systemsFlag, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !known[s] {
			return cfg, fmt.Errorf("unknown system %q: want one of %s", s, strings.Join(names, ", "))
		}
		cfg.systems = append(cfg.systems, s)
	}
	for _, s := range strings.Split(sweepFlag, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("bad -sweep entry %q", s)
		}
		cfg.sweep = append(cfg.sweep, n)
	}
	switch {
	case cfg.clients < 1:
		return cfg, errors.New("-clients must be at least 1")
	case cfg.runs < 1:
		return cfg, errors.New("-runs must be at least 1")
	case cfg.duration <= 0:
		return cfg, errors.New("-duration must be positive")
	case cfg.keys < 1:
		return cfg, errors.New("-keys must be at least 1")
	}
	abs, err := filepath.Abs(cfg.repo)
	if err != nil {
		return cfg, err
	}
	cfg.repo = abs
	if _, err := os.Stat(filepath.Join(cfg.repo, "cmd", "riot-server")); err != nil {
		return cfg, fmt.Errorf("-repo %s is not the riot repository: %v", cfg.repo, err)
	}
	return cfg, nil
}

// workloadsOf lists what each system is measured with.
func workloadsOf(s *system) []workload {
	switch {
	case s.proto == etcd:
		return []workload{wSet, wGet} // no pipelining in etcd's API
	case strings.HasPrefix(s.key, "riot"):
		return []workload{wSet, wSetP16, wGet, wGetStale}
	default:
		return []workload{wSet, wSetP16, wGet}
	}
}

// plotted reports whether w is swept over client counts for the plot.
func plotted(w workload) bool { return w.pipeline == 1 }

func compare(ctx context.Context, cfg config) error {
	for _, bin := range binariesFor(cfg.systems) {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s not found: run scripts/deps.sh etcd (make bench-compare does)", bin)
		}
	}
	tmp, err := os.MkdirTemp("", "riot-bench-")
	if err != nil {
		return err
	}
	if cfg.keepData {
		fmt.Fprintln(os.Stderr, "data and logs in", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	ps := newProcs(tmp)
	defer ps.stopAll()

	bin := cfg.riotBin
	if bin == "" {
		if bin, err = buildRiot(ctx, cfg, tmp); err != nil {
			return err
		}
	}

	rep := newReport(cfg)
	value := []byte(strings.Repeat("x", cfg.valueSize))
	all := systems(bin)
	// Rounds: every system once per round, so that a drift of the
	// machine (a cloud disk's fsyncs slow down after a while of heavy use)
	// weighs on every system alike and the ratios hold.
	for round := range cfg.runs {
		for _, key := range cfg.systems {
			i := slices.IndexFunc(all, func(s *system) bool { return s.key == key })
			if err := measureSystem(ctx, cfg, ps, all[i], value, rep, round); err != nil {
				return err
			}
		}
	}
	if cfg.recKeys > 0 {
		rec, err := measureRecovery(ctx, ps, bin, cfg.recKeys, value)
		if err != nil {
			return err
		}
		rep.recovery = &rec
	}
	rep.finish()
	return rep.write(cfg)
}

// binariesFor lists the programs the given systems need besides riot-server.
func binariesFor(keys []string) []string {
	var bins []string
	need := func(bin string) {
		if !slices.Contains(bins, bin) {
			bins = append(bins, bin)
		}
	}
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, "etcd"):
			need("etcd")
		case k == "rediscluster":
			need("redis-server")
			need("redis-cli")
		case strings.HasPrefix(k, "redis"):
			need("redis-server")
		}
	}
	return bins
}

// buildRiot builds riot-server from the work tree, or from cfg.riotRev
// unpacked with git archive, into dir.
func buildRiot(ctx context.Context, cfg config, dir string) (string, error) {
	src := cfg.repo
	if cfg.riotRev != "" {
		src = filepath.Join(dir, "src")
		if err := os.MkdirAll(src, 0o755); err != nil {
			return "", err
		}
		archive := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", cfg.repo, cfg.riotRev, src)
		archive.Stderr = os.Stderr
		if err := archive.Run(); err != nil {
			return "", fmt.Errorf("git archive %s: %w", cfg.riotRev, err)
		}
	}
	bin := filepath.Join(dir, "riot-server")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/riot-server")
	build.Dir, build.Stdout, build.Stderr = src, os.Stderr, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build riot-server in %s: %w", src, err)
	}
	return bin, nil
}

// measureSystem starts s, preloads it, runs each workload once (the
// round'th run; the half-rate pass at half the median peak so far) and
// stops it.
func measureSystem(ctx context.Context, cfg config, ps *procs, s *system, value []byte, rep *report, round int) error {
	logf("%s: starting (round %d of %d)", s.label, round+1, cfg.runs)
	c, err := s.start(ctx, ps, s)
	defer c.stop()
	if err != nil {
		return fmt.Errorf("start %s: %w", s.label, err)
	}
	t0 := time.Now()
	if err := preload(ctx, c, cfg.keys, value); err != nil {
		return err
	}
	logf("%s: preloaded %d keys in %v", s.label, cfg.keys, time.Since(t0).Round(time.Millisecond))
	for _, w := range workloadsOf(s) {
		counts := []int{cfg.clients}
		if plotted(w) {
			counts = append(counts, cfg.sweep...)
			slices.Sort(counts)
			counts = slices.Compact(counts)
		}
		for _, n := range counts {
			spec := loadSpec{clients: n, duration: cfg.duration, warmup: cfg.warmup, keys: cfg.keys, value: value}
			smp, err := runLoad(ctx, c, w, spec)
			if aerr := c.alive(); aerr != nil {
				return aerr
			}
			if err != nil {
				return err
			}
			logf("%s | %s | %d clients | run %d: %s", s.label, w.labelFor(s), n, round+1, smp)
			rep.add(s, w, n, false, smp)
			if !cfg.half || n != cfg.clients {
				continue
			}
			spec.rate = rep.peak(s, w, n) / 2
			smp, err = runLoad(ctx, c, w, spec)
			if err != nil {
				return err
			}
			logf("%s | %s | %d clients at %.0f/s | run %d: %s", s.label, w.labelFor(s), n, spec.rate, round+1, smp)
			rep.add(s, w, n, true, smp)
		}
	}
	for i, v := range c.peakRSS() { // the largest over the rounds
		if i == len(rep.rss[s.key]) {
			rep.rss[s.key] = append(rep.rss[s.key], v)
		}
		rep.rss[s.key][i] = max(rep.rss[s.key][i], v)
	}
	return nil
}

func (s sample) String() string {
	out := fmt.Sprintf("%.0f ops/s, p50 %v, p99 %v", s.opsPerSec, s.p50.Round(time.Microsecond), s.p99.Round(time.Microsecond))
	if s.errors > 0 {
		out += fmt.Sprintf(", %d errors (first: %v)", s.errors, s.firstErr)
	}
	return out
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
