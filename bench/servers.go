package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// protocol is how the load generator talks to a system.
type protocol int

const (
	resp protocol = iota // go-redis
	etcd                 // the etcd v3 client (gRPC)
)

// system is one server setup under test.
type system struct {
	key   string // short id: riot1, riot3, riot1w, riot3w, riot3s3, etcd3, etcd1, redis
	label string // row label in the report
	proto protocol
	nodes int
	// shards is riot's --shards, given to the first node (0: not given).
	shards int
	start  func(ctx context.Context, ps *procs, s *system) (*cluster, error)
}

// cluster is a started system: the client address of every node.
type cluster struct {
	sys   *system
	addrs []string
	procs []*proc
	riot  []riotNode // riot only: how each node was started, to restart it
	// slotted: the system speaks the Redis Cluster protocol, and clients
	// route each key to the node serving its hash slot.
	slotted bool
}

func (c *cluster) stop() {
	for _, p := range c.procs {
		p.stop(10 * time.Second)
	}
}

// alive returns an error naming the first node that has exited.
func (c *cluster) alive() error {
	for _, p := range c.procs {
		if err := p.exited(); err != nil {
			return err
		}
	}
	return nil
}

// peakRSS lists every node's peak resident set, in node order.
func (c *cluster) peakRSS() []int64 {
	var out []int64
	for _, p := range c.procs {
		out = append(out, p.peakRSS())
	}
	return out
}

func systems(riotBin string) []*system {
	riot := func(n int, flags ...string) func(ctx context.Context, ps *procs, s *system) (*cluster, error) {
		return func(ctx context.Context, ps *procs, s *system) (*cluster, error) {
			return startRiot(ctx, ps, s, riotBin, n, flags...)
		}
	}
	wal := []string{"--log-store", "wal"}
	return []*system{
		{key: "riot1", label: "riot, 1 node", proto: resp, nodes: 1, start: riot(1)},
		{key: "riot3", label: "riot, 3 nodes", proto: resp, nodes: 3, start: riot(3)},
		{key: "riot1w", label: "riot, 1 node, --log-store wal", proto: resp, nodes: 1, start: riot(1, wal...)},
		{key: "riot3w", label: "riot, 3 nodes, --log-store wal", proto: resp, nodes: 3, start: riot(3, wal...)},
		{key: "riot3s1", label: "riot, 3 nodes, --shards 1", proto: resp, nodes: 3, shards: 1, start: riot(3)},
		{key: "riot3s3", label: "riot, 3 nodes, --shards 3", proto: resp, nodes: 3, shards: 3, start: riot(3)},
		{key: "riot3s6", label: "riot, 3 nodes, --shards 6", proto: resp, nodes: 3, shards: 6, start: riot(3)},
		{key: "etcd3", label: "etcd 3.4, 3 members", proto: etcd, nodes: 3, start: startEtcd},
		{key: "etcd1", label: "etcd 3.4, 1 member", proto: etcd, nodes: 1, start: startEtcd},
		{key: "redis", label: "redis-server, appendfsync always", proto: resp, nodes: 1, start: startRedis},
		{key: "rediscluster", label: "redis-server cluster, 3 masters, appendfsync always", proto: resp, nodes: 3, start: startRedisCluster},
	}
}

// riotNode is what it takes to start (and restart) one riot-server.
type riotNode struct {
	id                 string
	addr, raft, gossip string
	dir                string
	join               bool
	seeds              string   // gossip seeds to join by (default: none that answers, then RAFT.JOIN)
	flags              []string // more riot-server flags
}

func (n riotNode) args() []string {
	a := []string{"--node-id", n.id, "--data-dir", n.dir, "--addr", n.addr, "--raft-addr", n.raft,
		"--gossip-addr", n.gossip, "--http-addr", "127.0.0.1:0", "--log-level", "warn"}
	switch {
	case n.join && n.seeds != "":
		a = append(a, "--join", n.seeds)
	case n.join:
		// A seed nobody answers: the node never bootstraps itself and waits
		// for RAFT.JOIN, as scripts/bench.sh does.
		a = append(a, "--join", "127.0.0.1:1")
	}
	return append(a, n.flags...)
}

func newRiotNode(ps *procs, prefix string, i int) (riotNode, error) {
	var ports [3]int
	for j := range ports {
		p, err := ps.port()
		if err != nil {
			return riotNode{}, err
		}
		ports[j] = p
	}
	id := fmt.Sprintf("%s-n%d", prefix, i+1)
	dir, err := ps.dataDir(id)
	if err != nil {
		return riotNode{}, err
	}
	return riotNode{
		id:     id,
		addr:   fmt.Sprintf("127.0.0.1:%d", ports[0]),
		raft:   fmt.Sprintf("127.0.0.1:%d", ports[1]),
		gossip: fmt.Sprintf("127.0.0.1:%d", ports[2]),
		dir:    dir,
		join:   i > 0,
	}, nil
}

// startRiot starts n riot-servers: the first bootstraps, the others join
// it. Plain systems join as scripts/bench.sh does (RAFT.JOIN sent to the
// first node, every node a voter at once). Sharded systems (s.shards set)
// join by gossip, as a sharded cluster forms: the first node gets --shards,
// and every node --stabilization 1s, so that each group's new replicas are
// promoted and its leadership spread within seconds rather than tens of
// them; it then waits for that spread (waitFormed).
func startRiot(ctx context.Context, ps *procs, s *system, bin string, n int, flags ...string) (*cluster, error) {
	c := &cluster{sys: s, slotted: s.shards > 1}
	gossipJoin := s.shards > 0
	startNode := func(i int) error {
		node, err := newRiotNode(ps, s.key, i)
		if err != nil {
			return err
		}
		node.flags = flags
		if gossipJoin {
			node.flags = append(slices.Clone(flags), "--stabilization", "1s")
			if i == 0 {
				node.flags = append(node.flags, "--shards", strconv.Itoa(s.shards)) // nodes that join adopt it
			} else {
				node.seeds = c.riot[0].gossip
			}
		}
		p, err := ps.start(node.id, bin, node.args()...)
		if err != nil {
			return err
		}
		c.riot = append(c.riot, node)
		c.procs = append(c.procs, p)
		c.addrs = append(c.addrs, node.addr)
		return nil
	}
	if err := startNode(0); err != nil {
		return c, err
	}
	// Alone, the first node leads every group: a plain SET works, sharded
	// or not.
	if err := waitRESPWrite(ctx, c, 0, 30*time.Second); err != nil {
		return c, err
	}
	for i := 1; i < n; i++ {
		if err := startNode(i); err != nil {
			return c, err
		}
	}
	if gossipJoin {
		return c, waitFormed(ctx, c, 90*time.Second)
	}
	leader := respClient(c.addrs[0], false)
	defer leader.Close()
	for _, node := range c.riot[1:] {
		if err := poll(30*time.Second, func() error {
			return leader.Do(ctx, "raft.join", node.id, node.raft).Err()
		}); err != nil {
			return c, fmt.Errorf("bench: RAFT.JOIN %s: %w", node.id, err)
		}
	}
	for i := range c.riot {
		if err := waitRESPWrite(ctx, c, i, 30*time.Second); err != nil {
			return c, err
		}
	}
	return c, nil
}

// waitFormed waits until a riot cluster formed by gossip is complete: with
// --shards above 1, every node's slot map shows each group with
// min(nodes, 3) replicas and the leaders spread as placement spreads them
// (over min(nodes, shards) nodes, none leading more than its share), and
// every group takes a write; unsharded, every node takes a write and the
// first counts min(nodes, 3) voters.
func waitFormed(ctx context.Context, c *cluster, timeout time.Duration) error {
	n, shards := len(c.addrs), c.sys.shards
	if c.slotted {
		want := slotShape{ranges: shards, replicas: min(n, 3), leaders: min(n, shards), maxLed: (shards + n - 1) / n}
		return waitSlots(ctx, c, allNodes(c), want, timeout)
	}
	for i := range c.addrs {
		if err := waitRESPWrite(ctx, c, i, timeout); err != nil {
			return err
		}
	}
	cl := respClient(c.addrs[0], false)
	defer cl.Close()
	return poll(timeout, func() error {
		if err := c.alive(); err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		v, err := cl.Do(cctx, "raft.peers").Result()
		if err != nil {
			return fmt.Errorf("bench: RAFT.PEERS on %s: %w", c.addrs[0], err)
		}
		voters, err := countVoters(v)
		if err != nil {
			return fmt.Errorf("bench: RAFT.PEERS on %s: %w", c.addrs[0], err)
		}
		if voters != min(n, 3) {
			return fmt.Errorf("bench: %s has %d voters, want %d", c.addrs[0], voters, min(n, 3))
		}
		return ctx.Err()
	})
}

// countVoters counts the entries of a RAFT.PEERS reply (an array of field
// maps, flat arrays in RESP2) whose suffrage is voter.
func countVoters(reply any) (int, error) {
	entries, ok := reply.([]any)
	if !ok {
		return 0, fmt.Errorf("reply %#v is not an array", reply)
	}
	voters := 0
	for _, e := range entries {
		var suffrage any
		switch m := e.(type) {
		case map[any]any:
			suffrage = m["suffrage"]
		case []any:
			if len(m)%2 != 0 {
				return 0, fmt.Errorf("entry %#v has an odd length", m)
			}
			for i := 0; i < len(m); i += 2 {
				if m[i] == "suffrage" {
					suffrage = m[i+1]
				}
			}
		default:
			return 0, fmt.Errorf("entry %#v is not a map", e)
		}
		if suffrage == nil {
			return 0, fmt.Errorf("entry %#v has no suffrage", e)
		}
		if suffrage == "voter" {
			voters++
		}
	}
	return voters, nil
}

// waitRESPWrite waits until a SET through node i succeeds.
func waitRESPWrite(ctx context.Context, c *cluster, i int, timeout time.Duration) error {
	cl := respClient(c.addrs[i], false)
	defer cl.Close()
	return poll(timeout, func() error {
		if err := c.procs[i].exited(); err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := cl.Set(cctx, "bench:warmup", "1", 0).Err(); err != nil {
			return fmt.Errorf("bench: %s not writable yet: %w", c.addrs[i], err)
		}
		return ctx.Err()
	})
}

func startRedis(ctx context.Context, ps *procs, s *system) (*cluster, error) {
	c := &cluster{sys: s}
	port, err := ps.port()
	if err != nil {
		return c, err
	}
	dir, err := ps.dataDir("redis")
	if err != nil {
		return c, err
	}
	p, err := ps.start("redis", "redis-server", redisArgs(port, dir)...)
	if err != nil {
		return c, err
	}
	c.procs = append(c.procs, p)
	c.addrs = append(c.addrs, fmt.Sprintf("127.0.0.1:%d", port))
	return c, waitRESPWrite(ctx, c, 0, 30*time.Second)
}

func startEtcd(ctx context.Context, ps *procs, s *system) (*cluster, error) {
	c := &cluster{sys: s}
	type member struct{ name, client, peer string }
	var ms []member
	var initial []string
	for i := range s.nodes {
		cp, err := ps.port()
		if err != nil {
			return c, err
		}
		pp, err := ps.port()
		if err != nil {
			return c, err
		}
		m := member{name: fmt.Sprintf("%s-e%d", s.key, i+1),
			client: fmt.Sprintf("http://127.0.0.1:%d", cp), peer: fmt.Sprintf("http://127.0.0.1:%d", pp)}
		ms = append(ms, m)
		initial = append(initial, m.name+"="+m.peer)
	}
	for _, m := range ms {
		dir, err := ps.dataDir(m.name)
		if err != nil {
			return c, err
		}
		// Defaults otherwise (fsync on, serializable=false reads); a bigger
		// backend quota so repeated runs never hit the 2 GiB NOSPACE alarm.
		p, err := ps.start(m.name, "etcd", "--name", m.name, "--data-dir", dir,
			"--listen-client-urls", m.client, "--advertise-client-urls", m.client,
			"--listen-peer-urls", m.peer, "--initial-advertise-peer-urls", m.peer,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", s.key, "--quota-backend-bytes", strconv.Itoa(8<<30),
			"--logger", "zap", "--log-level", "warn")
		if err != nil {
			return c, err
		}
		c.procs = append(c.procs, p)
		c.addrs = append(c.addrs, strings.TrimPrefix(m.client, "http://"))
	}
	for i, addr := range c.addrs {
		cl, err := etcdClient(addr)
		if err != nil {
			return c, err
		}
		err = poll(30*time.Second, func() error {
			if err := c.procs[i].exited(); err != nil {
				return err
			}
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err := cl.Put(cctx, "bench:warmup", "1")
			if err == nil {
				err = ctx.Err()
			}
			return err
		})
		cl.Close()
		if err != nil {
			return c, fmt.Errorf("bench: etcd %s not writable: %w", addr, err)
		}
	}
	return c, nil
}

func respClient(addr string, readonly bool) *redis.Client {
	opt := &redis.Options{
		Addr:            addr,
		Protocol:        2,
		DisableIdentity: true,
		PoolSize:        1,
		MaxRetries:      -1,
		DialTimeout:     5 * time.Second,
		ReadTimeout:     30 * time.Second,
		WriteTimeout:    30 * time.Second,
	}
	if readonly {
		opt.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
			return cn.ReadOnly(ctx).Err()
		}
	}
	return redis.NewClient(opt)
}

func etcdClient(addr string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:   []string{addr},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
}

// conn is one load-generator client: its own connection to one node.
type conn interface {
	// do runs one request: a SET or GET of each key, pipelined when there
	// are several.
	do(ctx context.Context, keys []string, value []byte) error
	close()
}

func dial(c *cluster, node int, w workload) (conn, error) {
	addr := c.addrs[node%len(c.addrs)]
	switch c.sys.proto {
	case etcd:
		cl, err := etcdClient(addr)
		if err != nil {
			return nil, err
		}
		return &etcdConn{cl: cl, get: w.op == opGet}, nil
	default:
		return &respConn{cl: c.client(node, w.readonly), get: w.op == opGet}, nil
	}
}

// client returns a client of one connection to node (of one connection
// per node, routing by slot, when the system is slotted).
func (c *cluster) client(node int, readonly bool) redis.UniversalClient {
	if c.slotted {
		return clusterClient(c.addrs, readonly, 1)
	}
	return respClient(c.addrs[node%len(c.addrs)], readonly)
}

type respConn struct {
	cl  redis.UniversalClient
	get bool
}

func (r *respConn) do(ctx context.Context, keys []string, value []byte) error {
	if len(keys) == 1 {
		if r.get {
			if err := r.cl.Get(ctx, keys[0]).Err(); err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			return nil
		}
		return r.cl.Set(ctx, keys[0], value, 0).Err()
	}
	p := r.cl.Pipeline()
	for _, k := range keys {
		if r.get {
			p.Get(ctx, k)
		} else {
			p.Set(ctx, k, value, 0)
		}
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	return nil
}

func (r *respConn) close() { r.cl.Close() }

type etcdConn struct {
	cl  *clientv3.Client
	get bool
}

func (e *etcdConn) do(ctx context.Context, keys []string, value []byte) error {
	if len(keys) != 1 {
		return errors.New("bench: etcd has no pipelining")
	}
	if e.get {
		_, err := e.cl.Get(ctx, keys[0]) // linearizable: the client default
		return err
	}
	_, err := e.cl.Put(ctx, keys[0], string(value))
	return err
}

func (e *etcdConn) close() { e.cl.Close() }

// preload writes keys 0..n-1 so GETs find values: pipelines (RESP) or
// transactions (etcd) of 100 writes from 16 connections spread over the nodes.
func preload(ctx context.Context, c *cluster, n int, value []byte) error {
	const batch, workers = 100, 16
	next := make(chan int)
	errc := make(chan error, workers)
	for w := range workers {
		go func() {
			errc <- preloadWorker(ctx, c, w, next, batch, n, value)
		}()
	}
	for start := 0; start < n && ctx.Err() == nil; start += batch {
		next <- start // workers drain next even after an error: this never blocks for good
	}
	close(next)
	var err error
	for range workers {
		if e := <-errc; e != nil && err == nil {
			err = e
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

func preloadWorker(ctx context.Context, c *cluster, w int, next <-chan int, batch, n int, value []byte) error {
	addr := c.addrs[w%len(c.addrs)]
	var write func(keys []string) error
	switch c.sys.proto {
	case etcd:
		cl, err := etcdClient(addr)
		if err != nil {
			return err
		}
		defer cl.Close()
		write = func(keys []string) error {
			ops := make([]clientv3.Op, len(keys))
			for i, k := range keys {
				ops[i] = clientv3.OpPut(k, string(value))
			}
			_, err := cl.Txn(ctx).Then(ops...).Commit()
			return err
		}
	default:
		cl := c.client(w, false)
		defer cl.Close()
		write = func(keys []string) error {
			p := cl.Pipeline()
			for _, k := range keys {
				p.Set(ctx, k, value, 0)
			}
			_, err := p.Exec(ctx)
			return err
		}
	}
	keys := make([]string, 0, batch)
	logged := false
	for start := range next {
		keys = keys[:0]
		for i := start; i < min(start+batch, n); i++ {
			keys = append(keys, key(i))
		}
		// A batch that failed (a leader change while it committed, say) is
		// written again: the same keys and value, harmless if it was applied.
		deadline := time.Now().Add(preloadRetry)
		err := write(keys)
		for err != nil && ctx.Err() == nil && time.Now().Before(deadline) {
			if !logged {
				logf("%s: preload: writing a batch again after: %v", c.sys.label, err)
				logged = true
			}
			time.Sleep(50 * time.Millisecond)
			err = write(keys)
		}
		if err != nil {
			for range next { // drain so the feeder never blocks
			}
			return fmt.Errorf("bench: preload %s: %w", addr, err)
		}
	}
	return nil
}

// preloadRetry is how long a preload batch is retried before the run fails.
const preloadRetry = 30 * time.Second

// key is the name of key i, in redis-benchmark's style.
func key(i int) string { return fmt.Sprintf("key:%012d", i) }
