package cli

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tajo-sync/tajo/pkg/logging"
)

// safeText makes s safe to print for a person on a terminal: control
// characters (ESC and the rest of C0, DEL, C1 such as the one-byte CSI),
// bidirectional overrides and isolates, and bytes that are not UTF-8 are
// shown escaped (\x1b, \u202e, \xff). A dead letter's name, a vendor's error
// or a record's field then cannot move the cursor, rewrite or clear the
// screen, retitle the window, hide a line or reorder what is shown. Line
// breaks are escaped too: a value stays on its row.
func safeText(s string) string { return escapeControls(s, false) }

// Printable is s with its control characters escaped but its lines kept:
// for a command's error, which may quote a vendor's answer, before it is
// printed on the terminal.
func Printable(s string) string { return safeLines(s) }

// safeLines is safeText for text of several lines: its line breaks (and
// tabs) are kept, everything else is escaped alike.
func safeLines(s string) string { return escapeControls(s, true) }

func escapeControls(s string, keepLines bool) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, n, keepLines) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s // the common case: nothing to escape
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !unsafeRune(r, n, keepLines):
			b.WriteString(s[i : i+n])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

func unsafeRune(r rune, size int, keepLines bool) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true // not UTF-8
	case keepLines && (r == '\n' || r == '\t'):
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true // C0, DEL, C1
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true // bidi embeddings, overrides, isolates and marks
	}
	return false
}

// piiFlag is the flag that shows e-mails and phone numbers unmasked.
const piiFlag = "show-pii"

// maskPII masks e-mail addresses (keeping the domain) and phone numbers in
// s, by the Unicode-aware rule the logs use, unless show is set.
func maskPII(s string, show bool) string {
	if show {
		return s
	}
	var r *logging.Redactor // patterns only
	return r.String(s)
}

// safeJSON escapes, as \uXXXX, the characters encoding/json leaves raw
// that a terminal acts on: DEL, C1 controls (U+009B is a one-byte CSI), bidi
// overrides. They only occur inside strings, where the escape is valid
// JSON and decodes to the same text.
func safeJSON(b []byte) []byte {
	s := string(b)
	var out strings.Builder
	last := 0
	for i, r := range s {
		if r == 0x7f || r >= 0x80 && unsafeRune(r, utf8.RuneLen(r), true) {
			out.WriteString(s[last:i])
			fmt.Fprintf(&out, `\u%04x`, r)
			last = i + utf8.RuneLen(r)
		}
	}
	if last == 0 {
		return b
	}
	out.WriteString(s[last:])
	return []byte(out.String())
}
