package resp

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
	"github.com/riotkv/riot/respwire"
)

// announceBackend is the optional part of a Backend that records a node's
// addresses for it (RIOT.ANNOUNCE). *cluster.Router implements it.
type announceBackend interface {
	Announce(ctx context.Context, m kv.Member) error
}

// RIOT.ANNOUNCE id raft-addr client-addr: a node asks the leader to record
// its addresses in the address book (see cluster.Router.Announce).
func cmdRiotAnnounce(s *session, args [][]byte) {
	b, ok := s.srv.backend.(announceBackend)
	if !ok {
		s.writeErr(redisError("ERR RIOT.ANNOUNCE is not supported by this backend"))
		return
	}
	s.okOrErr(b.Announce(s.ctx, kv.Member{ID: string(args[1]), RaftAddr: string(args[2]), ClientAddr: string(args[3])}))
}

// secretBackend is the optional part of a Backend that knows the cluster's
// node secret. *cluster.Router implements it; without it, no connection
// can send node-to-node commands.
type secretBackend interface {
	NodeSecret() []byte
}

// nodeSecret returns the cluster's node secret, nil while this node knows
// none (see nodeOnly).
func (srv *Server) nodeSecret() []byte {
	if b, ok := srv.backend.(secretBackend); ok {
		return b.NodeSecret()
	}
	return nil
}

// nodeOnly reports whether a node-to-node command must be refused on s: it
// did not present the node secret, and this node knows one. A node that
// knows none (it has not applied the entry that records it: a node that
// just joined, or the nodes of a cluster upgraded from a release without
// secrets until a leader of this release proposes one) takes them as
// before secrets existed; what they can do there is little (RIOT.APPLY
// runs only on the leader, which has the secret once it proposed it).
func (s *session) nodeOnly() bool {
	return !s.node && len(s.srv.nodeSecret()) > 0
}

// errNodeOnly is the reply to a node-to-node command on a connection that
// did not present the node secret.
func errNodeOnly(name string) string {
	return fmt.Sprintf("NOPERM '%s' is a node-to-node command; this connection is not authenticated as a cluster node", name)
}

// RIOT.AUTH secret: the connection proves it is a cluster node's (see
// kv/secret.go). It is then authenticated (no AUTH needed) and may send
// node-to-node commands. A node that has not applied the secret yet
// accepts none.
func cmdRiotAuth(s *session, args [][]byte) {
	want := s.srv.nodeSecret()
	if len(want) == 0 { // the dialer goes on without (see nodeOnly)
		s.writeErr(redisError(cluster.NoSecretReply))
		return
	}
	if subtle.ConstantTimeCompare(args[1], want) != 1 {
		s.writeErr(redisError("NOPERM invalid node secret"))
		return
	}
	s.node, s.authed = true, true
	s.out = respwire.AppendOK(s.out)
}

// removalBackend is the optional part of a Backend that takes part in
// telling removed nodes of their removal (cluster/removal.go).
// *cluster.Router implements it.
type removalBackend interface {
	IsMember(id string) (bool, error)
	NoticeRemoved(ctx context.Context, id, leader string) error
}

// RIOT.MEMBER id: 1 if server id is in the leader's configuration, else 0;
// only the leader answers. A removed node asks it to confirm RIOT.REMOVED.
func cmdRiotMember(s *session, args [][]byte) {
	b, ok := s.srv.backend.(removalBackend)
	if !ok {
		s.writeErr(redisError("ERR RIOT.MEMBER is not supported by this backend"))
		return
	}
	in, err := b.IsMember(string(args[1]))
	if err != nil {
		s.writeErr(err)
		return
	}
	n := int64(0)
	if in {
		n = 1
	}
	s.out = respwire.AppendInt(s.out, n)
}

// RIOT.REMOVED id leader: the leader tells this node it removed it from the
// configuration; the node checks with that leader, then shuts down.
func cmdRiotRemoved(s *session, args [][]byte) {
	b, ok := s.srv.backend.(removalBackend)
	if !ok {
		s.writeErr(redisError("ERR RIOT.REMOVED is not supported by this backend"))
		return
	}
	s.okOrErr(b.NoticeRemoved(s.ctx, string(args[1]), string(args[2])))
}
