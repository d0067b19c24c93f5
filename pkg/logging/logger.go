package logging

import (
	"io"
	"log/slog"
	"strings"
)

// LevelVerbose is below debug: `log_level: verbose` asks for everything.
const LevelVerbose = slog.LevelDebug - 4

// Format of the log lines.
type Format int

const (
	JSON Format = iota // one JSON object a line: for services and log shippers
	Text               // key=value: for a file a person reads
)

// Options configure New.
type Options struct {
	Format Format
	// Level is the config's log_level: error|warn|info|debug|verbose;
	// anything else is info.
	Level string
	// Debug is the config's debug flag: at least debug level.
	Debug bool
	// Secrets are the configured API keys, masked wherever they appear.
	Secrets []string
}

// ParseLevel maps the config's level names onto slog's; "verbose" is more
// than debug, and debug: true lowers any level to at least debug.
func ParseLevel(s string, debug bool) slog.Level {
	var l slog.Level
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error":
		l = slog.LevelError
	case "warn", "warning":
		l = slog.LevelWarn
	case "debug":
		l = slog.LevelDebug
	case "verbose":
		l = LevelVerbose
	default:
		l = slog.LevelInfo
	}
	if debug {
		l = min(l, slog.LevelDebug)
	}
	return l
}

// New returns a redacting logger writing to w.
func New(w io.Writer, o Options) *slog.Logger {
	ho := &slog.HandlerOptions{Level: ParseLevel(o.Level, o.Debug), ReplaceAttr: levelName}
	var next slog.Handler
	if o.Format == Text {
		next = slog.NewTextHandler(w, ho)
	} else {
		next = slog.NewJSONHandler(w, ho)
	}
	return slog.New(NewHandler(next, NewRedactor(o.Secrets...)))
}

// levelName prints LevelVerbose as VERBOSE instead of DEBUG-4.
func levelName(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.LevelKey {
		if l, ok := a.Value.Any().(slog.Level); ok && l <= LevelVerbose {
			a.Value = slog.StringValue("VERBOSE")
		}
	}
	return a
}
