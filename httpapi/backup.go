package httpapi

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
)

// handleBackup streams a consistent backup of the data (GET /backup): the
// snapshot format that riot-server --restore reads, from this node's own
// state once it reflects every write acknowledged before the request (any
// node serves it; a follower asks the leader for a read index first).
//
// The status code is sent before the data: a backup cut short by an error
// while streaming is detected on restore (the format ends with a record
// count, and s2 checksums every block).
func (s *Server) handleBackup(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := s.ctx(req)
	b, err := s.r.Backup(ctx)
	cancel()
	if err != nil {
		s.fail(w, err)
		return
	}
	defer b.Close()
	name := fmt.Sprintf("riot-%s-%d.backup", s.cfg.NodeID, b.Index())
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("X-Riot-Backup-Index", strconv.FormatUint(b.Index(), 10))
	n, err := b.WriteTo(w)
	if err != nil {
		s.logger.Warn("backup cut short", "bytes", n, "err", err)
		return
	}
	s.logger.Info("backup sent", "bytes", n, "index", b.Index())
}
