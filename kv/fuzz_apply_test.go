package kv

import (
	"fmt"
	"testing"
)

// fuzzHistory is what both replicas of FuzzApply hold before the fuzzed
// entries: strings, a number, deadlines past and future, a member.
func fuzzHistory() []Entry {
	const now = 1_700_000_000_000
	b := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, x := range s {
			out[i] = []byte(x)
		}
		return out
	}
	return []Entry{
		cmdLog(1, Command{Op: OpSet, Args: b("a", "1"), Now: now}),
		cmdLog(2, Command{Op: OpSet, Args: b("s", "hello"), ExpireAt: now + 60_000, Now: now}),
		cmdLog(3, Command{Op: OpSet, Args: b("gone", "x"), ExpireAt: now + 1, Now: now}),
		cmdLog(4, Command{Op: OpIncrBy, Args: b("n"), Int: 41, Now: now}),
		cmdLog(5, Command{Op: OpSetMember, Args: b("node1", "127.0.0.1:1", "127.0.0.1:2"), Now: now}),
		cmdLog(6, Command{Op: OpSet, Args: b("f", "1.5"), Now: now, ClientID: 7, Seq: 1}),
		cmdLog(7, Command{Op: OpDel, Args: b("f"), Now: now + 2}),
		cmdLog(8, Command{Op: OpHSet, Args: b("h", "a", "1", "b", "x"), Now: now + 2}),
		cmdLog(9, Command{Op: OpHSet, Args: b("hgone", "a", "1"), Now: now + 2}),
		cmdLog(10, Command{Op: OpDel, Args: b("hgone"), Now: now + 2}),
		cmdLog(11, Command{Op: OpSAdd, Args: b("set", "1", "2", "x"), Now: now + 2}),
		cmdLog(12, Command{Op: OpZAdd, Args: b("z", "1", "a", "-inf", "b", "2.5", "c"), Now: now + 2}),
		cmdLog(13, Command{Op: OpRPush, Args: b("list", "a", "b", "a", "c"), Now: now + 2}),
		cmdLog(14, Command{Op: OpBitField, Args: [][]byte{[]byte("bits"),
			BitFieldOp{Code: BitFieldSet, Signed: true, Bits: 16, Offset: 5, Value: -300}.Encode()}, Now: now + 2}),
	}
}

// fuzzSeeds are entries of every op, for the corpus.
func fuzzSeeds() []Command {
	b := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, x := range s {
			out[i] = []byte(x)
		}
		return out
	}
	return []Command{
		{Op: OpNoop, Now: 1_700_000_000_500},
		{Op: OpSet, Args: b("a", "2"), Int: SetGet | SetXX | SetKeepTTL},
		{Op: OpDel, Args: b("a", "s", "nosuch")},
		{Op: OpIncrBy, Args: b("n"), Int: -1 << 62},
		{Op: OpMSet, Args: b("a", "1", "b", "2")},
		{Op: OpMSetNX, Args: b("x", "1", "y", "2")},
		{Op: OpGetDel, Args: b("s")},
		{Op: OpGetEx, Args: b("s"), Int: GetExSet, ExpireAt: 1},
		{Op: OpAppend, Args: b("a", "xyz", "16")},
		{Op: OpSetRange, Args: b("s", "abc", "1048576"), Int: 1000},
		{Op: OpSetBit, Args: b("a", "1"), Int: 8191},
		{Op: OpIncrByFloat, Args: b("n", "1e308")},
		{Op: OpRename, Args: b("a", "s"), Int: 1},
		{Op: OpCopy, Args: b("s", "t"), Int: 1},
		{Op: OpFlush},
		{Op: OpFlush, Int: 1, DB: 2},
		{Op: OpMove, Args: b("a"), Int: 2},
		{Op: OpSwapDB, Args: [][]byte{{0}, {2}}},
		{Op: OpCopy, Args: [][]byte{[]byte("s"), []byte("s"), {2}}, DB: 0},
		{Op: OpSet, Args: b("a", "db1"), DB: 1, ExpireAt: 1_700_000_000_900},
		{Op: OpPExpireAt, Args: [][]byte{[]byte("a"), {ExpireGT}}, Int: 1 << 50},
		{Op: OpPersist, Args: b("s")},
		{Op: OpExpire, Args: b("gone", "a")},
		{Op: OpLookup, Args: b("a", "s", "gone")},
		{Op: OpSetMember, Args: b("node2", "r", "c")},
		{Op: OpDelMember, Args: b("node1")},
		{Op: OpLeave, Args: b("node1"), Now: 1_700_000_001_000},
		{Op: OpPruneRequests, Int: 6},
		{Op: OpSecret, Args: b("0123456789abcdef0123456789abcdef")},
		{Op: OpSet, Args: b("a", "3"), ClientID: 7, Seq: 1},
		{Op: OpHSet, Args: b("h", "c", "1", "a", "2")},
		{Op: OpSAdd, Args: b("set", "3", "1")},
		{Op: OpSort, Args: b("set", "BY", "nosort", "STORE", "sorted")},
		{Op: OpSort, Args: b("list", "ALPHA", "DESC", "LIMIT", "1", "2", "GET", "#", "GET", "h*->a")},
		{Op: OpSort, Args: b("z", "BY", "s*", "STORE", "z")},
		{Op: OpZAdd, Args: b("z", "3", "a", "inf", "d"), Int: ZAddCH | ZAddGT},
		{Op: OpZAdd, Args: b("z", "1.5", "b"), Int: ZAddIncr},
		{Op: OpZRem, Args: b("z", "a", "zz")},
		{Op: OpZPopMin, Args: b("nosuch", "z", "2")},
		{Op: OpZPopMax, Args: b("z")},
		{Op: OpZRemRangeByRank, Args: b("z", "0", "-2")},
		{Op: OpZRemRangeByScore, Args: b("z", "(1", "+inf")},
		{Op: OpZRemRangeByLex, Args: b("z", "[a", "(c")},
		{Op: OpZRangeStore, Args: b("zd", "z", "0", "-1")},
		{Op: OpZRangeStore, Args: b("zd", "z", "(0", "inf", "1", "2"), Int: ZRangeByScore | ZRangeRev},
		{Op: OpZStore, Args: b("zu", "z", "set"), Int: CombineUnion},
		{Op: OpZStore, Args: b("zu", "z", "set", "2", "-1"), Int: CombineInter | CombineMax | CombineWeights},
		{Op: OpLPush, Args: b("list", "x", "y")},
		{Op: OpRPush, Args: b("nolist", "x"), Int: ListPushX},
		{Op: OpLPop, Args: b("list"), Int: 2},
		{Op: OpRPop, Args: b("list"), Int: 1},
		{Op: OpLSet, Args: b("list", "-1", "z")},
		{Op: OpLTrim, Args: b("list", "1", "-1")},
		{Op: OpLRem, Args: b("list", "a"), Int: -1},
		{Op: OpLInsert, Args: b("list", "b", "n"), Int: ListAfter},
		{Op: OpLMove, Args: b("list", "list2"), Int: ListFromRight},
		{Op: OpLMPop, Args: b("R", "nolist", "list"), Int: 3},
		{Op: OpSRem, Args: b("set", "1", "nope")},
		{Op: OpSMove, Args: b("set", "set2", "x")},
		{Op: OpSPop, Args: b("set", "12345678"), Int: 2},
		{Op: OpSInterStore, Args: b("set", "set", "set2")},
		{Op: OpSUnionStore, Args: b("u", "set", "h")},
		{Op: OpSDiffStore, Args: b("d", "set", "nosuch")},
		{Op: OpHSet, Args: b("h", "c", "1"), Int: HSetNX},
		{Op: OpHDel, Args: b("h", "a", "b", "zz")},
		{Op: OpHIncrBy, Args: b("h", "a"), Int: 1 << 62},
		{Op: OpHIncrByFloat, Args: b("h", "b", "1.5")},
		{Op: OpBitOp, Args: b("d", "bits", "s", "nosuch"), Int: BitXor},
		{Op: OpBitOp, Args: b("bits", "h"), Int: BitNot},
		{Op: OpBitField, Args: [][]byte{[]byte("bits"),
			BitFieldOp{Code: BitFieldIncrBy, Bits: 63, Overflow: OverflowSat, Offset: 3, Value: -1 << 63}.Encode(),
			BitFieldOp{Code: BitFieldGet, Signed: true, Bits: 64, Offset: 100}.Encode(),
			BitFieldOp{Code: BitFieldSet, Bits: 8, Overflow: OverflowFail, Offset: 40, Value: 256}.Encode()}},
		{Op: OpRename, Args: b("h", "hgone")},
		{Op: OpCopy, Args: [][]byte{[]byte("h"), []byte("h"), {3}}},
		*NewMulti([]Watch{{Key: []byte("a"), Live: true, Version: 1, Index: 7}},
			[]*Command{{Op: OpIncrBy, Args: b("n"), Int: 1}, {Op: OpLookup, Args: b("n")}}),
	}
}

// fuzzTooBig reports whether data holds a command that grows a string past
// 1 MiB: valid, but too slow to apply at fuzzing speed (the limits
// themselves are TestApplyHugeStringGrowth's).
func fuzzTooBig(data []byte) bool {
	var cmds [][]byte
	if isBatch(data) {
		cmds, _ = decodeBatch(data)
	} else {
		cmds = [][]byte{data}
	}
	for _, raw := range cmds {
		c, err := DecodeCommand(raw)
		if err != nil {
			continue
		}
		if growsBig(&c) {
			return true
		}
		if c.Op == OpMulti {
			for _, sub := range c.Args[min(1, len(c.Args)):] {
				if s, err := DecodeCommand(sub); err == nil && growsBig(&s) {
					return true
				}
			}
		}
	}
	return false
}

func growsBig(c *Command) bool {
	if c.Op == OpBitField {
		for _, a := range c.Args[min(1, len(c.Args)):] {
			if len(a) == bitFieldOpLen && decodeBitFieldOp(a).Offset>>3 > 1<<20 {
				return true
			}
		}
	}
	return (c.Op == OpSetRange && c.Int > 1<<20) || (c.Op == OpSetBit && c.Int>>3 > 1<<20)
}

// FuzzApply: any two log entries (commands, batch entries, transactions or
// garbage), applied after the same history on two replicas, never panic or
// stop the state machine (the memory engine does not fail, so a stop is a
// bug) and leave both replicas with the same results and the same bytes.
func FuzzApply(f *testing.F) {
	seeds := fuzzSeeds()
	for i, c := range seeds {
		next := seeds[(i+1)%len(seeds)]
		f.Add(c.Encode(), AppendEncodeBatch(nil, []*Command{&c, &next}))
	}
	f.Add([]byte{encodingV1, byte(OpSetRange), flagInt}, []byte{encodingBatch, 2, 0, 0})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if fuzzTooBig(a) || fuzzTooBig(b) {
			t.Skip("grows a string past 1 MiB")
		}
		var results, dumps [2]string
		for i := range 2 {
			eng := memEngine(t)
			fsm := newFSM(t, eng)
			fsm.ApplyBatch(fuzzHistory())
			res := fsm.ApplyBatch([]Entry{
				{Index: 100, Command: true, Data: a},
				{Index: 101, Command: true, Data: b},
			})
			if err := fsm.Err(); err != nil {
				t.Fatalf("replica %d stopped: %v", i, err)
			}
			if got := fsm.AppliedIndex(); got != 101 {
				t.Fatalf("replica %d applied through %d, want 101", i, got)
			}
			results[i] = fmt.Sprintf("%+v", res)
			dumps[i] = fmt.Sprint(dump(t, eng))
		}
		if results[0] != results[1] {
			t.Fatalf("results differ:\n%s\n%s", results[0], results[1])
		}
		if dumps[0] != dumps[1] {
			t.Fatalf("replicas differ:\n%s\n%s", dumps[0], dumps[1])
		}
	})
}
