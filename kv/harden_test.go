package kv

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/riotkv/riot/storage"
)

// TestApplyHugeStringGrowth: `CONFIG SET proto-max-bulk-len
// 9223372036854775807` then `SETRANGE k 9223372036854775806 x` used to
// commit an entry on which every replica panicked (makeslice), on every
// replay too. The state machine's own limits refuse such entries, the same
// way on every replica, whatever limit the entry carries.
func TestApplyHugeStringGrowth(t *testing.T) {
	huge := []byte("9223372036854775807")
	k, x := []byte("k"), []byte("x")
	cases := []struct {
		name string
		c    Command
		want error
	}{
		{"setrange at int64 max", Command{Op: OpSetRange, Args: [][]byte{k, x, huge}, Int: 9223372036854775806}, ErrBadEntry},
		{"setrange past the hard limit", Command{Op: OpSetRange, Args: [][]byte{k, x, huge}, Int: MaxStringBytes}, ErrTooLong},
		{"setbit past the hard limit", Command{Op: OpSetBit, Args: [][]byte{k, []byte("1")}, Int: MaxStringBytes * 8}, ErrBadEntry},
		{"setbit at int64 max", Command{Op: OpSetBit, Args: [][]byte{k, []byte("1")}, Int: 1<<63 - 1}, ErrBadEntry},
		{"negative setrange", Command{Op: OpSetRange, Args: [][]byte{k, x, huge}, Int: -1}, ErrBadEntry},
		{"unknown op", Command{Op: Op(200), Args: [][]byte{k}}, ErrUnknownOp},
		{"set with unknown options", Command{Op: OpSet, Args: [][]byte{k, x}, Int: 1 << 10}, ErrBadEntry},
		{"member op in a transaction", *NewMulti(nil, []*Command{{Op: OpSetMember, Args: [][]byte{k, x, x}}}), ErrBadEntry},
		{"secret in a transaction", *NewMulti(nil, []*Command{{Op: OpSecret, Args: [][]byte{bytes.Repeat(x, 32)}}}), ErrBadEntry},
		{"short secret", Command{Op: OpSecret, Args: [][]byte{x}}, ErrBadEntry},
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			f := newFSM(t, eng.open(t))
			for i, tc := range cases {
				res := f.ApplyBatch([]Entry{cmdLog(uint64(i+1), tc.c)})
				if r := result(t, res, 0); !errors.Is(r.Err, tc.want) {
					t.Errorf("%s: %v, want %v", tc.name, r.Err, tc.want)
				}
				if err := f.Err(); err != nil {
					t.Fatalf("%s stopped the state machine: %v", tc.name, err)
				}
				if err := tc.c.Validate(); !errors.Is(err, tc.want) && !errors.Is(tc.want, ErrTooLong) {
					t.Errorf("%s: Validate = %v, want %v", tc.name, err, tc.want)
				}
			}
			wantMissing(t, f, "k")
			if got := f.AppliedIndex(); got != uint64(len(cases)) {
				t.Errorf("applied index %d, want %d (refused entries are applied as no-ops)", got, len(cases))
			}
			if got := f.Secret(); got != nil {
				t.Errorf("secret %q recorded by a refused entry", got)
			}
		})
	}
}

// TestApplyPanicStopsStateMachine: a panic while applying (here, from the
// engine) stops the state machine instead of crashing the node, also when
// the entry is applied again after a restart; nothing of the batch is
// written, and once the cause is gone the entry applies.
func TestApplyPanicStopsStateMachine(t *testing.T) {
	mem := memEngine(t)
	eng := storage.NewFaultyEngine(mem)
	f := newFSM(t, eng)
	f.ApplyBatch([]Entry{cmdLog(1, set("a", "1"))})
	dataKeys := func(k []byte) bool { return bytes.HasPrefix(k, dataPrefix(0)) }
	eng.PanicReads(dataKeys)
	xx := Command{Op: OpSet, Args: [][]byte{[]byte("a"), []byte("2")}, Int: SetXX} // reads a
	for restart := range 2 {
		res := f.ApplyBatch([]Entry{cmdLog(2, set("c", "3")), cmdLog(3, xx)})
		for i := range res {
			if r := result(t, res, i); !errors.Is(r.Err, ErrFailed) {
				t.Errorf("restart %d: entry %d: %v, want ErrFailed", restart, i+2, r.Err)
			}
		}
		if err := f.Err(); !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "panic applying entry 3") {
			t.Fatalf("restart %d: Err() = %v, want the panic at entry 3", restart, err)
		}
		if got := f.AppliedIndex(); got != 1 {
			t.Errorf("restart %d: applied index %d, want 1", restart, got)
		}
		eng.PanicReads(nil)
		wantMissing(t, newFSM(t, mem), "c") // entry 2 shared the failed batch
		eng.PanicReads(dataKeys)
		f = newFSM(t, eng) // a restart replays the entry
	}
	eng.PanicReads(nil) // the cause is gone (a fixed binary, a repaired disk)
	res := f.ApplyBatch([]Entry{cmdLog(2, set("c", "3")), cmdLog(3, xx)})
	if r := result(t, res, 1); r.Err != nil || r.Int != 1 {
		t.Errorf("SET a 2 XX after the fix = %+v, want applied", r)
	}
	wantValue(t, f, "a", "2")
	wantValue(t, f, "c", "3")
}

// TestStorageReadErrorStopsStateMachine: a read error while applying is
// not the command's result (another replica reads fine and would answer
// differently): the state machine stops, writes nothing of the batch, and
// answers every entry with an error.
func TestStorageReadErrorStopsStateMachine(t *testing.T) {
	eng := storage.NewFaultyEngine(memEngine(t))
	f := newFSM(t, eng)
	f.ApplyBatch([]Entry{cmdLog(1, set("a", "1"))})
	eng.FailReads(func(k []byte) bool { return bytes.HasSuffix(k, []byte("a")) })
	res := f.ApplyBatch([]Entry{cmdLog(2, set("b", "2")), cmdLog(3, incrBy("a", 1)), cmdLog(4, set("c", "3"))})
	for i := range res {
		if r := result(t, res, i); !errors.Is(r.Err, ErrFailed) {
			t.Errorf("entry %d: %v, want ErrFailed", i+2, r.Err)
		}
	}
	if err := f.Err(); !errors.Is(err, storage.ErrInjected) {
		t.Fatalf("Err() = %v, want the read error", err)
	}
	if got := f.AppliedIndex(); got != 1 {
		t.Errorf("applied index %d, want 1", got)
	}
	eng.FailReads(nil)
	wantMissing(t, f, "b")
	wantValue(t, f, "a", "1")
	if _, err := f.Snapshot(); !errors.Is(err, ErrFailed) {
		t.Errorf("Snapshot of a stopped state machine: %v, want ErrFailed (raft must not compact the log past it)", err)
	}
}

// TestRestoreFailsClosed: a restore that fails, when the engine cannot
// tell whether it holds a half-restored state (its marker unreadable),
// stops the state machine; so does a restore whose clock cannot be read
// afterwards (the in-memory applied index and clock would be stale).
func TestRestoreFailsClosed(t *testing.T) {
	src := sourceFSM(t)
	src.ApplyBatch([]Entry{cmdLog(11, Command{Op: OpNoop, Now: 1_700_000_000_000})}) // a clock to read
	snap := persist(t, src)
	isKey := func(key string) func([]byte) bool {
		return func(k []byte) bool { return string(k) == key }
	}
	t.Run("marker unreadable", func(t *testing.T) {
		eng := storage.NewFaultyEngine(memEngine(t))
		f := newFSM(t, eng)
		eng.FailReads(func(k []byte) bool { return len(k) == 0 || string(k) == string(keyRestoring) })
		if err := restoreBytes(f, snap); err == nil {
			t.Fatal("restore with a failing engine succeeded")
		}
		if err := f.Err(); !errors.Is(err, ErrFailed) {
			t.Errorf("Err() = %v, want ErrFailed", err)
		}
	})
	t.Run("clock unreadable", func(t *testing.T) {
		eng := storage.NewFaultyEngine(memEngine(t))
		f := newFSM(t, eng)
		eng.FailReads(isKey(string(keyClock)))
		if err := restoreBytes(f, snap); err == nil {
			t.Fatal("restore whose clock cannot be read succeeded")
		}
		if err := f.Err(); !errors.Is(err, ErrFailed) {
			t.Errorf("Err() = %v, want ErrFailed", err)
		}
		res := f.ApplyBatch([]Entry{cmdLog(1<<40, set("x", "1"))})
		if r := result(t, res, 0); !errors.Is(r.Err, ErrFailed) {
			t.Errorf("apply after the failed restore: %v, want ErrFailed", r.Err)
		}
		eng.FailReads(nil)
		if err := restoreBytes(f, snap); err != nil || f.Err() != nil {
			t.Errorf("restore again: %v, Err() %v; want a working state machine", err, f.Err())
		}
	})
}

// TestBackupLeavesSecretOut: a backup carries the data, not the node
// secret (a client may fetch a backup with RAFT.BACKUP); a raft snapshot,
// which followers install, carries it.
func TestBackupLeavesSecretOut(t *testing.T) {
	f := newFSM(t, memEngine(t))
	secret := bytes.Repeat([]byte("s"), 32)
	f.ApplyBatch([]Entry{cmdLog(1, set("a", "1")), cmdLog(2, Command{Op: OpSecret, Args: [][]byte{secret}})})
	if !bytes.Equal(f.Secret(), secret) {
		t.Fatalf("Secret() = %q after OpSecret", f.Secret())
	}
	b, err := f.Backup()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	fromBackup := newFSM(t, memEngine(t))
	if err := restoreBytes(fromBackup, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	wantValue(t, fromBackup, "a", "1")
	if got := fromBackup.Secret(); got != nil {
		t.Errorf("a backup carried the node secret %q", got)
	}
	fromSnap := newFSM(t, memEngine(t))
	if err := restoreBytes(fromSnap, persist(t, f)); err != nil {
		t.Fatal(err)
	}
	if got := fromSnap.Secret(); !bytes.Equal(got, secret) {
		t.Errorf("a snapshot restored the secret %q, want %q", got, secret)
	}
}

// TestOpTablesAgree: every op Validate accepts has an apply function
// (OpMulti is applied by applyCommand itself), and every client op is one
// Validate knows: applyCommand and applyMulti call the table without
// looking again.
func TestOpTablesAgree(t *testing.T) {
	for op := range opArgs {
		if _, ok := ops[op]; !ok && op != OpMulti {
			t.Errorf("%s passes Validate but has no apply function", op)
		}
	}
	for op := range clientOps {
		if _, ok := opArgs[op]; !ok {
			t.Errorf("client op %s is unknown to Validate", op)
		}
	}
	for op := range ops {
		if _, ok := opArgs[op]; !ok {
			t.Errorf("%s has an apply function but Validate refuses it", op)
		}
	}
}
