package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The status page is served to anyone (it holds no data), with a policy
// that lets it run only its own script and call only its own origin; the
// figures it shows stay behind an API key.
func TestStatusPageServed(t *testing.T) {
	f := start(t)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(f.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, c := range []struct{ path, ctype, holds string }{
		{"/", "text/html", `<script src="/ui/status.js"`},
		{"/ui/status.js", "text/javascript", "Authorization"},
		{"/ui/status.css", "text/css", "body"},
	} {
		resp, body := get(c.path)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), c.ctype) || !strings.Contains(body, c.holds) {
			t.Errorf("GET %s: %d %s, want 200 %s holding %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.ctype, c.holds)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", c.path, csp, d)
			}
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: headers %v", c.path, resp.Header)
		}
	}
	// The key is kept in sessionStorage and sent as a header, never in a URL.
	_, js := get("/ui/status.js")
	if !strings.Contains(js, "sessionStorage") || strings.Contains(js, "localStorage") || strings.Contains(js, "?key=") {
		t.Error("status.js must keep the key in sessionStorage only and never put it in a URL")
	}
	for _, path := range []string{"/ui/other.js", "/ui/", "/index.html", "/statuspage/index.html"} {
		if resp, _ := get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if code, _ := f.do(t, "GET", "/v1/connectors/braze/status", "", nil); code != http.StatusUnauthorized {
		t.Errorf("the status the page shows answered %d without a key, want 401", code)
	}
}
