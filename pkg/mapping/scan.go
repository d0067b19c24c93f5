package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Map spends most of its time reading JSON: an export line is a few KB of
// campaigns, canvases and devices around the dozen fields we map, and
// encoding/json (validate, then decode into a struct) took ~40 µs of a 50 µs
// Map. scanObject validates the line in one pass and hands back the raw
// bytes of the top-level values, without copying or decoding what is not
// mapped. It validates JSON fully (same grammar as encoding/json, including
// escapes and nesting depth) except that invalid UTF-8 inside strings is
// accepted, as encoding/json does.

// maxDepth bounds nesting, like encoding/json, so a hostile line cannot
// exhaust the stack.
const maxDepth = 10000

var errSyntax = errors.New("invalid JSON")

// syntaxError says where a line stops being JSON.
func syntaxError(data []byte, i int, what string) error {
	if i >= len(data) {
		return fmt.Errorf("%w: unexpected end of input, %s", errSyntax, what)
	}
	return fmt.Errorf("%w: unexpected %q at offset %d, %s", errSyntax, data[i], i, what)
}

// scanObject checks that data is exactly one JSON object and calls visit
// with each top-level key (raw, still quoted-escaped only if hasEscape) and
// the bytes of its value.
func scanObject(data []byte, visit func(key []byte, hasEscape bool, val []byte)) error {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return syntaxError(data, i, "expecting '{'")
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return trailing(data, i+1)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return syntaxError(data, i, "expecting a key")
		}
		end, esc, err := skipString(data, i)
		if err != nil {
			return err
		}
		key := data[i+1 : end-1]
		i = skipWS(data, end)
		if i >= len(data) || data[i] != ':' {
			return syntaxError(data, i, "expecting ':'")
		}
		i = skipWS(data, i+1)
		vend, err := skipValue(data, i, 1)
		if err != nil {
			return err
		}
		visit(key, esc, data[i:vend])
		i = skipWS(data, vend)
		if i >= len(data) {
			return syntaxError(data, i, "expecting ',' or '}'")
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case '}':
			return trailing(data, i+1)
		default:
			return syntaxError(data, i, "expecting ',' or '}'")
		}
	}
}

// unescapeKey decodes a key that contains escapes.
func unescapeKey(key []byte) string {
	var s string
	quoted := make([]byte, 0, len(key)+2)
	quoted = append(append(append(quoted, '"'), key...), '"')
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "" // skipString already validated it; unreachable
	}
	return s
}

func trailing(data []byte, i int) error {
	if i = skipWS(data, i); i != len(data) {
		return syntaxError(data, i, "after the end of the object")
	}
	return nil
}

func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the offset just past the value starting at i.
func skipValue(data []byte, i, depth int) (int, error) {
	if i >= len(data) {
		return i, syntaxError(data, i, "expecting a value")
	}
	switch c := data[i]; {
	case c == '"':
		end, _, err := skipString(data, i)
		return end, err
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return i, fmt.Errorf("%w: nested more than %d levels", errSyntax, maxDepth)
		}
		return skipContainer(data, i, depth+1)
	case c == 't':
		return skipLiteral(data, i, "true")
	case c == 'f':
		return skipLiteral(data, i, "false")
	case c == 'n':
		return skipLiteral(data, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(data, i)
	}
	return i, syntaxError(data, i, "expecting a value")
}

func skipContainer(data []byte, i, depth int) (int, error) {
	object := data[i] == '{'
	closer := byte(']')
	if object {
		closer = '}'
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == closer {
		return i + 1, nil
	}
	for {
		if object {
			if i >= len(data) || data[i] != '"' {
				return i, syntaxError(data, i, "expecting a key")
			}
			end, _, err := skipString(data, i)
			if err != nil {
				return i, err
			}
			i = skipWS(data, end)
			if i >= len(data) || data[i] != ':' {
				return i, syntaxError(data, i, "expecting ':'")
			}
			i = skipWS(data, i+1)
		}
		end, err := skipValue(data, i, depth)
		if err != nil {
			return i, err
		}
		i = skipWS(data, end)
		if i >= len(data) {
			return i, syntaxError(data, i, "in an unterminated object or array")
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case closer:
			return i + 1, nil
		default:
			return i, syntaxError(data, i, "expecting ',' or a closing bracket")
		}
	}
}

// strSpecial marks the bytes that end the fast run inside a string: the
// closing quote, an escape, and control characters (invalid in JSON).
var strSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// skipString returns the offset past the closing quote of the string at i,
// and whether it contains escapes. Strings are most of an export line, so
// the plain bytes are skipped in a tight loop.
func skipString(data []byte, i int) (int, bool, error) {
	esc := false
	j := i + 1
	for {
		for j < len(data) && !strSpecial[data[j]] {
			j++
		}
		if j >= len(data) {
			return len(data), esc, syntaxError(data, len(data), "in an unterminated string")
		}
		switch c := data[j]; {
		case c == '"':
			return j + 1, esc, nil
		case c == '\\':
			esc = true
			j++
			if j >= len(data) {
				return len(data), esc, syntaxError(data, len(data), "in an unterminated string")
			}
			switch data[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(data) || !isHex(data[j+1]) || !isHex(data[j+2]) || !isHex(data[j+3]) || !isHex(data[j+4]) {
					return j, esc, syntaxError(data, j, "in a \\u escape")
				}
				j += 4
			default:
				return j, esc, syntaxError(data, j, "in a string escape")
			}
			j++
		default:
			return j, esc, syntaxError(data, j, "control character in a string")
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func skipLiteral(data []byte, i int, lit string) (int, error) {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return i, syntaxError(data, i, "in a literal")
	}
	return i + len(lit), nil
}

// skipNumber follows the JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func skipNumber(data []byte, i int) (int, error) {
	start := i
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		return start, syntaxError(data, i, "in a number")
	}
	if i < len(data) && data[i] == '.' {
		i++
		d := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == d {
			return start, syntaxError(data, i, "after a decimal point")
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		d := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == d {
			return start, syntaxError(data, i, "in an exponent")
		}
	}
	return i, nil
}
