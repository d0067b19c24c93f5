package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest configuration file read, 1 MiB: a real one is
// a few kilobytes, and a huge one (a wrong path, a generated file) would
// take minutes and gigabytes to validate. The limit also holds for the file
// with its ${VAR} values expanded.
const MaxFileSize = 1 << 20

// ErrTooLarge is wrapped by the error about a file over MaxFileSize.
var ErrTooLarge = errors.New("config file too large")

// Load reads and validates the configuration file at path. A file over
// MaxFileSize is refused before it is read whole.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxFileSize {
		return nil, tooLarge(fi.Size()) // callers name the file
	}
	// Not a regular file (a pipe, a device), or one growing: read one byte
	// past the limit to know.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(-1)
	}
	return Parse(path, data)
}

func tooLarge(size int64) error {
	what := "more than 1 MiB"
	if size >= 0 {
		what = fmt.Sprintf("%d bytes", size)
	}
	return fmt.Errorf("%w: the file is %s; a config file may be at most %d bytes (1 MiB), and a real one is a few kilobytes: check the path (--config, $TAJO_CONFIG)",
		ErrTooLarge, what, MaxFileSize)
}

// Parse expands environment variables in data, parses it over Default() and
// validates the result. name is the file name used in error messages. Any
// problem is reported in a ValidationErrors holding all of them.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, os.LookupEnv)
}

func parse(name string, data []byte, lookup func(string) (string, bool)) (*Config, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: %w", name, tooLarge(int64(len(data))))
	}
	expanded, done, envErrs := expandEnvTracked(data, lookup)
	var errs ValidationErrors
	for _, e := range envErrs {
		errs = append(errs, ValidationError{File: name, Line: e.line, Msg: e.msg})
	}

	var doc yaml.Node
	if err := yaml.Unmarshal(expanded, &doc); err != nil {
		syntax := syntaxErrors(name, err)
		for i := range syntax {
			// The YAML library quotes what it choked on in its own way:
			// hide every value, wherever it is.
			syntax[i].Msg = hideAnywhere(syntax[i].Msg, done)
		}
		return nil, hideAll(append(errs, syntax...), done)
	}
	cfg := Default()
	w := &walker{file: name, lines: map[string]int{}, shorthand: map[string][2]*yaml.Node{}}
	if len(doc.Content) > 0 {
		w.walk(doc.Content[0], reflect.ValueOf(cfg).Elem(), "")
		w.walkShorthand(cfg)
	}
	for _, e := range w.errs {
		errs = append(errs, ValidationError{File: name, Line: e.line, Path: e.path, Msg: e.msg})
	}
	cfg.fillDefaults()
	cfg.check(func(path, msg string) {
		path = w.display(path)
		if w.failed(path) {
			return // the walker already said what is wrong with it
		}
		errs = append(errs, ValidationError{File: name, Line: w.lineOf(path), Path: path, Msg: msg})
	})
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, hideAll(errs, done)
	}
	cfg.normalize()
	cfg.src = w
	return cfg, nil
}

// hideAll keeps the values of environment variables out of errs: each
// error names the variable instead.
func hideAll(errs ValidationErrors, done []expansion) ValidationErrors {
	for i := range errs {
		var here []expansion
		for _, x := range done {
			if x.line == errs[i].Line {
				here = append(here, x)
			}
		}
		errs[i].Msg = hideAnywhere(hideValues(errs[i].Msg, errs[i].Line, done), here)
		errs[i].Path = hideAnywhere(errs[i].Path, here) // a key written as ${VAR}
	}
	return errs
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
