package httpapi

import (
	"net/http"
	"sync"
	"time"
)

// leaderHistoryLen is how many leader changes GET /leader/history keeps.
const leaderHistoryLen = 50

// leaderChange is one change of leader as this node saw it.
type leaderChange struct {
	Time   time.Time `json:"time"`
	Term   uint64    `json:"term"`
	Leader string    `json:"leader"` // "" while there is none
}

// leaderHistory records the leader changes this node sees, newest last.
type leaderHistory struct {
	mu      sync.Mutex
	changes []leaderChange
}

func (h *leaderHistory) add(c leaderChange) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.changes); n > 0 && h.changes[n-1].Leader == c.Leader {
		return
	}
	h.changes = append(h.changes, c)
	if len(h.changes) > leaderHistoryLen {
		h.changes = append(h.changes[:0], h.changes[len(h.changes)-leaderHistoryLen:]...)
	}
}

// newestFirst returns a copy of the changes, newest first.
func (h *leaderHistory) newestFirst() []leaderChange {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]leaderChange, len(h.changes))
	for i, c := range h.changes {
		out[len(out)-1-i] = c
	}
	return out
}

// watchLeaders records every change of leader until stop is closed. It
// waits on the node's leader notifications; it never polls.
func (s *Server) watchLeaders(stop <-chan struct{}) {
	node := s.r.Node()
	for {
		changed := node.LeaderChanged()
		st := s.r.Status()
		s.leaders.add(leaderChange{Time: time.Now().UTC(), Term: st.Term, Leader: st.LeaderID})
		select {
		case <-changed:
		case <-stop:
			return
		}
	}
}

// handleLeaderHistory: GET /leader/history, the leader changes this node
// has seen since it started (at most 50), newest first.
func (s *Server) handleLeaderHistory(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"changes": s.leaders.newestFirst()})
}
