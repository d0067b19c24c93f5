package braze

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// ErrExportNotReady is returned (wrapped) by DownloadExport while the export
// URL still answers 403 or 404, as it does until Braze has written the file.
// It wraps restcall.ErrNotReady.
var ErrExportNotReady = fmt.Errorf("braze: export %w", restcall.ErrNotReady)

// ErrSegmentNotFound is returned by FindSegment when nothing matches.
var ErrSegmentNotFound = errors.New("braze: segment not found")

// APIError is a non-2xx answer from Braze. It embeds the status, message
// and rate-limit reset every vendor error has (restcall.StatusError, with
// its Retryable and RetryAfter) and unwraps to it.
type APIError struct {
	restcall.StatusError
	// Errors comes from Braze's {"message","errors"} body.
	Errors []any
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "braze: %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Errors) > 0 {
		fmt.Fprintf(&b, " %v", e.Errors)
	}
	return b.String()
}

// Unwrap exposes the embedded restcall.StatusError to errors.As.
func (e *APIError) Unwrap() error { return &e.StatusError }

// TransportError is a failure to get a whole response: connection refused or
// reset, timeout, a body cut short. The request may or may not have reached
// Braze.
type TransportError = restcall.TransportError

// Retryable is restcall.Retryable: 408, 425, 429 and 5xx answers, and
// transport failures other than a certificate Braze or a proxy presented
// that we do not trust. A cancelled or expired caller context is not
// retryable: the caller gave up.
func Retryable(err error) bool { return restcall.Retryable(err) }

// newAPIError reads a bounded prefix of the error body; failing to read it
// still yields the status, which is what classification needs.
func newAPIError(method, path string, resp *http.Response, reset time.Time) *APIError {
	e := &APIError{StatusError: restcall.StatusError{Method: method, Path: path, Status: resp.StatusCode, Reset: reset}}
	var body struct {
		Message string `json:"message"`
		Errors  []any  `json:"errors"`
	}
	text, isJSON := restcall.ErrorBody(resp.Body, &body)
	if !isJSON {
		e.Message = text // an S3 XML error, a proxy's HTML page
		return e
	}
	e.Message, e.Errors = body.Message, body.Errors
	return e
}
