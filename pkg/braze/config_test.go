package braze

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
		{"ok", Config{BaseURL: "https://rest.iad-01.braze.com", APIKey: testKey}, ""},
		{"ok with path and http sandbox", Config{BaseURL: "http://127.0.0.1:8080/braze/", APIKey: testKey}, ""},
		{"plain http off loopback", Config{BaseURL: "http://rest.iad-01.braze.com", APIKey: testKey}, "plain http is allowed only for loopback"},
		{"missing key", Config{BaseURL: "https://rest.iad-01.braze.com"}, "APIKey is empty"},
		{"blank key", Config{BaseURL: "https://rest.iad-01.braze.com", APIKey: "  "}, "APIKey is empty"},
		{"missing url", Config{APIKey: testKey}, "BaseURL is empty"},
		{"no scheme", Config{BaseURL: "rest.iad-01.braze.com", APIKey: testKey}, "scheme must be https"},
		{"ftp", Config{BaseURL: "ftp://rest.iad-01.braze.com", APIKey: testKey}, "scheme must be https"},
		{"query", Config{BaseURL: "https://rest.iad-01.braze.com?x=1", APIKey: testKey}, "no credentials, query"},
		{"userinfo", Config{BaseURL: "https://u:p@rest.iad-01.braze.com", APIKey: testKey}, "no credentials, query"},
		{"unparsable", Config{BaseURL: "https://[::1", APIKey: testKey}, "does not parse"},
		{"negative timeout", Config{BaseURL: "https://rest.iad-01.braze.com", APIKey: testKey, Timeout: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
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
	cfg := Config{BaseURL: "https://rest.iad-01.braze.com", APIKey: testKey}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, cfg); strings.Contains(s, testKey) {
			t.Errorf("%s of Config reveals the key: %s", verb, s)
		}
	}
}
