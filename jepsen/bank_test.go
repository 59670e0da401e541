package jepsen

import (
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
)

// bankHistory is a correct bank history over three accounts of 20: an
// acknowledged WATCH transfer, an indeterminate one (applied, as later
// reads show), one that EXEC aborted, a refused overdraft, reads by MGET
// and in MULTI, and the final read.
func bankHistory() []Op {
	k := bankKey("j")
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
	problems, how := checkBank(ops, bankInit)
	if len(problems) > 0 || how != "exact" {
		t.Errorf("checkBank of a valid history = %q (%s), want no problems (exact)", problems, how)
	}
	if res := bankLin(t, ops); res != porcupine.Ok {
		t.Errorf("bank model: %s, want Ok", res)
	}
	st := bankStats(ops, bankInit)
	want := BankStats{Accounts: 3, Total: 60, Transfers: 4, OK: 1, Aborted: 1, Refused: 1, Info: 1, Reads: 2}
	st.Final = nil
	if st.Accounts != want.Accounts || st.Total != want.Total || st.Transfers != want.Transfers || st.OK != want.OK ||
		st.Aborted != want.Aborted || st.Refused != want.Refused || st.Failed != want.Failed || st.Info != want.Info || st.Reads != want.Reads {
		t.Errorf("bankStats = %+v, want %+v", *st, want)
	}
	// Negative balances are allowed once a transfer skipped the check.
	neg := append(bankHistory(),
		Op{Kind: OpTransfer, Mode: bankPlain, Key: bankKey("j"), From: 0, To: 1, Amount: 30, Balances: []int64{-15, 52}, Call: 120, Return: 130, Process: 4},
		Op{Kind: OpBankRead, Mode: bankMGet, Key: bankKey("j"), Balances: []int64{-15, 52, 23}, Call: 140, Return: 150, Process: 3, Final: true})
	if problems, _ := checkBank(neg, bankInit); len(problems) > 0 {
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
				Op{Kind: OpTransfer, Mode: bankWatch, Key: bankKey("j"), From: 1, To: 0, Amount: 2, Seen: []int64{22, 15}, Balances: []int64{20, 17}, Call: 80, Return: 90, Process: 2},
				Op{Kind: OpBankRead, Mode: bankMGet, Key: bankKey("j"), Balances: []int64{15, 22, 23}, Call: 100, Return: 110, Process: 3, Final: true})
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
			problems, _ := checkBank(ops, bankInit)
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
	if problems, _ := checkBank(ops, bankInit); len(problems) > 0 {
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
