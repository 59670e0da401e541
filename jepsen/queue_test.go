package jepsen

import (
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// goodQueue is a queue history that passes every check: q1 gets v1..v4
// (v3's push indeterminate, v4's failed), v1 and v2 popped in order, v3
// left in q1 with v5 (pushed concurrently with v3); q2 gets v6, popped
// by an indeterminate LPOP.
func goodQueue() []Op {
	return []Op{
		{Kind: OpLPop, Key: "q1", Value: "", Call: 0, Return: 5, Process: 0},
		{Kind: OpRPush, Key: "q1", Value: "v1", Count: 1, Call: 10, Return: 20, Process: 0},
		{Kind: OpRPush, Key: "q1", Value: "v2", Count: 2, Call: 30, Return: 40, Process: 1},
		{Kind: OpLPop, Key: "q1", Value: "v1", Call: 50, Return: 60, Process: 2},
		{Kind: OpRPush, Key: "q1", Value: "v3", Call: 62, Return: 64, Status: StatusInfo, Err: "i/o timeout", Process: 0},
		{Kind: OpRPush, Key: "q1", Value: "v5", Count: 3, Call: 63, Return: 70, Process: 4},
		{Kind: OpRPush, Key: "q1", Value: "v4", Call: 65, Return: 66, Status: StatusFail, Err: "CLUSTERDOWN", Process: 1},
		{Kind: OpLPop, Key: "q1", Value: "v2", Call: 70, Return: 80, Process: 2},
		{Kind: OpRPush, Key: "q2", Value: "v6", Count: 1, Call: 10, Return: 20, Process: 3},
		{Kind: OpLPop, Key: "q2", Call: 30, Return: 40, Status: StatusInfo, Err: "i/o timeout", Process: 5},
		{Kind: OpLRange, Key: "q1", Elems: []string{"v3", "v5"}, Call: 100, Return: 110, Final: true, Process: 6},
		{Kind: OpLRange, Key: "q2", Elems: nil, Call: 100, Return: 110, Final: true, Process: 7},
	}
}

// finalOf returns the final state of ops' final LRANGEs.
func finalOf(ops []Op) finalState {
	fs := finalState{reads: map[string]Op{}}
	for _, op := range ops {
		if op.Final {
			fs.reads[op.Key] = op
		}
	}
	return fs
}

// with returns ops with the op at i replaced by op (or op appended when i
// is -1), in a copy.
func with(ops []Op, i int, op Op) []Op {
	out := append([]Op(nil), ops...)
	if i < 0 {
		return append(out, op)
	}
	out[i] = op
	return out
}

// The queue model: a FIFO per key; RPUSH returns the new length, LPOP
// the head or nothing, the final LRANGE the whole queue.
func TestQueueModel(t *testing.T) {
	ok := goodQueue()
	if got := linResult(t, ok, "queue"); got != porcupine.Ok {
		t.Fatalf("a linearizable queue history checked %s", got)
	}
	for name, ops := range map[string][]Op{
		"LPOP out of order": with(with(ok, 3, Op{Kind: OpLPop, Key: "q1", Value: "v2", Call: 50, Return: 60, Process: 2}),
			7, Op{Kind: OpLPop, Key: "q1", Value: "v1", Call: 70, Return: 80, Process: 2}),
		"RPUSH's length wrong":             with(ok, 2, Op{Kind: OpRPush, Key: "q1", Value: "v2", Count: 1, Call: 30, Return: 40, Process: 1}),
		"LPOP of an empty queue answering": with(ok, 0, Op{Kind: OpLPop, Key: "q1", Value: "v1", Call: 0, Return: 5, Process: 0}),
		"LPOP answering nil while queued":  with(ok, -1, Op{Kind: OpLPop, Key: "q1", Value: "", Call: 82, Return: 84, Process: 8}),
		"final LRANGE missing a value":     with(ok, 10, Op{Kind: OpLRange, Key: "q1", Elems: []string{"v5"}, Call: 100, Return: 110, Final: true, Process: 6}),
		"failed push in the final LRANGE":  with(ok, 10, Op{Kind: OpLRange, Key: "q1", Elems: []string{"v3", "v5", "v4"}, Call: 100, Return: 110, Final: true, Process: 6}),
	} {
		if got := linResult(t, ops, "queue"); got != porcupine.Illegal {
			t.Errorf("%s: checked %s, want Illegal", name, got)
		}
	}
}

// checkQueues: no value out twice or from nowhere, no acknowledged push
// lost, FIFO among pushes that did not overlap.
func TestCheckQueues(t *testing.T) {
	ok := goodQueue()
	if p := checkQueues(ok, []string{"q1", "q2"}, finalOf(ok)); len(p) != 0 {
		t.Fatalf("checkQueues of a good history: %q", p)
	}
	lrange := func(key string, elems ...string) Op {
		return Op{Kind: OpLRange, Key: key, Elems: elems, Call: 100, Return: 110, Final: true, Process: 6}
	}
	for _, tc := range []struct {
		name string
		ops  []Op
		want string
	}{
		{"popped twice", with(ok, -1, Op{Kind: OpLPop, Key: "q1", Value: "v1", Call: 85, Return: 90, Process: 9}), "v1 came out of q1 2 times"},
		{"popped and left", with(ok, 10, lrange("q1", "v1", "v3", "v5")), "v1 came out of q1 2 times"},
		{"never pushed", with(ok, 10, lrange("q1", "v3", "v5", "v9")), "v9 came out of q1 (left in the queue) but was never pushed"},
		{"failed push", with(ok, 10, lrange("q1", "v3", "v5", "v4")), "pushed by an RPUSH that failed definitely"},
		{"another queue's", with(with(ok, 10, lrange("q1", "v3")), 11, lrange("q2", "v5")), "v5 came out of q2 (left in the queue) but was pushed to q1"},
		{"lost", with(ok, 10, lrange("q1", "v3")), "q1 lost 1 acknowledged pushes (neither popped nor left in it), more than its 0 indeterminate LPOPs"},
		{"lost beyond the indeterminate LPOPs", with(ok, -1, Op{Kind: OpRPush, Key: "q2", Value: "v7", Count: 2, Call: 21, Return: 25, Process: 3}),
			"q2 lost 2 acknowledged pushes (neither popped nor left in it), more than its 1 indeterminate LPOPs"},
		{"FIFO: popped before", with(with(ok, 3, Op{Kind: OpLPop, Key: "q1", Value: "v2", Call: 50, Return: 60, Process: 2}),
			7, Op{Kind: OpLPop, Key: "q1", Value: "v1", Call: 70, Return: 80, Process: 2}), "FIFO order broken in q1: v1 was pushed by"},
		{"FIFO: popped while an earlier one is queued", with(with(ok, 7, Op{Kind: OpLPop, Key: "q1", Value: "v5", Call: 70, Return: 80, Process: 2}),
			10, lrange("q1", "v2", "v3")), "v5 was popped by"},
		{"FIFO: final order", with(with(ok, 7, Op{Kind: OpLPop, Key: "q1", Value: "v3", Call: 70, Return: 80, Process: 2}),
			10, lrange("q1", "v5", "v2")), "v5 is ahead of v2 in the final contents"},
	} {
		p := checkQueues(tc.ops, []string{"q1", "q2"}, finalOf(tc.ops))
		if len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), tc.want) {
			t.Errorf("%s: %q, want a problem containing %q", tc.name, p, tc.want)
		}
	}
	// A queue with no final read is a problem of its own.
	if p := checkQueues(ok, []string{"q1", "q2", "q3"}, finalOf(ok)); len(p) != 1 || !strings.Contains(p[0], "no final read of queue q3") {
		t.Errorf("checkQueues without q3's final read: %q", p)
	}
}

// TestCheckQueueIndeterminateFirstWithout: seed 53's 30-minute sharded
// run left one queue (151 ops, 8 of them indeterminate pushes and pops
// sent to a paused leader) that porcupine could not decide in 2 minutes.
// Without its indeterminate ops the history is linearizable, so it is
// with them (each may take effect after every other op); the check now
// tries that first and answers Ok in moments.
func TestCheckQueueIndeterminateFirstWithout(t *testing.T) {
	ops := parseQueueHistory(t, "testdata/queue-seed53-q419.txt")
	info := 0
	for _, op := range ops {
		if op.Status == StatusInfo {
			info++
		}
	}
	if len(ops) != 151 || info != 8 {
		t.Fatalf("parsed %d ops, %d indeterminate; want 151 and 8", len(ops), info)
	}
	if res := checkOps(QueueModel, porcupineOps(ops, OpRPush, OpLPop, OpLRange)); res != porcupine.Ok {
		t.Errorf("checkOps = %v, want Ok", res)
	}
	// When the history needs an indeterminate op to have taken effect
	// (q2's v6 popped by the indeterminate LPOP), the whole history
	// decides: Ok.
	if res := checkOps(QueueModel, porcupineOps(goodQueue(), OpRPush, OpLPop, OpLRange)); res != porcupine.Ok {
		t.Errorf("checkOps of goodQueue = %v, want Ok", res)
	}
	// A pop of what was never at the head still fails (the ops before the
	// indeterminate ones, two pops' values swapped).
	var before []Op
	for _, op := range ops {
		if op.Call >= 1398e6 {
			break
		}
		if op.Kind == OpLPop {
			switch op.Value {
			case "v31415":
				op.Value = "v31417"
			case "v31417":
				op.Value = "v31415"
			}
		}
		before = append(before, op)
	}
	if res := checkOps(QueueModel, porcupineOps(before, OpRPush, OpLPop)); res != porcupine.Illegal {
		t.Errorf("checkOps of a history with pops out of order = %v, want Illegal", res)
	}
}

// parseQueueHistory reads the lines of one queue's ops from a run's
// history.txt: "  1393.098s..  1393.103s p304538 n3  LPOP j:q419 -> \"v1\"",
// "RPUSH key v -> n", "[info: ...]", "[fail: ...]" and the final
// "LRANGE key 0 -1 -> [v1 v2] (final)". Times become microseconds.
func parseQueueHistory(t *testing.T, path string) []Op {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	usec := func(s string) int64 {
		f, err := strconv.ParseFloat(strings.TrimSuffix(s, "s"), 64)
		if err != nil {
			t.Fatalf("time %q: %v", s, err)
		}
		return int64(math.Round(f * 1e6))
	}
	var ops []Op
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(strings.Replace(line, "..", " ", 1))
		if len(f) < 6 {
			t.Fatalf("line %q", line)
		}
		proc, err := strconv.Atoi(strings.TrimPrefix(f[2], "p"))
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		op := Op{Call: usec(f[0]), Return: usec(f[1]), Process: proc, Node: f[3], Key: f[5]}
		rest := f[6:]
		switch f[4] {
		case "RPUSH":
			op.Kind, op.Value, rest = OpRPush, rest[0], rest[1:]
		case "LPOP":
			op.Kind = OpLPop
		case "LRANGE":
			op.Kind, op.Final, rest = OpLRange, true, rest[2:]
		default:
			t.Fatalf("line %q: unknown op", line)
		}
		switch {
		case rest[0] == "[info:":
			op.Status = StatusInfo
		case rest[0] == "[fail:":
			op.Status = StatusFail
		case rest[0] == "->" && op.Kind == OpRPush:
			if op.Count, err = strconv.ParseInt(rest[1], 10, 64); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
		case rest[0] == "->" && op.Kind == OpLPop:
			op.Value = strings.Trim(rest[1], `"`)
		case rest[0] == "->":
			for _, e := range rest[1:] {
				if e == "(final)" {
					break
				}
				op.Elems = append(op.Elems, strings.Trim(e, "[]"))
			}
			op.Elems = slices.DeleteFunc(op.Elems, func(e string) bool { return e == "" })
		default:
			t.Fatalf("line %q: unknown outcome", line)
		}
		ops = append(ops, op)
	}
	return ops
}
