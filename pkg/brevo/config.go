package brevo

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

// DefaultBaseURL is Brevo's API v3 endpoint.
const DefaultBaseURL = "https://api.brevo.com/v3"

// DefaultUserAgent is sent when Config.UserAgent is empty.
const DefaultUserAgent = "tajo (+https://github.com/tajo-sync/tajo)"

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("brevo: invalid config")

// Config configures a Client.
type Config struct {
	// BaseURL is the API root, path included. Default DefaultBaseURL.
	BaseURL string `yaml:"base_url"`
	// APIKey is the v3 API key (xkeysib-...), sent in the api-key header.
	// Required.
	APIKey string `yaml:"-"`
	// HTTPClient carries every call. Default: a client with dial, TLS and
	// response-header timeouts and TLS 1.2 minimum. Insert middleware
	// (rate limiters, breakers, tracing) as its Transport.
	HTTPClient *http.Client `yaml:"-"`
	// Timeout bounds one API call including reading its response. Default
	// DefaultTimeout.
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
	// Clock times the client's waits (a rate-limit reset, WaitProcess's
	// polls) and its Calls' durations. Default restcall.SystemClock.
	Clock restcall.Clock `yaml:"-"`
}

// Validate reports what is missing or malformed, without revealing the key.
func (c Config) Validate() error {
	if strings.TrimSpace(c.APIKey) == "" {
		return fmt.Errorf("%w: APIKey is empty: set the Brevo API v3 key", ErrInvalidConfig)
	}
	baseURL := c.BaseURL
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if err := restcall.CheckBaseURL(baseURL); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: Timeout %v is negative", ErrInvalidConfig, c.Timeout)
	}
	return nil
}

// String keeps the key out of logs that print a Config with %v or %+v.
func (c Config) String() string {
	return fmt.Sprintf("brevo.Config{BaseURL:%q APIKey:[redacted] Timeout:%v UserAgent:%q}", c.BaseURL, c.Timeout, c.UserAgent)
}

// GoString keeps the key out of %#v.
func (c Config) GoString() string { return c.String() }
