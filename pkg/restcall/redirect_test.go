package restcall

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// A vendor client follows no redirect: the 3xx comes back as the answer,
// and whatever the redirect pointed at is never called.
func TestClientFollowsNoRedirect(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal?sig=secret", http.StatusTemporaryRedirect)
	}))
	defer vendor.Close()

	for name, c := range map[string]*http.Client{
		"default":          NewHTTPClient(),
		"caller's client":  Client(&http.Client{}),
		"caller's nothing": Client(nil),
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, vendor.URL+"/contacts", strings.NewReader(`{"email":"a@b.c"}`))
			req.Header.Set("api-key", "xkeysib-secret")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			CloseBody(resp.Body)
			if !IsRedirect(resp.StatusCode) {
				t.Fatalf("status %d, want the redirect itself", resp.StatusCode)
			}
			err = RedirectError(resp)
			if !errors.Is(err, ErrRedirect) || !strings.Contains(err.Error(), other.URL+"/steal") || strings.Contains(err.Error(), "secret") {
				t.Fatalf("RedirectError = %v: want ErrRedirect naming the target without its query", err)
			}
		})
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect target was called %d times", n)
	}
	// Client leaves the caller's client as it was.
	mine := &http.Client{}
	_ = Client(mine)
	if mine.CheckRedirect != nil {
		t.Fatal("Client changed the caller's client")
	}
}

// Loopback calls never go through a proxy, even when the environment names
// one for everything; other hosts still do.
func TestLoopbackIsNeverProxied(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)
	saved := proxyFromEnvironment
	proxyFromEnvironment = func(*http.Request) (*url.URL, error) { return proxyURL, nil } // HTTP_PROXY=... for every host
	defer func() { proxyFromEnvironment = saved }()

	sandbox := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "direct") }))
	defer sandbox.Close()
	port := sandbox.URL[strings.LastIndex(sandbox.URL, ":")+1:]
	c := NewHTTPClient()
	for _, base := range []string{sandbox.URL, "http://localhost:" + port, "http://LOCALHOST:" + port} {
		resp, err := c.Get(base + "/v3/account")
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "direct" {
			t.Fatalf("%s: answered %q by %d, want the sandbox directly", base, body, resp.StatusCode)
		}
	}
	if n := proxied.Load(); n != 0 {
		t.Fatalf("%d loopback calls went through the proxy", n)
	}
	for _, u := range []string{"http://sandbox.localhost:" + port + "/", "https://api.brevo.com/v3/account"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if p, err := Proxy(req); err != nil || p == nil || p.Host != proxyURL.Host {
			t.Fatalf("Proxy(%s) = %v, %v: want the environment's proxy", u, p, err)
		}
	}
}
