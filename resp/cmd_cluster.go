package resp

import (
	"cmp"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// The Redis Cluster commands. A sharded node (Config.Shards, Sharded())
// answers them from its Topology, the way a Redis 7.0 cluster would for
// the same slot map, so that cluster clients (go-redis ClusterClient,
// redis-py RedisCluster, redis-cli -c, redis-cli --cluster check) find the
// slots' owners. Riot shows each node as a master owning the slots of the
// groups it leads; a group's other members are its replicas in CLUSTER
// SLOTS and SHARDS. Riot places slots and nodes itself: the subcommands
// that change the slot map or the membership are refused. A node that is
// not sharded answers every subcommand as Redis does with cluster support
// disabled.

var errClusterDisabled = redisError("ERR This instance has cluster support disabled")

// clusterSubcommand is one CLUSTER subcommand of Redis 7.0: its arity
// (Redis convention, CLUSTER and the subcommand included) and its handler
// on a sharded node (nil: refused, riot places slots and nodes itself).
type clusterSubcommand struct {
	arity int
	run   func(s *session, sh Shards, args [][]byte)
}

// clusterSubcommands are every subcommand Redis 7.0 has, so that arity
// and unknown-subcommand errors are Redis's.
var clusterSubcommands = map[string]clusterSubcommand{
	"help":            {2, clusterHelp},
	"info":            {2, clusterInfo},
	"myid":            {2, clusterMyID},
	"nodes":           {2, clusterNodes},
	"slots":           {2, clusterSlots},
	"shards":          {2, cmdClusterShards},
	"keyslot":         {3, clusterKeySlot},
	"countkeysinslot": {3, clusterCountKeysInSlot},
	"getkeysinslot":   {4, clusterGetKeysInSlot},

	"addslots":              {-3, nil},
	"addslotsrange":         {-4, nil},
	"bumpepoch":             {2, nil},
	"count-failure-reports": {3, nil},
	"delslots":              {-3, nil},
	"delslotsrange":         {-4, nil},
	"failover":              {-2, nil},
	"flushslots":            {2, nil},
	"forget":                {3, nil},
	"links":                 {2, nil},
	"meet":                  {-4, nil},
	"replicas":              {3, nil},
	"replicate":             {3, nil},
	"reset":                 {-2, nil},
	"saveconfig":            {2, nil},
	"set-config-epoch":      {3, nil},
	"setslot":               {-4, nil},
	"slaves":                {3, nil},
}

var clusterHelpLines = []string{
	"CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"COUNTKEYSINSLOT <slot>",
	"    Return the number of keys in <slot>.",
	"GETKEYSINSLOT <slot> <count>",
	"    Return key names stored by current node in a slot.",
	"INFO",
	"    Return information about the cluster.",
	"KEYSLOT <key>",
	"    Return the hash slot for <key>.",
	"MYID",
	"    Return the node id.",
	"NODES",
	"    Return cluster configuration seen by node. Output format:",
	"    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
	"SLOTS",
	"    Return information about slots range mappings. Each range is made of:",
	"    start, end, master and replicas IP addresses, ports and ids",
	"SHARDS",
	"    Return information about slot range mappings and the nodes associated with them.",
	"HELP",
	"    Prints this help.",
}

// Reference: https://redis.io/docs/latest/commands/cluster/ and each
// subcommand's page; replies checked against redis-server 7.0.
func cmdCluster(s *session, args [][]byte) {
	name := strings.ToLower(string(args[1]))
	sub, ok := clusterSubcommands[name]
	if !ok {
		s.writeErr(errSubcommand("CLUSTER", args[1]))
		return
	}
	if !s.subcommandArity(args, "cluster|"+name, sub.arity) {
		return
	}
	sh := s.srv.cfg.Shards
	switch {
	case sh == nil || !sh.Sharded():
		s.writeErr(errClusterDisabled)
	case sub.run == nil:
		s.writeErr(redisError(fmt.Sprintf("ERR CLUSTER %s is not supported: riot places slots and nodes itself", strings.ToUpper(name))))
	default:
		sub.run(s, sh, args)
	}
}

// ASKING: a cluster client sends it before the command it retries after
// an ASK redirection. Riot has no per-connection state for it: OK.
// Reference: https://redis.io/docs/latest/commands/asking/
func cmdAsking(s *session, _ [][]byte) { s.out = respwire.AppendOK(s.out) }

func clusterHelp(s *session, _ Shards, _ [][]byte) { s.appendHelp(clusterHelpLines) }

func clusterMyID(s *session, sh Shards, _ [][]byte) {
	s.out = respwire.AppendBulkString(s.out, cluster.ClusterNodeID(sh.Topology().Self))
}

func clusterKeySlot(s *session, _ Shards, args [][]byte) {
	s.out = respwire.AppendInt(s.out, int64(kv.Slot(args[2])))
}

// CLUSTER COUNTKEYSINSLOT slot: the live keys of the slot in the selected
// database, when this node leads the slot's group; 0 otherwise (a Redis
// node counts only the keys it holds).
func clusterCountKeysInSlot(s *session, sh Shards, args [][]byte) {
	slot, err := kv.ParseInt(args[2])
	if err != nil {
		s.writeErr(errNotInteger)
		return
	}
	if slot < 0 || slot >= kv.Slots {
		s.writeErr(redisError("ERR Invalid slot"))
		return
	}
	var n int64
	err = s.readSlot(sh, uint16(slot), func(v *kv.View) error {
		var err error
		n, err = v.CountKeysInSlot(uint16(slot), s.now)
		return err
	})
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendInt(s.out, n)
}

// CLUSTER GETKEYSINSLOT slot count: up to count keys of the slot, in key
// order, when this node leads the slot's group; none otherwise.
func clusterGetKeysInSlot(s *session, sh Shards, args [][]byte) {
	slot, err := kv.ParseInt(args[2])
	if err != nil {
		s.writeErr(errNotInteger)
		return
	}
	count, err := kv.ParseInt(args[3])
	if err != nil {
		s.writeErr(errNotInteger)
		return
	}
	if slot < 0 || slot >= kv.Slots || count < 0 {
		s.writeErr(redisError("ERR Invalid slot or number of keys"))
		return
	}
	var keys [][]byte
	err = s.readSlot(sh, uint16(slot), func(v *kv.View) error {
		var err error
		keys, err = v.KeysInSlot(uint16(slot), int(min(count, math.MaxInt)), s.now)
		return err
	})
	s.replyKeys(keys, err)
}

// readSlot reads the selected database of slot's group at the
// connection's read level when this node leads the group; otherwise fn
// is not called.
func (s *session) readSlot(sh Shards, slot uint16, fn func(v *kv.View) error) error {
	b, leading := sh.Route(slot)
	if b == nil || !leading {
		return nil
	}
	return b.Read(s.ctx, s.readLevel, func(v *kv.View) error { return fn(v.DB(s.db)) })
}

// clusterAddr is where clients reach a node: its client address's IP (or
// host) and port; ok is false when the address is unknown or malformed.
func clusterAddr(n cluster.TopologyNode) (ip string, port int, ok bool) {
	host, p, err := net.SplitHostPort(n.ClientAddr)
	if err != nil {
		return "", 0, false
	}
	port, err = strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, false
	}
	return host, port, true
}

// mergeRanges sorts slot ranges and joins those that touch.
func mergeRanges(rs []cluster.SlotRange) []cluster.SlotRange {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b cluster.SlotRange) int { return cmp.Compare(a.From, b.From) })
	var out []cluster.SlotRange
	for _, r := range rs {
		if n := len(out); n > 0 && int(r.From) <= int(out[n-1].To)+1 {
			out[n-1].To = max(out[n-1].To, r.To)
			continue
		}
		out = append(out, r)
	}
	return out
}

// shardNode is a group member as the cluster commands show it.
type shardNode struct {
	cluster.TopologyNode
	ip      string
	port    int
	primary bool // the group's leader
}

// groupNodes returns the members of g that have a client address: the
// leader first, then the other replicas in ID order.
func groupNodes(t *cluster.Topology, g cluster.TopologyGroup) []shardNode {
	var out []shardNode
	add := func(id string, primary bool) {
		n, ok := t.Node(id)
		if !ok {
			return
		}
		if ip, port, ok := clusterAddr(n); ok {
			out = append(out, shardNode{TopologyNode: n, ip: ip, port: port, primary: primary})
		}
	}
	if g.Leader != "" {
		add(g.Leader, true)
	}
	for _, id := range g.Replicas {
		if id != g.Leader {
			add(id, false)
		}
	}
	return out
}

// CLUSTER SLOTS: per slot range, in slot order: start, end, then the
// group's leader (unknown: its first live replica) and its other live
// replicas, each as [ip, port, id, {}] (Redis 7.0's empty metadata map).
// A range none of whose members has a known address is left out.
func clusterSlots(s *session, sh Shards, _ [][]byte) {
	t := sh.Topology()
	type entry struct {
		r     cluster.SlotRange
		nodes []shardNode
	}
	var entries []entry
	for _, g := range t.Groups {
		var nodes []shardNode
		for _, n := range groupNodes(&t, g) {
			if n.primary || n.Connected {
				nodes = append(nodes, n)
			}
		}
		if len(nodes) == 0 {
			continue
		}
		for _, r := range mergeRanges(g.Slots) {
			entries = append(entries, entry{r, nodes})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.r.From, b.r.From) })
	s.out = respwire.AppendArrayLen(s.out, len(entries))
	for _, e := range entries {
		s.out = respwire.AppendArrayLen(s.out, 2+len(e.nodes))
		s.out = respwire.AppendInt(s.out, int64(e.r.From))
		s.out = respwire.AppendInt(s.out, int64(e.r.To))
		for _, n := range e.nodes {
			s.out = respwire.AppendArrayLen(s.out, 4)
			s.out = respwire.AppendBulkString(s.out, n.ip)
			s.out = respwire.AppendInt(s.out, int64(n.port))
			s.out = respwire.AppendBulkString(s.out, cluster.ClusterNodeID(n.ID))
			s.out = respwire.AppendMapLen(s.out, 0, s.proto)
		}
	}
}

// CLUSTER SHARDS: per group, its slot ranges (flat start, end pairs) and
// its members with a known address, the leader first: id, port, ip,
// endpoint, role (master for the leader), replication-offset (0) and
// health (online, or fail when gossip sees the node down).
func cmdClusterShards(s *session, sh Shards, _ [][]byte) {
	t := sh.Topology()
	s.out = respwire.AppendArrayLen(s.out, len(t.Groups))
	for _, g := range t.Groups {
		ranges := mergeRanges(g.Slots)
		s.out = respwire.AppendMapLen(s.out, 2, s.proto)
		s.out = respwire.AppendBulkString(s.out, "slots")
		s.out = respwire.AppendArrayLen(s.out, 2*len(ranges))
		for _, r := range ranges {
			s.out = respwire.AppendInt(s.out, int64(r.From))
			s.out = respwire.AppendInt(s.out, int64(r.To))
		}
		nodes := groupNodes(&t, g)
		s.out = respwire.AppendBulkString(s.out, "nodes")
		s.out = respwire.AppendArrayLen(s.out, len(nodes))
		for _, n := range nodes {
			role, health := "replica", "online"
			if n.primary {
				role = "master"
			}
			if !n.Connected {
				health = "fail"
			}
			s.out = respwire.AppendMapLen(s.out, 7, s.proto)
			s.out = respwire.AppendBulkString(s.out, "id")
			s.out = respwire.AppendBulkString(s.out, cluster.ClusterNodeID(n.ID))
			s.out = respwire.AppendBulkString(s.out, "port")
			s.out = respwire.AppendInt(s.out, int64(n.port))
			s.out = respwire.AppendBulkString(s.out, "ip")
			s.out = respwire.AppendBulkString(s.out, n.ip)
			s.out = respwire.AppendBulkString(s.out, "endpoint")
			s.out = respwire.AppendBulkString(s.out, n.ip)
			s.out = respwire.AppendBulkString(s.out, "role")
			s.out = respwire.AppendBulkString(s.out, role)
			s.out = respwire.AppendBulkString(s.out, "replication-offset")
			s.out = respwire.AppendInt(s.out, 0)
			s.out = respwire.AppendBulkString(s.out, "health")
			s.out = respwire.AppendBulkString(s.out, health)
		}
	}
}

// CLUSTER NODES: one line per node, in ID order, Redis's format:
//
//	<id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <epoch> <link> <slot>...
//
// Every node is a master (flags myself for this node, fail when gossip
// sees it down, noaddr when its address is unknown) owning the slots of
// the groups it leads; the cluster bus port is the client port + 10000,
// as Redis's default; pong-recv is now for a live node, 0 for a failed
// one; the epoch is the slot map's.
func clusterNodes(s *session, sh Shards, _ [][]byte) {
	t := sh.Topology()
	s.out = respwire.AppendVerbatim(s.out, clusterNodesText(&t, s.now), s.proto)
}

func clusterNodesText(t *cluster.Topology, now int64) string {
	led := map[string][]cluster.SlotRange{}
	for _, g := range t.Groups {
		if g.Leader != "" {
			led[g.Leader] = append(led[g.Leader], g.Slots...)
		}
	}
	var b strings.Builder
	for _, n := range t.Nodes {
		myself := n.ID == t.Self
		addr := ":0@0"
		ip, port, known := clusterAddr(n)
		if known {
			addr = ip + ":" + strconv.Itoa(port) + "@" + strconv.Itoa(port+10000) // as Redis, no brackets
		}
		flags := "master"
		if myself {
			flags = "myself,master"
		}
		live := myself || n.Connected
		if !live {
			flags += ",fail"
		}
		if !known {
			flags += ",noaddr"
		}
		pong, link := now, "connected"
		if !live {
			pong, link = 0, "disconnected"
		}
		fmt.Fprintf(&b, "%s %s %s - 0 %d %d %s", cluster.ClusterNodeID(n.ID), addr, flags, pong, t.Epoch, link)
		for _, r := range mergeRanges(led[n.ID]) {
			if r.From == r.To {
				fmt.Fprintf(&b, " %d", r.From)
			} else {
				fmt.Fprintf(&b, " %d-%d", r.From, r.To)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// CLUSTER INFO: Redis 7.0's fields. A slot is ok when its group's leader
// is known and live, pfail when the leader is known but gossip sees it
// down, fail when the leader is unknown; the state is ok when every slot
// is assigned and none fails. Riot has no cluster bus: its message
// counters are 0.
func clusterInfo(s *session, sh Shards, _ [][]byte) {
	t := sh.Topology()
	var assigned, ok, pfail, fail, size int
	for _, g := range t.Groups {
		n := 0
		for _, r := range mergeRanges(g.Slots) {
			n += int(r.To) - int(r.From) + 1
		}
		if n == 0 {
			continue
		}
		assigned += n
		size++
		leader, known := t.Node(g.Leader)
		switch {
		case g.Leader == "" || !known:
			fail += n
		case leader.Connected || leader.ID == t.Self:
			ok += n
		default:
			pfail += n
		}
	}
	state := "ok"
	if assigned < kv.Slots || fail > 0 {
		state = "fail"
	}
	var b strings.Builder
	for _, f := range []struct {
		name  string
		value any
	}{
		{"cluster_state", state},
		{"cluster_slots_assigned", assigned},
		{"cluster_slots_ok", ok},
		{"cluster_slots_pfail", pfail},
		{"cluster_slots_fail", fail},
		{"cluster_known_nodes", len(t.Nodes)},
		{"cluster_size", size},
		{"cluster_current_epoch", t.Epoch},
		{"cluster_my_epoch", t.Epoch},
		{"cluster_stats_messages_sent", 0},
		{"cluster_stats_messages_received", 0},
		{"total_cluster_links_buffer_limit_exceeded", 0},
	} {
		fmt.Fprintf(&b, "%s:%v\r\n", f.name, f.value)
	}
	s.out = respwire.AppendVerbatim(s.out, b.String(), s.proto)
}
