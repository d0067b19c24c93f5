package resilience

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Config is the resilience section of a vendor's configuration.
type Config struct {
	Limits  Limits        `yaml:"limits"`
	Retry   Policy        `yaml:"retry"`
	Breaker BreakerConfig `yaml:"breaker"`
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if err := c.Limits.Validate(); err != nil {
		return err
	}
	if err := c.Retry.Validate(); err != nil {
		return err
	}
	return c.Breaker.Validate()
}

// Guard bundles one vendor's limiter, breakers and retry policy: build one
// per vendor per process and share it between every client of that vendor.
type Guard struct {
	Vendor   string
	Limiter  *Limiter
	Breakers *Breakers
	// Retry is the one policy of this vendor's calls that no message stands
	// behind (Policy.Do): the configured resilience.retry, on the guard's
	// clock, counted in Retries.
	Retry   Policy
	retries atomic.Int64
}

// New returns the Guard of vendor (VendorBraze or VendorBrevo).
func New(vendor string, cfg Config, opts ...Option) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	lim, err := NewLimiter(vendor, cfg.Limits, opts...)
	if err != nil {
		return nil, err
	}
	br, err := NewBreakers(vendor, lim.Buckets(), cfg.Breaker, opts...)
	if err != nil {
		return nil, err
	}
	if cfg.Retry.Clock == nil {
		cfg.Retry.Clock = o.clock
	}
	g := &Guard{Vendor: vendor, Limiter: lim, Breakers: br}
	next := cfg.Retry.OnRetry
	cfg.Retry.OnRetry = func(attempt int, wait time.Duration, err error) {
		g.retries.Add(1)
		if next != nil {
			next(attempt, wait, err)
		}
	}
	g.Retry = cfg.Retry.WithDefaults()
	return g, nil
}

// Transport wraps base (http.DefaultTransport when nil) for calls to the
// API at baseURL (e.g. brevo.DefaultBaseURL or the Braze instance URL);
// requests elsewhere pass through untouched. An empty baseURL governs every
// request. Plug the result into braze.Config.HTTPClient or
// brevo.Config.HTTPClient as the client's Transport.
func (g *Guard) Transport(base http.RoundTripper, baseURL string) (*Transport, error) {
	if base == nil {
		base = http.DefaultTransport
	}
	t := &Transport{base: base, limiter: g.Limiter, breakers: g.Breakers}
	if baseURL != "" {
		u, err := url.Parse(baseURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%w: base URL %q: want scheme://host[/path], the URL the %s client calls", ErrInvalidConfig, baseURL, g.Vendor)
		}
		t.scheme, t.host, t.basePath = u.Scheme, u.Host, strings.TrimRight(u.Path, "/")
	}
	return t, nil
}

// Open reports whether any of the vendor's breakers is open: the value for
// pipeline.Config.Paused.
func (g *Guard) Open() bool { return g.Breakers.Open() }

// Retries is how many retries Retry made (Policy.Do).
func (g *Guard) Retries() int64 { return g.retries.Load() }
