package config

import (
	"bytes"
	"fmt"
)

// lineError is a problem found before the YAML is parsed, located by line.
type lineError struct {
	line int
	msg  string
}

// expandEnv replaces ${NAME} and ${NAME:-default} with values from lookup.
// Comments are left alone, so that a commented-out line never needs its
// variable set; $${ writes a literal ${. An unset variable without a
// default is an error rather than an empty string: an empty instance_url
// or NATS url silently changes what tajo does.
func expandEnv(data []byte, lookup func(string) (string, bool)) ([]byte, []lineError) {
	var out bytes.Buffer
	out.Grow(len(data))
	var errs []lineError
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
			if err != nil {
				errs = append(errs, lineError{lineNo + 1, err.Error()})
			}
			out.WriteString(val)
			i += end
		}
		out.Write(comment)
	}
	return out.Bytes(), errs
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
