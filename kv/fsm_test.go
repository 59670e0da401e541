package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/riotkv/riot/storage"
)

// engines lists the engines every FSM test runs on.
var engines = []struct {
	name string
	open func(t testing.TB) storage.Engine
}{
	{"memory", memEngine},
	{"leveldb", func(t testing.TB) storage.Engine { return levelEngine(t, t.TempDir()) }},
}

func memEngine(t testing.TB) storage.Engine {
	t.Helper()
	eng := storage.NewMemory()
	t.Cleanup(func() { eng.Close() })
	return eng
}

// levelEngine opens a LevelDB engine in dir and closes it when the test
// ends (a no-op if the test closed it already).
func levelEngine(t testing.TB, dir string) storage.Engine {
	t.Helper()
	eng, err := storage.OpenLevelDB(dir)
	if err != nil {
		t.Fatalf("OpenLevelDB(%s): %v", dir, err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func newFSM(t testing.TB, eng storage.Engine) *FSM {
	t.Helper()
	f, err := NewFSM(eng, nil)
	if err != nil {
		t.Fatalf("NewFSM: %v", err)
	}
	return f
}

func cmdLog(idx uint64, c Command) Entry {
	return Entry{Index: idx, Command: true, Data: c.Encode()}
}

func set(k, v string) Command { return Command{Op: OpSet, Args: [][]byte{[]byte(k), []byte(v)}} }
func incrBy(k string, d int64) Command {
	return Command{Op: OpIncrBy, Args: [][]byte{[]byte(k)}, Int: d}
}
func del(keys ...string) Command {
	c := Command{Op: OpDel}
	for _, k := range keys {
		c.Args = append(c.Args, []byte(k))
	}
	return c
}

// result returns res[i] as a Result, failing the test if it is not one.
func result(t testing.TB, res []any, i int) Result {
	t.Helper()
	r, ok := res[i].(Result)
	if !ok {
		t.Fatalf("response %d = %#v (%T), want a Result", i, res[i], res[i])
	}
	return r
}

// get reads key through a View; ok is false when it does not exist.
func get(t testing.TB, f *FSM, key string) (string, bool) {
	t.Helper()
	v, release := f.View()
	defer release()
	val, ok, err := v.Get([]byte(key), 0)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(val), ok
}

func wantValue(t testing.TB, f *FSM, key, want string) {
	t.Helper()
	if got, ok := get(t, f, key); !ok || got != want {
		t.Errorf("Get(%q) = %q, exists=%v; want %q", key, got, ok, want)
	}
}

func wantMissing(t testing.TB, f *FSM, key string) {
	t.Helper()
	if got, ok := get(t, f, key); ok {
		t.Errorf("Get(%q) = %q; want no such key", key, got)
	}
}

// storedApplied reads the applied index straight from the engine.
func storedApplied(t testing.TB, r storage.Reader) uint64 {
	t.Helper()
	idx, err := readApplied(r)
	if err != nil {
		t.Fatalf("readApplied: %v", err)
	}
	return idx
}

func TestFSMApply(t *testing.T) {
	steps := []struct {
		cmd     Command
		wantInt int64
		wantErr error
	}{
		{cmd: Command{Op: OpNoop}},
		{cmd: set("a", "1")},
		{cmd: set("a", "2")},
		{cmd: Command{Op: OpMSet, Args: [][]byte{[]byte("b"), []byte("x"), []byte("c"), []byte("y")}}},
		{cmd: del("a", "b", "missing"), wantInt: 2},
		{cmd: del("a"), wantInt: 0},
		{cmd: del("c", "c"), wantInt: 1},  // Redis counts a repeated key once
		{cmd: incrBy("n", 5), wantInt: 5}, // missing key counts as 0
		{cmd: incrBy("n", -7), wantInt: -2},
		{cmd: incrBy("n", 0), wantInt: -2},
		{cmd: set("s", "abc")},
		{cmd: incrBy("s", 1), wantErr: ErrNotInteger},
		{cmd: set("sp", " 1")},
		{cmd: incrBy("sp", 1), wantErr: ErrNotInteger},
		{cmd: set("z", "-0")},
		{cmd: incrBy("z", 1), wantErr: ErrNotInteger},
		{cmd: set("max", "9223372036854775807")},
		{cmd: incrBy("max", 1), wantErr: ErrOverflow},
		{cmd: incrBy("max", 0), wantInt: math.MaxInt64},
		{cmd: set("min", "-9223372036854775808")},
		{cmd: incrBy("min", -1), wantErr: ErrOverflow},
		{cmd: incrBy("n", math.MinInt64), wantErr: ErrOverflow}, // -2 + MinInt64
		{cmd: incrBy("neg", math.MinInt64), wantInt: math.MinInt64},
		{cmd: incrBy("pos", math.MaxInt64), wantInt: math.MaxInt64},
		{cmd: Command{Op: OpSet, Args: [][]byte{[]byte("only-key")}}, wantErr: ErrBadEntry},
		{cmd: Command{Op: OpMSet, Args: [][]byte{[]byte("k")}}, wantErr: ErrBadEntry},
		{cmd: Command{Op: OpMSet}, wantErr: ErrBadEntry},
		{cmd: Command{Op: OpIncrBy, Args: [][]byte{[]byte("a"), []byte("b")}, Int: 1}, wantErr: ErrBadEntry},
		{cmd: Command{Op: Op(99), Args: [][]byte{[]byte("a")}}, wantErr: ErrUnknownOp},
	}
	wantFinal := map[string]string{
		"n": "-2", "s": "abc", "sp": " 1", "z": "-0",
		"max": "9223372036854775807", "min": "-9223372036854775808",
		"neg": "-9223372036854775808", "pos": "9223372036854775807",
	}
	wantGone := []string{"a", "b", "c", "missing", "only-key", "k"}

	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			f := newFSM(t, e.open(t))
			for i, s := range steps {
				idx := uint64(i + 1)
				res := f.ApplyBatch([]Entry{cmdLog(idx, s.cmd)})
				if len(res) != 1 {
					t.Fatalf("ApplyBatch(%s) returned %d responses, want 1", s.cmd.Op, len(res))
				}
				got := result(t, res, 0)
				if s.wantErr != nil {
					if !errors.Is(got.Err, s.wantErr) {
						t.Errorf("step %d: %s %q int %d: err = %v, want %v", i, s.cmd.Op, s.cmd.Args, s.cmd.Int, got.Err, s.wantErr)
					}
				} else if got.Err != nil || got.Int != s.wantInt {
					t.Errorf("step %d: %s %q int %d = {Int:%d Err:%v}, want {Int:%d Err:nil}", i, s.cmd.Op, s.cmd.Args, s.cmd.Int, got.Int, got.Err, s.wantInt)
				}
				// Every entry, even a failed command, is applied.
				if got := f.AppliedIndex(); got != idx {
					t.Errorf("step %d: AppliedIndex() = %d, want %d", i, got, idx)
				}
			}
			for k, want := range wantFinal {
				wantValue(t, f, k, want)
			}
			for _, k := range wantGone {
				wantMissing(t, f, k)
			}
		})
	}
}

// TestFSMIncrByKeepsExpiry: INCRBY rewrites the value but keeps its TTL,
// as Redis does.
func TestFSMIncrByKeepsExpiry(t *testing.T) {
	eng := memEngine(t)
	f := newFSM(t, eng)
	const at = 1_900_000_000_000
	f.ApplyBatch([]Entry{
		cmdLog(1, Command{Op: OpSet, Args: [][]byte{[]byte("n"), []byte("41")}, ExpireAt: at}),
		cmdLog(2, incrBy("n", 1)),
	})
	raw, err := eng.Get(dataKey(0, []byte("n")))
	if err != nil {
		t.Fatalf("engine Get(n): %v", err)
	}
	v, err := decodeValue(raw)
	if err != nil {
		t.Fatalf("decodeValue(%x): %v", raw, err)
	}
	if v.expireAt != at || string(v.data) != "42" {
		t.Errorf("after SET n 41 (expire %d) and INCRBY n 1: stored {data:%q expireAt:%d}, want {data:%q expireAt:%d}", at, v.data, v.expireAt, "42", at)
	}
}

func TestFSMBatchSeesOwnWrites(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			f := newFSM(t, e.open(t))
			// Earlier state from another batch, read through the engine.
			f.ApplyBatch([]Entry{cmdLog(1, set("old", "o"))})
			batch := []Command{
				incrBy("n", 1),     // 1
				incrBy("n", 1),     // 2
				set("k", "v"),      // -
				del("k", "old"),    // 2: k from this batch, old from the engine
				incrBy("k", 10),    // 10: k is gone again
				set("x", "a"),      // -
				incrBy("x", 1),     // ErrNotInteger: sees "a"
				del("old"),         // 0: already deleted in this batch
				set("old", "back"), // -
			}
			wantInt := []int64{1, 2, 0, 2, 10, 0, 0, 0, 0}
			wantErr := []error{nil, nil, nil, nil, nil, nil, ErrNotInteger, nil, nil}
			logs := make([]Entry, len(batch))
			for i, c := range batch {
				logs[i] = cmdLog(uint64(i+2), c)
			}
			res := f.ApplyBatch(logs)
			if len(res) != len(logs) {
				t.Fatalf("ApplyBatch of %d returned %d responses", len(logs), len(res))
			}
			for i := range batch {
				got := result(t, res, i)
				if got.Int != wantInt[i] || !errors.Is(got.Err, wantErr[i]) {
					t.Errorf("batch[%d] %s %q = {Int:%d Err:%v}, want {Int:%d Err:%v}", i, batch[i].Op, batch[i].Args, got.Int, got.Err, wantInt[i], wantErr[i])
				}
			}
			wantValue(t, f, "n", "2")
			wantValue(t, f, "k", "10")
			wantValue(t, f, "x", "a")
			wantValue(t, f, "old", "back")
			if want := uint64(len(batch) + 1); f.AppliedIndex() != want {
				t.Errorf("AppliedIndex() = %d, want %d", f.AppliedIndex(), want)
			}
		})
	}
}

func TestFSMAppliedIndexPersisted(t *testing.T) {
	dir := t.TempDir()
	eng := levelEngine(t, dir)
	f := newFSM(t, eng)
	if got := f.AppliedIndex(); got != 0 {
		t.Fatalf("fresh engine: AppliedIndex() = %d, want 0", got)
	}
	f.ApplyBatch([]Entry{cmdLog(3, set("a", "1")), cmdLog(4, incrBy("n", 1)), cmdLog(7, set("b", "2"))})
	if got := storedApplied(t, eng); got != 7 {
		t.Errorf("engine's applied index = %d, want 7", got)
	}
	if err := eng.Close(); err != nil {
		t.Fatalf("close engine: %v", err)
	}

	eng = levelEngine(t, dir)
	f = newFSM(t, eng)
	if got := f.AppliedIndex(); got != 7 {
		t.Errorf("after reopen: AppliedIndex() = %d, want 7", got)
	}
	wantValue(t, f, "a", "1")
	wantValue(t, f, "n", "1")
	wantValue(t, f, "b", "2")
}

// TestFSMReplaySkipsApplied: raft replays its log after a restart; entries
// the engine already holds must not be applied twice (INCR is not
// idempotent).
func TestFSMReplaySkipsApplied(t *testing.T) {
	dir := t.TempDir()
	logs := []Entry{
		cmdLog(1, incrBy("n", 1)),
		{Index: 2}, // not a command (a no-op)
		cmdLog(3, incrBy("n", 10)),
		cmdLog(4, Command{Op: OpMSet, Args: [][]byte{[]byte("m"), []byte("1")}}),
	}
	eng := levelEngine(t, dir)
	f := newFSM(t, eng)
	f.ApplyBatch(logs)
	wantValue(t, f, "n", "11")

	// Replayed in the same process: skipped.
	res := f.ApplyBatch(logs)
	for i, r := range res {
		if r != nil {
			t.Errorf("replayed entry %d (index %d): response %#v, want nil (skipped)", i, logs[i].Index, r)
		}
	}
	wantValue(t, f, "n", "11")

	if err := eng.Close(); err != nil {
		t.Fatalf("close engine: %v", err)
	}
	eng = levelEngine(t, dir)
	f = newFSM(t, eng)

	// Replayed after a restart, one entry at a time and as a batch.
	for _, l := range logs {
		if r := f.ApplyBatch([]Entry{l})[0]; r != nil {
			t.Errorf("Apply of replayed index %d = %#v, want nil (skipped)", l.Index, r)
		}
	}
	f.ApplyBatch(logs)
	wantValue(t, f, "n", "11")

	// A batch that straddles the applied index applies only the new tail.
	res = f.ApplyBatch([]Entry{logs[2], logs[3], cmdLog(5, incrBy("n", 100))})
	if res[0] != nil || res[1] != nil {
		t.Errorf("straddling batch: responses for indexes 3, 4 = %#v, %#v; want nil, nil", res[0], res[1])
	}
	if got := result(t, res, 2); got.Err != nil || got.Int != 111 {
		t.Errorf("straddling batch: INCRBY n 100 at index 5 = {Int:%d Err:%v}, want {Int:111 Err:nil}", got.Int, got.Err)
	}
	wantValue(t, f, "n", "111")
	if got := f.AppliedIndex(); got != 5 {
		t.Errorf("AppliedIndex() = %d, want 5", got)
	}
}

// TestFSMNonCommandEntriesAdvanceApplied: entries that are not commands
// (raft's configuration changes, no-ops, barriers) move the applied index
// and answer nothing, whatever their data.
func TestFSMNonCommandEntriesAdvanceApplied(t *testing.T) {
	eng := memEngine(t)
	f := newFSM(t, eng)
	cmd := set("a", "1")
	tests := []struct {
		name string
		data []byte
		idx  uint64
	}{
		{"configuration", []byte("a raft configuration"), 5},
		{"noop", nil, 6},
		{"barrier", nil, 7},
		{"command-like data", cmd.Encode(), 9},
	}
	for _, tc := range tests {
		res := f.ApplyBatch([]Entry{{Index: tc.idx, Data: tc.data}})
		if res[0] != nil {
			t.Errorf("%s at %d: response %#v, want nil", tc.name, tc.idx, res[0])
		}
		if got := f.AppliedIndex(); got != tc.idx {
			t.Errorf("after %s at %d: AppliedIndex() = %d, want %d", tc.name, tc.idx, got, tc.idx)
		}
		if got := storedApplied(t, eng); got != tc.idx {
			t.Errorf("after %s at %d: engine's applied index = %d, want %d", tc.name, tc.idx, got, tc.idx)
		}
	}
}

func TestFSMMalformedEntry(t *testing.T) {
	f := newFSM(t, memEngine(t))
	logs := []Entry{
		cmdLog(1, set("a", "1")),
		{Index: 2, Command: true, Data: []byte("not a command")},
		{Index: 3, Command: true, Data: nil},
		cmdLog(4, set("b", "2")),
	}
	res := f.ApplyBatch(logs)
	for _, i := range []int{1, 2} {
		if got := result(t, res, i); !errors.Is(got.Err, ErrBadEntry) {
			t.Errorf("entry %d with data %q: Err = %v, want ErrBadEntry", i, logs[i].Data, got.Err)
		}
	}
	for _, i := range []int{0, 3} {
		if got := result(t, res, i); got.Err != nil {
			t.Errorf("entry %d (valid SET): Err = %v, want nil", i, got.Err)
		}
	}
	wantValue(t, f, "a", "1")
	wantValue(t, f, "b", "2")
	if got := f.AppliedIndex(); got != 4 {
		t.Errorf("AppliedIndex() = %d, want 4", got)
	}
	if err := f.Err(); err != nil {
		t.Errorf("Err() = %v, want nil: a bad entry is not a storage failure", err)
	}
}

// TestFSMStorageFailure: a failed engine write stops the state machine for
// good, and wakes anyone waiting for an index.
func TestFSMStorageFailure(t *testing.T) {
	eng := storage.NewMemory()
	f := newFSM(t, eng)
	f.ApplyBatch([]Entry{cmdLog(1, set("a", "1"))})

	waitErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		waitErr <- f.WaitApplied(ctx, 100)
	}()

	eng.Close()
	res := f.ApplyBatch([]Entry{cmdLog(2, set("b", "2"))})
	if got := result(t, res, 0); !errors.Is(got.Err, ErrFailed) || !errors.Is(got.Err, storage.ErrClosed) {
		t.Errorf("SET on a closed engine: Err = %v, want ErrFailed wrapping storage.ErrClosed", got.Err)
	}
	if err := f.Err(); !errors.Is(err, ErrFailed) {
		t.Errorf("Err() = %v, want ErrFailed", err)
	}
	if got := f.AppliedIndex(); got != 1 {
		t.Errorf("AppliedIndex() = %d, want 1 (the failed batch is not applied)", got)
	}
	res = f.ApplyBatch([]Entry{cmdLog(3, Command{Op: OpNoop})})
	if got := result(t, res, 0); !errors.Is(got.Err, ErrFailed) {
		t.Errorf("apply after failure: Err = %v, want ErrFailed", got.Err)
	}
	if _, err := f.Snapshot(); !errors.Is(err, ErrFailed) {
		t.Errorf("Snapshot() after failure: err = %v, want ErrFailed", err)
	}
	if err := <-waitErr; !errors.Is(err, ErrFailed) {
		t.Errorf("WaitApplied(100) across the failure = %v, want ErrFailed", err)
	}
}

func TestFSMWaitApplied(t *testing.T) {
	f := newFSM(t, memEngine(t))
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- f.WaitApplied(ctx, 3)
	}()
	for i := uint64(1); i <= 3; i++ {
		f.ApplyBatch([]Entry{cmdLog(i, incrBy("n", 1))})
	}
	if err := <-done; err != nil {
		t.Errorf("WaitApplied(3) after applying 1..3 = %v, want nil", err)
	}
	wantValue(t, f, "n", "3")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := f.WaitApplied(ctx, 4); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitApplied(4) with applied 3 = %v, want context.DeadlineExceeded", err)
	}
	if err := f.WaitApplied(context.Background(), 2); err != nil {
		t.Errorf("WaitApplied(2) with applied 3 = %v, want nil", err)
	}
}

// BenchmarkApplyBatch applies batches of 64 SETs of 100-byte values.
func BenchmarkApplyBatch(b *testing.B) {
	const batchSize, valueSize, distinctBatches = 64, 100, 64
	value := bytes.Repeat([]byte("v"), valueSize)
	batches := make([][]Entry, distinctBatches)
	for i := range batches {
		batches[i] = make([]Entry, batchSize)
		for j := range batches[i] {
			c := Command{Op: OpSet, Args: [][]byte{fmt.Appendf(nil, "key:%06d", i*batchSize+j), value}}
			batches[i][j] = Entry{Command: true, Data: c.Encode()}
		}
	}
	bench := func(b *testing.B, eng storage.Engine) {
		f := newFSM(b, eng)
		b.ReportAllocs()
		b.SetBytes(batchSize * valueSize)
		var idx uint64
		n := 0
		for b.Loop() {
			logs := batches[n%distinctBatches]
			for _, l := range logs {
				idx++
				l.Index = idx
			}
			res := f.ApplyBatch(logs)
			if r, ok := res[batchSize-1].(Result); !ok || r.Err != nil {
				b.Fatalf("ApplyBatch: last response %#v", res[batchSize-1])
			}
			n++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*batchSize), "ns/cmd")
	}
	b.Run("engine=memory", func(b *testing.B) { bench(b, memEngine(b)) })
	b.Run("engine=leveldb", func(b *testing.B) { bench(b, levelEngine(b, filepath.Join(b.TempDir(), "db"))) })
}

// writeCounter is an engine that records the size of every batch written
// and the applied index the engine holds after it.
type writeCounter struct {
	storage.Engine
	t       testing.TB
	sizes   []int
	applied []uint64
}

func (w *writeCounter) Write(b *storage.Batch) error {
	if err := w.Engine.Write(b); err != nil {
		return err
	}
	w.sizes = append(w.sizes, b.Size())
	w.applied = append(w.applied, storedApplied(w.t, w.Engine))
	return nil
}

// TestFSMBigBatchWrittenInPieces: a batch of entries bigger than
// maxEngineWrite reaches the engine in several writes, each with the index
// of its last entry as the applied index; entries still see the writes of
// the entries before them, across the pieces.
func TestFSMBigBatchWrittenInPieces(t *testing.T) {
	eng := &writeCounter{Engine: memEngine(t), t: t}
	f := newFSM(t, eng)
	big := string(bytes.Repeat([]byte("v"), 1<<20))
	var logs []Entry
	const n = 20
	for i := uint64(1); i <= n; i++ {
		c := set(fmt.Sprintf("k%02d", i), big)
		if i%2 == 0 {
			c = incrBy("counter", 1)
		}
		logs = append(logs, cmdLog(i, c))
	}
	for i, r := range f.ApplyBatch(logs) {
		if got := result(t, []any{r}, 0); got.Err != nil {
			t.Fatalf("entry %d: %v", i+1, got.Err)
		}
	}
	wantValue(t, f, "counter", fmt.Sprint(n/2))
	for i := 1; i <= n; i += 2 {
		if got, ok := get(t, f, fmt.Sprintf("k%02d", i)); !ok || len(got) != len(big) {
			t.Errorf("k%02d: %d bytes, exists=%v; want %d", i, len(got), ok, len(big))
		}
	}
	if len(eng.sizes) < 2 {
		t.Fatalf("%d MiB of entries went to the engine in %d write(s), want several of about %d MiB", n/2, len(eng.sizes), maxEngineWrite>>20)
	}
	for i, size := range eng.sizes {
		if size > maxEngineWrite+len(big)+1024 {
			t.Errorf("write %d: %d bytes, more than maxEngineWrite and one entry", i, size)
		}
		if i > 0 && eng.applied[i] <= eng.applied[i-1] {
			t.Errorf("write %d stored applied index %d after %d", i, eng.applied[i], eng.applied[i-1])
		}
	}
	if last := eng.applied[len(eng.applied)-1]; last != n || f.AppliedIndex() != n {
		t.Errorf("applied index stored %d, AppliedIndex %d; want %d", last, f.AppliedIndex(), n)
	}
}
