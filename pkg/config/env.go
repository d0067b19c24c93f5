package config

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// lineError is a problem found before the YAML is parsed, located by line.
type lineError struct {
	line int
	msg  string
}

// expansion is a ${NAME} replaced by value on line: errors about that line
// show the name instead of the value, which may be a secret.
type expansion struct {
	line        int
	name, value string
}

// expandEnv replaces ${NAME} and ${NAME:-default} with values from lookup.
// Comments are left alone, so that a commented-out line never needs its
// variable set; $${ writes a literal ${. An unset variable without a
// default is an error rather than an empty string: an empty instance_url
// or NATS url silently changes what tajo does.
func expandEnv(data []byte, lookup func(string) (string, bool)) ([]byte, []lineError) {
	out, _, errs := expandEnvTracked(data, lookup)
	return out, errs
}

// expandEnvTracked is expandEnv that also returns every expansion made.
func expandEnvTracked(data []byte, lookup func(string) (string, bool)) ([]byte, []expansion, []lineError) {
	var out bytes.Buffer
	out.Grow(len(data))
	var errs []lineError
	var done []expansion
	for lineNo, line := range bytes.SplitAfter(data, []byte("\n")) {
		body, comment := splitComment(line)
		for i := 0; i < len(body); i++ {
			c := body[i]
			if c != '$' || i+1 >= len(body) {
				out.WriteByte(c)
				continue
			}
			if body[i+1] == '$' && i+2 < len(body) && body[i+2] == '{' {
				out.WriteString("${")
				i += 2
				continue
			}
			if body[i+1] != '{' {
				out.WriteByte(c)
				continue
			}
			end := bytes.IndexByte(body[i:], '}')
			if end < 0 {
				errs = append(errs, lineError{lineNo + 1, "unterminated ${ (write $${ for a literal ${)"})
				out.Write(body[i:])
				break
			}
			expr := string(body[i+2 : i+end])
			val, err := expandOne(expr, lookup)
			switch {
			case err != nil:
				errs = append(errs, lineError{lineNo + 1, err.Error()})
			case strings.ContainsAny(val, "\r\n"):
				// A line break would change the file's structure (and every
				// line number after it).
				errs = append(errs, lineError{lineNo + 1, fmt.Sprintf("${%s}: the value has a line break; a value must fit on its line", expr)})
				val = ""
			case out.Len()+len(val) > MaxFileSize:
				errs = append(errs, lineError{lineNo + 1, fmt.Sprintf("${%s}: with the values of its variables the file exceeds %d bytes (1 MiB)", expr, MaxFileSize)})
				return out.Bytes(), done, errs
			}
			if val != "" {
				name, _, _ := strings.Cut(expr, ":-")
				done = append(done, expansion{line: lineNo + 1, name: name, value: val})
			}
			out.WriteString(val)
			i += end
		}
		out.Write(comment)
	}
	return out.Bytes(), done, errs
}

// hideValues rewrites msg, an error about line, so that no value expanded on
// that line appears in it: in each quoted string of msg (errors quote the
// values they echo), each value shows as the ${NAME} it came from. Longer
// values first, so that a value inside another is not half replaced.
func hideValues(msg string, line int, done []expansion) string {
	var here []expansion
	for _, x := range done {
		if x.line == line {
			here = append(here, x)
		}
	}
	if len(here) == 0 {
		return msg
	}
	sort.SliceStable(here, func(i, j int) bool { return len(here[i].value) > len(here[j].value) })
	var b strings.Builder
	for i := 0; i < len(msg); {
		q, err := strconv.QuotedPrefix(msg[i:])
		if msg[i] != '"' || err != nil {
			b.WriteByte(msg[i])
			i++
			continue
		}
		i += len(q)
		for _, x := range here {
			escaped := strconv.Quote(x.value)
			q = strings.ReplaceAll(q, escaped[1:len(escaped)-1], "${"+x.name+"}")
		}
		b.WriteString(q)
	}
	return b.String()
}

func expandOne(expr string, lookup func(string) (string, bool)) (string, error) {
	name, def, hasDef := expr, "", false
	if i := bytes.Index([]byte(expr), []byte(":-")); i >= 0 {
		name, def, hasDef = expr[:i], expr[i+2:], true
	}
	if !validEnvName(name) {
		return "", fmt.Errorf("${%s}: %q is not an environment variable name (letters, digits and _, not starting with a digit)", expr, name)
	}
	if v, ok := lookup(name); ok && v != "" {
		return v, nil
	}
	if hasDef {
		return def, nil
	}
	return "", fmt.Errorf("environment variable %s is not set; set it, or give a default with ${%s:-value}", name, name)
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

// splitComment splits a YAML line before its comment: a # at the start or
// after a blank, outside quotes. Block scalars spanning lines are not
// tracked; this config has none.
func splitComment(line []byte) (body, comment []byte) {
	var quote byte
	for i, c := range line {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i], line[i:]
		}
	}
	return line, nil
}

// hideAnywhere replaces every expanded value of eight bytes or more in msg,
// quoted or not, by the ${NAME} it came from: for messages of other code
// (the YAML parser) that may echo the text in any form. Shorter values are
// too common as parts of words to replace, and no secret.
func hideAnywhere(msg string, done []expansion) string {
	sorted := slices.Clone(done)
	sort.SliceStable(sorted, func(i, j int) bool { return len(sorted[i].value) > len(sorted[j].value) })
	for _, x := range sorted {
		if len(x.value) >= 8 {
			msg = strings.ReplaceAll(msg, x.value, "${"+x.name+"}")
		}
	}
	return msg
}
