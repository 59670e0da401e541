package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/raftkv"
)

// statusBody is GET /status.
type statusBody struct {
	ID                string     `json:"id"`
	Role              string     `json:"role"`
	Term              uint64     `json:"term"`
	CommitIndex       uint64     `json:"commit_index"`
	AppliedIndex      uint64     `json:"applied_index"`
	LastIndex         uint64     `json:"last_index"`
	LastSnapshotIndex uint64     `json:"last_snapshot_index"`
	LastContactMillis int64      `json:"last_contact_ms"` // -1: never
	Leader            *peerBody  `json:"leader"`
	Storage           engineBody `json:"storage"`
	Keys              int64      `json:"keys"` // -1 when unknown
	Version           string     `json:"version"`
	UptimeSeconds     int64      `json:"uptime_seconds"`
	// Groups are a sharded node's data groups, by ID (the metadata
	// group is the one the fields above describe).
	Groups []groupBody `json:"groups,omitempty"`
}

// groupBody is one data group in /status, as RAFT.GROUPS shows it.
type groupBody struct {
	ID               uint32   `json:"id"`
	Slots            string   `json:"slots"` // 0-5460,5462
	Leader           string   `json:"leader"`
	LeaderClientAddr string   `json:"leader_client_addr"`
	Replicas         []string `json:"replicas"`
	// State is this node's replica's raft role; "none" when it holds
	// none, and then the indexes are absent.
	State        string  `json:"state"`
	Term         *uint64 `json:"term,omitempty"`
	AppliedIndex *uint64 `json:"applied_index,omitempty"`
	CommitIndex  *uint64 `json:"commit_index,omitempty"`
	LastIndex    *uint64 `json:"last_index,omitempty"`
	Voters       *int    `json:"voters,omitempty"`
}

func toGroupBody(g cluster.GroupStatus) groupBody {
	slots := make([]string, len(g.Slots))
	for i, r := range g.Slots {
		slots[i] = fmt.Sprint(r.From)
		if r.To != r.From {
			slots[i] += fmt.Sprintf("-%d", r.To)
		}
	}
	b := groupBody{ID: g.ID, Slots: strings.Join(slots, ","), Leader: g.Leader, LeaderClientAddr: g.LeaderClientAddr,
		Replicas: g.Replicas, State: "none"}
	if b.Replicas == nil {
		b.Replicas = []string{}
	}
	if st := g.Local; st != nil {
		b.State = st.State
		b.Term, b.AppliedIndex, b.CommitIndex, b.LastIndex, b.Voters = &st.Term, &st.AppliedIndex, &st.CommitIndex, &st.LastIndex, &st.Voters
	}
	return b
}

type engineBody struct {
	Engine    string `json:"engine"`
	DiskBytes int64  `json:"disk_bytes"`
}

// peerBody is one server in /peers and /leader.
type peerBody struct {
	ID            string `json:"id"`
	RaftAddr      string `json:"raft_addr"`
	ClientAddr    string `json:"client_addr,omitempty"`
	Suffrage      string `json:"suffrage,omitempty"` // voter, nonvoter, none
	Role          string `json:"role,omitempty"`     // leader, follower, none
	Gossip        string `json:"gossip,omitempty"`   // alive, suspect, failed, left, unknown
	*peerProgress        // absent in GET /leader
}

// peerProgress is how far a peer has applied, as the answering node sees it.
type peerProgress struct {
	AppliedIndex  uint64 `json:"applied_index"`
	Lag           uint64 `json:"lag"`
	LastContactMS int64  `json:"last_contact_ms"` // -1: never answered this node
	CaughtUp      bool   `json:"caught_up"`
}

func (s *Server) handleStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.statusBody())
}

func (s *Server) statusBody() statusBody {
	st := s.r.Status()
	body := statusBody{
		ID: st.ID, Role: st.State, Term: st.Term, CommitIndex: st.CommitIndex,
		AppliedIndex: st.AppliedIndex, LastIndex: st.LastIndex, LastSnapshotIndex: st.LastSnapshotIndex,
		LastContactMillis: -1,
		Storage:           engineBody{Engine: st.Engine, DiskBytes: st.EngineDiskBytes},
		Version:           s.cfg.Version,
		UptimeSeconds:     int64(time.Since(s.started).Seconds()),
	}
	if st.LastContact >= 0 {
		body.LastContactMillis = st.LastContact.Milliseconds()
	}
	if st.LeaderID != "" {
		body.Leader = &peerBody{ID: st.LeaderID, RaftAddr: st.LeaderAddr, ClientAddr: st.LeaderClientAddr}
	}
	body.Keys = s.keyCount()
	if s.cfg.Groups != nil {
		for _, g := range s.cfg.Groups() {
			body.Groups = append(body.Groups, toGroupBody(g))
		}
	}
	return body
}

func toPeerBody(p cluster.Peer) peerBody {
	suffrage, role, g := p.Labels()
	return peerBody{ID: p.ID, RaftAddr: p.RaftAddr, ClientAddr: p.ClientAddr, Suffrage: suffrage, Role: role, Gossip: g,
		peerProgress: &peerProgress{AppliedIndex: p.Applied, Lag: p.Lag, LastContactMS: p.LastContactMS(), CaughtUp: p.CaughtUp}}
}

func (s *Server) handlePeers(w http.ResponseWriter, _ *http.Request) {
	peers, err := s.r.Peers()
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]peerBody, 0, len(peers))
	for _, p := range peers {
		out = append(out, toPeerBody(p))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleLeader(w http.ResponseWriter, _ *http.Request) {
	p, err := s.r.Leader()
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, peerBody{ID: p.ID, RaftAddr: p.RaftAddr, ClientAddr: p.ClientAddr})
}

// handleHealth: 200 while the process serves; 503 once its state machine
// stopped (a storage error or a bug, see docs/operations.md), which a
// restart of the process alone may not cure.
func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	if st := s.r.Status(); st.Failed != "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "failed", "error": st.Failed})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyLag is how far behind the commit index the state machine may be for
// the node to count as caught up.
const readyLag = 1000

// handleReady: 200 when the node knows a leader and its state machine is
// caught up; 503 with the reason otherwise.
func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	st := s.r.Status()
	switch {
	case st.Failed != "":
		writeError(w, http.StatusServiceUnavailable, "state machine stopped: "+st.Failed)
	case st.LeaderID == "":
		writeError(w, http.StatusServiceUnavailable, "no leader")
	case st.AppliedIndex+readyLag < st.CommitIndex:
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("catching up: applied %d of %d", st.AppliedIndex, st.CommitIndex))
	default:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "leader": st.LeaderID})
	}
}

type joinBody struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	Voter    *bool  `json:"voter"` // default true
}

func (s *Server) handleJoin(w http.ResponseWriter, req *http.Request) {
	var b joinBody
	if !s.decode(w, req, &b) {
		return
	}
	if b.ID == "" || b.RaftAddr == "" {
		writeError(w, http.StatusBadRequest, "id and raft_addr are required")
		return
	}
	voter := b.Voter == nil || *b.Voter
	ctx, cancel := s.ctx(req)
	defer cancel()
	if err := s.r.Join(ctx, b.ID, b.RaftAddr, voter); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleRemove(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := s.ctx(req)
	defer cancel()
	if err := s.r.Leave(ctx, req.PathValue("id")); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleSnapshot(w http.ResponseWriter, _ *http.Request) {
	if err := s.r.Snapshot(); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "last_snapshot_index": s.r.Status().LastSnapshotIndex})
}

func (s *Server) handleTransfer(w http.ResponseWriter, req *http.Request) {
	var b struct {
		ID string `json:"id"`
	}
	if req.ContentLength != 0 && !s.decode(w, req, &b) {
		return
	}
	ctx, cancel := s.ctx(req)
	defer cancel()
	if err := s.r.Transfer(ctx, b.ID); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// decode reads a JSON body into v, replying 400 on bad JSON.
func (s *Server) decode(w http.ResponseWriter, req *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxJSONBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return false
		}
		writeError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return false
	}
	return true
}

func (s *Server) ctx(req *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(req.Context(), s.cfg.RequestTimeout)
}

// fail maps an error to an HTTP status and the common error body.
func (s *Server) fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	var remote *cluster.RemoteError
	switch {
	case errors.Is(err, cluster.ErrNoLeader):
		code = http.StatusServiceUnavailable
	case errors.Is(err, raftkv.ErrUnknownServer):
		code = http.StatusNotFound
	case errors.Is(err, raftkv.ErrBadAddr), errors.Is(err, raftkv.ErrIDConflict), errors.Is(err, raftkv.ErrAddrConflict),
		errors.Is(err, raftkv.ErrLastVoter), errors.Is(err, raftkv.ErrNotVoter), errors.Is(err, raftkv.ErrNoOtherVoter),
		errors.Is(err, raftkv.ErrSelfTransfer):
		code = http.StatusConflict
		if errors.Is(err, raftkv.ErrBadAddr) {
			code = http.StatusBadRequest
		}
	case errors.As(err, &remote):
		code = remoteStatus(remote.Msg)
	case errors.Is(err, context.DeadlineExceeded):
		code = http.StatusGatewayTimeout
	}
	writeError(w, code, err.Error())
}

// remoteStatus maps a leader's RESP error reply to an HTTP status.
func remoteStatus(msg string) int {
	switch {
	case strings.HasPrefix(msg, "ERR no such server"):
		return http.StatusNotFound
	case strings.HasPrefix(msg, "ERR invalid raft address"):
		return http.StatusBadRequest
	case strings.HasPrefix(msg, "ERR"):
		return http.StatusConflict
	case strings.HasPrefix(msg, "CLUSTERDOWN"), strings.HasPrefix(msg, "TRYAGAIN"):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
