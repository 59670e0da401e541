package kv

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/riotkv/riot/storage"
)

// Sorted sets at the apply level. Reference for every expectation:
// t_zset.c of Redis 7.0 (zaddGenericCommand, genericZpopCommand,
// zremrangeGenericCommand, zrangeGenericCommand), and the differential
// test resp/diff_zset_test.go for the replies.

func zcmd(op Op, flags int64, args ...string) Command {
	return Command{Op: op, Int: flags, Args: strs(args...)}
}

func zadd(flags int64, key string, pairs ...string) Command {
	return zcmd(OpZAdd, flags, append([]string{key}, pairs...)...)
}

// zmembers reads key's sorted set as "member:score" words in score order,
// after checking that its 's' and 'z' records agree with each other and
// with the size in its metadata. A missing key is "".
func zmembers(t *testing.T, a *applier, key string) string {
	t.Helper()
	v, release := a.f.View()
	defer release()
	z, ok, err := v.Collection([]byte(key), a.f.Clock(), TypeZSet)
	if err != nil {
		t.Fatalf("Collection(%q): %v", key, err)
	}
	if !ok {
		return ""
	}
	var words []string
	var n int64
	err = z.ScanScores(nil, false, func(score float64, member []byte) bool {
		n++
		stored, ok, err := z.Score(member)
		if err != nil || !ok || normScore(stored) != score {
			t.Errorf("%q: member %q at %v in the score index, %v (ok %v, err %v) in its record", key, member, score, stored, ok, err)
		}
		if stored == 0 && math.Signbit(stored) {
			t.Errorf("%q: member %q stored with score -0", key, member)
		}
		words = append(words, fmt.Sprintf("%s:%g", member, score))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	var elems int64
	if err := z.Scan(nil, false, func(_, _ []byte) bool { elems++; return true }); err != nil {
		t.Fatal(err)
	}
	if n != z.Len() || elems != z.Len() {
		t.Errorf("%q: size %d, %d score records, %d member records", key, z.Len(), n, elems)
	}
	return strings.Join(words, " ")
}

func wantZ(t *testing.T, a *applier, key, want string) {
	t.Helper()
	if got := zmembers(t, a, key); got != want {
		t.Errorf("%s = %q, want %q", key, got, want)
	}
}

func wantInt(t *testing.T, what string, r Result, want int64) {
	t.Helper()
	if r.Err != nil || r.Int != want || r.Null {
		t.Errorf("%s = %+v, want %d", what, r, want)
	}
}

func wantScore(t *testing.T, what string, r Result, want float64) {
	t.Helper()
	f, err := DecodeScore(r.Value)
	if r.Err != nil || r.Null || err != nil || math.Float64bits(f) != math.Float64bits(want) {
		t.Errorf("%s = %+v (score %v, %v), want %v", what, r, f, err, want)
	}
}

// Reference: https://redis.io/docs/latest/commands/zadd/
func TestZAddOptions(t *testing.T) {
	a := newApplier(t)
	wantInt(t, "ZADD", a.at(1, zadd(0, "z", "1", "a", "2", "b", "3", "c")), 3)
	wantInt(t, "ZADD again", a.at(1, zadd(0, "z", "1", "a", "5", "b")), 0)
	wantInt(t, "ZADD CH", a.at(1, zadd(ZAddCH, "z", "1", "a", "6", "b", "7", "d")), 2)
	wantZ(t, a, "z", "a:1 c:3 b:6 d:7")
	wantInt(t, "ZADD NX", a.at(1, zadd(ZAddNX, "z", "10", "a", "4", "e")), 1)
	wantInt(t, "ZADD XX CH", a.at(1, zadd(ZAddXX|ZAddCH, "z", "10", "a", "4", "f")), 1)
	wantZ(t, a, "z", "c:3 e:4 b:6 d:7 a:10")
	wantInt(t, "ZADD GT lower", a.at(1, zadd(ZAddGT|ZAddCH, "z", "1", "a")), 0)
	wantInt(t, "ZADD GT higher", a.at(1, zadd(ZAddGT|ZAddCH, "z", "11", "a")), 1)
	wantInt(t, "ZADD LT higher", a.at(1, zadd(ZAddLT|ZAddCH, "z", "12", "a")), 0)
	wantInt(t, "ZADD LT new", a.at(1, zadd(ZAddLT, "z", "100", "g")), 1)
	wantInt(t, "ZADD same score CH", a.at(1, zadd(ZAddCH, "z", "100", "g")), 0)
	wantInt(t, "ZADD duplicate member", a.at(1, zadd(ZAddCH, "z", "1", "h", "2", "h")), 2)
	wantZ(t, a, "z", "h:2 c:3 e:4 b:6 d:7 a:11 g:100")
	wantInt(t, "ZADD XX on a missing key", a.at(1, zadd(ZAddXX, "nosuch", "1", "a")), 0)
	wantZ(t, a, "nosuch", "")
	if _, ok := a.stored("nosuch"); ok {
		t.Error("ZADD XX created a key")
	}
}

// Reference: https://redis.io/docs/latest/commands/zincrby/ (and ZADD INCR:
// null when the member is left alone, an error for a NaN result)
func TestZAddIncr(t *testing.T) {
	a := newApplier(t)
	wantScore(t, "ZINCRBY new", a.at(1, zadd(ZAddIncr, "z", "2.5", "a")), 2.5)
	wantScore(t, "ZINCRBY", a.at(1, zadd(ZAddIncr, "z", "-1", "a")), 1.5)
	if r := a.at(1, zadd(ZAddIncr|ZAddNX, "z", "1", "a")); !r.Null || r.Err != nil {
		t.Errorf("ZADD NX INCR of a member = %+v, want null", r)
	}
	if r := a.at(1, zadd(ZAddIncr|ZAddGT, "z", "-1", "a")); !r.Null {
		t.Errorf("ZADD GT INCR lowering = %+v, want null", r)
	}
	if r := a.at(1, zadd(ZAddIncr|ZAddXX, "z", "1", "b")); !r.Null {
		t.Errorf("ZADD XX INCR of a new member = %+v, want null", r)
	}
	wantScore(t, "ZINCRBY inf", a.at(1, zadd(ZAddIncr, "z", "inf", "a")), math.Inf(1))
	if r := a.at(1, zadd(ZAddIncr, "z", "-inf", "a")); r.Err == nil || r.Err.Error() != "ERR resulting score is not a number (NaN)" {
		t.Errorf("inf + -inf = %+v, want the NaN error", r)
	}
	wantZ(t, a, "z", "a:+Inf")
	// The reply keeps the computed -0; the set stores 0.
	wantScore(t, "ZINCRBY -0 new", a.at(1, zadd(ZAddIncr, "z", "-0", "m")), math.Copysign(0, -1))
	wantZ(t, a, "z", "m:0 a:+Inf")
}

func TestZAddNegativeZero(t *testing.T) {
	a := newApplier(t)
	wantInt(t, "ZADD -0", a.at(1, zadd(0, "z", "-0", "a", "0", "b", "-1", "c")), 3)
	wantZ(t, a, "z", "c:-1 a:0 b:0")
	wantInt(t, "ZADD CH 0 over 0", a.at(1, zadd(ZAddCH, "z", "-0", "b")), 0)
}

// Reference: https://redis.io/docs/latest/commands/zrem/
func TestZRem(t *testing.T) {
	a := newApplier(t)
	a.at(1, zadd(0, "z", "1", "a", "2", "b", "3", "c"))
	wantInt(t, "ZREM", a.at(1, zcmd(OpZRem, 0, "z", "a", "nosuch", "a")), 1)
	wantInt(t, "ZREM missing key", a.at(1, zcmd(OpZRem, 0, "nosuch", "a")), 0)
	wantInt(t, "ZREM the rest", a.at(1, zcmd(OpZRem, 0, "z", "b", "c")), 2)
	if _, ok := a.stored("z"); ok {
		t.Error("an emptied sorted set is still stored")
	}
	a.at(1, set("s", "v"))
	if r := a.at(1, zcmd(OpZRem, 0, "s", "a")); !errors.Is(r.Err, ErrWrongType) {
		t.Errorf("ZREM of a string = %+v, want WRONGTYPE", r)
	}
}

// popped formats a pop's Result: "key: m:score ..." or "null".
func popped(t *testing.T, r Result) string {
	t.Helper()
	if r.Err != nil {
		return "error " + r.Err.Error()
	}
	if r.Null {
		return "null"
	}
	words := []string{string(r.Value) + ":"}
	for i := 0; i+1 < len(r.Array); i += 2 {
		f, err := DecodeScore(r.Array[i+1].Value)
		if err != nil {
			t.Fatalf("score %q: %v", r.Array[i+1].Value, err)
		}
		words = append(words, fmt.Sprintf("%s:%g", r.Array[i].Value, f))
	}
	return strings.Join(words, " ")
}

// Reference: https://redis.io/docs/latest/commands/zpopmin/ and zmpop
// (the first key that exists is popped from; a key of another type before
// it is an error, after it is not looked at)
func TestZPop(t *testing.T) {
	a := newApplier(t)
	a.at(1, zadd(0, "z", "1", "a", "2", "b", "3", "c", "4", "d"))
	a.at(1, set("s", "v"))
	for _, tc := range []struct {
		c    Command
		want string
	}{
		{zcmd(OpZPopMin, 1, "z"), "z: a:1"},
		{zcmd(OpZPopMax, 2, "z"), "z: d:4 c:3"},
		{zcmd(OpZPopMin, 0, "z"), "z:"},
		{zcmd(OpZPopMin, 1, "nosuch"), "null"},
		{zcmd(OpZPopMin, 1, "nosuch", "s", "z"), "error " + ErrWrongType.Error()},
		{zcmd(OpZPopMin, 1, "nosuch", "z", "s"), "z: b:2"},
		{zcmd(OpZPopMax, 1, "z"), "null"},
	} {
		if got := popped(t, a.at(1, tc.c)); got != tc.want {
			t.Errorf("%s %q count %d = %q, want %q", tc.c.Op, tc.c.Args, tc.c.Int, got, tc.want)
		}
	}
	a.at(1, zadd(0, "z", "1", "a", "2", "b"))
	if got := popped(t, a.at(1, zcmd(OpZPopMax, math.MaxInt64, "z"))); got != "z: b:2 a:1" {
		t.Errorf("ZPOPMAX of everything = %q", got)
	}
	wantZ(t, a, "z", "")
}

// Reference: https://redis.io/docs/latest/commands/zremrangebyrank/,
// zremrangebyscore, zremrangebylex
func TestZRemRange(t *testing.T) {
	a := newApplier(t)
	five := zadd(0, "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
	a.at(1, five)
	wantInt(t, "BYRANK 1 -2", a.at(1, zcmd(OpZRemRangeByRank, 0, "z", "1", "-2")), 3)
	wantZ(t, a, "z", "a:1 e:5")
	wantInt(t, "BYRANK 5 1", a.at(1, zcmd(OpZRemRangeByRank, 0, "z", "5", "1")), 0)
	a.at(1, five)
	wantInt(t, "BYSCORE (1 3", a.at(1, zcmd(OpZRemRangeByScore, 0, "z", "(1", "3")), 2)
	wantInt(t, "BYSCORE -inf +inf", a.at(1, zcmd(OpZRemRangeByScore, 0, "z", "-inf", "+inf")), 3)
	wantZ(t, a, "z", "")
	a.at(1, zadd(0, "z", "0", "a", "0", "b", "0", "c", "0", "d"))
	wantInt(t, "BYLEX [a (c", a.at(1, zcmd(OpZRemRangeByLex, 0, "z", "[a", "(c")), 2)
	wantZ(t, a, "z", "c:0 d:0")
	wantInt(t, "missing key", a.at(1, zcmd(OpZRemRangeByLex, 0, "nosuch", "-", "+")), 0)
}

// Reference: https://redis.io/docs/latest/commands/zrangestore/
func TestZRangeStore(t *testing.T) {
	a := newApplier(t)
	a.at(1, zadd(0, "z", "1", "a", "2", "b", "3", "c", "4", "d"))
	wantInt(t, "by rank", a.at(1, zcmd(OpZRangeStore, 0, "d", "z", "1", "2")), 2)
	wantZ(t, a, "d", "b:2 c:3")
	wantInt(t, "by score, rev, limit", a.at(1, zcmd(OpZRangeStore, ZRangeByScore|ZRangeRev, "d", "z", "+inf", "-inf", "1", "2")), 2)
	wantZ(t, a, "d", "b:2 c:3")
	// Any type is replaced, and its deadline dropped.
	a.at(1, Command{Op: OpSet, Args: strs("s", "v")})
	a.at(1, Command{Op: OpPExpireAt, Args: strs("s"), Int: 1 << 40})
	wantInt(t, "over a string", a.at(1, zcmd(OpZRangeStore, ZRangeByLex, "s", "z", "[a", "[b")), 2)
	if v, _ := a.stored("s"); v.typ != typeZSet || v.expireAt != 0 {
		t.Errorf("ZRANGESTORE over a string left type %q deadline %d", v.typ, v.expireAt)
	}
	wantZ(t, a, "s", "a:1 b:2")
	wantInt(t, "empty range", a.at(1, zcmd(OpZRangeStore, 0, "s", "z", "10", "20")), 0)
	wantZ(t, a, "s", "")
	wantInt(t, "missing source", a.at(1, zcmd(OpZRangeStore, 0, "d", "nosuch", "0", "-1")), 0)
	wantZ(t, a, "d", "")
	wantInt(t, "onto itself", a.at(1, zcmd(OpZRangeStore, 0, "z", "z", "1", "2")), 2)
	wantZ(t, a, "z", "b:2 c:3")
	a.at(1, set("str", "v"))
	if r := a.at(1, zcmd(OpZRangeStore, 0, "d", "str", "0", "-1")); !errors.Is(r.Err, ErrWrongType) {
		t.Errorf("ZRANGESTORE from a string = %+v, want WRONGTYPE", r)
	}
}

// A batch of entries (one txn) that creates, pops, stores and re-creates
// sorted sets reads its own writes, and the result is what the same
// commands give one entry at a time.
func TestZSetBatchSeesOwnWrites(t *testing.T) {
	cmds := []Command{
		zadd(0, "z", "1", "a", "2", "b", "3", "c"),
		zcmd(OpZPopMin, 1, "z"),
		zcmd(OpZRangeStore, 0, "d", "z", "0", "-1"),
		zcmd(OpZRem, 0, "z", "b", "c"),
		zadd(0, "z", "9", "x"),
		zcmd(OpZRangeStore, ZRangeByScore, "z", "z", "-inf", "+inf"),
		zadd(ZAddIncr, "d", "10", "b"),
	}
	one, batch := newApplier(t), newApplier(t)
	var want []string
	for _, c := range cmds {
		want = append(want, fmt.Sprintf("%+v", one.at(1, c)))
	}
	entries := make([]Entry, len(cmds))
	for i, c := range cmds {
		c.Now = 1
		entries[i] = cmdLog(uint64(i+1), c)
	}
	res := batch.f.ApplyBatch(entries)
	for i := range cmds {
		if got := fmt.Sprintf("%+v", result(t, res, i)); got != want[i] {
			t.Errorf("command %d in a batch = %s, alone %s", i, got, want[i])
		}
	}
	for _, k := range []string{"z", "d"} {
		if got, w := zmembers(t, batch, k), zmembers(t, one, k); got != w {
			t.Errorf("%s after a batch = %q, one at a time %q", k, got, w)
		}
	}
	wantZ(t, one, "z", "x:9")
	wantZ(t, one, "d", "c:3 b:12")
}

// A transaction applies all its commands at one index: a sorted set
// created, stored onto itself, deleted and created again there keeps only
// what the last command left (newColl purges the earlier records).
func TestZSetInOneTransaction(t *testing.T) {
	a := newApplier(t)
	c1, c2 := zadd(0, "z", "1", "a", "2", "b", "3", "c"), zcmd(OpZRangeStore, 0, "z", "z", "1", "2")
	c3, c4 := zcmd(OpZPopMax, 1, "z"), zcmd(OpZRangeStore, ZRangeByLex, "d", "z", "-", "+")
	c5, c6 := del("z"), zadd(ZAddIncr, "z", "5", "x")
	r := a.at(1, *NewMulti(nil, []*Command{&c1, &c2, &c3, &c4, &c5, &c6}))
	if r.Err != nil || len(r.Array) != 6 {
		t.Fatalf("transaction = %+v", r)
	}
	for i, want := range []int64{3, 2, 0, 1, 1} {
		if i == 2 {
			if got := popped(t, r.Array[i]); got != "z: c:3" {
				t.Errorf("ZPOPMAX in the transaction = %q", got)
			}
			continue
		}
		wantInt(t, fmt.Sprintf("command %d", i), r.Array[i], want)
	}
	wantScore(t, "ZINCRBY", r.Array[5], 5)
	wantZ(t, a, "z", "x:5")
	wantZ(t, a, "d", "b:2")
}

// Every replica writes the same records: two FSMs fed the same entries
// hold the same engine contents.
func TestZSetApplyDeterministic(t *testing.T) {
	var dumps []string
	for range 2 {
		a := newApplier(t)
		add := zadd(0, "big")
		for i := range 200 {
			add.Args = append(add.Args, []byte(fmt.Sprint(i%9)), []byte(fmt.Sprintf("m%03d", i)))
		}
		a.at(1, add)
		a.at(1, zcmd(OpZPopMax, 7, "big"))
		a.at(1, zcmd(OpZRemRangeByRank, 0, "big", "50", "60"))
		a.at(1, zcmd(OpZRangeStore, ZRangeByScore|ZRangeRev, "dst", "big", "5", "(2", "3", "40"))
		a.at(1, zadd(ZAddIncr, "dst", "-3", "m100"))
		var b strings.Builder
		it := a.eng.NewIterator(storage.Range{})
		for it.Next() {
			fmt.Fprintf(&b, "%q=%q\n", it.Key(), it.Value())
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
		dumps = append(dumps, b.String())
	}
	if dumps[0] != dumps[1] {
		t.Error("two FSMs applying the same entries hold different records")
	}
}

// zq builds a query as the commands do.
func zq(t *testing.T, flags int64, min, max string, limit ...int64) ZQuery {
	t.Helper()
	q, err := NewZQuery(flags, []byte(min), []byte(max))
	if err != nil {
		t.Fatalf("NewZQuery(%d, %q, %q): %v", flags, min, max, err)
	}
	if len(limit) == 2 {
		q.Limit(limit[0], limit[1])
	}
	return q
}

// Reference: t_zset.c genericZrangebyrankCommand, genericZrangebyscoreCommand,
// genericZrangebylexCommand (the listpack walks).
func TestZRangeQueries(t *testing.T) {
	a := newApplier(t)
	add := zadd(0, "big")
	for i := range 300 {
		add.Args = append(add.Args, []byte(fmt.Sprint(i%7)), []byte(fmt.Sprintf("m%03d", i)))
	}
	a.at(1, add)
	a.at(1, zadd(0, "mixed", "1", "z", "2", "a", "3", "m", "4", "b"))
	a.at(1, zadd(0, "mixed2", "1", "a", "2", "z", "3", "b"))
	a.at(1, zadd(0, "lex", "0", "a", "0", "b", "0", "c", "0", "d"))
	v, release := a.f.View()
	defer release()
	coll := func(key string) *Coll {
		z, ok, err := v.Collection([]byte(key), 1, TypeZSet)
		if !ok || err != nil {
			t.Fatalf("%s: %v %v", key, ok, err)
		}
		return z
	}
	// The model of "big": members in (score, member) order.
	var order []string
	for s := range 7 {
		for i := range 300 {
			if i%7 == s {
				order = append(order, fmt.Sprintf("m%03d", i))
			}
		}
	}
	names := func(ms []ZMember) string {
		var w []string
		for _, m := range ms {
			w = append(w, string(m.Member))
		}
		return strings.Join(w, " ")
	}
	rev := slices.Clone(order)
	slices.Reverse(rev)
	for _, tc := range []struct {
		start, stop int64
		rev         bool
		want        []string
	}{
		{0, 4, false, order[:5]},
		{290, -1, false, order[290:]},
		{-5, -3, false, order[295:298]},
		{0, 4, true, rev[:5]},
		{280, 290, true, rev[280:291]},
		{150, 149, false, nil},
		{-1000, 1, false, order[:2]},
		{298, 1000, true, rev[298:]},
	} {
		got, err := coll("big").ZRange(zq(t, boolFlag(tc.rev, ZRangeRev), fmt.Sprint(tc.start), fmt.Sprint(tc.stop)))
		if err != nil || names(got) != strings.Join(tc.want, " ") {
			t.Errorf("ranks %d..%d rev %v = %q (%v), want %q", tc.start, tc.stop, tc.rev, names(got), err, tc.want)
		}
	}
	for _, tc := range []struct {
		key  string
		q    ZQuery
		want string
	}{
		{"lex", zq(t, ZRangeByLex, "[b", "+"), "b c d"},
		{"lex", zq(t, ZRangeByLex|ZRangeRev, "(d", "-"), "c b a"},
		{"lex", zq(t, ZRangeByLex, "-", "+", 1, 2), "b c"},
		{"lex", zq(t, ZRangeByLex, "-", "+", -1, 2), ""},
		{"lex", zq(t, ZRangeByLex, "[c", "[b"), ""},
		// Different scores: the listpack walk (first in range, offset
		// skipped unchecked, then while within max).
		{"mixed", zq(t, ZRangeByLex, "[a", "[m"), ""},
		{"mixed", zq(t, ZRangeByLex, "[a", "[n", 2, 5), ""}, // z, the first, is past [n
		{"mixed2", zq(t, ZRangeByLex, "[a", "[c", 2, 5), "b"},
		{"mixed2", zq(t, ZRangeByLex, "[a", "[c", 1, 5), ""},
		{"mixed", zq(t, ZRangeByLex, "-", "+"), "z a m b"},
		{"mixed", zq(t, ZRangeByLex, "[c", "[z"), ""},
		{"big", zq(t, ZRangeByScore, "(5", "+inf", 40, 3), "m286 m293"},
		{"big", zq(t, ZRangeByScore|ZRangeRev, "0", "-inf", 40, -1), "m014 m007 m000"},
		{"big", zq(t, ZRangeByScore, "(2", "2"), ""},
		{"big", zq(t, ZRangeByScore, "6", "6", 0, 0), ""},
	} {
		got, err := coll(tc.key).ZRange(tc.q)
		if err != nil || names(got) != tc.want {
			t.Errorf("%s %+v = %q (%v), want %q", tc.key, tc.q, names(got), err, tc.want)
		}
	}
	if n, err := coll("big").ZCount(zq(t, ZRangeByScore, "(2", "4")); n != 86 || err != nil {
		t.Errorf("ZCOUNT (2 4 = %d, %v; want 86", n, err)
	}
	if n, err := coll("lex").ZCount(zq(t, ZRangeByLex, "(a", "[c")); n != 2 || err != nil {
		t.Errorf("ZLEXCOUNT (a [c = %d, %v; want 2", n, err)
	}
	for i, m := range order {
		r, ok, err := coll("big").ZRank([]byte(m), false)
		rr, _, _ := coll("big").ZRank([]byte(m), true)
		if !ok || err != nil || r != int64(i) || rr != int64(len(order)-1-i) {
			t.Fatalf("ZRANK/ZREVRANK %s = %d/%d (%v %v), want %d/%d", m, r, rr, ok, err, i, len(order)-1-i)
		}
	}
	if _, ok, _ := coll("big").ZRank([]byte("nosuch"), true); ok {
		t.Error("ZREVRANK of a missing member found it")
	}
}

func boolFlag(b bool, f int64) int64 {
	if b {
		return f
	}
	return 0
}

// Reference: t_zset.c zslParseRange (strtod: the whole string, no NaN).
func TestParseScoreRange(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  float64
		ex    bool
		valid bool
	}{
		{"1", 1, false, true}, {"(1", 1, true, true}, {"-inf", math.Inf(-1), false, true},
		{"+inf", math.Inf(1), false, true}, {"(Infinity", math.Inf(1), true, true}, {"", 0, false, true},
		{"(", 0, true, true}, {" 1", 1, false, true}, {"\t\n-2.5", -2.5, false, true}, {"1 ", 0, false, false},
		{" ", 0, false, false}, {"1e400", math.Inf(1), false, true}, {"-1e400", math.Inf(-1), false, true},
		{"1e-400", 0, false, true}, {"0x10", 16, false, true}, {"0x1.8p1", 3, false, true}, {"0x", 0, false, false},
		{"nan", 0, false, false}, {"(nan", 0, false, false}, {"x", 0, false, false}, {"1\x00x", 1, false, true},
		{"\x00", 0, false, true}, {"-", 0, false, false}, {"1e", 0, false, false}, {".5", 0.5, false, true},
		{"5.", 5, false, true}, {".", 0, false, false}, {"((1", 0, false, false}, {"1_0", 0, false, false},
		{"inff", 0, false, false}, {"+-1", 0, false, false},
	} {
		r, ok := ParseScoreRange([]byte(tc.in), []byte("0"))
		if ok != tc.valid || (ok && (r.Min != tc.want || r.MinEx != tc.ex)) {
			t.Errorf("bound %q = %v ex %v ok %v, want %v ex %v ok %v", tc.in, r.Min, r.MinEx, ok, tc.want, tc.ex, tc.valid)
		}
	}
}

// Reference: t_zset.c zslParseLexRangeItem.
func TestParseLexRange(t *testing.T) {
	for _, tc := range []struct {
		in    string
		valid bool
	}{
		{"-", true}, {"+", true}, {"[a", true}, {"(a", true}, {"[", true}, {"(", true},
		{"", false}, {"a", false}, {"+a", false}, {"--", false}, {"+\x00junk", true},
	} {
		if _, ok := ParseLexRange([]byte(tc.in), []byte("+")); ok != tc.valid {
			t.Errorf("bound %q valid = %v, want %v", tc.in, ok, tc.valid)
		}
	}
	for _, tc := range []struct {
		min, max string
		empty    bool
	}{
		{"-", "+", false}, {"+", "-", true}, {"-", "-", true}, {"+", "+", true}, {"[a", "[a", false},
		{"(a", "[a", true}, {"[b", "[a", true}, {"[a", "+", false}, {"-", "(a", false},
	} {
		r, _ := ParseLexRange([]byte(tc.min), []byte(tc.max))
		if r.empty() != tc.empty {
			t.Errorf("%s %s empty = %v, want %v", tc.min, tc.max, r.empty(), tc.empty)
		}
	}
}

// Validate refuses sorted set entries apply could not trust, when proposed
// and when applied.
func TestZSetValidate(t *testing.T) {
	for _, c := range []Command{
		zadd(0, "z", "1"),
		zadd(0, "z", "x", "a"),
		zadd(0, "z", "nan", "a"),
		zadd(ZAddNX|ZAddXX, "z", "1", "a"),
		zadd(ZAddGT|ZAddLT, "z", "1", "a"),
		zadd(ZAddNX|ZAddGT, "z", "1", "a"),
		zadd(ZAddIncr, "z", "1", "a", "2", "b"),
		zadd(1<<10, "z", "1", "a"),
		zcmd(OpZRem, 0, "z"),
		zcmd(OpZPopMin, -1, "z"),
		zcmd(OpZPopMax, 1),
		zcmd(OpZRemRangeByRank, 0, "z", "x", "1"),
		zcmd(OpZRemRangeByScore, 0, "z", "nan", "1"),
		zcmd(OpZRemRangeByLex, 0, "z", "a", "b"),
		zcmd(OpZRangeStore, ZRangeByScore|ZRangeByLex, "d", "z", "-", "+"),
		zcmd(OpZRangeStore, 0, "d", "z", "0", "-1", "0", "1"),
		zcmd(OpZRangeStore, ZRangeByScore, "d", "z", "0", "1", "x", "1"),
		zcmd(OpZRangeStore, 1<<6, "d", "z", "0", "1"),
		zcmd(OpZRangeStore, 0, "d", "z", "0"),
	} {
		if err := c.Validate(); !errors.Is(err, ErrBadEntry) {
			t.Errorf("Validate(%s %d %q) = %v, want ErrBadEntry", c.Op, c.Int, c.Args, err)
		}
		a := newApplier(t)
		if r := a.at(1, c); r.Err == nil {
			t.Errorf("applying %s %d %q = %+v, want an error", c.Op, c.Int, c.Args, r)
		}
	}
	for _, c := range []Command{
		zadd(ZAddXX|ZAddGT|ZAddCH, "z", "1", "a"),
		zadd(ZAddIncr|ZAddLT, "z", "-inf", "a"),
		zcmd(OpZPopMin, 0, "a", "b"),
		zcmd(OpZRangeStore, ZRangeByLex|ZRangeRev, "d", "z", "+", "-", "-1", "-1"),
		zcmd(OpZRemRangeByScore, 0, "z", "(1", " 2"),
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%s %d %q) = %v", c.Op, c.Int, c.Args, err)
		}
	}
	if !bytes.Equal(ScoreValue(1.5), scoreBits(1.5)) {
		t.Error("ScoreValue is not the 's' record's form")
	}
}

// TestZSetModel applies a seeded random sequence of sorted set ops and
// checks every result and the stored set against a plain model: a map of
// members to scores, ranked by sorting.
func TestZSetModel(t *testing.T) {
	a := newApplier(t)
	r := rand.New(rand.NewPCG(1, 2))
	model := map[string]map[string]float64{"x": {}, "y": {}}
	scores := []string{"-inf", "-2", "-0", "0", "0.5", "1", "1", "2", "3.25", "+inf"}
	member := func() string { return string(rune('a' + r.IntN(12))) }
	sorted := func(key string) []ZMember {
		var out []ZMember
		for m, s := range model[key] {
			out = append(out, ZMember{Member: []byte(m), Score: s})
		}
		slices.SortFunc(out, func(p, q ZMember) int {
			if p.Score != q.Score {
				return cmp.Compare(p.Score, q.Score)
			}
			return bytes.Compare(p.Member, q.Member)
		})
		return out
	}
	remove := func(key string, ms []ZMember) {
		for _, m := range ms {
			delete(model[key], string(m.Member))
		}
	}
	for step := range 2000 {
		key := []string{"x", "y"}[r.IntN(2)]
		z := sorted(key)
		var c Command
		var want Result
		switch r.IntN(7) {
		case 0, 1: // ZADD with random options
			flags := []int64{0, ZAddNX, ZAddXX, ZAddGT, ZAddLT, ZAddCH, ZAddXX | ZAddGT | ZAddCH}[r.IntN(7)]
			c = zadd(flags, key)
			var added, changed int64
			for range 1 + r.IntN(3) {
				s, m := scores[r.IntN(len(scores))], member()
				c.Args = append(c.Args, []byte(s), []byte(m))
				f, _ := ParseScore([]byte(s))
				cur, had := model[key][m]
				switch {
				case had && flags&ZAddNX == 0 && !(flags&ZAddGT != 0 && f <= cur) && !(flags&ZAddLT != 0 && f >= cur):
					if f != cur {
						model[key][m] = normScore(f)
						changed++
					}
				case !had && flags&ZAddXX == 0:
					model[key][m] = normScore(f)
					added++
				}
			}
			want.Int = added
			if flags&ZAddCH != 0 {
				want.Int = added + changed
			}
		case 2: // ZREM
			c = zcmd(OpZRem, 0, key, member(), member())
			for _, m := range c.Args[1:] {
				if _, ok := model[key][string(m)]; ok {
					delete(model[key], string(m))
					want.Int++
				}
			}
		case 3: // ZPOPMIN/ZPOPMAX
			n := r.IntN(4)
			op := []Op{OpZPopMin, OpZPopMax}[r.IntN(2)]
			c = zcmd(op, int64(n), key)
			if len(z) == 0 {
				want.Null = true
				break
			}
			want.Value = []byte(key)
			if op == OpZPopMax {
				slices.Reverse(z)
			}
			for _, m := range z[:min(n, len(z))] {
				want.Array = append(want.Array, bulk(m.Member), Result{Value: ScoreValue(m.Score)})
			}
			remove(key, z[:min(n, len(z))])
		case 4: // ZREMRANGEBYRANK
			start, stop := r.IntN(14)-7, r.IntN(14)-7
			c = zcmd(OpZRemRangeByRank, 0, key, fmt.Sprint(start), fmt.Sprint(stop))
			n := len(z)
			if start < 0 {
				start += n
			}
			if stop < 0 {
				stop += n
			}
			start, stop = max(start, 0), min(stop, n-1)
			if start <= stop {
				remove(key, z[start:stop+1])
				want.Int = int64(stop - start + 1)
			}
		case 5: // ZREMRANGEBYSCORE
			lo, hi := scores[r.IntN(len(scores))], scores[r.IntN(len(scores))]
			if r.IntN(2) == 0 {
				lo = "(" + lo
			}
			c = zcmd(OpZRemRangeByScore, 0, key, lo, hi)
			rg, _ := ParseScoreRange([]byte(lo), []byte(hi))
			var doomed []ZMember
			for _, m := range z {
				if rg.gteMin(m.Score) && rg.lteMax(m.Score) {
					doomed = append(doomed, m)
				}
			}
			remove(key, doomed)
			want.Int = int64(len(doomed))
		case 6: // ZRANGESTORE by score, reversed, with a limit
			other := map[string]string{"x": "y", "y": "x"}[key]
			hi, lo := scores[r.IntN(len(scores))], scores[r.IntN(len(scores))]
			off, n := r.IntN(3), r.IntN(5)-1
			c = zcmd(OpZRangeStore, ZRangeByScore|ZRangeRev, other, key, hi, lo, fmt.Sprint(off), fmt.Sprint(n))
			rg, _ := ParseScoreRange([]byte(lo), []byte(hi))
			var in []ZMember
			slices.Reverse(z)
			for _, m := range z {
				if rg.gteMin(m.Score) && rg.lteMax(m.Score) {
					in = append(in, m)
				}
			}
			in = in[min(off, len(in)):]
			if n >= 0 {
				in = in[:min(n, len(in))]
			}
			model[other] = map[string]float64{}
			for _, m := range in {
				model[other][string(m.Member)] = m.Score
			}
			want.Int = int64(len(in))
		}
		got := a.at(1, c)
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Fatalf("step %d: %s %d %q = %+v, want %+v", step, c.Op, c.Int, c.Args, got, want)
		}
		for _, k := range []string{"x", "y"} {
			var words []string
			for _, m := range sorted(k) {
				words = append(words, fmt.Sprintf("%s:%g", m.Member, m.Score))
			}
			if got := zmembers(t, a, k); got != strings.Join(words, " ") {
				t.Fatalf("step %d: %s %q: %s = %q, model %q", step, c.Op, c.Args, k, got, strings.Join(words, " "))
			}
		}
	}
}
