package jepsen

import (
	"slices"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
)

// bankHistory is a correct history of generation 0 over three accounts of
// 20: an acknowledged WATCH transfer, an indeterminate one (applied, as
// later reads show), one that EXEC aborted, a refused overdraft, reads by
// MGET and in MULTI, and the final read.
func bankHistory() []Op { return bankGenHistory(0, 0) }

// bankGenHistory is bankHistory on generation gen, its times shifted by
// at.
func bankGenHistory(gen int, at int64) []Op {
	ops := bankGenOps(bankKey("j", gen))
	for i := range ops {
		ops[i].Call += at
		ops[i].Return += at
		ops[i].Process += 10 * gen
	}
	return ops
}

func bankGenOps(k string) []Op {
	return []Op{
		{Kind: OpTransfer, Mode: bankWatch, Key: k, From: 0, To: 1, Amount: 5, Seen: []int64{20, 20}, Balances: []int64{15, 25}, Call: 10, Return: 20, Process: 0},
		{Kind: OpBankRead, Mode: bankMGet, Key: k, Balances: []int64{15, 25, 20}, Call: 30, Return: 40, Process: 1},
		{Kind: OpTransfer, Mode: bankWatch, Key: k, From: 1, To: 2, Amount: 3, Seen: []int64{25, 20}, Call: 50, Return: 55, Status: StatusInfo, Err: "i/o timeout", Process: 0},
		{Kind: OpTransfer, Mode: bankWatch, Key: k, From: 2, To: 0, Amount: 4, Seen: []int64{20, 15}, Call: 52, Return: 58, Status: StatusFail, Err: redis.TxFailedErr.Error(), Process: 1},
		{Kind: OpTransfer, Mode: bankWatch, Key: k, From: 0, To: 2, Amount: 8, Seen: []int64{7, 22}, Refused: true, Call: 59, Return: 59, Process: 1},
		{Kind: OpBankRead, Mode: bankMulti, Key: k, Balances: []int64{15, 22, 23}, Call: 60, Return: 70, Process: 2},
		{Kind: OpBankRead, Mode: bankMGet, Key: k, Balances: []int64{15, 22, 23}, Call: 100, Return: 110, Process: 3, Final: true},
	}
}

var bankInit = []int64{20, 20, 20}

// bankGens are the first n generations of the accounts of bankInit.
func bankGens(n int) []BankGen {
	var gens []BankGen
	for g := range n {
		gens = append(gens, BankGen{Gen: g, Key: bankKey("j", g),
			Accounts: []string{bankAccount("j", g, 0, false), bankAccount("j", g, 1, false), bankAccount("j", g, 2, false)}})
	}
	return gens
}

func bankLin(t *testing.T, ops []Op) porcupine.CheckResult {
	t.Helper()
	for _, l := range CheckLinearizability(ops, bankInit) {
		if l.Model == "bank" {
			return l.Result
		}
	}
	t.Fatal("CheckLinearizability checked no bank")
	return ""
}

func TestBankCheckerAcceptsValidHistory(t *testing.T) {
	ops := bankHistory()
	problems, how := checkBank(ops, bankGens(1), bankInit)
	if len(problems) > 0 || how != "exact" {
		t.Errorf("checkBank of a valid history = %q (%s), want no problems (exact)", problems, how)
	}
	if res := bankLin(t, ops); res != porcupine.Ok {
		t.Errorf("bank model: %s, want Ok", res)
	}
	st := bankStats(ops, bankGens(1), bankInit)
	want := BankStats{Generations: 1, Accounts: 3, Total: 60, Transfers: 4, OK: 1, Aborted: 1, Refused: 1, Info: 1, Reads: 2}
	if !slices.Equal(st.Final, []int64{15, 22, 23}) {
		t.Errorf("bankStats: final %v, want [15 22 23]", st.Final)
	}
	st.Final = nil
	if st.Generations != want.Generations || st.Accounts != want.Accounts || st.Total != want.Total || st.Transfers != want.Transfers || st.OK != want.OK ||
		st.Aborted != want.Aborted || st.Refused != want.Refused || st.Failed != want.Failed || st.Info != want.Info || st.Reads != want.Reads {
		t.Errorf("bankStats = %+v, want %+v", *st, want)
	}
	// Negative balances are allowed once a transfer skipped the check.
	neg := append(bankHistory(),
		Op{Kind: OpTransfer, Mode: bankPlain, Key: bankKey("j", 0), From: 0, To: 1, Amount: 30, Balances: []int64{-15, 52}, Call: 120, Return: 130, Process: 4},
		Op{Kind: OpBankRead, Mode: bankMGet, Key: bankKey("j", 0), Balances: []int64{-15, 52, 23}, Call: 140, Return: 150, Process: 3, Final: true})
	if problems, _ := checkBank(neg, bankGens(1), bankInit); len(problems) > 0 {
		t.Errorf("checkBank with a plain transfer overdrawing: %q, want no problems", problems)
	}
}

// The checker must report each kind of broken bank history.
func TestBankCheckerCatchesBrokenHistories(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func([]Op) []Op
		want  string // in one of the problems
		model porcupine.CheckResult
	}{
		{"read with a wrong total", func(ops []Op) []Op {
			ops[1].Balances = []int64{15, 25, 19}
			return ops
		}, "sums to 59, want the total 60", porcupine.Illegal},
		{"lost acknowledged transfer", func(ops []Op) []Op {
			ops = append(ops[:len(ops)-1], // the transfer happened before the final read, which misses it
				Op{Kind: OpTransfer, Mode: bankWatch, Key: bankKey("j", 0), From: 1, To: 0, Amount: 2, Seen: []int64{22, 15}, Balances: []int64{20, 17}, Call: 80, Return: 90, Process: 2},
				Op{Kind: OpBankRead, Mode: bankMGet, Key: bankKey("j", 0), Balances: []int64{15, 22, 23}, Call: 100, Return: 110, Process: 3, Final: true})
			return ops
		}, "an acknowledged transfer was lost", porcupine.Illegal},
		{"aborted transfer applied", func(ops []Op) []Op {
			ops[5].Balances = []int64{19, 22, 19}
			ops[6].Balances = []int64{19, 22, 19}
			return ops
		}, "a failed one (a null EXEC included) applied", porcupine.Illegal},
		{"WATCH let a changed key through", func(ops []Op) []Op {
			ops[0].Seen = []int64{18, 20} // read before another transfer, yet EXEC applied on top of it
			return ops
		}, "WATCH did not protect", porcupine.Ok},
		{"negative balance without plain transfers", func(ops []Op) []Op {
			ops[1].Balances = []int64{-1, 41, 20}
			return ops
		}, "a negative balance", porcupine.Illegal},
		{"account missing from a read", func(ops []Op) []Op {
			ops[5].Balances = []int64{15, 22}
			return ops
		}, "read 2 accounts, want 3", porcupine.Illegal},
		{"no final read", func(ops []Op) []Op { return ops[:len(ops)-1] }, "no final read", porcupine.Ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops := tc.edit(bankHistory())
			problems, _ := checkBank(ops, bankGens(1), bankInit)
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, tc.want)
			}
			if !found {
				t.Errorf("checkBank = %q, want a problem containing %q", problems, tc.want)
			}
			if res := bankLin(t, ops); res != tc.model {
				t.Errorf("bank model: %s, want %s", res, tc.model)
			}
		})
	}
}

// A read that misses an acknowledged transfer has the right total: only
// the model sees it is stale.
func TestBankModelCatchesStaleRead(t *testing.T) {
	ops := bankHistory()
	ops[1].Balances = []int64{20, 20, 20}
	if problems, _ := checkBank(ops, bankGens(1), bankInit); len(problems) > 0 {
		t.Errorf("checkBank = %q, want no problems (the total is right)", problems)
	}
	if res := bankLin(t, ops); res != porcupine.Illegal {
		t.Errorf("bank model: %s, want Illegal", res)
	}
}

// Many indeterminate transfers: only per-account bounds are checked.
func TestBankExplainableBounds(t *testing.T) {
	var transfers []Op
	for i := range 40 {
		transfers = append(transfers, Op{From: i % 5, To: (i + 1) % 5, Amount: int64(1 + i%7)})
	}
	ok, how := explainable(balances{1, -1}, transfers)
	if !ok || how != "bounds" {
		t.Errorf("explainable(small diff, 40 transfers) = %v, %s; want true, bounds", ok, how)
	}
	if ok, _ := explainable(balances{1000, -1000}, transfers); ok {
		t.Error("explainable(a diff beyond every transfer) = true")
	}
	if ok, how := explainable(balances{3, -3}, transfers[:3]); ok || how != "exact" {
		t.Errorf("explainable({3,-3}, 0->1 1, 1->2 2, 2->3 3) = %v, %s; want false, exact", ok, how)
	}
}

// Each generation is checked on its own: a wrong final read of generation
// 1 is generation 1's problem, and generation 0's history, interleaved
// with it, stays valid.
func TestBankCheckerPerGeneration(t *testing.T) {
	ops := append(bankGenHistory(0, 0), bankGenHistory(1, 5)...)
	gens := bankGens(2)
	if problems, how := checkBank(ops, gens, bankInit); len(problems) > 0 || how != "exact" {
		t.Fatalf("checkBank of two valid generations = %q (%s), want no problems (exact)", problems, how)
	}
	st := bankStats(ops, gens, bankInit)
	if st.Generations != 2 || st.Transfers != 8 || st.Reads != 4 || !slices.Equal(st.Final, []int64{15, 22, 23}) {
		t.Errorf("bankStats of two generations = %+v, want 2 generations, 8 transfers, 4 reads, final [15 22 23]", *st)
	}
	for i := range ops {
		if ops[i].Key == bankKey("j", 1) && ops[i].Final {
			ops[i].Balances = []int64{20, 17, 23} // 5 moved back from 1 to 0: no transfer did that
		}
	}
	problems, _ := checkBank(ops, gens, bankInit)
	if len(problems) == 0 {
		t.Fatal("checkBank of a wrong final read of generation 1 found no problem")
	}
	for _, p := range problems {
		if !strings.HasPrefix(p, "bank generation 1: ") || strings.Contains(p, "generation 0") {
			t.Errorf("problem %q: want it to name generation 1 only", p)
		}
	}
	if res := bankLin(t, ops); res != porcupine.Illegal {
		t.Errorf("bank model: %s, want Illegal", res)
	}
}
