package kv

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riotkv/riot/storage"
)

// Reference: https://redis.io/docs/latest/commands/expire/ (NX, XX, GT,
// LT; a deadline in the past deletes the key), persist/
func TestApplyPExpireAt(t *testing.T) {
	a := newApplier(t)
	exp := func(k string, when int64, cond byte) Command {
		c := Command{Op: OpPExpireAt, Args: strs(k), Int: when}
		if cond != 0 {
			c.Args = append(c.Args, []byte{cond})
		}
		return c
	}
	a.putForeign("h", typeHash)
	a.run([]step{
		{t0, Command{Op: OpSet, Args: strs("k", "v")}, Result{}},
		{t0, exp("nokey", t0+10, 0), Result{Int: 0}},
		{t0, exp("k", t0+100, ExpireXX), Result{Int: 0}},
		{t0, exp("k", t0+100, ExpireGT), Result{Int: 0}}, // none is infinite
		{t0, exp("k", t0+100, ExpireLT), Result{Int: 1}},
		{t0, exp("k", t0+50, ExpireNX), Result{Int: 0}},
		{t0, exp("k", t0+50, ExpireGT), Result{Int: 0}},
		{t0, exp("k", t0+200, ExpireGT), Result{Int: 1}},
		{t0, exp("k", t0+300, ExpireLT), Result{Int: 0}},
		{t0, exp("k", t0+150, ExpireLT|ExpireXX), Result{Int: 1}},
		{t0, exp("h", t0+150, 0), Result{Int: 1}}, // any type
	})
	a.wantStored("k", "v", t0+150)
	a.run([]step{
		{t0 + 1, Command{Op: OpPersist, Args: strs("k")}, Result{Int: 1}},
		{t0 + 1, Command{Op: OpPersist, Args: strs("k")}, Result{Int: 0}},
		{t0 + 1, Command{Op: OpPersist, Args: strs("nokey")}, Result{Int: 0}},
	})
	a.wantStored("k", "v", 0)
	a.run([]step{
		{t0 + 2, exp("k", t0+2, 0), Result{Int: 1}}, // at or before now: deleted
		{t0 + 2, exp("k", t0+100, 0), Result{Int: 0}},
		{t0 + 3, Command{Op: OpSet, Args: strs("neg", "v")}, Result{}},
		{t0 + 3, exp("neg", -5, ExpireLT), Result{Int: 1}},
	})
	a.wantGone("k")
	a.wantGone("neg")
}

// TestApplyActiveExpire: OpExpire deletes only keys still expired at its
// time, and applying it again changes nothing.
func TestApplyActiveExpire(t *testing.T) {
	a := newApplier(t)
	for i := range 5 {
		a.at(t0, Command{Op: OpSet, Args: strs(fmt.Sprint("k", i), "v"), ExpireAt: t0 + 10})
	}
	a.at(t0, Command{Op: OpSet, Args: strs("later", "v"), ExpireAt: t0 + 1000})
	v, release := a.f.View()
	keys, err := v.ExpiredKeys(t0+10, 3)
	release()
	if err != nil || len(keys) != 3 {
		t.Fatalf("ExpiredKeys(t0+10, 3) = %q, %v; want 3 keys", keys, err)
	}
	// The first key listed is rewritten after the leader listed it: it
	// must survive. (Keys of one deadline are listed in slot order.)
	rewritten := string(keys[0])
	listed := map[string]bool{}
	for _, k := range keys {
		listed[string(k)] = true
	}
	var unlisted string
	for i := range 5 {
		if k := fmt.Sprint("k", i); !listed[k] {
			unlisted = k
		}
	}
	a.at(t0+5, Command{Op: OpSet, Args: strs(rewritten, "new")})
	expire := Command{Op: OpExpire, Args: append(keys, []byte("later"), []byte("nokey"))}
	a.run([]step{
		{t0 + 10, expire, Result{Int: 2}},
		{t0 + 10, expire, Result{Int: 0}},
	})
	a.wantStored(rewritten, "new", 0)
	a.wantGone(string(keys[1]))
	a.wantStored(unlisted, "v", t0+10) // not listed: still stored, but hidden
	a.wantStored("later", "v", t0+1000)
	v, release = a.f.View()
	defer release()
	if _, ok, _ := v.Get([]byte(unlisted), t0+10); ok {
		t.Errorf("Get(%s) at its deadline: found, want hidden", unlisted)
	}
	if _, ok, _ := v.Get([]byte(unlisted), t0+9); ok {
		t.Errorf("Get(%s) at t0+9, after the state machine's clock reached t0+10: found, want hidden", unlisted)
	}
	if got, ok, _ := v.Get([]byte("later"), t0+999); !ok || string(got) != "v" {
		t.Errorf("Get(later) before its deadline = %q, %v; want v", got, ok)
	}
	if n, err := v.CountExpiring(t0 + 10); err != nil || n != 1 {
		t.Errorf("CountExpiring(t0+10) = %d, %v; want 1 (later)", n, err)
	}
	if n, err := v.Count(t0 + 10); err != nil || n != 2 {
		t.Errorf("Count(t0+10) = %d, %v; want 2 (%s, later)", n, err, rewritten)
	}
}

// TestClockNeverRunsBack: a command proposed with an earlier clock (a new
// leader whose clock is behind) runs at the state machine's time, so a key
// treated as expired stays expired, for writes and for reads.
func TestClockNeverRunsBack(t *testing.T) {
	a := newApplier(t)
	a.at(t0, Command{Op: OpSet, Args: strs("n", "10"), ExpireAt: t0 + 100})
	a.at(t0+200, Command{Op: OpSet, Args: strs("other", "x")})
	if got := a.f.Clock(); got != t0+200 {
		t.Fatalf("Clock() = %d, want %d", got, t0+200)
	}
	v, release := a.f.View()
	_, ok, err := v.Get([]byte("n"), t0+50)
	release()
	if ok || err != nil {
		t.Errorf("Get(n) at t0+50 after the clock reached t0+200: found=%v err=%v; want hidden", ok, err)
	}
	a.run([]step{{t0 + 50, Command{Op: OpIncrBy, Args: strs("n"), Int: 1}, Result{Int: 1}}})
	a.wantStored("n", "1", 0)
	if got := a.f.Clock(); got != t0+200 {
		t.Errorf("Clock() after an earlier Now = %d, want %d", got, t0+200)
	}
	// The clock is durable and travels in snapshots.
	if f2 := newFSM(t, a.eng); f2.Clock() != t0+200 {
		t.Errorf("reopened FSM Clock() = %d, want %d", f2.Clock(), t0+200)
	}
	target := newFSM(t, memEngine(t))
	if err := restoreBytes(target, persist(t, a.f)); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if target.Clock() != t0+200 {
		t.Errorf("restored FSM Clock() = %d, want %d", target.Clock(), t0+200)
	}
}

// TestOldEntriesWithoutNow: an entry written before Command.Now existed
// (flag bit 3 clear) decodes with Now 0 and runs at the state machine's
// clock.
func TestOldEntriesWithoutNow(t *testing.T) {
	old := []byte{1, byte(OpIncrBy), 1, 2, 1, 1, 'k'} // version 1, Int 1, args ["k"]
	c, err := DecodeCommand(old)
	if err != nil || c.Op != OpIncrBy || c.Int != 1 || c.Now != 0 || len(c.Args) != 1 {
		t.Fatalf("DecodeCommand(old entry %x) = %+v, %v; want INCRBY k 1 with Now 0", old, c, err)
	}
	a := newApplier(t)
	a.at(t0, Command{Op: OpSet, Args: strs("k", "5"), ExpireAt: t0 + 10})
	a.at(t0+5, Command{Op: OpSet, Args: strs("other", "x")})
	a.idx++
	r := result(t, a.f.ApplyBatch([]Entry{{Index: a.idx, Command: true, Data: old}}), 0)
	if r.Err != nil || r.Int != 6 {
		t.Errorf("old INCRBY k 1 at clock t0+5 = %s, want 6 (k lives until t0+10)", fmtResult(r))
	}
	a.at(t0+10, Command{Op: OpSet, Args: strs("other", "y")})
	a.idx++
	r = result(t, a.f.ApplyBatch([]Entry{{Index: a.idx, Command: true, Data: old}}), 0)
	if r.Err != nil || r.Int != 1 {
		t.Errorf("old INCRBY k 1 at clock t0+10 = %s, want 1 (k expired)", fmtResult(r))
	}
	a.wantStored("k", "1", 0)
	checkExpiryIndex(t, a.eng)
}

// randomCommand returns a random data command over a few keys, proposed at
// now with deadlines around it.
func randomCommand(r *rand.Rand, now int64) Command {
	key := func() []byte { return []byte{'k', byte('0' + r.IntN(6))} }
	deadline := func() int64 {
		if r.IntN(3) == 0 {
			return 0
		}
		return now + int64(r.IntN(40)) - 10
	}
	var c Command
	switch r.IntN(16) {
	case 0:
		c = Command{Op: OpSet, Args: [][]byte{key(), []byte("v")}, ExpireAt: deadline(), Int: int64(r.IntN(16))}
	case 1:
		c = Command{Op: OpMSet, Args: [][]byte{key(), []byte("1"), key(), []byte("2")}}
	case 2:
		c = Command{Op: OpMSetNX, Args: [][]byte{key(), []byte("3"), key(), []byte("4")}}
	case 3:
		c = Command{Op: OpIncrBy, Args: [][]byte{key()}, Int: int64(r.IntN(5))}
	case 4:
		c = Command{Op: OpIncrByFloat, Args: [][]byte{key(), []byte("0.1")}}
	case 5:
		c = Command{Op: OpAppend, Args: [][]byte{key(), []byte("ab"), []byte("64")}}
	case 6:
		c = Command{Op: OpSetRange, Args: [][]byte{key(), []byte("z"), []byte("64")}, Int: int64(r.IntN(8))}
	case 7:
		c = Command{Op: OpSetBit, Args: [][]byte{key(), []byte("1")}, Int: int64(r.IntN(24))}
	case 8:
		c = Command{Op: OpGetDel, Args: [][]byte{key()}}
	case 9:
		c = Command{Op: OpGetEx, Args: [][]byte{key()}, Int: GetExSet, ExpireAt: deadline()}
		if c.ExpireAt == 0 {
			c.Int = GetExPersist
		}
	case 10:
		c = Command{Op: OpDel, Args: [][]byte{key(), key()}}
	case 11:
		c = Command{Op: OpRename, Args: [][]byte{key(), key()}, Int: int64(r.IntN(2))}
	case 12:
		c = Command{Op: OpCopy, Args: [][]byte{key(), []byte("copy")}, Int: int64(r.IntN(2))}
	case 13:
		c = Command{Op: OpPExpireAt, Args: [][]byte{key(), {byte(1 << r.IntN(5) >> 1)}}, Int: deadline()}
	case 14:
		c = Command{Op: OpPersist, Args: [][]byte{key()}}
	case 15:
		if r.IntN(10) == 0 {
			c = Command{Op: OpFlush}
		} else {
			c = Command{Op: OpExpire, Args: [][]byte{key(), key()}}
		}
	}
	if c.Op == OpPExpireAt && c.Args[1][0] == 0 {
		c.Args = c.Args[:1]
	}
	c.Now = now
	return c
}

// randomLog is a seeded log of data commands whose Now mostly grows and
// sometimes jumps back (a leader with a slower clock).
func randomLog(seed uint64, n int) []Entry {
	r := rand.New(rand.NewPCG(seed, 99))
	now := int64(t0)
	logs := make([]Entry, n)
	for i := range logs {
		now += int64(r.IntN(5))
		at := now
		if r.IntN(20) == 0 {
			at -= 30
		}
		logs[i] = cmdLog(uint64(i+1), randomCommand(r, at))
	}
	return logs
}

// applyInBatches applies logs in random-size batches, checking the expiry
// index after each.
func applyInBatches(t testing.TB, f *FSM, eng storage.Engine, logs []Entry, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	for len(logs) > 0 {
		n := min(len(logs), 1+r.IntN(20))
		f.ApplyBatch(logs[:n])
		checkExpiryIndex(t, eng)
		logs = logs[n:]
	}
}

// TestExpiryDeterministic: the same log gives the same engine contents
// (values, deadlines, expiry index, clock) whatever the wall clock of the
// replica and however raft batches it. The second replica runs in a
// synctest bubble, whose clock says 2000-01-01: if applying read the
// clock, keys would expire differently there.
func TestExpiryDeterministic(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			logs := randomLog(seed, 3000)
			engA := memEngine(t)
			fa := newFSM(t, engA)
			for _, l := range logs {
				fa.ApplyBatch([]Entry{l})
			}
			checkExpiryIndex(t, engA)
			var want map[string]string = dump(t, engA)
			// The engine's own goroutines live outside the bubble.
			engB := memEngine(t)
			fb := newFSM(t, engB)
			synctest.Test(t, func(t *testing.T) {
				if time.Now().Year() != 2000 {
					t.Fatalf("synctest clock says %v, want 2000", time.Now())
				}
				applyInBatches(t, fb, engB, logs, seed)
				if d := diffDumps(dump(t, engB), want); d != "" {
					t.Errorf("replica with another clock and other batches differs:\n%s", d)
				}
			})
			if len(want) < 4 {
				t.Errorf("only %d engine keys after %d commands: the log exercises too little", len(want), len(logs))
			}
		})
	}
}
