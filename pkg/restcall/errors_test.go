package restcall

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRetryableStatus(t *testing.T) {
	tests := []struct {
		status int
		want   bool
	}{
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusPaymentRequired, false}, // Brevo's not_enough_credits
		{http.StatusForbidden, false},
		{http.StatusNotFound, false},
		{http.StatusConflict, false},
		{http.StatusRequestTimeout, true},
		{http.StatusTooEarly, true}, // Brevo's account_in_process
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			if got := RetryableStatus(tt.status); got != tt.want {
				t.Fatalf("RetryableStatus(%d) = %v, want %v", tt.status, got, tt.want)
			}
		})
	}
}

func TestRetryableTransport(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection reset", syscall.ECONNRESET, true},
		{"truncated body", io.ErrUnexpectedEOF, true},
		{"wrapped reset", &url.Error{Op: "Get", URL: "https://x", Err: syscall.ECONNRESET}, true},
		{"unknown authority", x509.UnknownAuthorityError{}, false},
		{"wrong host", x509.HostnameError{}, false},
		{"invalid certificate", x509.CertificateInvalidError{}, false},
		{"verification", &tls.CertificateVerificationError{Err: errors.New("x")}, false},
		{"wrapped certificate", &url.Error{Op: "Get", URL: "https://x", Err: x509.UnknownAuthorityError{}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RetryableTransport(tt.err); got != tt.want {
				t.Fatalf("RetryableTransport(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestStatusErrorRetryAfter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name   string
		status int
		reset  time.Time
		want   time.Duration
	}{
		{"429 with reset", 429, now.Add(time.Hour), time.Hour},
		{"429 reset passed", 429, now.Add(-time.Minute), 0},
		{"429 without headers", 429, time.Time{}, 0},
		{"500 with reset", 500, now.Add(time.Hour), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fmt.Errorf("importing: %w", &StatusError{Status: tt.status, Reset: tt.reset})
			if got := RetryAfter(err, now); got != tt.want {
				t.Fatalf("RetryAfter = %v, want %v", got, tt.want)
			}
		})
	}
	if got := RetryAfter(errors.New("plain"), now); got != 0 {
		t.Fatalf("RetryAfter(plain error) = %v, want 0", got)
	}
}

// vendorError stands for braze.APIError and brevo.APIError: a vendor's
// own error that embeds the base and unwraps to it.
type vendorError struct {
	StatusError
	Code string
}

func (e *vendorError) Error() string { return "vendor: " + e.Code }
func (e *vendorError) Unwrap() error { return &e.StatusError }

func TestRetryable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("x"), false},
		{"503", &StatusError{Status: 503}, true},
		{"400", &StatusError{Status: 400}, false},
		{"vendor 429", fmt.Errorf("loading: %w", &vendorError{StatusError: StatusError{Status: 429}}), true},
		{"vendor 402", &vendorError{StatusError: StatusError{Status: 402}, Code: "not_enough_credits"}, false},
		{"transport reset", NewTransportError(context.Background(), "v", "GET", "/x", "sending request", syscall.ECONNRESET), true},
		{"transport certificate", NewTransportError(context.Background(), "v", "GET", "/x", "sending request", x509.UnknownAuthorityError{}), false},
		{"caller gave up", NewTransportError(ctx, "v", "GET", "/x", "sending request", syscall.ECONNRESET), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Retryable(tt.err); got != tt.want {
				t.Fatalf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestNewTransportError(t *testing.T) {
	err := NewTransportError(context.Background(), "brevo", "GET", "/contacts/{identifier}", "sending request",
		&url.Error{Op: "Get", URL: "https://api/contacts/jane@example.com", Err: syscall.ECONNREFUSED})
	if strings.Contains(err.Error(), "jane") || !strings.HasPrefix(err.Error(), "brevo: GET /contacts/{identifier}: sending request: ") {
		t.Fatalf("error = %q: want the route, not the URL", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatal("the cause is not kept")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewTransportError(ctx, "brevo", "GET", "/x", "sending request", errors.New("canceled")); !errors.Is(err, context.Canceled) {
		t.Fatalf("with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestStatusErrorMessage(t *testing.T) {
	for _, tt := range []struct {
		err  StatusError
		want string
	}{
		{StatusError{Status: 503}, "http 503 Service Unavailable"},
		{StatusError{Method: "POST", Path: "/contacts/import", Status: 429, Message: "slow down"}, "POST /contacts/import: http 429 Too Many Requests: slow down"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestStripURL(t *testing.T) {
	inner := errors.New("connection refused")
	err := fmt.Errorf("sending: %w", &url.Error{Op: "Get", URL: "https://x/?sig=secret", Err: inner})
	if got := StripURL(err); got != inner {
		t.Fatalf("StripURL = %v, want the error inside the url.Error", got)
	}
	if got := StripURL(inner); got != inner {
		t.Fatalf("StripURL(plain) = %v, want it unchanged", got)
	}
}

func TestErrorBody(t *testing.T) {
	var v struct {
		Message string `json:"message"`
	}
	if text, isJSON := ErrorBody(strings.NewReader(`{"message":"Invalid API key"}`), &v); !isJSON || text != "" || v.Message != "Invalid API key" {
		t.Fatalf("JSON body: %q, %v, decoded %+v", text, isJSON, v)
	}
	html := "<html>\n  <body>\n\t502 Bad   Gateway</body>\n</html>\n"
	if text, isJSON := ErrorBody(strings.NewReader(html), &v); isJSON || text != "<html> <body> 502 Bad Gateway</body> </html>" {
		t.Fatalf("HTML body: %q, %v", text, isJSON)
	}
	// A huge page is read only up to MaxErrorBody and shown cut short.
	r := strings.NewReader(strings.Repeat("x", 2*MaxErrorBody))
	text, isJSON := ErrorBody(r, &v)
	if isJSON || text != strings.Repeat("x", 200)+"..." {
		t.Fatalf("long body: %q, %v", text, isJSON)
	}
	if left := r.Len(); left != MaxErrorBody {
		t.Fatalf("%d bytes left unread, want %d", left, MaxErrorBody)
	}
}
