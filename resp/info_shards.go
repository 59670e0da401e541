package resp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/raftkv"
)

// shardsInfo is INFO's Shards section in sharded mode: the shard map's
// epoch, then one line per data group (from Shards.Groups, as RAFT.GROUPS
// shows them): its slots, leader and replicas, and, where this node holds
// a replica, its raft state, applied and commit index, and lag.
func (srv *Server) shardsInfo() []raftkv.Field {
	sh := srv.cfg.Shards
	groups := sh.Groups()
	fields := []raftkv.Field{field("shards_epoch", utoa(sh.Topology().Epoch)), field("shards_groups", strconv.Itoa(len(groups)))}
	led, local := 0, 0
	for _, g := range groups {
		v := fmt.Sprintf("slots=%s,leader=%s,preferred=%s,replicas=%s", slotRanges(g.Slots, "|"), g.Leader, g.Preferred, strings.Join(g.Replicas, "|"))
		if st := g.Local; st != nil {
			local++
			if st.State == "leader" {
				led++
			}
			v += fmt.Sprintf(",state=%s,applied_index=%d,commit_index=%d,lag=%d,voters=%d", st.State,
				st.AppliedIndex, st.CommitIndex, groupLag(st), st.Voters)
		} else {
			v += ",state=none"
		}
		fields = append(fields, field(fmt.Sprintf("group%d", g.ID), v))
	}
	fields = append(fields, field("shards_led", strconv.Itoa(led)), field("shards_local", strconv.Itoa(local)),
		field("shards_round_age_ms", strconv.FormatInt(sh.RoundAge().Milliseconds(), 10)))
	if why, since := sh.NotOpen(); why != "" {
		// Groups the map places here are not open: why, and for how long.
		fields = append(fields, field("shards_not_open", strings.NewReplacer("\r", " ", "\n", " ").Replace(why)),
			field("shards_not_open_ms", strconv.FormatInt(since.Milliseconds(), 10)))
	}
	return fields
}

// groupLag is how far a replica's state machine is behind what it knows
// committed.
func groupLag(st *raftkv.Status) uint64 {
	if st.CommitIndex < st.AppliedIndex {
		return 0
	}
	return st.CommitIndex - st.AppliedIndex
}

// slotRanges formats slot ranges as CLUSTER NODES does (0-5460, 5462),
// joined by sep.
func slotRanges(rs []cluster.SlotRange, sep string) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		if r.From == r.To {
			parts[i] = strconv.Itoa(int(r.From))
		} else {
			parts[i] = fmt.Sprintf("%d-%d", r.From, r.To)
		}
	}
	return strings.Join(parts, sep)
}

// sharded reports whether the node serves in sharded mode now.
func (srv *Server) sharded() bool { return srv.cfg.Shards != nil && srv.cfg.Shards.Sharded() }
