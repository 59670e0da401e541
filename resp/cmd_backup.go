package resp

import (
	"bytes"

	"github.com/riotkv/riot/respwire"
)

// RAFT.BACKUP: a consistent backup of the data, taken from this node's own
// state after a linearizable read barrier (so it holds every write
// acknowledged before the command), as one bulk string in the snapshot
// format that riot-server --restore reads. The whole backup is built in
// memory; GET /backup on the admin API streams it instead. On a sharded
// node, RAFT.BACKUP <group> backs up one data group this node holds a
// replica of.
func cmdRaftBackup(s *session, args [][]byte) {
	if s.srv.sharded() && len(args) == 1 {
		// The data is in the data groups; a backup of the metadata group
		// alone would look complete and hold no key.
		s.writeErr(redisError("ERR the cluster is sharded: back up each data group with RAFT.BACKUP <group> (RAFT.GROUPS lists them)"))
		return
	}
	g, ok := s.groupBackend(args[1:])
	if !ok {
		return
	}
	b, err := g.Backup(s.ctx)
	if err != nil {
		s.writeErr(err)
		return
	}
	defer b.Close()
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		s.writeErr(err)
		return
	}
	s.out = respwire.AppendBulk(s.out, buf.Bytes())
}
