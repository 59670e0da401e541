package jepsen

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// isolateFor is how long a node stays cut off: many election timeouts
	// (1s), so that a node without pre-vote would campaign several times.
	isolateFor = 6 * time.Second
	// settleFor is how long elections are watched once the cluster is
	// whole again.
	settleFor = 3 * time.Second
	// maxElectionsAfterHeal bounds the leader terms that may begin once
	// the partition heals: a rejoining node may cost one election (it
	// returns with a higher term), not a storm.
	maxElectionsAfterHeal = 2
)

// TestIsolatedNodeRejoins is the regression test for a node isolated by a
// partition (not a crash) for much longer than the election timeout, once
// a follower and once the leader: under load, the majority keeps one
// leader; when the partition heals the node rejoins the same cluster (one
// configuration, one leader), at most maxElectionsAfterHeal elections
// follow, terms grow by a bounded amount, no two nodes ever lead in the
// same term, a read through the isolated node never returns a value
// overwritten meanwhile, and no acknowledged write is lost (the full
// history checks and the final-state checks).
func TestIsolatedNodeRejoins(t *testing.T) {
	needRoot(t)
	r, err := StartRun(RunConfig{Name: "isolated-rejoin", Seed: 7, Nodes: 3, Bin: serverBin, Dir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatalf("start run: %v", err)
	}
	t.Cleanup(r.Close)
	defer r.Close()
	c, h := r.Cluster, r.History
	for round, which := range []string{"follower", "leader"} {
		ld, err := c.WaitLeader(recoverTimeout)
		if err != nil {
			t.Fatal(err)
		}
		victim := ld
		if which == "follower" {
			victim = c.Members()[slices.IndexFunc(c.Members(), func(s *Server) bool { return s != ld })]
		}
		var others []*Server
		for _, s := range c.Members() {
			if s != victim {
				others = append(others, s)
			}
		}
		termBefore := maxTerm(t, c, c.Members())
		obs := watchElections(c, h)
		probeKey := fmt.Sprintf("probe:isolated:%d", round)
		probe := func(s *Server, op Op) Op {
			cl := newDataClient(s.Addr, 2*time.Second, false)
			defer cl.Close()
			op.Process, op.Key = h.newProcess(), probeKey
			Invoke(h, cl, s, &op, 2*time.Second)
			h.add(op)
			return op
		}
		if op := probe(ld, Op{Kind: OpWrite, Value: "before"}); op.Status != StatusOK {
			t.Fatalf("round %d: %s", round, op)
		}
		start := h.Now()
		if err := c.Net.Partition([]*Host{victim.Host}, hostsOf(others)); err != nil {
			t.Fatal(err)
		}
		// Through the majority: a new value, acknowledged.
		err = waitFor(recoverTimeout, func() error {
			if op := probe(others[0], Op{Kind: OpWrite, Value: "during"}); op.Status != StatusOK {
				return fmt.Errorf("%s", op)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: the majority %s never acknowledged a write with %s cut off: %v", round, ids(others), victim.ID, err)
		}
		// Through the isolated node: an error or "during", never "before".
		if op := probe(victim, Op{Kind: OpRead}); op.Status == StatusOK && op.Value != "during" {
			t.Errorf("round %d: isolated %s %s served GET %s = %q after %q was acknowledged by the majority",
				round, which, victim.ID, probeKey, op.Value, "during")
		}
		sleep(context.Background(), isolateFor) // the fault's duration, as in the nemesis
		victimTerm := term(t, c, victim)
		majorityTerm := maxTerm(t, c, others)
		if err := c.Net.HealPartitions(); err != nil {
			t.Fatal(err)
		}
		healed := h.Now()
		if err := c.WaitHealthy(recoverTimeout); err != nil {
			t.Fatalf("round %d: %s %s did not rejoin one whole cluster: %v", round, which, victim.ID, err)
		}
		rejoined := time.Duration(h.Now() - healed)
		r.Nemesis.record(FaultEvent{Kind: FaultIsolate, Desc: "isolate " + which + " " + victim.ID, Start: start, End: healed, Recovered: rejoined})
		sleep(context.Background(), settleFor) // watch the elections a while longer
		st := obs.stop()
		termAfter := maxTerm(t, c, c.Members())
		after := st.leaderTermsSince(healed)
		t.Logf("round %d: isolated %s %s for %s: terms before %d, isolated node %d, majority %d, after %d; leaders by term %s; "+
			"%d elections after healing; whole again %s after healing",
			round, which, victim.ID, isolateFor, termBefore, victimTerm, majorityTerm, termAfter, st, len(after), rejoined.Round(time.Millisecond))
		if st.splitBrain != "" {
			t.Errorf("round %d: two leaders in one term: %s", round, st.splitBrain)
		}
		if len(after) > maxElectionsAfterHeal {
			t.Errorf("round %d: %d elections (terms %v) after %s rejoined; want at most %d", round, len(after), after, victim.ID, maxElectionsAfterHeal)
		}
		if bound := max(victimTerm, majorityTerm) + maxElectionsAfterHeal; termAfter > bound {
			t.Errorf("round %d: term %d after healing; want at most %d (isolated node %d, majority %d, + %d)", round, termAfter, bound, victimTerm, majorityTerm, maxElectionsAfterHeal)
		}
		for _, s := range c.Members() {
			ps, err := c.Peers(s)
			if err != nil || len(ps) != len(c.Members()) {
				t.Errorf("round %d: RAFT.PEERS on %s = %+v, %v; want the %d members", round, s.ID, ps, err, len(c.Members()))
			}
		}
	}
	rep := r.Finish()
	t.Logf("\n%s", rep)
	if rep.Bad() {
		t.Errorf("isolated-node run failed; artifacts in %s:\n%v", rep.OutDir, rep.Problems)
	}
}

func term(t *testing.T, c *Cluster, s *Server) uint64 {
	t.Helper()
	v, err := c.infoUint(s, "term")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func maxTerm(t *testing.T, c *Cluster, ss []*Server) uint64 {
	t.Helper()
	var m uint64
	for _, s := range ss {
		m = max(m, term(t, c, s))
	}
	return m
}

// electionWatch polls every member's raft state and term.
type electionWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	// leaders: term -> the nodes that reported being leader in it, and
	// when (history clock) that term's leader was first seen.
	leaders    map[uint64][]string
	firstSeen  map[uint64]int64
	splitBrain string
}

type electionStats struct {
	leaders    map[uint64][]string
	firstSeen  map[uint64]int64
	splitBrain string
}

func watchElections(c *Cluster, h *History) *electionWatch {
	// Bounded even if the test never calls stop.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	w := &electionWatch{cancel: cancel, done: make(chan struct{}), leaders: map[uint64][]string{}, firstSeen: map[uint64]int64{}}
	clients := map[*Server]*redis.Client{}
	go func() {
		defer close(w.done)
		defer func() {
			for _, cl := range clients {
				_ = cl.Close()
			}
		}()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, s := range c.Members() {
				cl, ok := clients[s]
				if !ok {
					cl = redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1, PoolSize: 1, ContextTimeoutEnabled: true, DialTimeout: 500 * time.Millisecond})
					clients[s] = cl
				}
				w.observe(ctx, h, s, cl)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *electionWatch) observe(ctx context.Context, h *History, s *Server, cl *redis.Client) {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	txt, err := cl.Do(ctx, "RAFT.INFO").Text()
	if err != nil {
		return
	}
	f := parseInfo(txt)
	if f["state"] != "Leader" {
		return
	}
	tm, err := strconv.ParseUint(f["term"], 10, 64)
	if err != nil {
		return
	}
	now := h.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !slices.Contains(w.leaders[tm], s.ID) {
		w.leaders[tm] = append(w.leaders[tm], s.ID)
		if len(w.leaders[tm]) > 1 && w.splitBrain == "" {
			w.splitBrain = fmt.Sprintf("term %d: %v", tm, w.leaders[tm])
		}
	}
	if _, ok := w.firstSeen[tm]; !ok {
		w.firstSeen[tm] = now
	}
}

func (w *electionWatch) stop() electionStats {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return electionStats{leaders: w.leaders, firstSeen: w.firstSeen, splitBrain: w.splitBrain}
}

// leaderTermsSince returns the terms whose leader was first seen at or
// after t.
func (s electionStats) leaderTermsSince(t int64) []uint64 {
	var out []uint64
	for tm, at := range s.firstSeen {
		if at >= t {
			out = append(out, tm)
		}
	}
	slices.Sort(out)
	return out
}

func (s electionStats) String() string {
	terms := make([]uint64, 0, len(s.leaders))
	for tm := range s.leaders {
		terms = append(terms, tm)
	}
	sort.Slice(terms, func(i, j int) bool { return terms[i] < terms[j] })
	out := "{"
	for i, tm := range terms {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%d:%v", tm, s.leaders[tm])
	}
	return out + "}"
}
