package httpapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
)

//go:embed status.html
var statusPage []byte

// handlePage serves the self-contained status page.
func (s *Server) handlePage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(statusPage)
}

// clusterNode is one entry of GET /cluster: the peer and, when its admin
// API answered, its /status.
type clusterNode struct {
	peerBody
	HTTPAddr string      `json:"http_addr,omitempty"`
	Status   *statusBody `json:"status,omitempty"`
	Error    string      `json:"error,omitempty"`
}

// handleCluster asks every peer's admin API for its status (1s each, in
// parallel) and returns them together, for the status page.
func (s *Server) handleCluster(w http.ResponseWriter, req *http.Request) {
	peers, err := s.r.Peers()
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]clusterNode, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		out[i] = clusterNode{peerBody: toPeerBody(p), HTTPAddr: p.HTTPAddr}
		if p.ID == s.cfg.NodeID {
			st := s.statusBody()
			out[i].Status = &st
			continue
		}
		if p.HTTPAddr == "" {
			out[i].Error = "admin address unknown"
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := fetchStatus(req.Context(), p.HTTPAddr)
			if err != nil {
				out[i].Error = err.Error()
				return
			}
			out[i].Status = st
		}()
	}
	wg.Wait()
	writeJSON(w, http.StatusOK, out)
}

var statusClient = &http.Client{Timeout: time.Second}

func fetchStatus(ctx context.Context, addr string) (*statusBody, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := statusClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st statusBody
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

// keyCount returns the number of keys in local state, counted at most once
// a second (counting walks the key space; the status page refreshes every
// 2s).
func (s *Server) keyCount() int64 {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	if time.Since(s.keysTime) < time.Second {
		return s.keys
	}
	s.keys = -1
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.r.Read(ctx, cluster.Stale, func(v *kv.View) error {
		n, err := v.Count(time.Now().UnixMilli())
		if err == nil {
			s.keys = n
		}
		return err
	})
	s.keysTime = time.Now()
	return s.keys
}
