package resp

import "context"

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
	s.out = appendInt(s.out, n)
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
