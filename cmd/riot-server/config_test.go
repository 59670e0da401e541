package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riotkv/riot/raftkv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Precedence: flags > RIOT_* environment > --config file > defaults.
func TestOptionsPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "riot.yaml")
	cfg := "addr: 127.0.0.1:1111\nraft-addr: 127.0.0.1:2222\ndata-dir: /from/file\njoin: [a:1, b:2]\nleader-wait: 3s\nvoters: 5\n"
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := parseOptions(
		[]string{"--config", file, "--addr", "127.0.0.1:3333"},
		env(map[string]string{"RIOT_ADDR": "127.0.0.1:4444", "RIOT_RAFT_ADDR": "127.0.0.1:5555"}),
		io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"addr (flag beats env and file)", o.addr, "127.0.0.1:3333"},
		{"raft-addr (env beats file)", o.raftAddr, "127.0.0.1:5555"},
		{"data-dir (file beats default)", o.dataDir, "/from/file"},
		{"join (YAML list)", o.join, "a:1,b:2"},
		{"gossip-addr (default)", o.gossipAddr, "127.0.0.1:7946"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if o.leaderWait != 3*time.Second || o.voters != 5 {
		t.Errorf("leader-wait, voters = %v, %d; want 3s, 5 from the file", o.leaderWait, o.voters)
	}
	// RIOT_CONFIG names the file too.
	o, err = parseOptions(nil, env(map[string]string{"RIOT_CONFIG": file}), io.Discard)
	if err != nil || o.addr != "127.0.0.1:1111" {
		t.Errorf("RIOT_CONFIG: addr = %q, err %v; want the file's", o.addr, err)
	}
}

func TestOptionsErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown flag", []string{"--nope"}, nil, "flag provided but not defined"},
		{"bad engine", []string{"--engine", "rocks"}, nil, "unknown engine"},
		{"bad env", nil, map[string]string{"RIOT_VOTERS": "x"}, "RIOT_VOTERS"},
		{"even voters", []string{"--voters", "4"}, nil, "odd"},
		{"stray argument", []string{"extra"}, nil, "unexpected argument"},
		{"unknown file setting", []string{"--config", write("u.yaml", "adress: x\n")}, nil, `unknown setting "adress"`},
		{"bad file value", []string{"--config", write("v.yaml", "voters: lots\n")}, nil, "voters"},
		{"bad YAML", []string{"--config", write("y.yaml", "a: [\n")}, nil, "config file"},
		{"missing file", []string{"--config", filepath.Join(dir, "none.yaml")}, nil, "config file"},
		{"bad gossip key", []string{"--gossip-key", "abc"}, nil, "gossip-key"},
		{"wildcard without advertise", []string{"--join", "a:1", "--addr", "0.0.0.0:6379"}, nil, "--advertise"},
		{"no trailing logs", []string{"--trailing-logs", "0"}, nil, "--trailing-logs 0"},
		{"negative trailing logs", []string{"--trailing-logs=-1"}, nil, "trailing-logs"},
		{"bad trailing logs env", nil, map[string]string{"RIOT_TRAILING_LOGS": "many"}, "RIOT_TRAILING_LOGS"},
		{"negative sweep interval", []string{"--sweep-interval", "-1s"}, nil, "--sweep-interval -1s"},
		{"no sweep budget", []string{"--sweep-budget", "0"}, nil, "--sweep-budget 0"},
		{"no databases", []string{"--databases", "0"}, nil, "--databases 0"},
		{"too many databases", []string{"--databases", "257"}, nil, "--databases 257"},
		{"restore stdin sharded", []string{"--restore", "-", "--shards", "2"}, nil, "stdin"},
		{"restore stdin and a file", []string{"--restore", "a.backup,-"}, nil, "stdin"},
		{"restore a file twice", []string{"--restore", "a.backup,b.backup,a.backup"}, nil, "a.backup is listed twice"},
		{"restore no file", []string{"--restore", " , "}, nil, "no file"},
		{"restore with join", []string{"--restore", "a.backup", "--join", "127.0.0.1:1"}, nil, "--join"},
	}
	for _, tt := range tests {
		_, err := parseOptions(tt.args, env(tt.env), io.Discard)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: parseOptions(%q) error = %v, want a usage error containing %q", tt.name, tt.args, err, tt.want)
		}
	}
}

// --restore takes a comma-separated list of backups (a YAML list in the
// config file), with or without --shards.
func TestRestoreFiles(t *testing.T) {
	file := filepath.Join(t.TempDir(), "riot.yaml")
	if err := os.WriteFile(file, []byte("restore: [g1.backup, g2.backup]\nshards: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		want   []string
		shards int
	}{
		{"none", nil, nil, 1},
		{"one", []string{"--restore", "riot.backup"}, []string{"riot.backup"}, 1},
		{"stdin", []string{"--restore", "-"}, []string{"-"}, 1},
		{"list, sharded", []string{"--restore", "a.backup, b.backup,,c.backup", "--shards", "3"}, []string{"a.backup", "b.backup", "c.backup"}, 3},
		{"config file list", []string{"--config", file}, []string{"g1.backup", "g2.backup"}, 2},
	}
	for _, tt := range tests {
		o, err := parseOptions(tt.args, env(nil), io.Discard)
		if err != nil || !slices.Equal(o.restoreFiles(), tt.want) || o.shards != tt.shards {
			t.Errorf("%s: parseOptions(%q): restore %q, shards %d, err %v; want %q, %d", tt.name, tt.args, o.restoreFiles(), o.shards, err, tt.want, tt.shards)
		}
	}
}

// --databases defaults to Redis's 16 and is read from the flag and
// RIOT_DATABASES, the flag first.
func TestDatabases(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{"default", nil, nil, 16},
		{"flag", []string{"--databases", "1"}, nil, 1},
		{"env", nil, map[string]string{"RIOT_DATABASES": "256"}, 256},
		{"flag beats env", []string{"--databases", "4"}, map[string]string{"RIOT_DATABASES": "64"}, 4},
	}
	for _, tt := range tests {
		o, err := parseOptions(tt.args, env(tt.env), io.Discard)
		if err != nil || o.databases != tt.want {
			t.Errorf("%s: parseOptions(%q, env %v): databases = %d, err %v; want %d", tt.name, tt.args, tt.env, o.databases, err, tt.want)
		}
	}
}

// --trailing-logs defaults to raftkv's TrailingLogs and is read from the
// flag, RIOT_TRAILING_LOGS and the config file, with the usual precedence.
func TestTrailingLogs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "riot.yaml")
	if err := os.WriteFile(file, []byte("trailing-logs: 300\nsnapshot-threshold: 200\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want uint64
	}{
		{"default", nil, nil, raftkv.DefaultConfig().TrailingLogs},
		{"flag", []string{"--trailing-logs", "32"}, nil, 32},
		{"env", nil, map[string]string{"RIOT_TRAILING_LOGS": "64"}, 64},
		{"file", []string{"--config", file}, nil, 300},
		{"env beats file", []string{"--config", file}, map[string]string{"RIOT_TRAILING_LOGS": "64"}, 64},
		{"flag beats env", []string{"--trailing-logs", "1"}, map[string]string{"RIOT_TRAILING_LOGS": "64"}, 1},
	}
	for _, tt := range tests {
		o, err := parseOptions(tt.args, env(tt.env), io.Discard)
		if err != nil || o.trailing != tt.want {
			t.Errorf("%s: parseOptions(%q, env %v): trailing-logs = %d, err %v; want %d", tt.name, tt.args, tt.env, o.trailing, err, tt.want)
		}
	}
	if raftkv.DefaultConfig().TrailingLogs != 10240 {
		t.Errorf("raftkv's default TrailingLogs = %d; docs/operations.md says 10240", raftkv.DefaultConfig().TrailingLogs)
	}
}

// The sample configuration in docs/ stays valid.
func TestSampleConfig(t *testing.T) {
	o, err := parseOptions([]string{"--config", "../../docs/riot.yaml"}, env(nil), io.Discard)
	if err != nil {
		t.Fatalf("docs/riot.yaml: %v", err)
	}
	if o.dataDir != "/var/lib/riot" || o.voters != 3 {
		t.Errorf("docs/riot.yaml read as data-dir %q, voters %d", o.dataDir, o.voters)
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	var o options
	fs := newFlagSet(&o, io.Discard)
	grouped := map[string]bool{}
	for _, g := range flagGroups {
		for _, f := range g.flags {
			grouped[f] = true
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !grouped[f.Name] {
			t.Errorf("flag --%s is in no --help group", f.Name)
		}
	})
	var out strings.Builder
	if _, err := parseOptions([]string{"--help"}, env(nil), &out); !errors.Is(err, errHelp) {
		t.Fatalf("--help: err = %v, want errHelp", err)
	}
	for _, want := range []string{"Addresses:", "--join", "--gossip-key", "(default 127.0.0.1:6379)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help output lacks %q:\n%s", want, out.String())
		}
	}
}

// --sweep-interval and --sweep-budget default to raftkv's settings and
// are read from the flags and the environment.
func TestSweepFlags(t *testing.T) {
	o, err := parseOptions(nil, env(nil), io.Discard)
	if def := raftkv.DefaultConfig(); err != nil || o.sweepEvery != def.SweepInterval || o.sweepBudget != def.SweepBudget {
		t.Errorf("defaults: sweep-interval %s, sweep-budget %d, err %v; want %s, %d", o.sweepEvery, o.sweepBudget, err, def.SweepInterval, def.SweepBudget)
	}
	o, err = parseOptions([]string{"--sweep-interval", "0", "--sweep-budget", "10"}, env(map[string]string{"RIOT_SWEEP_BUDGET": "20"}), io.Discard)
	if err != nil || o.sweepEvery != 0 || o.sweepBudget != 10 {
		t.Errorf("flags: sweep-interval %s, sweep-budget %d, err %v; want 0s, 10", o.sweepEvery, o.sweepBudget, err)
	}
}
