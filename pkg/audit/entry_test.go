package audit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/restcall"
)

func TestTemplate(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain route", "/users/export/segment", "/users/export/segment"},
		{"query dropped", "/segments/list?page=2", "/segments/list"},
		{"fragment dropped", "/a#frag", "/a"},
		{"numeric id", "/contacts/lists/12/contacts/add", "/contacts/lists/{id}/contacts/add"},
		{"process id", "/processes/4711", "/processes/{id}"},
		{"placeholder kept", "/contacts/{identifier}", "/contacts/{identifier}"},
		{"email replaced", "/contacts/jane%40example.com", "/contacts/{id}"},
		{"raw email replaced", "/contacts/jane@example.com", "/contacts/{id}"},
		{"export object key", "/_exports/3f9a2c7e1b.zip", "/_exports/{id}"},
		{"long word is a token", "/x/abcdefghijklmnopqrstuvwxyzabcdefgh", "/x/{id}"},
		{"catalog name kept", "/catalogs/products/items", "/catalogs/products/items"},
		{"empty", "", "/"},
		{"trailing slash", "/contacts/", "/contacts/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Template(tt.in); got != tt.want {
				t.Errorf("Template(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		status int
		err    error
		want   string
	}{
		{"success", 200, nil, ""},
		{"created", 201, nil, ""},
		{"unauthorized", 401, &braze.APIError{StatusError: restcall.StatusError{Status: 401}}, ClassUnauthorized},
		{"forbidden", 403, &brevo.APIError{StatusError: restcall.StatusError{Status: 403}}, ClassForbidden},
		{"not found", 404, errors.New("x"), ClassNotFound},
		{"throttled", 429, errors.New("x"), ClassRateLimited},
		{"other 4xx", 400, errors.New("x"), ClassClient},
		{"5xx", 503, errors.New("x"), ClassServer},
		{"export not ready", 403, fmt.Errorf("GET /x: %w (status 403)", braze.ErrExportNotReady), ClassNotReady},
		{"bad body", 200, errors.New("decoding response"), ClassDecode},
		{"timeout", 0, &braze.TransportError{Err: context.DeadlineExceeded}, ClassTimeout},
		{"canceled", 0, &brevo.TransportError{Err: context.Canceled}, ClassCanceled},
		{"connection refused", 0, &brevo.TransportError{Err: errors.New("connection refused")}, ClassTransport},
		{"http client timeout", 0, &braze.TransportError{Err: timeoutErr{}}, ClassTimeout},
		{"unknown", 0, errors.New("odd"), ClassOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.status, tt.err); got != tt.want {
				t.Errorf("Classify(%d, %v) = %q, want %q", tt.status, tt.err, got, tt.want)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestEntryRoundTrip(t *testing.T) {
	e := Entry{Time: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC), Vendor: braze.Vendor, Method: http.MethodPost,
		Path: "/users/export/segment", Status: 201, Duration: 42 * time.Millisecond, Attempt: 2,
		RunID: "20260102T030405Z-abcdef", Service: "extractor"}
	data, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	e.V = SchemaVersion
	if !got.Time.Equal(e.Time) {
		t.Errorf("time %v, want %v", got.Time, e.Time)
	}
	got.Time = e.Time
	if got != e {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
	}
	if e.Subject() != "audit.braze" {
		t.Errorf("subject %q", e.Subject())
	}
	if _, err := Decode([]byte{0x80}); err == nil {
		t.Error("an empty map decoded as an entry")
	}
}
