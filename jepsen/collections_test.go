package jepsen

import (
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// linResult returns the result of the named model's check of ops.
func linResult(t *testing.T, ops []Op, model string) porcupine.CheckResult {
	t.Helper()
	for _, l := range CheckLinearizability(ops, nil) {
		if l.Model == model {
			return l.Result
		}
	}
	t.Fatalf("CheckLinearizability checked no %s model", model)
	return ""
}

// The hash counters: one counter per (hash, field), HINCRBY returns the
// new value, HGET the value (0 when missing), an indeterminate HINCRBY
// may apply or not.
func TestHashCounterModel(t *testing.T) {
	ok := []Op{
		{Kind: OpHIncr, Key: "h1", Field: "f0", Count: 1, Call: 0, Return: 10, Process: 0},
		{Kind: OpHIncr, Key: "h1", Field: "f1", Count: 1, Call: 5, Return: 15, Process: 1}, // another counter
		{Kind: OpHIncr, Key: "h1", Field: "f0", Call: 20, Return: 25, Status: StatusInfo, Err: "i/o timeout", Process: 0},
		{Kind: OpHGet, Key: "h1", Field: "f0", Count: 2, Call: 30, Return: 40, Process: 2},
		{Kind: OpHGet, Key: "h1", Field: "f1", Count: 1, Call: 30, Return: 40, Process: 1},
		{Kind: OpHGet, Key: "h2", Field: "f0", Count: 0, Call: 30, Return: 40, Process: 3},
		{Kind: OpHGet, Key: "h1", Field: "f2", Call: 50, Return: 60, Status: StatusInfo, Err: "i/o timeout", Process: 3}, // dropped
	}
	if got := linResult(t, ok, "hash"); got != porcupine.Ok {
		t.Errorf("a linearizable hash counter history checked %s", got)
	}
	// A read that misses an acknowledged increment.
	stale := append(ok[:len(ok):len(ok)], Op{Kind: OpHGet, Key: "h1", Field: "f1", Count: 0, Call: 70, Return: 80, Process: 4})
	if got := linResult(t, stale, "hash"); got != porcupine.Illegal {
		t.Errorf("a stale HGET checked %s, want Illegal", got)
	}
	// Fields of one hash are counters of their own: two increments of
	// f0 and f1 both returning 1 are fine, two of f0 are not.
	dup := []Op{
		{Kind: OpHIncr, Key: "h1", Field: "f0", Count: 1, Call: 0, Return: 10, Process: 0},
		{Kind: OpHIncr, Key: "h1", Field: "f0", Count: 1, Call: 20, Return: 30, Process: 1},
	}
	if got := linResult(t, dup, "hash"); got != porcupine.Illegal {
		t.Errorf("two HINCRBYs of one field returning 1 checked %s, want Illegal", got)
	}

	fs := finalState{reads: map[string]Op{
		collKey("h1", "f0"): {Kind: OpHGet, Key: "h1", Field: "f0", Count: 2, Final: true},
		collKey("h1", "f1"): {Kind: OpHGet, Key: "h1", Field: "f1", Count: 0, Final: true},
	}}
	problems := checkHashCounters(ok, []string{collKey("h1", "f0"), collKey("h1", "f1")}, fs)
	if len(problems) != 1 || !strings.Contains(problems[0], "h1 f1 = 0 after healing; want between 1 acknowledged HINCRBYs and 1") {
		t.Errorf("checkHashCounters = %q; want one problem: h1 f1 lost its acknowledged increment", problems)
	}
}

// The sorted set scores: ZADD sets a member's score, ZINCRBY adds 1 and
// returns the new score, ZSCORE returns it or nothing.
func TestZScoreModel(t *testing.T) {
	ok := []Op{
		{Kind: OpZScore, Key: "z1", Field: "m0", Value: "", Call: 0, Return: 5, Process: 0},
		{Kind: OpZIncr, Key: "z1", Field: "m0", Count: 1, Call: 10, Return: 20, Process: 0},
		{Kind: OpZAdd, Key: "z1", Field: "m0", Count: 5000, Call: 30, Return: 40, Process: 1},
		{Kind: OpZIncr, Key: "z1", Field: "m0", Count: 5001, Call: 50, Return: 60, Process: 0},
		{Kind: OpZAdd, Key: "z1", Field: "m0", Count: 7000, Call: 65, Return: 66, Status: StatusInfo, Err: "i/o timeout", Process: 2},
		{Kind: OpZScore, Key: "z1", Field: "m0", Value: "5001", Count: 5001, Call: 70, Return: 80, Process: 3},
		{Kind: OpZScore, Key: "z1", Field: "m1", Value: "", Call: 70, Return: 80, Process: 4},
		{Kind: OpZScore, Key: "z1", Field: "m0", Value: "7000", Count: 7000, Call: 90, Return: 95, Process: 3},
	}
	if got := linResult(t, ok, "zset"); got != porcupine.Ok {
		t.Errorf("a linearizable zset history checked %s", got)
	}
	for name, bad := range map[string]Op{
		"old score after the ZADD":    {Kind: OpZScore, Key: "z1", Field: "m0", Value: "5001", Count: 5001, Call: 100, Return: 110, Process: 5},
		"missing after the ZADD":      {Kind: OpZScore, Key: "z1", Field: "m0", Value: "", Call: 100, Return: 110, Process: 5},
		"ZINCRBY from an older score": {Kind: OpZIncr, Key: "z1", Field: "m0", Count: 5002, Call: 100, Return: 110, Process: 5},
	} {
		if got := linResult(t, append(ok[:len(ok):len(ok)], bad), "zset"); got != porcupine.Illegal {
			t.Errorf("%s: checked %s, want Illegal", name, got)
		}
	}
}

// The summary line names the collection ops, or why the sorted sets did
// not run.
func TestCollStatsSummary(t *testing.T) {
	ops := []Op{
		{Kind: OpHIncr, Status: StatusOK}, {Kind: OpHGet, Status: StatusFail}, {Kind: OpZAdd, Status: StatusInfo},
		{Kind: OpHGet, Final: true}, {Kind: OpIncr}, {Kind: OpRPush, Status: StatusOK}, {Kind: OpLPop, Status: StatusInfo},
		{Kind: OpLRange, Final: true},
	}
	if got, want := collStats(ops, "", "").String(), "hash ops 2 (ok 1, failed 1, indeterminate 0), zset ops 1 (ok 0, failed 0, indeterminate 1), queue ops 2 (ok 1, failed 0, indeterminate 1)"; got != want {
		t.Errorf("collStats = %q, want %q", got, want)
	}
	rep := &Report{Name: "x", Lin: []*Linearizability{{Model: "hash", Result: porcupine.Ok}}, Coll: collStats(nil, "the servers do not know ZADD", "the servers do not know RPUSH")}
	if got := rep.Summary(); !strings.Contains(got, "; hash ops 0 (ok 0, failed 0, indeterminate 0), zset workload skipped (the servers do not know ZADD), queue workload skipped (the servers do not know RPUSH); faults") {
		t.Errorf("Summary() = %s", got)
	}
}
