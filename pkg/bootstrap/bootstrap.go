package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/logging"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/state"
)

// Environment variables read here (the API keys are read by config.Secrets).
const (
	EnvConfig = "TAJO_CONFIG" // path of the config file
	EnvNATS   = "NATS_URL"    // NATS server(s) of a deployment
)

// ConfigPath picks the config file: the flag value, else $TAJO_CONFIG, else
// $TAJO_HOME/config.yaml when it exists; "" means the defaults.
func ConfigPath(flag string) string {
	if flag != "" {
		return flag
	}
	if p := os.Getenv(EnvConfig); p != "" {
		return p
	}
	p := filepath.Join(config.Home(), "config.yaml")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// LoadConfig loads path, or returns the defaults when path is "".
func LoadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	c, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("loading config %s: %w", path, err)
	}
	return c, nil
}

// Logger returns a JSON logger at the level the config asks for (log_level,
// debug: true), redacting API keys (those in the environment included),
// e-mails and phone numbers: see pkg/logging.
func Logger(w io.Writer, c *config.Config, service string) *slog.Logger {
	keys := config.Secrets()
	return logging.New(w, logging.Options{
		Format: logging.JSON, Level: c.Connectors.Braze.LogLevel, Debug: c.Connectors.Braze.Debug,
		Secrets: []string{keys.BrazeAPIKey, keys.BrevoAPIKey},
	}).With("service", service)
}

// BrazeConfig is the Braze client configuration of c with key.
func BrazeConfig(c *config.Config, key string) braze.Config {
	return braze.Config{BaseURL: c.Connectors.Braze.InstanceURL, APIKey: key}
}

// BrevoConfig is the Brevo client configuration of c with key.
func BrevoConfig(c *config.Config, key string) brevo.Config {
	return brevo.Config{BaseURL: c.Connectors.Brevo.APIURL, APIKey: key}
}

// NATSURL is the server a service connects to: $NATS_URL, else nats.url.
func NATSURL(c *config.Config) string {
	if u := os.Getenv(EnvNATS); u != "" {
		return u
	}
	return c.NATS.URL
}

// startupPatience is how long Connect retries provisioning on a server that
// does not answer yet.
const startupPatience = 2 * time.Minute

// Bus is a connection to a provisioned JetStream.
type Bus struct {
	NC    *nats.Conn
	JS    jetstream.JetStream
	State *state.Store
	audit *audit.Recorder
	log   *slog.Logger
}

// ConnectOption tunes Connect.
type ConnectOption func(*natsx.ProvisionOptions)

// WithReplicas provisions streams and buckets with n replicas (nats.replicas).
func WithReplicas(n int) ConnectOption {
	return func(o *natsx.ProvisionOptions) { o.Replicas = n }
}

// Connect connects to url as name and provisions the streams and buckets.
func Connect(ctx context.Context, url, name string, opts ...ConnectOption) (*Bus, error) {
	var po natsx.ProvisionOptions
	for _, o := range opts {
		o(&po)
	}
	if url == "" {
		return nil, errors.New("no NATS server: set NATS_URL (for example nats://127.0.0.1:4222) or nats.url in the config; " +
			"`tajo run` starts an embedded server instead")
	}
	nc, err := natsx.Connect(ctx, url, name)
	if err != nil {
		return nil, err
	}
	js, err := natsx.JetStream(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	// A server that is starting (or restarting, JetStream recovering its
	// store) answers slowly at first: keep trying for a while rather than
	// exit and leave it to a supervisor.
	var st *state.Store
	deadline := time.Now().Add(startupPatience)
	for {
		err = natsx.Provision(ctx, js, po)
		if err == nil {
			st, err = state.NewStore(ctx, js)
		}
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("provisioning streams and buckets on %s: %w", natsx.RedactURL(url), err)
	}
	return &Bus{NC: nc, JS: js, State: st}, nil
}

// AuditSpool is where audit entries wait on disk for the bus: those a
// process could not publish before it stopped, and the CLI's own calls
// (home/audit-spool, home being $TAJO_HOME). Every recorder with a bus
// ships it to AUDIT.
func AuditSpool(home string) string { return filepath.Join(home, "audit-spool") }

// Audit starts the recorder of this service's vendor calls on the AUDIT
// stream, its entries stamped with the latest run of resource; pass
// rec.Observer(service) as the client's Observer. With
// log_api_calls every call is also logged on log. Close flushes it.
func (b *Bus) Audit(ctx context.Context, c *config.Config, log *slog.Logger, resource string) (*audit.Recorder, error) {
	rec := audit.New(b.JS, audit.Options{Logger: log, LogCalls: c.Connectors.Braze.LogAPICalls, Spool: AuditSpool(config.Home())})
	if err := rec.FollowRuns(ctx, b.State.KeyValue(), resource); err != nil {
		_ = rec.Close(ctx)
		return nil, err
	}
	b.audit, b.log = rec, log
	return rec, nil
}

// Close flushes the audit recorder, then drains the connection: pending
// publishes and acks are flushed.
func (b *Bus) Close() {
	if b.audit != nil {
		if err := b.audit.Close(context.Background()); err != nil {
			b.log.Warn("audit log incomplete", "err", err)
		}
	}
	if err := b.NC.Drain(); err != nil {
		b.NC.Close()
	}
}

// ListIDs converts the configured Brevo list ids.
func ListIDs(c *config.Config) []int64 {
	out := make([]int64, len(c.Connectors.Brevo.ListIDs))
	for i, id := range c.Connectors.Brevo.ListIDs {
		out[i] = int64(id)
	}
	return out
}

// LinesDigest is the extractor's Config.Digest: what decides a contact
// besides its export line, here the field mapping and the lists contacts
// join (ids, or the list found by name when none is configured).
func LinesDigest(m *mapping.Mapper, lists []int64, listName string) string {
	return fmt.Sprintf("%s lists=%v name=%q", m.Digest(), lists, listName)
}
