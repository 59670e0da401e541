package resp

import (
	"math/rand/v2"
	"strconv"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// Routing in sharded mode (Config.Shards): a command with keys runs in the
// group that serves their hash slot, on that group's leader, as a Redis
// Cluster master serves its slots. Keys of different slots in one command,
// transaction or WATCH get CROSSSLOT; a slot this node does not lead gets
// MOVED to the leader's client address (a READONLY connection reads from
// this node's replica, when it holds one); keyless commands that read or
// write keys (DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHALL, FLUSHDB) answer for
// the groups this node leads. With no shard map every command runs in the
// node's one group, as before.

// Redis Cluster's error texts (cluster.c), exactly: clients match them.
const (
	errCrossSlot   = "CROSSSLOT Keys in request don't hash to the same slot"
	errClusterDown = "CLUSTERDOWN The cluster is down"
)

func errMoved(slot uint16, addr string) string {
	return "MOVED " + strconv.Itoa(int(slot)) + " " + addr
}

// clusterRefusals are the commands Redis Cluster refuses, and how.
var clusterRefusals = map[string]string{
	"move":   "ERR MOVE is not allowed in cluster mode",
	"swapdb": "ERR SWAPDB is not allowed in cluster mode",
}

// fanouts are the keyless commands that, sharded, run in every group this
// node leads (reads: one after the other, in slot order; FLUSHALL and
// FLUSHDB: proposed to each).
var fanouts = map[string]bool{
	"dbsize": true, "keys": true, "scan": true, "randomkey": true, "flushall": true, "flushdb": true,
}

// route picks the backend cmd runs in (s.be) and reports whether it may
// run; when not, it has answered (MOVED, CROSSSLOT, CLUSTERDOWN or a
// refusal). It is called for every command, before it is queued or run.
func (s *session) route(cmd *command, args [][]byte) bool {
	s.be, s.fanout = s.srv.backend, false
	sh := s.srv.cfg.Shards
	if sh == nil || !sh.Sharded() {
		return true
	}
	if cmd.name == "riot.apply" {
		// A write forwarded by a node that does not know the cluster
		// is sharded yet: never into the metadata group.
		return s.refuse(args, "TRYAGAIN the cluster is sharded: the node that forwarded this write will redirect it; nothing was applied")
	}
	if msg, ok := clusterRefusals[cmd.name]; ok {
		return s.refuse(args, msg)
	}
	if cmd.name == "select" && string(args[1]) != "0" {
		return s.refuse(args, "ERR SELECT is not allowed in cluster mode")
	}
	if cmd.name == "copy" && hasDBOption(args) {
		return s.refuse(args, "ERR Copying to another database is not allowed in cluster mode")
	}
	keys := commandKeys(cmd, args)
	if len(keys) == 0 {
		switch {
		case cmd.name == "exec" && s.txSlot > 0:
			return s.routeSlot(cmd, args, uint16(s.txSlot-1))
		case fanouts[cmd.name] && s.multi == nil:
			s.fanout = true
		}
		return true
	}
	slot := kv.Slot(keys[0])
	for _, k := range keys[1:] {
		if kv.Slot(k) != slot {
			return s.refuse(args, errCrossSlot)
		}
	}
	inTxn := s.multi != nil || cmd.name == "watch"
	if inTxn && s.txSlot > 0 && uint16(s.txSlot-1) != slot {
		return s.refuse(args, errCrossSlot)
	}
	if !s.routeSlot(cmd, args, slot) {
		return false
	}
	if inTxn {
		s.txSlot = int(slot) + 1
	}
	return true
}

// routeSlot points s.be at the group serving slot on this node, or
// answers MOVED (CLUSTERDOWN when its leader is unknown).
func (s *session) routeSlot(cmd *command, args [][]byte, slot uint16) bool {
	sh := s.srv.cfg.Shards
	b, leading := sh.Route(slot)
	switch {
	case leading:
		s.be = b
		return true
	case b != nil && s.readLevel == cluster.Stale && cmd.flags&flagReadonly != 0 && s.multi == nil:
		s.be = b // READONLY: this node's replica, possibly stale
		return true
	}
	t := sh.Topology()
	if g, ok := t.GroupOf(slot); ok && g.Leader != "" && g.Leader != t.Self {
		if n, ok := t.Node(g.Leader); ok && n.ClientAddr != "" {
			return s.refuse(args, errMoved(slot, n.ClientAddr))
		}
	}
	return s.refuse(args, errClusterDown)
}

// refuse answers msg instead of running the command (in MULTI, the
// transaction is then aborted at EXEC, as Redis does). An EXEC whose slot
// this node no longer leads discards the transaction and answers the
// redirection itself, as Redis Cluster does, so the client follows it.
func (s *session) refuse(args [][]byte, msg string) bool {
	s.drain()
	if equalFold(args[0], "exec") {
		s.multi, s.watches = nil, nil
		s.out = respwire.AppendError(s.out, msg)
		return false
	}
	s.out = respwire.AppendError(s.out, s.txnRejected(args, msg))
	return false
}

// hasDBOption reports whether COPY's arguments carry a DB option.
func hasDBOption(args [][]byte) bool {
	for i := 3; i < len(args); i++ {
		if equalFold(args[i], "db") {
			return true
		}
	}
	return false
}

// backends returns the backends a read runs in: the groups this node
// leads for a fan-out command, else the routed one.
func (s *session) backends() []Backend {
	if !s.fanout {
		return []Backend{s.be}
	}
	return s.srv.cfg.Shards.Led()
}

// shuffledBackends is backends starting at a random one (RANDOMKEY: every
// led group has the same chance to answer first).
func (s *session) shuffledBackends() []Backend {
	bs := s.backends()
	if len(bs) < 2 {
		return bs
	}
	i := rand.IntN(len(bs))
	return append(bs[i:len(bs):len(bs)], bs[:i]...)
}
