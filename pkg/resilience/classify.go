package resilience

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
)

// RetryableStatus reports whether an HTTP answer may succeed when tried
// again: 5xx, 429 (throttled), 425 (Brevo's account_in_process) and 408 (a
// timeout, as pkg/braze and pkg/brevo also count it). Every other 4xx is
// permanent.
func RetryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return code >= 500 && code <= 599
}

// Retryable reports whether trying the same call again later may succeed.
// It agrees with braze.Retryable and brevo.Retryable on their errors and
// extends them to errors of plain HTTP calls and of this package: timeouts,
// connection resets and refusals, truncated bodies and an open breaker are
// retryable; an untrusted certificate, other 4xx answers and a cancelled
// context are not.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if bErr, ok := errors.AsType[*braze.APIError](err); ok {
		return RetryableStatus(bErr.Status)
	}
	if bErr, ok := errors.AsType[*brevo.APIError](err); ok {
		return RetryableStatus(bErr.Status)
	}
	if sErr, ok := errors.AsType[*StatusError](err); ok {
		return RetryableStatus(sErr.Status)
	}
	if _, ok := errors.AsType[*braze.TransportError](err); ok {
		return braze.Retryable(err)
	}
	if _, ok := errors.AsType[*brevo.TransportError](err); ok {
		return brevo.Retryable(err)
	}
	if certificateError(err) {
		return false
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return true
	}
	return transient(err)
}

// transient reports the network failures worth another try.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	if nErr, ok := errors.AsType[net.Error](err); ok && nErr.Timeout() {
		return true
	}
	_, isOp := errors.AsType[*net.OpError](err)
	return isOp
}

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

// RetryAfter is how long the vendor asked to wait before retrying err: until
// the rate-limit reset of a 429. Zero when err does not say.
func RetryAfter(err error) time.Duration { return retryAfterAt(err, time.Now()) }

func retryAfterAt(err error, now time.Time) time.Duration {
	var status int
	var reset time.Time
	if e, ok := errors.AsType[*braze.APIError](err); ok {
		status, reset = e.Status, e.Reset
	} else if e, ok := errors.AsType[*brevo.APIError](err); ok {
		status, reset = e.Status, e.Reset
	} else if e, ok := errors.AsType[*StatusError](err); ok {
		status, reset = e.Status, e.Reset
	}
	if status != http.StatusTooManyRequests || reset.IsZero() {
		return 0
	}
	return max(reset.Sub(now), 0)
}

// StatusError is a non-2xx answer seen by code that works on raw HTTP
// responses (Policy.Do callers that use a plain http.Client).
type StatusError struct {
	Status int
	// Reset is the rate-limit reset the answer announced; zero if none.
	Reset time.Time
}

func (e *StatusError) Error() string {
	return "http " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
}
