package restcall

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestCheckBaseURL(t *testing.T) {
	tests := []struct {
		name, url, wantErr string
	}{
		{"https", "https://rest.iad-01.braze.com", ""},
		{"https with path", "https://api.brevo.com/v3", ""},
		{"http sandbox", "http://127.0.0.1:8080/braze/", ""},
		{"http localhost", "http://localhost:9000/v3", ""},
		{"http ipv6 loopback", "http://[::1]:9000", ""},
		{"plain http off loopback", "http://rest.iad-01.braze.com", "plain http is allowed only for loopback"},
		{"plain http to a .localhost name", "http://sandbox.localhost:9000", "plain http is allowed only for loopback"},
		{"no scheme", "rest.iad-01.braze.com", "scheme must be https"},
		{"ftp", "ftp://rest.iad-01.braze.com", "scheme must be https"},
		{"query", "https://api.brevo.com/v3?api-key=x", "no credentials, query"},
		{"fragment", "https://api.brevo.com/v3#x", "no credentials, query"},
		{"userinfo", "https://u:p@rest.iad-01.braze.com", "no credentials, query"},
		{"unparsable", "https://[::1", "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckBaseURL(tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckBaseURL(%q) = %v", tt.url, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), fmt.Sprintf("BaseURL %q", tt.url)) {
				t.Fatalf("CheckBaseURL(%q) = %v, want BaseURL %q ... %q", tt.url, err, tt.url, tt.wantErr)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.3.2.1": true, "::1": true,
		"10.0.0.1": false, "example.com": false, "localhost.example.com": false, "": false,
		// Resolved by DNS, sent through a proxy: not this machine.
		"sandbox.localhost": false, "localhost.": false, "127.0.0.1.nip.io": false,
	} {
		if got := Loopback(host); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestNewHTTPClient(t *testing.T) {
	c := NewHTTPClient()
	if c.Timeout != 0 {
		t.Fatalf("Timeout = %v, want none: downloads are bounded by their context", c.Timeout)
	}
	tr, ok := c.Transport.(*http.Transport)
	if !ok || tr.TLSClientConfig == nil || tr.TLSClientConfig.MinVersion == 0 || tr.ResponseHeaderTimeout == 0 {
		t.Fatalf("Transport = %#v, want TLS minimum and header timeout", c.Transport)
	}
}
