package jepsen

import (
	"slices"
	"strings"
	"testing"

	"github.com/riotkv/riot/internal/proctest"
)

// logServer is a server that never ran, with these log lines (needs no
// root).
func logServer(id string, lines ...string) *Server {
	s := &Server{ID: id, log: &proctest.Log{}}
	for _, l := range lines {
		s.log.Add(l)
	}
	return s
}

const (
	lineStart       = "### 2026-12-07T00:53:01.887744722Z: $ ip netns exec rjep-h1 riot-server --node-id n1 (pid 7)"
	lineExit        = "### 2026-12-07T00:52:59.249255236Z: pid 7 exited: signal: killed"
	lineCopied      = `{"time":"t","level":"INFO","msg":"copied to local snapshot","component":"raft","bytes":1277481}`
	lineRestored    = `{"time":"t","level":"INFO","msg":"restored snapshot","component":"fsm","applied_index":575}`
	lineInstalled   = `{"time":"t","level":"INFO","msg":"Installed remote snapshot","component":"raft"}`
	lineBootAgain   = `{"time":"t","level":"INFO","msg":"restoring snapshot at boot","applied_index":511,"snapshot_index":575,"interrupted":true}`
	lineBootBehind  = `{"time":"t","level":"INFO","msg":"restoring snapshot at boot","applied_index":0,"snapshot_index":575,"interrupted":false}`
	lineRestoreFail = `{"time":"t","level":"ERROR","msg":"failed to restore snapshot","component":"raft","error":"raft is already shutdown"}`
)

// The snapshot mode's counts come from every incarnation's log lines:
// installs per node, boots after an interrupted restore, restore errors,
// and the snapkill faults that landed during a restore.
func TestSnapshotStats(t *testing.T) {
	servers := []*Server{
		// Killed in the middle of an install, restored at boot, then sent
		// the snapshot again.
		logServer("n1", lineStart, lineCopied, lineExit, lineStart, lineBootAgain, lineRestored, lineCopied, lineRestored, lineInstalled),
		logServer("n2", lineStart, lineCopied, lineRestored, lineInstalled, lineExit, lineStart, lineBootBehind, lineRestored, lineRestoreFail),
		logServer("n3", lineStart),
	}
	faults := []FaultEvent{
		{Kind: FaultSnapKill, Desc: "cut n1 off at index 582 until leader n2 committed 648 and snapshotted; kill -9 n1 " + snapkillHit},
		{Kind: FaultSnapKill, Desc: "cut n3 off ...; kill -9 n3 (its restore was not seen: ...)"},
		{Kind: FaultSnapKill, Desc: "cut n3 off; kill -9 n3 " + snapkillHit, Err: "not injected"},
		{Kind: FaultKill, Desc: "kill -9 {n2}"},
	}
	st := snapshotStats(servers, faults)
	if st.Total() != 2 || st.Installs["n1"] != 1 || st.Installs["n2"] != 1 || st.Installs["n3"] != 0 {
		t.Errorf("installs = %v (total %d), want n1=1 n2=1", st.Installs, st.Total())
	}
	if st.Interrupted != 1 || st.RestoreErrors != 1 || st.Snapkills != 1 {
		t.Errorf("interrupted, restore errors, snapkills = %d, %d, %d; want 1, 1, 1", st.Interrupted, st.RestoreErrors, st.Snapkills)
	}
	if p := st.problems(); p != nil {
		t.Errorf("problems with installs: %q, want none", p)
	}
	want := "snapshot installs 2 {n1=1 n2=1}, 1 boots after an interrupted restore, 1 snapkills during a restore"
	if got := st.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	// A run without a single install fails.
	none := snapshotStats(servers[2:], nil)
	if p := none.problems(); len(p) != 1 || !strings.Contains(p[0], "no follower installed a snapshot") {
		t.Errorf("problems without installs = %q, want one saying so", p)
	}

	// INFO riot_snapshots_restored counts the current process's restores:
	// the log lines after its last start.
	for _, tc := range []struct {
		s    *Server
		want int
	}{{servers[0], 2}, {servers[1], 1}, {servers[2], 0}} {
		if got := countSinceStart(tc.s, msgRestored); got != tc.want {
			t.Errorf("countSinceStart(%s, restored) = %d, want %d", tc.s.ID, got, tc.want)
		}
	}
}

// The padding values are unique, fixed by the seed, of the size asked for,
// and compress well (repetitive).
func TestPadValue(t *testing.T) {
	a, b := padValue(1, 7, 256), padValue(1, 8, 256)
	if len(a) != 256 || a == b || a != padValue(1, 7, 256) || a == padValue(2, 7, 256) {
		t.Errorf("padValue: %q, %q; want 256 bytes, fixed per (seed, i), different per key and seed", a, b)
	}
	if unit, _, _ := strings.Cut(a, "|"); strings.Count(a, unit) < 5 {
		t.Errorf("padValue(1, 7, 256) = %q: want a repeated unit", a)
	}
}

// snapkill needs the snapshot mode; "all" leaves it out, naming it works.
func TestParseFaultsSnapKill(t *testing.T) {
	all, err := ParseFaults("all")
	if err != nil || slices.Contains(all, FaultSnapKill) {
		t.Errorf(`ParseFaults("all") = %v, %v; want every kind but snapkill`, all, err)
	}
	got, err := ParseFaults("kill,snapkill")
	if err != nil || !slices.Equal(got, []string{FaultKill, FaultSnapKill}) {
		t.Errorf(`ParseFaults("kill,snapkill") = %v, %v`, got, err)
	}
	if _, err := StartRun(RunConfig{Nodes: 3, Nemesis: NemesisConfig{Kinds: []string{FaultSnapKill}}}); err == nil || !strings.Contains(err.Error(), "snapshot mode") {
		t.Errorf("StartRun with snapkill outside the snapshot mode: err = %v, want one naming the snapshot mode", err)
	}
}
