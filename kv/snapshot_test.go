package kv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/riotkv/riot/storage"
)

// memSink is a Sink (and a raft.SnapshotSink) over a bytes.Buffer.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { s.closed = true; return nil }

var _ Sink = (*memSink)(nil)

// persist snapshots f and returns the persisted stream.
func persist(t testing.TB, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot(): %v", err)
	}
	defer snap.Release()
	return persistSnap(t, snap)
}

func persistSnap(t testing.TB, snap *Snapshot) []byte {
	t.Helper()
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatalf("Persist: %v", err)
	}
	if !sink.closed || sink.cancelled {
		t.Fatalf("after a successful Persist: sink closed=%v cancelled=%v, want closed and not cancelled", sink.closed, sink.cancelled)
	}
	return sink.Bytes()
}

func restoreBytes(f *FSM, data []byte) error {
	return f.Restore(io.NopCloser(bytes.NewReader(data)))
}

// dump returns every engine key and value except the applied index and the
// restore marker (the state a snapshot carries).
func dump(t testing.TB, r storage.Reader) map[string]string {
	t.Helper()
	m := make(map[string]string)
	it := r.NewIterator(storage.Range{})
	for it.Next() {
		if bytes.Equal(it.Key(), keyApplied) || bytes.Equal(it.Key(), keyRestoring) {
			continue
		}
		m[string(it.Key())] = string(it.Value())
	}
	if err := it.Close(); err != nil {
		t.Fatalf("iterate engine: %v", err)
	}
	return m
}

// diffDumps describes how got differs from want, or returns "".
func diffDumps(got, want map[string]string) string {
	var missing, extra, wrong int
	var first string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			missing++
			if first == "" {
				first = fmt.Sprintf("missing %q", k)
			}
		case g != w:
			wrong++
			if first == "" {
				first = fmt.Sprintf("%q = %q, want %q", k, g, w)
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra++
			if first == "" {
				first = fmt.Sprintf("unexpected %q", k)
			}
		}
	}
	if missing+extra+wrong == 0 {
		return ""
	}
	return fmt.Sprintf("%d missing, %d unexpected, %d wrong keys (first: %s)", missing, extra, wrong, first)
}

func restoring(t testing.TB, f *FSM) bool {
	t.Helper()
	ok, err := f.Restoring()
	if err != nil {
		t.Fatalf("restoring(): %v", err)
	}
	return ok
}

// sourceFSM returns an FSM whose last applied index is 10.
func sourceFSM(t testing.TB) *FSM {
	t.Helper()
	f := newFSM(t, memEngine(t))
	f.ApplyBatch([]Entry{
		cmdLog(1, set("a", "1")),
		cmdLog(2, set("shared", "from snapshot")),
		cmdLog(3, Command{Op: OpSet, Args: [][]byte{[]byte("ttl"), []byte("t")}, ExpireAt: 1_900_000_000_000}),
		cmdLog(4, incrBy("n", 41)),
		cmdLog(5, incrBy("n", 1)),
		cmdLog(6, Command{Op: OpMSet, Args: [][]byte{{0, 0xff}, {}, []byte("empty"), {}}}),
		cmdLog(7, set("gone", "x")),
		cmdLog(8, del("gone")),
		{Index: 10}, // a configuration entry: not a command
	})
	if got := f.AppliedIndex(); got != 10 {
		t.Fatalf("source AppliedIndex() = %d, want 10", got)
	}
	return f
}

// targetFSM returns an FSM over eng that already holds other state.
func targetFSM(t testing.TB, eng storage.Engine) *FSM {
	t.Helper()
	f := newFSM(t, eng)
	f.ApplyBatch([]Entry{
		cmdLog(50, set("shared", "stale")),
		cmdLog(51, set("only-in-target", "x")),
		cmdLog(52, incrBy("n", 1000)),
	})
	// A metadata key the snapshot does not know about must go too.
	var b storage.Batch
	b.Put([]byte("mstale-meta"), []byte("1"))
	if err := eng.Write(&b); err != nil {
		t.Fatalf("write stale meta key: %v", err)
	}
	return f
}

func TestSnapshotRestore(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			src := sourceFSM(t)
			want := dump(t, src.eng)
			data := persist(t, src)

			eng := e.open(t)
			dst := targetFSM(t, eng)
			if err := restoreBytes(dst, data); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if d := diffDumps(dump(t, eng), want); d != "" {
				t.Errorf("restored engine differs from the snapshot's source: %s", d)
			}
			wantValue(t, dst, "shared", "from snapshot")
			wantValue(t, dst, "n", "42")
			wantValue(t, dst, "empty", "")
			wantMissing(t, dst, "only-in-target")
			wantMissing(t, dst, "gone")
			if _, err := eng.Get([]byte("mstale-meta")); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Get(mstale-meta) after restore: err = %v, want ErrNotFound", err)
			}
			if got := dst.AppliedIndex(); got != 10 {
				t.Errorf("AppliedIndex() after restore = %d, want 10 (the snapshot's)", got)
			}
			if got := storedApplied(t, eng); got != 10 {
				t.Errorf("engine's applied index after restore = %d, want 10", got)
			}
			if restoring(t, dst) {
				t.Errorf("restore marker still present after a successful restore")
			}
			// The restored FSM carries on from the snapshot's index.
			res := dst.ApplyBatch([]Entry{cmdLog(11, incrBy("n", 1))})
			if got := result(t, res, 0); got.Err != nil || got.Int != 43 {
				t.Errorf("INCRBY n 1 at 11 after restore = {Int:%d Err:%v}, want {Int:43 Err:nil}", got.Int, got.Err)
			}
		})
	}
}

// TestSnapshotIsPointInTime: writes applied after Snapshot() returns, even
// while Persist runs, are not in the stream.
func TestSnapshotIsPointInTime(t *testing.T) {
	const keys = 2000
	f := newFSM(t, memEngine(t))
	logs := make([]Entry, keys)
	for i := range logs {
		logs[i] = cmdLog(uint64(i+1), set(fmt.Sprintf("k%05d", i), "before"))
	}
	f.ApplyBatch(logs)
	want := dump(t, f.eng)

	snap, err := f.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot(): %v", err)
	}
	defer snap.Release()

	// raft runs Persist concurrently with further applies.
	persisted := make(chan []byte, 1)
	persistErr := make(chan error, 1)
	go func() {
		var sink memSink
		if err := snap.Persist(&sink); err != nil {
			persistErr <- err
			return
		}
		persisted <- sink.Bytes()
	}()
	idx := uint64(keys)
	for i := 0; i < keys; i += 100 {
		idx++
		f.ApplyBatch([]Entry{
			cmdLog(idx, set(fmt.Sprintf("k%05d", i), "after")),
			cmdLog(idx+1, del(fmt.Sprintf("k%05d", i+1))),
			cmdLog(idx+2, set(fmt.Sprintf("new%05d", i), "after")),
		})
		idx += 2
	}
	var data []byte
	select {
	case data = <-persisted:
	case err := <-persistErr:
		t.Fatalf("Persist: %v", err)
	}

	dst := newFSM(t, memEngine(t))
	if err := restoreBytes(dst, data); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if d := diffDumps(dump(t, dst.eng), want); d != "" {
		t.Errorf("restored state differs from the state at Snapshot(): %s", d)
	}
	if got := dst.AppliedIndex(); got != keys {
		t.Errorf("restored AppliedIndex() = %d, want %d (index at Snapshot(), live FSM is at %d)", got, keys, f.AppliedIndex())
	}
}

// snapHeaderLen is the length of the uncompressed header of a snapshot at
// the given index.
func snapHeaderLen(applied uint64) int {
	return len(snapMagic) + 1 + len(binary.AppendUvarint(nil, applied))
}

func TestRestoreMalformed(t *testing.T) {
	valid := persist(t, sourceFSM(t))
	hdr := valid[:snapHeaderLen(10)]

	// A hand-built stream whose trailer disagrees with its records.
	var badCount bytes.Buffer
	badCount.Write(hdr)
	zw := s2.NewWriter(&badCount)
	rec := binary.AppendUvarint(nil, 2)
	rec = append(rec, "dk"...)
	rec = binary.AppendUvarint(rec, 3)
	rec = append(rec, "s\x00v"...)
	rec = binary.AppendUvarint(rec, 0) // end of records
	rec = binary.AppendUvarint(rec, 5) // but only one was written
	zw.Write(rec)
	zw.Close()

	tests := []struct {
		name string
		data []byte
		// touched: the stream got past the header, so the engine was
		// already being rewritten and must be marked inconsistent.
		touched bool
	}{
		{"empty", nil, false},
		{"garbage", []byte("this is not a snapshot at all, not even close"), false},
		{"random", func() []byte {
			r := rand.New(rand.NewPCG(1, 2))
			b := make([]byte, 4096)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return b
		}(), false},
		{"magic only", []byte("RIOTSNAP"), false},
		{"wrong version", append([]byte("RIOTSNAP\x02"), valid[len(snapMagic)+1:]...), false},
		{"truncated applied index", []byte("RIOTSNAP\x01\x80"), false},
		{"header only", hdr, true},
		{"garbage body", append(append([]byte(nil), hdr...), bytes.Repeat([]byte{0xa5}, 1000)...), true},
		{"uncompressed body", append(append([]byte(nil), hdr...), 0, 0), true},
		{"trailer count mismatch", badCount.Bytes(), true},
		{"trailing cut", valid[:len(valid)-1], true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng := memEngine(t)
			dst := targetFSM(t, eng)
			before := dump(t, eng)
			err := restoreBytes(dst, tc.data)
			if !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("Restore(%q...) = %v, want ErrBadSnapshot", head(tc.data), err)
			}
			if got := restoring(t, dst); got != tc.touched {
				t.Errorf("Restore(%q...) failed; restore marker present = %v, want %v", head(tc.data), got, tc.touched)
			}
			if !tc.touched {
				if d := diffDumps(dump(t, eng), before); d != "" {
					t.Errorf("Restore(%q...) failed on the header yet changed the engine: %s", head(tc.data), d)
				}
				if got := dst.AppliedIndex(); got != 52 {
					t.Errorf("AppliedIndex() = %d, want 52 (unchanged)", got)
				}
			}
		})
	}

	// Every truncation of a valid stream is detected.
	for cut := range len(valid) {
		eng := memEngine(t)
		dst := targetFSM(t, eng)
		err := restoreBytes(dst, valid[:cut])
		if !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("Restore of the first %d of %d bytes = %v, want ErrBadSnapshot", cut, len(valid), err)
		}
		if got, want := restoring(t, dst), cut >= len(hdr); got != want {
			t.Errorf("Restore of the first %d of %d bytes: restore marker present = %v, want %v", cut, len(valid), got, want)
		}
	}
}

func head(b []byte) []byte { return b[:min(len(b), 16)] }

// cutReader returns the first n bytes of r, then err.
type cutReader struct {
	r   io.Reader
	n   int
	err error
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, c.err
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

var errCut = errors.New("connection reset (injected)")

// TestRestoreInterrupted: a restore that fails part way leaves the marker
// (and a half-written engine); the next successful restore clears it.
func TestRestoreInterrupted(t *testing.T) {
	const keys, valueSize = 1200, 5000 // > restoreBatchBytes, so the restore flushes before the cut
	src := newFSM(t, memEngine(t))
	rnd := rand.NewChaCha8([32]byte{3, 4})
	logs := make([]Entry, 0, 64)
	var idx uint64
	for i := range keys {
		v := make([]byte, valueSize)
		rnd.Read(v) // incompressible: the stream is about as big as the data
		idx++
		logs = append(logs, cmdLog(idx, set(fmt.Sprintf("k%05d", i), string(v))))
		if len(logs) == cap(logs) || i == keys-1 {
			src.ApplyBatch(logs)
			logs = logs[:0]
		}
	}
	want := dump(t, src.eng)
	data := persist(t, src)

	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			eng := e.open(t)
			dst := targetFSM(t, eng)
			cut := len(data) * 9 / 10
			err := dst.Restore(io.NopCloser(&cutReader{r: bytes.NewReader(data), n: cut, err: errCut}))
			if !errors.Is(err, ErrBadSnapshot) || !errors.Is(err, errCut) {
				t.Fatalf("Restore cut after %d of %d bytes = %v, want ErrBadSnapshot wrapping the read error", cut, len(data), err)
			}
			if !restoring(t, dst) {
				t.Fatalf("restore marker missing after a restore cut after %d of %d bytes", cut, len(data))
			}
			// The engine is half-way: old state cleared, part of the new one written.
			partial := dump(t, eng)
			if _, ok := partial[string(dataKey(0, []byte("only-in-target")))]; ok {
				t.Errorf("interrupted restore: old key only-in-target still present, want cleared")
			}
			if n := len(partial); n == 0 || n >= keys {
				t.Errorf("interrupted restore left %d keys, want some but not all %d", n, keys)
			}
			if err := dst.Err(); !errors.Is(err, ErrFailed) {
				t.Errorf("Err() after an interrupted restore = %v, want ErrFailed (no serving from a half-restored engine)", err)
			}

			if err := restoreBytes(dst, data); err != nil {
				t.Fatalf("second, complete Restore: %v", err)
			}
			if restoring(t, dst) {
				t.Errorf("restore marker still present after a complete restore")
			}
			if err := dst.Err(); err != nil {
				t.Errorf("Err() after a complete restore = %v, want nil", err)
			}
			if d := diffDumps(dump(t, eng), want); d != "" {
				t.Errorf("after a complete restore: %s", d)
			}
			if got := dst.AppliedIndex(); got != idx {
				t.Errorf("AppliedIndex() = %d, want %d", got, idx)
			}
		})
	}
}

func TestSnapshotCompressed(t *testing.T) {
	const keys = 10000
	f := newFSM(t, memEngine(t))
	value := bytes.Repeat([]byte("0123456789"), 10)
	logs := make([]Entry, 0, 500)
	for i := range keys {
		logs = append(logs, cmdLog(uint64(i+1), set(fmt.Sprintf("key:%08d", i), string(value))))
		if len(logs) == cap(logs) {
			f.ApplyBatch(logs)
			logs = logs[:0]
		}
	}
	raw := 0
	for k, v := range dump(t, f.eng) {
		raw += len(k) + len(v)
	}
	data := persist(t, f)
	if len(data) > raw/4 {
		t.Errorf("snapshot of %d keys with 100-byte repetitive values: %d bytes for %d raw bytes, want under a quarter", keys, len(data), raw)
	}
	t.Logf("snapshot: %d bytes for %d raw bytes (%.1fx)", len(data), raw, float64(raw)/float64(len(data)))

	dst := newFSM(t, memEngine(t))
	if err := restoreBytes(dst, data); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	v, release := dst.View()
	defer release()
	if n, err := v.Count(0); err != nil || n != keys {
		t.Errorf("Count() after restore = %d, %v; want %d", n, err, keys)
	}
}
