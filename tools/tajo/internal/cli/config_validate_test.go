package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	isolate(t)
	bad := filepath.Join("testdata", "config_validate_errors.yaml")
	out, errOut, err := tajo(t, "config", "validate", bad)
	if err == nil {
		t.Fatalf("exit 0 for a file with errors:\n%s", out)
	}
	golden(t, "config_validate_errors.golden", transcript("", out, errOut, err))
	if n := strings.Count(out, "\n"); n < 5 {
		t.Errorf("%d problems printed, want every one of the file's 5 or more:\n%s", n, out)
	}

	good := filepath.Join("testdata", "config_validate_ok.yaml")
	out, _, err = tajo(t, "config", "validate", good)
	if err != nil || out != good+": valid\n" {
		t.Errorf("valid file: %q, %v", out, err)
	}

	// Without FILE: $TAJO_CONFIG, else an error saying where to put one.
	if _, _, err := tajo(t, "config", "validate"); err == nil || !strings.Contains(err.Error(), "pass FILE") {
		t.Errorf("no file anywhere: %v", err)
	}
	t.Setenv("TAJO_CONFIG", good)
	if out, _, err := tajo(t, "config", "validate"); err != nil || !strings.Contains(out, "valid") {
		t.Errorf("TAJO_CONFIG: %q %v", out, err)
	}
}
