package resp

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/raftkv"
	"github.com/riotkv/riot/storage"
)

// fakeShards is a sharded node with a fixed topology: the groups Self
// leads are served by one backend, the others by none on this node.
type fakeShards struct {
	sharded bool
	backend Backend

	mu   sync.Mutex
	topo cluster.Topology
	// local is the raft state of this node's replicas, by group ID
	// (Groups).
	local map[int]raftkv.Status
	// notOpen is NotOpen's reason (for 1.5 s).
	notOpen string
}

func (f *fakeShards) Sharded() bool { return f.sharded }

func (f *fakeShards) Route(slot uint16) (Backend, bool) {
	t := f.Topology()
	if g, ok := t.GroupOf(slot); ok && g.Leader == t.Self {
		return f.backend, true
	}
	return nil, false
}

func (f *fakeShards) Led() []Backend { return []Backend{f.backend} }

func (f *fakeShards) Local() map[int]Backend {
	t := f.Topology()
	out := map[int]Backend{}
	for _, g := range t.Groups {
		if g.Leader == t.Self {
			out[g.ID] = f.backend
		}
	}
	return out
}

func (f *fakeShards) Topology() cluster.Topology {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.topo
}

func (f *fakeShards) NotOpen() (string, time.Duration) {
	if f.notOpen == "" {
		return "", 0
	}
	return f.notOpen, 1500 * time.Millisecond
}
func (f *fakeShards) RoundAge() time.Duration { return 250 * time.Millisecond }

func (f *fakeShards) Groups() []cluster.GroupStatus {
	t := f.Topology()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []cluster.GroupStatus
	for _, g := range t.Groups {
		gs := cluster.GroupStatus{ID: uint32(g.ID), Slots: g.Slots, Leader: g.Leader, Replicas: g.Replicas}
		if n, ok := t.Node(g.Leader); ok {
			gs.LeaderClientAddr = n.ClientAddr
		}
		if st, ok := f.local[g.ID]; ok {
			gs.Local = &st
		}
		out = append(out, gs)
	}
	return out
}

func (f *fakeShards) setTopology(t cluster.Topology) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.topo = t
}

// testTopology: three nodes (n3 down, as gossip sees it) and three
// groups; n1 (this node) leads group 1 (0-5000 and 5001-5460, which show
// as one range, and the single slot 10922), n2 leads group 2 (5461-10921);
// group 3's leader is unknown.
func testTopology() cluster.Topology {
	all := []string{"n1", "n2", "n3"}
	return cluster.Topology{
		Self:  "n1",
		Epoch: 7,
		Nodes: []cluster.TopologyNode{
			{ID: "n1", ClientAddr: "127.0.0.1:7001", Connected: true},
			{ID: "n2", ClientAddr: "127.0.0.1:7002", Connected: true},
			{ID: "n3", ClientAddr: "127.0.0.1:7003", Connected: false},
		},
		Groups: []cluster.TopologyGroup{
			{ID: 1, Slots: []cluster.SlotRange{{From: 0, To: 5000}, {From: 5001, To: 5460}, {From: 10922, To: 10922}}, Leader: "n1", Replicas: all},
			{ID: 2, Slots: []cluster.SlotRange{{From: 5461, To: 10921}}, Leader: "n2", Replicas: all},
			{ID: 3, Slots: []cluster.SlotRange{{From: 10923, To: 16383}}, Replicas: all},
		},
	}
}

// startShardedServer starts a server whose Config.Shards is f, f's
// backend being the server's own.
func startShardedServer(t *testing.T, f *fakeShards) *testServer {
	t.Helper()
	eng := storage.NewMemory()
	t.Cleanup(func() { _ = eng.Close() })
	router, err := cluster.New(cluster.DefaultConfig(), startNode(t, eng))
	if err != nil {
		t.Fatalf("cluster.New: %v", err)
	}
	f.backend = router
	return serve(t, router, func(c *Config) { c.Shards = f })
}

// RESP builders for the expected replies.
func rArr(n int) string     { return "*" + strconv.Itoa(n) + "\r\n" }
func rInt(n int) string     { return ":" + strconv.Itoa(n) + "\r\n" }
func rBulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }
func rErr(s string) string  { return "-" + s + "\r\n" }
func rOK() string           { return "+OK\r\n" }
func rMap(n, proto int) string {
	if proto == 3 {
		return "%" + strconv.Itoa(n) + "\r\n"
	}
	return rArr(2 * n)
}
func rText(s string, proto int) string {
	if proto == 3 {
		return "=" + strconv.Itoa(len(s)+4) + "\r\ntxt:" + s + "\r\n"
	}
	return rBulk(s)
}

var nodeIDs = map[string]string{
	"n1": cluster.ClusterNodeID("n1"), "n2": cluster.ClusterNodeID("n2"), "n3": cluster.ClusterNodeID("n3"),
}

// slotNode is one node of a CLUSTER SLOTS range.
func slotNode(id string, port, proto int) string {
	return rArr(4) + rBulk("127.0.0.1") + rInt(port) + rBulk(nodeIDs[id]) + rMap(0, proto)
}

// shardNode is one node of a CLUSTER SHARDS shard.
func shardNodeReply(id string, port int, role, health string, proto int) string {
	return rMap(7, proto) + rBulk("id") + rBulk(nodeIDs[id]) + rBulk("port") + rInt(port) +
		rBulk("ip") + rBulk("127.0.0.1") + rBulk("endpoint") + rBulk("127.0.0.1") +
		rBulk("role") + rBulk(role) + rBulk("replication-offset") + rInt(0) + rBulk("health") + rBulk(health)
}

// Reference: https://redis.io/docs/latest/commands/cluster-slots/,
// cluster-shards/, cluster-nodes/, cluster-info/, cluster-myid/,
// cluster-keyslot/ (reply formats of redis-server 7.0 --cluster-enabled).
func TestClusterTopologyReplies(t *testing.T) {
	f := &fakeShards{sharded: true, topo: testTopology()}
	ts := startShardedServer(t, f)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			raw := dialRawProto(t, ts, proto)
			// SLOTS: slot order; n3 (down) is left out of the replicas;
			// group 3 without a leader shows its first live replica first.
			raw.roundTrip(req("CLUSTER", "SLOTS"), rArr(4)+
				rArr(4)+rInt(0)+rInt(5460)+slotNode("n1", 7001, proto)+slotNode("n2", 7002, proto)+
				rArr(4)+rInt(5461)+rInt(10921)+slotNode("n2", 7002, proto)+slotNode("n1", 7001, proto)+
				rArr(4)+rInt(10922)+rInt(10922)+slotNode("n1", 7001, proto)+slotNode("n2", 7002, proto)+
				rArr(4)+rInt(10923)+rInt(16383)+slotNode("n1", 7001, proto)+slotNode("n2", 7002, proto))
			// SHARDS: group order, every member with its health.
			raw.roundTrip(req("CLUSTER", "SHARDS"), rArr(3)+
				rMap(2, proto)+rBulk("slots")+rArr(4)+rInt(0)+rInt(5460)+rInt(10922)+rInt(10922)+rBulk("nodes")+rArr(3)+
				shardNodeReply("n1", 7001, "master", "online", proto)+shardNodeReply("n2", 7002, "replica", "online", proto)+
				shardNodeReply("n3", 7003, "replica", "fail", proto)+
				rMap(2, proto)+rBulk("slots")+rArr(2)+rInt(5461)+rInt(10921)+rBulk("nodes")+rArr(3)+
				shardNodeReply("n2", 7002, "master", "online", proto)+shardNodeReply("n1", 7001, "replica", "online", proto)+
				shardNodeReply("n3", 7003, "replica", "fail", proto)+
				rMap(2, proto)+rBulk("slots")+rArr(2)+rInt(10923)+rInt(16383)+rBulk("nodes")+rArr(3)+
				shardNodeReply("n1", 7001, "replica", "online", proto)+shardNodeReply("n2", 7002, "replica", "online", proto)+
				shardNodeReply("n3", 7003, "replica", "fail", proto))
			raw.roundTrip(req("CLUSTER", "MYID"), rBulk(nodeIDs["n1"]))
			raw.roundTrip(req("cluster", "keyslot", "{user1000}.following"), rInt(3443))
			raw.roundTrip(req("CLUSTER", "KEYSLOT", ""), rInt(0))
			raw.roundTrip(req("CLUSTER", "INFO"), rText("cluster_state:fail\r\ncluster_slots_assigned:16384\r\n"+
				"cluster_slots_ok:10923\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:5461\r\ncluster_known_nodes:3\r\n"+
				"cluster_size:3\r\ncluster_current_epoch:7\r\ncluster_my_epoch:7\r\ncluster_stats_messages_sent:0\r\n"+
				"cluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n", proto))

			before := time.Now().UnixMilli()
			raw.send(req("CLUSTER", "NODES"))
			got, err := raw.reply()
			after := time.Now().UnixMilli()
			if err != nil {
				t.Fatal(err)
			}
			text := string(got) // $n or =n, CRLF, [txt:]text, CRLF
			text = strings.TrimPrefix(text[strings.Index(text, "\r\n")+2:len(text)-2], "txt:")
			lines := strings.Split(text, "\n")
			want := []string{
				nodeIDs["n1"] + " 127.0.0.1:7001@17001 myself,master - 0 NOW 7 connected 0-5460 10922",
				nodeIDs["n2"] + " 127.0.0.1:7002@17002 master - 0 NOW 7 connected 5461-10921",
				nodeIDs["n3"] + " 127.0.0.1:7003@17003 master,fail - 0 0 7 disconnected",
				"",
			}
			if len(lines) != len(want) {
				t.Fatalf("CLUSTER NODES = %q; want %d lines", text, len(want)-1)
			}
			for i, l := range lines {
				if f := strings.Fields(l); len(f) > 5 && f[5] != "0" {
					pong, err := strconv.ParseInt(f[5], 10, 64)
					if err != nil || pong < before || pong > after {
						t.Errorf("CLUSTER NODES line %d pong-recv %q; want the time of the call", i, f[5])
					}
					f[5] = "NOW"
					l = strings.Join(f, " ")
				}
				if l != want[i] {
					t.Errorf("CLUSTER NODES line %d = %q\nwant %q", i, l, want[i])
				}
			}
		})
	}

	// Every group led by a live or down node: ok and pfail, state ok; a
	// node without an address shows as noaddr.
	topo := testTopology()
	topo.Groups[2].Leader = "n3"
	topo.Nodes = append(topo.Nodes, cluster.TopologyNode{ID: "n4"})
	f.setTopology(topo)
	raw := dialRaw(t, ts)
	raw.roundTrip(req("CLUSTER", "INFO"), rText("cluster_state:ok\r\ncluster_slots_assigned:16384\r\n"+
		"cluster_slots_ok:10923\r\ncluster_slots_pfail:5461\r\ncluster_slots_fail:0\r\ncluster_known_nodes:4\r\n"+
		"cluster_size:3\r\ncluster_current_epoch:7\r\ncluster_my_epoch:7\r\ncluster_stats_messages_sent:0\r\n"+
		"cluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n", 2))
	raw.send(req("CLUSTER", "NODES"))
	got, err := raw.reply()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		nodeIDs["n3"] + " 127.0.0.1:7003@17003 master,fail - 0 0 7 disconnected 10923-16383\n",
		cluster.ClusterNodeID("n4") + " :0@0 master,fail,noaddr - 0 0 7 disconnected\n",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("CLUSTER NODES = %q; want a line %q", got, want)
		}
	}
	// The leader's slots are listed first in SLOTS even though it is down.
	raw.send(req("CLUSTER", "SLOTS"))
	if got, err := raw.reply(); err != nil || !strings.HasSuffix(string(got),
		rArr(5)+rInt(10923)+rInt(16383)+slotNode("n3", 7003, 2)+slotNode("n1", 7001, 2)+slotNode("n2", 7002, 2)) {
		t.Errorf("CLUSTER SLOTS with group 3 led by n3 (down) = %q, %v; want n3 first, then the live replicas", got, err)
	}
}

// keyInRange returns a key whose slot is within lo..hi.
func keyInRange(t *testing.T, lo, hi uint16) (string, uint16) {
	t.Helper()
	for i := range 100000 {
		k := "{k" + strconv.Itoa(i) + "}"
		if s := kv.Slot([]byte(k)); s >= lo && s <= hi {
			return k, s
		}
	}
	t.Fatalf("no key in slots %d-%d", lo, hi)
	return "", 0
}

// Reference: https://redis.io/docs/latest/commands/cluster-countkeysinslot/,
// cluster-getkeysinslot/ (error texts of redis-server 7.0's cluster.c).
func TestClusterKeysInSlot(t *testing.T) {
	f := &fakeShards{sharded: true, topo: testTopology()}
	ts := startShardedServer(t, f)
	raw := dialRaw(t, ts)
	led, ledSlot := keyInRange(t, 0, 5460)
	other, otherSlot := keyInRange(t, 5461, 10921)
	for _, k := range []string{led + "b", led + "a", led + "c"} {
		raw.roundTrip(req("SET", k, "v"), rOK())
	}
	// A slot of a group this node does not lead: redirected, not stored.
	raw.roundTrip(req("SET", other+"x", "v"), rErr(fmt.Sprintf("MOVED %d 127.0.0.1:7002", otherSlot)))
	raw.roundTrip(req("SET", led+"gone", "v", "PX", "1"), rOK())
	deadline := time.Now().Add(ioTimeout)
	for { // wait for led+"gone" to expire
		raw.send(req("EXISTS", led+"gone"))
		if got, err := raw.reply(); err != nil || string(got) == rInt(0) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a key with PX 1 did not expire")
		}
	}
	sl, osl := strconv.Itoa(int(ledSlot)), strconv.Itoa(int(otherSlot))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", sl}, rInt(3)},
		{[]string{"CLUSTER", "GETKEYSINSLOT", sl, "10"}, rArr(3) + rBulk(led+"a") + rBulk(led+"b") + rBulk(led+"c")},
		{[]string{"CLUSTER", "GETKEYSINSLOT", sl, "2"}, rArr(2) + rBulk(led+"a") + rBulk(led+"b")},
		{[]string{"CLUSTER", "GETKEYSINSLOT", sl, "0"}, rArr(0)},
		// a group another node leads: this node holds none of its keys
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", osl}, rInt(0)},
		{[]string{"CLUSTER", "GETKEYSINSLOT", osl, "10"}, rArr(0)},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "-1"}, rErr("ERR Invalid slot")},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "16384"}, rErr("ERR Invalid slot")},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "abc"}, rErr("ERR value is not an integer or out of range")},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "1.5"}, rErr("ERR value is not an integer or out of range")},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "99999999999999999999"}, rErr("ERR value is not an integer or out of range")},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "-1", "1"}, rErr("ERR Invalid slot or number of keys")},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "16384", "1"}, rErr("ERR Invalid slot or number of keys")},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "1", "-1"}, rErr("ERR Invalid slot or number of keys")},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "16384", "-1"}, rErr("ERR Invalid slot or number of keys")},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "abc", "1"}, rErr("ERR value is not an integer or out of range")},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "1", "abc"}, rErr("ERR value is not an integer or out of range")},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "abc", "-1"}, rErr("ERR value is not an integer or out of range")},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "1"}, rErr("ERR wrong number of arguments for 'cluster|getkeysinslot' command")},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT"}, rErr("ERR wrong number of arguments for 'cluster|countkeysinslot' command")},
	} {
		raw.roundTrip(req(tc.args...), tc.want)
	}
	// Only database 0, as in Redis Cluster.
	raw.roundTrip(req("SELECT", "1"), rErr("ERR SELECT is not allowed in cluster mode"))
	raw.roundTrip(req("SELECT", "0"), rOK())
}

// TestClusterSubcommandsSharded: the other subcommands on a sharded node:
// HELP, Redis's arity and unknown-subcommand errors, riot's refusal of the
// ones that would place slots or nodes, and ASKING.
func TestClusterSubcommandsSharded(t *testing.T) {
	ts := startShardedServer(t, &fakeShards{sharded: true, topo: testTopology()})
	raw := dialRaw(t, ts)
	raw.send(req("CLUSTER", "HELP"))
	if got, err := raw.reply(); err != nil || !strings.HasPrefix(string(got), "*"+strconv.Itoa(len(clusterHelpLines))+"\r\n+CLUSTER <subcommand> ") ||
		!strings.Contains(string(got), "+GETKEYSINSLOT <slot> <count>\r\n") || strings.Contains(string(got), "MEET") {
		t.Errorf("CLUSTER HELP = %q, %v; want the subcommands riot answers", got, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CLUSTER", "FOO"}, rErr("ERR unknown subcommand 'FOO'. Try CLUSTER HELP.")},
		{[]string{"CLUSTER"}, rErr("ERR wrong number of arguments for 'cluster' command")},
		{[]string{"CLUSTER", "INFO", "x"}, rErr("ERR wrong number of arguments for 'cluster|info' command")},
		{[]string{"CLUSTER", "MEET", "1.2.3.4"}, rErr("ERR wrong number of arguments for 'cluster|meet' command")},
		{[]string{"CLUSTER", "meet", "1.2.3.4", "7000"}, rErr("ERR CLUSTER MEET is not supported: riot places slots and nodes itself")},
		{[]string{"CLUSTER", "ADDSLOTS", "1"}, rErr("ERR CLUSTER ADDSLOTS is not supported: riot places slots and nodes itself")},
		{[]string{"CLUSTER", "SETSLOT", "1", "STABLE"}, rErr("ERR CLUSTER SETSLOT is not supported: riot places slots and nodes itself")},
		{[]string{"CLUSTER", "FAILOVER"}, rErr("ERR CLUSTER FAILOVER is not supported: riot places slots and nodes itself")},
		{[]string{"CLUSTER", "RESET"}, rErr("ERR CLUSTER RESET is not supported: riot places slots and nodes itself")},
		{[]string{"ASKING"}, rOK()},
		{[]string{"ASKING", "x"}, rErr("ERR wrong number of arguments for 'asking' command")},
		{[]string{"READONLY"}, rOK()},
		{[]string{"READWRITE"}, rOK()},
	} {
		raw.roundTrip(req(tc.args...), tc.want)
	}
	// INFO's cluster_enabled, which redis-cli --cluster reads.
	for name, ts := range map[string]*testServer{"1": ts, "0": startServer(t, nil)} {
		info, err := newClient(t, ts, 2).Info(testCtx(t), "cluster").Result()
		if err != nil || !strings.HasPrefix(info, "# Cluster\r\ncluster_enabled:"+name+"\r\n") {
			t.Errorf("INFO cluster = %q, %v; want cluster_enabled:%s first", info, err, name)
		}
	}
}

// clusterDisabledCases: what redis-server 7.0 without cluster-enabled
// answers; riot answers the same when it is not sharded. READONLY,
// READWRITE and ASKING are left out: riot answers OK (READONLY selects
// riot's stale reads; docs/commands.md).
var clusterDisabledCases = []setCase{
	exact("CLUSTER", "INFO"), exact("CLUSTER", "SLOTS"), exact("CLUSTER", "SHARDS"), exact("CLUSTER", "NODES"),
	exact("CLUSTER", "MYID"), exact("CLUSTER", "HELP"), exact("cluster", "keyslot", "foo"),
	exact("CLUSTER", "COUNTKEYSINSLOT", "1"), exact("CLUSTER", "COUNTKEYSINSLOT", "abc"),
	exact("CLUSTER", "GETKEYSINSLOT", "1", "1"), exact("CLUSTER", "MEET", "1.2.3.4", "7000"), exact("CLUSTER", "RESET"),
	exact("CLUSTER", "ADDSLOTS", "1"), exact("CLUSTER", "FAILOVER", "FORCE"), exact("CLUSTER", "LINKS"),
	exact("CLUSTER", "FOO"), exact("CLUSTER", "foo", "bar"), exact("CLUSTER"), exact("CLUSTER", "INFO", "x"),
	exact("CLUSTER", "KEYSLOT"), exact("CLUSTER", "GETKEYSINSLOT", "1"), exact("CLUSTER", "MEET", "1"),
	exact("CLUSTER", "HELP", "x"), exact("ASKING", "x"), exact("READONLY", "x"), exact("READWRITE", "x"),
}

// Reference: https://redis.io/docs/latest/commands/cluster/ (redis-server
// 7.0 without cluster-enabled, compared byte for byte): a node without
// Config.Shards, and one whose cluster has no slot map yet.
func TestDifferentialClusterDisabled(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test skipped in -short mode")
	}
	redisAddr := startRedisServer(t)
	servers := map[string]*testServer{
		"no shards": startServer(t, nil),
		"unsharded": startShardedServer(t, &fakeShards{sharded: false, topo: testTopology()}),
	}
	for name, ts := range servers {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/resp%d", name, proto), func(t *testing.T) {
				ref, got := dialDiffPair(t, redisAddr, ts.addr, proto)
				for _, sc := range clusterDisabledCases {
					want, have := setReply(t, ref, sc), setReply(t, got, sc)
					if want != have {
						t.Errorf("RESP%d %s:\n  redis-server: %q\n  riot:         %q", proto, strings.Join(sc.args, " "), want, have)
					}
				}
			})
		}
	}
}

// startShardedCluster starts n servers that each answer the same
// topology as their own node (n1, n2, ...): node i leads group i, and
// the groups split the slots evenly. It returns the servers.
func startShardedCluster(t *testing.T, n int) []*testServer {
	t.Helper()
	fakes := make([]*fakeShards, n)
	servers := make([]*testServer, n)
	for i := range n {
		fakes[i] = &fakeShards{sharded: true}
		servers[i] = startShardedServer(t, fakes[i])
	}
	topo := cluster.Topology{Epoch: 1}
	for i := range n {
		id := "n" + strconv.Itoa(i+1)
		topo.Nodes = append(topo.Nodes, cluster.TopologyNode{ID: id, ClientAddr: servers[i].addr, Connected: true})
		r := cluster.SlotRange{From: uint16(i * kv.Slots / n), To: uint16((i+1)*kv.Slots/n - 1)}
		topo.Groups = append(topo.Groups, cluster.TopologyGroup{ID: i + 1, Slots: []cluster.SlotRange{r}, Leader: id, Replicas: []string{id}})
	}
	for i, f := range fakes {
		topo.Self = topo.Nodes[i].ID
		f.setTopology(topo)
	}
	return servers
}

// TestClusterClients: Redis Cluster tools and clients read riot's replies:
// redis-cli --cluster check finds every slot covered and the nodes
// agreeing, and go-redis's ClusterClient learns the slots and routes
// commands by them.
// Reference: https://redis.io/docs/latest/operate/oss_and_stack/management/scaling/
func TestClusterClients(t *testing.T) {
	servers := startShardedCluster(t, 3)
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Logf("redis-cli not found: --cluster check skipped")
	} else {
		out, err := exec.Command("redis-cli", "--cluster", "check", servers[0].addr).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "[OK] All 16384 slots covered.") ||
			!strings.Contains(string(out), "[OK] All nodes agree about slots configuration.") {
			t.Errorf("redis-cli --cluster check: %v\n%s", err, out)
		}
	}

	ctx := testCtx(t)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{servers[1].addr}, MaxRetries: -1,
		DialTimeout: ioTimeout, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout})
	t.Cleanup(func() { _ = rdb.Close() })
	slots, err := rdb.ClusterSlots(ctx).Result()
	if err != nil || len(slots) != 3 {
		t.Fatalf("ClusterSlots = %+v, %v; want 3 ranges", slots, err)
	}
	for i, s := range slots {
		if len(s.Nodes) != 1 || s.Nodes[0].Addr != servers[i].addr || s.Nodes[0].ID != cluster.ClusterNodeID("n"+strconv.Itoa(i+1)) {
			t.Errorf("ClusterSlots range %d = %+v; want node n%d at %s", i, s, i+1, servers[i].addr)
		}
	}
	// Each key goes to the node of its slot: only that node holds it.
	for _, key := range []string{"a", "b", "c", "{user1000}.following"} {
		if err := rdb.Set(ctx, key, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s through the cluster client: %v", key, err)
		}
		slot := kv.Slot([]byte(key))
		owner := int(slot) * 3 / kv.Slots
		for i, ts := range servers {
			n, err := newClient(t, ts, 2).Exists(ctx, key).Result()
			if i == owner {
				if err != nil || n != 1 {
					t.Errorf("EXISTS %s on its node n%d = %d, %v; want 1", key, i+1, n, err)
				}
				continue
			}
			if want := fmt.Sprintf("MOVED %d %s", slot, servers[owner].addr); err == nil || err.Error() != want {
				t.Errorf("EXISTS %s on n%d = %d, %v; want %q", key, i+1, n, err, want)
			}
		}
	}
}

// RAFT.GROUPS lists every data group with this node's replicas' raft
// state, in RESP2 and RESP3; INFO's Shards section agrees with it; an
// unsharded node answers an empty array.
func TestRaftGroups(t *testing.T) {
	f := &fakeShards{sharded: true, topo: testTopology(), local: map[int]raftkv.Status{
		1: {State: "leader", Term: 4, AppliedIndex: 90, CommitIndex: 95, LastIndex: 96, Voters: 3},
		3: {State: "follower", Term: 2, AppliedIndex: 7, CommitIndex: 7, LastIndex: 7, Voters: 2},
	}, notOpen: "open group 2: no\r\nway"}
	ts := startShardedServer(t, f)
	kvs := func(proto int, n int, pairs ...string) string {
		out := rMap(n, proto)
		for _, p := range pairs {
			out += p
		}
		return out
	}
	replicas := rBulk("replicas") + rArr(3) + rBulk("n1") + rBulk("n2") + rBulk("n3")
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			raw := dialRawProto(t, ts, proto)
			raw.roundTrip(req("RAFT.GROUPS"), rArr(3)+
				kvs(proto, 11, rBulk("id"), rBulk("1"), rBulk("slots"), rBulk("0-5000,5001-5460,10922"),
					rBulk("leader"), rBulk("n1"), rBulk("leader_client_addr"), rBulk("127.0.0.1:7001"), replicas,
					rBulk("state"), rBulk("leader"), rBulk("term"), rBulk("4"), rBulk("applied_index"), rBulk("90"),
					rBulk("commit_index"), rBulk("95"), rBulk("last_index"), rBulk("96"), rBulk("voters"), rBulk("3"))+
				kvs(proto, 6, rBulk("id"), rBulk("2"), rBulk("slots"), rBulk("5461-10921"),
					rBulk("leader"), rBulk("n2"), rBulk("leader_client_addr"), rBulk("127.0.0.1:7002"), replicas,
					rBulk("state"), rBulk("none"))+
				kvs(proto, 11, rBulk("id"), rBulk("3"), rBulk("slots"), rBulk("10923-16383"),
					rBulk("leader"), rBulk(""), rBulk("leader_client_addr"), rBulk(""), replicas,
					rBulk("state"), rBulk("follower"), rBulk("term"), rBulk("2"), rBulk("applied_index"), rBulk("7"),
					rBulk("commit_index"), rBulk("7"), rBulk("last_index"), rBulk("7"), rBulk("voters"), rBulk("2")))
			raw.roundTrip(req("RAFT.GROUPS", "x"), rErr("ERR wrong number of arguments for 'raft.groups' command"))
		})
	}

	_, info := infoFieldsOf(t.Context(), t, newClient(t, ts, 2), "shards")
	for name, want := range map[string]string{
		"shards_epoch":  "7",
		"shards_groups": "3",
		"group1":        "slots=0-5000|5001-5460|10922,leader=n1,preferred=,replicas=n1|n2|n3,state=leader,applied_index=90,commit_index=95,lag=5,voters=3",
		"group2":        "slots=5461-10921,leader=n2,preferred=,replicas=n1|n2|n3,state=none",
		"group3":        "slots=10923-16383,leader=,preferred=,replicas=n1|n2|n3,state=follower,applied_index=7,commit_index=7,lag=0,voters=2",
		"shards_led":    "1",
		"shards_local":  "2",
		// The reconcile loop's last round, and why group 2 (placed here,
		// say) is not open: one line.
		"shards_round_age_ms": "250",
		"shards_not_open":     "open group 2: no  way",
		"shards_not_open_ms":  "1500",
	} {
		if info[name] != want {
			t.Errorf("INFO shards %s = %q; want %q", name, info[name], want)
		}
	}

	for name, ts := range map[string]*testServer{
		"no shards": startServer(t, nil),
		"unsharded": startShardedServer(t, &fakeShards{sharded: false, topo: cluster.Topology{Self: "n1"}}),
	} {
		t.Run(name, func(t *testing.T) {
			dialRaw(t, ts).roundTrip(req("RAFT.GROUPS"), rArr(0))
		})
	}
}

// RAFT.BACKUP on a sharded node backs up a data group this node holds a
// replica of (n1 leads group 1 here); without a group it asks for one; a
// group it does not hold names the replicas; an unsharded node answers a
// group argument with that error too.
func TestRaftBackupGroup(t *testing.T) {
	ts := startShardedServer(t, &fakeShards{sharded: true, topo: testTopology()})
	c := newClient(t, ts, 2)
	ctx := t.Context()
	b, err := c.Do(ctx, "RAFT.BACKUP", "1").Text()
	if err != nil || !strings.HasPrefix(b, "RIOTSNAP") {
		t.Errorf("RAFT.BACKUP 1 = %.16q, %v; want a backup", b, err)
	}
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{"RAFT.BACKUP"}, "ERR the cluster is sharded: back up each data group with RAFT.BACKUP <group> (RAFT.GROUPS lists them)"},
		{[]any{"RAFT.BACKUP", "2"}, "ERR no replica of group 2 here (replicas: n1, n2, n3)"},
		{[]any{"RAFT.BACKUP", "9"}, "ERR no replica of group 9 here"},
		{[]any{"RAFT.BACKUP", "1", "2"}, "ERR syntax error"},
	} {
		if err := c.Do(ctx, tc.args...).Err(); err == nil || err.Error() != tc.want {
			t.Errorf("%v = %v; want %q", tc.args, err, tc.want)
		}
	}
	uc := newClient(t, startServer(t, nil), 2)
	if err := uc.Do(ctx, "RAFT.BACKUP", "1").Err(); err == nil || err.Error() != "ERR no replica of group 1 here" {
		t.Errorf("RAFT.BACKUP 1 unsharded = %v; want ERR no replica of group 1 here", err)
	}
	if b, err := uc.Do(ctx, "RAFT.BACKUP").Text(); err != nil || !strings.HasPrefix(b, "RIOTSNAP") {
		t.Errorf("RAFT.BACKUP unsharded = %.16q, %v; want a backup", b, err)
	}
}
