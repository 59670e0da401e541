package systemtest

// Multi-node tests: real riot-server processes forming a raft cluster on
// 127.0.0.1, driven by go-redis clients (and a raw socket where the test
// must know exactly when a request was sent).
//
// A cluster is formed the way an operator does it by hand: n1 starts
// without --join and bootstraps itself; every other node starts with a
// --join seed where no node listens (so it does not bootstrap, and gossip
// finds no one) and is added with RAFT.JOIN, sent to a member. Membership
// is thus manual: automatic changes driven by gossip do not interfere.
// Node IDs are n1, n2, ...

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// electionTimeout bounds the wait for a new leader after the old one
	// crashed, paused or left.
	electionTimeout = 10 * time.Second
	// stableTimeout bounds forming (or re-forming, after restarts) a
	// cluster whose every node agrees on members, addresses and leader.
	stableTimeout = 30 * time.Second
	// joinPlaceholder is the --join value of nodes that wait to be added
	// with RAFT.JOIN: it makes them not bootstrap, and as no gossip node
	// listens there, they stay out of gossip.
	joinPlaceholder = "127.0.0.1:1"
	// pollTimeout bounds one request of a polling loop.
	pollTimeout = 3 * time.Second
)

// memberID is the --node-id of the i-th node of a test cluster.
func memberID(i int) string { return fmt.Sprintf("n%d", i) }

// admin returns the node's client for polling and cluster commands: a
// request's context deadline bounds it (so a poll of a paused node gives
// up), and it never retries.
func (n *node) admin() *redis.Client {
	n.adminOnce.Do(func() {
		n.adminC = redis.NewClient(&redis.Options{
			Addr:                  n.Addr,
			Protocol:              2,
			DialTimeout:           2 * time.Second,
			ReadTimeout:           15 * time.Second,
			WriteTimeout:          5 * time.Second,
			ContextTimeoutEnabled: true,
			MaxRetries:            -1,
			PoolSize:              2,
		})
		c := n.adminC
		n.t.Cleanup(func() { _ = c.Close() })
	})
	return n.adminC
}

// do runs one command on the node's admin client, bounded by pollTimeout.
func (n *node) do(args ...any) *redis.Cmd { return n.doWithin(pollTimeout, args...) }

// doWithin runs one command on the node's admin client, bounded by d.
func (n *node) doWithin(d time.Duration, args ...any) *redis.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return n.admin().Do(ctx, args...)
}

// changeTimeout bounds a command that changes the cluster (transfer,
// join, leave): above the server's 10s command timeout.
const changeTimeout = 12 * time.Second

// startCluster starts size nodes (n1 bootstraps, the others are added with
// RAFT.JOIN, each sent to the node added before it, so that joins through a
// follower are forwarded) with extra flags on every node, and waits until
// every node lists all of them as voters with their client addresses and
// agrees on the leader.
func startCluster(t *testing.T, size int, extra ...string) []*node {
	t.Helper()
	first := startSpec(t, spec{dataDir: t.TempDir(), extra: append([]string{"--node-id", memberID(1)}, extra...)})
	nodes := []*node{first}
	for i := 2; i <= size; i++ {
		nodes = append(nodes, addNode(t, nodes[len(nodes)-1], memberID(i), true, extra...))
	}
	waitCluster(t, nodes)
	return nodes
}

// addNode starts a node with --join and adds it with RAFT.JOIN sent to via
// (as a non-voter unless voter). It returns once RAFT.JOIN replied OK; the
// node may not have caught up yet.
func addNode(t *testing.T, via *node, id string, voter bool, extra ...string) *node {
	t.Helper()
	n := launch(t, spec{dataDir: t.TempDir(), extra: append([]string{"--node-id", id, "--join", joinPlaceholder}, extra...)})
	if n.NodeID != id {
		t.Fatalf("node started with --node-id %s reports node_id %q", id, n.NodeID)
	}
	args := []any{"RAFT.JOIN", id, n.RaftAddr}
	if !voter {
		args = append(args, "NONVOTER")
	}
	// RAFT.JOIN is idempotent, so it is sent again after errors that may
	// be transient (no leader yet, a timeout).
	waitFor(t, stableTimeout, func() error {
		got, err := via.doWithin(changeTimeout, args...).Text()
		if err != nil {
			return fmt.Errorf("%v via %s: %w", args, via.NodeID, err)
		}
		if got != "OK" {
			t.Fatalf("%v via %s = %q, want OK", args, via.NodeID, got)
		}
		return nil
	})
	return n
}

// peerInfo is one entry of RAFT.PEERS.
type peerInfo struct {
	ID, RaftAddr, ClientAddr, Suffrage, Role string
}

// peerFields are the fields of a RAFT.PEERS entry.
var peerFields = []string{"id", "raft_addr", "client_addr", "suffrage", "role"}

// parsePeers parses a RAFT.PEERS reply: an array of maps (RESP3) or of flat
// field/value arrays (RESP2), each with at least peerFields. Entries of
// nodes outside the raft configuration (suffrage "none", known only from
// gossip) are left out.
func parsePeers(reply any) ([]peerInfo, error) {
	arr, ok := reply.([]any)
	if !ok {
		return nil, fmt.Errorf("RAFT.PEERS reply %#v is not an array", reply)
	}
	out := make([]peerInfo, 0, len(arr))
	for _, e := range arr {
		m, err := fieldMap(e)
		if err != nil {
			return nil, fmt.Errorf("RAFT.PEERS entry: %w", err)
		}
		for _, f := range peerFields {
			if _, ok := m[f]; !ok {
				return nil, fmt.Errorf("RAFT.PEERS entry %v lacks %q", m, f)
			}
		}
		if m["suffrage"] == "none" {
			continue
		}
		out = append(out, peerInfo{ID: m["id"], RaftAddr: m["raft_addr"], ClientAddr: m["client_addr"], Suffrage: m["suffrage"], Role: m["role"]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// fieldMap turns a map reply (RESP3) or a flat field/value array (RESP2) of
// strings into a Go map.
func fieldMap(v any) (map[string]string, error) {
	m := map[string]string{}
	put := func(k, v any) error {
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("field %#v = %#v: want strings", k, v)
		}
		if _, dup := m[ks]; dup {
			return fmt.Errorf("field %q given twice", ks)
		}
		m[ks] = vs
		return nil
	}
	switch r := v.(type) {
	case map[any]any:
		for k, v := range r {
			if err := put(k, v); err != nil {
				return nil, err
			}
		}
	case []any:
		if len(r)%2 != 0 {
			return nil, fmt.Errorf("flat map %#v has an odd length", r)
		}
		for i := 0; i < len(r); i += 2 {
			if err := put(r[i], r[i+1]); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("%#v is neither a map nor an array", v)
	}
	return m, nil
}

// peersOf returns RAFT.PEERS of n, sorted by ID.
func peersOf(n *node) ([]peerInfo, error) {
	v, err := n.do("RAFT.PEERS").Result()
	if err != nil {
		return nil, fmt.Errorf("RAFT.PEERS on %s: %w", n.NodeID, err)
	}
	return parsePeers(v)
}

// checkPeers reports how ps differs from want: the same servers at the same
// addresses, with the given suffrage, and exactly one leader, whose ID it
// returns.
func checkPeers(ps []peerInfo, want []*node, nonvoters ...string) (leaderID string, err error) {
	if len(ps) != len(want) {
		return "", fmt.Errorf("%d peers %+v, want %d", len(ps), ps, len(want))
	}
	byID := map[string]peerInfo{}
	for _, p := range ps {
		byID[p.ID] = p
		if p.Role == "leader" {
			if leaderID != "" {
				return "", fmt.Errorf("two leaders in %+v", ps)
			}
			leaderID = p.ID
		} else if p.Role != "follower" {
			return "", fmt.Errorf("peer %s has role %q, want leader or follower", p.ID, p.Role)
		}
	}
	for _, n := range want {
		p, ok := byID[n.NodeID]
		if !ok {
			return "", fmt.Errorf("%s missing from %+v", n.NodeID, ps)
		}
		suffrage := "voter"
		if slices.Contains(nonvoters, n.NodeID) {
			suffrage = "nonvoter"
		}
		if p.RaftAddr != n.RaftAddr || p.ClientAddr != n.Addr || p.Suffrage != suffrage {
			return "", fmt.Errorf("peer %+v, want raft_addr %s client_addr %s suffrage %s", p, n.RaftAddr, n.Addr, suffrage)
		}
	}
	if leaderID == "" {
		return "", fmt.Errorf("no leader in %+v", ps)
	}
	return leaderID, nil
}

// clusterState reports whether every node of nodes is up and lists exactly
// nodes (as voters, but for nonvoters) with their current addresses and the
// same leader, which itself reports RAFT.STATE leader. It returns that
// leader.
func clusterState(nodes []*node, nonvoters ...string) (*node, error) {
	agreed := ""
	for _, n := range nodes {
		if !n.up() {
			return nil, fmt.Errorf("%s is not running", n.NodeID)
		}
		ps, err := peersOf(n)
		if err != nil {
			return nil, err
		}
		lid, err := checkPeers(ps, nodes, nonvoters...)
		if err != nil {
			return nil, fmt.Errorf("on %s: %w", n.NodeID, err)
		}
		if agreed != "" && lid != agreed {
			return nil, fmt.Errorf("%s says the leader is %s, another node says %s", n.NodeID, lid, agreed)
		}
		agreed = lid
	}
	ld := byID(nodes, agreed)
	if st, err := ld.do("RAFT.STATE").Text(); err != nil || st != "leader" {
		return nil, fmt.Errorf("RAFT.STATE of %s = %q, %v; want leader", agreed, st, err)
	}
	return ld, nil
}

// waitCluster waits until clusterState holds and returns the leader.
func waitCluster(t *testing.T, nodes []*node, nonvoters ...string) *node {
	t.Helper()
	var ld *node
	waitFor(t, stableTimeout, func() error {
		var err error
		ld, err = clusterState(nodes, nonvoters...)
		return err
	})
	return ld
}

func byID(nodes []*node, id string) *node {
	for _, n := range nodes {
		if n.NodeID == id {
			return n
		}
	}
	return nil
}

// findLeader returns the node that leads: the only node that is up and
// reports RAFT.STATE leader, and that a majority of nodes (itself included)
// name in RAFT.LEADER. Nodes that are down or paused are not asked.
func findLeader(nodes []*node) (*node, error) {
	var ld *node
	names := map[string]int{}
	for _, n := range nodes {
		if !n.up() {
			continue
		}
		st, err := n.do("RAFT.STATE").Text()
		if err != nil {
			return nil, fmt.Errorf("RAFT.STATE on %s: %w", n.NodeID, err)
		}
		if st == "leader" {
			if ld != nil {
				return nil, fmt.Errorf("both %s and %s report RAFT.STATE leader", ld.NodeID, n.NodeID)
			}
			ld = n
		}
		if l, err := n.do("RAFT.LEADER").StringSlice(); err == nil && len(l) == 3 {
			names[l[0]]++
		}
	}
	if ld == nil {
		return nil, errors.New("no node reports RAFT.STATE leader")
	}
	if names[ld.NodeID] < len(nodes)/2+1 {
		return nil, fmt.Errorf("%s reports leader, but RAFT.LEADER names are %v", ld.NodeID, names)
	}
	return ld, nil
}

// leader waits up to electionTimeout for findLeader to find the leader.
func leader(t *testing.T, nodes []*node) *node {
	t.Helper()
	var ld *node
	waitFor(t, electionTimeout, func() error {
		var err error
		ld, err = findLeader(nodes)
		return err
	})
	return ld
}

// followersOf returns the nodes other than ld, in order.
func followersOf(nodes []*node, ld *node) []*node {
	var out []*node
	for _, n := range nodes {
		if n != ld {
			out = append(out, n)
		}
	}
	return out
}

// clientsFor returns one go-redis client per node (RESP2, no retries).
func clientsFor(t *testing.T, nodes []*node) []*redis.Client {
	t.Helper()
	cs := make([]*redis.Client, len(nodes))
	for i, n := range nodes {
		cs[i] = newClient(t, n.Addr, 2)
	}
	return cs
}

// errClass names the kind of a command error for the tallies: the reply's
// error code (CLUSTERDOWN, TRYAGAIN, UNCERTAIN, TIMEOUT, ERR, ...) or
// "conn" for a transport error.
func errClass(err error) string {
	var re redis.Error
	if errors.As(err, &re) {
		code, _, _ := strings.Cut(re.Error(), " ")
		return code
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "connection reset") ||
		strings.Contains(err.Error(), "broken pipe") {
		return "conn"
	}
	return "other"
}

// okClasses are the errors a client may get while a node crashes or an
// election runs: nothing applied, outcome unknown, or a broken connection.
var okClasses = map[string]bool{"CLUSTERDOWN": true, "TRYAGAIN": true, "UNCERTAIN": true, "TIMEOUT": true, "conn": true}

// TestClusterWriteFollowerReadEverywhere: a write through any node is seen
// at once by a (default, linearizable) read through every node.
func TestClusterWriteFollowerReadEverywhere(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 3)
	ctx := testCtx(t, 2*time.Minute)
	ld := leader(t, nodes)
	fs := followersOf(nodes, ld)
	cs := clientsFor(t, nodes)
	client := func(n *node) *redis.Client { return cs[slices.Index(nodes, n)] }

	if got, err := client(fs[0]).Set(ctx, "fw:k", "v1", 0).Result(); err != nil || got != "OK" {
		t.Fatalf("SET via follower %s = %q, %v; want OK", fs[0].NodeID, got, err)
	}
	for i, c := range cs {
		if got, err := c.Get(ctx, "fw:k").Result(); err != nil || got != "v1" {
			t.Errorf("GET fw:k via %s right after SET via %s = %q, %v; want v1", nodes[i].NodeID, fs[0].NodeID, got, err)
		}
	}

	for i, c := range cs {
		if got, err := c.Incr(ctx, "fw:ctr").Result(); err != nil || got != int64(i+1) {
			t.Errorf("INCR fw:ctr via %s = %d, %v; want %d", nodes[i].NodeID, got, err, i+1)
		}
	}
	for i, c := range cs {
		if got, err := c.Get(ctx, "fw:ctr").Result(); err != nil || got != "3" {
			t.Errorf("GET fw:ctr via %s = %q, %v; want 3", nodes[i].NodeID, got, err)
		}
	}

	if got, err := client(fs[0]).MSet(ctx, "fw:a", "1", "fw:b", "2", "fw:c", "3").Result(); err != nil || got != "OK" {
		t.Fatalf("MSET via follower %s = %q, %v; want OK", fs[0].NodeID, got, err)
	}
	for _, n := range []*node{fs[1], ld} {
		vals, err := client(n).MGet(ctx, "fw:a", "fw:b", "fw:missing", "fw:c").Result()
		if want := []any{"1", "2", nil, "3"}; err != nil || fmt.Sprint(vals) != fmt.Sprint(want) || vals[2] != nil {
			t.Errorf("MGET via %s after MSET via %s = %#v, %v; want %#v", n.NodeID, fs[0].NodeID, vals, err, want)
		}
	}

	// Writes pipelined to a follower travel to the leader as one
	// transaction (one request record, counted as one command by the
	// leader's state machine), and each gets its own reply, in order.
	before := raftInfo(ctx, t, client(ld))["riot_apply_commands"]
	cmds, err := client(fs[0]).Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "fw:p1", "a", 0)
		p.Incr(ctx, "fw:pn")
		p.Append(ctx, "fw:p1", "b")
		p.Incr(ctx, "fw:p1") // not an integer: an error for this write only
		p.IncrBy(ctx, "fw:pn", 10)
		p.Set(ctx, "fw:p2", "c", 0)
		p.Del(ctx, "fw:p2", "fw:missing")
		p.Incr(ctx, "fw:pn")
		return nil
	})
	var got []string
	for _, c := range cmds {
		switch c := c.(type) {
		case *redis.StatusCmd:
			got = append(got, c.Val())
		case *redis.IntCmd:
			got = append(got, strconv.FormatInt(c.Val(), 10))
		default:
			got = append(got, fmt.Sprintf("%T", c))
		}
	}
	_ = err // the INCR's error; each command's is checked below
	if want := []string{"OK", "1", "2", "0", "11", "OK", "1", "12"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pipeline via follower %s: replies %q, want %q", fs[0].NodeID, got, want)
	}
	if err := cmds[3].Err(); err == nil || !strings.Contains(err.Error(), "not an integer") {
		t.Errorf("INCR of a string in the pipeline: err = %v, want ERR value is not an integer", err)
	}
	for i, c := range cmds {
		if err := c.Err(); i != 3 && err != nil {
			t.Errorf("pipeline via follower: command %d (%s): %v", i, c.Name(), err)
		}
	}
	after := raftInfo(ctx, t, client(ld))["riot_apply_commands"]
	b, _ := strconv.Atoi(before)
	a, _ := strconv.Atoi(after)
	if a-b < 1 || a-b > 3 {
		t.Errorf("the leader applied %d commands for 8 writes pipelined to a follower (riot_apply_commands %s -> %s); want them in one to three transactions", a-b, before, after)
	}
	for _, n := range []*node{ld, fs[1]} {
		if got, err := client(n).Get(ctx, "fw:p1").Result(); err != nil || got != "ab" {
			t.Errorf("GET fw:p1 via %s = %q, %v; want ab", n.NodeID, got, err)
		}
	}

	// Write through one node, read at once through the next, round the
	// cluster: every read sees the write before it.
	for i := range 30 {
		w, r := cs[i%3], cs[(i+1)%3]
		v := fmt.Sprintf("round-%d", i)
		if got, err := w.Set(ctx, "fw:k", v, 0).Result(); err != nil || got != "OK" {
			t.Fatalf("SET fw:k %s via %s = %q, %v; want OK", v, nodes[i%3].NodeID, got, err)
		}
		if got, err := r.Get(ctx, "fw:k").Result(); err != nil || got != v {
			t.Fatalf("GET fw:k via %s right after SET %s via %s = %q, %v", nodes[(i+1)%3].NodeID, v, nodes[i%3].NodeID, got, err)
		}
	}
	if got, err := client(fs[1]).Del(ctx, "fw:k", "fw:a").Result(); err != nil || got != 2 {
		t.Fatalf("DEL via follower = %d, %v; want 2", got, err)
	}
	for i, c := range cs {
		if _, err := c.Get(ctx, "fw:k").Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("GET fw:k via %s after DEL: err = %v, want nil reply", nodes[i].NodeID, err)
		}
	}
}

// loadOp is one write of TestClusterLeaderKill9UnderLoad: INCR of a
// counter, or (counter -1) SET key val.
type loadOp struct {
	counter  int
	key, val string
}

// runLoadOps sends ops, pipelined when there are several, and returns
// each one's error.
func runLoadOps(ctx context.Context, c *redis.Client, ops []loadOp) []error {
	send := func(p redis.Cmdable, op loadOp) redis.Cmder {
		if op.counter >= 0 {
			return p.Incr(ctx, counterKey(op.counter))
		}
		return p.Set(ctx, op.key, op.val, 0)
	}
	errs := make([]error, len(ops))
	if len(ops) == 1 {
		cmds := []redis.Cmder{send(c, ops[0])}
		errs[0] = cmdErr(cmds[0])
		return errs
	}
	cmds, perr := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, op := range ops {
			send(p, op)
		}
		return nil
	})
	// When the connection failed, go-redis may leave the commands it got
	// no reply for without an error: they have the pipeline's.
	var re redis.Error
	broken := perr != nil && !errors.As(perr, &re)
	for i := range ops {
		switch {
		case i >= len(cmds):
			errs[i] = errors.New("pipeline returned fewer replies")
		case cmds[i].Err() == nil && broken:
			errs[i] = perr
		default:
			errs[i] = cmdErr(cmds[i])
		}
	}
	return errs
}

// cmdErr is a command's error, or one for a SET answered other than OK.
func cmdErr(cmd redis.Cmder) error {
	if err := cmd.Err(); err != nil {
		return err
	}
	if s, ok := cmd.(*redis.StatusCmd); ok && s.Val() != "OK" {
		return fmt.Errorf("SET reply %q", s.Val())
	}
	return nil
}

// loadTally is what one load worker saw.
type loadTally struct {
	sets               map[string]string // acknowledged SETs
	attempted          int               // SETs sent
	incrOK, incrFailed []int64           // per counter
	acked              int64
	errs               map[string]int // by errClass
	firstOther         error          // the first error of an unexpected class
}

// TestClusterLeaderKill9UnderLoad: six clients write through all three
// nodes while the leader is killed with SIGKILL; a new leader takes over,
// the writes go on, the killed node comes back, and every acknowledged
// write is on every node.
func TestClusterLeaderKill9UnderLoad(t *testing.T) {
	t.Parallel()
	const (
		workers     = 6
		counters    = 3
		killAfter   = 1500            // acknowledged ops before the kill,
		killByTime  = 2 * time.Second // or this much load, whichever is first
		afterLeader = 1000            // acknowledged ops on the survivors after the new leader
		loadLimit   = time.Minute     // hard bound of the load
	)
	nodes := startCluster(t, 3)
	ctx := testCtx(t, 3*time.Minute)
	old := leader(t, nodes)
	oldIdx := slices.Index(nodes, old)

	var (
		acked    atomic.Int64
		killed   atomic.Bool
		stopLoad atomic.Bool
		tallies  = make([]loadTally, workers)
		wg       sync.WaitGroup
	)
	clients := make([]*redis.Client, workers)
	for w := range clients {
		clients[w] = newClient(t, nodes[w%len(nodes)].Addr, 2)
	}
	begin := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, tl := clients[w], &tallies[w]
			onKilled := w%len(nodes) == oldIdx
			tl.sets = map[string]string{}
			tl.incrOK, tl.incrFailed = make([]int64, counters), make([]int64, counters)
			tl.errs = map[string]int{}
			// Odd workers pipeline four writes at a time, which a follower
			// forwards as one transaction: retried as a whole when the
			// leader dies under it, and applied at most once.
			batch := 1
			if w%2 == 1 {
				batch = 4
			}
			for i := 0; !stopLoad.Load() && time.Since(begin) < loadLimit; i++ {
				ops := make([]loadOp, batch)
				for j := range ops {
					n := i*batch + j
					if n%4 == 3 {
						ops[j] = loadOp{counter: (w + n) % counters}
					} else {
						ops[j] = loadOp{counter: -1, key: fmt.Sprintf("load:%d:%d", w, n), val: fmt.Sprintf("v%d-%d", w, n)}
						tl.attempted++
					}
				}
				errs := runLoadOps(ctx, c, ops)
				for j, op := range ops {
					err := errs[j]
					switch {
					case op.counter >= 0 && err == nil:
						tl.incrOK[op.counter]++
					case op.counter >= 0:
						tl.incrFailed[op.counter]++
					case err == nil:
						tl.sets[op.key] = op.val
					}
					if err == nil {
						tl.acked++
						acked.Add(1)
						continue
					}
					cls := errClass(err)
					tl.errs[cls]++
					if !okClasses[cls] && tl.firstOther == nil {
						tl.firstOther = fmt.Errorf("op %d: %w", i*batch+j, err)
					}
				}
				if onKilled && killed.Load() && slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
					return // its node is gone
				}
			}
		}()
	}
	stopAll := func() {
		stopLoad.Store(true)
		wg.Wait()
	}
	defer stopAll()

	waitFor(t, time.Minute, func() error {
		if acked.Load() >= killAfter || time.Since(begin) >= killByTime {
			return nil
		}
		return fmt.Errorf("%d ops acknowledged", acked.Load())
	})
	ackedAtKill := acked.Load()
	killed.Store(true)
	old.Kill()
	killedAt := time.Now()
	nl := leader(t, nodes) // skips the dead node; a majority must agree
	failover := time.Since(killedAt)
	ackedAtLeader := acked.Load()
	// The survivors keep taking writes.
	waitFor(t, 30*time.Second, func() error {
		if n := acked.Load() - ackedAtLeader; n < afterLeader {
			return fmt.Errorf("only %d ops acknowledged since %s was elected", n, nl.NodeID)
		}
		return nil
	})
	stopAll()
	t.Logf("killed leader %s after %s and %d acknowledged ops; %s leads after %s; %d ops acknowledged in all",
		old.NodeID, killedAt.Sub(begin).Round(time.Millisecond), ackedAtKill, nl.NodeID, failover.Round(time.Millisecond), acked.Load())

	// Bring the killed node back on its data dir and raft address.
	nodes[oldIdx] = old.Relaunch()
	waitCluster(t, nodes)

	want := map[string]string{}
	attempted := 0
	incrOK, incrFailed := make([]int64, counters), make([]int64, counters)
	errs := map[string]int{}
	for w, tl := range tallies {
		if tl.firstOther != nil {
			t.Errorf("worker %d (via %s): unexpected error: %v", w, nodes[w%len(nodes)].NodeID, tl.firstOther)
		}
		maps.Copy(want, tl.sets)
		attempted += tl.attempted
		for i := range counters {
			incrOK[i] += tl.incrOK[i]
			incrFailed[i] += tl.incrFailed[i]
		}
		for k, v := range tl.errs {
			errs[k] += v
		}
	}
	t.Logf("acknowledged: %d SETs of %d sent, INCR %v; failed INCR %v; errors by class %v",
		len(want), attempted, incrOK, incrFailed, errs)

	cs := clientsFor(t, nodes)
	var sizes []int64
	for i, c := range cs {
		checkKeys(ctx, t, c, want)
		nonZero := 0
		for j := range counters {
			got, err := c.Get(ctx, counterKey(j)).Int64()
			if errors.Is(err, redis.Nil) {
				got, err = 0, nil
			}
			if err != nil {
				t.Fatalf("GET %s via %s: %v", counterKey(j), nodes[i].NodeID, err)
			}
			if got < incrOK[j] || got > incrOK[j]+incrFailed[j] {
				t.Errorf("%s via %s = %d; want between %d acknowledged and %d sent INCRs",
					counterKey(j), nodes[i].NodeID, got, incrOK[j], incrOK[j]+incrFailed[j])
			}
			if i > 0 {
				if first, err := cs[0].Get(ctx, counterKey(j)).Int64(); err == nil && first != got {
					t.Errorf("%s = %d via %s but %d via %s", counterKey(j), got, nodes[i].NodeID, first, nodes[0].NodeID)
				}
			}
			if got > 0 {
				nonZero++
			}
		}
		size, err := c.DBSize(ctx).Result()
		if err != nil {
			t.Fatalf("DBSIZE via %s: %v", nodes[i].NodeID, err)
		}
		if size < int64(len(want)+nonZero) || size > int64(attempted+nonZero) {
			t.Errorf("DBSIZE via %s = %d, want between %d and %d", nodes[i].NodeID, size, len(want)+nonZero, attempted+nonZero)
		}
		sizes = append(sizes, size)
	}
	if sizes[0] != sizes[1] || sizes[1] != sizes[2] {
		t.Errorf("DBSIZE differs between nodes: %v", sizes)
	}
}

// rawConn is a RESP2 connection whose requests are on the wire when send
// returns, for a request that must be pending while the server is paused.
type rawConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{c: c, r: bufio.NewReader(c)}
}

func (rc *rawConn) send(args ...string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_ = rc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := io.WriteString(rc.c, b.String())
	return err
}

// read returns one reply: a simple string or bulk string, "(nil)" for a
// nil bulk, or an error for an error reply (or a broken connection).
func (rc *rawConn) read(timeout time.Duration) (string, error) {
	_ = rc.c.SetReadDeadline(time.Now().Add(timeout))
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", redisReplyError(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad bulk header %q", line)
		}
		if n < 0 {
			return "(nil)", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rc.r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

type redisReplyError string

func (e redisReplyError) Error() string { return string(e) }

// TestClusterPausedLeaderNoStaleRead: a leader that is paused (SIGSTOP)
// while the others elect a new one and acknowledge a write must not, once
// resumed, answer a read with the value from before that write, not even
// for a request that was already waiting on its socket.
func TestClusterPausedLeaderNoStaleRead(t *testing.T) {
	t.Parallel()
	const rounds = 3
	nodes := startCluster(t, 3)
	ctx := testCtx(t, 3*time.Minute)
	for round := range rounds {
		ld := leader(t, nodes)
		k := fmt.Sprintf("pause:%d", round)
		// Connections to the old leader are opened before the pause.
		oldC := newClient(t, ld.Addr, 2)
		if got, err := oldC.Set(ctx, k, "old", 0).Result(); err != nil || got != "OK" {
			t.Fatalf("round %d: SET %s old via leader %s = %q, %v", round, k, ld.NodeID, got, err)
		}
		raw := dialRaw(t, ld.Addr)
		if err := raw.send("GET", k); err != nil {
			t.Fatalf("round %d: send GET: %v", round, err)
		}
		if got, err := raw.read(10 * time.Second); err != nil || got != "old" {
			t.Fatalf("round %d: GET %s via %s before the pause = %q, %v; want old", round, k, ld.NodeID, got, err)
		}

		ld.Pause()
		paused := time.Now()
		nl := leader(t, nodes) // among the others
		elected := time.Since(paused)
		nc := newClient(t, nl.Addr, 2)
		// SET is sent again after an error (the new leader may still be
		// settling): the value is the same, so the write is acknowledged
		// once one SET is.
		waitFor(t, electionTimeout, func() error {
			return nc.Set(ctx, k, "new", 0).Err()
		})
		// Acknowledged. Now requests reach the paused old leader: the raw
		// one is surely on its socket before it resumes.
		if err := raw.send("GET", k); err != nil {
			t.Fatalf("round %d: send GET to the paused node: %v", round, err)
		}
		type reply struct {
			v   string
			err error
		}
		pooled := make(chan reply, 1)
		go func() {
			v, err := oldC.Get(ctx, k).Result()
			pooled <- reply{v, err}
		}()
		ld.Resume()

		got, err := raw.read(20 * time.Second)
		if err == nil && got != "new" {
			t.Errorf("round %d: GET %s pending on paused old leader %s returned %q after SET new was acknowledged by %s; want new or an error",
				round, k, ld.NodeID, got, nl.NodeID)
		}
		t.Logf("round %d: %s paused, %s elected after %s; pending GET on the old leader: %q, %v",
			round, ld.NodeID, nl.NodeID, elected.Round(time.Millisecond), got, err)
		if r := <-pooled; r.err == nil && r.v != "new" {
			t.Errorf("round %d: GET %s via go-redis on old leader %s = %q after SET new was acknowledged; want new or an error", round, k, ld.NodeID, r.v)
		}

		// Every later read through the old node: new or an error, never
		// old; and it soon serves new.
		served := 0
		waitFor(t, stableTimeout, func() error {
			v, err := oldC.Get(ctx, k).Result()
			switch {
			case err != nil:
				return err
			case v != "new":
				t.Fatalf("round %d: GET %s via old leader %s = %q after SET new was acknowledged; want new", round, k, ld.NodeID, v)
			}
			if served++; served < 5 {
				return fmt.Errorf("%d reads served", served)
			}
			return nil
		})
		waitCluster(t, nodes)
	}
}

// TestClusterCatchUpBySnapshot: a node that joins after the leader has
// compacted its log catches up by installing a snapshot.
func TestClusterCatchUpBySnapshot(t *testing.T) {
	t.Parallel()
	const (
		keys    = 100000
		perMSET = 4
		batch   = 1000
		// Pipelined writes share log entries, so the keys take few. pad
		// single SETs, each an entry of its own, make the log longer than
		// the 10240 entries kept after a snapshot. One at a time: the
		// leader's group commit packs concurrent writes into one entry.
		pad = 11000
	)
	flags := []string{"--snapshot-threshold", "1000"}
	nodes := startCluster(t, 3, flags...)
	ctx := testCtx(t, 3*time.Minute)
	ld := leader(t, nodes)
	c := newClient(t, ld.Addr, 2)

	begin := time.Now()
	for lo := 0; lo < keys; lo += batch * perMSET {
		cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := lo; i < min(lo+batch*perMSET, keys); i += perMSET {
				var kv []any
				for j := i; j < min(i+perMSET, keys); j++ {
					kv = append(kv, key("snap", j), value("snap", j))
				}
				p.MSet(ctx, kv...)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("pipelined MSET from key %d: %v", lo, err)
		}
		for _, cmd := range cmds {
			if s, err := cmd.(*redis.StatusCmd).Result(); err != nil || s != "OK" {
				t.Fatalf("MSET %v...: %q, %v; want OK", cmd.Args()[:3], s, err)
			}
		}
	}
	for i := range pad {
		if err := c.Set(ctx, key("pad", i), "x", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", key("pad", i), err)
		}
	}
	loaded := time.Since(begin)
	if got, err := c.Do(ctx, "RAFT.SNAPSHOT").Text(); err != nil || got != "OK" {
		t.Fatalf("RAFT.SNAPSHOT on leader = %q, %v; want OK", got, err)
	}
	snapIndex, err := strconv.ParseUint(raftInfo(ctx, t, c)["last_snapshot_index"], 10, 64)
	if err != nil || snapIndex == 0 {
		t.Fatalf("leader last_snapshot_index = %d, %v; want > 0", snapIndex, err)
	}
	if snapIndex < pad {
		t.Fatalf("leader snapshot at index %d: the log is shorter than the %d single SETs", snapIndex, pad)
	}
	t.Logf("wrote %d keys in %s; leader snapshot at index %d", keys+pad, loaded.Round(time.Millisecond), snapIndex)

	joined := time.Now()
	n4 := addNode(t, nodes[1], memberID(4), true, flags...)
	nodes = append(nodes, n4)
	ro := redis.NewClient(&redis.Options{
		Addr: n4.Addr, Protocol: 2, MaxRetries: -1, PoolSize: 2,
		ReadTimeout: 15 * time.Second, ContextTimeoutEnabled: true,
		OnConnect: func(ctx context.Context, cn *redis.Conn) error { return cn.ReadOnly(ctx).Err() },
	})
	t.Cleanup(func() { _ = ro.Close() })
	waitFor(t, time.Minute, func() error {
		pctx, cancel := context.WithTimeout(ctx, pollTimeout)
		defer cancel()
		n, err := ro.DBSize(pctx).Result()
		if err != nil {
			return err
		}
		if n != keys+pad {
			return fmt.Errorf("READONLY DBSIZE on %s = %d, want %d", n4.NodeID, n, keys+pad)
		}
		return nil
	})
	t.Logf("%s holds all %d keys %s after RAFT.JOIN", n4.NodeID, keys, time.Since(joined).Round(time.Millisecond))
	waitCluster(t, nodes)

	c4 := newClient(t, n4.Addr, 2)
	sample := map[string]string{}
	for i := 0; i < keys; i += 997 {
		sample[key("snap", i)] = value("snap", i)
	}
	sample[key("snap", keys-1)] = value("snap", keys-1)
	checkKeys(ctx, t, c4, sample)
	if got, err := c4.Get(ctx, key("snap", 12345)).Result(); err != nil || got != value("snap", 12345) {
		t.Errorf("GET via %s = %q, %v; want %q", n4.NodeID, got, err, value("snap", 12345))
	}
	if got, err := c4.DBSize(ctx).Result(); err != nil || got != keys+pad {
		t.Errorf("DBSIZE via %s = %d, %v; want %d", n4.NodeID, got, err, keys+pad)
	}
	// It caught up by snapshot: raft installed the leader's snapshot and
	// the state machine restored it.
	logs := n4.proc.Log.String()
	for _, msg := range []string{`"Installed remote snapshot"`, `"restored snapshot"`} {
		if !strings.Contains(logs, msg) {
			t.Errorf("log of %s has no %s line; it did not catch up by snapshot", n4.NodeID, msg)
		}
	}
	if got, err := strconv.ParseUint(raftInfo(ctx, t, c4)["last_snapshot_index"], 10, 64); err != nil || got < snapIndex {
		t.Errorf("%s last_snapshot_index = %d, %v; want >= %d (the leader's snapshot)", n4.NodeID, got, err, snapIndex)
	}
	// And it takes part: a write through it is seen everywhere.
	if err := c4.Set(ctx, "after-join", "yes", 0).Err(); err != nil {
		t.Fatalf("SET via %s: %v", n4.NodeID, err)
	}
	for i, c := range clientsFor(t, nodes) {
		if got, err := c.Get(ctx, "after-join").Result(); err != nil || got != "yes" {
			t.Errorf("GET after-join via %s = %q, %v; want yes", nodes[i].NodeID, got, err)
		}
	}
}

// TestClusterFullRestart: every node is killed with SIGKILL and restarted
// on its data dir and raft address; the cluster elects a leader and has
// every write, counters exact.
func TestClusterFullRestart(t *testing.T) {
	t.Parallel()
	const (
		keys     = 3000
		counters = 3
		incrs    = 20 // per counter and node
	)
	nodes := startCluster(t, 3)
	ctx := testCtx(t, 2*time.Minute)
	cs := clientsFor(t, nodes)
	setKeys(ctx, t, cs[1], "full", 0, keys/2)
	setKeys(ctx, t, cs[2], "full", keys/2, keys)
	for i := range incrs {
		for j, c := range cs {
			for ctr := range counters {
				if err := c.Incr(ctx, counterKey(ctr)).Err(); err != nil {
					t.Fatalf("INCR %s via %s (round %d): %v", counterKey(ctr), nodes[j].NodeID, i, err)
				}
			}
		}
	}
	for _, n := range nodes {
		n.Kill()
	}
	for i, n := range nodes {
		nodes[i] = n.Relaunch()
	}
	restarted := time.Now()
	ld := waitCluster(t, nodes)
	t.Logf("after restarting every node, %s leads; cluster stable after %s", ld.NodeID, time.Since(restarted).Round(time.Millisecond))

	want := map[string]string{}
	for i := range keys {
		want[key("full", i)] = value("full", i)
	}
	cs = clientsFor(t, nodes)
	for i, c := range cs {
		checkKeys(ctx, t, c, want)
		for ctr := range counters {
			if got, err := c.Get(ctx, counterKey(ctr)).Int64(); err != nil || got != incrs*3 {
				t.Errorf("%s via %s after full restart = %d, %v; want %d", counterKey(ctr), nodes[i].NodeID, got, err, incrs*3)
			}
		}
		if got, err := c.DBSize(ctx).Result(); err != nil || got != keys+counters {
			t.Errorf("DBSIZE via %s = %d, %v; want %d", nodes[i].NodeID, got, err, keys+counters)
		}
	}
	// Writes go on through every node.
	for i, c := range cs {
		if got, err := c.Incr(ctx, counterKey(0)).Result(); err != nil || got != int64(incrs*3+i+1) {
			t.Errorf("INCR via %s after full restart = %d, %v; want %d", nodes[i].NodeID, got, err, incrs*3+i+1)
		}
	}
}

// wantErr checks that cmd failed with exactly the error text want.
func wantErr(t *testing.T, what string, cmd *redis.Cmd, want string) {
	t.Helper()
	v, err := cmd.Result()
	if err == nil {
		t.Errorf("%s = %#v, want error %q", what, v, want)
		return
	}
	if err.Error() != want {
		t.Errorf("%s: error %q, want %q", what, err.Error(), want)
	}
}

// configIndex returns latest_configuration_index from RAFT.INFO of n.
func configIndex(t *testing.T, n *node) string {
	t.Helper()
	s, err := n.do("RAFT.INFO").Text()
	if err != nil {
		t.Fatalf("RAFT.INFO on %s: %v", n.NodeID, err)
	}
	v, ok := parseFields(s)["latest_configuration_index"]
	if !ok {
		t.Fatalf("RAFT.INFO on %s lacks latest_configuration_index:\n%s", n.NodeID, s)
	}
	return v
}

// TestClusterRaftCommands covers the cluster commands on a real cluster:
// replies, leadership transfer, membership changes and their errors, and a
// graceful shutdown of the leader.
func TestClusterRaftCommands(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 3)
	ctx := testCtx(t, 3*time.Minute)
	ld := waitCluster(t, nodes)

	// RAFT.PEERS: a map per server in RESP3, a flat array in RESP2.
	for _, n := range nodes {
		for _, proto := range []int{2, 3} {
			c := newClient(t, n.Addr, proto)
			v, err := c.Do(ctx, "RAFT.PEERS").Result()
			if err != nil {
				t.Fatalf("RAFT.PEERS RESP%d on %s: %v", proto, n.NodeID, err)
			}
			if arr, ok := v.([]any); ok && len(arr) > 0 {
				_, isMap := arr[0].(map[any]any)
				if isMap != (proto == 3) {
					t.Errorf("RAFT.PEERS RESP%d entry is %T", proto, arr[0])
				}
			}
			ps, err := parsePeers(v)
			if err != nil {
				t.Fatalf("RAFT.PEERS RESP%d on %s: %v", proto, n.NodeID, err)
			}
			if lid, err := checkPeers(ps, nodes); err != nil || lid != ld.NodeID {
				t.Errorf("RAFT.PEERS RESP%d on %s: leader %q, %v; want leader %s", proto, n.NodeID, lid, err, ld.NodeID)
			}
		}
	}

	// RAFT.LEADER, RAFT.STATE, RAFT.INFO and INFO on every node.
	for _, n := range nodes {
		c := newClient(t, n.Addr, 2)
		l, err := c.Do(ctx, "RAFT.LEADER").StringSlice()
		if want := []string{ld.NodeID, ld.RaftAddr, ld.Addr}; err != nil || !slices.Equal(l, want) {
			t.Errorf("RAFT.LEADER on %s = %q, %v; want %q", n.NodeID, l, err, want)
		}
		wantState := "follower"
		if n == ld {
			wantState = "leader"
		}
		if st, err := c.Do(ctx, "RAFT.STATE").Text(); err != nil || st != wantState {
			t.Errorf("RAFT.STATE on %s = %q, %v; want %s", n.NodeID, st, err, wantState)
		}
		ri := raftInfo(ctx, t, c)
		for _, f := range []string{"term", "commit_index", "applied_index", "last_log_index", "fsm_applied_index"} {
			if v, err := strconv.ParseUint(ri[f], 10, 64); err != nil || v == 0 {
				t.Errorf("RAFT.INFO on %s: %s = %q, want a positive number", n.NodeID, f, ri[f])
			}
		}
		if ri["node_id"] != n.NodeID || ri["leader_id"] != ld.NodeID || !strings.EqualFold(ri["state"], wantState) {
			t.Errorf("RAFT.INFO on %s: node_id %q leader_id %q state %q; want %s, %s, %s",
				n.NodeID, ri["node_id"], ri["leader_id"], ri["state"], n.NodeID, ld.NodeID, wantState)
		}
		info, err := c.Info(ctx).Result()
		if err != nil {
			t.Fatalf("INFO on %s: %v", n.NodeID, err)
		}
		if !strings.Contains(info, "# Raft\r\n") {
			t.Errorf("INFO on %s has no # Raft section:\n%s", n.NodeID, info)
		}
		if f := parseFields(info); f["term"] == "" || f["commit_index"] == "" {
			t.Errorf("INFO on %s: # Raft lacks term or commit_index:\n%s", n.NodeID, info)
		}
	}
	if a, b := raftInfo(ctx, t, newClient(t, nodes[0].Addr, 2))["term"], raftInfo(ctx, t, newClient(t, nodes[2].Addr, 2))["term"]; a != b {
		t.Errorf("term on %s = %s, on %s = %s", nodes[0].NodeID, a, nodes[2].NodeID, b)
	}

	// RAFT.TRANSFER to a named follower, sent to the other follower.
	fs := followersOf(nodes, ld)
	if got, err := fs[1].doWithin(changeTimeout, "RAFT.TRANSFER", fs[0].NodeID).Text(); err != nil || got != "OK" {
		t.Fatalf("RAFT.TRANSFER %s via %s = %q, %v; want OK", fs[0].NodeID, fs[1].NodeID, got, err)
	}
	if got := leader(t, nodes); got != fs[0] {
		t.Fatalf("after RAFT.TRANSFER %s, %s leads", fs[0].NodeID, got.NodeID)
	}
	ld = waitCluster(t, nodes)
	// RAFT.TRANSFER without an ID, sent to the leader.
	if got, err := ld.doWithin(changeTimeout, "RAFT.TRANSFER").Text(); err != nil || got != "OK" {
		t.Fatalf("RAFT.TRANSFER via leader %s = %q, %v; want OK", ld.NodeID, got, err)
	}
	if got := leader(t, nodes); got == ld {
		t.Fatalf("after RAFT.TRANSFER, %s still leads", ld.NodeID)
	}
	ld = waitCluster(t, nodes)
	fs = followersOf(nodes, ld)
	f := fs[0]
	wantErr(t, "RAFT.TRANSFER to the leader", f.doWithin(changeTimeout, "RAFT.TRANSFER", ld.NodeID), "ERR this server is already the leader")
	wantErr(t, "RAFT.TRANSFER to an unknown server", f.doWithin(changeTimeout, "RAFT.TRANSFER", "nosuch"), "ERR no such server in the configuration: nosuch")
	wantErr(t, "RAFT.TRANSFER a b", f.doWithin(changeTimeout, "RAFT.TRANSFER", "a", "b"), "ERR wrong number of arguments for 'raft.transfer' command")

	// Membership errors leave the configuration unchanged. They are sent to
	// a follower (forwarded to the leader, error relayed).
	cfgIdx := configIndex(t, ld)
	n2 := byID(nodes, memberID(2))
	wantErr(t, "RAFT.JOIN of a member at another address", f.doWithin(changeTimeout, "RAFT.JOIN", n2.NodeID, "127.0.0.1:1"),
		fmt.Sprintf("ERR server ID already in the configuration at another address: %s is at %s", n2.NodeID, n2.RaftAddr))
	wantErr(t, "RAFT.JOIN at a member's address", f.doWithin(changeTimeout, "RAFT.JOIN", "newid", n2.RaftAddr),
		fmt.Sprintf("ERR raft address already used by another server: %s is used by %s", n2.RaftAddr, n2.NodeID))
	wantErr(t, "RAFT.JOIN with a malformed address", f.doWithin(changeTimeout, "RAFT.JOIN", "newid", "bad"),
		`ERR invalid raft address "bad": address bad: missing port in address`)
	wantErr(t, "RAFT.JOIN with port 0", f.doWithin(changeTimeout, "RAFT.JOIN", "newid", "127.0.0.1:0"), `ERR invalid raft address "127.0.0.1:0": bad port`)
	wantErr(t, "RAFT.JOIN with an empty ID", f.doWithin(changeTimeout, "RAFT.JOIN", "", "127.0.0.1:1"), "ERR server id must not be empty")
	wantErr(t, "RAFT.JOIN with a bad option", f.doWithin(changeTimeout, "RAFT.JOIN", "newid", "127.0.0.1:1", "VOTER"), "ERR syntax error")
	wantErr(t, "RAFT.LEAVE of a non-member", f.doWithin(changeTimeout, "RAFT.LEAVE", "nosuch"), "ERR no such server in the configuration: nosuch")
	wantErr(t, "RAFT.REMOVE of a non-member", f.doWithin(changeTimeout, "RAFT.REMOVE", "nosuch"), "ERR no such server in the configuration: nosuch")
	for _, n := range nodes {
		if got, err := n.doWithin(changeTimeout, "RAFT.JOIN", n.NodeID, n.RaftAddr).Text(); err != nil || got != "OK" {
			t.Errorf("RAFT.JOIN of member %s at its own address via itself = %q, %v; want OK (a no-op)", n.NodeID, got, err)
		}
	}
	if got := configIndex(t, ld); got != cfgIdx {
		t.Errorf("latest_configuration_index %s -> %s after failed and no-op membership commands; want unchanged", cfgIdx, got)
	}
	if _, err := clusterState(nodes); err != nil {
		t.Errorf("after failed and no-op membership commands: %v", err)
	}

	// A non-voter: listed as such; leadership cannot go to it.
	n4 := addNode(t, f, memberID(4), false)
	all := append(slices.Clone(nodes), n4)
	ld = waitCluster(t, all, n4.NodeID)
	cfgIdx = configIndex(t, ld)
	wantErr(t, "RAFT.TRANSFER to a non-voter", f.doWithin(changeTimeout, "RAFT.TRANSFER", n4.NodeID), "ERR server is not a voter: "+n4.NodeID)
	wantErr(t, "RAFT.TRANSFER to a non-voter via itself", n4.doWithin(changeTimeout, "RAFT.TRANSFER", n4.NodeID), "ERR server is not a voter: "+n4.NodeID)
	if got, err := n4.doWithin(changeTimeout, "RAFT.JOIN", n4.NodeID, n4.RaftAddr, "NONVOTER").Text(); err != nil || got != "OK" {
		t.Errorf("RAFT.JOIN NONVOTER of the non-voter again = %q, %v; want OK", got, err)
	}
	if got := configIndex(t, ld); got != cfgIdx {
		t.Errorf("latest_configuration_index %s -> %s after a failed transfer and a no-op join; want unchanged", cfgIdx, got)
	}
	if got, err := findLeader(all); err != nil || got != ld {
		t.Errorf("after RAFT.TRANSFER to a non-voter: leader %v, %v; want %s", got, err, ld.NodeID)
	}
	// RAFT.JOIN without NONVOTER promotes it.
	if got, err := f.doWithin(changeTimeout, "RAFT.JOIN", n4.NodeID, n4.RaftAddr).Text(); err != nil || got != "OK" {
		t.Fatalf("RAFT.JOIN to promote %s = %q, %v; want OK", n4.NodeID, got, err)
	}
	ld = waitCluster(t, all)

	// RAFT.LEAVE through a follower: the server leaves every list.
	via := followersOf(nodes, ld)[0]
	if got, err := via.doWithin(changeTimeout, "RAFT.LEAVE", n4.NodeID).Text(); err != nil || got != "OK" {
		t.Fatalf("RAFT.LEAVE %s via follower %s = %q, %v; want OK", n4.NodeID, via.NodeID, got, err)
	}
	// The removed node shuts itself down when it learns of its removal; a
	// follower that never received the entry removing it is stopped.
	select {
	case <-n4.proc.Done():
		if code := n4.proc.Cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("removed node %s exited with %s, want code 0", n4.NodeID, n4.proc.Cmd.ProcessState)
		}
	case <-time.After(10 * time.Second):
		n4.Stop()
	}
	ld = waitCluster(t, nodes)
	wantErr(t, "RAFT.LEAVE of a removed server", via.doWithin(changeTimeout, "RAFT.LEAVE", n4.NodeID), "ERR no such server in the configuration: "+n4.NodeID)

	// SIGTERM of the leader: it hands leadership over before exiting with
	// code 0, and the others go on serving.
	rest := followersOf(nodes, ld)
	stopAt := time.Now()
	if err := ld.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to %s: %v", ld.NodeID, err)
	}
	// Both others agree on a new leader while the old one shuts down.
	var nl *node
	waitFor(t, electionTimeout, func() error {
		var err error
		nl, err = findLeader(rest)
		return err
	})
	moved := time.Since(stopAt)
	select {
	case <-ld.proc.Done():
	case <-time.After(exitTimeout):
		t.Fatalf("%s did not exit within %s of SIGTERM", ld.NodeID, exitTimeout)
	}
	t.Logf("SIGTERM to leader %s: %s leads %s after the signal; exited with %s after %s",
		ld.NodeID, nl.NodeID, moved.Round(time.Millisecond), ld.proc.Cmd.ProcessState, time.Since(stopAt).Round(time.Millisecond))
	if code := ld.proc.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("%s exited with %s after SIGTERM, want exit code 0", ld.NodeID, ld.proc.Cmd.ProcessState)
	}
	if !strings.Contains(ld.proc.Log.String(), `"transferred leadership before shutdown"`) {
		t.Errorf("log of %s has no \"transferred leadership before shutdown\" line", ld.NodeID)
	}
	for i, n := range rest {
		c := newClient(t, n.Addr, 2)
		v := fmt.Sprintf("v%d", i)
		if err := c.Set(ctx, "after-sigterm", v, 0).Err(); err != nil {
			t.Errorf("SET via %s after the leader stopped: %v", n.NodeID, err)
		}
		other := newClient(t, rest[1-i].Addr, 2)
		if got, err := other.Get(ctx, "after-sigterm").Result(); err != nil || got != v {
			t.Errorf("GET via %s after SET via %s = %q, %v; want %s", rest[1-i].NodeID, n.NodeID, got, err, v)
		}
	}

	// A single-node cluster: its only voter cannot leave, leadership has
	// nowhere to go, and both errors leave it serving.
	solo := startSpec(t, spec{dataDir: t.TempDir(), extra: []string{"--node-id", "solo"}})
	waitCluster(t, []*node{solo}) // leading, with its address in the address book
	soloIdx := configIndex(t, solo)
	wantErr(t, "RAFT.LEAVE of the last voter", solo.doWithin(changeTimeout, "RAFT.LEAVE", "solo"), "ERR cannot remove the last voter")
	wantErr(t, "RAFT.TRANSFER in a one-node cluster", solo.doWithin(changeTimeout, "RAFT.TRANSFER"), "ERR no other voter to transfer leadership to")
	if got := configIndex(t, solo); got != soloIdx {
		t.Errorf("one-node latest_configuration_index %s -> %s; want unchanged", soloIdx, got)
	}
	if _, err := clusterState([]*node{solo}); err != nil {
		t.Errorf("one-node cluster after RAFT.LEAVE of its last voter: %v", err)
	}
	if got, err := solo.doWithin(changeTimeout, "SET", "still", "here").Text(); err != nil || got != "OK" {
		t.Errorf("SET on the one-node cluster = %q, %v; want OK", got, err)
	}
}
