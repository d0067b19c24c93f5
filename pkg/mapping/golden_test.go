package mapping

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenCase is one mapped line as written to a golden file.
type goldenCase struct {
	Case        string       `json:"case"`
	Contact     *Contact     `json:"contact,omitempty"`
	Fingerprint string       `json:"fingerprint,omitempty"`
	Error       *RecordError `json:"error,omitempty"`
}

// extendedOptions maps more than the seed: every standard field kind and
// custom attributes of every type.
func extendedOptions() Options {
	fields := DefaultFieldMapping()
	for src, attr := range map[string]string{
		"time_zone": "TIMEZONE", "dob": "DOB", "created_at": "CREATED_AT", "gender": "GENDER",
		"country": "COUNTRY", "last_coordinates": "COORDINATES", "random_bucket": "RANDOM_BUCKET",
		"push_opted_in_at": "PUSH_OPTED_IN_AT", "uninstalled_at": "UNINSTALLED_AT",
		"push_subscribe": "PUSH_STATUS", "nickname": "NICKNAME", "score": "SCORE", "vip": "VIP",
		"beta": "BETA", "newsletter": "NEWSLETTER", "interests": "INTERESTS", "profile": "PROFILE",
		"signup_date": "SIGNUP_DATE", "last_seen": "LAST_SEEN", "loyaltyPoints": "LOYALTY_POINTS_2",
	} {
		fields[src] = attr
	}
	return Options{
		Fields: fields,
		Types: map[string]string{
			"SCORE": TypeFloat, "VIP": TypeBoolean, "BETA": TypeBoolean, "NEWSLETTER": TypeBoolean,
			"SIGNUP_DATE": TypeDate, "LAST_SEEN": TypeDate, "LOYALTY_POINTS_2": TypeFloat,
		},
		DefaultRegion: "US",
	}
}

func TestMapGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"default", Options{}},
		{"extended", extendedOptions()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got := mapFile(t, m, filepath.Join("testdata", "users.jsonl"))
			golden := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run go test -update and review the diff):\n%s", golden, firstDiff(string(want), string(got)))
			}
		})
	}
}

// mapFile maps every line of path; a line starting with '#' names the case
// of the line after it.
func mapFile(t *testing.T, m *Mapper, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []goldenCase
	name := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			name = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			continue
		}
		gc := goldenCase{Case: name}
		c, err := m.Map([]byte(line))
		var re *RecordError
		switch {
		case errors.As(err, &re):
			gc.Error = re
		case err != nil:
			t.Fatalf("%s: Map returned a %T, want *RecordError: %v", name, err, err)
		default:
			gc.Contact, gc.Fingerprint = &c, c.Fingerprint()
		}
		out = append(out, gc)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, w, g)
		}
	}
	return "(no line differs)"
}
