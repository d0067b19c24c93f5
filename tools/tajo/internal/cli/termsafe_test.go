package cli

import (
	"encoding/json"
	"testing"
)

func TestSafeText(t *testing.T) {
	for in, want := range map[string]string{
		"plain ascii, é, 日本":    "plain ascii, é, 日本",
		"\x1b[2Jcleared":        `\x1b[2Jcleared`,
		"title\x1b]0;x\x07":     `title\x1b]0;x\x07`,
		"csi\u009b31m":          `csi\u009b31m`,
		"del\x7f":               `del\x7f`,
		"rtl\u202eexe.txt":      `rtl\u202eexe.txt`,
		"isolate\u2066x\u2069":  `isolate\u2066x\u2069`,
		"bad\xff\xfeutf8":       `bad\xff\xfeutf8`,
		"two\nlines\r\tand tab": `two\nlines\r\tand tab`,
	} {
		if got := safeText(in); got != want {
			t.Errorf("safeText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := safeLines("a\tb\nc\x1bd\n"); got != "a\tb\nc\\x1bd\n" {
		t.Errorf("safeLines keeps lines and tabs only: %q", got)
	}
}

func FuzzSafeText(f *testing.F) {
	for _, s := range []string{"\x1b[2J", "\u009b", "\u202e", "\xff", "a\nb", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{safeText(s), safeLines(s)} {
			if r, i, ok := rawControls(out); ok {
				t.Fatalf("%q -> %q: %U raw at %d", s, out, r, i)
			}
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		safe := safeJSON(b)
		if r, i, ok := rawControls(string(safe)); ok {
			t.Fatalf("safeJSON(%s) = %s: %U raw at %d", b, safe, r, i)
		}
		var back string
		if err := json.Unmarshal(safe, &back); err != nil || back != mustUnmarshal(t, b) {
			t.Fatalf("safeJSON changed the value: %q vs %q (%v)", back, s, err)
		}
	})
}

func mustUnmarshal(t *testing.T, b []byte) string {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}
