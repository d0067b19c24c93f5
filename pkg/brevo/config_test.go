package brevo

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"default base url", Config{APIKey: testKey}, ""},
		{"sandbox", Config{BaseURL: "http://127.0.0.1:9000/v3/", APIKey: testKey}, ""},
		{"plain http off loopback", Config{BaseURL: "http://api.brevo.com/v3", APIKey: testKey}, "plain http is allowed only for loopback"},
		{"missing key", Config{}, "APIKey is empty"},
		{"no scheme", Config{BaseURL: "api.brevo.com/v3", APIKey: testKey}, "scheme must be https"},
		{"query", Config{BaseURL: "https://api.brevo.com/v3?api-key=x", APIKey: testKey}, "no credentials, query"},
		{"unparsable", Config{BaseURL: "https://[::1", APIKey: testKey}, "does not parse"},
		{"negative timeout", Config{APIKey: testKey, Timeout: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if tt.cfg.BaseURL == "" && c.baseURL != DefaultBaseURL {
					t.Fatalf("base URL %q, want the default", c.baseURL)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New error = %v, want ErrInvalidConfig containing %q", err, tt.wantErr)
			}
			assertNoKey(t, err)
		})
	}
}

func TestConfigFormattingRedactsKey(t *testing.T) {
	cfg := Config{APIKey: testKey}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, cfg); strings.Contains(s, testKey) {
			t.Errorf("%s of Config reveals the key: %s", verb, s)
		}
	}
}
