package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds config files, as outside input, to the parser: it never
// panics, an error never shows a variable's value, and a file it accepts
// validates again in code.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"tajo.example.yaml", "product_page.yaml", "product_page_nested.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimal + "sync:\n  users: ${SECRET}\nlists: {a: ${SECRET}}\n"))
	f.Add([]byte("connectors: {braze: {instance_url: '${SECRET}'}}\n"))
	const secret = "Zq9-fuzz-secret-value"
	vars := env(map[string]string{"SECRET": secret, "BRAZE_INSTANCE_URL": "", "NATS_URL": ""})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parse("f.yaml", data, vars)
		if err != nil {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("an error shows the value of ${SECRET}:\n%v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parse accepted what Validate refuses: %v", err)
		}
		_ = cfg.Notices()
	})
}
