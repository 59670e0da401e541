package raftkv_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/raftkv/raftkvtest"
	"github.com/riotkv/riot/storage"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func cmdSet(k, v string) *kv.Command {
	return &kv.Command{Op: kv.OpSet, Args: [][]byte{[]byte(k), []byte(v)}}
}

func cmdIncr(k string) *kv.Command {
	return &kv.Command{Op: kv.OpIncrBy, Args: [][]byte{[]byte(k)}, Int: 1}
}

// apply applies c through n and fails the test on a node error.
func apply(t *testing.T, n *raftkv.Node, c *kv.Command) kv.Result {
	t.Helper()
	r, err := n.Apply(testCtx(t), c)
	if err != nil {
		t.Fatalf("Apply(%s %q): %v", c.Op, c.Args, err)
	}
	return r
}

// nodeGet reads key from n's state machine.
func nodeGet(t *testing.T, n *raftkv.Node, key string) (string, bool) {
	t.Helper()
	v, release := n.FSM().View()
	defer release()
	val, ok, err := v.Get([]byte(key), time.Now().UnixMilli())
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(val), ok
}

func wantGet(t *testing.T, n *raftkv.Node, key, want string) {
	t.Helper()
	if got, ok := nodeGet(t, n, key); !ok || got != want {
		t.Errorf("Get(%q) = %q, exists=%v; want %q", key, got, ok, want)
	}
}

// linearizable waits until n has applied everything committed before the
// call (ReadIndex then WaitApplied).
func linearizable(t *testing.T, n *raftkv.Node) {
	t.Helper()
	ctx := testCtx(t)
	idx, err := n.ReadIndex(ctx)
	if err != nil {
		t.Fatalf("ReadIndex: %v", err)
	}
	if err := n.WaitApplied(ctx, idx); err != nil {
		t.Fatalf("WaitApplied(%d): %v", idx, err)
	}
}

func TestNodeApply(t *testing.T) {
	n := raftkvtest.SingleNode(t, nil)
	steps := []struct {
		cmd     *kv.Command
		wantInt int64
		wantErr error
	}{
		{cmd: cmdSet("a", "1")},
		{cmd: &kv.Command{Op: kv.OpMSet, Args: [][]byte{[]byte("b"), []byte("2"), []byte("c"), []byte("3")}}},
		{cmd: &kv.Command{Op: kv.OpIncrBy, Args: [][]byte{[]byte("a")}, Int: 41}, wantInt: 42},
		{cmd: &kv.Command{Op: kv.OpDel, Args: [][]byte{[]byte("b"), []byte("nope")}}, wantInt: 1},
		{cmd: cmdSet("s", "text")},
		{cmd: cmdIncr("s"), wantErr: kv.ErrNotInteger},
		{cmd: &kv.Command{Op: kv.OpNoop}},
	}
	for i, s := range steps {
		got := apply(t, n, s.cmd)
		if got.Int != s.wantInt || !errors.Is(got.Err, s.wantErr) {
			t.Errorf("step %d: Apply(%s %q %d) = {Int:%d Err:%v}, want {Int:%d Err:%v}", i, s.cmd.Op, s.cmd.Args, s.cmd.Int, got.Int, got.Err, s.wantInt, s.wantErr)
		}
	}
	wantGet(t, n, "a", "42")
	wantGet(t, n, "c", "3")
	wantGet(t, n, "s", "text")
	if got, ok := nodeGet(t, n, "b"); ok {
		t.Errorf("Get(b) after DEL = %q, want no such key", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.Apply(ctx, cmdSet("late", "x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply with a cancelled context: err = %v, want context.Canceled", err)
	}
}

// TestNodeProposeConcurrent: concurrent INCRs are each applied exactly once,
// and every one sees a distinct counter value.
func TestNodeProposeConcurrent(t *testing.T) {
	const writers = 200
	n := raftkvtest.SingleNode(t, nil)
	got := make([]int64, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			r, err := n.Propose(cmdIncr("counter")).Wait()
			if err == nil {
				err = r.Err
			}
			got[i], errs[i] = r.Int, err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: INCR counter: %v", i, err)
		}
	}
	slices.Sort(got)
	for i, v := range got {
		if v != int64(i+1) {
			t.Fatalf("sorted INCR replies[%d] = %d, want %d (replies %v)", i, v, i+1, got)
		}
	}
	wantGet(t, n, "counter", strconv.Itoa(writers))
}

// TestGroupCommit: ProposeBatch calls that wait while the group commit's
// window is full go to raft together, as one entry, in the order of the
// calls, each command with its own result; and calls still waiting when
// the node closes fail with ErrShutdown instead of hanging.
func TestGroupCommit(t *testing.T) {
	n := raftkvtest.SingleNode(t, nil)
	apply(t, n, cmdSet("ready", "1"))
	entries := func() int {
		t.Helper()
		v, err := strconv.Atoi(infoField(t, n, "riot_apply_entries"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := entries()
	release := n.HoldProposeWindow()
	calls := [][]*kv.Command{
		{cmdIncr("a")},
		{cmdIncr("b"), cmdIncr("a")},
		{cmdSet("b", "x"), cmdIncr("b"), cmdIncr("a")},
	}
	want := [][]struct {
		int int64
		err error
	}{
		{{1, nil}},
		{{1, nil}, {2, nil}},
		{{0, nil}, {0, kv.ErrNotInteger}, {3, nil}},
	}
	var ps [][]*raftkv.Proposal
	for _, cs := range calls {
		ps = append(ps, n.ProposeBatch(cs)) // returns once queued
	}
	release()
	for i, call := range ps {
		for j, p := range call {
			r, err := p.Wait()
			if err != nil {
				t.Fatalf("call %d command %d: Wait: %v", i, j, err)
			}
			if r.Int != want[i][j].int || !errors.Is(r.Err, want[i][j].err) {
				t.Errorf("call %d command %d: {Int:%d Err:%v}, want {Int:%d Err:%v}", i, j, r.Int, r.Err, want[i][j].int, want[i][j].err)
			}
		}
	}
	if got := entries() - before; got != 1 {
		t.Errorf("3 calls queued behind a full window made %d entries, want 1", got)
	}

	release = n.HoldProposeWindow()
	defer release()
	waiting := n.ProposeBatch([]*kv.Command{cmdIncr("c"), cmdIncr("c")})
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i, p := range waiting {
		done := make(chan error, 1)
		go func() { _, err := p.Wait(); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, raftkv.ErrShutdown) {
				t.Errorf("command %d queued at Close: Wait error %v, want ErrShutdown", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("command %d queued at Close: Wait still blocked after 10s", i)
		}
	}
	after := n.ProposeBatch([]*kv.Command{cmdIncr("c")})
	if _, err := after[0].Wait(); err == nil {
		t.Errorf("ProposeBatch after Close: Wait succeeded, want an error")
	}
}

// TestNodeProposeBatch: commands proposed together come back with their
// own results, in order, and share log entries: one entry for small ones,
// another once an entry would pass 1 MiB.
func TestNodeProposeBatch(t *testing.T) {
	n := raftkvtest.SingleNode(t, nil)
	apply(t, n, cmdSet("ready", "1")) // the new term's entries are applied
	// shared is how many applied commands did not need an entry of their own.
	shared := func() int {
		t.Helper()
		cmds, err1 := strconv.Atoi(infoField(t, n, "riot_apply_commands"))
		entries, err2 := strconv.Atoi(infoField(t, n, "riot_apply_entries"))
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		return cmds - entries
	}
	before := shared()
	cs := []*kv.Command{cmdIncr("n"), cmdSet("s", "x"), cmdIncr("s"), cmdIncr("n"), cmdIncr("n")}
	ps := n.ProposeBatch(cs)
	want := []struct {
		int int64
		err error
	}{{1, nil}, {0, nil}, {0, kv.ErrNotInteger}, {2, nil}, {3, nil}}
	for i, p := range ps {
		r, err := p.Wait()
		if err != nil {
			t.Fatalf("command %d: Wait: %v", i, err)
		}
		if r.Int != want[i].int || !errors.Is(r.Err, want[i].err) {
			t.Errorf("command %d (%s): {Int:%d Err:%v}, want {Int:%d Err:%v}", i, cs[i].Op, r.Int, r.Err, want[i].int, want[i].err)
		}
	}
	if got := shared() - before; got != len(cs)-1 {
		t.Errorf("%d small commands proposed together: %d shared an entry, want %d (one entry)", len(cs), got, len(cs)-1)
	}

	big := strings.Repeat("v", 400<<10)
	before = shared()
	cs = []*kv.Command{cmdSet("b1", big), cmdSet("b2", big), cmdSet("b3", big), cmdIncr("n")}
	for i, p := range n.ProposeBatch(cs) {
		if r, err := p.Wait(); err != nil || r.Err != nil {
			t.Fatalf("command %d: %v, %v", i, err, r.Err)
		}
	}
	if got := shared() - before; got != 2 {
		t.Errorf("3 values of 400 KiB and an INCR: %d shared an entry, want 2 (two entries)", got)
	}
	wantGet(t, n, "b3", big)
	wantGet(t, n, "n", "4")
}

func TestNodeReadIndex(t *testing.T) {
	n := raftkvtest.SingleNode(t, nil)
	apply(t, n, cmdSet("k", "v1"))
	writeIdx := n.FSM().AppliedIndex()

	// Many concurrent reads share leadership confirmations.
	const readers = 50
	idxs := make([]uint64, readers)
	errs := make([]error, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() {
			ctx := testCtx(t)
			idxs[i], errs[i] = n.ReadIndex(ctx)
			if errs[i] == nil {
				errs[i] = n.WaitApplied(ctx, idxs[i])
			}
		})
	}
	wg.Wait()
	for i := range readers {
		if errs[i] != nil {
			t.Fatalf("reader %d: ReadIndex/WaitApplied: %v", i, errs[i])
		}
		if idxs[i] < writeIdx {
			t.Errorf("reader %d: ReadIndex() = %d, want >= %d (index of the completed SET)", i, idxs[i], writeIdx)
		}
	}
	wantGet(t, n, "k", "v1")

	// A write proposed and completed before ReadIndex is visible after
	// WaitApplied.
	for i := range 10 {
		want := fmt.Sprintf("v%d", i+2)
		if _, err := n.Propose(cmdSet("k", want)).Wait(); err != nil {
			t.Fatalf("SET k %s: %v", want, err)
		}
		linearizable(t, n)
		wantGet(t, n, "k", want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	future := n.FSM().AppliedIndex() + 1000
	if err := n.WaitApplied(ctx, future); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitApplied(%d) for an index never written: %v, want context.DeadlineExceeded", future, err)
	}
}

// logCapture is a slog.Handler that records each message with its attrs and
// passes it on.
type logCapture struct {
	next slog.Handler
	mu   *sync.Mutex
	msgs *[]string
}

func newLogCapture(next slog.Handler) *logCapture {
	return &logCapture{next: next, mu: new(sync.Mutex), msgs: new([]string)}
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }

func (c *logCapture) Handle(ctx context.Context, r slog.Record) error {
	var sb strings.Builder
	sb.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&sb, " %s=%v", a.Key, a.Value)
		return true
	})
	c.mu.Lock()
	*c.msgs = append(*c.msgs, sb.String())
	c.mu.Unlock()
	return c.next.Handle(ctx, r)
}

func (c *logCapture) WithAttrs(as []slog.Attr) slog.Handler {
	return &logCapture{next: c.next.WithAttrs(as), mu: c.mu, msgs: c.msgs}
}

func (c *logCapture) WithGroup(name string) slog.Handler {
	return &logCapture{next: c.next.WithGroup(name), mu: c.mu, msgs: c.msgs}
}

// find returns the first recorded line that starts with prefix.
func (c *logCapture) find(prefix string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range *c.msgs {
		if strings.HasPrefix(m, prefix) {
			return m, true
		}
	}
	return "", false
}

// Boot log lines of Node.Open's catch-up step.
const (
	logCurrent  = "engine is current; no snapshot restore"
	logReplayed = "replayed local log up to snapshot"
	logRestored = "restoring snapshot at boot"
)

// diskNode is a single-node cluster on disk (bolt log, file snapshots, TCP
// transport) over a LevelDB engine, which can be stopped and started again.
type diskNode struct {
	t       *testing.T
	raftDir string
	engDir  string
	// trailingLogs overrides Config.TrailingLogs when set.
	trailingLogs *uint64
	logStore     string // Config.LogStore
	// boot, when set, opens the engine with unsynced writes under this
	// boot ID (storage.Options).
	boot string

	node *raftkv.Node
	eng  storage.Engine
	logs *logCapture // of the latest start
}

func newDiskNode(t *testing.T) *diskNode {
	t.Helper()
	base := t.TempDir()
	d := &diskNode{t: t, raftDir: filepath.Join(base, "raft"), engDir: filepath.Join(base, "engine")}
	t.Cleanup(func() {
		if d.node != nil {
			d.node.Close()
		}
		if d.eng != nil {
			d.eng.Close()
		}
	})
	return d
}

func (d *diskNode) config() raftkv.Config {
	c := raftkvtest.Config(d.t, "node1")
	c.InMemory = false
	c.Transport = nil
	c.Dir = d.raftDir
	c.RaftAddr = "127.0.0.1:0"
	c.Bootstrap = true
	if d.trailingLogs != nil {
		c.TrailingLogs = *d.trailingLogs
	}
	c.LogStore = d.logStore
	d.logs = newLogCapture(c.Logger.Handler())
	c.Logger = slog.New(d.logs)
	return c
}

// openEngine opens the engine if it is not open.
func (d *diskNode) openEngine() storage.Engine {
	d.t.Helper()
	if d.eng == nil {
		eng, err := storage.OpenLevelDBWith(d.engDir, storage.Options{BootID: d.boot, SyncWrites: d.boot == ""})
		if err != nil {
			d.t.Fatalf("OpenLevelDB(%s): %v", d.engDir, err)
		}
		d.eng = eng
	}
	return d.eng
}

// start opens the node without waiting for leadership.
func (d *diskNode) start() (*raftkv.Node, error) {
	d.t.Helper()
	n, err := raftkv.Open(d.config(), d.openEngine())
	if err != nil {
		return nil, err
	}
	d.node = n
	return n, nil
}

// mustStart opens the node and waits until it leads.
func (d *diskNode) mustStart() *raftkv.Node {
	d.t.Helper()
	n, err := d.start()
	if err != nil {
		d.t.Fatalf("open node: %v", err)
	}
	raftkvtest.WaitLeader(d.t, n)
	return n
}

// stop closes the node and the engine.
func (d *diskNode) stop() {
	d.t.Helper()
	if d.node != nil {
		if err := d.node.Close(); err != nil {
			d.t.Errorf("close node: %v", err)
		}
		d.node = nil
	}
	if d.eng != nil {
		if err := d.eng.Close(); err != nil {
			d.t.Errorf("close engine: %v", err)
		}
		d.eng = nil
	}
}

// wantBoot checks that the last start logged the catch-up line want.
func (d *diskNode) wantBoot(want string) string {
	d.t.Helper()
	line, ok := d.logs.find(want)
	if !ok {
		var seen []string
		for _, l := range []string{logCurrent, logReplayed, logRestored} {
			if s, ok := d.logs.find(l); ok {
				seen = append(seen, s)
			}
		}
		d.t.Errorf("boot: no log line %q; catch-up lines seen: %q", want, seen)
	}
	return line
}

// snapBefore and snapAfter are the INCRs writeAroundSnapshot makes before
// and after its snapshot.
const snapBefore, snapAfter = 30, 20

// writeAroundSnapshot writes snapBefore INCRs of counter and before=1,
// takes a snapshot when snapshot is set, then snapAfter more INCRs and
// after=2.
func writeAroundSnapshot(t *testing.T, n *raftkv.Node, snapshot bool) {
	t.Helper()
	incrN(t, n, "counter", 0, snapBefore)
	apply(t, n, cmdSet("before", "1"))
	if snapshot {
		if err := n.Snapshot(); err != nil {
			t.Fatalf("Snapshot(): %v", err)
		}
	}
	incrN(t, n, "counter", snapBefore, snapAfter)
	apply(t, n, cmdSet("after", "2"))
}

// wantAroundSnapshot checks, after a linearizable read, what
// writeAroundSnapshot wrote.
func wantAroundSnapshot(t *testing.T, n *raftkv.Node) {
	t.Helper()
	linearizable(t, n)
	wantGet(t, n, "counter", strconv.Itoa(snapBefore+snapAfter))
	wantGet(t, n, "before", "1")
	wantGet(t, n, "after", "2")
}

// incrN applies n INCRs of key, checking each reply continues from start.
func incrN(t *testing.T, n *raftkv.Node, key string, start, count int64) {
	t.Helper()
	for i := range count {
		r := apply(t, n, cmdIncr(key))
		if want := start + i + 1; r.Err != nil || r.Int != want {
			t.Fatalf("INCR %s #%d = {Int:%d Err:%v}, want {Int:%d Err:nil}", key, start+i+1, r.Int, r.Err, want)
		}
	}
}

// TestNodeRestart, with each log store.
func TestNodeRestart(t *testing.T) {
	for _, store := range []string{raftkv.LogStoreBolt, raftkv.LogStoreWAL} {
		t.Run(store, func(t *testing.T) { testNodeRestart(t, store) })
	}
}

func testNodeRestart(t *testing.T, store string) {
	const first, second = 40, 25
	d := newDiskNode(t)
	d.logStore = store
	n := d.mustStart()
	incrN(t, n, "counter", 0, first)
	apply(t, n, cmdSet("k", "v"))
	appliedBefore := n.FSM().AppliedIndex()
	d.stop()

	n, err := d.start()
	if err != nil {
		t.Fatalf("reopen node: %v", err)
	}
	// The engine is durable: the data is there before raft replays anything.
	if got := n.FSM().AppliedIndex(); got < appliedBefore {
		t.Errorf("after reopen: AppliedIndex() = %d, want >= %d", got, appliedBefore)
	}
	wantGet(t, n, "counter", strconv.Itoa(first))
	raftkvtest.WaitLeader(t, n)
	linearizable(t, n) // raft's replay of the whole log is skipped
	wantGet(t, n, "counter", strconv.Itoa(first))
	incrN(t, n, "counter", first, second)
	wantGet(t, n, "k", "v")
	d.stop()

	n = d.mustStart()
	linearizable(t, n)
	wantGet(t, n, "counter", strconv.Itoa(first+second))
	incrN(t, n, "counter", first+second, 1)
}

// TestLogStoreKept: a data dir keeps the log store it was created with; an
// empty LogStore opens whichever it has, another one is refused.
func TestLogStoreKept(t *testing.T) {
	d := newDiskNode(t)
	d.logStore = raftkv.LogStoreWAL
	n := d.mustStart()
	apply(t, n, cmdSet("k", "v"))
	d.stop()

	d.logStore = raftkv.LogStoreBolt
	if _, err := d.start(); err == nil || !strings.Contains(err.Error(), "holds a wal log store") {
		t.Fatalf("open a wal data dir as bolt: %v, want refused", err)
	}
	d.stop()
	d.logStore = ""
	n = d.mustStart()
	linearizable(t, n)
	wantGet(t, n, "k", "v")
}

func TestNodeRestartAfterSnapshot(t *testing.T) {
	d := newDiskNode(t)
	n := d.mustStart()
	writeAroundSnapshot(t, n, true)
	d.stop()

	n = d.mustStart()
	d.wantBoot(logCurrent)
	wantAroundSnapshot(t, n)
	incrN(t, n, "counter", snapBefore+snapAfter, 1)
}

// TestNodeBootEngineBehindSnapshot: the engine is replaced by an empty one
// (a lost or wiped data directory) while raft has a snapshot. The node must
// bring the engine up to the snapshot before raft replays what follows it:
// from the local log when it still holds the entries, else by restoring the
// snapshot.
func TestNodeBootEngineBehindSnapshot(t *testing.T) {
	zero := uint64(0)
	tests := []struct {
		name     string
		trailing *uint64
		wantBoot string
	}{
		{"log still has the entries", nil, logReplayed},
		{"log compacted", &zero, logRestored},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDiskNode(t)
			d.trailingLogs = tc.trailing
			n := d.mustStart()
			writeAroundSnapshot(t, n, true)
			d.stop()

			d.engDir = filepath.Join(t.TempDir(), "fresh-engine")
			n = d.mustStart()
			d.wantBoot(tc.wantBoot)
			wantAroundSnapshot(t, n)
			incrN(t, n, "counter", snapBefore+snapAfter, 1)
		})
	}
}

// TestNodeBootAfterMachineRestart: an engine written without syncs is
// discarded when it is opened after the machine restarted (another boot ID),
// and the node rebuilds it from its snapshot and log; in the same boot the
// engine is kept.
func TestNodeBootAfterMachineRestart(t *testing.T) {
	zero := uint64(0)
	tests := []struct {
		name     string
		snapshot bool
		trailing *uint64
		nextBoot string
		wantBoot string // catch-up log line; "" for none (raft replays the whole log)
	}{
		{"same boot", true, nil, "boot-a", logCurrent},
		{"no snapshot", false, nil, "boot-b", ""},
		{"snapshot, log still has the entries", true, nil, "boot-b", logReplayed},
		{"snapshot, log compacted", true, &zero, "boot-b", logRestored},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDiskNode(t)
			d.trailingLogs = tc.trailing
			d.boot = "boot-a"
			n := d.mustStart()
			writeAroundSnapshot(t, n, tc.snapshot)
			d.stop()

			d.boot = tc.nextBoot
			n = d.mustStart()
			if tc.wantBoot != "" {
				d.wantBoot(tc.wantBoot)
			}
			wantAroundSnapshot(t, n)
			incrN(t, n, "counter", snapBefore+snapAfter, 1)
		})
	}
}

// TestNodeBootInterruptedRestore: a restore marker left in the engine means
// it holds a mix of old and new state; the node restores the snapshot at
// boot whatever the engine's applied index says.
func TestNodeBootInterruptedRestore(t *testing.T) {
	d := newDiskNode(t)
	n := d.mustStart()
	writeAroundSnapshot(t, n, true)
	d.stop()

	// What a restore cut short leaves: the marker, some old keys gone, some
	// junk, and an applied index that claims everything.
	eng := d.openEngine()
	var b storage.Batch
	b.Put([]byte("mrestoring"), []byte{1})
	b.Delete([]byte("dbefore"))
	b.Put([]byte("djunk"), []byte("s\x00junk"))
	if err := eng.Write(&b); err != nil {
		t.Fatalf("write restore marker: %v", err)
	}

	n = d.mustStart()
	if line := d.wantBoot(logRestored); !strings.Contains(line, "interrupted=true") {
		t.Errorf("boot log %q, want interrupted=true", line)
	}
	if _, err := eng.Get([]byte("mrestoring")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("restore marker after boot: Get err = %v, want ErrNotFound", err)
	}
	wantAroundSnapshot(t, n)
	if got, ok := nodeGet(t, n, "junk"); ok {
		t.Errorf("Get(junk) = %q after restore, want no such key", got)
	}
	incrN(t, n, "counter", snapBefore+snapAfter, 1)
}

// TestNodeBootInterruptedRestoreNoSnapshot: with the marker set and no
// snapshot to restore, the node refuses to start rather than serve a
// half-restored engine.
func TestNodeBootInterruptedRestoreNoSnapshot(t *testing.T) {
	d := newDiskNode(t)
	eng := d.openEngine()
	var b storage.Batch
	b.Put([]byte("mrestoring"), []byte{1})
	if err := eng.Write(&b); err != nil {
		t.Fatalf("write restore marker: %v", err)
	}
	n, err := d.start()
	if err == nil {
		n.Close()
		d.node = nil
		t.Fatalf("Open with a restore marker and no snapshot: err = nil, want an error")
	}
	if !strings.Contains(err.Error(), "interrupted restore") {
		t.Errorf("Open with a restore marker and no snapshot: err = %v, want it to mention the interrupted restore", err)
	}
}
