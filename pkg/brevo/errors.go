package brevo

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// APIError is a non-2xx answer from Brevo: {"code","message","metadata"}.
// It embeds the status, message and rate-limit reset every vendor error has
// (restcall.StatusError, with its Retryable and RetryAfter) and unwraps to
// it.
type APIError struct {
	restcall.StatusError
	// Code is Brevo's error code (invalid_parameter, not_enough_credits,
	// account_in_process, ...). Brevo has changed codes over time: classify
	// by Status, and duplicates by DuplicateIdentifiers.
	Code string
	// DuplicateIdentifiers names the identifiers (email, SMS, EXT_ID, ...)
	// already held by another contact, from metadata.duplicate_identifiers.
	DuplicateIdentifiers []string
	// Metadata is the whole metadata object, when the error carried one.
	Metadata map[string]any
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "brevo: %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	} else {
		b.WriteString(" ")
		b.WriteString(http.StatusText(e.Status))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.DuplicateIdentifiers) > 0 {
		fmt.Fprintf(&b, " (duplicate identifiers %v)", e.DuplicateIdentifiers)
	}
	return b.String()
}

// Unwrap exposes the embedded restcall.StatusError to errors.As.
func (e *APIError) Unwrap() error { return &e.StatusError }

// TransportError is a failure to get a whole response: connection refused or
// reset, timeout, a body cut short. The request may or may not have reached
// Brevo.
type TransportError = restcall.TransportError

// Retryable is restcall.Retryable: 408, 425 (account_in_process), 429 and
// 5xx answers, and transport failures other than an untrusted certificate.
// Other 4xx, including 402 not_enough_credits, are permanent; so is a
// cancelled or expired caller context.
func Retryable(err error) bool { return restcall.Retryable(err) }

// RetryAfter is how long to wait before retrying a throttled (429) call:
// until the reset the rate-limit headers announced. Zero when err is not a
// 429 or the headers said nothing; the caller then uses its own backoff.
func RetryAfter(err error) time.Duration { return restcall.RetryAfter(err, time.Now()) }

// DuplicateIdentifiers returns the identifiers Brevo refused because another
// contact holds them (["SMS"], ["email"], ...), or nil. The usual remedy for
// SMS is to retry without it and report the record.
func DuplicateIdentifiers(err error) []string {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return nil
	}
	return apiErr.DuplicateIdentifiers
}

// newAPIError reads a bounded prefix of the error body; failing to read it
// still yields the status, which is what classification needs.
func newAPIError(method, path string, resp *http.Response, reset time.Time) *APIError {
	e := &APIError{StatusError: restcall.StatusError{Method: method, Path: path, Status: resp.StatusCode, Reset: reset}}
	var body struct {
		Code     string         `json:"code"`
		Message  string         `json:"message"`
		Metadata map[string]any `json:"metadata"`
	}
	text, isJSON := restcall.ErrorBody(resp.Body, &body)
	if !isJSON {
		e.Message = text // a proxy's HTML page
		return e
	}
	e.Code, e.Message, e.Metadata = body.Code, body.Message, body.Metadata
	if ids, ok := body.Metadata["duplicate_identifiers"].([]any); ok {
		for _, id := range ids {
			if s, ok := id.(string); ok {
				e.DuplicateIdentifiers = append(e.DuplicateIdentifiers, s)
			}
		}
	}
	return e
}
