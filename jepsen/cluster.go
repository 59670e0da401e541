package jepsen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timeouts of cluster-level waits.
const (
	formTimeout    = 45 * time.Second // an empty cluster until every node is a voter
	recoverTimeout = 30 * time.Second // healed until the cluster is whole again
	adminTimeout   = 2 * time.Second  // one admin request
	changeTimeout  = 12 * time.Second // RAFT.LEAVE / RAFT.TRANSFER (server: 10s)
	pollInterval   = 50 * time.Millisecond
)

// ClusterConfig describes a cluster to start.
type ClusterConfig struct {
	Bin         string // riot-server binary
	Dir         string // data directories go here
	Nodes       int    // voters (3 or 5)
	Spare       int    // extra hosts for nodes added later (the grow nemesis)
	UnsafeReads bool   // --test-unsafe-local-reads on every node
	// Shards > 1: the sharded mode (shards.go): --shards Shards on every
	// node (those that join adopt the cluster's map anyway); Replicas, when
	// set, is --replicas (default 3).
	Shards   int
	Replicas int
	Flags    []string
	// LogDir, when set, gets each server's log as it is written
	// (<id>.log), besides the copy in memory the artifacts are made of.
	LogDir string
	Logf   func(string, ...any)
}

// Cluster is a riot cluster on a private network. Members are the servers
// meant to be in the cluster now (running or not); the nemesis changes
// them.
type Cluster struct {
	cfg  ClusterConfig
	Net  *Net
	logf func(string, ...any)

	mu      sync.Mutex
	all     []*Server // every server ever created, for the logs
	members []*Server
	spares  []*Host // hosts with no member on them
	nextID  int
	admins  map[*Server]*redis.Client
	logs    []*os.File // LogDir's files
}

// newServer makes the server of ID n<nextID> on h, its log also written
// to LogDir when that is set.
func (c *Cluster) newServer(h *Host) (*Server, error) {
	s := newServer(fmt.Sprintf("n%d", c.nextID), h, c.cfg.Bin, c.cfg.Dir, baseFlags(c.cfg), c.logf)
	if c.cfg.LogDir == "" {
		return s, nil
	}
	if err := os.MkdirAll(c.cfg.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("jepsen: log dir: %w", err)
	}
	f, err := os.Create(filepath.Join(c.cfg.LogDir, s.ID+".log"))
	if err != nil {
		return nil, fmt.Errorf("jepsen: log dir: %w", err)
	}
	c.logs = append(c.logs, f)
	s.log.Tee = f
	return s, nil
}

// Flags every node gets: fast gossip on a LAN, quick promotion, failed
// nodes never removed during a test (partitions are not removals), short
// waits for a leader so clients get CLUSTERDOWN rather than time out.
func baseFlags(cfg ClusterConfig) []string {
	f := []string{
		"--gossip-fast",
		"--voters", strconv.Itoa(cfg.Nodes),
		"--stabilization", "2s",
		"--dead-node-timeout", "1h",
		"--leader-wait", "1s",
	}
	if cfg.UnsafeReads {
		f = append(f, "--test-unsafe-local-reads")
	}
	if cfg.Shards > 1 {
		f = append(f, "--shards", strconv.Itoa(cfg.Shards))
		if cfg.Replicas > 0 {
			f = append(f, "--replicas", strconv.Itoa(cfg.Replicas))
		}
	}
	return append(f, cfg.Flags...)
}

// StartCluster builds the network and starts cfg.Nodes servers that
// bootstrap together (--bootstrap-expect, --join each other), and returns
// once every one of them is a voter and they agree on the leader (in the
// sharded mode also: every data group has a leader and its replicas, and
// every slot is served). On error
// everything is torn down; otherwise the caller must Close the cluster.
func StartCluster(cfg ClusterConfig) (c *Cluster, err error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	net, err := NewNet(cfg.Nodes+cfg.Spare, cfg.Logf)
	if err != nil {
		return nil, err
	}
	c = &Cluster{cfg: cfg, Net: net, logf: cfg.Logf, admins: map[*Server]*redis.Client{}}
	defer func() {
		if err != nil {
			c.Close()
			c = nil
		}
	}()
	hosts := net.hostList()
	for _, h := range hosts[:cfg.Nodes] {
		c.nextID++
		s, err := c.newServer(h)
		if err != nil {
			return nil, err
		}
		c.all = append(c.all, s)
		c.members = append(c.members, s)
	}
	c.spares = hosts[cfg.Nodes:]
	var seeds []string
	for _, s := range c.members {
		seeds = append(seeds, s.GossipAddr)
	}
	type result struct {
		s   *Server
		err error
	}
	res := make(chan result, len(c.members))
	for _, s := range c.members {
		go func() {
			res <- result{s, s.Start("--bootstrap-expect", strconv.Itoa(cfg.Nodes), "--join", strings.Join(seeds, ","))}
		}()
	}
	var errs []error
	for range c.members {
		if r := <-res; r.err != nil {
			errs = append(errs, r.err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	err = c.WaitHealthy(formTimeout)
	if err == nil && c.Sharded() {
		err = waitFor(formTimeout, func() error {
			if err := c.groupsSettled(); err != nil {
				return err
			}
			return c.Healthy()
		})
	}
	if err != nil {
		var b strings.Builder
		for _, s := range c.members {
			fmt.Fprintf(&b, "\n--- %s log tail:\n%s", s.ID, s.log.Tail(10))
		}
		return c, fmt.Errorf("jepsen: cluster did not form: %w%s", err, b.String())
	}
	return c, nil
}

// Close stops every process and removes the network.
func (c *Cluster) Close() {
	c.mu.Lock()
	all := append([]*Server(nil), c.all...)
	admins := c.admins
	c.admins = map[*Server]*redis.Client{}
	c.mu.Unlock()
	for _, a := range admins {
		_ = a.Close()
	}
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Stop()
		}()
	}
	wg.Wait()
	c.Net.Close()
	c.mu.Lock()
	for _, f := range c.logs {
		_ = f.Close() // a line written after this is lost from the file only
	}
	c.logs = nil
	c.mu.Unlock()
}

// Members returns the servers meant to be in the cluster now.
func (c *Cluster) Members() []*Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Server(nil), c.members...)
}

// All returns every server ever started, former members included.
func (c *Cluster) All() []*Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Server(nil), c.all...)
}

// Seeds returns the gossip addresses of the members other than s.
func (c *Cluster) Seeds(except *Server) string {
	var out []string
	for _, m := range c.Members() {
		if m != except {
			out = append(out, m.GossipAddr)
		}
	}
	return strings.Join(out, ",")
}

// AddFresh starts a new node (new ID, empty data dir) on a spare host with
// --join, and makes it a member. It returns nil, nil without a spare host.
func (c *Cluster) AddFresh() (*Server, error) {
	c.mu.Lock()
	if len(c.spares) == 0 {
		c.mu.Unlock()
		return nil, nil
	}
	h := c.spares[0]
	c.spares = c.spares[1:]
	c.nextID++
	s, err := c.newServer(h)
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.all = append(c.all, s)
	c.mu.Unlock()
	seeds := c.Seeds(nil)
	if err := s.Start("--join", seeds); err != nil {
		c.mu.Lock()
		c.spares = append(c.spares, h)
		c.mu.Unlock()
		return nil, err
	}
	c.mu.Lock()
	c.members = append(c.members, s)
	c.mu.Unlock()
	return s, nil
}

// Retire takes s out of the members (it should be stopped) and frees its
// host.
func (c *Cluster) Retire(s *Server) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := slices.Index(c.members, s); i >= 0 {
		c.members = slices.Delete(c.members, i, i+1)
		c.spares = append(c.spares, s.Host)
	}
}

// Admin returns s's client for cluster commands: never retries, bounded by
// each request's context.
func (c *Cluster) Admin(s *Server) *redis.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.admins[s]; ok {
		return a
	}
	a := redis.NewClient(&redis.Options{
		Addr: s.Addr, Protocol: 2, DisableIdentity: true,
		DialTimeout: time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 5 * time.Second,
		ContextTimeoutEnabled: true, MaxRetries: -1, PoolSize: 2,
	})
	c.admins[s] = a
	return a
}

// do runs one admin command on s, bounded by d.
func (c *Cluster) do(s *Server, d time.Duration, args ...any) *redis.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return c.Admin(s).Do(ctx, args...)
}

// Info returns s's RAFT.INFO fields.
func (c *Cluster) Info(s *Server) (map[string]string, error) {
	txt, err := c.do(s, adminTimeout, "RAFT.INFO").Text()
	if err != nil {
		return nil, fmt.Errorf("RAFT.INFO on %s: %w", s.ID, err)
	}
	return parseInfo(txt), nil
}

// parseInfo parses "name:value" lines.
func parseInfo(txt string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(txt, "\n") {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":"); ok {
			m[k] = v
		}
	}
	return m
}

// infoUint returns a numeric RAFT.INFO field.
func (c *Cluster) infoUint(s *Server, field string) (uint64, error) {
	m, err := c.Info(s)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(m[field], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("RAFT.INFO %s on %s = %q", field, s.ID, m[field])
	}
	return v, nil
}

// Peer is one RAFT.PEERS entry.
type Peer struct {
	ID, RaftAddr, ClientAddr, Suffrage, Role, Gossip string
}

// Peers returns RAFT.PEERS of s: servers in the raft configuration only,
// sorted by ID.
func (c *Cluster) Peers(s *Server) ([]Peer, error) {
	v, err := c.do(s, adminTimeout, "RAFT.PEERS").Result()
	if err != nil {
		return nil, fmt.Errorf("RAFT.PEERS on %s: %w", s.ID, err)
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("RAFT.PEERS on %s: %#v is not an array", s.ID, v)
	}
	var out []Peer
	for _, e := range arr {
		flat, ok := e.([]any)
		if !ok || len(flat)%2 != 0 {
			return nil, fmt.Errorf("RAFT.PEERS on %s: entry %#v", s.ID, e)
		}
		m := map[string]string{}
		for i := 0; i < len(flat); i += 2 {
			k, _ := flat[i].(string)
			v, _ := flat[i+1].(string)
			m[k] = v
		}
		if m["suffrage"] == "none" {
			continue
		}
		out = append(out, Peer{ID: m["id"], RaftAddr: m["raft_addr"], ClientAddr: m["client_addr"], Suffrage: m["suffrage"], Role: m["role"], Gossip: m["gossip"]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// LeaderOf returns the leader ID s reports in RAFT.LEADER.
func (c *Cluster) LeaderOf(s *Server) (string, error) {
	l, err := c.do(s, adminTimeout, "RAFT.LEADER").StringSlice()
	if err != nil {
		return "", fmt.Errorf("RAFT.LEADER on %s: %w", s.ID, err)
	}
	if len(l) != 3 || l[0] == "" {
		return "", fmt.Errorf("RAFT.LEADER on %s = %q", s.ID, l)
	}
	return l[0], nil
}

// ByID returns the server with that ID (any ever started).
func (c *Cluster) ByID(id string) *Server {
	for _, s := range c.All() {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// Leader returns the member that reports RAFT.STATE leader and that a
// majority of the members that answer name in RAFT.LEADER; members that
// are down or paused are not asked.
func (c *Cluster) Leader() (*Server, error) {
	members := c.Members()
	names := map[string]int{}
	var ld *Server
	for _, s := range members {
		if !s.Up() {
			continue
		}
		if st, err := c.do(s, adminTimeout, "RAFT.STATE").Text(); err == nil && st == "leader" {
			if ld != nil {
				return nil, fmt.Errorf("both %s and %s report RAFT.STATE leader", ld.ID, s.ID)
			}
			ld = s
		}
		if id, err := c.LeaderOf(s); err == nil {
			names[id]++
		}
	}
	if ld == nil {
		return nil, errors.New("no member reports RAFT.STATE leader")
	}
	if names[ld.ID] < len(members)/2+1 {
		return nil, fmt.Errorf("%s reports leader, but RAFT.LEADER names are %v", ld.ID, names)
	}
	return ld, nil
}

// WaitLeader waits up to d for Leader.
func (c *Cluster) WaitLeader(d time.Duration) (*Server, error) {
	var ld *Server
	err := waitFor(d, func() error {
		var err error
		ld, err = c.Leader()
		return err
	})
	return ld, err
}

// Healthy reports whether the cluster is whole: every member runs, is not
// paused and names the same leader, which reports RAFT.STATE leader and
// whose configuration holds exactly the members, min(Nodes, members) of
// them voters; in the sharded mode, every data group is whole too
// (groupsHealthy).
func (c *Cluster) Healthy() error {
	members := c.Members()
	lid := ""
	for _, s := range members {
		if !s.Up() {
			return fmt.Errorf("%s is down or paused", s.ID)
		}
		id, err := c.LeaderOf(s)
		if err != nil {
			return err
		}
		if lid != "" && id != lid {
			return fmt.Errorf("%s names leader %s, another member %s", s.ID, id, lid)
		}
		lid = id
	}
	ld := c.ByID(lid)
	if ld == nil || !slices.Contains(members, ld) {
		return fmt.Errorf("leader %q is not a member", lid)
	}
	if st, err := c.do(ld, adminTimeout, "RAFT.STATE").Text(); err != nil || st != "leader" {
		return fmt.Errorf("RAFT.STATE of %s = %q, %v; want leader", lid, st, err)
	}
	ps, err := c.Peers(ld)
	if err != nil {
		return err
	}
	voters := 0
	for _, p := range ps {
		if p.Suffrage == "voter" {
			voters++
		}
		if c.byIDIn(members, p.ID) == nil {
			return fmt.Errorf("configuration %+v holds %s, not a member", ps, p.ID)
		}
	}
	if len(ps) != len(members) {
		return fmt.Errorf("configuration %+v, want the %d members", ps, len(members))
	}
	if want := min(c.cfg.Nodes, len(members)); voters != want {
		return fmt.Errorf("configuration %+v has %d voters, want %d", ps, voters, want)
	}
	if c.Sharded() {
		return c.groupsHealthy(members)
	}
	return nil
}

func (c *Cluster) byIDIn(list []*Server, id string) *Server {
	for _, s := range list {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// WaitHealthy waits up to d for Healthy.
func (c *Cluster) WaitHealthy(d time.Duration) error {
	return waitFor(d, c.Healthy)
}

// WaitCaughtUp waits up to d until every member has applied the leader's
// commit index as of now; in the sharded mode, then every replica of each
// data group its group leader's.
func (c *Cluster) WaitCaughtUp(d time.Duration) error {
	ld, err := c.WaitLeader(d)
	if err != nil {
		return err
	}
	commit, err := c.infoUint(ld, "commit_index")
	if err != nil {
		return err
	}
	err = waitFor(d, func() error {
		for _, s := range c.Members() {
			applied, err := c.infoUint(s, "fsm_applied_index")
			if err != nil {
				return err
			}
			if applied < commit {
				return fmt.Errorf("%s applied %d < leader %s commit index %d", s.ID, applied, ld.ID, commit)
			}
		}
		return nil
	})
	if err != nil || !c.Sharded() {
		return err
	}
	return c.groupsCaughtUp(d)
}

// waitFor polls cond until it returns nil or d passed; then it returns
// cond's last error.
func waitFor(d time.Duration, cond func() error) error {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not met after %s: %w", d, err)
		}
		<-tick.C
	}
}
