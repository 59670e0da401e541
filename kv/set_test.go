package kv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func sadd(key string, members ...string) Command {
	return Command{Op: OpSAdd, Args: strs(append([]string{key}, members...)...)}
}

func spop(key string, count int64, seed uint64) Command {
	return Command{Op: OpSPop, Args: [][]byte{[]byte(key), binary.BigEndian.AppendUint64(nil, seed)}, Int: count}
}

func setStore(op Op, dst string, keys ...string) Command {
	return Command{Op: op, Args: strs(append([]string{dst}, keys...)...)}
}

// setMembers returns the members of the set at key in database 0 at time
// now, in the order Scan visits them, and checks that the metadata's size
// counts them; ok is false when there is no such set.
func setMembers(t testing.TB, f *FSM, key string, now int64) (members []string, ok bool) {
	t.Helper()
	v, release := f.View()
	defer release()
	c, ok, err := v.Collection([]byte(key), now, TypeSet)
	if err != nil {
		t.Fatalf("Collection(%q): %v", key, err)
	}
	if !ok {
		return nil, false
	}
	if err := c.Scan(nil, false, func(m, val []byte) bool {
		if len(val) != 0 {
			t.Errorf("member %q of %q has value %q, want empty", m, key, val)
		}
		members = append(members, string(m))
		return true
	}); err != nil {
		t.Fatalf("Scan(%q): %v", key, err)
	}
	if int64(len(members)) != c.Len() {
		t.Errorf("set %q: metadata size %d, %d members", key, c.Len(), len(members))
	}
	return members, true
}

// wantSet fails unless key holds a set of exactly want (in byte order), or
// no key when want is empty.
func wantSet(t testing.TB, f *FSM, key string, now int64, want ...string) {
	t.Helper()
	got, ok := setMembers(t, f, key, now)
	if len(want) == 0 {
		if ok {
			t.Errorf("set %q = %q, want no such key", key, got)
		}
		return
	}
	slices.Sort(want)
	if !ok || !slices.Equal(got, want) {
		t.Errorf("set %q = %q (exists %v), want %q", key, got, ok, want)
	}
}

// arrayValues returns the Values of r.Array.
func arrayValues(r Result) []string {
	out := make([]string, len(r.Array))
	for i, e := range r.Array {
		out[i] = string(e.Value)
	}
	return out
}

// Reference: https://redis.io/docs/latest/commands/sadd/ and
// https://redis.io/docs/latest/commands/srem/ (counts of members added
// and removed; the last member removed deletes the key)
func TestApplySAddSRem(t *testing.T) {
	a := newApplier(t)
	a.run([]step{
		{t0, sadd("s", "b", "a", "b", "c"), Result{Int: 3}},
		{t0, sadd("s", "a", "d"), Result{Int: 1}},
		{t0, sadd("s", "a"), Result{}},
		{t0, Command{Op: OpSRem, Args: strs("s", "a", "x", "a")}, Result{Int: 1}},
		{t0, Command{Op: OpSRem, Args: strs("missing", "a")}, Result{}},
		{t0, set("str", "v"), Result{}},
		{t0, sadd("str", "a"), Result{Err: ErrWrongType}},
		{t0, Command{Op: OpSRem, Args: strs("str", "a")}, Result{Err: ErrWrongType}},
		{t0, sadd("e", ""), Result{Int: 1}}, // the empty member is a member
	})
	wantSet(t, a.f, "s", t0, "b", "c", "d")
	wantSet(t, a.f, "e", t0, "")
	a.wantStored("str", "v", 0)
	a.run([]step{{t0, Command{Op: OpSRem, Args: strs("s", "b", "c", "d")}, Result{Int: 3}}})
	wantSet(t, a.f, "s", t0)
	if _, ok := a.stored("s"); ok {
		t.Errorf("emptied set still has its metadata")
	}
	// A TTL survives SADD and SREM; an expired set is gone for them.
	a.run([]step{
		{t0, sadd("t", "x", "y"), Result{Int: 2}},
		{t0, Command{Op: OpPExpireAt, Args: strs("t"), Int: t0 + 100}, Result{Int: 1}},
		{t0 + 1, sadd("t", "z"), Result{Int: 1}},
		{t0 + 2, Command{Op: OpSRem, Args: strs("t", "x")}, Result{Int: 1}},
	})
	if v, ok := a.stored("t"); !ok || v.expireAt != t0+100 {
		t.Errorf("t after SADD and SREM: deadline %d (exists %v), want %d", v.expireAt, ok, t0+100)
	}
	a.run([]step{{t0 + 100, sadd("t", "w"), Result{Int: 1}}})
	wantSet(t, a.f, "t", t0+100, "w")
	if v, _ := a.stored("t"); v.expireAt != 0 {
		t.Errorf("set re-created after expiry has deadline %d", v.expireAt)
	}
}

// Reference: https://redis.io/docs/latest/commands/smove/ (t_set.c
// smoveCommand: a missing source is 0 whatever the destination is; then
// both must be sets; a move onto the source answers membership)
func TestApplySMove(t *testing.T) {
	a := newApplier(t)
	smove := func(src, dst, m string) Command { return Command{Op: OpSMove, Args: strs(src, dst, m)} }
	a.run([]step{
		{t0, sadd("src", "a", "b"), Result{Int: 2}},
		{t0, set("str", "v"), Result{}},
		{t0, smove("missing", "str", "a"), Result{}},
		{t0, smove("str", "src", "a"), Result{Err: ErrWrongType}},
		{t0, smove("src", "str", "a"), Result{Err: ErrWrongType}},
		{t0, smove("src", "str", "nosuch"), Result{Err: ErrWrongType}},
		{t0, smove("src", "src", "a"), Result{Int: 1}},
		{t0, smove("src", "src", "x"), Result{}},
		{t0, smove("src", "dst", "x"), Result{}},
		{t0, smove("src", "dst", "a"), Result{Int: 1}},
		{t0, sadd("dst", "b"), Result{Int: 1}},
		{t0, Command{Op: OpPExpireAt, Args: strs("dst"), Int: t0 + 1000}, Result{Int: 1}},
		{t0, smove("src", "dst", "b"), Result{Int: 1}}, // already in dst: still moved
	})
	wantSet(t, a.f, "src", t0)
	wantSet(t, a.f, "dst", t0, "a", "b")
	if v, _ := a.stored("dst"); v.expireAt != t0+1000 {
		t.Errorf("dst deadline %d after SMOVE, want %d kept", v.expireAt, t0+1000)
	}
	if _, ok := a.stored("src"); ok {
		t.Errorf("emptied source still has its metadata")
	}
}

// Reference: https://redis.io/docs/latest/commands/spop/ (members removed
// at random; riot draws them from the entry's seed)
func TestApplySPop(t *testing.T) {
	a := newApplier(t)
	a.run([]step{
		{t0, set("str", "v"), Result{}},
		{t0, spop("str", 0, 1), Result{Err: ErrWrongType}},
		{t0, spop("str", 1, 1), Result{Err: ErrWrongType}},
	})
	if r := a.at(t0, spop("missing", 3, 1)); r.Err != nil || len(r.Array) != 0 {
		t.Errorf("SPOP of a missing key = %s %q, want no members", fmtResult(r), arrayValues(r))
	}
	a.at(t0, sadd("s", "a", "b", "c", "d", "e"))
	if r := a.at(t0, spop("s", 0, 1)); r.Err != nil || len(r.Array) != 0 {
		t.Errorf("SPOP count 0 = %s %q, want no members", fmtResult(r), arrayValues(r))
	}
	r := a.at(t0, spop("s", 2, 42))
	popped := arrayValues(r)
	if r.Err != nil || len(popped) != 2 || !slices.IsSorted(popped) || popped[0] == popped[1] {
		t.Fatalf("SPOP 2 = %s %q, want two distinct members in byte order", fmtResult(r), popped)
	}
	left, _ := setMembers(t, a.f, "s", t0)
	if len(left) != 3 || slices.ContainsFunc(popped, func(m string) bool { return slices.Contains(left, m) }) {
		t.Errorf("after SPOP of %q the set is %q", popped, left)
	}
	r = a.at(t0, spop("s", 1<<62, 7)) // more than it has: all of it
	if got := arrayValues(r); r.Err != nil || !slices.Equal(got, left) {
		t.Errorf("SPOP of more than the set = %s %q, want %q", fmtResult(r), got, left)
	}
	wantSet(t, a.f, "s", t0)
}

// TestSPopSameOnEveryReplica: replicas applying the same entries remove
// the same members; over many seeds every member is drawn.
func TestSPopSameOnEveryReplica(t *testing.T) {
	members := make([]string, 50)
	for i := range members {
		members[i] = fmt.Sprintf("m%02d", i)
	}
	a, b := newApplier(t), newApplier(t)
	drawn := map[string]bool{}
	for seed := range uint64(40) {
		key := fmt.Sprint("s", seed)
		for _, ap := range []*applier{a, b} {
			ap.at(t0, sadd(key, members...))
		}
		count := int64(1 + seed%7)
		ra, rb := a.at(t0, spop(key, count, seed)), b.at(t0, spop(key, count, seed))
		if !slices.Equal(arrayValues(ra), arrayValues(rb)) || int64(len(ra.Array)) != count {
			t.Fatalf("seed %d: replicas popped %q and %q, want the same %d members", seed, arrayValues(ra), arrayValues(rb), count)
		}
		la, _ := setMembers(t, a.f, key, t0)
		lb, _ := setMembers(t, b.f, key, t0)
		if !slices.Equal(la, lb) || len(la) != len(members)-int(count) {
			t.Fatalf("seed %d: sets left %q and %q", seed, la, lb)
		}
		for _, m := range arrayValues(ra) {
			drawn[m] = true
		}
	}
	if len(drawn) < len(members)*3/4 {
		t.Errorf("40 pops of up to 7 of 50 members drew only %d distinct members: not random", len(drawn))
	}
}

func TestPickRanks(t *testing.T) {
	r := rand.NewPCG(1, 2)
	for _, tc := range []struct{ size, count int64 }{{1, 1}, {10, 1}, {10, 9}, {10, 10}, {10, 1000}, {1000, 500}, {5, 0}} {
		got := pickRanks(r, tc.size, tc.count)
		if int64(len(got)) != min(tc.size, tc.count) {
			t.Errorf("pickRanks(%d, %d) = %d ranks", tc.size, tc.count, len(got))
		}
		for i, p := range got {
			if p < 0 || p >= tc.size || (i > 0 && p <= got[i-1]) {
				t.Errorf("pickRanks(%d, %d) = %v: not distinct ascending ranks below the size", tc.size, tc.count, got)
				break
			}
		}
	}
}

// TestBelowIsFixed: the draws SPOP makes depend on the seed alone, never
// on the Go release (these values must never change: replicas built by
// different releases apply the same entries).
func TestBelowIsFixed(t *testing.T) {
	r := rand.NewPCG(42, 42)
	var got []uint64
	for _, n := range []uint64{1, 2, 3, 10, 1000, 1 << 40, 1<<64 - 1} {
		got = append(got, below(r, n))
	}
	want := []uint64{0, 0, 1, 5, 957, 293162734197, 4590451638630979257}
	if !slices.Equal(got, want) {
		t.Errorf("below draws %v, want %v", got, want)
	}
}

// Reference: https://redis.io/docs/latest/commands/sinterstore/,
// https://redis.io/docs/latest/commands/sunionstore/ and
// https://redis.io/docs/latest/commands/sdiffstore/ (the result replaces
// the destination whatever its type, TTL included; an empty result
// deletes it; a missing source is an empty set)
func TestApplySetStore(t *testing.T) {
	a := newApplier(t)
	a.run([]step{
		{t0, sadd("a", "1", "2", "3", "x"), Result{Int: 4}},
		{t0, sadd("b", "2", "3", "4"), Result{Int: 3}},
		{t0, sadd("c", "3", "5"), Result{Int: 2}},
		{t0, setStore(OpSInterStore, "i", "a", "b", "c"), Result{Int: 1}},
		{t0, setStore(OpSUnionStore, "u", "a", "b", "c"), Result{Int: 6}},
		{t0, setStore(OpSDiffStore, "d", "a", "b", "c"), Result{Int: 2}},
		{t0, setStore(OpSDiffStore, "d2", "a", "missing"), Result{Int: 4}},
		{t0, setStore(OpSDiffStore, "d3", "missing", "a"), Result{}},
		{t0, setStore(OpSUnionStore, "u2", "missing", "c"), Result{Int: 2}},
	})
	wantSet(t, a.f, "i", t0, "3")
	wantSet(t, a.f, "u", t0, "1", "2", "3", "4", "5", "x")
	wantSet(t, a.f, "d", t0, "1", "x")
	wantSet(t, a.f, "d2", t0, "1", "2", "3", "x")
	wantSet(t, a.f, "d3", t0)
	wantSet(t, a.f, "u2", t0, "3", "5")

	// The destination is replaced whatever it holds; its TTL goes.
	a.run([]step{
		{t0, Command{Op: OpSet, Args: strs("dst", "v"), ExpireAt: t0 + 500}, Result{}},
		{t0, setStore(OpSInterStore, "dst", "a", "b"), Result{Int: 2}},
	})
	wantSet(t, a.f, "dst", t0, "2", "3")
	if v, _ := a.stored("dst"); v.expireAt != 0 {
		t.Errorf("stored set kept the old deadline %d", v.expireAt)
	}
	// An empty result deletes the destination; the destination may be a
	// source.
	a.run([]step{
		{t0, setStore(OpSInterStore, "dst", "a", "missing"), Result{}},
		{t0, setStore(OpSUnionStore, "a", "a", "c"), Result{Int: 5}},
		{t0, setStore(OpSDiffStore, "b", "b", "b"), Result{}},
	})
	wantSet(t, a.f, "dst", t0)
	wantSet(t, a.f, "a", t0, "1", "2", "3", "5", "x")
	wantSet(t, a.f, "b", t0)

	// A source of another type fails the command, which writes nothing,
	// wherever that source is and even after a missing one.
	a.run([]step{
		{t0, set("str", "v"), Result{}},
		{t0, setStore(OpSInterStore, "c", "missing", "str"), Result{Err: ErrWrongType}},
		{t0, setStore(OpSUnionStore, "c", "str", "a"), Result{Err: ErrWrongType}},
		{t0, setStore(OpSDiffStore, "c", "missing", "str"), Result{Err: ErrWrongType}},
	})
	wantSet(t, a.f, "c", t0, "3", "5")
	// A string destination may be a source: WRONGTYPE, untouched.
	a.run([]step{{t0, setStore(OpSUnionStore, "str", "str", "a"), Result{Err: ErrWrongType}}})
	a.wantStored("str", "v", 0)
}

// TestSetOpsInOneEntry: a batch entry applies every command at one index,
// so a set deleted and created again in it reuses the generation; what
// the earlier one held must not leak into the later one.
func TestSetOpsInOneEntry(t *testing.T) {
	f := newFSM(t, memEngine(t))
	batch := []*Command{
		ptr(sadd("s", "old1", "old2")),
		ptr(sadd("d", "gone")),
		ptr(del("s")),
		ptr(sadd("s", "new")),
		ptr(setStore(OpSUnionStore, "d", "d", "s")), // d: gone, new
		ptr(setStore(OpSInterStore, "d", "s", "d")), // d re-created in the entry: new
		ptr(Command{Op: OpSMove, Args: strs("s", "m", "new")}),
		ptr(sadd("s", "again")),
		ptr(spop("m", 1, 3)),
		ptr(sadd("m", "last")),
	}
	res := f.ApplyBatch([]Entry{{Index: 1, Command: true, Data: AppendEncodeBatch(nil, batch)}})
	got, ok := res[0].(BatchResult)
	if !ok || len(got) != len(batch) {
		t.Fatalf("batch response %#v", res[0])
	}
	for i, r := range got {
		if r.Err != nil {
			t.Errorf("command %d (%s): %v", i, batch[i].Op, r.Err)
		}
	}
	if v := arrayValues(got[8]); !slices.Equal(v, []string{"new"}) {
		t.Errorf("SPOP in the entry = %q, want [new]", v)
	}
	wantSet(t, f, "s", 0, "again")
	wantSet(t, f, "d", 0, "new")
	wantSet(t, f, "m", 0, "last")
}

// TestCombineSets: the combinations in byte order; nil sets are empty.
func TestCombineSets(t *testing.T) {
	a := newApplier(t)
	a.at(t0, sadd("a", "c", "a", "b", "d"))
	a.at(t0, sadd("b", "b", "d", "e"))
	a.at(t0, sadd("c", "d"))
	v, release := a.f.View()
	defer release()
	get := func(key string) *Coll {
		c, ok, err := v.Collection([]byte(key), t0, TypeSet)
		if err != nil || !ok {
			t.Fatalf("Collection(%q) = %v, %v", key, ok, err)
		}
		return c
	}
	sa, sb, sc := get("a"), get("b"), get("c")
	for _, tc := range []struct {
		op   SetOp
		sets []*Coll
		want string
	}{
		{SetInter, []*Coll{sa, sb}, "b d"},
		{SetInter, []*Coll{sa, sb, sc}, "d"},
		{SetInter, []*Coll{sa, nil}, ""},
		{SetInter, []*Coll{sa}, "a b c d"},
		{SetUnion, []*Coll{sa, nil, sb}, "a b c d e"},
		{SetUnion, []*Coll{nil}, ""},
		{SetDiff, []*Coll{sa, sb}, "a c"},
		{SetDiff, []*Coll{sa, nil, sc}, "a b c"},
		{SetDiff, []*Coll{nil, sa}, ""},
		{SetDiff, []*Coll{sa, sa}, ""},
	} {
		var got []string
		if err := CombineSets(tc.op, tc.sets, func(m []byte) bool { got = append(got, string(m)); return true }); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("CombineSets(%d, %d sets) = %q, want %q", tc.op, len(tc.sets), got, tc.want)
		}
	}
	// fn returning false stops the walk.
	n := 0
	if err := CombineSets(SetUnion, []*Coll{sa, sb}, func([]byte) bool { n++; return n < 2 }); err != nil || n != 2 {
		t.Errorf("stopped union: %d calls, %v; want 2", n, err)
	}
}

// TestValidateSetOps: what the set ops refuse when proposed or applied.
func TestValidateSetOps(t *testing.T) {
	seed := make([]byte, SPopSeedLen)
	for _, c := range []Command{
		{Op: OpSAdd, Args: strs("k")},
		{Op: OpSRem, Args: strs("k")},
		{Op: OpSMove, Args: strs("a", "b")},
		{Op: OpSMove, Args: strs("a", "b", "c", "d")},
		{Op: OpSPop, Args: strs("k")},
		{Op: OpSPop, Args: [][]byte{[]byte("k"), seed[:7]}},
		{Op: OpSPop, Args: [][]byte{[]byte("k"), seed}, Int: -1},
		{Op: OpSInterStore, Args: strs("dst")},
		{Op: OpSUnionStore, Args: strs("dst")},
		{Op: OpSDiffStore, Args: nil},
	} {
		if err := c.Validate(); !errors.Is(err, ErrBadEntry) {
			t.Errorf("Validate(%s %q Int %d) = %v, want ErrBadEntry", c.Op, c.Args, c.Int, err)
		}
		// Applied anyway (an entry from a misbehaving node): refused,
		// nothing written.
		a := newApplier(t)
		if r := a.at(t0, c); !errors.Is(r.Err, ErrBadEntry) {
			t.Errorf("apply %s %q: %s, want ErrBadEntry", c.Op, c.Args, fmtResult(r))
		}
	}
	for _, c := range []Command{
		sadd("k", "m"), spop("k", 0, 0), {Op: OpSMove, Args: strs("a", "b", "c")}, setStore(OpSDiffStore, "d", "a"),
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%s %q) = %v, want nil", c.Op, c.Args, err)
		}
	}
	for op, name := range map[Op]string{OpSAdd: "sadd", OpSPop: "spop", OpSInterStore: "sinterstore", OpSDiffStore: "sdiffstore"} {
		if op.String() != name {
			t.Errorf("Op(%d).String() = %q, want %q", op, op.String(), name)
		}
	}
}

// TestSetReCreatedAfterDel: DEL of a set removes its metadata only; a set
// created again at the key sees none of the old members.
func TestSetReCreatedAfterDel(t *testing.T) {
	a := newApplier(t)
	a.at(t0, sadd("s", "a", "b", "c"))
	a.at(t0, del("s"))
	wantSet(t, a.f, "s", t0)
	a.at(t0, sadd("s", "d"))
	wantSet(t, a.f, "s", t0, "d")
}

// TestSetOpsModel applies random set ops (and DEL and SET on the same
// keys) and checks every result and every key against a model: a map of
// members per key, or a string.
func TestSetOpsModel(t *testing.T) {
	a := newApplier(t)
	r := rand.New(rand.NewPCG(5, 6))
	sets := map[string]map[string]bool{}
	strKeys := map[string]bool{}
	keys := []string{"k0", "k1", "k2", "k3"}
	key := func() string { return keys[r.IntN(len(keys))] }
	member := func() string { return fmt.Sprint("m", r.IntN(6)) }
	sorted := func(s map[string]bool) []string {
		out := make([]string, 0, len(s))
		for m := range s {
			out = append(out, m)
		}
		slices.Sort(out)
		return out
	}
	wrongType := func(ks ...string) bool { return slices.ContainsFunc(ks, func(k string) bool { return strKeys[k] }) }
	for i := range 800 {
		var c Command
		var want Result
		switch op := r.IntN(9); op {
		case 0, 1:
			k, ms := key(), []string{member(), member()}
			c = sadd(k, ms...)
			if wrongType(k) {
				want.Err = ErrWrongType
				break
			}
			if sets[k] == nil {
				sets[k] = map[string]bool{}
			}
			for _, m := range ms {
				if !sets[k][m] {
					sets[k][m] = true
					want.Int++
				}
			}
		case 2:
			k, m := key(), member()
			c = Command{Op: OpSRem, Args: strs(k, m)}
			if wrongType(k) {
				want.Err = ErrWrongType
				break
			}
			if sets[k][m] {
				delete(sets[k], m)
				want.Int = 1
			}
		case 3:
			src, dst, m := key(), key(), member()
			c = Command{Op: OpSMove, Args: strs(src, dst, m)}
			switch {
			case sets[src] == nil && !strKeys[src]:
			case wrongType(src, dst):
				want.Err = ErrWrongType
			case sets[src][m]:
				want.Int = 1
				delete(sets[src], m)
				if sets[dst] == nil {
					sets[dst] = map[string]bool{}
				}
				sets[dst][m] = true
			}
		case 4:
			k, n := key(), int64(r.IntN(4))
			c = spop(k, n, r.Uint64())
			if wrongType(k) {
				want.Err = ErrWrongType
				break
			}
			got := a.at(t0, c)
			if got.Err != nil || len(got.Array) != min(int(n), len(sets[k])) {
				t.Fatalf("step %d: SPOP %s %d of %q = %s %q", i, k, n, sorted(sets[k]), fmtResult(got), arrayValues(got))
			}
			for _, m := range arrayValues(got) {
				if !sets[k][m] {
					t.Fatalf("step %d: SPOP %s popped %q, not in %q", i, k, m, sorted(sets[k]))
				}
				delete(sets[k], m)
			}
			c.Op = 0
		case 5, 6:
			op := []Op{OpSInterStore, OpSUnionStore, OpSDiffStore}[r.IntN(3)]
			dst, srcs := key(), []string{key(), key()}
			c = setStore(op, dst, srcs...)
			if wrongType(srcs...) {
				want.Err = ErrWrongType
				break
			}
			res := map[string]bool{}
			for m := range sets[srcs[0]] {
				in1 := sets[srcs[1]][m]
				if op == OpSUnionStore || (op == OpSInterStore) == in1 {
					res[m] = true
				}
			}
			if op == OpSUnionStore {
				for m := range sets[srcs[1]] {
					res[m] = true
				}
			}
			delete(strKeys, dst)
			sets[dst] = res
			want.Int = int64(len(res))
		case 7:
			k := key()
			c = del(k)
			if strKeys[k] || len(sets[k]) > 0 {
				want.Int = 1
			}
			delete(strKeys, k)
			delete(sets, k)
		case 8:
			k := key()
			c = set(k, "v")
			strKeys[k] = true
			delete(sets, k)
		}
		if c.Op != 0 {
			if got := a.at(t0, c); !sameResult(got, want) {
				t.Fatalf("step %d: %s %q = %s, want %s", i, c.Op, c.Args, fmtResult(got), fmtResult(want))
			}
		}
		for _, k := range keys {
			if len(sets[k]) == 0 {
				delete(sets, k)
			}
			if !strKeys[k] {
				if got, _ := setMembers(t, a.f, k, t0); !slices.Equal(got, sorted(sets[k])) {
					t.Fatalf("step %d: %s %q: set %s = %q, want %q", i, c.Op, c.Args, k, got, sorted(sets[k]))
				}
			}
		}
	}
}
