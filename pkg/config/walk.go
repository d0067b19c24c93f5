package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// walker decodes a YAML node tree into a Config by hand rather than with
// yaml.Node.Decode, so that it can report every unknown key, wrong type and
// bad value with its line, instead of stopping at the first.
type walker struct {
	file  string
	errs  []located
	lines map[string]int // key path -> line of its value, for later checks
	// shorthand holds the sections written at the top level (see
	// topLevelShorthand), by key.
	shorthand map[string][2]*yaml.Node // key -> its key and value nodes
}

// topLevelShorthand are the sections the product page writes at the top
// level although they belong to the Braze connector: sync, lists and
// field_mapping may be written either there or under connectors.braze (not
// both).
var topLevelShorthand = map[string]string{
	"sync":          "connectors.braze.sync",
	"lists":         "connectors.braze.lists",
	"field_mapping": "connectors.braze.field_mapping",
}

// located is an error before the file name is known.
type located struct {
	line int
	path string
	msg  string
}

func (w *walker) fail(n *yaml.Node, path, format string, args ...any) {
	w.errs = append(w.errs, located{line: n.Line, path: path, msg: fmt.Sprintf(format, args...)})
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	listIDType   = reflect.TypeOf(ListID(0))
	// switchTypes are the sections of sync: true and false stand for
	// {enabled: ...}.
	switchTypes = map[reflect.Type]bool{
		reflect.TypeOf(Toggle{}): true, reflect.TypeOf(UsersSync{}): true, reflect.TypeOf(SegmentsSync{}): true,
		reflect.TypeOf(CatalogsSync{}): true, reflect.TypeOf(AnalyticsSync{}): true,
	}
)

// walk sets v from n. A null leaves the default in place.
func (w *walker) walk(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	switch {
	case v.Type() == durationType:
		w.duration(n, v, path)
	case v.Type() == listIDType:
		w.listID(n, v, path)
	case v.Kind() == reflect.Struct:
		w.object(n, v, path)
	case v.Kind() == reflect.Map:
		w.mapping(n, v, path)
	case v.Kind() == reflect.Slice:
		w.sequence(n, v, path)
	default:
		w.scalar(n, v, path)
	}
}

func (w *walker) object(n *yaml.Node, v reflect.Value, path string) {
	if v.Type() == fieldRuleType && n.Kind == yaml.ScalarNode {
		// A two-way field: a direction alone stands for {direction: ...}.
		w.scalar(n, v.FieldByName("Direction"), path+".direction")
		return
	}
	if switchTypes[v.Type()] {
		// A resource of sync: true and false stand for {enabled: ...}.
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
			w.scalar(n, v.FieldByName("Enabled"), path)
			return
		}
		if n.Kind != yaml.MappingNode {
			w.fail(n, path, "must be true, false or a mapping such as {enabled: true, interval: 15m} (got %s)", describe(n))
			return
		}
	}
	if n.Kind != yaml.MappingNode {
		w.fail(n, path, "must be a mapping of keys (got %s)", describe(n))
		return
	}
	fields := yamlFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		sub := join(path, key)
		if w.duplicate(k, sub, seen) {
			continue
		}
		w.lines[sub] = k.Line // the key's line: a nested mapping starts on the next one
		if _, ok := topLevelShorthand[key]; ok && path == "" {
			w.shorthand[key] = [2]*yaml.Node{k, val} // walked by walkShorthand, once connectors is known
			continue
		}
		idx, ok := fields[key]
		if !ok {
			w.unknownKey(k, sub, key, fields)
			continue
		}
		w.walk(val, v.FieldByIndex(idx), sub)
	}
}

// duplicate reports a key given twice in one mapping: YAML forbids it and
// the later value would silently win.
func (w *walker) duplicate(k *yaml.Node, path string, seen map[string]int) bool {
	if first, ok := seen[k.Value]; ok {
		w.fail(k, path, "key given twice (first at line %d); keep one", first)
		return true
	}
	seen[k.Value] = k.Line
	return false
}

func (w *walker) unknownKey(k *yaml.Node, path, key string, fields map[string][]int) {
	if env, ok := secretKey(path, key); ok {
		w.fail(k, path, "secrets are not read from the config file; set the environment variable %s (or use the credential store) and remove this key", env)
		return
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	if !strings.Contains(path, ".") {
		for name := range topLevelShorthand {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if s := suggest(key, names); s != "" {
		w.fail(k, path, "unknown key; did you mean %q?", s)
		return
	}
	w.fail(k, path, "unknown key; valid keys here: %s", strings.Join(names, ", "))
}

// mapping replaces the default map: a map in the file is the whole map.
func (w *walker) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		w.fail(n, path, "must be a mapping of keys to values (got %s)", describe(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		sub := join(path, k.Value)
		if w.duplicate(k, sub, seen) {
			continue
		}
		w.lines[sub] = k.Line
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			w.fail(k, sub, "keys must be non-empty strings")
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		before := len(w.errs)
		w.walk(val, elem, sub)
		if len(w.errs) == before {
			m.SetMapIndex(reflect.ValueOf(k.Value), elem)
		}
	}
	v.Set(m)
}

func (w *walker) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		w.fail(n, path, "must be a list (got %s)", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, item := range n.Content {
		elem := reflect.New(v.Type().Elem()).Elem()
		sub := fmt.Sprintf("%s[%d]", path, i)
		w.lines[sub] = item.Line
		w.walk(item, elem, sub)
		s = reflect.Append(s, elem)
	}
	v.Set(s)
}

// walkShorthand walks the sections written at the top level into the Braze
// connector's, after the rest of the file: a section given both ways is an
// error rather than one silently winning.
func (w *walker) walkShorthand(cfg *Config) {
	b := reflect.ValueOf(&cfg.Connectors.Braze).Elem()
	fields := yamlFields(b.Type())
	for key, kv := range w.shorthand {
		full := topLevelShorthand[key]
		if line, ok := w.lines[full]; ok {
			w.fail(kv[0], key, "also given under connectors.braze (line %d); keep one of the two", line)
			delete(w.shorthand, key)
			continue
		}
		w.walk(kv[1], b.FieldByIndex(fields[key]), key)
	}
}

// display is path as the file wrote it: connectors.braze.sync.users is
// sync.users when the file used the top-level shorthand.
func (w *walker) display(path string) string {
	if w == nil {
		return path
	}
	for key, full := range topLevelShorthand {
		if _, ok := w.shorthand[key]; !ok {
			continue
		}
		if rest, ok := strings.CutPrefix(path, full); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			return key + rest
		}
	}
	return path
}

func (w *walker) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		w.fail(n, path, "must be a single value (got %s)", describe(n))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if err != nil || n.ShortTag() != "!!bool" {
			w.fail(n, path, "must be true or false (got %q)", n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 10, 64)
		if err != nil || n.ShortTag() != "!!int" {
			w.fail(n, path, "must be an integer (got %q)", n.Value)
			return
		}
		v.SetInt(i)
	default:
		w.fail(n, path, "has a type this package cannot read (%s)", v.Type())
	}
}

func (w *walker) duration(n *yaml.Node, v reflect.Value, path string) {
	d, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if n.Kind != yaml.ScalarNode || err != nil {
		w.fail(n, path, "must be a duration such as 30s, 15m or 24h (got %s)", describe(n))
		return
	}
	v.SetInt(int64(d))
}

// listID accepts 12 and "12": people quote ids they copy from a UI.
func (w *walker) listID(n *yaml.Node, v reflect.Value, path string) {
	id, err := strconv.ParseInt(strings.TrimSpace(n.Value), 10, 64)
	if n.Kind != yaml.ScalarNode || err != nil || id <= 0 {
		w.fail(n, path, "%s (got %s); use the numeric id shown in Brevo > Contacts > Lists", msgListID, describe(n))
		return
	}
	v.SetInt(id)
}

const msgListID = "list id must be a positive integer"

// describe shows a node in an error message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

// yamlFields maps the yaml names of a struct's fields to their index
// path; the fields of an embedded struct tagged `yaml:",inline"` count as
// the struct's own (resilience.Policy inlines restcall.Backoff).
func yamlFields(t reflect.Type) map[string][]int {
	m := make(map[string][]int, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.Anonymous && name == "" && opts == "inline" && f.Type.Kind() == reflect.Struct {
			for k, sub := range yamlFields(f.Type) {
				m[k] = append([]int{i}, sub...)
			}
			continue
		}
		if name != "" && name != "-" {
			m[name] = []int{i}
		}
	}
	return m
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// secretKey recognises keys that hold credentials and names the variable
// that should hold them instead.
func secretKey(path, key string) (env string, ok bool) {
	k := strings.ToLower(strings.NewReplacer("-", "_", " ", "_").Replace(key))
	switch k {
	case "api_key", "apikey", "rest_api_key", "key", "token", "api_token", "secret", "api_secret", "password":
	default:
		return "", false
	}
	switch {
	case strings.HasPrefix(path, "connectors.braze."):
		return EnvBrazeAPIKey, true
	case strings.HasPrefix(path, "connectors.brevo."):
		return EnvBrevoAPIKey, true
	}
	return EnvBrazeAPIKey + " or " + EnvBrevoAPIKey, true
}
