package resp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// Cluster commands. State-changing ones run on the leader; the Router
// forwards them there from any node.

func cmdRaftState(s *session, _ [][]byte) {
	s.out = respwire.AppendSimple(s.out, s.srv.backend.RaftState())
}

// RAFT.INFO [group]: this node's raft figures, of its replica of a data
// group when one is named (sharded mode).
func cmdRaftInfo(s *session, args [][]byte) {
	b, ok := s.groupBackend(args[1:])
	if !ok {
		return
	}
	var out strings.Builder
	for _, f := range b.RaftInfo() {
		fmt.Fprintf(&out, "%s:%s\r\n", f.Name, f.Value)
	}
	s.out = respwire.AppendVerbatim(s.out, out.String(), s.proto)
}

func cmdRaftSnapshot(s *session, _ [][]byte) {
	if err := s.srv.backend.Snapshot(); err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendOK(s.out)
}

// RAFT.JOIN id raft-addr [NONVOTER]
func cmdRaftJoin(s *session, args [][]byte) {
	voter := true
	switch {
	case len(args) == 4 && strings.EqualFold(string(args[3]), "nonvoter"):
		voter = false
	case len(args) != 3:
		s.writeErr(errSyntax)
		return
	}
	if len(args[1]) == 0 {
		s.writeErr(redisError("ERR server id must not be empty"))
		return
	}
	s.okOrErr(s.srv.backend.Join(s.ctx, string(args[1]), string(args[2]), voter))
}

// RAFT.LEAVE id, RAFT.REMOVE id
func cmdRaftLeave(s *session, args [][]byte) {
	s.okOrErr(s.srv.backend.Leave(s.ctx, string(args[1])))
}

// RAFT.TRANSFER [id]
func cmdRaftTransfer(s *session, args [][]byte) {
	if len(args) > 2 {
		s.writeErr(errArity("raft.transfer"))
		return
	}
	id := ""
	if len(args) == 2 {
		id = string(args[1])
	}
	s.okOrErr(s.srv.backend.Transfer(s.ctx, id))
}

// RAFT.PEERS: one map per server.
func cmdRaftPeers(s *session, _ [][]byte) {
	peers, err := s.srv.backend.Peers()
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, len(peers))
	for _, p := range peers {
		suffrage, role, g := p.Labels()
		fields := [][2]string{{"id", p.ID}, {"raft_addr", p.RaftAddr}, {"client_addr", p.ClientAddr},
			{"suffrage", suffrage}, {"role", role}, {"gossip", g},
			{"applied_index", strconv.FormatUint(p.Applied, 10)}, {"lag", strconv.FormatUint(p.Lag, 10)},
			{"last_contact_ms", strconv.FormatInt(p.LastContactMS(), 10)}, {"caught_up", yesNo(p.CaughtUp)}}
		s.out = respwire.AppendMapLen(s.out, len(fields), s.proto)
		for _, kv := range fields {
			s.out = respwire.AppendBulkString(s.out, kv[0])
			s.out = respwire.AppendBulkString(s.out, kv[1])
		}
	}
}

// RAFT.LEADER: id, raft address, client address.
func cmdRaftLeader(s *session, _ [][]byte) {
	p, err := s.srv.backend.Leader()
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendArrayLen(s.out, 3)
	s.out = respwire.AppendBulkString(s.out, p.ID)
	s.out = respwire.AppendBulkString(s.out, p.RaftAddr)
	s.out = respwire.AppendBulkString(s.out, p.ClientAddr)
}

// RIOT.APPLY <encoded command> [arg...]: a write forwarded by another node
// (see cluster.applyRequest). It is
// proposed here only if this node leads; the reply carries the encoded
// result, operation errors included.
//
// Only a client operation may be forwarded (kv.IsClientOp): the
// address book, request pruning and active expiry are the leader's own.
// Like every proposal, it is validated and its Now bounded by the leader's
// clock when proposed (raftkv.Node.ProposeBatch), not here again.
func buildRiotApply(_ *session, args [][]byte) (*kv.Command, replyFunc, error) {
	c, err := kv.DecodeCommand(args[1])
	if err != nil || c.ClientID == 0 || (len(args) > 2 && len(c.Args) > 0) || !kv.IsClientOp(c.Op) {
		return nil, nil, redisError("ERR malformed forwarded command")
	}
	if len(args) > 2 {
		// RIOT.APPLY <command without args> <arg>...: each argument is
		// its own bulk, so none exceeds the protocol's limit.
		c.Args = args[2:]
	}
	// c aliases the read buffer, which is reused once the pipeline is
	// done; the proposal encodes it before that.
	return &c, replyResult, nil
}

func replyResult(s *session, r kv.Result) {
	s.out = respwire.AppendBulk(s.out, kv.AppendEncodeResult(nil, r))
}

// RIOT.READINDEX [group]: a read index confirmed by this node as leader
// (of data group group: a backup taken on one of its followers).
func cmdRiotReadIndex(s *session, args [][]byte) {
	b, ok := s.groupBackend(args[1:])
	if !ok {
		return
	}
	idx, err := b.ReadIndexLocal(s.ctx)
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendInt(s.out, int64(idx))
}

// RIOT.CONFIRM: this node's current term and the leader it follows, as
// "term leader-id"; a leader's read-index round counts the answers (see
// raftkv.Node.ReadIndex).
func cmdRiotConfirm(s *session, args [][]byte) {
	b, ok := s.groupBackend(args[1:])
	if !ok {
		return
	}
	term, leader := b.Following()
	s.out = respwire.AppendBulkString(s.out, strconv.FormatUint(term, 10)+" "+leader)
}

// groupBackend returns the backend an admin command's optional group
// argument names: this node's replica of that data group (sharded mode),
// or the node's own group when there is no argument. It answers the error
// itself when the group is not here.
func (s *session) groupBackend(args [][]byte) (Backend, bool) {
	switch {
	case len(args) == 0:
		return s.srv.backend, true
	case len(args) > 1:
		s.writeErr(errSyntax)
		return nil, false
	}
	g, err := strconv.Atoi(string(args[0]))
	var b Backend
	ok := false
	if err == nil && s.srv.cfg.Shards != nil {
		b, ok = s.srv.cfg.Shards.Local()[g]
	}
	if !ok {
		var groups []cluster.GroupStatus
		if s.srv.cfg.Shards != nil {
			groups = s.srv.cfg.Shards.Groups()
		}
		s.writeErr(redisError("ERR " + cluster.NoReplica(groups, string(args[0]))))
	}
	return b, ok
}

func (s *session) okOrErr(err error) {
	if err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendOK(s.out)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// RAFT.GROUPS: one map per data group, by ID: its slots, leader and
// replicas, and this node's replica's raft state (state "none" when it
// holds none). Empty on a node that is not sharded.
func cmdRaftGroups(s *session, _ [][]byte) {
	var groups []cluster.GroupStatus
	if sh := s.srv.cfg.Shards; sh != nil {
		groups = sh.Groups()
	}
	s.out = respwire.AppendArrayLen(s.out, len(groups))
	for _, g := range groups {
		fields := [][2]string{{"id", strconv.FormatUint(uint64(g.ID), 10)}, {"slots", slotRanges(g.Slots, ",")},
			{"leader", g.Leader}, {"leader_client_addr", g.LeaderClientAddr}}
		var local [][2]string
		if st := g.Local; st != nil {
			local = [][2]string{{"state", st.State}, {"term", strconv.FormatUint(st.Term, 10)},
				{"applied_index", strconv.FormatUint(st.AppliedIndex, 10)}, {"commit_index", strconv.FormatUint(st.CommitIndex, 10)},
				{"last_index", strconv.FormatUint(st.LastIndex, 10)}, {"voters", strconv.Itoa(st.Voters)}}
		} else {
			local = [][2]string{{"state", "none"}}
		}
		s.out = respwire.AppendMapLen(s.out, len(fields)+1+len(local), s.proto)
		for _, kv := range fields {
			s.out = respwire.AppendBulkString(s.out, kv[0])
			s.out = respwire.AppendBulkString(s.out, kv[1])
		}
		s.out = respwire.AppendBulkString(s.out, "replicas")
		s.out = respwire.AppendArrayLen(s.out, len(g.Replicas))
		for _, r := range g.Replicas {
			s.out = respwire.AppendBulkString(s.out, r)
		}
		for _, kv := range local {
			s.out = respwire.AppendBulkString(s.out, kv[0])
			s.out = respwire.AppendBulkString(s.out, kv[1])
		}
	}
}
