package resp

import (
	"bytes"

	"github.com/riotkv/riot/respwire"
)

// RAFT.BACKUP: a consistent backup of the data, taken from this node's own
// state after a linearizable read barrier (so it holds every write
// acknowledged before the command), as one bulk string in the snapshot
// format that riot-server --restore reads. The whole backup is built in
// memory; GET /backup on the admin API streams it instead.
func cmdRaftBackup(s *session, _ [][]byte) {
	if s.srv.sharded() {
		// The data is in the data groups; a backup of the metadata group
		// alone would look complete and hold no key.
		s.writeErr(redisError("ERR RAFT.BACKUP is not supported in sharded mode yet"))
		return
	}
	b, err := s.srv.backend.Backup(s.ctx)
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
