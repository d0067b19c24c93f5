package resilience

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/restcall"
)

func TestRetryable(t *testing.T) {
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"500", &restcall.StatusError{Status: 500}, true},
		{"503", &restcall.StatusError{Status: 503}, true},
		{"429", &restcall.StatusError{Status: 429}, true},
		{"425", &restcall.StatusError{Status: 425}, true},
		{"408", &restcall.StatusError{Status: 408}, true},
		{"400", &restcall.StatusError{Status: 400}, false},
		{"401", &restcall.StatusError{Status: 401}, false},
		{"404", &restcall.StatusError{Status: 404}, false},
		{"409", &restcall.StatusError{Status: 409}, false},
		{"braze 400 max input", &braze.APIError{StatusError: restcall.StatusError{Status: 400, Message: "Max Input Length Exceeded"}}, false},
		{"braze 403 access denied", &braze.APIError{StatusError: restcall.StatusError{Status: 403}}, false},
		{"braze 429", &braze.APIError{StatusError: restcall.StatusError{Status: 429}}, true},
		{"braze 502 wrapped", fmt.Errorf("exporting: %w", &braze.APIError{StatusError: restcall.StatusError{Status: 502}}), true},
		{"brevo 402 not enough credits", &brevo.APIError{StatusError: restcall.StatusError{Status: 402}, Code: "not_enough_credits"}, false},
		{"brevo 425 account in process", &brevo.APIError{StatusError: restcall.StatusError{Status: 425}, Code: "account_in_process"}, true},
		{"brevo 404", &brevo.APIError{StatusError: restcall.StatusError{Status: 404}}, false},
		{"brevo truncated body", &brevo.TransportError{Op: "reading response", Err: io.ErrUnexpectedEOF}, true},
		{"braze reset", &braze.TransportError{Op: "sending request", Err: syscall.ECONNRESET}, true},
		{"brevo bad certificate", &brevo.TransportError{Err: x509.UnknownAuthorityError{}}, false},
		{"raw bad certificate", fmt.Errorf("get: %w", x509.UnknownAuthorityError{}), false},
		{"connection reset", fmt.Errorf("post: %w", &net.OpError{Op: "read", Err: syscall.ECONNRESET}), true},
		{"connection refused", syscall.ECONNREFUSED, true},
		{"truncated", io.ErrUnexpectedEOF, true},
		{"server closed before answering", io.EOF, true},
		{"net timeout", timeout, true},
		{"per-call deadline", context.DeadlineExceeded, true},
		{"caller cancelled", fmt.Errorf("brevo: %w", context.Canceled), false},
		{"breaker open", &OpenError{Err: gobreaker.ErrOpenState}, true},
		{"anything else", errors.New("json: cannot unmarshal"), false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("%s: Retryable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// The classifier must agree with the clients' own on their errors.
func TestRetryableAgreesWithClients(t *testing.T) {
	for status := 400; status < 600; status++ {
		be := &braze.APIError{StatusError: restcall.StatusError{Status: status}}
		ve := &brevo.APIError{StatusError: restcall.StatusError{Status: status}}
		if Retryable(be) != braze.Retryable(be) {
			t.Errorf("braze %d: we say %v, braze.Retryable %v", status, Retryable(be), braze.Retryable(be))
		}
		if Retryable(ve) != brevo.Retryable(ve) {
			t.Errorf("brevo %d: we say %v, brevo.Retryable %v", status, Retryable(ve), brevo.Retryable(ve))
		}
		if restcall.RetryableStatus(status) != Retryable(ve) {
			t.Errorf("RetryableStatus(%d) = %v disagrees with Retryable", status, restcall.RetryableStatus(status))
		}
	}
}

// The vendors' errors carry their reset to the policy through restcall.
func TestRetryAfter(t *testing.T) {
	now := t0
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"brevo 429 with reset", &brevo.APIError{StatusError: restcall.StatusError{Status: http.StatusTooManyRequests, Reset: now.Add(7 * time.Second)}}, 7 * time.Second},
		{"braze 429 with reset", fmt.Errorf("w: %w", &braze.APIError{StatusError: restcall.StatusError{Status: http.StatusTooManyRequests, Reset: now.Add(time.Minute)}}), time.Minute},
		{"429 reset passed", &restcall.StatusError{Status: http.StatusTooManyRequests, Reset: now.Add(-time.Second)}, 0},
		{"503 says nothing", &brevo.APIError{StatusError: restcall.StatusError{Status: 503, Reset: now.Add(time.Minute)}}, 0},
		{"other", errors.New("x"), 0},
	}
	for _, tt := range tests {
		if got := restcall.RetryAfter(tt.err, now); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A call the breaker refused is retryable by every client's verdict, not
// only by this package's: a Brevo write refused while the breaker is open
// waits, it is not dead-lettered.
func TestBreakerRefusalIsRetryableEverywhere(t *testing.T) {
	err := fmt.Errorf("writing events: %w", &OpenError{Vendor: "brevo", Bucket: "events", Err: gobreaker.ErrOpenState})
	if !restcall.Retryable(err) || !Retryable(err) {
		t.Fatalf("restcall.Retryable = %v, resilience.Retryable = %v for %v; want both true", restcall.Retryable(err), Retryable(err), err)
	}
}
