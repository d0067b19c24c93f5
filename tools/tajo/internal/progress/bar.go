package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Bar writes snapshots to a writer: redrawn in place on a terminal, as
// throttled plain lines elsewhere.
type Bar struct {
	mu        sync.Mutex
	w         io.Writer
	tty       bool
	every     time.Duration // plain mode: at most one line per interval
	now       func() time.Time
	start     time.Time
	lastPlain time.Time
	lastStage string
	lastWidth int
	drawn     bool
}

// Option changes how a Bar draws.
type Option func(*Bar)

// WithTerminal forces terminal (true) or plain (false) drawing instead of
// detecting it from the writer.
func WithTerminal(tty bool) Option { return func(b *Bar) { b.tty = tty } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(b *Bar) { b.now = now } }

// WithPlainInterval sets how often plain mode prints a line (default 2s).
func WithPlainInterval(d time.Duration) Option { return func(b *Bar) { b.every = d } }

// New returns a bar drawing on w, started now.
func New(w io.Writer, opts ...Option) *Bar {
	b := &Bar{w: w, tty: IsTerminal(w), every: 2 * time.Second, now: time.Now}
	for _, o := range opts {
		o(b)
	}
	b.start = b.now()
	return b
}

// Update draws s. Elapsed is filled in from the bar's own clock.
func (b *Bar) Update(s Snapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	s.Elapsed = now.Sub(b.start)
	line := Render(s)
	if b.tty {
		b.redraw(line)
		return
	}
	// A stage change is always worth a line: it is what a reader of a CI
	// log looks for. Otherwise one line per interval is enough.
	if b.drawn && s.Stage == b.lastStage && now.Sub(b.lastPlain) < b.every {
		return
	}
	b.lastPlain, b.lastStage, b.drawn = now, s.Stage, true
	fmt.Fprintln(b.w, line)
}

// Finish draws the final snapshot and ends the line, so whatever is printed
// next starts on a fresh line.
func (b *Bar) Finish(s Snapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s.Elapsed = b.now().Sub(b.start)
	line := Render(s)
	if b.tty {
		b.redraw(line)
		fmt.Fprintln(b.w)
		return
	}
	fmt.Fprintln(b.w, line)
}

// redraw rewrites the current terminal line. Padding with spaces rather than
// an ANSI erase keeps it working on terminals without escape support.
func (b *Bar) redraw(line string) {
	pad := b.lastWidth - len(line)
	b.lastWidth = len(line)
	fmt.Fprint(b.w, "\r", line)
	if pad > 0 {
		fmt.Fprintf(b.w, "%*s", pad, "")
	}
	b.drawn = true
}

// IsTerminal reports whether w is a character device (a terminal). It uses
// only the standard library: a pipe, a file or a buffer is not a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}
