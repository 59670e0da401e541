package httpapi

import (
	"errors"
	"io"
	"net/http"

	"github.com/riotkv/riot/cluster"
	"github.com/riotkv/riot/kv"
)

// The REST key/value API: raw bytes in and out.
//
//	GET    /v1/kv/{key}?consistency=linearizable|stale
//	PUT    /v1/kv/{key}     body: the value
//	DELETE /v1/kv/{key}

func readLevel(req *http.Request) (cluster.ReadLevel, bool) {
	switch req.URL.Query().Get("consistency") {
	case "", "linearizable":
		return cluster.Linearizable, true
	case "stale":
		return cluster.Stale, true
	}
	return 0, false
}

func (s *Server) handleKVGet(w http.ResponseWriter, req *http.Request) {
	lvl, ok := readLevel(req)
	if !ok {
		writeError(w, http.StatusBadRequest, "consistency must be linearizable or stale")
		return
	}
	key := []byte(req.PathValue("key"))
	ctx, cancel := s.ctx(req)
	defer cancel()
	var val []byte
	var found bool
	err := s.r.Read(ctx, lvl, func(v *kv.View) error {
		var err error
		val, found, err = kvGet(v, key)
		return err
	})
	switch {
	case errors.Is(err, kv.ErrWrongType):
		writeError(w, http.StatusConflict, "the key holds a value that is not a string")
	case err != nil:
		s.fail(w, err)
	case !found:
		writeError(w, http.StatusNotFound, "no such key")
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(val)
	}
}

func (s *Server) handleKVPut(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, s.cfg.MaxValueBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "value too large")
			return
		}
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	ctx, cancel := s.ctx(req)
	defer cancel()
	res, err := s.r.Apply(ctx, kvSet([]byte(req.PathValue("key")), body))
	if err == nil {
		err = res.Err
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleKVDelete(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := s.ctx(req)
	defer cancel()
	res, err := s.r.Apply(ctx, &kv.Command{Op: kv.OpDel, Args: [][]byte{[]byte(req.PathValue("key"))}})
	if err == nil {
		err = res.Err
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"deleted": res.Int})
}
