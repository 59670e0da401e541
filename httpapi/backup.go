package httpapi

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/riotkv/riot/cluster"
)

// handleBackup streams a consistent backup of the data (GET /backup): the
// snapshot format that riot-server --restore reads, from this node's own
// state once it reflects every write acknowledged before the request (any
// node serves it; a follower asks the leader for a read index first). On
// a sharded node it backs up one data group, ?group=N, of which this node
// holds a replica.
//
// The status code is sent before the data: a backup cut short by an error
// while streaming is detected on restore (the format ends with a record
// count, and s2 checksums every block).
func (s *Server) handleBackup(w http.ResponseWriter, req *http.Request) {
	r, group, ok := s.backupGroup(w, req)
	if !ok {
		return
	}
	ctx, cancel := s.ctx(req)
	b, err := r.Backup(ctx)
	cancel()
	if err != nil {
		s.fail(w, err)
		return
	}
	defer b.Close()
	name := fmt.Sprintf("riot-%s-%d.backup", s.cfg.NodeID, b.Index())
	if group != "" {
		name = fmt.Sprintf("riot-%s-group%s-%d.backup", s.cfg.NodeID, group, b.Index())
		w.Header().Set("X-Riot-Backup-Group", group)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("X-Riot-Backup-Index", strconv.FormatUint(b.Index(), 10))
	n, err := b.WriteTo(w)
	if err != nil {
		s.logger.Warn("backup cut short", "group", group, "bytes", n, "err", err)
		return
	}
	s.logger.Info("backup sent", "group", group, "bytes", n, "index", b.Index())
}

// backupGroup returns the raft group GET /backup reads and its ID as
// given ("" for the node's one group): ?group=N, a data group this
// sharded node holds a replica of (404 otherwise, as on an unsharded
// node); without it, the node's one group, which a sharded node refuses
// (400: its keys are in the data groups). It answers the error itself.
func (s *Server) backupGroup(w http.ResponseWriter, req *http.Request) (*cluster.Router, string, bool) {
	sharded := s.cfg.Sharded != nil && s.cfg.Sharded()
	q := req.URL.Query()
	if !q.Has("group") {
		if sharded {
			writeError(w, http.StatusBadRequest, "the cluster is sharded: back up each data group with GET /backup?group=N (GET /status lists the groups)")
			return nil, "", false
		}
		return s.r, "", true
	}
	id, err := strconv.ParseUint(q.Get("group"), 10, 32)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid group %q: want a data group ID", q.Get("group")))
		return nil, "", false
	}
	group := strconv.FormatUint(id, 10)
	if sharded && s.cfg.Replica != nil {
		if r, ok := s.cfg.Replica(uint32(id)); ok {
			return r, group, true
		}
	}
	var groups []cluster.GroupStatus
	if s.cfg.Groups != nil {
		groups = s.cfg.Groups()
	}
	writeError(w, http.StatusNotFound, cluster.NoReplica(groups, group))
	return nil, "", false
}
