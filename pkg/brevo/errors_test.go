package brevo

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
		{"400 invalid_parameter", &APIError{StatusError: restcall.StatusError{Status: 400}, Code: "invalid_parameter"}, false},
		{"400 duplicate", &APIError{StatusError: restcall.StatusError{Status: 400}, DuplicateIdentifiers: []string{"SMS"}}, false},
		{"401 unauthorized", &APIError{StatusError: restcall.StatusError{Status: 401}}, false},
		{"402 not_enough_credits", &APIError{StatusError: restcall.StatusError{Status: 402}, Code: "not_enough_credits"}, false},
		{"404 document_not_found", &APIError{StatusError: restcall.StatusError{Status: 404}}, false},
		{"425 account_in_process", &APIError{StatusError: restcall.StatusError{Status: 425}, Code: "account_in_process"}, true},
		{"429", &APIError{StatusError: restcall.StatusError{Status: 429}}, true},
		{"500", &APIError{StatusError: restcall.StatusError{Status: 500}}, true},
		{"wrapped 503", fmt.Errorf("importing: %w", &APIError{StatusError: restcall.StatusError{Status: 503}}), true},
		{"connection reset", &TransportError{Err: syscall.ECONNRESET}, true},
		{"truncated body", &TransportError{Err: io.ErrUnexpectedEOF}, true},
		{"bad certificate", &TransportError{Err: x509.HostnameError{}}, false},
		{"caller cancelled", fmt.Errorf("x: %w", context.Canceled), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Retryable(tt.err); got != tt.want {
				t.Fatalf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestRetryAfterAndDuplicates(t *testing.T) {
	in := time.Now().Add(10 * time.Second)
	if got := RetryAfter(fmt.Errorf("w: %w", &APIError{StatusError: restcall.StatusError{Status: 429, Reset: in}})); got < 9*time.Second || got > 10*time.Second {
		t.Errorf("RetryAfter(429) = %v, want about 10s", got)
	}
	if got := RetryAfter(&APIError{StatusError: restcall.StatusError{Status: 500, Reset: in}}); got != 0 {
		t.Errorf("RetryAfter(500) = %v, want 0", got)
	}
	if got := DuplicateIdentifiers(fmt.Errorf("w: %w", &APIError{StatusError: restcall.StatusError{Status: 400}, DuplicateIdentifiers: []string{"SMS"}})); len(got) != 1 || got[0] != "SMS" {
		t.Errorf("DuplicateIdentifiers = %v", got)
	}
	if got := DuplicateIdentifiers(errors.New("x")); got != nil {
		t.Errorf("DuplicateIdentifiers(plain) = %v", got)
	}
}
