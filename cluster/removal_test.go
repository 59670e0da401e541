package cluster

import (
	"testing"
	"time"
)

func TestRemovalNotice(t *testing.T) {
	var n removalNotice // the zero value is ready
	ch := n.c()
	select {
	case <-ch:
		t.Fatal("closed before any notice")
	default:
	}
	n.fire()
	n.fire() // twice is fine
	select {
	case <-n.c():
	default:
		t.Fatal("not closed after fire")
	}
	if n.c() != ch {
		t.Error("c() returned another channel")
	}

	if n.recent("n2", true) {
		t.Error("recent before any removal")
	}
	n.left("n2")
	if !n.recent("n2", true) {
		t.Error("n2, just removed and still with its raft state, is not recent")
	}
	if n.recent("n2", false) {
		t.Error("n2 back with an empty data dir is held back")
	}
	if n.recent("n3", true) {
		t.Error("n3, never removed, is recent")
	}
	n.mu.Lock()
	n.removed["n2"] = time.Now().Add(-removedRecently - time.Second)
	n.mu.Unlock()
	if n.recent("n2", true) {
		t.Errorf("n2 removed more than %s ago is still recent", removedRecently)
	}
	n.left("n3") // prunes n2
	n.mu.Lock()
	_, kept := n.removed["n2"]
	n.mu.Unlock()
	if kept {
		t.Error("an old removal was not pruned")
	}
}
