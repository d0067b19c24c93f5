package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/apikeys"
	"github.com/tajo-sync/tajo/pkg/audit"
)

// authKind is what a route authenticates with.
type authKind int

const (
	authNone     authKind = iota // unknown routes: 404 whoever asks
	authCurrents                 // the Currents token
	authKey                      // a Tajo API key
	authNotify                   // the install's secret in the path (notify.go)
	authBrevo                    // the Brevo webhook token (brevo.go)
)

// statusWriter remembers the status and size of the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// wrap authenticates, bounds the body, recovers a panic as a 500, and
// logs and audits the request once answered.
func (s *Server) wrap(auth authKind, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw}
		r, span := s.traceRequest(r)
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("gateway handler panicked", "route", r.Pattern, "panic", p, "stack", string(debug.Stack()))
				if w.status == 0 {
					writeError(w, http.StatusInternalServerError, "internal", "the gateway failed to handle the request")
				}
			}
			s.done(r, w, start)
			endRequest(span, w.status)
		}()
		if !s.authenticate(w, r, auth) {
			return
		}
		if r.ContentLength > s.cfg.MaxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large",
				"the body is over the gateway's limit of "+itoa(s.cfg.MaxBodyBytes)+" bytes")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		h(w, r)
	})
}

// authenticate answers 401/403 and returns false unless r carries the
// credential auth asks for.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, auth authKind) bool {
	if auth == authNone {
		return true
	}
	if auth == authNotify {
		if !s.notifyAuthorized(r) {
			writeError(w, http.StatusUnauthorized, "unauthorized", "not a notification URL of this install")
			return false
		}
		return true
	}
	if auth == authBrevo {
		if !s.brevoWebhookAuthorized(r) {
			writeError(w, http.StatusUnauthorized, "unauthorized",
				"a valid webhook token is required: Authorization: Bearer <token>, or basic auth with the token as password")
			return false
		}
		return true
	}
	token, ok := bearer(r)
	switch auth {
	case authCurrents:
		// Hashes of equal length are compared, in constant time: neither
		// the token's contents nor its length leak through the timing.
		got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(s.cfg.CurrentsToken))
		if !ok || s.cfg.CurrentsToken == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			writeError(w, http.StatusUnauthorized, "unauthorized", "a valid Currents token is required: Authorization: Bearer <token>")
			return false
		}
		return true
	case authKey:
		if !ok || s.cfg.Keys == nil {
			writeError(w, http.StatusUnauthorized, "unauthorized", "a Tajo API key is required: Authorization: Bearer <key> (tajo apikeys create)")
			return false
		}
		_, err := s.cfg.Keys.Verify(token)
		switch {
		case err == nil:
			return true
		case errors.Is(err, apikeys.ErrRevoked):
			writeError(w, http.StatusForbidden, "forbidden", "this API key was revoked")
		case errors.Is(err, apikeys.ErrUnknown):
			writeError(w, http.StatusUnauthorized, "unauthorized", "the API key is not valid")
		default:
			s.log.Error("verifying an API key failed", "err", err)
			writeError(w, http.StatusServiceUnavailable, "unavailable", "API keys cannot be checked right now")
		}
	}
	return false
}

// bearer is the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// done logs and audits an answered request: the route, never the path
// (it may carry an id), never a header or a body.
func (s *Server) done(r *http.Request, w *statusWriter, start time.Time) {
	d := time.Since(start)
	route := r.Pattern
	if route == "" {
		route = r.Method + " (unmatched)"
	}
	_, path, _ := strings.Cut(route, " ")
	if path == "" {
		path = route
	}
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	s.log.Info("request", "method", r.Method, "route", path, "status", status,
		"bytes_in", r.ContentLength, "bytes_out", w.bytes, "duration", d, "remote", r.RemoteAddr)
	if s.cfg.Meter != nil {
		s.cfg.Meter.Request(route, status, d)
	}
	if s.cfg.Audit != nil {
		s.cfg.Audit.Record(audit.Entry{
			Time: start, Vendor: "gateway", Method: r.Method, Path: audit.Template(path),
			Status: status, Duration: d, Attempt: 1, Service: "gateway",
			ErrorClass: audit.Classify(status, nil),
		})
	}
}
