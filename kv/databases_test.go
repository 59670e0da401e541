package kv

import (
	"bytes"
	"testing"
)

// inDB returns c in database db.
func inDB(db uint8, c Command) Command { c.DB = db; return c }

// dbGet returns the live string of key in database db at now.
func dbGet(t testing.TB, f *FSM, db uint8, key string, now int64) (string, bool) {
	t.Helper()
	v, release := f.View()
	defer release()
	val, ok, err := v.DB(db).Get([]byte(key), now)
	if err != nil {
		t.Fatalf("get %q in db %d: %v", key, db, err)
	}
	return string(val), ok
}

func wantDB(t testing.TB, f *FSM, db uint8, key, want string) {
	t.Helper()
	got, ok := dbGet(t, f, db, key, t0)
	switch {
	case want == "" && ok:
		t.Errorf("db %d %q = %q, want no key", db, key, got)
	case want != "" && (!ok || got != want):
		t.Errorf("db %d %q = %q (%v), want %q", db, key, got, ok, want)
	}
}

func dbCount(t testing.TB, f *FSM, db uint8) (keys, expiring int64) {
	t.Helper()
	v, release := f.View()
	defer release()
	n, err := v.DB(db).Count(t0)
	if err != nil {
		t.Fatal(err)
	}
	e, err := v.DB(db).CountExpiring(t0)
	if err != nil {
		t.Fatal(err)
	}
	return n, e
}

// TestDatabasesIsolated: the same key in two databases is two keys, for
// every kind of op; an entry without a DB (written before databases
// existed) is database 0's.
// Reference: https://redis.io/docs/latest/commands/select/
func TestDatabasesIsolated(t *testing.T) {
	a := newApplier(t)
	a.run([]step{
		{t0, set("k", "zero"), Result{}},
		{t0, inDB(1, set("k", "one")), Result{}},
		{t0, inDB(1, incrBy("n", 5)), Result{Int: 5}},
		{t0, incrBy("n", 1), Result{Int: 1}},
		{t0, inDB(2, Command{Op: OpSet, Args: strs("k", "two"), ExpireAt: t0 + 50}), Result{}},
		{t0, inDB(1, Command{Op: OpRename, Args: strs("k", "k1")}), Result{Int: 1}},
		{t0, inDB(1, del("n")), Result{Int: 1}},
	})
	wantDB(t, a.f, 0, "k", "zero")
	wantDB(t, a.f, 0, "n", "1")
	wantDB(t, a.f, 1, "k", "")
	wantDB(t, a.f, 1, "k1", "one")
	wantDB(t, a.f, 1, "n", "")
	wantDB(t, a.f, 2, "k", "two")
	if n, e := dbCount(t, a.f, 2); n != 1 || e != 1 {
		t.Errorf("db 2: %d keys %d expiring, want 1 1", n, e)
	}
	if n, e := dbCount(t, a.f, 0); n != 2 || e != 0 {
		t.Errorf("db 0: %d keys %d expiring, want 2 0", n, e)
	}
	// An encoded entry without the DB flag decodes as database 0; with
	// it, the DB round-trips.
	c := set("x", "y")
	enc := c.Encode()
	if enc[2]&flagDB != 0 {
		t.Errorf("db 0 entry has the DB flag")
	}
	c.DB = 7
	d, err := DecodeCommand(c.Encode())
	if err != nil || d.DB != 7 {
		t.Errorf("decode db 7: %+v, %v", d, err)
	}
	// Active expiry lists keys per database; OpExpire deletes in its DB.
	v, release := a.f.View()
	byDB, err := v.ExpiredByDB(t0+60, 10)
	release()
	if err != nil || len(byDB) != 1 || byDB[0].DB != 2 || len(byDB[0].Keys) != 1 {
		t.Fatalf("ExpiredByDB = %+v, %v; want db 2's k", byDB, err)
	}
	a.run([]step{
		{t0 + 60, Command{Op: OpExpire, Args: strs("k")}, Result{Int: 0}},
		{t0 + 60, inDB(2, Command{Op: OpExpire, Args: strs("k")}), Result{Int: 1}},
	})
	wantDB(t, a.f, 0, "k", "zero")
}

// Reference: https://redis.io/docs/latest/commands/move/, swapdb/,
// copy/ (DB), flushdb/, flushall/
func TestDatabasesMoveSwapCopyFlush(t *testing.T) {
	a := newApplier(t)
	a.run([]step{
		{t0, Command{Op: OpSet, Args: strs("a", "1"), ExpireAt: t0 + 1000}, Result{}},
		{t0, set("b", "2"), Result{}},
		{t0, inDB(3, set("b", "three")), Result{}},
		{t0, Command{Op: OpMove, Args: strs("a"), Int: 3}, Result{Int: 1}},
		{t0, Command{Op: OpMove, Args: strs("b"), Int: 3}, Result{Int: 0}},
		{t0, Command{Op: OpMove, Args: strs("none"), Int: 3}, Result{Int: 0}},
		{t0, inDB(3, Command{Op: OpCopy, Args: [][]byte{[]byte("a"), []byte("a"), {0}}}), Result{Int: 1}},
		{t0, inDB(3, Command{Op: OpCopy, Args: [][]byte{[]byte("b"), []byte("b"), {0}}}), Result{Int: 0}},
		{t0, inDB(3, Command{Op: OpCopy, Args: [][]byte{[]byte("b"), []byte("c"), {5}}, Int: 1}), Result{Int: 1}},
	})
	wantDB(t, a.f, 0, "a", "1")
	wantDB(t, a.f, 3, "a", "1")
	wantDB(t, a.f, 5, "c", "three")
	if _, e := dbCount(t, a.f, 3); e != 1 {
		t.Errorf("db 3 expiring = %d, want 1 (MOVE keeps the deadline)", e)
	}
	if err := (&Command{Op: OpMove, Args: strs("a"), Int: 3, DB: 3}).Validate(); err == nil {
		t.Errorf("MOVE to its own database validates")
	}
	if err := (&Command{Op: OpMove, Args: strs("a"), Int: 256}).Validate(); err == nil {
		t.Errorf("MOVE to database 256 validates")
	}
	a.run([]step{
		{t0, Command{Op: OpSwapDB, Args: [][]byte{{0}, {3}}}, Result{}},
	})
	wantDB(t, a.f, 0, "b", "three")
	wantDB(t, a.f, 0, "a", "1")
	wantDB(t, a.f, 3, "b", "2")
	wantDB(t, a.f, 3, "a", "1")
	if n, e := dbCount(t, a.f, 3); n != 2 || e != 1 {
		t.Errorf("db 3 after SWAPDB: %d keys %d expiring, want 2 1", n, e)
	}
	if n, e := dbCount(t, a.f, 0); n != 2 || e != 1 {
		t.Errorf("db 0 after SWAPDB: %d keys %d expiring, want 2 1", n, e)
	}
	a.run([]step{{t0, inDB(3, Command{Op: OpFlush, Int: 1}), Result{}}})
	if n, _ := dbCount(t, a.f, 3); n != 0 {
		t.Errorf("db 3 after FLUSHDB: %d keys", n)
	}
	wantDB(t, a.f, 0, "b", "three")
	wantDB(t, a.f, 5, "c", "three")
	a.run([]step{{t0, Command{Op: OpFlush}, Result{}}})
	for _, db := range []uint8{0, 3, 5} {
		if n, _ := dbCount(t, a.f, db); n != 0 {
			t.Errorf("db %d after FLUSHALL: %d keys", db, n)
		}
	}
}

// TestDatabasesMultiAndWatch: a transaction's commands each run in their
// own database; WATCH watches a key of one database.
func TestDatabasesMultiAndWatch(t *testing.T) {
	a := newApplier(t)
	a.at(t0, set("k", "0"))
	a.at(t0, inDB(1, set("k", "1")))
	v, release, err := a.f.SnapshotView()
	if err != nil {
		t.Fatal(err)
	}
	w, err := v.DB(1).Watch([]byte("k"), t0)
	release()
	if err != nil || w.DB != 1 {
		t.Fatalf("watch: %+v, %v", w, err)
	}
	ws, err := decodeWatches(EncodeWatches([]Watch{w}))
	if err != nil || ws[0].DB != 1 {
		t.Fatalf("watch round trip: %+v, %v", ws, err)
	}
	// Writing k in database 0 leaves the watch of database 1's k alone.
	a.at(t0, set("k", "0b"))
	r := a.at(t0, multi([]Watch{w}, set("t", "x"), inDB(1, set("t", "y")), inDB(1, lookup("t"))))
	if r.Null || len(r.Array) != 3 || !bytes.Contains(r.Array[2].Array[0].Value, []byte("y")) {
		t.Fatalf("EXEC = %s", fmtTxResult(r))
	}
	wantDB(t, a.f, 0, "t", "x")
	wantDB(t, a.f, 1, "t", "y")
	// Writing database 1's k aborts it.
	a.at(t0, inDB(1, set("k", "1b")))
	if r := a.at(t0, multi([]Watch{w}, set("t", "z"))); !r.Null {
		t.Errorf("EXEC after a write of the watched key = %s, want Null", fmtTxResult(r))
	}
	// Deleting it (a tombstone of database 1) too.
	v, release, _ = a.f.SnapshotView()
	w, _ = v.DB(1).Watch([]byte("k"), t0)
	release()
	a.at(t0, inDB(1, Command{Op: OpFlush, Int: 1}))
	if r := a.at(t0, multi([]Watch{w}, set("t", "z"))); !r.Null {
		t.Errorf("EXEC after FLUSHDB of the watched key's database = %s, want Null", fmtTxResult(r))
	}
	wantDB(t, a.f, 0, "k", "0b")
}
