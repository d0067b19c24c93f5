package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/tajo-sync/tajo/pkg/apikeys"
	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/status"
)

// DefaultListen is where the gateway listens unless configured: loopback.
const DefaultListen = "127.0.0.1:8080"

// Config configures a Server. Zero values take the documented defaults.
type Config struct {
	// Listen is the address served; default DefaultListen.
	Listen string `yaml:"listen"`
	// MaxBodyBytes bounds a request body; larger ones get 413. Default
	// 4 MiB: a Currents batch of 100 events is far below.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxBatchEvents is the most events a Currents batch or a handleEvent
	// array may hold; more is 400. Default 100 (Braze's batch).
	MaxBatchEvents int `yaml:"max_batch_events"`
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout are the HTTP
	// server's; defaults 5s, 30s, 60s, 120s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	// PublishTimeout bounds the wait for JetStream to store a request's
	// events; past it the answer is 503. Default 10s.
	PublishTimeout time.Duration `yaml:"publish_timeout"`
	// ShutdownTimeout bounds the graceful shutdown; default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`

	// CurrentsToken is the bearer token Braze's Currents connector sends.
	// Empty: the Currents endpoint answers 401 to everything.
	CurrentsToken string `yaml:"-"`
	// NotifyToken is the install's secret in the URL Brevo calls when an
	// import finishes (proto.SecretBrevoNotify). Empty: that route answers
	// 401 to everything.
	NotifyToken string `yaml:"-"`
	// BrevoWebhookToken is the token Brevo's webhooks send (bearer, or
	// basic auth's password). Empty: POST /v1/brevo/webhooks answers 401.
	BrevoWebhookToken string `yaml:"-"`
	// Keys verifies Tajo API keys. Nil: the control API answers 401.
	Keys KeyVerifier `yaml:"-"`
	// Control runs the control API's commands (connect, sync, runs). Nil:
	// those routes answer 503.
	Control Control `yaml:"-"`
	// VendorChecks are the status's vendor checks (status.KeyReads from
	// the configured keys, or status.Reads with the pipeline's clients);
	// zero: the status says each key is missing.
	VendorChecks status.VendorReads `yaml:"-"`
	// Status answers GET /v1/connectors/braze/status and feeds the page.
	// Nil, as both the gateway binary and tajo run leave it: read from the
	// gateway's own NATS connection (status.NewReader with VendorChecks).
	Status StatusReader `yaml:"-"`
	// Audit records every request. Nil: none are recorded.
	Audit Recorder `yaml:"-"`
	// Logger receives the access log; default discards it. Pass the
	// redacting logger (pkg/logging).
	Logger *slog.Logger `yaml:"-"`
	// Tracer, when set, starts a server span per request (the child of the
	// caller's W3C traceparent, when it sends one) and a producer span per
	// event stored, whose context the event carries on the bus: its trace
	// goes on through the transformer and the loader to the Brevo call.
	// Nil: no tracing work at all.
	Tracer trace.Tracer `yaml:"-"`
	// Meter, when set, counts every request answered (*telemetry.Metrics).
	Meter RequestMeter `yaml:"-"`
}

// StatusReader is the connector's status as the status API answers it
// (*status.Reader).
type StatusReader interface {
	Status(ctx context.Context) (any, error)
}

// RequestMeter counts the requests answered: route is the pattern served
// ("POST /v1/braze/currents"), never a path.
type RequestMeter interface {
	Request(route string, status int, d time.Duration)
}

// KeyVerifier verifies a Tajo API key: nil, apikeys.ErrUnknown or
// apikeys.ErrRevoked (*apikeys.Store).
type KeyVerifier interface {
	Verify(key string) (apikeys.Key, error)
}

// Recorder takes audit entries (*audit.Recorder).
type Recorder interface {
	Record(e audit.Entry)
}

// Validate reports settings the server cannot run with.
func (c Config) Validate() error {
	var errs []error
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("max_body_bytes %d must not be negative", c.MaxBodyBytes))
	}
	if c.MaxBatchEvents < 0 {
		errs = append(errs, fmt.Errorf("max_batch_events %d must not be negative", c.MaxBatchEvents))
	}
	for name, d := range map[string]time.Duration{"read_header_timeout": c.ReadHeaderTimeout, "read_timeout": c.ReadTimeout,
		"write_timeout": c.WriteTimeout, "idle_timeout": c.IdleTimeout, "publish_timeout": c.PublishTimeout, "shutdown_timeout": c.ShutdownTimeout} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %s must not be negative", name, d))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gateway config: %w", err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 4 << 20
	}
	if c.MaxBatchEvents == 0 {
		c.MaxBatchEvents = 100
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = 5 * time.Second
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 60 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 120 * time.Second
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = 10 * time.Second
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
