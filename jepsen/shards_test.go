package jepsen

import (
	"fmt"
	"testing"

	"github.com/riotkv/riot/kv"
)

// keySlot is the server's slot function (kv.Slot), hash tags included.
func TestKeySlotMatchesServer(t *testing.T) {
	keys := []string{"", "a", "j:r1", "j:c17", "{j:acct:0}:0", "{j:acct:1}:4", "x{}y", "{}", "a{b", "a}b{c}", "{user1}.a", "foo{bar}{zap}"}
	for i := range 500 {
		keys = append(keys, fmt.Sprintf("j:q%d", i), fmt.Sprintf("k{t%d}x", i))
	}
	for _, k := range keys {
		if got, want := keySlot(k), kv.Slot([]byte(k)); got != want {
			t.Errorf("keySlot(%q) = %d, kv.Slot = %d", k, got, want)
		}
	}
	for g := range 3 {
		if a0, a3 := bankAccount("j", g, 0, true), bankAccount("j", g, 3, true); keySlot(a0) != keySlot(a3) {
			t.Errorf("generation %d's accounts %s and %s do not share a slot", g, a0, a3)
		}
	}
	if a, b := bankAccount("j", 0, 0, true), bankAccount("j", 1, 0, true); keySlot(a) == keySlot(b) {
		t.Errorf("generations 0 and 1 share a slot (%s, %s)", a, b)
	}
}

func TestParseGroups(t *testing.T) {
	reply := []any{
		[]any{"id", "2", "slots", "5461-10922", "leader", "n2", "leader_client_addr", "10.77.1.12:6379",
			"replicas", []any{"n1", "n2", "n3"}, "state", "none"},
		[]any{"id", "1", "slots", "0-5460,16383", "leader", "n1", "leader_client_addr", "10.77.1.11:6379",
			"replicas", []any{"n1", "n2"}, "state", "follower", "term", "3", "applied_index", "41", "commit_index", "42", "last_index", "42"},
	}
	gs, err := parseGroups(reply)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 2 || gs[0].ID != 1 || gs[1].ID != 2 {
		t.Fatalf("groups %+v: want 1 and 2, sorted", gs)
	}
	g := gs[0]
	if g.Leader != "n1" || g.State != "follower" || g.Applied != 41 || g.Commit != 42 || len(g.Replicas) != 2 ||
		!g.serves(0) || !g.serves(5460) || !g.serves(16383) || g.serves(5461) {
		t.Errorf("group 1 = %+v", g)
	}
	if err := checkCoverage(gs); err == nil {
		t.Error("slots 10923-16382 are in no group, but the coverage check passed")
	}
	gs[1].Slots = []slotRange{{5461, 16382}}
	if err := checkCoverage(gs); err != nil {
		t.Errorf("full coverage: %v", err)
	}
	gs[1].Slots = []slotRange{{5460, 16382}}
	if err := checkCoverage(gs); err == nil {
		t.Error("slot 5460 in two groups, but the coverage check passed")
	}
}

// The router follows MOVED (caching the slot's owner), at most
// maxRedirects times; every other outcome is final, and forgets the
// owner; the op keeps its first call time.
func TestRouterFollowsMovedOnly(t *testing.T) {
	n1, n2 := &Server{ID: "n1", Addr: "10.0.0.1:6379"}, &Server{ID: "n2", Addr: "10.0.0.2:6379"}
	c := &Cluster{all: []*Server{n1, n2}, members: []*Server{n1, n2}}
	rt := newRouter(c)
	const key = "j:r1"
	slot := keySlot(key)
	clock := int64(0)
	// replies: what each attempt answers, in order; "" is OK.
	run := func(replies ...string) (Op, []string) {
		var op Op
		var sent []string
		rt.redirected(key, n1, &op, func(s *Server) {
			clock++
			op.Node, op.Call, op.Return = s.ID, clock, clock
			sent = append(sent, s.ID)
			r := replies[min(len(sent), len(replies))-1]
			switch {
			case r == "":
				op.Status = StatusOK
			case r == "timeout":
				op.Status, op.Err = StatusInfo, "i/o timeout"
			default:
				op.Status, op.Err = StatusFail, r
			}
		})
		return op, sent
	}
	moved := fmt.Sprintf("MOVED %d %s", slot, n2.Addr)
	op, sent := run(moved, "")
	if op.Status != StatusOK || op.Node != "n2" || fmt.Sprint(sent) != "[n1 n2]" || op.Call != 1 || op.Return != 2 {
		t.Fatalf("after MOVED: %+v sent %v; want OK via n2, call 1, return 2", op, sent)
	}
	if _, sent = run(""); fmt.Sprint(sent) != "[n2]" {
		t.Errorf("the owner learned from MOVED was not used: sent %v", sent)
	}
	if op, sent = run("timeout"); op.Status != StatusInfo || len(sent) != 1 {
		t.Errorf("a timeout was retried or reclassified: %+v sent %v", op, sent)
	}
	if _, sent = run(""); fmt.Sprint(sent) != "[n1]" {
		t.Errorf("the owner was not forgotten after a timeout: sent %v", sent)
	}
	if op, sent = run("TRYAGAIN no leader"); op.Status != StatusFail || len(sent) != 1 {
		t.Errorf("TRYAGAIN was retried: %+v sent %v", op, sent)
	}
	op, sent = run(moved)
	if op.Status != StatusFail || len(sent) != 1+maxRedirects {
		t.Errorf("endless MOVED: %+v after %d sends, want a failure after %d", op, len(sent), 1+maxRedirects)
	}
	if got := rt.redirects.Load(); got != 1+maxRedirects {
		t.Errorf("redirects counted %d", got)
	}
}
