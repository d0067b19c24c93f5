package brevo

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Brevo's error bodies are outside input (a proxy may answer too): any body
// yields an error that keeps its status and reads as text, and duplicate
// identifiers are only ever strings Brevo named.
func FuzzAPIErrorBody(f *testing.F) {
	f.Add(400, `{"code":"duplicate_parameter","message":"SMS is already associated with another Contact","metadata":{"duplicate_identifiers":["SMS"]}}`)
	f.Add(502, `<html><body>Bad Gateway</body></html>`)
	f.Add(400, `{"metadata":{"duplicate_identifiers":[1,{"x":2},null,"email"]}}`)
	f.Add(429, `{"code":`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 100 || status > 999 {
			status = 400
		}
		resp := &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}
		e := newAPIError(http.MethodPost, "/contacts", resp, time.Time{})
		if e.Status != status {
			t.Fatalf("status %d, want %d", e.Status, status)
		}
		if msg := e.Error(); !utf8.ValidString(msg) && utf8.ValidString(body) {
			t.Fatalf("error text is not valid UTF-8: %q", msg)
		}
		for _, id := range e.DuplicateIdentifiers {
			if !strings.Contains(body, id) {
				t.Fatalf("duplicate identifier %q is not in the body", id)
			}
		}
	})
}
