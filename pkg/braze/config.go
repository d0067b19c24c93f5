package braze

import (
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/trace"
	"net/http"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// DefaultTimeout bounds one API call (not an export download) when
// Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Export size limits when Config leaves them zero: generous (a Braze export
// of ten million users is a few GB compressed), but bounded, so a hostile or
// broken export cannot fill the disk or decompress without end.
const (
	DefaultMaxExportBytes             = 16 << 30  // downloaded (compressed) bytes
	DefaultMaxExportUncompressedBytes = 256 << 30 // the entries' total, decompressed
)

// DefaultUserAgent is sent when Config.UserAgent is empty.
const DefaultUserAgent = "tajo (+https://github.com/tajo-sync/tajo)"

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("braze: invalid config")

// Config configures a Client.
type Config struct {
	// BaseURL is the REST endpoint of the Braze instance, such as
	// https://rest.iad-01.braze.com. Required: Braze has no global endpoint,
	// and a wrong instance answers 401, not 404.
	BaseURL string `yaml:"base_url"`
	// APIKey is the REST API key, sent as a bearer token. Required.
	APIKey string `yaml:"-"`
	// HTTPClient carries every call. Default: a client with dial, TLS and
	// response-header timeouts and TLS 1.2 minimum. Insert middleware
	// (rate limiters, breakers, tracing) as its Transport.
	HTTPClient *http.Client `yaml:"-"`
	// Timeout bounds one API call including reading its response. Export
	// downloads are bounded only by their context, as they can be large.
	// Default DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// UserAgent is sent on every call. Default DefaultUserAgent.
	UserAgent string `yaml:"user_agent"`
	// Tracer, when set, traces every call: a client span per HTTP call
	// (restcall.StartSpan), a child of the caller's context.
	Tracer trace.Tracer `yaml:"-"`
	// Observer, when set, is called after every HTTP call, from the calling
	// goroutine. It must not block.
	Observer func(Call) `yaml:"-"`
	// PacedByTransport turns off the client's own wait when a bucket's
	// rate-limit headers say nothing remains: set it when HTTPClient's
	// Transport paces the calls itself (pkg/resilience). The client's wait
	// lasts until the reset the headers give, which they round up to whole
	// seconds, so on top of a pacer it only loses time.
	PacedByTransport bool `yaml:"-"`
	// Clock times the client's waits (a rate-limit reset, WaitExport's
	// polls) and its Calls' durations. Default restcall.SystemClock.
	Clock restcall.Clock `yaml:"-"`
	// MaxExportBytes caps an export download; a larger one fails with
	// ErrExportTooLarge. Default DefaultMaxExportBytes.
	MaxExportBytes int64 `yaml:"max_export_bytes"`
	// MaxExportUncompressedBytes caps the decompressed size of an export,
	// as ReadExportLimit enforces it (see Client.MaxExportUncompressed).
	// Default DefaultMaxExportUncompressedBytes.
	MaxExportUncompressedBytes int64 `yaml:"max_export_uncompressed_bytes"`
}

// Validate reports what is missing or malformed, without revealing the key.
func (c Config) Validate() error {
	if strings.TrimSpace(c.APIKey) == "" {
		return fmt.Errorf("%w: APIKey is empty: set the Braze REST API key", ErrInvalidConfig)
	}
	if c.BaseURL == "" {
		return fmt.Errorf("%w: BaseURL is empty: set your instance's REST endpoint, e.g. https://rest.iad-01.braze.com", ErrInvalidConfig)
	}
	if err := restcall.CheckBaseURL(c.BaseURL); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	if c.MaxExportBytes < 0 || c.MaxExportUncompressedBytes < 0 {
		return fmt.Errorf("%w: MaxExportBytes and MaxExportUncompressedBytes must not be negative (0 takes the defaults)", ErrInvalidConfig)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: Timeout %v is negative", ErrInvalidConfig, c.Timeout)
	}
	return nil
}

// String keeps the key out of logs that print a Config with %v or %+v.
func (c Config) String() string {
	return fmt.Sprintf("braze.Config{BaseURL:%q APIKey:[redacted] Timeout:%v UserAgent:%q}", c.BaseURL, c.Timeout, c.UserAgent)
}

// GoString keeps the key out of %#v.
func (c Config) GoString() string { return c.String() }
