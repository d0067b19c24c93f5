package gen

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Hand-written JSON appending: encoding/json on maps would cost ten times the
// budget of a line (a benchmark streams a million users).

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping what RFC 8259 requires
// and replacing invalid UTF-8 like encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// enc writes one JSON object, skipping keys the filter does not want.
type enc struct {
	b       []byte
	fields  int // fields written in the innermost open object
	filter  *Filter
	removed Removed // fields taken off this user's profile
}

func (e *enc) want(k string) bool {
	return (e.filter == nil || e.filter.Fields == nil || e.filter.Fields[k]) && !e.removed.has(k)
}

func (e *enc) key(k string) {
	if e.fields > 0 {
		e.b = append(e.b, ',')
	}
	e.fields++
	e.b = append(e.b, '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, '"', ':')
}

func (e *enc) str(k, v string) {
	e.key(k)
	e.b = appendString(e.b, v)
}

func (e *enc) int(k string, v int) {
	e.key(k)
	e.b = strconv.AppendInt(e.b, int64(v), 10)
}

func (e *enc) bool(k string, v bool) {
	e.key(k)
	e.b = strconv.AppendBool(e.b, v)
}

// cents writes an amount of money as a JSON number with two decimals.
func (e *enc) cents(k string, c int) {
	e.key(k)
	e.b = strconv.AppendInt(e.b, int64(c/100), 10)
	e.b = append(e.b, '.', byte('0'+c/10%10), byte('0'+c%10))
}

// open starts a nested object or array under k; hand the result to close.
func (e *enc) open(k string, brace byte) int {
	e.key(k)
	return e.begin(brace)
}

// openElem starts an object or array as the next element of an open array.
func (e *enc) openElem(brace byte) int {
	if e.fields > 0 {
		e.b = append(e.b, ',')
	}
	e.fields++
	return e.begin(brace)
}

func (e *enc) begin(brace byte) int {
	saved := e.fields
	e.fields = 0
	e.b = append(e.b, brace)
	return saved
}

func (e *enc) close(saved int, brace byte) {
	e.b = append(e.b, brace)
	e.fields = saved
}

// elemStr appends a string element of an open array.
func (e *enc) elemStr(v string) {
	if e.fields > 0 {
		e.b = append(e.b, ',')
	}
	e.fields++
	e.b = appendString(e.b, v)
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10%10), byte('0'+v%10)) }

func appendDate(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, '-')
	b = append2(b, int(m))
	b = append(b, '-')
	return append2(b, d)
}

func appendClock(b []byte, t time.Time) []byte {
	h, mi, s := t.Clock()
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	return append2(b, s)
}

// appendISO writes "2024-05-01T10:11:12Z".
func appendISO(b []byte, unix int64) []byte {
	t := time.Unix(unix, 0).UTC()
	b = appendDate(b, t)
	b = append(b, 'T')
	b = appendClock(b, t)
	return append(b, 'Z')
}

// appendBrazeTime writes Braze's own export format, "2020-07-10 15:00:00.000 UTC".
func appendBrazeTime(b []byte, unix int64) []byte {
	t := time.Unix(unix, 0).UTC()
	b = appendDate(b, t)
	b = append(b, ' ')
	b = appendClock(b, t)
	return append(b, ".000 UTC"...)
}

// appendISOOffset writes "2024-05-01T12:11:12.345+02:00": the same instant
// as unix seen from a zone offsetHours east of UTC.
func appendISOOffset(b []byte, unix int64, millis, offsetHours int) []byte {
	t := time.Unix(unix+int64(offsetHours)*3600, 0).UTC()
	b = appendDate(b, t)
	b = append(b, 'T')
	b = appendClock(b, t)
	b = append(b, '.', byte('0'+millis/100%10), byte('0'+millis/10%10), byte('0'+millis%10))
	sign := byte('+')
	if offsetHours < 0 {
		sign, offsetHours = '-', -offsetHours
	}
	b = append(b, sign)
	b = append2(b, offsetHours)
	return append(b, ":00"...)
}

// appendFolded appends s lower-cased and reduced to [a-z0-9] (accents
// folded, anything else dropped), as people's names become email addresses.
func appendFolded(b []byte, s string) []byte {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b = append(b, byte(r))
		case r >= 'A' && r <= 'Z':
			b = append(b, byte(r-'A'+'a'))
		default:
			if f := fold(r); f != "" {
				b = append(b, f...)
			}
		}
	}
	return b
}

func fold(r rune) string {
	switch r {
	case 'á', 'à', 'â', 'ä', 'ã', 'å':
		return "a"
	case 'é', 'è', 'ê', 'ë', 'É':
		return "e"
	case 'í', 'ì', 'î', 'ï':
		return "i"
	case 'ó', 'ò', 'ô', 'ö', 'õ', 'ø', 'Ó':
		return "o"
	case 'ú', 'ù', 'û', 'ü':
		return "u"
	case 'ç':
		return "c"
	case 'ñ':
		return "n"
	case 'ß':
		return "ss"
	case 'ł', 'Ł':
		return "l"
	}
	return ""
}
