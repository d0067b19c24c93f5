package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// Control carries out the control API's commands in the process that runs
// the pipeline (tajo run wires one in). Results are JSON objects.
type Control interface {
	// Connect stores the connector's credentials (what
	// `tajo connectors install` does).
	Connect(ctx context.Context, req ConnectRequest) (map[string]any, error)
	// Sync starts a run and returns its id.
	Sync(ctx context.Context, req SyncRequest) (string, error)
	// Run reports a run; ErrNotFound when there is none with id.
	Run(ctx context.Context, id string) (map[string]any, error)
}

// ErrNotFound is returned by Control.Run for an unknown run.
var ErrNotFound = errors.New("not found")

// BadRequestError is a Control error the caller can fix: answered 400.
type BadRequestError struct{ Msg string }

func (e *BadRequestError) Error() string { return e.Msg }

// ConnectRequest is POST /connect's body.
type ConnectRequest struct {
	APIKey      string `json:"apiKey"`
	InstanceURL string `json:"instanceUrl"`
	BrevoAPIKey string `json:"brevoApiKey"`
}

// SyncRequest is POST /sync's body.
type SyncRequest struct {
	Type      string     `json:"type"`      // "full" or "incremental"; default incremental
	Resources []string   `json:"resources"` // default ["users"]
	Since     *time.Time `json:"since"`
	BatchSize int        `json:"batchSize"`
}

// decodeBody reads a JSON object into v, answering 400/413 itself.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		readError(w, err)
		return false
	}
	if len(body) == 0 && allowEmpty {
		return true
	}
	dec := json.NewDecoder(bytesReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "the body is not the documented JSON object: "+err.Error())
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad_request", "the body holds more than one JSON value")
		return false
	}
	return true
}

// control answers the error of a Control call.
func (s *Server) controlError(w http.ResponseWriter, doing string, err error) {
	var br *BadRequestError
	switch {
	case errors.As(err, &br):
		writeError(w, http.StatusBadRequest, "bad_request", br.Msg)
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", doing+": not found")
	default:
		s.log.Error("control API call failed", "doing", doing, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", doing+" failed: "+err.Error())
	}
}

func (s *Server) needControl(w http.ResponseWriter) bool {
	if s.cfg.Control == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "this gateway runs without the pipeline's control: use `tajo run`")
		return false
	}
	return true
}

func (s *Server) connect(w http.ResponseWriter, r *http.Request) {
	var req ConnectRequest
	if !decodeBody(w, r, &req, false) || !s.needControl(w) {
		return
	}
	out, err := s.cfg.Control.Connect(r.Context(), req)
	if err != nil {
		s.controlError(w, "connecting", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) sync(w http.ResponseWriter, r *http.Request) {
	var req SyncRequest
	if !decodeBody(w, r, &req, true) || !s.needControl(w) {
		return
	}
	if req.BatchSize < 0 {
		writeError(w, http.StatusBadRequest, "bad_request", "batchSize must not be negative")
		return
	}
	id, err := s.cfg.Control.Sync(r.Context(), req)
	if err != nil {
		s.controlError(w, "starting a sync", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"runId": id, "status": "started",
		"statusUrl": "/v1/connectors/braze/runs/" + id})
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	if !s.needControl(w) {
		return
	}
	out, err := s.cfg.Control.Run(r.Context(), r.PathValue("id"))
	if err != nil {
		s.controlError(w, "reading run "+r.PathValue("id"), err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// status answers the connector's status (Config.Status): the page's fields
// (connected, lastSync, usersCount, campaignsTracked, eventsProcessed) and
// more. It needs no pipeline in this process: the standalone binary
// answers it too.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	out, err := s.cfg.Status.Status(r.Context())
	if err != nil {
		s.controlError(w, "reading the status", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
