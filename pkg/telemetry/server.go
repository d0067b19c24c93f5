package telemetry

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// EnvMetricsToken is the bearer token /metrics requires when set. A listen
// address that is not loopback requires it: the figures name routes,
// stages and volumes, and nothing off the machine should read them
// unauthenticated. /healthz and /readyz stay open (they say ok or not
// ready, nothing else), so that container and Kubernetes probes need no
// secret.
const EnvMetricsToken = "TAJO_METRICS_TOKEN"

// ErrListen is wrapped by Serve's error when the address cannot be bound.
var ErrListen = errors.New("listening for /metrics")

// ReadyFunc reports why the process is not ready, or nil.
type ReadyFunc func(ctx context.Context) error

// Server serves /metrics, /healthz, /readyz and the runtime's profiles
// (/debug/pprof/heap, allocs, goroutine and profile).
type Server struct {
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
}

// Serve listens on addr and serves m's registry on /metrics, 200 on
// /healthz while the process runs, and /readyz from ready (200 when it
// returns nil, 503 with its reason otherwise). A non-loopback addr is
// refused unless $TAJO_METRICS_TOKEN is set.
func Serve(addr string, m *Metrics, ready ReadyFunc, log *slog.Logger) (*Server, error) {
	token := os.Getenv(EnvMetricsToken)
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); token == "" && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("metrics listen address %q is not loopback: set %s (Prometheus sends it as a bearer token) or listen on 127.0.0.1", addr, EnvMetricsToken)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w on %s: %w", ErrListen, addr, err)
	}
	mux := http.NewServeMux()
	metrics := guard(token, promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{}))
	mux.Handle("GET /metrics", metrics)
	// The runtime's profiles (where the memory and the CPU go), under the
	// same rule as /metrics: loopback, or the bearer token.
	for _, name := range []string{"heap", "allocs", "goroutine"} {
		mux.Handle("GET /debug/pprof/"+name, guard(token, pprof.Handler(name)))
	}
	mux.Handle("GET /debug/pprof/profile", guard(token, http.HandlerFunc(pprof.Profile)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln: ln, log: log}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("serving /metrics, /healthz and /readyz", "addr", ln.Addr().String())
	return s, nil
}

// Addr is the address served.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// guard asks for the bearer token when one is set.
func guard(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	return bearer(token, next)
}

func bearer(token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tajo metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// BusReady is the readiness of a process on the bus: connected to NATS,
// and every one of streams exists.
func BusReady(nc *nats.Conn, js jetstream.JetStream, streams ...string) ReadyFunc {
	return func(ctx context.Context) error {
		if s := nc.Status(); s != nats.CONNECTED {
			return fmt.Errorf("NATS connection %s", s)
		}
		for _, name := range streams {
			if _, err := js.Stream(ctx, name); err != nil {
				return fmt.Errorf("stream %s: %w", name, err)
			}
		}
		return nil
	}
}
