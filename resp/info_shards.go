package resp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/raftkv"
)

// shardsInfo is INFO's Shards section in sharded mode: the shard map's
// epoch, then one line per data group: its slots, leader and replicas,
// and, where this node holds a replica, its raft state and applied index.
func (srv *Server) shardsInfo() []raftkv.Field {
	sh := srv.cfg.Shards
	t := sh.Topology()
	local := sh.Local()
	fields := []raftkv.Field{field("shards_epoch", utoa(t.Epoch)), field("shards_groups", strconv.Itoa(len(t.Groups)))}
	led := 0
	for _, g := range t.Groups {
		v := fmt.Sprintf("slots=%s,leader=%s,replicas=%s", slotRanges(g.Slots), g.Leader, strings.Join(g.Replicas, "|"))
		if b, ok := local[g.ID]; ok {
			rinfo := b.RaftInfo()
			state := b.RaftState()
			if strings.EqualFold(state, "leader") {
				led++
			}
			v += fmt.Sprintf(",state=%s,applied_index=%d,commit_index=%d", strings.ToLower(state),
				raftInt(rinfo, "fsm_applied_index"), raftInt(rinfo, "commit_index"))
		} else {
			v += ",state=none"
		}
		fields = append(fields, field(fmt.Sprintf("group%d", g.ID), v))
	}
	fields = append(fields, field("shards_led", strconv.Itoa(led)), field("shards_local", strconv.Itoa(len(local))))
	return fields
}

// slotRanges formats slot ranges as CLUSTER NODES does: 0-5460,5462.
func slotRanges(rs []cluster.SlotRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		if r.From == r.To {
			parts[i] = strconv.Itoa(int(r.From))
		} else {
			parts[i] = fmt.Sprintf("%d-%d", r.From, r.To)
		}
	}
	return strings.Join(parts, "|")
}

// sharded reports whether the node serves in sharded mode now.
func (srv *Server) sharded() bool { return srv.cfg.Shards != nil && srv.cfg.Shards.Sharded() }
