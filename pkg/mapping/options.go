package mapping

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Options configure a Mapper. The zero value maps DefaultFieldMapping with
// the default types and region "US".
type Options struct {
	// Fields maps a Braze field (top-level export field, or else a custom
	// attribute name) to a Brevo attribute, or to TargetEmail. Nil means
	// DefaultFieldMapping().
	Fields map[string]string
	// Types overrides the Brevo type of an attribute (key: Brevo attribute
	// name, value: text|float|boolean|date). Without an override a standard
	// Braze field keeps its own type and a custom attribute is text.
	Types map[string]string
	// DefaultRegion is the ISO 3166-1 region used to read a phone number
	// written without a country code when the user has no usable country.
	// Default "US".
	DefaultRegion string
}

// OptionError is one problem with Options. Option is "Fields", "Types" or
// "DefaultRegion"; Key is the map key concerned (empty for DefaultRegion), so
// a caller can point at the line of its own config file.
type OptionError struct {
	Option string
	Key    string
	Msg    string
}

func (e *OptionError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("mapping option %s: %s", e.Option, e.Msg)
	}
	return fmt.Sprintf("mapping option %s[%q]: %s", e.Option, e.Key, e.Msg)
}

// OptionErrors collects every problem found by New.
type OptionErrors []*OptionError

func (es OptionErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Attribute is a Brevo contact attribute the loader must make sure exists.
type Attribute struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// rule is one mapped field, resolved once in New.
type rule struct {
	source string
	attr   string
	typ    string
	top    bool // a top-level export field; else looked up in custom_attributes
	slot   int  // index in record.top, or in Mapper.customSlot
	how    handling
}

// Mapper maps Braze export lines to Brevo contacts. It is immutable and safe
// for concurrent use.
type Mapper struct {
	rules       []rule // sorted by attr, so warnings come out in a stable order
	emailSource string // Braze field holding the email identifier; "" if none
	emailTop    bool
	emailSlot   int
	customSlot  map[string]int // custom attribute name -> index in record.custom
	region      string
}

// New checks o and returns a Mapper. Every problem is reported, as
// OptionErrors.
func New(o Options) (*Mapper, error) {
	fields := o.Fields
	if fields == nil {
		fields = DefaultFieldMapping()
	}
	m := &Mapper{region: "US", customSlot: map[string]int{}}
	slotOf := func(source string, top bool) int {
		if top {
			return topSlot[source]
		}
		if i, ok := m.customSlot[source]; ok {
			return i
		}
		m.customSlot[source] = len(m.customSlot)
		return m.customSlot[source]
	}
	var errs OptionErrors
	fail := func(option, key, format string, args ...any) {
		errs = append(errs, &OptionError{Option: option, Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	if o.DefaultRegion != "" {
		r := strings.ToUpper(strings.TrimSpace(o.DefaultRegion))
		if phonenumbers.GetCountryCodeForRegion(r) == 0 {
			fail("DefaultRegion", "", "%q is not a known ISO 3166-1 alpha-2 region (example: US, GB, FR)", o.DefaultRegion)
		} else {
			m.region = r
		}
	}
	for attr, typ := range o.Types {
		if err := CheckAttributeName(attr); err != nil {
			fail("Types", attr, "%v", err)
		}
		if err := CheckType(typ); err != nil {
			fail("Types", attr, "%v", err)
		}
	}

	targets := make(map[string]string, len(fields)) // attr -> source, to find duplicates
	for _, source := range sortedKeys(fields) {
		target := fields[source]
		if strings.TrimSpace(source) == "" {
			fail("Fields", source, "the Braze field name is empty")
			continue
		}
		std, isStd := standardFields[source]
		if isStd && std.typ == "" {
			fail("Fields", source, "%s is a list of objects in the Braze export and cannot map to one Brevo attribute", source)
			continue
		}
		if prev, dup := targets[target]; dup {
			fail("Fields", source, "%s is already the target of %s; a Brevo attribute can hold only one Braze field", target, prev)
			continue
		}
		targets[target] = source
		_, top := topSlot[source]
		if target == TargetEmail {
			m.emailSource, m.emailTop, m.emailSlot = source, top, slotOf(source, top)
			continue
		}
		if err := CheckAttributeName(target); err != nil {
			fail("Fields", source, "%v", err)
			continue
		}
		typ := std.typ
		if !isStd {
			typ = customDefaults[source]
			if typ == "" {
				typ = TypeText
			}
		}
		if t, ok := o.Types[target]; ok {
			typ = t
		}
		if std.how == phone && typ != TypeText {
			fail("Types", target, "%s holds the phone number in E.164 and must be text, not %s", target, typ)
			continue
		}
		m.rules = append(m.rules, rule{source: source, attr: target, typ: typ, top: top, slot: slotOf(source, top), how: std.how})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	sort.Slice(m.rules, func(i, j int) bool { return m.rules[i].attr < m.rules[j].attr })
	return m, nil
}

// Attributes lists the Brevo attributes the mapping writes, sorted by name.
// The email identifier is not an attribute and is not listed.
func (m *Mapper) Attributes() []Attribute {
	out := make([]Attribute, len(m.rules))
	for i, r := range m.rules {
		out[i] = Attribute{Name: r.attr, Type: r.typ}
	}
	return out
}

// CheckAttributeName reports whether name is usable as a Brevo attribute:
// upper-case letters, digits and underscores, starting with a letter. EMAIL
// is refused because Brevo treats it as the identifier: map to "email".
func CheckAttributeName(name string) error {
	if name == "EMAIL" {
		return fmt.Errorf("EMAIL is Brevo's email identifier; use the target %q instead", TargetEmail)
	}
	if name == "" {
		return fmt.Errorf("the Brevo attribute name is empty")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return fmt.Errorf("Brevo attribute %q must start with an upper-case letter (example: %s)", name, suggestAttribute(name))
		}
		if !letter && !(c >= '0' && c <= '9') && c != '_' {
			return fmt.Errorf("Brevo attribute %q must be UPPER_SNAKE_CASE: A-Z, 0-9 and _ (example: %s)", name, suggestAttribute(name))
		}
	}
	return nil
}

// CheckType reports whether typ is a Brevo attribute type this package can
// coerce to.
func CheckType(typ string) error {
	switch typ {
	case TypeText, TypeFloat, TypeBoolean, TypeDate:
		return nil
	}
	return fmt.Errorf("unknown attribute type %q: use text, float, boolean or date (Brevo has no integer type: use float)", typ)
}

// suggestAttribute turns "loyaltyPoints" or "first-name" into a valid name,
// for error messages.
func suggestAttribute(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z':
			if i > 0 && name[i-1] >= 'a' && name[i-1] <= 'z' {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			if b.Len() == 0 {
				b.WriteString("A_")
			}
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
		}
	}
	s := strings.TrimSuffix(b.String(), "_")
	if s == "" {
		return "MY_ATTRIBUTE"
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
