package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/status"
	"github.com/tajo-sync/tajo/proto"
)

// Server is the gateway. Build it with New, serve with Run or Serve.
type Server struct {
	cfg Config
	nc  *nats.Conn
	js  jetstream.JetStream
	log *slog.Logger
	mux *http.ServeMux

	mu   sync.Mutex
	addr net.Addr
}

// New builds a Server publishing on nc. The RAW and DLQ streams must be
// provisioned (natsx.Provision).
func New(nc *nats.Conn, cfg Config) (*Server, error) {
	if nc == nil {
		return nil, errors.New("gateway: a NATS connection is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	js, err := natsx.JetStream(nc)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	cfg = cfg.withDefaults()
	if cfg.Status == nil {
		cfg.Status = status.NewReader(js, nc.ConnectedUrlRedacted, cfg.VendorChecks)
	}
	s := &Server{cfg: cfg, nc: nc, js: js, log: cfg.Logger.With("service", "gateway"), mux: http.NewServeMux()}
	s.routes()
	return s, nil
}

// Handler is the gateway's routes with their middleware, for tests and
// for mounting elsewhere.
func (s *Server) Handler() http.Handler { return s.mux }

// Addr is the address being served, once Run or Serve has started
// listening (nil before).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Run listens on Config.Listen and serves until ctx is cancelled.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("gateway: listening on %s (gateway.listen): %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled, then stops accepting, lets
// requests in flight finish (their events are stored and answered) within
// ShutdownTimeout, and closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.log.Info("gateway listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("gateway: serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	if err != nil {
		return fmt.Errorf("gateway: shutting down: %w", err)
	}
	s.log.Info("gateway stopped")
	return nil
}

// Route is one route of the gateway: "METHOD /path" as http.ServeMux
// patterns write it.
type Route struct {
	Pattern string
	auth    authKind
	handler func(*Server) http.HandlerFunc
}

// Routes are every route the gateway serves (openapi.yaml describes each).
func Routes() []string {
	out := make([]string, len(routes))
	for i, r := range routes {
		out[i] = r.Pattern
	}
	return out
}

const brazeAPI = "/v1/connectors/braze"

var routes = []Route{
	{"POST /v1/braze/currents", authCurrents, func(s *Server) http.HandlerFunc { return s.currents }},
	{"POST /v1/brevo/webhooks", authBrevo, func(s *Server) http.HandlerFunc { return s.brevoWebhooks }},
	{"POST " + brazeAPI + "/events", authKey, func(s *Server) http.HandlerFunc { return s.handleEvent }},
	{"POST " + brazeAPI + "/connect", authKey, func(s *Server) http.HandlerFunc { return s.connect }},
	{"POST " + brazeAPI + "/sync", authKey, func(s *Server) http.HandlerFunc { return s.sync }},
	{"GET " + brazeAPI + "/runs/{id}", authKey, func(s *Server) http.HandlerFunc { return s.run }},
	{"GET " + brazeAPI + "/status", authKey, func(s *Server) http.HandlerFunc { return s.status }},
	{"POST " + brazeAPI + "/segments/export", authKey, func(s *Server) http.HandlerFunc { return s.exportSegment }},
	{"GET " + brazeAPI + "/report", authKey, func(s *Server) http.HandlerFunc { return s.report }},
	{"POST " + proto.BrevoNotifyPath + "/{token}", authNotify, func(s *Server) http.HandlerFunc { return s.importDone }},
	{"GET " + proto.BrevoNotifyPath + "/{token}", authNotify, func(s *Server) http.HandlerFunc { return s.importDone }},
}

// routes registers every route; each is wrapped by the middleware that
// authenticates, bounds its body, logs, audits and recovers.
func (s *Server) routes() {
	for _, r := range routes {
		s.mux.Handle(r.Pattern, s.wrap(r.auth, r.handler(s)))
	}
	s.pageRoutes()
	s.mux.Handle("/", s.wrap(authNone, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such route: see openapi.yaml")
	}))
}
