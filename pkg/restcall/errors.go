package restcall

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxErrorBody bounds how much of an error response is read: an error page
// must not cost memory.
const MaxErrorBody = 64 << 10

// RetryableStatus reports whether an answer with status may succeed if the
// same call is made again later: 408, 425, 429 and 5xx. Other 4xx are
// permanent.
func RetryableStatus(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	default:
		return status >= 500
	}
}

// RetryableTransport reports whether a failure to get a whole response may
// pass on a retry: all do except a certificate we do not trust, which a
// retry would meet again.
func RetryableTransport(err error) bool { return !certificateError(err) }

func certificateError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		invalid          x509.CertificateInvalidError
		hostname         x509.HostnameError
		verification     *tls.CertificateVerificationError
	)
	return errors.As(err, &unknownAuthority) || errors.As(err, &invalid) ||
		errors.As(err, &hostname) || errors.As(err, &verification)
}

// StatusError is the part of a vendor's non-2xx answer that decides what
// happens next, the base of every vendor's error type (braze.APIError and
// brevo.APIError embed it and unwrap to it): the status, and the rate-limit
// reset the answer announced. Code that works on raw HTTP responses uses it
// as is.
type StatusError struct {
	Method string // empty for a bare status
	Path   string // the route, e.g. /contacts/{identifier}: no query, no email
	Status int
	// Message is the vendor's message or, for a non-JSON body, its start.
	Message string
	// Reset is when the rate-limit window resets; zero when not said.
	Reset time.Time
}

func (e *StatusError) Error() string {
	s := "http " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Method != "" {
		s = e.Method + " " + e.Path + ": " + s
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Retryable reports whether the same call may succeed later (see
// RetryableStatus).
func (e *StatusError) Retryable() bool { return RetryableStatus(e.Status) }

// RetryAfter is how long to wait before retrying: until the reset for a
// 429, zero for anything else or when the reset is unknown or past.
func (e *StatusError) RetryAfter(now time.Time) time.Duration {
	if e.Status != http.StatusTooManyRequests || e.Reset.IsZero() {
		return 0
	}
	return max(e.Reset.Sub(now), 0)
}

// TransportError is a failure to get a whole response from a vendor:
// connection refused or reset, timeout, a body cut short. The request may or
// may not have reached the vendor.
type TransportError struct {
	Vendor string
	Method string
	Path   string
	Op     string // what was being done: "sending request", "reading response"
	Err    error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("%s: %s %s: %s: %v", e.Vendor, e.Method, e.Path, e.Op, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// NewTransportError turns an http.Client failure into an error that says
// what failed without the URL (url.Error would repeat it, identifiers or a
// signature included), and keeps a cancelled caller context recognisable
// as such: that is the caller giving up, not a transport failure.
func NewTransportError(ctx context.Context, vendor, method, path, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %s %s: %s: %w", vendor, method, path, op, ctxErr)
	}
	return &TransportError{Vendor: vendor, Method: method, Path: path, Op: op, Err: StripURL(err)}
}

// ErrNotReady is wrapped by the error of a poll that found its object not
// ready yet (a Braze export not yet written): the poll goes on.
var ErrNotReady = errors.New("not ready")

// Verdict is an error that says itself whether a retry may pass:
// StatusError by its status, a circuit breaker's refusal (resilience's
// OpenError) always.
type Verdict interface {
	error
	Retryable() bool
}

// Retryable reports whether trying the same call again later may succeed:
// an error that says so itself (Verdict: a StatusError whose status is
// retryable, a breaker's refusal), and a TransportError other than an
// untrusted certificate. Anything else, a cancelled or expired caller
// context among them, is not: the caller gave up. pkg/resilience extends
// it to errors of plain HTTP calls.
func Retryable(err error) bool {
	if v, ok := errors.AsType[Verdict](err); ok {
		return v.Retryable()
	}
	t, ok := errors.AsType[*TransportError](err)
	return ok && RetryableTransport(t.Err)
}

// RetryAfter is how long the vendor asked to wait before retrying err, as
// of now: until the rate-limit reset of a 429. Zero when err does not say;
// the caller then uses its own backoff.
func RetryAfter(err error, now time.Time) time.Duration {
	if s, ok := errors.AsType[*StatusError](err); ok {
		return s.RetryAfter(now)
	}
	return 0
}

// StripURL drops the *url.Error an http.Client wraps its failures in: it
// repeats the URL, whose query or path may hold a signature or an email.
func StripURL(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// ErrorBody reads at most MaxErrorBody bytes of an error answer and decodes
// them as JSON into v. When they are not JSON it returns false and their
// start as one line of text instead. A failure to read leaves what was read:
// the status alone is what classification needs.
func ErrorBody(body io.Reader, v any) (text string, isJSON bool) {
	raw, _ := io.ReadAll(io.LimitReader(body, MaxErrorBody))
	if json.Unmarshal(raw, v) == nil {
		return "", true
	}
	return Snippet(raw), false
}

// Snippet keeps a non-JSON error body (an S3 XML error, a proxy's HTML page)
// readable in one log line: whitespace collapsed, cut after 200 bytes.
func Snippet(raw []byte) string {
	const maxLen = 200
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return s
}
