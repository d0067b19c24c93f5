package brevo

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// A 307 from the Brevo URL to another host is an error that names the
// target: neither the api-key nor the import body goes there.
func TestRedirectIsRefusedAndKeepsTheKey(t *testing.T) {
	var calls, keys atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("api-key") != "" {
			keys.Add(1)
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"processId":1}`))
	}))
	defer elsewhere.Close()
	redirect := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}
	for name, mutate := range map[string]func(*Config){
		"default client": func(*Config) {},
		// As bootstrap builds it: a client of its own around a transport.
		"caller's client": func(c *Config) { c.HTTPClient = &http.Client{Transport: restcall.NewTransport()} },
	} {
		t.Run(name, func(t *testing.T) {
			c, rec := newTestClient(t, redirect, mutate)
			_, err := c.ImportContacts(context.Background(), ImportRequest{
				Contacts: []ImportContact{{Email: "a@example.com"}}, ListIDs: []int64{1},
			})
			if !errors.Is(err, restcall.ErrRedirect) || !strings.Contains(err.Error(), elsewhere.URL+"/contacts/import") {
				t.Fatalf("want a redirect error naming %s, got %v", elsewhere.URL, err)
			}
			assertNoKey(t, err)
			if Retryable(err) {
				t.Fatal("a redirect must not be retried")
			}
			if calls := rec.All(); len(calls) != 1 || calls[0].Status != http.StatusTemporaryRedirect {
				t.Fatalf("observed %+v, want the one 307", calls)
			}
		})
	}
	if calls.Load() != 0 || keys.Load() != 0 {
		t.Fatalf("the redirect target got %d calls, %d with the api-key", calls.Load(), keys.Load())
	}
}
