package braze

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/tajo-sync/tajo/pkg/restcall"
	"time"
)

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("boom"), false},
		{"400 bad input", &APIError{StatusError: restcall.StatusError{Status: 400}}, false},
		{"401 wrong instance", &APIError{StatusError: restcall.StatusError{Status: 401}}, false},
		{"403 access denied", &APIError{StatusError: restcall.StatusError{Status: 403}}, false},
		{"404", &APIError{StatusError: restcall.StatusError{Status: 404}}, false},
		{"408", &APIError{StatusError: restcall.StatusError{Status: 408}}, true},
		{"425", &APIError{StatusError: restcall.StatusError{Status: 425}}, true},
		{"429", &APIError{StatusError: restcall.StatusError{Status: 429}}, true},
		{"500", &APIError{StatusError: restcall.StatusError{Status: 500}}, true},
		{"503", &APIError{StatusError: restcall.StatusError{Status: 503}}, true},
		{"wrapped 502", fmt.Errorf("listing: %w", &APIError{StatusError: restcall.StatusError{Status: 502}}), true},
		{"connection reset", &TransportError{Err: syscall.ECONNRESET}, true},
		{"truncated body", &TransportError{Err: io.ErrUnexpectedEOF}, true},
		{"untrusted certificate", &TransportError{Err: x509.UnknownAuthorityError{}}, false},
		{"caller cancelled", fmt.Errorf("x: %w", context.Canceled), false},
		{"export not ready", ErrExportNotReady, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Retryable(tt.err); got != tt.want {
				t.Fatalf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// The vendor error carries its reset to restcall.RetryAfter.
func TestRetryAfter(t *testing.T) {
	in := time.Now().Add(time.Hour)
	tests := []struct {
		name     string
		err      error
		min, max time.Duration
	}{
		{"429 with reset", &APIError{StatusError: restcall.StatusError{Status: 429, Reset: in}}, 59 * time.Minute, time.Hour},
		{"wrapped 429", fmt.Errorf("w: %w", &APIError{StatusError: restcall.StatusError{Status: 429, Reset: in}}), 59 * time.Minute, time.Hour},
		{"429 reset passed", &APIError{StatusError: restcall.StatusError{Status: 429, Reset: time.Now().Add(-time.Minute)}}, 0, 0},
		{"429 without headers", &APIError{StatusError: restcall.StatusError{Status: 429}}, 0, 0},
		{"500 with reset", &APIError{StatusError: restcall.StatusError{Status: 500, Reset: in}}, 0, 0},
		{"other", errors.New("x"), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := restcall.RetryAfter(tt.err, time.Now()); got < tt.min || got > tt.max {
				t.Fatalf("RetryAfter = %v, want in [%v, %v]", got, tt.min, tt.max)
			}
		})
	}
}
