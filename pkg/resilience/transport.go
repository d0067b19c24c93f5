package resilience

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

type retryKey struct{}

// WithRetry turns the Transport's own retries on or off for requests made
// with ctx. By default only GET and HEAD requests are retried: a body that
// came from a message is retried by redelivering the message, so that a
// killed worker's retries are not lost, and must not be sent twice here.
func WithRetry(ctx context.Context, on bool) context.Context {
	return context.WithValue(ctx, retryKey{}, on)
}

func retryWanted(req *http.Request) bool {
	if on, ok := req.Context().Value(retryKey{}).(bool); ok {
		return on
	}
	return req.Method == http.MethodGet || req.Method == http.MethodHead
}

// Transport is an http.RoundTripper that sends each request to the vendor
// through its bucket's limiter, then its breaker, then the base transport,
// and retries opted-in requests. Requests to other hosts (Braze's export
// downloads from S3) pass straight to the base transport.
type Transport struct {
	base     http.RoundTripper
	limiter  *Limiter
	breakers *Breakers
	policy   Policy
	clock    Clock
	// host and basePath select the governed requests; empty host: all.
	scheme, host, basePath string
	retries                *atomic.Int64
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	path, governed := t.route(req.URL)
	if !governed {
		return t.base.RoundTrip(req)
	}
	ctx := req.Context()
	bucket := t.limiter.Bucket(req.Method, path)
	retry := retryWanted(req) && (req.Body == nil || req.Body == http.NoBody || req.GetBody != nil)
	start := t.clock.Now()
	r := req
	for attempt := 1; ; attempt++ {
		resp, err := t.once(r, bucket)
		if !retry || attempt >= t.policy.MaxAttempts || ctx.Err() != nil || !retryableOutcome(resp, err) {
			return resp, err
		}
		// After a 429 the limiter holds the bucket until the reset: no
		// extra wait here.
		var wait time.Duration
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			wait = t.policy.Delay(attempt)
		}
		if t.clock.Now().Sub(start)+wait > t.policy.MaxElapsed {
			return resp, err
		}
		next, cerr := rewind(req)
		if cerr != nil {
			return resp, err
		}
		if resp != nil {
			restcall.CloseBody(resp.Body)
		}
		if serr := t.clock.Sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("waiting %v to retry %s %s: %w", wait.Round(time.Millisecond), req.Method, path, serr)
		}
		t.retries.Add(1)
		r = next
	}
}

// once sends one attempt: limiter, breaker, base transport.
func (t *Transport) once(req *http.Request, bucket string) (*http.Response, error) {
	if err := t.limiter.Wait(req.Context(), bucket); err != nil {
		return nil, err
	}
	done, err := t.breakers.allow(bucket)
	if err != nil {
		trace.SpanFromContext(req.Context()).AddEvent("breaker_rejected", trace.WithAttributes(
			attribute.String("tajo.bucket", bucket)))
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		done(outcome(req.Context(), err))
		return nil, err
	}
	t.limiter.Observe(bucket, resp.StatusCode, resp.Header)
	if resp.StatusCode >= 300 || resp.Body == nil || resp.Body == http.NoBody {
		done(statusOutcome(resp.StatusCode))
		return resp, nil
	}
	// A 2xx is only a success once its body has arrived whole: a cut
	// connection or a read timeout counts against the breaker.
	resp.Body = &watchedBody{ctx: req.Context(), rc: resp.Body, done: done}
	return resp, nil
}

// outcome names a failure by its cause: net/http reports a request whose
// context ended as "request canceled" or the context's error, depending on
// timing; a deadline is a timeout (it counts against the breaker), a
// cancellation is the caller giving up (it does not).
func outcome(ctx context.Context, err error) error {
	// http.Client.Timeout cancels a request on its own timer, which can
	// beat the context's: a passed deadline is a timeout whatever error
	// won. Not %w for err: it may say "canceled".
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return err
}

func retryableOutcome(resp *http.Response, err error) bool {
	if err != nil {
		var open *OpenError
		return !errors.As(err, &open) && Retryable(err)
	}
	return restcall.RetryableStatus(resp.StatusCode)
}

// rewind returns a copy of req with a fresh body for another attempt.
func rewind(req *http.Request) (*http.Request, error) {
	next := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return next, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("rewinding the body of %s %s: %w", req.Method, req.URL.Path, err)
	}
	next.Body = body
	return next, nil
}

// route reports whether u is one of the vendor's API calls and its path
// relative to the API root.
func (t *Transport) route(u *url.URL) (string, bool) {
	if t.host == "" {
		p, _ := strings.CutPrefix(u.Path, t.limiter.vendor.basePath)
		return p, true
	}
	if !strings.EqualFold(u.Host, t.host) || (t.scheme != "" && u.Scheme != t.scheme) {
		return "", false
	}
	p, ok := strings.CutPrefix(u.Path, t.basePath)
	if !ok || (p != "" && !strings.HasPrefix(p, "/")) {
		return "", false
	}
	return p, true
}

// watchedBody reports a response's outcome to its breaker once the body
// has been read to the end, failed, or been closed.
type watchedBody struct {
	ctx  context.Context
	rc   io.ReadCloser
	done func(error)
	once sync.Once
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.finish(nil)
	case err != nil:
		b.finish(outcome(b.ctx, err))
	}
	return n, err
}

func (b *watchedBody) Close() error {
	b.finish(nil) // the caller stopped reading: the answer itself was fine
	return b.rc.Close()
}

func (b *watchedBody) finish(err error) { b.once.Do(func() { b.done(err) }) }
