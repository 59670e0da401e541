// Package httpapi is riot's admin and metrics HTTP API: node status, cluster
// membership, health and readiness probes, Prometheus metrics, and a small
// REST key/value API. Every reply is JSON, every error has the same shape:
// {"error": "..."}.
package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/riotkv/riot/cluster"
)

// Config configures the Server. Start from DefaultConfig.
type Config struct {
	// Addr is the HTTP address. Default 127.0.0.1:8379; port 0 picks one.
	Addr string
	// Password, when set, is required (bearer token, or the password of
	// basic auth) by state-changing endpoints, the key/value API and
	// /backup.
	Password string
	// MaxValueBytes bounds a PUT body of the key/value API. Default 512 MB.
	MaxValueBytes int64
	// RequestTimeout bounds one request's wait for raft. Default 10s.
	RequestTimeout time.Duration
	// Version and NodeID are reported by /status.
	Version string
	NodeID  string
	// Registry holds the metrics served on /metrics. Default: a new one.
	Registry *prometheus.Registry
	// Logger; default discard.
	Logger *slog.Logger
	// Pprof serves net/http/pprof under /debug/pprof/ (behind Password
	// when set).
	Pprof bool
	// Groups returns a sharded node's data groups (cluster.Shards.Status),
	// shown by /status and the status page; nil on a node that is not
	// sharded.
	Groups func() []cluster.GroupStatus
	// Sharded reports whether the node serves in sharded mode: the
	// key/value API, which addresses the node's one group, then answers
	// 501, and backups need a data group (GET /backup?group=N). Nil:
	// never.
	Sharded func() bool
	// Replica returns the Router of this node's replica of data group
	// id (cluster.Shards.Replica), for GET /backup?group=N. Nil: none.
	Replica func(id uint32) (*cluster.Router, bool)
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Addr: "127.0.0.1:8379", MaxValueBytes: 512 << 20, RequestTimeout: 10 * time.Second}
}

// Validate reports the first problem with c.
func (c *Config) Validate() error {
	switch {
	case c.Addr == "":
		return errors.New("httpapi: config: Addr is required")
	case c.MaxValueBytes < 1:
		return errors.New("httpapi: config: MaxValueBytes must be positive")
	case c.RequestTimeout <= 0:
		return errors.New("httpapi: config: RequestTimeout must be positive")
	}
	return nil
}

// maxJSONBytes bounds a JSON request body.
const maxJSONBytes = 64 << 10

// Server serves the admin API.
type Server struct {
	cfg     Config
	r       *cluster.Router
	logger  *slog.Logger
	started time.Time
	srv     *http.Server
	ln      net.Listener

	keysMu   sync.Mutex
	keys     int64
	keysTime time.Time

	leaders   leaderHistory // see leaders.go
	stop      chan struct{} // closed by Close: stops watchLeaders
	closeOnce sync.Once
}

// New returns a server over router. Call Listen, then Serve.
func New(cfg Config, router *cluster.Router) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, r: router, logger: cfg.Logger, started: time.Now(), stop: make(chan struct{})}
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handlePage)
	mux.HandleFunc("GET /status", s.handleStatus)
	mux.HandleFunc("GET /peers", s.handlePeers)
	mux.HandleFunc("GET /cluster", s.handleCluster)
	mux.HandleFunc("GET /leader", s.handleLeader)
	mux.HandleFunc("GET /leader/history", s.handleLeaderHistory)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /join", s.auth(s.handleJoin))
	mux.HandleFunc("DELETE /peers/{id}", s.auth(s.handleRemove))
	mux.HandleFunc("POST /snapshot", s.auth(s.handleSnapshot))
	mux.HandleFunc("POST /leader/transfer", s.auth(s.handleTransfer))
	mux.HandleFunc("GET /backup", s.auth(s.handleBackup))
	mux.HandleFunc("GET /v1/kv/{key...}", s.auth(s.unsharded(s.handleKVGet)))
	mux.HandleFunc("PUT /v1/kv/{key...}", s.auth(s.unsharded(s.handleKVPut)))
	mux.HandleFunc("DELETE /v1/kv/{key...}", s.auth(s.unsharded(s.handleKVDelete)))
	if s.cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", s.auth(pprof.Index))
		mux.HandleFunc("GET /debug/pprof/cmdline", s.auth(pprof.Cmdline))
		mux.HandleFunc("GET /debug/pprof/profile", s.auth(pprof.Profile))
		mux.HandleFunc("GET /debug/pprof/symbol", s.auth(pprof.Symbol))
		mux.HandleFunc("GET /debug/pprof/trace", s.auth(pprof.Trace))
	}
	return jsonErrors(mux)
}

// Listen binds the configured address.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("httpapi: listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr returns the bound address (after Listen).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves until Close; it returns nil after Close.
func (s *Server) Serve() error {
	go s.watchLeaders(s.stop)
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("httpapi: serve: %w", err)
	}
	return nil
}

// Close stops the server, letting requests in flight finish until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.stop) })
	return s.srv.Shutdown(ctx)
}

// auth requires the password, when one is set, as a bearer token or as the
// password of basic auth.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if s.cfg.Password != "" && !s.authorized(req) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="riot", Basic realm="riot"`)
			writeError(w, http.StatusUnauthorized, "authentication required")
			return
		}
		h(w, req)
	}
}

func (s *Server) authorized(req *http.Request) bool {
	want := []byte(s.cfg.Password)
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		return subtle.ConstantTimeCompare([]byte(tok), want) == 1
	}
	if _, pass, ok := req.BasicAuth(); ok {
		return subtle.ConstantTimeCompare([]byte(pass), want) == 1
	}
	return false
}

// writeJSON writes v with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing to do
}

// errorBody is the shape of every error reply.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// jsonErrors turns the mux's own plain-text 404 and 405 replies into JSON.
func jsonErrors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h.ServeHTTP(&errorRewriter{ResponseWriter: w}, req)
	})
}

type errorRewriter struct {
	http.ResponseWriter
	rewrote bool
}

func (e *errorRewriter) WriteHeader(code int) {
	if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) &&
		strings.HasPrefix(e.Header().Get("Content-Type"), "text/plain") {
		e.rewrote = true
		e.Header().Set("Content-Type", "application/json")
		e.ResponseWriter.WriteHeader(code)
		msg := "not found"
		if code == http.StatusMethodNotAllowed {
			msg = "method not allowed"
		}
		b, _ := json.Marshal(errorBody{Error: msg})
		_, _ = e.ResponseWriter.Write(append(b, '\n'))
		return
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *errorRewriter) Write(b []byte) (int, error) {
	if e.rewrote {
		return len(b), nil // the mux's plain-text body, replaced
	}
	return e.ResponseWriter.Write(b)
}

// unsharded wraps a handler that addresses the node's one raft group (the
// key/value API): on a sharded node the keys are in the data
// groups, so it answers 501 instead of reading or writing the metadata
// group.
func (s *Server) unsharded(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if s.cfg.Sharded != nil && s.cfg.Sharded() {
			writeError(w, http.StatusNotImplemented, "not available in sharded mode yet: use a Redis Cluster client")
			return
		}
		h(w, req)
	}
}
