package config

import (
	"fmt"
	"strings"
)

// ValidationError is one problem in a configuration file.
type ValidationError struct {
	File string // as given to Parse; empty for Config.Validate
	Line int    // 1-based; 0 when the value did not come from the file
	Path string // dotted key path, such as connectors.braze.lists.vip
	Msg  string // what is wrong and how to fix it
}

func (e ValidationError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationErrors are all the problems found, in file order, one per line
// when printed.
type ValidationErrors []ValidationError

func (es ValidationErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}
