package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v2"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/gossip"
	"github.com/riotkv/riot/httpapi"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/resp"
	"github.com/riotkv/riot/storage"
)

// options is everything the command line (and RIOT_* environment) sets.
type options struct {
	nodeID      string
	dataDir     string
	addr        string
	raftAddr    string
	advertise   string
	engine      string
	logStore    string
	join        string
	gossipAddr  string
	httpAddr    string
	gossipKey   string
	gossipFast  bool
	bootExpect  int
	voters      int
	minQuorum   int
	deadTimeout time.Duration
	stabilize   time.Duration
	requirePass string
	readLevel   string
	maxBulkLen  int
	databases   int
	logLevel    string
	logFormat   string
	leaderWait  time.Duration
	snapThresh  uint64
	trailing    uint64
	sweepEvery  time.Duration
	sweepBudget int
	shards      int
	replicas    int
	restore     string
	version     bool
	unsafeReads bool
	pprof       bool
	engineSync  bool
	bootID      string
}

// usageError is a bad command line: one line on stderr, exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// errHelp means -h/--help was asked for: usage was printed, exit 0.
var errHelp = errors.New("help requested")

func newFlagSet(o *options, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("riot-server", flag.ContinueOnError)
	fs.SetOutput(out)
	def := resp.DefaultConfig()
	fs.StringVar(&o.nodeID, "node-id", "", "stable raft server ID (default: read from DATA_DIR/node-id, else generated once and written there)")
	fs.StringVar(&o.dataDir, "data-dir", "./riot-data", "directory for the raft log, snapshots and the storage engine")
	fs.StringVar(&o.addr, "addr", def.Addr, "RESP client address (HOST:PORT; port 0 picks a free one)")
	fs.StringVar(&o.raftAddr, "raft-addr", "127.0.0.1:16379", "raft transport address")
	fs.StringVar(&o.advertise, "advertise", "", "host other nodes use to reach this one when binding 0.0.0.0: an IP address, or a name resolved at start")
	rdef := cluster.DefaultReconcileConfig()
	fs.StringVar(&o.join, "join", "", "gossip seeds H:P[,H:P...] of a cluster to join; the node then never bootstraps itself")
	fs.StringVar(&o.join, "seed", "", "alias of --join")
	fs.StringVar(&o.gossipAddr, "gossip-addr", "127.0.0.1:7946", "memberlist gossip address (TCP and UDP)")
	fs.StringVar(&o.httpAddr, "http-addr", httpapi.DefaultConfig().Addr, "admin API, metrics and status page (HTTP)")
	fs.StringVar(&o.gossipKey, "gossip-key", "", "base64 key (16, 24 or 32 bytes) encrypting gossip; the same on every node")
	fs.BoolVar(&o.gossipFast, "gossip-fast", false, "short gossip intervals, for tests on one machine")
	fs.IntVar(&o.bootExpect, "bootstrap-expect", 0, "wait until N nodes without raft state see each other, then bootstrap together (0: off)")
	fs.IntVar(&o.voters, "voters", rdef.Voters, "target number of voters (odd); further nodes are non-voters")
	fs.IntVar(&o.minQuorum, "min-quorum", rdef.MinQuorum, "never remove a failed voter if fewer voters would remain")
	fs.DurationVar(&o.deadTimeout, "dead-node-timeout", rdef.DeadNodeTimeout, "remove a member gossip reports failed after this long")
	fs.DurationVar(&o.stabilize, "stabilization", rdef.Stabilization, "how long a new member must be healthy and caught up before it becomes a voter")
	fs.StringVar(&o.engine, "engine", "leveldb", "storage engine: "+strings.Join(storage.Names(), ", "))
	fs.BoolVar(&o.engineSync, "engine-sync", false, "sync every engine write too (default: only the raft log is synced; after an operating system crash the engine is rebuilt from the snapshot and log)")
	fs.StringVar(&o.logStore, "log-store", "", "raft log store: bolt or wal (default: what the data dir holds, bolt for a new one; docs/performance.md)")
	fs.StringVar(&o.requirePass, "requirepass", "", "password clients must AUTH with (default: none)")
	fs.StringVar(&o.readLevel, "read-level", "linearizable", "default read level of new connections: linearizable or stale")
	fs.IntVar(&o.maxBulkLen, "max-bulk-len", def.MaxBulkLen, "largest bulk string a client may send, in bytes")
	fs.IntVar(&o.databases, "databases", def.Databases, fmt.Sprintf("number of databases SELECT offers (Redis's databases), 1 to %d", kv.MaxDatabases))
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&o.leaderWait, "leader-wait", cluster.DefaultConfig().LeaderWait, "how long a request waits for a leader election")
	fs.Uint64Var(&o.snapThresh, "snapshot-threshold", 16384, "new raft log entries that trigger a snapshot")
	fs.Uint64Var(&o.trailing, "trailing-logs", raftkv.DefaultConfig().TrailingLogs, "raft log entries kept after a snapshot: a follower that lags by fewer catches up from the log, one further behind is sent a snapshot (as etcd's --snapshot-catchup-entries)")
	fs.DurationVar(&o.sweepEvery, "sweep-interval", raftkv.DefaultConfig().SweepInterval, "how often the sweeper removes the elements of deleted hashes, sets and sorted sets from this node's engine (0: never)")
	fs.IntVar(&o.sweepBudget, "sweep-budget", raftkv.DefaultConfig().SweepBudget, "element records the sweeper examines per --sweep-interval at most: bounds the rate at which it works through a huge DEL")
	fs.IntVar(&o.shards, "shards", 1, fmt.Sprintf("sharded mode: split the 16384 hash slots over N raft groups, served as a Redis Cluster (1 to %d; read when this node creates the cluster: nodes that join adopt the cluster's)", kv.MaxShards))
	fs.IntVar(&o.replicas, "replicas", 3, "sharded mode: replicas per raft group (read by the node that creates the cluster)")
	fs.StringVar(&o.restore, "restore", "", "start a new single-node cluster from backups FILE[,FILE...] (GET /backup, RAFT.BACKUP; - reads stdin), merged, each key into the group of its slot with --shards; the data dir must be empty")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVar(&o.pprof, "pprof", false, "serve Go's profiler on the admin API under /debug/pprof/ (behind --requirepass when set)")
	fs.String("config", "", "YAML file of flag: value settings (flags and RIOT_* variables override it)")
	fs.StringVar(&o.bootID, "test-boot-id", "", "TESTING ONLY: pretend the operating system's boot ID is this (a new one simulates a machine restart)")
	fs.BoolVar(&o.unsafeReads, "test-unsafe-local-reads", false, "TESTING ONLY: serve linearizable reads from local state without a read index (not linearizable)")
	return fs
}

// parseOptions reads, in increasing precedence, the --config file, the
// RIOT_<FLAG> environment variables and the flags.
func parseOptions(args []string, getenv func(string) string, out io.Writer) (options, error) {
	var o options
	fs := newFlagSet(&o, io.Discard)
	if path := configPath(args, getenv); path != "" {
		if err := applyConfigFile(fs, path); err != nil {
			return o, usageError{err}
		}
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "RIOT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = usageError{fmt.Errorf("invalid value %q for %s: %v", v, name, err)}
			}
		}
	})
	if envErr != nil {
		return o, envErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			printUsage(out, fs)
			return o, errHelp
		}
		return o, usageError{err}
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if err := o.validate(); err != nil {
		return o, usageError{err}
	}
	return o, nil
}

func (o *options) validate() error {
	if !raftkv.ValidLogStore(o.logStore) {
		return fmt.Errorf("unknown log store %q (want bolt or wal)", o.logStore)
	}
	if !contains(storage.Names(), o.engine) {
		return fmt.Errorf("unknown engine %q (want one of %s)", o.engine, strings.Join(storage.Names(), ", "))
	}
	if _, err := cluster.ParseReadLevel(o.readLevel); err != nil {
		return fmt.Errorf("invalid --read-level %q: want linearizable or stale", o.readLevel)
	}
	if _, err := parseLevel(o.logLevel); err != nil {
		return err
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return fmt.Errorf("invalid --log-format %q: want text or json", o.logFormat)
	}
	if o.trailing < 1 {
		return errors.New("invalid --trailing-logs 0: must be at least 1 (with none kept, a follower one entry behind at a snapshot is sent the whole state)")
	}
	if o.sweepEvery < 0 {
		return fmt.Errorf("invalid --sweep-interval %s: must not be negative", o.sweepEvery)
	}
	if o.sweepBudget < 1 {
		return fmt.Errorf("invalid --sweep-budget %d: must be positive", o.sweepBudget)
	}
	if o.shards < 1 || o.shards > kv.MaxShards {
		return fmt.Errorf("invalid --shards %d: must be between 1 and %d", o.shards, kv.MaxShards)
	}
	if o.replicas < 1 || o.replicas > 7 {
		return fmt.Errorf("invalid --replicas %d: must be between 1 and 7", o.replicas)
	}
	if err := o.checkRestore(); err != nil {
		return err
	}
	if o.maxBulkLen < 1 {
		return fmt.Errorf("invalid --max-bulk-len %d: must be positive", o.maxBulkLen)
	}
	if o.databases < 1 || o.databases > kv.MaxDatabases {
		return fmt.Errorf("invalid --databases %d: must be between 1 and %d", o.databases, kv.MaxDatabases)
	}
	if o.dataDir == "" {
		return errors.New("--data-dir must not be empty")
	}
	if o.gossipKey != "" {
		if _, err := gossip.ParseKey(o.gossipKey); err != nil {
			return fmt.Errorf("invalid --gossip-key: %v", err)
		}
	}
	rc := o.reconcileConfig()
	if err := rc.Validate(); err != nil {
		return err
	}
	if o.restore != "" && (o.join != "" || o.bootExpect > 0) {
		return errors.New("--restore starts a new cluster: it cannot be combined with --join or --bootstrap-expect (start the restored node alone, then join the others to it)")
	}
	if (o.join != "" || o.bootExpect > 0) && o.advertise == "" {
		for _, a := range []struct{ flag, addr string }{{"--addr", o.addr}, {"--raft-addr", o.raftAddr}, {"--gossip-addr", o.gossipAddr}, {"--http-addr", o.httpAddr}} {
			if host, _, err := net.SplitHostPort(a.addr); err == nil && (host == "" || net.ParseIP(host).IsUnspecified()) {
				return fmt.Errorf("%s %s binds every interface: set --advertise to the host other nodes should use", a.flag, a.addr)
			}
		}
	}
	return nil
}

// flagGroups orders --help by topic. Every flag must be in one group
// (TestHelpListsEveryFlag).
var flagGroups = []struct {
	title string
	flags []string
}{
	{"Node", []string{"node-id", "data-dir", "engine", "engine-sync", "log-store", "sweep-interval", "sweep-budget", "config", "restore", "version"}},
	{"Addresses", []string{"addr", "raft-addr", "gossip-addr", "http-addr", "advertise"}},
	{"Cluster", []string{"join", "seed", "bootstrap-expect", "voters", "min-quorum", "dead-node-timeout", "stabilization", "shards", "replicas", "gossip-key", "gossip-fast", "leader-wait", "snapshot-threshold", "trailing-logs"}},
	{"Clients", []string{"requirepass", "read-level", "max-bulk-len", "databases"}},
	{"Logging", []string{"log-level", "log-format", "pprof"}},
	{"Testing", []string{"test-unsafe-local-reads", "test-boot-id"}},
}

func printUsage(out io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(out, "Usage: riot-server [flags]\n\nWith no flags: a single-node cluster on 127.0.0.1:6379, data in ./riot-data.\n"+
		"Every flag can also be set as RIOT_<FLAG> in the environment, or in a --config file\n(flags > environment > file).\n")
	for _, g := range flagGroups {
		fmt.Fprintf(out, "\n%s:\n", g.title)
		for _, name := range g.flags {
			f := fs.Lookup(name)
			if f == nil {
				continue
			}
			typ, usage := flag.UnquoteUsage(f)
			line := "  --" + name
			if typ != "" {
				line += " " + typ
			}
			fmt.Fprintf(out, "%-32s %s", line, usage)
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				fmt.Fprintf(out, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(out)
		}
	}
}

// configPath finds --config (or -config, RIOT_CONFIG) before the flags are
// parsed, since the file's values must be applied first.
func configPath(args []string, getenv func(string) string) string {
	path := getenv("RIOT_CONFIG")
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, p := range []string{"--config=", "-config="} {
			if v, ok := strings.CutPrefix(a, p); ok {
				path = v
			}
		}
		if (a == "--config" || a == "-config") && i+1 < len(args) {
			path = args[i+1]
		}
	}
	return path
}

// applyConfigFile sets flags from a YAML map of flag names to values.
// Unknown names are an error, so a typo does not pass silently.
func applyConfigFile(fs *flag.FlagSet, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		f := fs.Lookup(k)
		if f == nil || k == "config" {
			return fmt.Errorf("config file %s: unknown setting %q", path, k)
		}
		v := fmt.Sprint(m[k])
		if list, ok := m[k].([]any); ok { // join: [a, b]
			parts := make([]string, len(list))
			for i, x := range list {
				parts[i] = fmt.Sprint(x)
			}
			v = strings.Join(parts, ",")
		}
		if err := f.Value.Set(v); err != nil {
			return fmt.Errorf("config file %s: %s: %v", path, k, err)
		}
	}
	return nil
}

func (o *options) seeds() []string { return splitList(o.join) }

// restoreFiles returns the backups --restore names.
func (o *options) restoreFiles() []string { return splitList(o.restore) }

// checkRestore validates --restore's list: each file once; stdin ("-")
// only alone and unsharded (a sharded restore reads every file once per
// data group).
func (o *options) checkRestore() error {
	files := o.restoreFiles()
	if o.restore != "" && len(files) == 0 {
		return fmt.Errorf("invalid --restore %q: no file", o.restore)
	}
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		switch {
		case seen[f]:
			return fmt.Errorf("invalid --restore: %s is listed twice", f)
		case f == "-" && (len(files) > 1 || o.shards > 1):
			return errors.New("invalid --restore: - (stdin) can only be restored alone and without --shards (a sharded restore reads each file once per data group)")
		}
		seen[f] = true
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (o *options) reconcileConfig() cluster.ReconcileConfig {
	rc := cluster.DefaultReconcileConfig()
	rc.Voters = o.voters
	rc.MinQuorum = o.minQuorum
	rc.DeadNodeTimeout = o.deadTimeout
	rc.Stabilization = o.stabilize
	rc.BootstrapExpect = o.bootExpect
	return rc
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(o options, w io.Writer) *slog.Logger {
	lvl, _ := parseLevel(o.logLevel) // validated
	hopts := &slog.HandlerOptions{Level: lvl}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}

// nodeID returns the flag's ID, else the one stored in the data dir, else a
// new one, which is stored. A flag that contradicts the stored ID is an
// error: the ID is the node's raft identity.
func nodeID(flagID, dataDir string) (string, error) {
	path := filepath.Join(dataDir, "node-id")
	b, err := os.ReadFile(path)
	stored := strings.TrimSpace(string(b))
	switch {
	case err == nil && stored != "":
		if flagID != "" && flagID != stored {
			return "", usageError{fmt.Errorf("--node-id %q does not match %q stored in %s", flagID, stored, path)}
		}
		return stored, nil
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("read node id: %w", err)
	}
	id := flagID
	if id == "" {
		var r [8]byte
		_, _ = rand.Read(r[:])
		id = hex.EncodeToString(r[:])
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("create data dir: %w", err)
	}
	if err := writeFileSync(path, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("write node id: %w", err)
	}
	return id, nil
}

// writeFileSync writes a file atomically (temp file, fsync, rename).
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// shardsConfig is the sharded mode's configuration: each data group's
// raft node is configured as the metadata group's (rc) with its own
// directories under DATA_DIR/groups/<id>/ and the shared raft address,
// and routed as the metadata group is (cc).
func (o options) shardsConfig(cc cluster.Config, rc raftkv.Config, logger *slog.Logger) cluster.ShardsConfig {
	sc := cluster.DefaultShardsConfig()
	sc.Shards, sc.Replicas = o.shards, o.replicas
	sc.Restored = o.shards > 1 && len(o.restoreFiles()) > 0
	sc.Stabilization = o.stabilize
	sc.Router = cc
	sc.Logger = logger
	sc.OpenGroup = func(id uint32) (*raftkv.Node, func() error, error) {
		grc, eng, err := o.groupConfig(rc, id, logger)
		if err != nil {
			return nil, nil, err
		}
		node, err := raftkv.Open(grc, eng)
		if err != nil {
			_ = eng.Close()
			return nil, nil, fmt.Errorf("group %d: %w", id, err)
		}
		return node, eng.Close, nil
	}
	return sc
}

// groupConfig opens data group id's engine (DATA_DIR/groups/<id>/engine)
// and returns it with the group's raft configuration: the metadata
// group's (rc) with its own directory and group number.
func (o options) groupConfig(rc raftkv.Config, id uint32, logger *slog.Logger) (raftkv.Config, storage.Engine, error) {
	dir := filepath.Join(o.dataDir, "groups", strconv.FormatUint(uint64(id), 10))
	glog := logger.With("group", id)
	eng, err := storage.Open(o.engine, filepath.Join(dir, "engine"), engineOptions(o, glog))
	if err != nil {
		return raftkv.Config{}, nil, fmt.Errorf("group %d: %w", id, err)
	}
	grc := rc
	grc.Dir = filepath.Join(dir, "raft")
	grc.Group = id
	grc.Bootstrap = false
	grc.RestoreFrom, grc.RestoreSlots = nil, nil
	grc.Logger = glog
	return grc, eng, nil
}
