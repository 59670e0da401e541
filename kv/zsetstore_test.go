package kv

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// The combinations' inputs are planted through a transaction (newColl,
// putMember, putElem), so that these tests need no other family's ops.

// zm is a sorted set member and its score.
type zm struct {
	m string
	s float64
}

func (z zm) String() string { return fmt.Sprintf("%s:%v", z.m, z.s) }

// plant stores a collection of type typ at key with deadline expireAt, as
// one log entry: a sorted set's members with their scores, a set's or a
// hash's members (a hash's values are "v").
func (a *applier) plant(key string, typ byte, expireAt int64, members ...zm) {
	a.t.Helper()
	a.idx++
	tx := newTxn(a.eng, a.f.clock.Load(), a.f.volatile)
	tx.index = a.idx
	tx.begin(&Command{})
	c := tx.newColl([]byte(key), typ, expireAt)
	for _, m := range members {
		switch typ {
		case typeZSet:
			tx.putMember(c, []byte(m.m), m.s, 0, false)
		case typeHash:
			tx.putElem(c, []byte(m.m), []byte("v"))
		default:
			tx.putElem(c, []byte(m.m), nil)
		}
		c.size++
	}
	if err := tx.saveColl(c); err != nil {
		a.t.Fatalf("plant %q: %v", key, err)
	}
	if err := a.f.commit(tx, a.idx); err != nil {
		a.t.Fatalf("plant %q: %v", key, err)
	}
}

func (a *applier) plantZ(key string, members ...zm) { a.plant(key, typeZSet, 0, members...) }

func (a *applier) plantSet(key string, members ...string) {
	a.t.Helper()
	zs := make([]zm, len(members))
	for i, m := range members {
		zs[i] = zm{m: m}
	}
	a.plant(key, typeSet, 0, zs...)
}

// zset returns the sorted set at key in score order (nil: no such key),
// after checking that its score index, its elements and its size agree.
func (a *applier) zset(key string) []zm {
	a.t.Helper()
	v, release := a.f.View()
	defer release()
	c, ok, err := v.Collection([]byte(key), t0, TypeZSet)
	if err != nil {
		a.t.Fatalf("zset %q: %v", key, err)
	}
	if !ok {
		return nil
	}
	var byScore []zm
	if err := c.ScanScores(nil, false, func(s float64, m []byte) bool {
		byScore = append(byScore, zm{string(m), s})
		return true
	}); err != nil {
		a.t.Fatal(err)
	}
	scores := map[string]float64{}
	if err := c.Scan(nil, false, func(m, val []byte) bool {
		s, err := DecodeScore(val)
		if err != nil {
			a.t.Fatalf("score of %q in %q: %v", m, key, err)
		}
		scores[string(m)] = s
		return true
	}); err != nil {
		a.t.Fatal(err)
	}
	if len(scores) != len(byScore) || int64(len(scores)) != c.Len() {
		a.t.Fatalf("zset %q: %d elements, %d index records, size %d", key, len(scores), len(byScore), c.Len())
	}
	for i, z := range byScore {
		s, ok := scores[z.m]
		if !ok || s != z.s {
			a.t.Fatalf("zset %q: member %q indexed at %v, element %v (%v)", key, z.m, z.s, s, ok)
		}
		byScore[i].s = s // the element's score keeps the sign of a zero
	}
	return byScore
}

// wantZSet fails unless key holds exactly want, in this order (a -0 score
// must be -0).
func (a *applier) wantZSet(key string, want ...zm) {
	a.t.Helper()
	got := a.zset(key)
	if !sameMembers(got, want) {
		a.t.Errorf("zset %q = %v, want %v", key, got, want)
	}
	if len(want) > 0 {
		if v, _ := a.stored(key); v.expireAt != 0 {
			a.t.Errorf("zset %q has deadline %d, want none", key, v.expireAt)
		}
	}
}

func sameMembers(got, want []zm) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].m != want[i].m || math.Float64bits(got[i].s) != math.Float64bits(want[i].s) {
			return false
		}
	}
	return true
}

// zstore builds OpZStore: dst, the sources, then the options: "weights"
// followed by one weight per source, "min", "max", "fail-syntax",
// "fail-weight".
func zstore(kind int64, dst string, srcs []string, opts ...string) Command {
	c := Command{Op: OpZStore, Int: kind, Args: strs(append([]string{dst}, srcs...)...)}
	for i := 0; i < len(opts); i++ {
		switch opts[i] {
		case "weights":
			c.Int |= CombineWeights
			c.Args = append(c.Args, strs(opts[i+1:i+1+len(srcs)]...)...)
			i += len(srcs)
		case "min":
			c.Int |= CombineMin
		case "max":
			c.Int |= CombineMax
		case "fail-syntax":
			c.Int |= CombineFailSyntax
		case "fail-weight":
			c.Int |= CombineFailWeight
		}
	}
	return c
}

func keys(k ...string) []string { return k }

var inf = math.Inf(1)

// plantInputs plants the inputs of the tests below:
//
//	a    zset x 1, y 2, z 3
//	b    zset y 10, w 20
//	s    set  x, w, q
//	pinf zset p inf, q -inf, r 0
//	dinf zset p -inf, q -inf, r inf
//	str  a string
func plantInputs(a *applier) {
	a.plantZ("a", zm{"x", 1}, zm{"y", 2}, zm{"z", 3})
	a.plantZ("b", zm{"y", 10}, zm{"w", 20})
	a.plantSet("s", "x", "w", "q")
	a.plantZ("pinf", zm{"p", inf}, zm{"q", -inf}, zm{"r", 0})
	a.plantZ("dinf", zm{"p", -inf}, zm{"q", -inf}, zm{"r", inf})
	a.at(t0, set("str", "v"))
}

// Reference: https://redis.io/docs/latest/commands/zunionstore/,
// zinterstore/ and zdiffstore/ (t_zset.c zunionInterDiffGenericCommand;
// the expected scores were checked against redis-server 7.0)
func TestApplyZStoreCombinations(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		want []zm
	}{
		{"union", zstore(CombineUnion, "d", keys("a", "b")), []zm{{"x", 1}, {"z", 3}, {"y", 12}, {"w", 20}}},
		{"union weights", zstore(CombineUnion, "d", keys("a", "b"), "weights", "1", "2"), []zm{{"x", 1}, {"z", 3}, {"y", 22}, {"w", 40}}},
		{"union weights hex and inf", zstore(CombineUnion, "d", keys("a", "b"), "weights", "0x1p1", "-inf"), []zm{{"w", -inf}, {"y", -inf}, {"x", 2}, {"z", 6}}},
		{"union min", zstore(CombineUnion, "d", keys("a", "b"), "min"), []zm{{"x", 1}, {"y", 2}, {"z", 3}, {"w", 20}}},
		{"union max", zstore(CombineUnion, "d", keys("a", "b"), "max"), []zm{{"x", 1}, {"z", 3}, {"y", 10}, {"w", 20}}},
		{"union with a set", zstore(CombineUnion, "d", keys("a", "s")), []zm{{"q", 1}, {"w", 1}, {"x", 2}, {"y", 2}, {"z", 3}}},
		{"union set weighted", zstore(CombineUnion, "d", keys("s"), "weights", "2.5"), []zm{{"q", 2.5}, {"w", 2.5}, {"x", 2.5}}},
		{"union missing key", zstore(CombineUnion, "d", keys("none", "a")), []zm{{"x", 1}, {"y", 2}, {"z", 3}}},
		{"union same key twice", zstore(CombineUnion, "d", keys("a", "a")), []zm{{"x", 2}, {"y", 4}, {"z", 6}}},
		{"union all missing", zstore(CombineUnion, "d", keys("none", "none2")), nil},
		{"union inf plus -inf is 0", zstore(CombineUnion, "d", keys("pinf", "dinf")), []zm{{"q", -inf}, {"p", 0}, {"r", inf}}},
		{"union weight 0 times inf is 0", zstore(CombineUnion, "d", keys("pinf"), "weights", "0"), []zm{{"p", 0}, {"q", 0}, {"r", 0}}},
		{"union weight -1 stores -0 as 0", zstore(CombineUnion, "d", keys("pinf"), "weights", "-1"), []zm{{"p", -inf}, {"r", 0}, {"q", inf}}},
		{"union min with NaN products", zstore(CombineUnion, "d", keys("pinf", "dinf"), "weights", "1", "0", "min"), []zm{{"q", -inf}, {"p", 0}, {"r", 0}}},
		{"inter", zstore(CombineInter, "d", keys("a", "b")), []zm{{"y", 12}}},
		{"inter with a set", zstore(CombineInter, "d", keys("a", "s")), []zm{{"x", 2}}},
		{"inter weights max", zstore(CombineInter, "d", keys("a", "s"), "weights", "3", "5", "max"), []zm{{"x", 5}}},
		{"inter empty", zstore(CombineInter, "d", keys("a", "b", "s")), nil},
		{"inter missing key", zstore(CombineInter, "d", keys("a", "none")), nil},
		{"inter same key twice", zstore(CombineInter, "d", keys("b", "b"), "weights", "1", "-1"), []zm{{"w", 0}, {"y", 0}}},
		{"inter NaN products sum to 0", zstore(CombineInter, "d", keys("pinf", "dinf"), "weights", "1", "0"), []zm{{"p", 0}, {"q", 0}, {"r", 0}}},
		{"inter NaN products and min", zstore(CombineInter, "d", keys("pinf", "dinf"), "weights", "1", "0", "min"), []zm{{"q", -inf}, {"r", 0}, {"p", inf}}},
		{"diff", zstore(CombineDiff, "d", keys("a", "b")), []zm{{"x", 1}, {"z", 3}}},
		{"diff with a set", zstore(CombineDiff, "d", keys("a", "s")), []zm{{"y", 2}, {"z", 3}}},
		{"diff of a set", zstore(CombineDiff, "d", keys("s", "a")), []zm{{"q", 1}, {"w", 1}}},
		{"diff missing others", zstore(CombineDiff, "d", keys("a", "none")), []zm{{"x", 1}, {"y", 2}, {"z", 3}}},
		{"diff missing first", zstore(CombineDiff, "d", keys("none", "a")), nil},
		{"diff of itself", zstore(CombineDiff, "d", keys("a", "a")), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApplier(t)
			plantInputs(a)
			a.at(t0, set("d", "old"))
			got := a.at(t0, tt.cmd)
			if got.Err != nil || got.Int != int64(len(tt.want)) {
				t.Fatalf("%s %q = %s, want Int %d", tt.cmd.Op, tt.cmd.Args, fmtResult(got), len(tt.want))
			}
			if tt.want == nil {
				a.wantGone("d")
				return
			}
			a.wantZSet("d", tt.want...)
			a.wantZSet("a", zm{"x", 1}, zm{"y", 2}, zm{"z", 3}) // sources unchanged
		})
	}
}

// Redis sorts the sources of a union or an intersection by size before
// aggregating (stably, as glibc's merge sort does), which decides how a
// sum of floats rounds: 1e16 + 1 + 1 is 1e16, 1 + 1 + 1e16 is not.
func TestApplyZStoreSumOrder(t *testing.T) {
	a := newApplier(t)
	a.plantZ("b3", zm{"m", 1e16}, zm{"n", 1}, zm{"o", 2})
	a.plantZ("c2", zm{"m", 1}, zm{"x", 5})
	a.plantZ("a1", zm{"m", 1})
	for _, kind := range []int64{CombineUnion, CombineInter} {
		if r := a.at(t0, zstore(kind, "d", keys("b3", "c2", "a1"))); r.Err != nil {
			t.Fatal(r.Err)
		}
		got := a.zset("d")
		last := got[len(got)-1]
		if last.m != "m" || last.s != 10000000000000002 {
			t.Errorf("kind %d: %v, want m scored 10000000000000002 last", kind, got)
		}
	}
}

func TestApplyZStoreDestination(t *testing.T) {
	t.Run("wrongtype source writes nothing", func(t *testing.T) {
		a := newApplier(t)
		plantInputs(a)
		a.at(t0, set("d", "old"))
		for _, c := range []Command{
			zstore(CombineUnion, "d", keys("a", "str")),
			zstore(CombineInter, "d", keys("none", "str")), // Redis looks every key up
			zstore(CombineDiff, "d", keys("none", "str")),
			zstore(CombineUnion, "d", keys("str"), "fail-syntax"),
			zstore(CombineUnion, "d", keys("a", "str"), "fail-weight"),
		} {
			if r := a.at(t0, c); !errors.Is(r.Err, ErrWrongType) {
				t.Errorf("%q Int %#x = %s, want WRONGTYPE", c.Args, c.Int, fmtResult(r))
			}
		}
		a.plant("h", typeHash, 0, zm{m: "f"})
		if r := a.at(t0, zstore(CombineUnion, "d", keys("h"))); !errors.Is(r.Err, ErrWrongType) {
			t.Errorf("hash source = %s, want WRONGTYPE", fmtResult(r))
		}
		a.wantStored("d", "old", 0)
	})
	t.Run("option errors after the lookups", func(t *testing.T) {
		a := newApplier(t)
		plantInputs(a)
		a.at(t0, set("d", "old"))
		for _, tt := range []struct {
			c    Command
			want string
		}{
			{zstore(CombineUnion, "d", keys("a", "none"), "fail-syntax"), "ERR syntax error"},
			{zstore(CombineDiff, "d", keys("a"), "fail-syntax"), "ERR syntax error"},
			{zstore(CombineInter, "d", keys("a", "s"), "fail-weight"), "ERR weight value is not a float"},
		} {
			r := a.at(t0, tt.c)
			var re ReplyError
			if !errors.As(r.Err, &re) || string(re) != tt.want {
				t.Errorf("%q Int %#x = %s, want %q", tt.c.Args, tt.c.Int, fmtResult(r), tt.want)
			}
		}
		a.wantStored("d", "old", 0)
	})
	t.Run("overwrites any type and the deadline", func(t *testing.T) {
		a := newApplier(t)
		plantInputs(a)
		a.plant("h", typeHash, 0, zm{m: "f"}, zm{m: "g"})
		a.plant("sd", typeSet, t0+60_000, zm{m: "k"})
		a.at(t0, Command{Op: OpSet, Args: strs("str2", "v"), ExpireAt: t0 + 60_000})
		for _, dst := range []string{"h", "sd", "str2", "b"} {
			if r := a.at(t0, zstore(CombineUnion, dst, keys("a"))); r.Err != nil || r.Int != 3 {
				t.Fatalf("onto %q: %s", dst, fmtResult(r))
			}
			a.wantZSet(dst, zm{"x", 1}, zm{"y", 2}, zm{"z", 3})
		}
	})
	t.Run("an empty result deletes the destination", func(t *testing.T) {
		a := newApplier(t)
		plantInputs(a)
		a.plant("h", typeHash, 0, zm{m: "f"})
		for _, dst := range []string{"h", "str", "b", "none"} {
			if r := a.at(t0, zstore(CombineInter, dst, keys("a", "none"))); r.Err != nil || r.Int != 0 {
				t.Fatalf("onto %q: %s", dst, fmtResult(r))
			}
			a.wantGone(dst)
		}
	})
	t.Run("destination among the sources", func(t *testing.T) {
		a := newApplier(t)
		plantInputs(a)
		a.at(t0, zstore(CombineUnion, "a", keys("a", "b", "a")))
		a.wantZSet("a", zm{"x", 2}, zm{"z", 6}, zm{"y", 14}, zm{"w", 20})
		a.at(t0, zstore(CombineDiff, "b", keys("b", "a")))
		a.wantGone("b")
		a.at(t0, zstore(CombineInter, "s", keys("s", "a"), "weights", "1", "0.5"))
		a.wantZSet("s", zm{"x", 2}, zm{"w", 11})
	})
	t.Run("expired keys are missing", func(t *testing.T) {
		a := newApplier(t)
		a.plant("old", typeZSet, t0+10, zm{"x", 1})
		a.plantZ("b", zm{"x", 5})
		a.at(t0+20, zstore(CombineUnion, "d", keys("old", "b")))
		a.wantZSet("d", zm{"x", 5})
		a.at(t0+20, zstore(CombineInter, "d", keys("old", "b")))
		a.wantGone("d")
		a.wantGone("old")
	})
	t.Run("twice in one entry", func(t *testing.T) {
		a := newApplier(t)
		plantInputs(a)
		c1, c2 := zstore(CombineUnion, "d", keys("a", "b")), zstore(CombineDiff, "d", keys("b", "a"))
		c3 := zstore(CombineUnion, "e", keys("d", "s"))
		r := a.at(t0, *NewMulti(nil, []*Command{&c1, &c2, &c3}))
		if r.Err != nil || len(r.Array) != 3 || r.Array[0].Int != 4 || r.Array[1].Int != 1 || r.Array[2].Int != 3 {
			t.Fatalf("transaction = %s %v", fmtResult(r), r.Array)
		}
		a.wantZSet("d", zm{"w", 20})
		a.wantZSet("e", zm{"q", 1}, zm{"x", 1}, zm{"w", 21})
	})
}

func TestZStoreValidate(t *testing.T) {
	for _, c := range []Command{
		{Op: OpZStore, Args: strs("d")},
		{Op: OpZStore, Args: strs("d", "a")},
		{Op: OpZStore, Args: strs("d", "a"), Int: CombineUnion | 1<<8},
		{Op: OpZStore, Args: strs("d", "a"), Int: CombineUnion | combineAggregate},
		{Op: OpZStore, Args: strs("d", "a"), Int: CombineUnion | combineFail},
		{Op: OpZStore, Args: strs("d", "a", "b"), Int: CombineDiff | CombineMin},
		{Op: OpZStore, Args: strs("d", "a", "1"), Int: CombineDiff | CombineWeights},
		{Op: OpZStore, Args: strs("d", "a", "b", "1"), Int: CombineUnion | CombineWeights},
		{Op: OpZStore, Args: strs("d", "a", "x"), Int: CombineUnion | CombineWeights},
		{Op: OpZStore, Args: strs("d", "a", "nan"), Int: CombineUnion | CombineWeights},
		{Op: OpZStore, Args: strs("d", "a", "1"), Int: CombineUnion | CombineWeights | CombineFailSyntax},
		{Op: OpZStore, Args: strs("d", "a"), Int: CombineUnion | CombineMax | CombineFailWeight},
		{Op: OpZStore, Args: strs("d", "a"), Int: -1},
	} {
		if err := c.Validate(); !errors.Is(err, ErrBadEntry) {
			t.Errorf("Validate(%q Int %#x) = %v, want ErrBadEntry", c.Args, c.Int, err)
		}
	}
	for _, c := range []Command{
		zstore(CombineUnion, "d", keys("a")),
		zstore(CombineInter, "d", keys("a", "b"), "weights", "1", "-inf", "max"),
		zstore(CombineDiff, "d", keys("a", "b"), "fail-syntax"),
		zstore(CombineInter, "d", keys("a"), "fail-weight"),
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%q Int %#x) = %v", c.Args, c.Int, err)
		}
	}
}

// The reads (ZUNION, ZINTER, ZDIFF, ZINTERCARD) combine over a View.
func TestZCombineView(t *testing.T) {
	a := newApplier(t)
	plantInputs(a)
	a.plantSet("s2", "x", "w", "q", "r")
	v, release := a.f.View()
	defer release()
	sources := func(ks ...string) []*Coll {
		t.Helper()
		out := make([]*Coll, len(ks))
		for i, k := range ks {
			c, err := v.CombineSource([]byte(k), t0)
			if err != nil {
				t.Fatalf("CombineSource(%q): %v", k, err)
			}
			out[i] = c
		}
		return out
	}
	if _, err := v.CombineSource([]byte("str"), t0); !errors.Is(err, ErrWrongType) {
		t.Errorf("CombineSource(str) = %v, want WRONGTYPE", err)
	}
	show := func(ms []ZMember) string {
		var b strings.Builder
		for _, m := range ms {
			fmt.Fprintf(&b, "%s:%v ", m.Member, m.Score)
		}
		return b.String()
	}
	for _, tt := range []struct {
		z    ZCombination
		srcs []string
		want string
	}{
		{ZCombination{Kind: CombineUnion, Weights: []float64{1, 2}}, keys("a", "b"), "x:1 z:3 y:22 w:40 "},
		{ZCombination{Kind: CombineInter, Aggregate: CombineMin}, keys("s2", "s"), "q:1 w:1 x:1 "},
		{ZCombination{Kind: CombineInter}, keys("s2", "none"), ""},
		{ZCombination{Kind: CombineDiff}, keys("s2", "s"), "r:1 "},
		{ZCombination{Kind: CombineUnion}, keys("pinf", "dinf"), "q:-Inf p:0 r:+Inf "},
	} {
		ms, err := tt.z.Members(sources(tt.srcs...))
		if got := show(ms); err != nil || got != tt.want {
			t.Errorf("%+v of %q = %q, %v; want %q", tt.z, tt.srcs, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		srcs  []string
		limit int64
		want  int64
	}{
		{keys("s2", "s"), 0, 3}, {keys("s2", "s"), 2, 2}, {keys("s2", "s"), 3, 3}, {keys("s2", "s"), 9, 3},
		{keys("a", "s"), 0, 1}, {keys("a", "none"), 0, 0}, {keys("a"), 1, 1}, {keys("b", "a", "s"), 0, 0},
	} {
		n, err := ZInterCard(sources(tt.srcs...), tt.limit)
		if err != nil || n != tt.want {
			t.Errorf("ZInterCard(%q, %d) = %d, %v; want %d", tt.srcs, tt.limit, n, err, tt.want)
		}
	}
}

// Random OpZStore entries, valid or not: Validate refuses the bad ones
// (nothing panics), and two replicas applying the same entries hold the
// same records.
func TestApplyZStoreRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	replicas := []*applier{newApplier(t), newApplier(t)}
	for _, a := range replicas {
		plantInputs(a)
		big := make([]zm, 300)
		for i := range big {
			big[i] = zm{fmt.Sprintf("m%03d", i), float64(i%7) - 3}
		}
		a.plantZ("big", big...)
		a.plantSet("bigs", "m001", "m002", "m150", "x", "y")
	}
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	applied, stored := 0, 0
	for range 300 {
		c := Command{Op: OpZStore, Int: int64(1 + r.IntN(3))}
		switch r.IntN(8) {
		case 0:
			c.Int = int64(r.IntN(1 << 8)) // anything
		case 1:
			c.Int |= int64(1+r.IntN(2)) << 5 // an option error
		default:
			if c.Int != CombineDiff {
				c.Int |= int64(r.IntN(3)<<2) | int64(r.IntN(2)<<4)
			}
		}
		n := 1 + r.IntN(4)
		c.Args = append(c.Args, []byte(pick("d", "a", "s", "big", "str")))
		for range n {
			c.Args = append(c.Args, []byte(pick("a", "b", "s", "pinf", "dinf", "big", "bigs", "str", "none", "d")))
		}
		if c.Int&CombineWeights != 0 && r.IntN(10) > 0 {
			for range n {
				c.Args = append(c.Args, []byte(pick("1", "-1", "0", "0.5", "inf", "-inf", "1e300", "x")))
			}
		}
		if c.Validate() != nil {
			continue
		}
		applied++
		r0, r1 := replicas[0].at(t0, c), replicas[1].at(t0, c)
		if !sameResult(r0, r1) {
			t.Fatalf("%q Int %#x: %s and %s", c.Args, c.Int, fmtResult(r0), fmtResult(r1))
		}
		if r0.Int > 0 {
			stored++
		}
	}
	if applied < 50 || stored < 20 {
		t.Fatalf("%d valid entries, %d stored a result: too few to tell", applied, stored)
	}
	d0, d1 := dump(t, replicas[0].eng), dump(t, replicas[1].eng)
	if len(d0) != len(d1) {
		t.Fatalf("replicas hold %d and %d records", len(d0), len(d1))
	}
	for k, v := range d0 {
		if d1[k] != v {
			t.Fatalf("record %q: %q and %q", k, v, d1[k])
		}
	}
	for _, k := range []string{"d", "a", "s", "big"} {
		replicas[0].zset(k) // elements, index and size agree
	}
}
