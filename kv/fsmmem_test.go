package kv

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/riotkv/riot/storage"
)

// dataReads counts the engine's reads of data keys.
type dataReads struct {
	storage.Engine
	n atomic.Int64
}

func (e *dataReads) Get(k []byte) ([]byte, error) {
	if len(k) > 0 && k[0] == prefixData {
		e.n.Add(1)
	}
	return e.Engine.Get(k)
}

// TestSetSkipsOldValueRead: a plain SET reads the old value only when the
// key may have a deadline, and the expiry index stays exact either way.
func TestSetSkipsOldValueRead(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			eng := &dataReads{Engine: e.open(t)}
			f := newFSM(t, eng)
			idx := uint64(0)
			apply := func(c Command) Result {
				t.Helper()
				idx++
				c.Now = t0
				return result(t, f.ApplyBatch([]Entry{cmdLog(idx, c)}), 0)
			}
			reads := func(c Command) int64 {
				t.Helper()
				before := eng.n.Load()
				if r := apply(c); r.Err != nil {
					t.Fatalf("%s: %v", c.Op, r.Err)
				}
				return eng.n.Load() - before
			}
			ttl := func(k string) Command {
				return Command{Op: OpSet, Args: strs(k, "t"), ExpireAt: t0 + 60_000}
			}

			if n := reads(set("plain", "1")); n != 0 {
				t.Errorf("SET of a new key read %d data keys, want 0", n)
			}
			if n := reads(set("plain", "2")); n != 0 {
				t.Errorf("SET over a key without deadline read %d data keys, want 0", n)
			}
			reads(ttl("vol"))
			if n := reads(set("vol", "2")); n == 0 {
				t.Error("SET over a key with a deadline did not read it")
			}
			checkExpiryIndex(t, eng)
			if n := reads(set("vol", "3")); n != 0 {
				t.Errorf("SET after the deadline was dropped read %d data keys, want 0", n)
			}
			reads(ttl("gone"))
			reads(del("gone"))
			if n := reads(set("gone", "x")); n != 0 {
				t.Errorf("SET after DEL of a key with a deadline read %d data keys, want 0", n)
			}
			// A deadline set by PEXPIREAT counts as much as one set by SET.
			reads(Command{Op: OpPExpireAt, Args: strs("plain"), Int: t0 + 60_000})
			if n := reads(set("plain", "4")); n == 0 {
				t.Error("SET over a key given a deadline by PEXPIREAT did not read it")
			}
			checkExpiryIndex(t, eng)
			wantValue(t, f, "plain", "4")
			wantValue(t, f, "vol", "3")
			reads(ttl("flushed"))
			reads(Command{Op: OpFlush})
			if n := reads(set("flushed", "x")); n != 0 {
				t.Errorf("SET after FLUSHALL of a key that had a deadline read %d data keys, want 0", n)
			}
			checkExpiryIndex(t, eng)
		})
	}
}

// TestVolatileKeysRebuilt: the set of keys with a deadline is rebuilt when
// the state machine opens an engine and when it restores a snapshot, so a
// plain SET after either still drops the old deadline's index entry.
func TestVolatileKeysRebuilt(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			eng := e.open(t)
			f := newFSM(t, eng)
			ttl := func(k string) Command {
				return Command{Op: OpSet, Args: strs(k, "t"), ExpireAt: t0 + 60_000, Now: t0}
			}
			f.ApplyBatch([]Entry{cmdLog(1, ttl("a")), cmdLog(2, ttl("b"))})

			f = newFSM(t, eng) // a restart
			wantVolatile(t, f)
			f.ApplyBatch([]Entry{cmdLog(3, set("a", "plain"))})
			checkExpiryIndex(t, eng)

			data := persist(t, f)
			eng = memEngine(t)
			f = targetFSM(t, eng)
			if err := restoreBytes(f, data); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			wantVolatile(t, f)
			f.ApplyBatch([]Entry{cmdLog(4, set("b", "plain"))})
			checkExpiryIndex(t, eng)
			wantValue(t, f, "b", "plain")
		})
	}
}

// TestVolatileKeysMatchReadingEveryValue: a random log applied across a
// restart and a restore leaves exactly what a state machine that reads
// every old value leaves.
func TestVolatileKeysMatchReadingEveryValue(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			logs := randomLog(seed, 3000)
			ref := newFSM(t, memEngine(t))
			ref.volatile = nil // not known: every put reads
			applyInBatches(t, ref, ref.eng, logs, seed)
			want := dump(t, ref.eng)

			third := len(logs) / 3
			eng := memEngine(t)
			f := newFSM(t, eng)
			applyInBatches(t, f, eng, logs[:third], seed)
			f = newFSM(t, eng)
			applyInBatches(t, f, eng, logs[third:2*third], seed)
			data := persist(t, f)
			eng = memEngine(t)
			f = targetFSM(t, eng)
			if err := restoreBytes(f, data); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			applyInBatches(t, f, eng, logs[2*third:], seed)
			if d := diffDumps(dump(t, eng), want); d != "" {
				t.Errorf("differs from a state machine that reads every old value:\n%s", d)
			}
			wantVolatile(t, f)
		})
	}
}

// wantVolatile checks that every key in the expiry index is in f's set.
func wantVolatile(t testing.TB, f *FSM) {
	t.Helper()
	keys, err := scanVolatile(f.eng)
	if err != nil {
		t.Fatal(err)
	}
	if f.volatile == nil {
		t.Fatal("volatile set not known")
	}
	for k := range keys {
		if _, ok := f.volatile[k]; !ok {
			t.Errorf("key %q has a deadline but is not in the volatile set", k)
		}
	}
}

// TestMembersVersion: the address book's version moves with every batch
// that writes it and with every restore, and only then.
func TestMembersVersion(t *testing.T) {
	f := newFSM(t, memEngine(t))
	v0 := f.MembersVersion()
	f.ApplyBatch([]Entry{cmdLog(1, set("k", "v"))})
	if v := f.MembersVersion(); v != v0 {
		t.Errorf("a SET moved the version from %d to %d", v0, v)
	}
	f.ApplyBatch([]Entry{cmdLog(2, Command{Op: OpSetMember, Args: strs("n2", "127.0.0.1:1", "127.0.0.1:2")})})
	v1 := f.MembersVersion()
	if v1 == v0 {
		t.Error("setting a member did not move the version")
	}
	f.ApplyBatch([]Entry{cmdLog(3, Command{Op: OpDelMember, Args: strs("n2")})})
	v2 := f.MembersVersion()
	if v2 == v1 {
		t.Error("deleting a member did not move the version")
	}
	if err := restoreBytes(f, persist(t, sourceFSM(t))); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if f.MembersVersion() == v2 {
		t.Error("a restore did not move the version")
	}
}
