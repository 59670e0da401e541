package resp

import (
	"time"

	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/storage"
)

// twoGroups is a sharded node that leads groups 1 (slots 0-5999) and 2
// (6000-11999), each a real single-node raft group of its own, while group
// 3 (12000-16383) is led by n2.
type twoGroups struct {
	g1, g2 *cluster.Router
}

func (f *twoGroups) Sharded() bool { return true }

func (f *twoGroups) Route(slot uint16) (Backend, bool) {
	switch {
	case slot < 6000:
		return f.g1, true
	case slot < 12000:
		return f.g2, true
	}
	return nil, false
}

func (f *twoGroups) Led() []Backend                   { return []Backend{f.g1, f.g2} }
func (f *twoGroups) Local() map[int]Backend           { return map[int]Backend{1: f.g1, 2: f.g2} }
func (f *twoGroups) NotOpen() (string, time.Duration) { return "", 0 }
func (f *twoGroups) RoundAge() time.Duration          { return 0 }

func (f *twoGroups) Groups() []cluster.GroupStatus { return nil }
func (f *twoGroups) Topology() cluster.Topology {
	all := []string{"n1", "n2"}
	return cluster.Topology{Self: "n1", Epoch: 3,
		Nodes: []cluster.TopologyNode{{ID: "n1", ClientAddr: "127.0.0.1:7001", Connected: true}, {ID: "n2", ClientAddr: "127.0.0.1:7002", Connected: true}},
		Groups: []cluster.TopologyGroup{
			{ID: 1, Slots: []cluster.SlotRange{{From: 0, To: 5999}}, Leader: "n1", Replicas: all},
			{ID: 2, Slots: []cluster.SlotRange{{From: 6000, To: 11999}}, Leader: "n1", Replicas: all},
			{ID: 3, Slots: []cluster.SlotRange{{From: 12000, To: 16383}}, Leader: "n2", Replicas: all},
		}}
}

func startTwoGroups(t *testing.T) (*testServer, *twoGroups) {
	t.Helper()
	router := func() *cluster.Router {
		eng := storage.NewMemory()
		t.Cleanup(func() { _ = eng.Close() })
		r, err := cluster.New(cluster.DefaultConfig(), startNode(t, eng))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	meta := router()
	f := &twoGroups{g1: router(), g2: router()}
	return serve(t, meta, func(c *Config) { c.Shards = f }), f
}

// keysIn returns n keys whose slots are within lo..hi.
func keysIn(lo, hi uint16, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		k := fmt.Sprintf("key:%d", i)
		if s := kv.Slot([]byte(k)); s >= lo && s <= hi {
			out = append(out, k)
		}
	}
	return out
}

// count returns the keys of database 0 in r's state.
func count(t *testing.T, r *cluster.Router) int64 {
	t.Helper()
	var n int64
	err := r.Read(context.Background(), cluster.Stale, func(v *kv.View) error {
		var err error
		n, err = v.Count(0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRouteToGroups: each key goes to the group of its slot, pipelines
// included; keyless commands answer for every group this node leads.
func TestRouteToGroups(t *testing.T) {
	ts, f := startTwoGroups(t)
	a, b := keysIn(0, 5999, 3), keysIn(6000, 11999, 3)
	c := dialRaw(t, ts)
	// One pipeline that changes group at every command.
	var pipe string
	var want []string
	for i := range 3 {
		pipe += req("SET", a[i], "a") + req("SET", b[i], "b")
		want = append(want, rOK(), rOK())
	}
	pipe += req("GET", a[0]) + req("GET", b[2])
	want = append(want, rBulk("a"), rBulk("b"))
	c.roundTrip(pipe, want...)
	if n1, n2 := count(t, f.g1), count(t, f.g2); n1 != 3 || n2 != 3 {
		t.Fatalf("group 1 holds %d keys, group 2 %d; want 3 each", n1, n2)
	}
	c.roundTrip(req("DBSIZE"), rInt(6))
	c.send(req("KEYS", "*"))
	got, err := c.reply()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range append(slices.Clone(a), b...) {
		if !strings.Contains(string(got), k+"\r\n") {
			t.Errorf("KEYS * = %q lacks %s", got, k)
		}
	}
	// SCAN with COUNT 1 walks both groups, in slot order, each key once.
	seen := map[string]int{}
	cursor := "0"
	for range 100 {
		c.send(req("SCAN", cursor, "COUNT", "1"))
		raw, err := c.reply()
		if err != nil {
			t.Fatal(err)
		}
		n, _ := parseNode(raw)
		cursor = n.elems[0].text
		for _, e := range n.elems[1].elems {
			seen[e.text]++
		}
		if cursor == "0" {
			break
		}
	}
	if len(seen) != 6 || cursor != "0" {
		t.Errorf("SCAN saw %v, ended at cursor %s; want the 6 keys", seen, cursor)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("SCAN returned %s %d times", k, n)
		}
	}
	// RANDOMKEY answers from either group (each holds 3 of the 6 keys,
	// and every led group has the same chance to answer first).
	fromA, fromB := 0, 0
	for range 64 {
		c.send(req("RANDOMKEY"))
		got, err := c.reply()
		if err != nil || got[0] != '$' || string(got) == "$-1\r\n" {
			t.Fatalf("RANDOMKEY = %q, %v", got, err)
		}
		n, _ := parseNode(got)
		switch {
		case slices.Contains(a, n.text):
			fromA++
		case slices.Contains(b, n.text):
			fromB++
		}
	}
	if fromA == 0 || fromB == 0 {
		t.Errorf("RANDOMKEY x64: %d keys of one group, %d of the other; want both", fromA, fromB)
	}
	c.roundTrip(req("FLUSHALL"), rOK())
	if n1, n2 := count(t, f.g1), count(t, f.g2); n1 != 0 || n2 != 0 {
		t.Errorf("after FLUSHALL group 1 holds %d keys, group 2 %d", n1, n2)
	}
	c.roundTrip(req("DBSIZE"), rInt(0))
}

// TestRouteRedirectsAndCrossSlot: MOVED for a slot led elsewhere,
// CROSSSLOT across slots in a command, MULTI and WATCH; transactions
// within one slot work.
func TestRouteRedirectsAndCrossSlot(t *testing.T) {
	ts, f := startTwoGroups(t)
	a, b, far := keysIn(0, 5999, 2), keysIn(6000, 11999, 1), keysIn(12000, 16383, 1)
	c := dialRaw(t, ts)
	const cross = "CROSSSLOT Keys in request don't hash to the same slot"
	tag := ""
	for i := 0; tag == ""; i++ { // a hash tag of a group led here
		if k := fmt.Sprintf("{t%d}", i); kv.Slot([]byte(k)) < 12000 {
			tag = k
		}
	}
	c.roundTrip(req("GET", far[0]), rErr(fmt.Sprintf("MOVED %d 127.0.0.1:7002", kv.Slot([]byte(far[0])))))
	c.roundTrip(req("MSET", a[0], "1", b[0], "2"), rErr(cross))
	c.roundTrip(req("MSET", tag+"x", "1", tag+"y", "2"), rOK())
	c.roundTrip(req("MGET", tag+"x", tag+"y"), rArr(2)+rBulk("1")+rBulk("2"))

	// MULTI: a second slot is refused and EXEC aborts.
	c.roundTrip(req("MULTI"), rOK())
	c.roundTrip(req("SET", a[0], "1"), "+QUEUED\r\n")
	c.roundTrip(req("SET", b[0], "1"), rErr(cross))
	c.roundTrip(req("EXEC"), rErr("EXECABORT Transaction discarded because of previous errors."))
	// A slot led elsewhere, in MULTI: redirected, and EXEC aborts.
	c.roundTrip(req("MULTI"), rOK())
	c.roundTrip(req("SET", far[0], "1"), rErr(fmt.Sprintf("MOVED %d 127.0.0.1:7002", kv.Slot([]byte(far[0])))))
	c.roundTrip(req("EXEC"), rErr("EXECABORT Transaction discarded because of previous errors."))
	// WATCH holds its slot for the transaction.
	c.roundTrip(req("WATCH", tag+"x"), rOK())
	c.roundTrip(req("MULTI"), rOK())
	c.roundTrip(req("SET", a[0], "1"), rErr(cross))
	c.roundTrip(req("DISCARD"), rOK())
	// Within one slot: atomic, in that slot's group.
	c.roundTrip(req("WATCH", tag+"x"), rOK())
	c.roundTrip(req("MULTI"), rOK())
	c.roundTrip(req("INCR", tag+"n"), "+QUEUED\r\n")
	c.roundTrip(req("INCR", tag+"n"), "+QUEUED\r\n")
	c.roundTrip(req("EXEC"), rArr(2)+rInt(1)+rInt(2))
	// After the transaction, any slot again.
	c.roundTrip(req("SET", b[0], "v"), rOK())
	tagged := f.g1
	if kv.Slot([]byte(tag)) >= 6000 {
		tagged = f.g2
	}
	var n string
	err := tagged.Read(context.Background(), cluster.Stale, func(v *kv.View) error {
		val, ok, err := v.Get([]byte(tag+"n"), 0)
		if ok {
			n = string(val)
		}
		return err
	})
	if err != nil || n != "2" {
		t.Errorf("the tagged counter in its group = %q, %v; want 2", n, err)
	}
	// Redis Cluster's refusals.
	c.roundTrip(req("SELECT", "1"), rErr("ERR SELECT is not allowed in cluster mode"))
	c.roundTrip(req("SELECT", "0"), rOK())
	c.roundTrip(req("MOVE", a[0], "1"), rErr("ERR MOVE is not allowed in cluster mode"))
	c.roundTrip(req("SWAPDB", "0", "1"), rErr("ERR SWAPDB is not allowed in cluster mode"))
	c.roundTrip(req("COPY", tag+"x", tag+"z", "DB", "1"), rErr("ERR Copying to another database is not allowed in cluster mode"))
}
