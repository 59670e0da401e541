package jepsen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The snapshot mode (RunConfig.Snapshots): every server keeps only a few
// log entries after a snapshot (--trailing-logs) and snapshots often
// (--snapshot-threshold), and before a fault that stopped or cut off a
// node heals, the nemesis has the leader take a snapshot (RAFT.SNAPSHOT),
// which compacts its log past the point the node reached. A stopped node
// can then only catch up by an InstallSnapshot from the leader; a cut-off
// one usually too (the entries the leader pipelined to it during the
// partition, which TCP delivers once it heals, may be enough). The state
// is padded (PadKeys keys written before the workload starts) so that a
// restore takes long enough (a few hundred milliseconds) for the snapkill
// fault to kill -9 a follower in the middle of one. The run fails when no
// node installed a snapshot (Run.checkSnapshots).

// SnapshotMode configures the snapshot mode. Zero fields take the
// defaults (withDefaults).
type SnapshotMode struct {
	Threshold    int // --snapshot-threshold; default 200
	TrailingLogs int // --trailing-logs; default 32
	PadKeys      int // padding keys; default 40000
	PadBytes     int // bytes per padding value; default 256
}

func (m SnapshotMode) withDefaults() SnapshotMode {
	if m.Threshold == 0 {
		m.Threshold = 200
	}
	if m.TrailingLogs == 0 {
		m.TrailingLogs = 32
	}
	if m.PadKeys == 0 {
		m.PadKeys = 40000
	}
	if m.PadBytes == 0 {
		m.PadBytes = 256
	}
	return m
}

func (m SnapshotMode) flags() []string {
	return []string{"--snapshot-threshold", strconv.Itoa(m.Threshold), "--trailing-logs", strconv.Itoa(m.TrailingLogs)}
}

// padBatch is the padding keys one MSET (and one READONLY MGET) carries.
const padBatch = 500

func padKey(i int) string { return fmt.Sprintf("pad:%06d", i) }

// padValue is padding key i's value: unique, derived from the seed, and
// repetitive, so that a snapshot compresses it well (the transfer stays
// small, even on a slowed link) while a restore still writes every byte.
func padValue(seed uint64, i, size int) string {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	unit := fmt.Sprintf("%06d:%016x|", i, r.Uint64())
	return strings.Repeat(unit, size/len(unit)+1)[:size]
}

// writePadding writes the padding keys through the leader, MSET by MSET,
// each retried until acknowledged (the values are fixed, so a retry of an
// MSET that did apply changes nothing).
func writePadding(c *Cluster, m SnapshotMode, seed uint64) error {
	for lo := 0; lo < m.PadKeys; lo += padBatch {
		args := []any{"MSET"}
		for i := lo; i < min(lo+padBatch, m.PadKeys); i++ {
			args = append(args, padKey(i), padValue(seed, i, m.PadBytes))
		}
		err := waitFor(recoverTimeout, func() error {
			ld, err := c.Leader()
			if err != nil {
				return err
			}
			return c.do(ld, 10*time.Second, args...).Err()
		})
		if err != nil {
			return fmt.Errorf("jepsen: padding keys %d..: %w", lo, err)
		}
	}
	return nil
}

// checkPadding reads every padding key from every member's local state
// (READONLY; the members have caught up) and reports those that differ
// from what was written: a snapshot install that lost or mangled data.
func checkPadding(members []*Server, m SnapshotMode, seed uint64) []string {
	var problems []string
	keys := make([]string, m.PadKeys)
	for i := range keys {
		keys[i] = padKey(i)
	}
	for _, s := range members {
		vals, err := localValues(s, keys, false)
		if err != nil {
			problems = append(problems, fmt.Sprintf("snapshot mode: padding: %v", err))
			continue
		}
		bad, first := 0, ""
		for i, k := range keys {
			if v := vals[k]; v == nil || *v != padValue(seed, i, m.PadBytes) {
				if bad == 0 {
					first = k
				}
				bad++
			}
		}
		if bad > 0 {
			problems = append(problems, fmt.Sprintf("snapshot mode: %s holds %d of the %d padding keys missing or wrong (the first: %s)", s.ID, bad, m.PadKeys, first))
		}
	}
	return problems
}

// SnapshotStats is what the snapshot mode counts, from the servers' logs
// (every incarnation of each: a killed node's counters start again at 0,
// its log does not).
type SnapshotStats struct {
	// Installs counts, per node, the snapshots it installed from a leader
	// (raft's "Installed remote snapshot").
	Installs map[string]int
	// Interrupted counts the boots that found a snapshot restore
	// interrupted (a kill -9 in the middle of one) and restored again.
	Interrupted int
	// RestoreErrors counts raft's "failed to restore snapshot" (a restore
	// cut short by a shutdown logs it too).
	RestoreErrors int
	// Snapkills counts the snapkill faults whose kill -9 was sent while
	// the follower reported riot_snapshot_restoring:1.
	Snapkills int
	// PadKeys is the padding keys checked on every member.
	PadKeys int
}

// Total is the installs on every node.
func (s *SnapshotStats) Total() int {
	n := 0
	for _, v := range s.Installs {
		n += v
	}
	return n
}

func (s *SnapshotStats) String() string {
	return fmt.Sprintf("snapshot installs %d %s, %d boots after an interrupted restore, %d snapkills during a restore",
		s.Total(), fmtCounts(s.Installs), s.Interrupted, s.Snapkills)
}

// problems are the snapshot mode's failures the counts show: a run in
// which no follower installed a snapshot did not test what the mode is
// for.
func (s *SnapshotStats) problems() []string {
	if s.Total() == 0 {
		return []string{"snapshot mode: no follower installed a snapshot from the leader"}
	}
	return nil
}

// Log messages the snapshot mode counts (raft's and raftkv's).
const (
	msgInstalled   = `"msg":"Installed remote snapshot"`
	msgRestoreErr  = `"msg":"failed to restore snapshot"`
	msgBootRestore = `"msg":"restoring snapshot at boot"`
	msgRestored    = `"msg":"restored snapshot"`
)

// snapshotStats counts the installs and interrupted restores in the logs
// of servers, and the snapkills among faults.
func snapshotStats(servers []*Server, faults []FaultEvent) *SnapshotStats {
	st := &SnapshotStats{Installs: map[string]int{}}
	for _, s := range servers {
		for _, line := range strings.Split(s.Logs(), "\n") {
			switch {
			case strings.Contains(line, msgInstalled):
				st.Installs[s.ID]++
			case strings.Contains(line, msgRestoreErr):
				st.RestoreErrors++
			case strings.Contains(line, msgBootRestore) && strings.Contains(line, `"interrupted":true`):
				st.Interrupted++
			}
		}
	}
	for _, f := range faults {
		if f.Kind == FaultSnapKill && f.Err == "" && strings.Contains(f.Desc, snapkillHit) {
			st.Snapkills++
		}
	}
	return st
}

// countSinceStart counts the lines holding msg that s's current process
// logged (after the harness's last start note).
func countSinceStart(s *Server, msg string) int {
	n := 0
	for _, line := range strings.Split(s.Logs(), "\n") {
		switch {
		case strings.HasPrefix(line, "### ") && strings.Contains(line, ": $ "):
			n = 0
		case strings.Contains(line, msg):
			n++
		}
	}
	return n
}

// checkRestoreCounters compares each running member's INFO
// riot_snapshots_restored (this process's restores) with the restores its
// log shows since it started.
func checkRestoreCounters(c *Cluster) []string {
	var problems []string
	for _, s := range c.Members() {
		if !s.Up() {
			continue
		}
		got, err := c.infoUint(s, "riot_snapshots_restored")
		if err != nil {
			problems = append(problems, fmt.Sprintf("snapshot mode: %v", err))
			continue
		}
		if want := countSinceStart(s, msgRestored); got != uint64(want) {
			problems = append(problems, fmt.Sprintf("snapshot mode: %s: INFO riot_snapshots_restored = %d, its log shows %d restores since it started", s.ID, got, want))
		}
	}
	return problems
}

// snapkillHit marks, in a snapkill fault's description, a kill sent while
// the follower was restoring.
const snapkillHit = "while it restored the leader's snapshot"

// Timeouts of the snapkill fault's steps.
const (
	snapkillLagTimeout     = 20 * time.Second      // the cluster commits past the stopped follower
	snapkillRestoreTimeout = 20 * time.Second      // the restarted follower starts restoring
	snapkillDelay          = 60 * time.Millisecond // at most from a restore seen to the kill
)

// snapKill kill -9s a follower, waits until the cluster has committed
// twice the trailing logs (and a full AppendEntries more) past where it
// stopped, has the leader take a snapshot (which compacts its log past
// that point), restarts the follower, waits until it reports
// riot_snapshot_restoring:1 (the leader's snapshot arrived and is being
// restored) and kill -9s it again. The heal restarts it on its data dir:
// it must redo the restore at boot and catch up.
//
// The follower is stopped rather than cut off by a partition: the leader
// pipelines entries to a partitioned follower all the same, and TCP
// delivers them once the partition heals, so that the follower need not
// be sent a snapshot.
func (n *Nemesis) snapKill(ctx context.Context) (desc string, heal func() error, err error) {
	c, m := n.c, n.cfg.Snapshots
	if m == nil {
		return "snapkill", nil, fmt.Errorf("jepsen: the snapkill fault needs the snapshot mode")
	}
	ld, err := c.Leader()
	if err != nil {
		return "no leader", nil, err
	}
	f := n.pick(0)
	if f == nil || f == ld {
		return "no running follower", nil, nil
	}
	restart := func() error { return f.Start("--join", c.Seeds(f)) }
	last, err := c.infoUint(f, "last_log_index")
	if err != nil {
		return "read the follower's last index", nil, err
	}
	desc = fmt.Sprintf("kill -9 %s at index %d", f.ID, last)
	if err := f.Kill(); err != nil {
		return desc, restart, err
	}
	// Entries that reached f between the read and the kill: one
	// AppendEntries at most (the servers' MaxAppendEntries is 64).
	want := last + 64 + uint64(2*m.TrailingLogs)
	var commit uint64
	err = waitFor(snapkillLagTimeout, func() error {
		var err error
		if commit, err = c.infoUint(ld, "commit_index"); err != nil {
			return err
		}
		if commit < want {
			return fmt.Errorf("leader %s commit index %d < %d", ld.ID, commit, want)
		}
		return nil
	})
	if err != nil {
		return desc, restart, fmt.Errorf("the cluster did not commit %d entries past %s: %w", want-last, f.ID, err)
	}
	if err := c.do(ld, changeTimeout, "RAFT.SNAPSHOT").Err(); err != nil {
		return desc, restart, fmt.Errorf("RAFT.SNAPSHOT on leader %s: %w", ld.ID, err)
	}
	desc += fmt.Sprintf(" until leader %s committed %d and snapshotted; restart it", ld.ID, commit)
	if err := restart(); err != nil {
		return desc, nil, err
	}
	// A restore at boot, if any, was done before the process was ready.
	restored := uint64(countSinceStart(f, msgBootRestore))
	// Poll as fast as RAFT.INFO answers: a restore of the padded state
	// takes a few hundred milliseconds. Once it began, wait a random part
	// of snapkillDelay (so that kills land at different points of the
	// restore: clearing the old state, writing the new), ask again and
	// kill.
	restoring := func() (bool, bool) {
		info, err := c.Info(f)
		if err != nil {
			return false, false
		}
		r, err := strconv.ParseUint(info["riot_snapshots_restored"], 10, 64)
		return info["riot_snapshot_restoring"] == "1", err == nil && r > restored
	}
	var seen, hit bool
	deadline := time.Now().Add(snapkillRestoreTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		now, done := restoring()
		if now {
			seen = true
			break
		}
		if done {
			break // restored between two polls
		}
		time.Sleep(time.Millisecond)
	}
	var delay time.Duration
	if seen {
		delay = time.Duration(n.rng.Int64N(int64(snapkillDelay)))
		time.Sleep(delay)
		hit, _ = restoring()
	}
	if err := f.Kill(); err != nil {
		return desc, restart, err
	}
	switch {
	case hit:
		desc += fmt.Sprintf("; kill -9 %s %s (%s after it began)", f.ID, snapkillHit, delay.Round(time.Millisecond))
	case seen:
		desc += fmt.Sprintf("; kill -9 %s (its restore had finished %s after it was seen)", f.ID, delay.Round(time.Millisecond))
	default:
		desc += fmt.Sprintf("; kill -9 %s (its restore was not seen: done between two polls, or not begun within %s)", f.ID, snapkillRestoreTimeout)
	}
	return desc, restart, nil
}

// lastIndex returns the largest last log index of the running members
// (a paused one cannot answer), or 0.
func (n *Nemesis) lastIndex() uint64 {
	var top uint64
	for _, s := range n.upMembers() {
		if v, err := n.c.infoUint(s, "last_log_index"); err == nil {
			top = max(top, v)
		}
	}
	return top
}

// compactTimeout bounds compactLeader's wait for a leader that committed
// enough entries since the fault began.
const compactTimeout = 10 * time.Second

// compactLeader waits until a leader has committed twice the trailing logs
// past base (the largest last log index when the fault began), then has it
// take a snapshot: its log then no longer holds what a node cut off or
// stopped since then has missed. It returns what it did, for the fault's
// description; not getting there is no fault error (the fault may have
// left no quorum).
func (n *Nemesis) compactLeader(base uint64) string {
	want := base + uint64(2*n.cfg.Snapshots.TrailingLogs)
	var ld *Server
	var commit uint64
	err := waitFor(compactTimeout, func() error {
		var err error
		if ld, err = n.c.Leader(); err != nil {
			return err
		}
		if commit, err = n.c.infoUint(ld, "commit_index"); err != nil {
			return err
		}
		if commit < want {
			return fmt.Errorf("leader %s commit index %d < %d", ld.ID, commit, want)
		}
		return nil
	})
	if err != nil {
		return fmt.Sprintf("; no snapshot: %v", err)
	}
	if err := n.c.do(ld, changeTimeout, "RAFT.SNAPSHOT").Err(); err != nil {
		return fmt.Sprintf("; RAFT.SNAPSHOT on leader %s: %v", ld.ID, err)
	}
	return fmt.Sprintf("; leader %s snapshotted at commit index %d (the fault began at %d)", ld.ID, commit, base)
}

// compactDuring are the faults during which, in the snapshot mode, the
// leader compacts its log before the fault heals: those that cut off or
// stop a node (leave and grow bring a fresh node, which needs a snapshot
// anyway).
var compactDuring = map[string]bool{
	FaultKill: true, FaultPause: true, FaultIsolate: true, FaultSplit: true,
	FaultBridge: true, FaultOneWay: true, FaultStop: true,
}
