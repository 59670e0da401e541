package jepsen

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// input and output are what porcupine sees of an Op.
type input struct {
	Key      string
	Kind     OpKind
	Value    string // OpWrite
	From, To int    // OpTransfer
	Amount   int64  // OpTransfer
	Score    int64  // OpZAdd
}

type output struct {
	Value    string  // OpRead
	Count    int64   // OpIncr, OpCount
	Balances []int64 // OpTransfer (From, To after), OpBankRead
	Unknown  bool    // indeterminate: the reply is not known
}

func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	var keys []string
	for _, op := range history {
		k := op.Input.(input).Key
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], op)
	}
	sort.Strings(keys)
	out := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out
}

func describeOp(in, out any) string {
	i, o := in.(input), out.(output)
	switch i.Kind {
	case OpWrite:
		if o.Unknown {
			return fmt.Sprintf("set(%s, %s) ?", i.Key, i.Value)
		}
		return fmt.Sprintf("set(%s, %s)", i.Key, i.Value)
	case OpRead:
		if o.Value == "" {
			return fmt.Sprintf("get(%s) -> nil", i.Key)
		}
		return fmt.Sprintf("get(%s) -> %s", i.Key, o.Value)
	case OpIncr:
		if o.Unknown {
			return fmt.Sprintf("incr(%s) -> ?", i.Key)
		}
		return fmt.Sprintf("incr(%s) -> %d", i.Key, o.Count)
	case OpTransfer:
		if o.Unknown {
			return fmt.Sprintf("transfer(%d->%d, %d) -> ?", i.From, i.To, i.Amount)
		}
		return fmt.Sprintf("transfer(%d->%d, %d) -> %v", i.From, i.To, i.Amount, o.Balances)
	case OpBankRead:
		return fmt.Sprintf("read -> %v", o.Balances)
	case OpHIncr, OpZIncr:
		if o.Unknown {
			return fmt.Sprintf("%s(%s) -> ?", i.Kind, i.Key)
		}
		return fmt.Sprintf("%s(%s) -> %d", i.Kind, i.Key, o.Count)
	case OpZAdd:
		return fmt.Sprintf("zadd(%s, %d)", i.Key, i.Score)
	case OpZScore:
		if o.Value == "" {
			return fmt.Sprintf("zscore(%s) -> nil", i.Key)
		}
		return fmt.Sprintf("zscore(%s) -> %d", i.Key, o.Count)
	default:
		return fmt.Sprintf("get(%s) -> %d", i.Key, o.Count)
	}
}

// RegisterModel is a register per key: SET stores a value, GET returns the
// last one stored ("" for none).
var RegisterModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return "" },
	Step: func(state, in, out any) (bool, any) {
		st, i, o := state.(string), in.(input), out.(output)
		if i.Kind == OpWrite {
			return true, i.Value
		}
		return o.Value == st, st
	},
	DescribeOperation: describeOp,
	DescribeState: func(state any) string {
		if state.(string) == "" {
			return "nil"
		}
		return state.(string)
	},
	DescribeOperationMetadata: func(m any) string { s, _ := m.(string); return s },
}

// CounterModel is a counter per key: INCR (or HINCRBY of a hash field by
// 1) adds one and returns the new value (any value when the reply is
// unknown), GET (HGET) returns the value (0 for a missing key).
var CounterModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return int64(0) },
	Step: func(state, in, out any) (bool, any) {
		st, i, o := state.(int64), in.(input), out.(output)
		if i.Kind == OpIncr || i.Kind == OpHIncr {
			return o.Unknown || o.Count == st+1, st + 1
		}
		return o.Count == st, st
	},
	DescribeOperation:         describeOp,
	DescribeState:             func(state any) string { return fmt.Sprint(state) },
	DescribeOperationMetadata: func(m any) string { s, _ := m.(string); return s },
}

// porcupineOps turns the ops of the given kinds into porcupine operations.
// Definite failures are left out (they did not happen); so are
// indeterminate reads (they changed nothing) and refused transfers (their
// two GETs are not one read). Indeterminate writes, INCRs and transfers
// never return: their return time is after the end of the history, so
// they may be linearized anywhere after their call, including after every
// other op (not having happened).
func porcupineOps(ops []Op, kinds ...OpKind) []porcupine.Operation {
	var end int64
	for _, op := range ops {
		end = max(end, op.Call, op.Return)
	}
	end++
	var out []porcupine.Operation
	for _, op := range ops {
		if !slices.Contains(kinds, op.Kind) || op.Status == StatusFail || op.Refused {
			continue
		}
		ret, o := op.Return, output{Value: op.Value, Count: op.Count, Balances: op.Balances}
		if op.Status == StatusInfo {
			if op.Kind == OpRead || op.Kind == OpCount || op.Kind == OpBankRead || op.Kind == OpHGet || op.Kind == OpZScore || op.Kind == OpLRange {
				continue
			}
			ret, o = end, output{Unknown: true}
		}
		in := input{Key: op.Key, Kind: op.Kind, From: op.From, To: op.To, Amount: op.Amount}
		switch op.Kind {
		case OpWrite, OpRPush:
			in.Value = op.Value
		case OpLRange:
			o.Value = strings.Join(op.Elems, " ") // as QueueModel's state
		case OpHIncr, OpHGet, OpZAdd, OpZIncr, OpZScore:
			in.Key = collKey(op.Key, op.Field) // a counter or score per field or member
			if op.Kind == OpZAdd {
				in.Score = op.Count
			}
		}
		meta := "via " + op.Node
		if op.Mode != "" {
			meta = op.Mode + " " + meta
		}
		if op.Status == StatusInfo {
			meta += ": indeterminate: " + op.Err
		}
		if op.Final {
			meta += " (final read)"
		}
		out = append(out, porcupine.Operation{ClientId: op.Process, Input: in, Call: op.Call, Output: o, Return: ret, Metadata: meta})
	}
	return out
}

// Linearizability is the outcome of checking one model.
type Linearizability struct {
	Model   string // "register", "counter", "hash", "zset", "queue" or "bank"
	Result  porcupine.CheckResult
	Ops     int
	Elapsed time.Duration
	// BadKeys are the keys whose own history is not linearizable (set once
	// the artifacts are written).
	BadKeys []string

	model porcupine.Model
	info  porcupine.LinearizationInfo
	ops   []porcupine.Operation
}

// checkTimeout bounds one model's check; a history that takes longer is
// reported as Unknown (a failure: make the keys' histories shorter).
const checkTimeout = 2 * time.Minute

// CheckLinearizability checks registers, counters, hash counters,
// sorted set scores and queues of ops and, when bankInit (the accounts' initial
// balances) is not nil, the bank.
func CheckLinearizability(ops []Op, bankInit []int64) []*Linearizability {
	type model struct {
		name  string
		model porcupine.Model
		kinds []OpKind
	}
	models := []model{
		{"register", RegisterModel, []OpKind{OpRead, OpWrite}},
		{"counter", CounterModel, []OpKind{OpIncr, OpCount}},
		{"hash", CounterModel, []OpKind{OpHIncr, OpHGet}},
		{"zset", ZScoreModel, []OpKind{OpZAdd, OpZIncr, OpZScore}},
		{"queue", QueueModel, []OpKind{OpRPush, OpLPop, OpLRange}},
	}
	if bankInit != nil {
		models = append(models, model{"bank", BankModel(bankInit), []OpKind{OpTransfer, OpBankRead}})
	}
	var out []*Linearizability
	for _, m := range models {
		pops := porcupineOps(ops, m.kinds...)
		begin := time.Now()
		res := checkOps(m.model, pops)
		out = append(out, &Linearizability{Model: m.name, Result: res, Ops: len(pops), Elapsed: time.Since(begin), model: m.model, ops: pops})
	}
	return out
}

// checkOps checks pops key by key (the model's partitions), each first
// without its indeterminate ops: each of them may be linearized after
// every other op (its output is unknown, which every model accepts), so a
// key whose history is linearizable without them is linearizable with
// them. That first check is the quick one: a few indeterminate pushes and
// pops that never return, all concurrent with every later op of their
// key, can make porcupine's search outgrow checkTimeout on a queue (seed
// 53's 30-minute sharded run: 8 of one queue's 151 ops, Unknown after 2
// minutes). Only the keys that fail it are checked whole, together.
func checkOps(model porcupine.Model, pops []porcupine.Operation) porcupine.CheckResult {
	parts := [][]porcupine.Operation{pops}
	if model.Partition != nil {
		parts = model.Partition(pops)
	}
	var whole []porcupine.Operation
	for _, part := range parts {
		known := slices.DeleteFunc(slices.Clone(part), func(op porcupine.Operation) bool { return op.Output.(output).Unknown })
		if len(known) == len(part) || porcupine.CheckOperationsTimeout(model, known, checkTimeout) != porcupine.Ok {
			whole = append(whole, part...)
		}
	}
	if len(whole) == 0 {
		return porcupine.Ok
	}
	return porcupine.CheckOperationsTimeout(model, whole, checkTimeout)
}

// maxVisualizedKeys bounds the keys drawn in a visualization, and
// maxVisualizedOps the operations when no key fails alone.
const (
	maxVisualizedKeys = 10
	maxVisualizedOps  = 20000
)

// Visualize writes porcupine's HTML visualization of the check to path,
// with the nemesis's faults as annotations. Only the keys whose own
// history is not linearizable are drawn (at most maxVisualizedKeys; all
// keys if none alone is), so that the page stays readable after a long
// run. It re-runs the check in verbose mode (done for failures only) and
// returns the keys drawn.
func (l *Linearizability) Visualize(path string, faults []FaultEvent) ([]string, error) {
	var bad []string
	var ops []porcupine.Operation
	for _, part := range partitionByKey(l.ops) {
		if len(bad) < maxVisualizedKeys && checkOps(l.model, part) != porcupine.Ok {
			bad = append(bad, part[0].Input.(input).Key)
			ops = append(ops, part...)
		}
	}
	if len(ops) == 0 {
		// No key fails alone (the whole check timed out): draw the whole
		// history only when it is small; a long run's would not fit in
		// memory (a 15-minute 5-node run's was killed by the OOM killer).
		if len(l.ops) > maxVisualizedOps {
			return nil, fmt.Errorf("jepsen: %s: no key fails alone and %d operations are too many to draw (at most %d)", l.Model, len(l.ops), maxVisualizedOps)
		}
		ops = l.ops
	}
	if len(ops) > maxVisualizedOps {
		// One key's history too long to draw: the verbose check of a
		// 5-minute run's 16,000 transfers (when the bank was one key,
		// before its generations) that timed out took 23 GB before the
		// OOM killer ended the run.
		return bad, fmt.Errorf("jepsen: %s: %d operations of %v are too many to draw (at most %d)", l.Model, len(ops), bad, maxVisualizedOps)
	}
	_, info := porcupine.CheckOperationsVerbose(l.model, ops, checkTimeout)
	var anns []porcupine.Annotation
	for _, f := range faults {
		anns = append(anns, porcupine.Annotation{
			Tag: "nemesis", Start: f.Start, End: max(f.End, f.Start),
			Description: f.Kind, Details: f.Desc + errSuffix(f.Err),
			BackgroundColor: "#f7d6d6",
		})
	}
	info.AddAnnotations(anns)
	return bad, porcupine.VisualizePath(l.model, info, path)
}

func errSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// finalState is what the cluster holds after healing: the final
// linearizable read of each key and every member's local (READONLY) view.
type finalState struct {
	reads map[string]Op                 // key -> final read (OpRead, OpCount, OpHGet, OpZScore (by collKey), OpLRange; an account's from the bank's final read)
	nodes map[string]map[string]*string // node -> key -> value (nil: missing)
	// keysOf, in the sharded mode, names the keys each node holds (those
	// of the data groups it has a replica of); nil: every node holds
	// every key.
	keysOf map[string][]string
}

// checkDurability: every acknowledged SET is the final value or was
// overwritten by a write that may follow it; no value comes from nowhere
// or from a write reported as failed; each counter lies between the
// acknowledged INCRs and the acknowledged plus indeterminate ones.
func checkDurability(ops []Op, regKeys, ctrKeys []string, fs finalState) []string {
	var problems []string
	add := func(format string, args ...any) {
		if len(problems) < 50 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	writes := map[string]map[string]Op{} // key -> value -> write
	acked := map[string][]Op{}
	incr := map[string][3]int64{} // key -> ok, fail, info
	for _, op := range ops {
		switch op.Kind {
		case OpWrite:
			if writes[op.Key] == nil {
				writes[op.Key] = map[string]Op{}
			}
			writes[op.Key][op.Value] = op
			if op.Status == StatusOK {
				acked[op.Key] = append(acked[op.Key], op)
			}
		case OpIncr:
			t := incr[op.Key]
			t[op.Status]++
			incr[op.Key] = t
		}
	}
	for _, k := range regKeys {
		fr, ok := fs.reads[k]
		if !ok {
			add("durability: no final read of %s", k)
			continue
		}
		v := fr.Value
		if v == "" {
			if len(acked[k]) > 0 {
				add("durability: %s is missing after healing, but %d SETs of it were acknowledged, e.g. %s", k, len(acked[k]), acked[k][0])
			}
			continue
		}
		wv, ok := writes[k][v]
		switch {
		case !ok:
			add("durability: %s = %q after healing, a value never written", k, v)
			continue
		case wv.Status == StatusFail:
			add("durability: %s = %q after healing, written by a SET that failed definitely: %s", k, v, wv)
		}
		if wv.Status != StatusOK {
			continue // it may have been applied at any time: it overwrites anything
		}
		for _, w := range acked[k] {
			if wv.Return < w.Call {
				add("durability: acknowledged %s lost: %s holds %q, written by %s, which finished before it started", w, k, v, wv)
				break
			}
		}
	}
	for _, k := range ctrKeys {
		fr, ok := fs.reads[k]
		if !ok {
			add("durability: no final read of counter %s", k)
			continue
		}
		t := incr[k]
		if fr.Count < t[StatusOK] || fr.Count > t[StatusOK]+t[StatusInfo] {
			add("counter: %s = %d after healing; want between %d acknowledged INCRs and %d (plus %d indeterminate); %d failed definitely",
				k, fr.Count, t[StatusOK], t[StatusOK]+t[StatusInfo], t[StatusInfo], t[StatusFail])
		}
	}
	return problems
}

// checkConvergence: every member's local state equals the final reads
// (in the sharded mode: on the keys of the groups it holds a replica of).
func checkConvergence(keys []string, fs finalState) []string {
	var problems []string
	nodes := make([]string, 0, len(fs.nodes))
	for n := range fs.nodes {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		bad := 0
		held := keys
		if fs.keysOf != nil {
			held = fs.keysOf[n]
		}
		for _, k := range held {
			fr, ok := fs.reads[k]
			if !ok {
				continue
			}
			want := finalValue(fr)
			got := ""
			if p := fs.nodes[n][k]; p != nil {
				got = *p
			}
			if got != want {
				if bad++; bad <= 5 {
					problems = append(problems, fmt.Sprintf("convergence: %s holds %s = %q locally, the final linearizable read says %q", n, k, got, want))
				}
			}
		}
		if bad > 5 {
			problems = append(problems, fmt.Sprintf("convergence: %s differs on %d keys in all", n, bad))
		}
	}
	return problems
}

// writeArtifacts writes everything needed to understand a failed run to
// dir: the summary, the history, the faults, porcupine's visualizations
// and every server's log.
func writeArtifacts(dir string, r *Report, ops []Op, lin []*Linearizability, servers []*Server) error {
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return err
	}
	var errs []string
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			errs = append(errs, err.Error())
		}
	}
	sorted := append([]Op(nil), ops...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Call < sorted[j].Call })
	var b strings.Builder
	b.WriteString("# call..return (seconds since start), process, node, operation [status: error]\n")
	b.WriteString("# info = indeterminate (may or may not have taken effect); fail = definitely not applied\n")
	for _, op := range sorted {
		b.WriteString(op.String())
		b.WriteByte('\n')
	}
	write("history.txt", b.String())
	b.Reset()
	for _, f := range r.Faults {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	write("nemesis.txt", b.String())
	for _, l := range lin {
		if l.Result == porcupine.Ok {
			continue
		}
		keys, err := l.Visualize(filepath.Join(dir, l.Model+".html"), r.Faults)
		if err != nil {
			errs = append(errs, err.Error())
		}
		l.BadKeys = keys
	}
	for _, s := range servers {
		write(filepath.Join("logs", s.ID+".log"), s.Logs())
	}
	write("summary.txt", r.String()+"\n")
	if len(errs) > 0 {
		return fmt.Errorf("jepsen: write artifacts: %s", strings.Join(errs, "; "))
	}
	return nil
}
