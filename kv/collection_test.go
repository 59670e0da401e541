package kv

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/riotkv/riot/storage"
)

func hset(key string, fv ...string) Command {
	return Command{Op: OpHSet, Args: strs(append([]string{key}, fv...)...)}
}

// hashOf returns the fields and values of hash key in database db, read
// through r, as "f=v" sorted; "" when there is no such hash.
func hashOf(t testing.TB, v *View, key string) string {
	t.Helper()
	c, ok, err := v.Collection([]byte(key), t0, TypeHash)
	if err != nil {
		t.Fatalf("hash %q: %v", key, err)
	}
	if !ok {
		return ""
	}
	var out []string
	if err := c.Scan(nil, false, func(f, val []byte) bool {
		out = append(out, string(f)+"="+string(val))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if int64(len(out)) != c.Len() {
		t.Errorf("hash %q: %d elements, metadata says %d", key, len(out), c.Len())
	}
	return strings.Join(out, " ")
}

func wantHash(t testing.TB, f *FSM, db uint8, key, want string) {
	t.Helper()
	v, release := f.View()
	defer release()
	if got := hashOf(t, v.DB(db), key); got != want {
		t.Errorf("db %d hash %q = %q, want %q", db, key, got, want)
	}
}

// elementRecords counts the element records ('s' and 'z') in the engine,
// reachable or not.
func elementRecords(t testing.TB, eng storage.Engine) int {
	t.Helper()
	n := 0
	for _, p := range []byte{prefixElem, prefixScore} {
		it := eng.NewIterator(storage.PrefixRange([]byte{p}))
		for it.Next() {
			n++
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestCollectionRecreatedInOneEntry: a hash created, deleted (or
// overwritten, or expired) and created again within one entry shares the
// entry's index as its generation; the new one must not see the old one's
// fields.
func TestCollectionRecreatedInOneEntry(t *testing.T) {
	for _, between := range []Command{
		del("h"),
		set("h", "str"),
		{Op: OpPExpireAt, Args: strs("h"), Int: t0 - 1},
		{Op: OpRename, Args: strs("h", "other")},
		{Op: OpMove, Args: strs("h"), Int: 1},
		{Op: OpFlush, Int: 1},
	} {
		t.Run(between.Op.String(), func(t *testing.T) {
			a := newApplier(t)
			r := a.at(t0, multi(nil, hset("h", "a", "1", "b", "2"), between, del("h"), hset("h", "c", "3"), Command{Op: OpLookup, Args: strs("h")}))
			if r.Err != nil || len(r.Array) != 5 {
				t.Fatalf("transaction: %s", fmtTxResult(r))
			}
			wantHash(t, a.f, 0, "h", "c=3")
			// The lookup, as MULTI's reads see it, has the new hash alone.
			lv, err := LookupView([][]byte{[]byte("h")}, r.Array[4])
			if err != nil {
				t.Fatal(err)
			}
			if got := hashOf(t, lv, "h"); got != "c=3" {
				t.Errorf("lookup view: hash = %q, want c=3", got)
			}
		})
	}
}

// TestCollectionKeyspace: RENAME, COPY (to another database too), MOVE and
// SWAPDB carry a hash's fields and deadline; the source is gone where it
// should be, and a rewritten hash is a new generation.
func TestCollectionKeyspace(t *testing.T) {
	a := newApplier(t)
	a.run([]step{
		{t0, hset("h", "a", "1", "b", "2"), Result{Int: 2}},
		{t0, Command{Op: OpPExpireAt, Args: strs("h"), Int: t0 + 100000}, Result{Int: 1}},
		{t0, Command{Op: OpRename, Args: strs("h", "r")}, Result{Int: 1}},
		{t0, Command{Op: OpCopy, Args: strs("r", "c")}, Result{Int: 1}},
		{t0, Command{Op: OpCopy, Args: [][]byte{[]byte("r"), []byte("c2"), {2}}}, Result{Int: 1}},
		{t0, hset("c", "a", "changed"), Result{}},
		{t0, Command{Op: OpMove, Args: strs("c"), Int: 1}, Result{Int: 1}},
		{t0, inDB(3, hset("s", "x", "y")), Result{Int: 1}},
		{t0, Command{Op: OpSwapDB, Args: [][]byte{{2}, {3}}}, Result{}},
	})
	wantHash(t, a.f, 0, "h", "")
	wantHash(t, a.f, 0, "r", "a=1 b=2")
	wantHash(t, a.f, 0, "c", "")
	wantHash(t, a.f, 1, "c", "a=changed b=2")
	wantHash(t, a.f, 3, "c2", "a=1 b=2")
	wantHash(t, a.f, 2, "s", "x=y")
	wantHash(t, a.f, 2, "c2", "")
	v, release := a.f.View()
	defer release()
	info, ok, err := v.DB(3).Lookup([]byte("c2"), t0)
	if err != nil || !ok || info.ExpireAt != t0+100000 || info.Type != TypeHash {
		t.Errorf("db 3 c2: %+v %v %v, want a hash expiring at %d", info, ok, err, t0+100000)
	}
}

// TestCollectionDeleteIsConstant: DEL of a hash writes the metadata's
// deletion and a tombstone, whatever its size; its elements stay in the
// engine, unreachable, and a new hash at the key does not see them.
func TestCollectionDeleteIsConstant(t *testing.T) {
	a := newApplier(t)
	fv := make([]string, 0, 2000)
	for i := range 1000 {
		fv = append(fv, fmt.Sprintf("f%04d", i), "v")
	}
	if r := a.at(t0, hset("h", fv...)); r.Int != 1000 {
		t.Fatalf("HSET: %+v", r)
	}
	w := &opsCounter{Engine: a.eng}
	a.f = newFSM(t, w)
	if r := a.at(t0, del("h")); r.Int != 1 {
		t.Fatalf("DEL: %+v", r)
	}
	if w.ops > 4 { // metadata, tombstone, applied index (and clock)
		t.Errorf("DEL of a 1000-field hash wrote %d records", w.ops)
	}
	if n := elementRecords(t, a.eng); n != 1000 {
		t.Errorf("%d element records after DEL, want the 1000 unreachable ones", n)
	}
	a.at(t0, hset("h", "new", "1"))
	wantHash(t, a.f, 0, "h", "new=1")
}

// TestCollectionWrongType: hash ops on a string, and string ops on a hash,
// answer WRONGTYPE and change nothing.
func TestCollectionWrongType(t *testing.T) {
	a := newApplier(t)
	a.run([]step{
		{t0, set("s", "x"), Result{}},
		{t0, hset("s", "a", "1"), Result{Err: ErrWrongType}},
		{t0, Command{Op: OpHIncrBy, Args: strs("s", "a"), Int: 1}, Result{Err: ErrWrongType}},
		{t0, hset("h", "a", "1"), Result{Int: 1}},
		{t0, incrBy("h", 1), Result{Err: ErrWrongType}},
		{t0, Command{Op: OpAppend, Args: strs("h", "x", "100")}, Result{Err: ErrWrongType}},
	})
	wantHash(t, a.f, 0, "h", "a=1")
	wantValue(t, a.f, "s", "x")
}

// TestHashOps: the hash ops' results and Redis's errors.
func TestHashOps(t *testing.T) {
	a := newApplier(t)
	a.run([]step{
		{t0, hset("h", "a", "1", "b", "x", "a", "2"), Result{Int: 2}},
		{t0, Command{Op: OpHSet, Args: strs("h", "a", "3"), Int: HSetNX}, Result{Int: 0}},
		{t0, Command{Op: OpHSet, Args: strs("h", "c", "3"), Int: HSetNX}, Result{Int: 1}},
		{t0, Command{Op: OpHIncrBy, Args: strs("h", "a"), Int: 5}, Result{Int: 7}},
		{t0, Command{Op: OpHIncrBy, Args: strs("h", "b"), Int: 1}, Result{Err: errHashNotInteger}},
		{t0, Command{Op: OpHIncrBy, Args: strs("h", "a"), Int: maxInt64}, Result{Err: ErrOverflow}},
		{t0, Command{Op: OpHIncrByFloat, Args: strs("h", "a", "0.5")}, Result{Value: []byte("7.5")}},
		{t0, Command{Op: OpHIncrByFloat, Args: strs("h", "b", "1")}, Result{Err: errHashNotFloat}},
		{t0, Command{Op: OpHIncrByFloat, Args: strs("h", "a", "inf")}, Result{Err: ErrNaNOrInf}},
		{t0, Command{Op: OpHIncrByFloat, Args: strs("h", "a", "x")}, Result{Err: ErrBadEntry}},
		{t0, Command{Op: OpHSet, Args: strs("h", "a")}, Result{Err: ErrBadEntry}},
		{t0, Command{Op: OpHDel, Args: strs("h", "a", "zz", "b")}, Result{Int: 2}},
		{t0, Command{Op: OpHDel, Args: strs("h", "c")}, Result{Int: 1}},
		{t0, Command{Op: OpHDel, Args: strs("h", "c")}, Result{}},
	})
	a.wantGone("h") // the last field removed deletes the hash
	wantHash(t, a.f, 0, "h", "")
}

// TestCollectionSnapshot: a snapshot carries collections (and whatever
// unreachable elements are still stored); restored, they read the same.
func TestCollectionSnapshot(t *testing.T) {
	a := newApplier(t)
	a.at(t0, hset("h", "a", "1", "b", "2"))
	a.at(t0, hset("gone", "x", "1"))
	a.at(t0, del("gone"))
	a.at(t0, inDB(5, hset("h5", "k", "v")))
	data := persist(t, a.f)
	g := newFSM(t, memEngine(t))
	if _, err := g.restore(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	wantHash(t, g, 0, "h", "a=1 b=2")
	wantHash(t, g, 0, "gone", "")
	wantHash(t, g, 5, "h5", "k=v")
}

// TestTxnReaderMerges: the transaction's reader sees the engine as the
// entry changed it, forwards and backwards.
func TestTxnReaderMerges(t *testing.T) {
	eng := memEngine(t)
	var b storage.Batch
	for _, k := range []string{"a", "c", "e", "g"} {
		b.Put([]byte(k), []byte("eng-"+k))
	}
	if err := eng.Write(&b); err != nil {
		t.Fatal(err)
	}
	tx := newTxn(eng, 0, nil)
	tx.putRaw([]byte("b"), []byte("tx-b"))
	tx.putRaw([]byte("c"), []byte("tx-c"))
	tx.delRaw([]byte("e"))
	tx.putRaw([]byte("h"), []byte("tx-h"))
	want := map[string]string{"a": "eng-a", "b": "tx-b", "c": "tx-c", "g": "eng-g", "h": "tx-h"}
	for _, reverse := range []bool{false, true} {
		it := tx.reader().NewIterator(storage.Range{Start: []byte("a"), Limit: []byte("z"), Reverse: reverse})
		got := map[string]string{}
		var order []string
		for it.Next() {
			got[string(it.Key())] = string(it.Value())
			order = append(order, string(it.Key()))
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
		wantOrder := slices.Sorted(maps.Keys(want))
		if reverse {
			slices.Reverse(wantOrder)
		}
		if !maps.Equal(got, want) || !slices.Equal(order, wantOrder) {
			t.Errorf("reverse=%v: got %v in order %v, want %v in order %v", reverse, got, order, want, wantOrder)
		}
	}
}

// opsCounter counts the operations of the batches written to an engine.
type opsCounter struct {
	storage.Engine
	ops int
}

func (w *opsCounter) Write(b *storage.Batch) error {
	w.ops += b.Len()
	return w.Engine.Write(b)
}

// TestCollectionSnapshotAllTypes: sets, sorted sets and lists (and a
// hash) come back whole from a raft snapshot and from a backup, each in
// a fresh state machine: every element, the sizes in their metadata, a
// deadline, a database other than 0, and nothing of a version DEL made
// unreachable; the next writes apply on top.
func TestCollectionSnapshotAllTypes(t *testing.T) {
	a := newApplier(t)
	// Unreachable elements the sweeper has not removed yet: a set, a
	// sorted set and a list deleted, then written again.
	a.at(t0, sadd("s", "old1", "old2"))
	a.at(t0, zadd(0, "z", "9", "old"))
	a.at(t0, rpush("l", "old"))
	a.at(t0, del("s", "z", "l"))
	a.at(t0, sadd("s", "1", "2", "-3", "a", "", "9223372036854775807"))
	a.at(t0, zadd(0, "z", "1", "a", "-inf", "low", "2.5", "b", "inf", "high", "-0", "zero"))
	a.at(t0, rpush("l", "c", "d"))
	a.at(t0, lpush("l", "b", "a")) // the head moves below its first position
	a.at(t0, rpush("l", "e", ""))
	a.at(t0, Command{Op: OpLPop, Args: strs("l"), Int: 1})
	a.at(t0, Command{Op: OpRPop, Args: strs("l"), Int: 1})
	a.at(t0, hset("h", "f", "v"))
	a.at(t0, inDB(3, sadd("s3", "x")))
	a.at(t0, inDB(3, rpush("l3", "y")))
	a.at(t0, inDB(3, zadd(0, "z3", "7", "z")))
	a.at(t0, Command{Op: OpPExpireAt, Args: strs("z"), Int: t0 + 100000})
	a.at(t0, sadd("gone", "x"))
	a.at(t0, del("gone"))

	type restorer func(t *testing.T, g *FSM) uint64
	fromSnapshot := func(t *testing.T, g *FSM) uint64 {
		t.Helper()
		idx, err := g.restore(bytes.NewReader(persist(t, a.f)))
		if err != nil {
			t.Fatal(err)
		}
		return idx
	}
	fromBackup := func(t *testing.T, g *FSM) uint64 {
		t.Helper()
		b, err := a.f.Backup()
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		var buf bytes.Buffer
		if _, err := b.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		st, err := g.Import([]io.Reader{&buf}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.FinishImport(); err != nil {
			t.Fatal(err)
		}
		return st.Index
	}
	for _, tc := range []struct {
		name    string
		restore restorer
	}{{"snapshot", fromSnapshot}, {"backup", fromBackup}} {
		t.Run(tc.name, func(t *testing.T) {
			eng := memEngine(t)
			b := &applier{t: t, eng: eng, f: newFSM(t, eng)}
			b.idx = tc.restore(t, b.f)
			if b.idx < a.idx {
				t.Fatalf("restored at index %d, want at least %d", b.idx, a.idx)
			}
			wantSet(t, b.f, "s", t0, "1", "2", "-3", "a", "", "9223372036854775807")
			wantSet(t, b.f, "gone", t0)
			wantZ(t, b, "z", "low:-Inf zero:0 a:1 b:2.5 high:+Inf")
			wantList(t, b.f, "l", "b", "c", "d", "e")
			wantHash(t, b.f, 0, "h", "f=v")
			if got, ok := listOf(t, b.f, 3, "l3"); !ok || !slices.Equal(got, []string{"y"}) {
				t.Errorf("db 3 list l3 = %q (exists %v), want [y]", got, ok)
			}
			v, release := b.f.View()
			for _, k := range []struct {
				db   uint8
				key  string
				typ  Type
				size int64
			}{{0, "s", TypeSet, 6}, {0, "z", TypeZSet, 5}, {0, "l", TypeList, 4}, {3, "s3", TypeSet, 1}, {3, "z3", TypeZSet, 1}} {
				c, ok, err := v.DB(k.db).Collection([]byte(k.key), t0, k.typ)
				if err != nil || !ok || c.Len() != k.size {
					t.Errorf("db %d %q: Collection = %v, %v; want a %s of %d", k.db, k.key, ok, err, k.typ, k.size)
				}
			}
			if info, ok, err := v.Lookup([]byte("z"), t0); err != nil || !ok || info.ExpireAt != t0+100000 {
				t.Errorf("z: Lookup = %+v, %v, %v; want the deadline %d", info, ok, err, t0+100000)
			}
			release()

			// The next writes apply on the restored state.
			wantInt(t, "SADD", b.at(t0, sadd("s", "new", "a")), 1)
			wantSet(t, b.f, "s", t0, "1", "2", "-3", "a", "", "9223372036854775807", "new")
			wantInt(t, "ZADD", b.at(t0, zadd(0, "z", "3", "c", "0", "a")), 1)
			wantZ(t, b, "z", "low:-Inf a:0 zero:0 b:2.5 c:3 high:+Inf")
			wantInt(t, "LPUSH", b.at(t0, lpush("l", "first")), 5)
			wantInt(t, "RPUSH", b.at(t0, rpush("l", "last")), 6)
			wantList(t, b.f, "l", "first", "b", "c", "d", "e", "last")
			wantInt(t, "SADD gone", b.at(t0, sadd("gone", "y")), 1)
			wantSet(t, b.f, "gone", t0, "y")
			wantInt(t, "RPUSH db 3", b.at(t0, inDB(3, rpush("l3", "z"))), 2)
		})
	}
}
