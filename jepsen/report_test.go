package jepsen

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/riotkv/riot/internal/testsummary"
)

// The one-line summary CI prints for every run (needs no root).
func TestReportSummary(t *testing.T) {
	rep := &Report{
		Name: "ci-3nodes", Seed: 1, Nodes: 3, Elapsed: 77*time.Second + 420*time.Millisecond,
		Ops: 100, OK: 80, Failed: 15, Indeterminate: 5,
		Faults: []FaultEvent{
			{Kind: FaultKill}, {Kind: FaultSplit}, {Kind: FaultKill},
			{Kind: FaultSlow, Desc: "tc tbf 512kbit/300ms on every host (sch_netem unavailable: bandwidth limit instead of delay)"},
			{Kind: FaultLeave, Err: "RAFT.LEAVE: timeout"},
		},
		Lin:  []*Linearizability{{Model: "register", Result: porcupine.Ok}, {Model: "counter", Result: porcupine.Ok}},
		Bank: &BankStats{Generations: 3, Transfers: 30, OK: 20, Aborted: 5, Refused: 2, Failed: 2, Info: 1, Reads: 25},
	}
	got := rep.Summary()
	want := "run ci-3nodes: seed 1, 3 nodes, 1m17.4s; ops 100 (ok 80, failed 15, indeterminate 5); " +
		"bank generations 3, transfers 30 (ok 20, aborted 5, refused 2, indeterminate 1), reads 25; " +
		"faults 4 {kill=2 slow=1 split=1} (slow as tbf: no sch_netem), 1 not injected; linearizable; PASS"
	if got != want {
		t.Errorf("Summary() =\n  %s\nwant\n  %s", got, want)
	}
	rep.Lin[1].Result = porcupine.Illegal
	rep.Problems = []string{"linearizability: counter history (3 ops) is Illegal"}
	rep.OutDir = "/tmp/out"
	if got := rep.Summary(); !strings.HasSuffix(got, "; NOT linearizable; FAIL (problems: 1; artifacts: /tmp/out)") {
		t.Errorf("Summary() of a failed run = %s", got)
	}

	// writeSummary prints the line and appends it to the summary file.
	path := filepath.Join(t.TempDir(), "summary")
	t.Setenv(testsummary.Env, path)
	rep.Problems, rep.OutDir, rep.Lin[1].Result = nil, "", porcupine.Ok
	line := "jepsen: " + want + "\n"
	for range 2 {
		var out bytes.Buffer
		if err := writeSummary(&out, rep); err != nil || out.String() != line {
			t.Fatalf("writeSummary printed %q, %v; want %q", out.String(), err, line)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != line+line {
		t.Errorf("the summary file holds\n%s\nwant the line twice:\n%s", b, line)
	}

	// The snapshot mode adds its counts.
	rep.Snapshots = &SnapshotStats{Installs: map[string]int{"n2": 2, "n3": 1}, Interrupted: 1, Snapkills: 1}
	if got := rep.Summary(); !strings.Contains(got, ", 1 not injected; snapshot installs 3 {n2=2 n3=1}, 1 boots after an interrupted restore, 1 snapkills during a restore; linearizable; PASS") {
		t.Errorf("Summary() in the snapshot mode = %s", got)
	}
}
