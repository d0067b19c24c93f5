package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

type stringer string

func (s stringer) String() string { return string(s) }

type record struct {
	Email string
	Count int
}

// TestHandlerRedactsEverywhere logs a secret through every way an attribute
// can reach a handler and checks the JSON line holds none of them.
func TestHandlerRedactsEverywhere(t *testing.T) {
	const key = "braze-key-0123456789"
	var buf bytes.Buffer
	log := New(&buf, Options{Secrets: []string{key}})
	log = log.With("with", "set by With "+key).WithGroup("g")
	log.Info("message for jane@example.com with "+key,
		"string", "call +33612345678",
		"err", fmt.Errorf("POST /contacts: %w", errors.New("api-key xkeysib-abc-123 refused")),
		"stringer", stringer("Bearer "+key),
		"bytes", []byte("to bob@example.org"),
		"struct", record{Email: "ann@example.net", Count: 3},
		"clean", record{Count: 4},
		slog.Group("inner", "email", "x@example.com", "n", 7),
		"valuer", slog.AnyValue(stringer("sms 555-123-4567")),
	)
	line := buf.String()
	for _, leaked := range []string{key, "jane@", "xkeysib-abc", "+33612345678", "bob@", "ann@", "x@example.com", "555-123-4567"} {
		if strings.Contains(line, leaked) {
			t.Errorf("log line holds %q:\n%s", leaked, line)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON line: %v\n%s", err, line)
	}
	if got["msg"] != "message for ***@example.com with ***" {
		t.Errorf("msg = %q", got["msg"])
	}
	if got["with"] != "set by With ***" {
		t.Errorf("with = %q", got["with"])
	}
	g, _ := got["g"].(map[string]any)
	if g["err"] != "POST /contacts: api-key xkeysib-*** refused" {
		t.Errorf("err = %q", g["err"])
	}
	if g["struct"] != "{Email:***@example.net Count:3}" {
		t.Errorf("struct with an email = %v, want its redacted text", g["struct"])
	}
	if clean, ok := g["clean"].(map[string]any); !ok || clean["Count"] != 4.0 {
		t.Errorf("a value with nothing to redact must keep its shape: %v", g["clean"])
	}
	if inner, _ := g["inner"].(map[string]any); inner["email"] != "***@example.com" || inner["n"] != 7.0 {
		t.Errorf("group = %v", g["inner"])
	}
}

func TestHandlerLeavesRecordAlone(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(slog.NewTextHandler(&buf, nil), nil)
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "to a@b.io", 0)
	rec.AddAttrs(slog.String("email", "c@d.io"))
	if err := h.Handle(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if rec.Message != "to a@b.io" {
		t.Errorf("the caller's record was modified: %q", rec.Message)
	}
	if !strings.Contains(buf.String(), `msg="to ***@b.io" email=***@d.io`) {
		t.Errorf("text output: %s", buf.String())
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		level string
		debug bool
		want  slog.Level
	}{
		{"", false, slog.LevelInfo},
		{"info", false, slog.LevelInfo},
		{"ERROR", false, slog.LevelError},
		{"warn", false, slog.LevelWarn},
		{"debug", false, slog.LevelDebug},
		{"verbose", false, LevelVerbose},
		{"error", true, slog.LevelDebug},
		{"verbose", true, LevelVerbose},
		{"nonsense", false, slog.LevelInfo},
	}
	for _, tt := range tests {
		if got := ParseLevel(tt.level, tt.debug); got != tt.want {
			t.Errorf("ParseLevel(%q, %v) = %v, want %v", tt.level, tt.debug, got, tt.want)
		}
	}
}

func TestVerboseLevelIsNamed(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, Options{Format: Text, Level: "verbose"})
	log.Log(t.Context(), LevelVerbose, "wire detail")
	log.Debug("debug detail")
	out := buf.String()
	if !strings.Contains(out, "level=VERBOSE msg=\"wire detail\"") || !strings.Contains(out, "level=DEBUG") {
		t.Errorf("verbose logger output:\n%s", out)
	}
	buf.Reset()
	New(&buf, Options{Format: Text, Level: "debug"}).Log(t.Context(), LevelVerbose, "hidden")
	if buf.Len() != 0 {
		t.Errorf("debug level printed a verbose line: %s", buf.String())
	}
}

// TestHandlerRedactsInternationalEmails: an address with letters outside
// ASCII is redacted in the log line (tajo.log) like any other, also when
// an attribute holds it as escaped JSON (a raw export line).
func TestHandlerRedactsInternationalEmails(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, Options{})
	log.Warn("invalid email jörg.müller@exämple.com",
		"err", fmt.Errorf("mapping user u-1: %w", errors.New("email \"δοκιμή@παράδειγμα.δοκιμή\" rejected")),
		"line", `{"email":"j\u00f6rg.m\u00fcller@ex\u00e4mple.com"}`)
	line := buf.String()
	for _, leaked := range []string{"jörg", "müller", "δοκιμή@", `j\\u00f6rg`, `m\\u00fcller`} {
		if strings.Contains(line, leaked) {
			t.Errorf("log line holds %q:\n%s", leaked, line)
		}
	}
	if !strings.Contains(line, "***@exämple.com") {
		t.Errorf("want the domain kept:\n%s", line)
	}
}
