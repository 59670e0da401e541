package dockertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// compose is one compose project of deploy/docker-compose.yml.
type compose struct {
	project  string
	override string   // a second compose file (static addresses, test settings), or ""
	env      []string // variables the compose files read
}

func (c *compose) run(args ...string) (string, error) {
	full := append(slices.Clone(composeCmd[1:]), "-p", c.project, "-f", filepath.Join(repoRoot, "deploy", "docker-compose.yml"))
	if c.override != "" {
		full = append(full, "-f", c.override)
	}
	return commandEnv(c.env, composeCmd[0], append(full, args...)...)
}

// containerID returns the ID of service's container (asked of docker by
// the labels compose sets: quicker than starting compose again).
func (c *compose) containerID(service string) (string, error) {
	out, err := docker("ps", "-a", "-q", "--filter", "label=com.docker.compose.project="+c.project,
		"--filter", "label=com.docker.compose.service="+service)
	ids := strings.Fields(out)
	if err != nil || len(ids) != 1 {
		return "", fmt.Errorf("container of %s: %v: %q", service, err, out)
	}
	return ids[0], nil
}

// hostPort returns the host address a container port is published on.
func (c *compose) hostPort(service string, port int) (string, error) {
	out, err := c.run("port", service, fmt.Sprint(port))
	addr := strings.TrimSpace(out)
	if err != nil || addr == "" {
		return "", fmt.Errorf("published port %d of %s: %v: %q", port, service, err, out)
	}
	return addr, nil
}

// freeSubnet returns a /24 that no docker network and no route of this
// machine overlaps.
func freeSubnet() (*net.IPNet, error) {
	var used []*net.IPNet
	add := func(s string) {
		if _, n, err := net.ParseCIDR(s); err == nil {
			used = append(used, n)
		}
	}
	if ids, err := docker("network", "ls", "-q"); err == nil && strings.TrimSpace(ids) != "" {
		out, err := docker(append([]string{"network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}"}, strings.Fields(ids)...)...)
		if err != nil {
			return nil, err
		}
		for _, s := range strings.Fields(out) {
			add(s)
		}
	}
	if out, err := command("ip", "-4", "route", "show"); err == nil {
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], "/") {
				add(f[0])
			}
		}
	}
	start := os.Getpid() % 200
	for i := range 200 {
		x := 20 + (start+i)%200
		cand := &net.IPNet{IP: net.IPv4(172, 29, byte(x), 0).To4(), Mask: net.CIDRMask(24, 32)}
		if !slices.ContainsFunc(used, func(n *net.IPNet) bool { return n.Contains(cand.IP) || cand.Contains(n.IP) }) {
			return cand, nil
		}
	}
	return nil, errors.New("no free 172.29.X.0/24 subnet")
}

// cnode is one node of the compose cluster, reached at its address on the
// compose network.
type cnode struct {
	service string // node1..node3 (also the node ID and host name)
	ip      string
	cid     string        // container ID
	c       *redis.Client // linearizable reads
	local   *redis.Client // READONLY: local state
}

func newClient(addr string, readonly bool) *redis.Client {
	o := &redis.Options{
		Addr: addr, Protocol: 2, DisableIdentity: true,
		DialTimeout: time.Second, ReadTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second,
		ContextTimeoutEnabled: true, MaxRetries: -1, PoolSize: 2,
	}
	if readonly {
		o.OnConnect = func(ctx context.Context, cn *redis.Conn) error { return cn.ReadOnly(ctx).Err() }
	}
	return redis.NewClient(o)
}

func opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 4*time.Second)
}

func (n *cnode) do(args ...any) *redis.Cmd {
	ctx, cancel := opCtx()
	defer cancel()
	return n.c.Do(ctx, args...)
}

// leader returns the leader ID n reports in RAFT.LEADER.
func (n *cnode) leader() (string, error) {
	l, err := n.do("RAFT.LEADER").StringSlice()
	if err != nil {
		return "", fmt.Errorf("RAFT.LEADER on %s: %w", n.service, err)
	}
	if len(l) != 3 || l[0] == "" {
		return "", fmt.Errorf("RAFT.LEADER on %s = %q", n.service, l)
	}
	return l[0], nil
}

// peer is one entry of RAFT.PEERS.
type peer struct{ ID, RaftAddr, ClientAddr, Suffrage, Gossip string }

func (n *cnode) peers() ([]peer, error) {
	v, err := n.do("RAFT.PEERS").Result()
	if err != nil {
		return nil, fmt.Errorf("RAFT.PEERS on %s: %w", n.service, err)
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("RAFT.PEERS on %s: %#v is not an array", n.service, v)
	}
	var out []peer
	for _, e := range arr {
		flat, ok := e.([]any)
		if !ok || len(flat)%2 != 0 {
			return nil, fmt.Errorf("RAFT.PEERS on %s: entry %#v", n.service, e)
		}
		m := map[string]string{}
		for i := 0; i < len(flat); i += 2 {
			k, _ := flat[i].(string)
			v, _ := flat[i+1].(string)
			m[k] = v
		}
		out = append(out, peer{ID: m["id"], RaftAddr: m["raft_addr"], ClientAddr: m["client_addr"], Suffrage: m["suffrage"], Gossip: m["gossip"]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// checkWhole reports, for nodes that must form one cluster: every node
// names the same leader, which is one of them and the only one whose
// RAFT.STATE is leader; every node's configuration is exactly the nodes,
// all voters at their advertised addresses (their IPs on the compose
// network), and gossip sees them alive.
func checkWhole(nodes []*cnode, all []*cnode) (string, error) {
	var leader string
	for _, n := range nodes {
		l, err := n.leader()
		if err != nil {
			return "", err
		}
		if leader != "" && l != leader {
			return "", fmt.Errorf("%s names leader %s, another node %s", n.service, l, leader)
		}
		leader = l
	}
	leaders := 0
	for _, n := range nodes {
		st, err := n.do("RAFT.STATE").Text()
		if err != nil {
			return "", fmt.Errorf("RAFT.STATE on %s: %w", n.service, err)
		}
		if st == "leader" {
			leaders++
			if n.service != leader {
				return "", fmt.Errorf("%s reports RAFT.STATE leader, RAFT.LEADER names %s", n.service, leader)
			}
		}
	}
	if leaders != 1 {
		return "", fmt.Errorf("%d nodes report RAFT.STATE leader, want 1", leaders)
	}
	var want []peer
	for _, n := range all {
		want = append(want, peer{ID: n.service, RaftAddr: n.ip + ":16379", ClientAddr: n.ip + ":6379", Suffrage: "voter", Gossip: "alive"})
	}
	for _, n := range nodes {
		ps, err := n.peers()
		if err != nil {
			return "", err
		}
		if !slices.Equal(ps, want) {
			return "", fmt.Errorf("RAFT.PEERS on %s = %+v, want %+v", n.service, ps, want)
		}
	}
	return leader, nil
}

// TestComposeCluster brings deploy/docker-compose.yml up (node1 bootstraps,
// node2 and node3 --join node1), writes through node1's published port and
// reads through the others, cuts the leader's container off the network
// (docker network disconnect), checks the other two elect a leader and
// keep serving writes and reads, reconnects it and checks it heals: it
// catches up with the writes it missed, one leader, one configuration of
// three voters, no second cluster.
func TestComposeCluster(t *testing.T) {
	needDocker(t)
	begin := time.Now()
	img := image(t)
	subnet, err := freeSubnet()
	if err != nil {
		t.Fatal(err)
	}
	prefix := strings.TrimSuffix(subnet.IP.String(), ".0")
	nodes := []*cnode{{service: "node1"}, {service: "node2"}, {service: "node3"}}
	// The shipped file lets docker pick the subnet; the test pins the
	// addresses so that a container reconnected to the network gets its
	// own back (the running node advertised it), and shortens promotion.
	var ov strings.Builder
	fmt.Fprintf(&ov, "version: \"2.4\"\nservices:\n")
	for i, n := range nodes {
		n.ip = fmt.Sprintf("%s.%d", prefix, 11+i)
		fmt.Fprintf(&ov, "  %s:\n    environment:\n      RIOT_STABILIZATION: 2s\n    networks:\n      default:\n        ipv4_address: %s\n", n.service, n.ip)
	}
	fmt.Fprintf(&ov, "networks:\n  default:\n    ipam:\n      config:\n        - subnet: %s\n", subnet)
	override := filepath.Join(t.TempDir(), "docker-compose.test.yml")
	if err := os.WriteFile(override, []byte(ov.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &compose{project: newName(), override: override, env: []string{
		"RIOT_IMAGE=" + img,
		// Free ports on 127.0.0.1, so that nothing else on the machine clashes.
		"RIOT_NODE1_RESP=127.0.0.1:", "RIOT_NODE2_RESP=127.0.0.1:", "RIOT_NODE3_RESP=127.0.0.1:",
		"RIOT_NODE1_HTTP=127.0.0.1:", "RIOT_NODE2_HTTP=127.0.0.1:", "RIOT_NODE3_HTTP=127.0.0.1:",
	}}
	network := c.project + "_default"
	t.Cleanup(func() {
		if t.Failed() {
			if out, err := c.run("logs", "--no-color", "--tail", "200"); err == nil {
				t.Logf("container logs:\n%s", out)
			}
		}
		start := time.Now()
		if out, err := c.run("down", "-v", "--remove-orphans", "-t", "2"); err != nil {
			t.Errorf("docker-compose down: %v: %s", err, out)
		}
		t.Logf("down in %s", time.Since(start).Round(100*time.Millisecond))
	})
	built := time.Now()
	if out, err := c.run("up", "-d", "--no-build"); err != nil {
		t.Fatalf("up: %v: %s", err, out)
	}
	for _, n := range nodes {
		if n.cid, err = c.containerID(n.service); err != nil {
			t.Fatal(err)
		}
		n.c = newClient(n.ip+":6379", false)
		n.local = newClient(n.ip+":6379", true)
		defer n.c.Close()
		defer n.local.Close()
	}
	up := time.Now()

	// One cluster of three voters, each at its container address.
	var leader string
	err = waitFor(60*time.Second, func() error {
		var err error
		leader, err = checkWhole(nodes, nodes)
		return err
	})
	if err != nil {
		t.Fatalf("the cluster did not form: %v", err)
	}
	formed := time.Now()
	t.Logf("cluster formed %s after up (leader %s)", formed.Sub(up).Round(100*time.Millisecond), leader)

	// A write through node1's published port, read through the others.
	pubAddr, err := c.hostPort("node1", 6379)
	if err != nil {
		t.Fatal(err)
	}
	pub := newClient(pubAddr, false)
	defer pub.Close()
	ctx, cancel := opCtx()
	err = pub.Set(ctx, "docker:first", "through node1", 0).Err()
	cancel()
	if err != nil {
		t.Fatalf("SET through node1's published port %s: %v", pubAddr, err)
	}
	for _, n := range nodes[1:] {
		if got, err := n.do("GET", "docker:first").Text(); err != nil || got != "through node1" {
			t.Fatalf("GET docker:first through %s = %q, %v; want %q", n.service, got, err, "through node1")
		}
	}

	// Cut the leader off.
	var cut *cnode
	var rest []*cnode
	for _, n := range nodes {
		if n.service == leader {
			cut = n
		} else {
			rest = append(rest, n)
		}
	}
	if out, err := docker("network", "disconnect", network, cut.cid); err != nil {
		t.Fatalf("disconnect %s: %v: %s", cut.service, err, out)
	}
	disconnected := time.Now()
	connected := false
	defer func() {
		if !connected { // leave the project whole for `down`
			_, _ = docker("network", "connect", "--ip", cut.ip, "--alias", cut.service, network, cut.cid)
		}
	}()
	var newLeader string
	err = waitFor(30*time.Second, func() error {
		l0, err0 := rest[0].leader()
		l1, err1 := rest[1].leader()
		if err := errors.Join(err0, err1); err != nil {
			return err
		}
		if l0 != l1 || l0 == cut.service {
			return fmt.Errorf("the two connected nodes name leaders %s and %s (cut off: %s)", l0, l1, cut.service)
		}
		newLeader = l0
		return nil
	})
	if err != nil {
		t.Fatalf("no new leader among %s, %s after %s was cut off: %v", rest[0].service, rest[1].service, cut.service, err)
	}
	t.Logf("%s cut off; %s elected after %s", cut.service, newLeader, time.Since(disconnected).Round(100*time.Millisecond))

	// The two keep serving: writes through each, reads through the other.
	const writes = 20
	want := map[string]string{}
	for i := range writes {
		n := rest[i%2]
		k, v := fmt.Sprintf("docker:cut:%02d", i), fmt.Sprintf("written through %s while %s was cut off (%d)", n.service, cut.service, i)
		var lastErr error
		// SET of a fresh value is idempotent: retry it across a leader's
		// first moments (CLUSTERDOWN, TRYAGAIN, a timeout).
		err := waitFor(15*time.Second, func() error {
			lastErr = n.do("SET", k, v).Err()
			return lastErr
		})
		if err != nil {
			t.Fatalf("SET %s through %s with %s cut off: %v", k, n.service, cut.service, err)
		}
		want[k] = v
		o := rest[(i+1)%2]
		if got, err := o.do("GET", k).Text(); err != nil || got != v {
			t.Fatalf("GET %s through %s = %q, %v; want %q", k, o.service, got, err, v)
		}
	}
	if got, err := rest[0].do("INCRBY", "docker:counter", 5).Int64(); err != nil || got != 5 {
		t.Fatalf("INCRBY docker:counter 5 through %s = %d, %v; want 5", rest[0].service, got, err)
	}
	want["docker:counter"] = "5"
	t.Logf("%d writes and reads served by %s and %s with %s cut off", writes+1, rest[0].service, rest[1].service, cut.service)

	// Reconnect at the same address (and DNS name): it catches up, follows
	// the new leader, and the cluster is whole again.
	if out, err := docker("network", "connect", "--ip", cut.ip, "--alias", cut.service, network, cut.cid); err != nil {
		t.Fatalf("reconnect %s: %v: %s", cut.service, err, out)
	}
	connected = true
	reconnected := time.Now()
	err = waitFor(60*time.Second, func() error {
		for k, v := range want {
			ctx, cancel := opCtx()
			got, err := cut.local.Get(ctx, k).Result()
			cancel()
			if err != nil || got != v {
				return fmt.Errorf("READONLY GET %s on %s = %q, %v; want %q", k, cut.service, got, err, v)
			}
		}
		_, err := checkWhole(nodes, nodes)
		return err
	})
	if err != nil {
		t.Fatalf("%s did not heal after reconnecting: %v", cut.service, err)
	}
	t.Logf("%s reconnected: caught up and the cluster whole again after %s", cut.service, time.Since(reconnected).Round(100*time.Millisecond))

	// It serves again: a write through it, read through the others.
	err = waitFor(15*time.Second, func() error { return cut.do("SET", "docker:last", "through "+cut.service).Err() })
	if err != nil {
		t.Fatalf("SET through the reconnected %s: %v", cut.service, err)
	}
	for _, n := range rest {
		if got, err := n.do("GET", "docker:last").Text(); err != nil || got != "through "+cut.service {
			t.Errorf("GET docker:last through %s = %q, %v; want %q", n.service, got, err, "through "+cut.service)
		}
	}
	if l, err := checkWhole(nodes, nodes); err != nil {
		t.Errorf("after the last write: %v", err)
	} else if l != newLeader {
		t.Logf("leadership moved from %s to %s after the reconnection", newLeader, l)
	}
	t.Logf("total %s: image %s, compose up %s, cluster formed %s later, partition and healing %s",
		time.Since(begin).Round(100*time.Millisecond), built.Sub(begin).Round(100*time.Millisecond),
		up.Sub(built).Round(100*time.Millisecond), formed.Sub(up).Round(100*time.Millisecond), time.Since(formed).Round(100*time.Millisecond))
}
