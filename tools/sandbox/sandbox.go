package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox/braze"
	"github.com/tajo-sync/tajo/tools/sandbox/brevo"
	"github.com/tajo-sync/tajo/tools/sandbox/faults"
	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// Options configure Start. Zero fields take the defaults noted, except
// RateLimits: use DefaultOptions to get the vendors' limits enforced.
type Options struct {
	// BrazeAddr and BrevoAddr are the listen addresses. Default "127.0.0.1:0"
	// (a random loopback port).
	BrazeAddr, BrevoAddr string
	// Users is how many Braze users exist. Default 10,000.
	Users int
	// Seed makes the users and draws the faults. Default 1.
	Seed int64
	// BrazeAPIKey and BrevoAPIKey are the keys the simulators accept.
	// Generated when empty ("sandbox-braze-..." and "xkeysib-sandbox-...").
	BrazeAPIKey, BrevoAPIKey string
	// RateLimits makes both simulators answer 429 over the vendors' limits
	// (their rate-limit headers are sent either way).
	RateLimits bool
	// ExportDelay is how long a Braze segment export takes to be ready.
	// Default 300ms.
	ExportDelay time.Duration
	// StoreExports writes export ZIP entries uncompressed (Braze deflates
	// them): for benchmarks, where deflating a million users costs more CPU
	// than the connector under test.
	StoreExports bool
	// ImportDelay and ImportRowsPerSecond time the Brevo simulator's
	// imports: ImportDelay (default brevo.DefaultImportDelay, 200ms) plus one
	// second per ImportRowsPerSecond rows (0, the default: rows cost
	// nothing). brevo.RealisticImportDelay and
	// brevo.RealisticImportRowsPerSecond are the sandbox's guess at Brevo's.
	ImportDelay         time.Duration
	ImportRowsPerSecond float64
	// MalformedLines breaks one Braze export line in 2,000 (truncated JSON,
	// an array, an object without braze_id: see gen.WithMalformedLines).
	// Real Braze sends none of these, so it is off by default; tests of the
	// connector's dead-lettering turn it on.
	MalformedLines bool
	// BrazeLimits overrides the Braze simulator's budgets (zero fields keep
	// Braze's), enforced when RateLimits is on.
	BrazeLimits braze.Limits
	// CatalogItems is the size of the Braze workspace's "products" catalog
	// (0: no catalog). Default 0; DefaultOptions has 500.
	CatalogItems int
	// Faults are injected on every endpoint of both simulators but /_admin/
	// (see package faults), drawn from Seed. The zero Spec injects none.
	Faults faults.Spec
}

// DefaultOptions are the demo's: 10,000 users, seed 1, the vendors' rate
// limits enforced, random loopback ports and keys.
func DefaultOptions() Options {
	return Options{
		BrazeAddr:    "127.0.0.1:0",
		BrevoAddr:    "127.0.0.1:0",
		Users:        10000,
		Seed:         1,
		RateLimits:   true,
		ExportDelay:  300 * time.Millisecond,
		CatalogItems: 500,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.BrazeAddr == "" {
		o.BrazeAddr = d.BrazeAddr
	}
	if o.BrevoAddr == "" {
		o.BrevoAddr = d.BrevoAddr
	}
	if o.Users <= 0 {
		o.Users = d.Users
	}
	if o.Seed == 0 {
		o.Seed = d.Seed
	}
	if o.ExportDelay == 0 {
		o.ExportDelay = d.ExportDelay
	}
	if o.BrazeAPIKey == "" {
		o.BrazeAPIKey = "sandbox-braze-" + randomHex(16)
	}
	if o.BrevoAPIKey == "" {
		o.BrevoAPIKey = "xkeysib-sandbox-" + randomHex(32)
	}
	return o
}

// Sandbox is both simulators, serving. Use the URLs and keys to configure a
// connector; use Braze, Brevo and Gen to drive and inspect them in tests.
type Sandbox struct {
	Braze *braze.Server
	Brevo *brevo.Server
	// BrazeURL is the REST endpoint, without a path ("http://127.0.0.1:PORT").
	BrazeURL string
	// BrevoURL is the API base including /v3 ("http://127.0.0.1:PORT/v3").
	BrevoURL    string
	BrazeAPIKey string
	BrevoAPIKey string
	Gen         *gen.Generator

	servers   []*http.Server
	injectors []*faults.Injector // released on Close, so held requests do not delay it
	serving   chan error         // one value per server when it stops
}

// Start listens on both addresses, serves, and returns once both answer
// TCP connections. ctx bounds the start only; the servers run until Close.
func Start(ctx context.Context, o Options) (*Sandbox, error) {
	o = o.withDefaults()
	if err := o.Faults.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox faults %q: %w", o.Faults.String(), err)
	}
	var genOpts []gen.Option
	if o.MalformedLines {
		genOpts = append(genOpts, gen.WithMalformedLines())
	}
	g := gen.New(o.Seed, o.Users, genOpts...)
	sb := &Sandbox{
		Gen:         g,
		BrazeAPIKey: o.BrazeAPIKey,
		BrevoAPIKey: o.BrevoAPIKey,
		serving:     make(chan error, 2),
	}
	sb.Braze = braze.New(braze.Config{
		APIKey: o.BrazeAPIKey, Gen: g, ExportDelay: o.ExportDelay, RateLimit: o.RateLimits,
		StoreExports: o.StoreExports, CatalogItems: o.CatalogItems, Limits: o.BrazeLimits, Middleware: sb.faultMiddleware(o, faults.Braze),
	})
	sb.Brevo = brevo.New(brevo.Config{APIKey: o.BrevoAPIKey, RateLimit: o.RateLimits,
		ImportDelay: o.ImportDelay, ImportRowsPerSecond: o.ImportRowsPerSecond,
		Middleware: sb.faultMiddleware(o, faults.Brevo)})
	var lc net.ListenConfig
	brazeLn, err := lc.Listen(ctx, "tcp", o.BrazeAddr)
	if err != nil {
		return nil, fmt.Errorf("listening for the Braze simulator on %s: %w", o.BrazeAddr, err)
	}
	brevoLn, err := lc.Listen(ctx, "tcp", o.BrevoAddr)
	if err != nil {
		brazeLn.Close()
		return nil, fmt.Errorf("listening for the Brevo simulator on %s: %w", o.BrevoAddr, err)
	}
	sb.BrazeURL = "http://" + brazeLn.Addr().String()
	sb.BrevoURL = "http://" + brevoLn.Addr().String() + "/v3"
	sb.Braze.SetBaseURL(sb.BrazeURL)
	for _, x := range []struct {
		ln net.Listener
		h  http.Handler
	}{{brazeLn, sb.Braze}, {brevoLn, sb.Brevo}} {
		srv := &http.Server{Handler: x.h, ReadHeaderTimeout: 10 * time.Second}
		sb.servers = append(sb.servers, srv)
		go func() {
			err := srv.Serve(x.ln)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			sb.serving <- err
		}()
	}
	for _, addr := range []string{brazeLn.Addr().String(), brevoLn.Addr().String()} {
		if err := waitReachable(ctx, addr); err != nil {
			return nil, errors.Join(err, sb.Close())
		}
	}
	return sb, nil
}

// faultMiddleware returns the middleware injecting o.Faults in a vendor's
// shapes, or nil when there are none.
func (s *Sandbox) faultMiddleware(o Options, v faults.Vendor) func(http.Handler) http.Handler {
	if o.Faults.IsZero() {
		return nil
	}
	return func(next http.Handler) http.Handler {
		in := faults.Wrap(next, o.Faults, o.Seed, faults.Options{Vendor: v})
		s.injectors = append(s.injectors, in)
		return in
	}
}

// waitReachable dials addr until it accepts or ctx ends. A dial, not a
// request: the simulators count requests, and tests assert on the counts.
func waitReachable(ctx context.Context, addr string) error {
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to accept connections: %w", addr, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Close stops both servers, letting requests in flight finish for up to five
// seconds, then cuts the rest (a streaming export, say).
func (s *Sandbox) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, in := range s.injectors {
		in.Release()
	}
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutting down a simulator: %w", errors.Join(err, srv.Close())))
		}
	}
	for range s.servers {
		if err := <-s.serving; err != nil {
			errs = append(errs, fmt.Errorf("serving: %w", err))
		}
	}
	s.servers = nil
	s.Braze.Close()
	s.Brevo.Close()
	return errors.Join(errs...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
