package raftkv_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/raftkv/raftkvtest"
	"github.com/riotkv/riot/storage"
)

// openNode starts a bootstrapped one-node cluster with cfg adjusted by
// configure, and waits until it leads.
func openNode(t *testing.T, configure func(*raftkv.Config)) *raftkv.Node {
	t.Helper()
	eng := storage.NewMemory()
	t.Cleanup(func() { eng.Close() })
	c := raftkvtest.Config(t, "node1")
	c.Bootstrap = true
	configure(&c)
	n, err := raftkv.Open(c, eng)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	raftkvtest.WaitLeader(t, n)
	return n
}

// writeKeys proposes SET key v for count keys named prefix+i, at time now
// with deadline expireAt (0: none), and waits for all of them.
func writeKeys(t *testing.T, nodes []*raftkv.Node, prefix string, count int, now, expireAt int64) {
	t.Helper()
	// SETs are idempotent, so the whole batch is proposed again to the
	// current leader when leadership moves under load.
	for attempt := 0; ; attempt++ {
		n := leaderOf(t, nodes)
		ps := make([]*raftkv.Proposal, count)
		for i := range ps {
			ps[i] = n.Propose(&kv.Command{Op: kv.OpSet, Args: [][]byte{fmt.Appendf(nil, "%s%04d", prefix, i), []byte("v")}, Now: now, ExpireAt: expireAt})
		}
		var retry error
		for i, p := range ps {
			r, err := p.Wait()
			switch {
			case errors.Is(err, raftkv.ErrNotLeader) || errors.Is(err, raftkv.ErrLeadershipLost):
				retry = err
			case err != nil || r.Err != nil:
				t.Fatalf("SET %s%04d: %v, %v", prefix, i, err, r.Err)
			}
		}
		if retry == nil {
			return
		}
		if attempt == 20 {
			t.Fatalf("SET %s*: leadership kept moving: %v", prefix, retry)
		}
	}
}

// expiredLeft returns how many keys the expiry index still lists as
// expired now.
func expiredLeft(t *testing.T, n *raftkv.Node) int {
	t.Helper()
	v, release := n.FSM().View()
	defer release()
	keys, err := v.ExpiredKeys(time.Now().UnixMilli(), 1<<20)
	if err != nil {
		t.Fatalf("ExpiredKeys: %v", err)
	}
	return len(keys)
}

// TestNodeExpireOnceBatches: one round of active expiry deletes at most
// ActiveExpireBatch keys in one entry, and only expired ones.
func TestNodeExpireOnceBatches(t *testing.T) {
	n := openNode(t, func(c *raftkv.Config) { c.ActiveExpireInterval = 0 }) // rounds by hand
	now := time.Now().UnixMilli()
	past := now - time.Hour.Milliseconds()
	writeKeys(t, []*raftkv.Node{n}, "gone", 600, past, past+1) // expired long ago, still stored
	writeKeys(t, []*raftkv.Node{n}, "later", 10, now, now+time.Hour.Milliseconds())
	writeKeys(t, []*raftkv.Node{n}, "plain", 10, now, 0)
	if left := expiredLeft(t, n); left != 600 {
		t.Fatalf("%d expired keys in the index before active expiry, want 600", left)
	}
	for i, want := range []int{256, 256, 88, 0} {
		deleted, listed, err := n.ExpireOnce(testCtx(t))
		if err != nil || deleted != want || listed != want {
			t.Errorf("round %d: ExpireOnce = deleted %d, listed %d, %v; want %d, %d", i, deleted, listed, err, want, want)
		}
	}
	v, release := n.FSM().View()
	defer release()
	count, err1 := v.Count(now)
	expiring, err2 := v.CountExpiring(now)
	if count != 20 || expiring != 10 || err1 != nil || err2 != nil {
		t.Errorf("after active expiry: Count %d (%v), CountExpiring %d (%v); want 20 and 10", count, err1, expiring, err2)
	}
}

// TestNodeActiveExpiry: the leader's background loop deletes expired keys
// by itself.
func TestNodeActiveExpiry(t *testing.T) {
	n := openNode(t, func(c *raftkv.Config) { c.ActiveExpireInterval = 10 * time.Millisecond })
	now := time.Now().UnixMilli()
	past := now - time.Hour.Milliseconds()
	writeKeys(t, []*raftkv.Node{n}, "gone", 700, past, past+1)
	writeKeys(t, []*raftkv.Node{n}, "stay", 5, now, now+time.Hour.Milliseconds())
	ctx := testCtx(t)
	for {
		// Each round of active expiry is a log entry: wait for the next one
		// after the state counted (read the index first, so a round applied
		// in between is not waited for in vain).
		idx := n.FSM().AppliedIndex()
		if expiredLeft(t, n) == 0 {
			break
		}
		if err := n.WaitApplied(ctx, idx+1); err != nil {
			t.Fatalf("%d expired keys left when waiting ended: %v", expiredLeft(t, n), err)
		}
	}
	for i := range 5 {
		wantGet(t, n, fmt.Sprintf("stay%04d", i), "v")
	}
}

// openCluster starts three connected in-memory nodes bootstrapped
// together, with active expiry every 10ms, and returns them once one leads.
func openCluster(t *testing.T) []*raftkv.Node {
	t.Helper()
	return raftkvtest.Cluster(t, 3, func(c *raftkv.Config) { c.ActiveExpireInterval = 10 * time.Millisecond })
}

func leaderOf(t *testing.T, nodes []*raftkv.Node) *raftkv.Node {
	t.Helper()
	ctx := testCtx(t)
	for {
		for _, n := range nodes {
			if n.IsLeader() {
				return n
			}
		}
		select {
		case <-nodes[0].LeaderChanged():
		case <-time.After(10 * time.Millisecond): // another node may win: look again
		case <-ctx.Done():
			t.Fatalf("no leader: %v", ctx.Err())
		}
	}
}

// readIndex returns a read index of the current leader: every node's state
// machine reaches it once it has applied what was committed. (Not raft's
// commit index: right after an election that is the new term's raft no-op,
// which hashicorp/raft does not hand to the state machine, so a node's
// applied index stays below it until the next command.)
func readIndex(t *testing.T, nodes []*raftkv.Node) uint64 {
	t.Helper()
	ctx := testCtx(t)
	for {
		idx, err := leaderOf(t, nodes).ReadIndex(ctx)
		switch {
		case err == nil:
			return idx
		case errors.Is(err, raftkv.ErrNotLeader) || errors.Is(err, raftkv.ErrNotConfirmed):
			if ctx.Err() != nil {
				t.Fatalf("no read index: %v", err)
			}
			// leadership moved under the round: ask the new leader
		default:
			t.Fatalf("ReadIndex: %v", err)
		}
	}
}

// TestExpiryAcrossLeaderChange: keys whose deadline passed are hidden on
// every node and deleted by whichever node leads; a leader change neither
// resurrects them nor expires the others early.
func TestExpiryAcrossLeaderChange(t *testing.T) {
	nodes := openCluster(t)
	leader := leaderOf(t, nodes)
	now := time.Now().UnixMilli()
	past := now - time.Hour.Milliseconds()
	writeKeys(t, nodes, "stale", 300, past, past+1)
	writeKeys(t, nodes, "short", 50, now, now+300)
	writeKeys(t, nodes, "long", 50, now, now+time.Hour.Milliseconds())
	ctx := testCtx(t)
	check := func(when string) {
		t.Helper()
		idx := readIndex(t, nodes)
		for _, n := range nodes {
			if err := n.WaitApplied(ctx, idx); err != nil {
				t.Fatalf("%s: %s WaitApplied(%d): %v", when, n.ID(), idx, err)
			}
			if _, ok := nodeGet(t, n, "stale0000"); ok {
				t.Errorf("%s: %s still shows stale0000, expired an hour ago", when, n.ID())
			}
			if got, ok := nodeGet(t, n, "long0049"); !ok || got != "v" {
				t.Errorf("%s: %s lost long0049 (deadline in an hour): %q, %v", when, n.ID(), got, ok)
			}
		}
	}
	check("before the leader change")
	var next string
	for _, n := range nodes {
		if n != leader {
			next = n.ID()
			break
		}
	}
	if err := leader.TransferLeadership(ctx, next); err != nil {
		t.Fatalf("TransferLeadership to %s: %v", next, err)
	}
	newLeader := leaderOf(t, nodes)
	check("after the leader change")
	// The new leader's active expiry deletes the stale keys and, once their
	// deadline passes, the short ones, on every node.
	for {
		idx := newLeader.FSM().AppliedIndex() // before counting: see TestNodeActiveExpiry
		if expiredLeft(t, newLeader) == 0 && time.Now().UnixMilli() > now+300 {
			break
		}
		if err := newLeader.WaitApplied(ctx, idx+1); err != nil {
			t.Fatalf("%d expired keys left on the new leader %s: %v", expiredLeft(t, newLeader), newLeader.ID(), err)
		}
	}
	check("after active expiry")
	for _, n := range nodes {
		v, release := n.FSM().View()
		left, err := v.ExpiredKeys(now+time.Hour.Milliseconds()-1, 1000)
		count, _ := v.Count(0)
		release()
		if err != nil || len(left) != 0 || count != 50 {
			t.Errorf("%s after active expiry: %d expired keys still stored (%v), %d keys; want 0 and the 50 long ones", n.ID(), len(left), err, count)
		}
	}
}

// TestNodeExpireOnceDatabases: active expiry deletes expired keys of every
// database, proposing each database's keys in an OpExpire of its own.
func TestNodeExpireOnceDatabases(t *testing.T) {
	n := openNode(t, func(c *raftkv.Config) { c.ActiveExpireInterval = 0 }) // rounds by hand
	now := time.Now().UnixMilli()
	past := now - time.Hour.Milliseconds()
	for _, db := range []uint8{0, 1, 9} {
		for i := range 3 {
			c := &kv.Command{Op: kv.OpSet, Args: [][]byte{fmt.Appendf(nil, "k%d", i), []byte("v")}, Now: past, ExpireAt: past + 1, DB: db}
			if r, err := n.Propose(c).Wait(); err != nil || r.Err != nil {
				t.Fatalf("SET in db %d: %v, %v", db, err, r.Err)
			}
		}
	}
	deleted, listed, err := n.ExpireOnce(testCtx(t))
	if err != nil || deleted != 9 || listed != 9 {
		t.Fatalf("ExpireOnce = deleted %d, listed %d, %v; want 9, 9", deleted, listed, err)
	}
	v, release := n.FSM().View()
	defer release()
	for _, db := range []uint8{0, 1, 9} {
		if keys, err := v.DB(db).ExpiredKeys(now, 10); err != nil || len(keys) != 0 {
			t.Errorf("db %d: expired keys left %q, %v", db, keys, err)
		}
	}
}
