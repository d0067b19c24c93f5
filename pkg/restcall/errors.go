package restcall

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
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

// ThrottleWait is how long to wait before retrying an answer with status
// whose rate-limit headers announced reset: until the reset for a 429, zero
// for anything else or when the reset is unknown (zero) or past.
func ThrottleWait(status int, reset, now time.Time) time.Duration {
	if status != http.StatusTooManyRequests || reset.IsZero() {
		return 0
	}
	return max(reset.Sub(now), 0)
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
