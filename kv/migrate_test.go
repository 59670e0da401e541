package kv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/riotkv/riot/internal/testdir"
	"github.com/riotkv/riot/storage"
)

// testdata/format1 was written by riot-server at 5377301 (format 1): SET s1
// v1, SET {tag}a x, SET k0..k199 value0..value199, SET ttl1 v EX 1000000000,
// SET ttl2 w PX 900000000000, SET gone x then DEL gone, INCR counter five
// times; engine/ is that node's engine directory after a graceful stop,
// backup its GET /backup.

// wantFormat1Data checks that f holds the fixture's data, in format 2 only.
func wantFormat1Data(t *testing.T, f *FSM, eng storage.Reader) {
	t.Helper()
	wantValue(t, f, "s1", "v1")
	wantValue(t, f, "{tag}a", "x")
	wantValue(t, f, "counter", "5")
	for i := range 200 {
		wantValue(t, f, fmt.Sprint("k", i), fmt.Sprint("value", i))
	}
	wantMissing(t, f, "gone")
	v, release := f.View()
	defer release()
	for _, k := range []string{"ttl1", "ttl2"} {
		info, ok, err := v.Lookup([]byte(k), 1_800_000_000_000)
		if err != nil || !ok || info.ExpireAt < 1_800_000_000_000 {
			t.Errorf("Lookup(%s) = %+v, %v, %v; want a deadline decades ahead", k, info, ok, err)
		}
	}
	if n, err := v.Count(1_800_000_000_000); err != nil || n != 205 {
		t.Errorf("Count = %d, %v; want 205", n, err)
	}
	checkExpiryIndex(t, eng)
	for _, family := range []byte{prefixDataV1, prefixExpireV1, prefixTombV1} {
		it := eng.NewIterator(storage.PrefixRange([]byte{family}))
		if it.Next() {
			t.Errorf("a format-1 record is left: %q", it.Key())
		}
		it.Close()
	}
}

// TestMigrateFormat1DataDir: a data dir written by the release before the
// format-2 layout opens with all its data, and again after a reopen; the
// tombstone of the deleted key moved too.
func TestMigrateFormat1DataDir(t *testing.T) {
	dir := testdir.Copy(t, "testdata/format1/engine")
	eng := levelEngine(t, dir)
	applied, err := readApplied(eng)
	if err != nil || applied == 0 {
		t.Fatalf("fixture applied index %d, %v", applied, err)
	}
	f := newFSM(t, eng)
	wantFormat1Data(t, f, eng)
	if got := f.AppliedIndex(); got != applied {
		t.Errorf("applied index %d after the migration, want %d", got, applied)
	}
	if _, err := eng.Get(tombKey(0, []byte("gone"))); err != nil {
		t.Errorf("tombstone of gone: %v, want it moved to format 2", err)
	}
	// Writes land in format 2 and a reopen moves nothing.
	f.ApplyBatch([]Entry{cmdLog(applied+1, set("new", "n"))})
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng = levelEngine(t, dir)
	f = newFSM(t, eng)
	wantValue(t, f, "new", "n")
	if n, err := migrateV1(eng); err != nil || n != 0 {
		t.Errorf("migrating again moved %d records (%v), want none", n, err)
	}
}

// TestMigrateFormat1Backup: a backup (and so a snapshot) written by the
// release before restores into format 2.
func TestMigrateFormat1Backup(t *testing.T) {
	backup, err := os.ReadFile("testdata/format1/backup")
	if err != nil {
		t.Fatal(err)
	}
	eng := memEngine(t)
	f := newFSM(t, eng)
	f.ApplyBatch([]Entry{cmdLog(1, set("stale", "x"))})
	if err := restoreBytes(f, backup); err != nil {
		t.Fatalf("restore: %v", err)
	}
	wantFormat1Data(t, f, eng)
	wantMissing(t, f, "stale")
}

// failingWrites fails every Write after the first ok ones.
type failingWrites struct {
	storage.Engine
	ok int
}

func (e *failingWrites) Write(b *storage.Batch) error {
	if e.ok == 0 {
		return errors.New("disk full")
	}
	e.ok--
	return e.Engine.Write(b)
}

// TestMigrateCrashHalfway: a migration stopped after some batches (here its
// writes fail) leaves every record in exactly one family, and the next open
// finishes it; nothing is lost or doubled.
func TestMigrateCrashHalfway(t *testing.T) {
	eng := memEngine(t)
	const n = 3*migrateBatch + 17
	var b storage.Batch
	for i := range n {
		k := fmt.Appendf(nil, "key%05d", i)
		v := value{typ: typeString, data: k}
		if i%3 == 0 {
			v.expireAt = 2_000_000_000_000 + int64(i)
			e := binary.BigEndian.AppendUint64([]byte{prefixExpireV1}, uint64(v.expireAt))
			b.Put(append(e, k...), nil)
		}
		b.Put(append([]byte{prefixDataV1}, k...), appendValue(nil, v))
	}
	if err := eng.Write(&b); err != nil {
		t.Fatal(err)
	}
	if moved, err := migrateV1(&failingWrites{Engine: eng, ok: 2}); err == nil || moved != 2*migrateBatch {
		t.Fatalf("migration with failing writes: moved %d, %v; want %d moved, then an error", moved, err, 2*migrateBatch)
	}
	f := newFSM(t, eng) // the next open finishes
	v, release := f.View()
	defer release()
	if got, err := v.Count(0); err != nil || got != n {
		t.Errorf("Count = %d, %v; want %d", got, err, n)
	}
	for _, i := range []int{0, 1, migrateBatch, n - 1} {
		k := fmt.Sprintf("key%05d", i)
		if got, ok, err := v.Get([]byte(k), 0); err != nil || !ok || string(got) != k {
			t.Errorf("Get(%s) = %q, %v, %v", k, got, ok, err)
		}
	}
	checkExpiryIndex(t, eng)
}
