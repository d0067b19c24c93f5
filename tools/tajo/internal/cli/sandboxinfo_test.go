package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestDescribeSandbox(t *testing.T) {
	var buf bytes.Buffer
	err := describeSandbox(&buf, sandboxInfo{
		BrazeURL: "http://127.0.0.1:4010", BrazeAPIKey: "braze-key",
		BrevoURL: "http://127.0.0.1:4011/v3", BrevoAPIKey: "brevo-key",
		Users: 10000, Seed: 42,
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "describe_sandbox.golden", buf.Bytes())
}
