package resilience

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/sony/gobreaker/v2"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// Retryable reports whether trying the same call again later may succeed.
// It is restcall.Retryable on the vendor clients' errors (their APIErrors
// unwrap to a restcall.StatusError, their transport failures are
// restcall.TransportErrors) and extends it to errors of plain HTTP calls and
// of this package: timeouts, connection resets and refusals, truncated
// bodies and an open breaker are retryable; an untrusted certificate, other
// 4xx answers and a cancelled context are not.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if _, ok := errors.AsType[*restcall.StatusError](err); ok {
		return restcall.Retryable(err)
	}
	if _, ok := errors.AsType[*restcall.TransportError](err); ok {
		return restcall.Retryable(err)
	}
	if !restcall.RetryableTransport(err) {
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
