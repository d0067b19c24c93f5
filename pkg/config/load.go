package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse expands environment variables in data, parses it over Default() and
// validates the result. name is the file name used in error messages. Any
// problem is reported in a ValidationErrors holding all of them.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, os.LookupEnv)
}

func parse(name string, data []byte, lookup func(string) (string, bool)) (*Config, error) {
	expanded, envErrs := expandEnv(data, lookup)
	var errs ValidationErrors
	for _, e := range envErrs {
		errs = append(errs, ValidationError{File: name, Line: e.line, Msg: e.msg})
	}

	var doc yaml.Node
	if err := yaml.Unmarshal(expanded, &doc); err != nil {
		return nil, append(errs, syntaxErrors(name, err)...)
	}
	cfg := Default()
	w := &walker{lines: map[string]int{}}
	if len(doc.Content) > 0 {
		w.walk(doc.Content[0], reflect.ValueOf(cfg).Elem(), "")
	}
	for _, e := range w.errs {
		errs = append(errs, ValidationError{File: name, Line: e.line, Path: e.path, Msg: e.msg})
	}
	cfg.fillDefaults()
	cfg.check(func(path, msg string) {
		if w.failed(path) {
			return // the walker already said what is wrong with it
		}
		errs = append(errs, ValidationError{File: name, Line: w.lineOf(path), Path: path, Msg: msg})
	})
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	cfg.normalize()
	return cfg, nil
}

// lineOf finds the line of path, or of its closest ancestor in the file.
func (w *walker) lineOf(path string) int {
	for p := path; p != ""; p = parent(p) {
		if l, ok := w.lines[p]; ok {
			return l
		}
	}
	return 0
}

func (w *walker) failed(path string) bool {
	for _, e := range w.errs {
		if e.path == path {
			return true
		}
	}
	return false
}

func parent(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' || path[i] == '[' {
			return path[:i]
		}
	}
	return ""
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// syntaxErrors turns yaml.v3's messages ("yaml: line 3: mapping values are
// not allowed in this context") into located errors.
func syntaxErrors(name string, err error) ValidationErrors {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var out ValidationErrors
	for _, m := range msgs {
		e := ValidationError{File: name, Msg: "invalid YAML: " + m}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			e.Line, _ = strconv.Atoi(sm[1])
			e.Msg = "invalid YAML: " + sm[2]
		}
		out = append(out, e)
	}
	return out
}

// Validate checks a Config built in code (or changed after Load, by flags
// say). Errors carry the key path but no file or line.
func (c *Config) Validate() error {
	var errs ValidationErrors
	c.check(func(path, msg string) {
		errs = append(errs, ValidationError{Path: path, Msg: msg})
	})
	if len(errs) > 0 {
		return errs
	}
	return nil
}
