package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Markers of the section of docs/performance.md that the runner owns.
const (
	beginMarker = "<!-- bench-compare:begin (written by make bench-compare; edits inside are lost) -->"
	endMarker   = "<!-- bench-compare:end -->"
)

type rowKey struct {
	sys, work string
	clients   int
	half      bool
}

type report struct {
	cfg      config
	riot     string // the riot measured (a commit), read when the run starts
	started  time.Time
	loadFrom string
	loadTo   string
	systems  []*system
	samples  map[rowKey][]sample
	rss      map[string][]int64
	recovery *recoveryResult
}

func newReport(cfg config) *report {
	return &report{cfg: cfg, riot: riotVersion(cfg), started: time.Now(), loadFrom: loadavg(),
		samples: map[rowKey][]sample{}, rss: map[string][]int64{}}
}

func (r *report) add(s *system, w workload, clients int, half bool, smp sample) {
	if !slices.Contains(r.systems, s) {
		r.systems = append(r.systems, s)
	}
	k := rowKey{s.key, w.key, clients, half}
	r.samples[k] = append(r.samples[k], smp)
}

func (r *report) finish() { r.loadTo = loadavg() }

// peak is the median throughput measured so far for the row.
func (r *report) peak(s *system, w workload, clients int) float64 {
	v, _, _, _ := r.stat(rowKey{s.key, w.key, clients, false}, func(x sample) float64 { return x.opsPerSec })
	return v
}

// stat is the median, min and max of f over a row's samples.
func (r *report) stat(k rowKey, f func(sample) float64) (med, lo, hi float64, ok bool) {
	ss := r.samples[k]
	if len(ss) == 0 {
		return 0, 0, 0, false
	}
	vs := make([]float64, len(ss))
	for i, s := range ss {
		vs[i] = f(s)
	}
	slices.Sort(vs)
	n := len(vs)
	med = vs[n/2]
	if n%2 == 0 {
		med = (vs[n/2-1] + vs[n/2]) / 2
	}
	return med, vs[0], vs[n-1], true
}

func ops(s sample) float64 { return s.opsPerSec }
func p50(s sample) float64 { return float64(s.p50) }
func p99(s sample) float64 { return float64(s.p99) }

func (r *report) markdown() string {
	var b strings.Builder
	cfg := r.cfg
	fmt.Fprintf(&b, "### Riot, etcd and redis-server side by side\n\n")
	fmt.Fprintf(&b, "```sh\nmake bench-compare BENCH_FLAGS='%s'\n```\n\n", strings.Join(r.flags(), " "))
	fmt.Fprintf(&b, "Machine: %s. Riot %s. %s, load average %s before and %s after.\n\n",
		machine(), r.riot, r.started.UTC().Format("2006-01-02 15:04 MST"), r.loadFrom, r.loadTo)
	fmt.Fprintf(&b, "Every system on loopback on this host with the load generator; %d-byte values, %d keys "+
		"(preloaded), %v measured after %v of warm-up, %d run(s) per row: the median, then min–max. "+
		"Clients spread over all nodes (client i talks to node i mod n), one connection each; "+
		"on the systems that speak Redis Cluster (riot with --shards above 1, redis-server cluster) each client "+
		"follows the slot map instead (go-redis's ClusterClient: one connection per node, a pipeline split per node); "+
		"riot and redis through go-redis, etcd through its v3 client (Put; Get, linearizable by default). "+
		"Latency is per request (a whole pipeline of 16 with pipelining). "+
		"\"p99 at half\" comes from a pass limited to half the row's median throughput, timed from when each request was due.\n\n",
		cfg.valueSize, cfg.keys, cfg.duration, cfg.warmup, cfg.runs)

	if len(r.systems) > 0 {
		fmt.Fprintf(&b, "| system | workload | ops/s | p50 ms | p99 ms | p99 ms at half of peak |\n|---|---|---|---|---|---|\n")
	}
	for _, s := range r.systems {
		for _, w := range workloadsOf(s) {
			k := rowKey{s.key, w.key, cfg.clients, false}
			if _, _, _, ok := r.stat(k, ops); !ok {
				continue
			}
			h := k
			h.half = true
			fmt.Fprintf(&b, "| %s | %s, %d clients | %s%s | %s | %s | %s |\n", s.label, w.labelFor(s), cfg.clients,
				r.cell(k, ops, fmtOps), r.errorNote(k, h), r.cell(k, p50, fmtMs), r.cell(k, p99, fmtMs), r.halfCell(h))
		}
	}
	b.WriteString("\n")

	b.WriteString("Riot's ratios to etcd and redis-server, against its targets (from the medians above):\n\n| target | measured | met |\n|---|---|---|\n")
	for _, g := range r.goals() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", g.name, g.measured, g.met)
	}
	b.WriteString("\n")

	if len(cfg.sweep) > 0 {
		fmt.Fprintf(&b, "Throughput against clients (median of %d run(s), bars min–max):\n\n", cfg.runs)
		b.WriteString("![SET throughput against clients](bench/set.svg)\n\n![GET throughput against clients](bench/get.svg)\n\n")
	}

	if len(r.rss) > 0 {
		b.WriteString("Peak RSS per node over the whole run of each system:\n\n| system | peak RSS per node |\n|---|---|\n")
		for _, s := range r.systems {
			var parts []string
			for _, v := range r.rss[s.key] {
				parts = append(parts, fmtBytes(v))
			}
			fmt.Fprintf(&b, "| %s | %s |\n", s.label, strings.Join(parts, ", "))
		}
		b.WriteString("\n")
	}
	if rec := r.recovery; rec != nil {
		b.WriteString(rec.markdown())
	}
	return b.String()
}

// flags repeats the settings that shaped the numbers.
func (r *report) flags() []string {
	c := r.cfg
	var sweep []string
	for _, n := range c.sweep {
		sweep = append(sweep, fmt.Sprint(n))
	}
	var rev []string
	if c.riotRev != "" {
		rev = []string{"-riot-rev " + c.riotRev}
	}
	return append(rev, fmt.Sprintf("-systems %s", strings.Join(c.systems, ",")),
		fmt.Sprintf("-clients %d", c.clients), fmt.Sprintf("-sweep %q", strings.Join(sweep, ",")),
		fmt.Sprintf("-duration %v", c.duration), fmt.Sprintf("-warmup %v", c.warmup), fmt.Sprintf("-runs %d", c.runs),
		fmt.Sprintf("-keys %d", c.keys), fmt.Sprintf("-value-size %d", c.valueSize), fmt.Sprintf("-recovery-keys %d", c.recKeys))
}

func (r *report) cell(k rowKey, f func(sample) float64, format func(float64) string) string {
	med, lo, hi, ok := r.stat(k, f)
	if !ok {
		return "–"
	}
	if len(r.samples[k]) == 1 {
		return format(med)
	}
	return fmt.Sprintf("%s (%s–%s)", format(med), format(lo), format(hi))
}

// errorNote counts the failed requests of a row's passes, which the
// throughput leaves out.
func (r *report) errorNote(ks ...rowKey) string {
	var n int64
	for _, k := range ks {
		for _, s := range r.samples[k] {
			n += s.errors
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d failed requests)", n)
}

// halfCell is the p99 of the rate-limited pass, with the rate reached when
// it fell short of the one asked for (the server, or the load generator on a
// busy machine, could not keep up).
func (r *report) halfCell(k rowKey) string {
	out := r.cell(k, p99, fmtMs)
	got, _, _, ok := r.stat(k, ops)
	if !ok {
		return out
	}
	want := r.samples[k][0].target
	if want > 0 && got < 0.95*want {
		out += fmt.Sprintf(" (reached %s of %s ops/s)", fmtOps(got), fmtOps(want))
	}
	return out
}

type goal struct{ name, measured, met string }

func (r *report) goals() []goal {
	n := r.cfg.clients
	tp := func(sys string, w workload) (float64, bool) {
		v, _, _, ok := r.stat(rowKey{sys, w.key, n, false}, ops)
		return v, ok
	}
	ratio := func(name string, a string, wa workload, b string, wb workload, want float64) goal {
		x, okx := tp(a, wa)
		y, oky := tp(b, wb)
		if !okx || !oky || y == 0 {
			return goal{name, "not measured", "–"}
		}
		met := "–" // no target: the ratio for reference
		if want > 0 {
			met = yesNo(x/y >= want)
		}
		return goal{name, fmt.Sprintf("%.2fx (%s / %s ops/s)", x/y, fmtOps(x), fmtOps(y)), met}
	}
	gs := []goal{
		ratio(fmt.Sprintf("riot 3 nodes SET ≥ 4x etcd 3 members put (%d clients)", n), "riot3", wSet, "etcd3", wSet, 4),
		ratio(fmt.Sprintf("riot 3 nodes SET ≥ 0.5x redis SET (%d clients)", n), "riot3", wSet, "redis", wSet, 0.5),
		ratio("riot 3 nodes SET pipeline 16 ≥ 0.25x redis SET pipeline 16", "riot3", wSetP16, "redis", wSetP16, 0.25),
		ratio(fmt.Sprintf("riot 3 nodes GET ≥ 4x etcd 3 members linearizable get (%d clients)", n), "riot3", wGet, "etcd3", wGet, 4),
		ratio(fmt.Sprintf("riot 3 nodes READONLY GET ≥ 0.6x redis GET (%d clients)", n), "riot3", wGetStale, "redis", wGet, 0.6),
		ratio(fmt.Sprintf("riot 1 node SET ≥ 0.7x redis SET (%d clients)", n), "riot1", wSet, "redis", wSet, 0.7),
	}
	// The same write goals with the WAL log store, when measured.
	if _, ok := tp("riot3w", wSet); ok {
		gs = append(gs,
			ratio(fmt.Sprintf("riot 3 nodes, wal: SET ≥ 4x etcd 3 members put (%d clients)", n), "riot3w", wSet, "etcd3", wSet, 4),
			ratio(fmt.Sprintf("riot 3 nodes, wal: SET ≥ 0.5x redis SET (%d clients)", n), "riot3w", wSet, "redis", wSet, 0.5),
			ratio("riot 3 nodes, wal: SET pipeline 16 ≥ 0.25x redis SET pipeline 16", "riot3w", wSetP16, "redis", wSetP16, 0.25))
	}
	if _, ok := tp("riot1w", wSet); ok {
		gs = append(gs, ratio(fmt.Sprintf("riot 1 node, wal: SET ≥ 0.7x redis SET (%d clients)", n), "riot1w", wSet, "redis", wSet, 0.7))
	}
	// Sharded riot (--shards N), when measured: SET against etcd's put, plain
	// and pipelined (etcd has no pipelining: its put at the same clients).
	for _, s := range systems("") {
		if s.shards == 0 {
			continue
		}
		if _, ok := tp(s.key, wSet); !ok {
			continue
		}
		gs = append(gs,
			ratio(fmt.Sprintf("riot 3 nodes, --shards %d: SET ≥ 4x etcd 3 members put (%d clients)", s.shards, n), s.key, wSet, "etcd3", wSet, 4),
			ratio(fmt.Sprintf("riot 3 nodes, --shards %d: SET pipeline 16 / etcd 3 members put (%d clients)", s.shards, n), s.key, wSetP16, "etcd3", wSet, 0))
	}
	if rec := r.recovery; rec != nil {
		gs = append(gs,
			goal{fmt.Sprintf("restart of a node holding %d keys serves again in < 2 s", rec.keys),
				rec.restart.Round(time.Millisecond).String(), yesNo(rec.restart < 2*time.Second)},
			rec.catchUpGoal())
	} else {
		gs = append(gs, goal{"restart < 2 s, catch-up < 15 s (1M keys)", "not measured", "–"})
	}
	return gs
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

func fmtOps(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func fmtMs(ns float64) string {
	ms := ns / 1e6
	switch {
	case ms < 1:
		return fmt.Sprintf("%.3f", ms)
	case ms < 10:
		return fmt.Sprintf("%.2f", ms)
	default:
		return fmt.Sprintf("%.0f", ms)
	}
}

func fmtBytes(v int64) string {
	if v <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f MiB", float64(v)/(1<<20))
}

// write prints the report, replaces the marked section of the doc and
// writes the plots.
func (r *report) write(cfg config) error {
	md := r.markdown()
	fmt.Println(md)
	if len(cfg.sweep) > 0 && cfg.svgDir != "" {
		dir := filepath.Join(cfg.repo, cfg.svgDir)
		if filepath.IsAbs(cfg.svgDir) {
			dir = cfg.svgDir
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, p := range r.plots() {
			if err := os.WriteFile(filepath.Join(dir, p.file), []byte(p.svg()), 0o644); err != nil {
				return err
			}
		}
	}
	if cfg.doc == "" {
		return nil
	}
	doc := cfg.doc
	if !filepath.IsAbs(doc) {
		doc = filepath.Join(cfg.repo, doc)
	}
	return replaceSection(doc, md)
}

// replaceSection puts body between the markers in the file at path, or
// appends the markers and body when the file has none.
func replaceSection(path, body string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	section := beginMarker + "\n\n" + body + "\n" + endMarker
	i := bytes.Index(old, []byte(beginMarker))
	j := bytes.Index(old, []byte(endMarker))
	var out []byte
	if i >= 0 && j > i {
		out = append(append(append(out, old[:i]...), section...), old[j+len(endMarker):]...)
	} else {
		out = append(append(append(out, old...), '\n'), section+"\n"...)
	}
	return os.WriteFile(path, out, 0o644)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func machine() string {
	mem := "?"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
		}
	}
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = ", " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	osName := runtime.GOOS
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				osName = strings.Trim(v, `"`)
			}
		}
	}
	return fmt.Sprintf("%d cores%s, %s, %s, %s, %s, %s", runtime.NumCPU(), cpu, mem, osName,
		runtime.Version(), version("etcd", "--version"), version("redis-server", "--version"))
}

// version is the first line of a tool's version output, trimmed.
func version(bin string, args ...string) string {
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		return bin + " ?"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if bin == "redis-server" {
		if f := strings.Fields(line); len(f) >= 3 {
			return "redis-server " + strings.TrimPrefix(f[2], "v=")
		}
	}
	return strings.TrimSpace(line)
}

func riotVersion(cfg config) string {
	if cfg.riotBin != "" {
		return "binary " + cfg.riotBin
	}
	return gitDescribe(cfg.repo, cfg.riotRev)
}

func gitDescribe(repo, rev string) string {
	args := []string{"describe", "--tags", "--always", "--dirty"}
	if rev != "" {
		args = []string{"describe", "--tags", "--always", rev}
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		return "(unknown commit)"
	}
	return strings.TrimSpace(string(out))
}
