package resilience

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Transport is an http.RoundTripper that sends each request to the vendor
// through its bucket's limiter, then its breaker, then the base transport.
// It never retries: a call a message stands behind is retried by
// redelivering the message, any other by Policy.Do, and a wait by its next
// poll, so that no call is retried by two layers at once. Requests to other
// hosts (Braze's export downloads from S3) pass straight to the base
// transport.
type Transport struct {
	base     http.RoundTripper
	limiter  *Limiter
	breakers *Breakers
	// host and basePath select the governed requests; empty host: all.
	scheme, host, basePath string
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	path, governed := t.route(req.URL)
	if !governed {
		return t.base.RoundTrip(req)
	}
	return t.once(req, t.limiter.Bucket(req.Method, path))
}

// once sends the request: limiter, breaker, base transport.
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
