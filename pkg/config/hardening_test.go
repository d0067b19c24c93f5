package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadRefusesLargeFiles (issue 9, item 10): a file over 1 MiB is refused
// with a clear error, before it is read whole.
func TestLoadRefusesLargeFiles(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.yaml")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: 100 MB on the file system's books, nothing on disk.
	if err := f.Truncate(100 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	start := time.Now()
	_, err = Load(huge)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "104857600 bytes; a config file may be at most 1048576 bytes (1 MiB)") {
		t.Errorf("Load(100 MB) = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusing a 100 MB file took %s: it was read", d)
	}

	// A device or pipe has no size: it is read up to the limit only.
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := Load("/dev/zero"); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 1 MiB") {
			t.Errorf("Load(/dev/zero) = %v", err)
		}
	}

	// Exactly 1 MiB is still read (and judged on its content).
	edge := filepath.Join(dir, "edge.yaml")
	body := minimal + "#" + strings.Repeat("x", MaxFileSize-len(minimal)-2) + "\n"
	if err := os.WriteFile(edge, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(edge); err != nil {
		t.Errorf("a valid file of exactly 1 MiB: %v", err)
	}

	// The limit holds for the expanded text too.
	big := strings.Repeat("a", 600<<10)
	_, err = parse("t.yaml", []byte(minimal+"nats:\n  url: ${BIG}${BIG}\n"), env(map[string]string{"BIG": big}))
	if err == nil || !strings.Contains(err.Error(), "t.yaml:5: ${BIG}: with the values of its variables the file exceeds 1048576 bytes") {
		t.Errorf("expanding past 1 MiB: %.300v", err)
	}
	if _, err := Parse("t.yaml", make([]byte, MaxFileSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Parse(1 MiB + 1) = %v", err)
	}
}

// TestErrorsNameVariablesNotValues (issue 9, item 11): a value that came
// from ${VAR} may be a secret; an error about it names the variable.
func TestErrorsNameVariablesNotValues(t *testing.T) {
	secret := "s3cr3t-T0ken\"with-quote"
	vars := env(map[string]string{"SECRET": secret, "HOST": "s3cr3t-host.example.com", "SCHEME": "http", "MULTI": "a\nb: c"})
	for _, tc := range []struct{ name, yaml, want string }{
		{"integer", minimal + "pipeline:\n  batch_size: ${SECRET}\n",
			`t.yaml:5: pipeline.batch_size: must be an integer (got "${SECRET}")`},
		{"url from two variables", "connectors:\n  braze:\n    instance_url: ${SCHEME}://${HOST}/\n",
			`t.yaml:3: connectors.braze.instance_url: plain http would send the API key in clear: use https (http is accepted only for localhost and loopback addresses, where the simulators run) (got "${SCHEME}://${HOST}/")`},
		{"log level", minimal + "    log_level: ${SECRET}\n",
			`t.yaml:4: connectors.braze.log_level: unknown log level "${SECRET}"; use one of error, warn, info, debug, verbose`},
		{"yaml syntax", minimal + "pipeline: [${HOST}\n",
			`invalid YAML: did not find expected ',' or ']'`},
		{"line break in a value", minimal + "nats:\n  url: ${MULTI}\n",
			`t.yaml:5: ${MULTI}: the value has a line break; a value must fit on its line`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse("t.yaml", []byte(tc.yaml), vars)
			if err == nil {
				t.Fatal("no error")
			}
			for _, v := range []string{"s3cr3t", "a\nb"} {
				if strings.Contains(err.Error(), v) {
					t.Errorf("the error shows a variable's value:\n%v", err)
				}
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}
