package twoway

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tajo-sync/tajo/pkg/mapping"
)

// Direction says which way a mapped field travels.
type Direction string

// Directions.
const (
	BrazeToBrevo Direction = "braze_to_brevo" // the default: Braze is the source
	BrevoToBraze Direction = "brevo_to_braze" // Brevo is the source; Braze's value is never sent
	Both         Direction = "both"           // changes travel both ways; Conflict decides a tie
)

// Conflict says which side wins when both changed a field synced both ways.
type Conflict string

// Conflict policies.
const (
	// NewestWins (the default): the change the connector sees last wins. A
	// Brevo change is written to Braze as soon as it is seen (a webhook at
	// once, else the next poll); a Braze change is seen at the next export
	// and written to Brevo, unless the export was requested before the
	// connector's own write of that field to Braze landed (then Braze's
	// value is stale, not a change).
	NewestWins Conflict = "newest_wins"
	// BrazeWins: a Brevo change is written to Braze only if Braze still
	// holds the value the two sides last agreed on: the writer reads the
	// user first (POST /users/export/ids). If Braze changed the field, the
	// Brevo change is dropped and the next export writes Braze's value to
	// Brevo.
	BrazeWins Conflict = "braze_wins"
	// BrevoWins: a Brevo change is written to Braze at once, and a Braze
	// change of the same field before the next export confirms it is
	// undone: Brevo's value is written to Braze again.
	BrevoWins Conflict = "brevo_wins"
)

// Directions and Conflicts list the valid values, for error messages.
var (
	Directions = []Direction{BrazeToBrevo, BrevoToBraze, Both}
	Conflicts  = []Conflict{NewestWins, BrazeWins, BrevoWins}
)

// Rule is one field's direction and, for Both, its conflict policy ("":
// the default).
type Rule struct {
	Direction Direction
	Conflict  Conflict
}

// Options describe the two-way sync.
type Options struct {
	// FieldMapping is the config's field_mapping: Braze field -> Brevo
	// attribute, or mapping.TargetEmail.
	FieldMapping map[string]string
	// FieldTypes is the config's field_types.
	FieldTypes map[string]string
	// Fields gives the fields that do not travel Braze → Brevo only, by
	// Braze field (a key of FieldMapping).
	Fields map[string]Rule
	// Conflict is the policy of Both fields without one; default NewestWins.
	Conflict Conflict
	// SubscriptionGroupID, when set, is the Braze subscription group a
	// Brevo unsubscribe also leaves (POST /subscription/status/set).
	SubscriptionGroupID string
	// PropagateDeletes deletes the Braze user of a contact deleted in
	// Brevo (POST /users/delete; the key needs users.delete). Default
	// false: the deletion is reported, nothing is deleted.
	PropagateDeletes bool
	// APIKeyName is the name of the connector's Brevo API key: webhook
	// events naming it are the connector's own writes, dropped.
	APIKeyName string
}

// Field is one field synced from Brevo to Braze.
type Field struct {
	Braze     string // Braze field: standard, or a custom attribute
	Brevo     string // Brevo attribute, or mapping.TargetEmail
	Type      string // the Brevo attribute's type (mapping.Type*)
	Direction Direction
	Conflict  Conflict
}

// Policy is the validated two-way configuration. It is immutable.
type Policy struct {
	opts    Options
	mapper  *mapping.Mapper     // the whole field_mapping: reads Braze users in Brevo's types
	fwd     []mapping.Attribute // what the Braze → Brevo mapping writes
	fwdMail bool                // it writes the email identifier
	fields  []Field             // reverse fields (BrevoToBraze, Both), sorted by Brevo name
	byBrevo map[string]Field    // by Brevo attribute
}

// readOnly are Braze fields the connector cannot write back: identifiers,
// values Braze computes, and push_opted_in, which the mapping derives.
var readOnly = map[string]string{
	"external_id":         "the user's identifier",
	"braze_id":            "the user's identifier",
	"created_at":          "set by Braze",
	"total_revenue":       "computed by Braze from purchases",
	"random_bucket":       "set by Braze",
	"push_opted_in":       "derived from push_subscribe by the mapping",
	"push_opted_in_at":    "set by Braze",
	"uninstalled_at":      "set by Braze",
	"last_coordinates":    "set by Braze's SDKs",
	"attributed_campaign": "set by attribution",
	"attributed_source":   "set by attribution",
	"attributed_adgroup":  "set by attribution",
	"attributed_ad":       "set by attribution",
}

// FieldError is one problem with Options.Fields, by Braze field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return fmt.Sprintf("two-way field %s: %s", e.Field, e.Msg) }

// FieldErrors are every problem NewPolicy found.
type FieldErrors []*FieldError

func (es FieldErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// NewPolicy checks o and returns a Policy; every problem is reported in a
// FieldErrors (or the mapping's own OptionErrors).
func NewPolicy(o Options) (*Policy, error) {
	if o.Conflict == "" {
		o.Conflict = NewestWins
	}
	fm := o.FieldMapping
	if fm == nil {
		fm = mapping.DefaultFieldMapping()
	}
	m, err := mapping.New(mapping.Options{Fields: fm, Types: o.FieldTypes})
	if err != nil {
		return nil, err
	}
	types := map[string]string{mapping.TargetEmail: mapping.TypeText}
	for _, a := range m.Attributes() {
		types[a.Name] = a.Type
	}
	var errs FieldErrors
	fail := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if !validConflict(o.Conflict) {
		fail("(default)", "conflict %q is not one of %v", o.Conflict, Conflicts)
	}
	p := &Policy{opts: o, mapper: m, byBrevo: map[string]Field{}}
	names := make([]string, 0, len(o.Fields))
	for k := range o.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, braze := range names {
		r := o.Fields[braze]
		brevo, mapped := fm[braze]
		switch {
		case !mapped:
			fail(braze, "is not in field_mapping: only mapped fields can be synced, in either direction")
			continue
		case !validDirection(r.Direction):
			fail(braze, "direction %q is not one of %v", r.Direction, Directions)
			continue
		case r.Conflict != "" && !validConflict(r.Conflict):
			fail(braze, "conflict %q is not one of %v", r.Conflict, Conflicts)
			continue
		case r.Conflict != "" && r.Direction != Both:
			fail(braze, "a conflict policy applies to direction both only (this field is %s)", r.Direction)
			continue
		case r.Direction == BrazeToBrevo:
			continue
		}
		if why, ro := readOnly[braze]; ro {
			fail(braze, "cannot be written to Braze (%s): its direction must be %s", why, BrazeToBrevo)
			continue
		}
		f := Field{Braze: braze, Brevo: brevo, Type: types[brevo], Direction: r.Direction, Conflict: r.Conflict}
		if f.Direction == Both && f.Conflict == "" {
			f.Conflict = o.Conflict
		}
		p.fields = append(p.fields, f)
		p.byBrevo[brevo] = f
	}
	if len(errs) > 0 {
		return nil, errs
	}
	fwdFields := ForwardMapping(fm, o.Fields)
	fm2, err := mapping.New(mapping.Options{Fields: fwdFields, Types: o.FieldTypes})
	if err != nil {
		return nil, err
	}
	p.fwd = fm2.Attributes()
	for _, target := range fwdFields {
		p.fwdMail = p.fwdMail || target == mapping.TargetEmail
	}
	sort.Slice(p.fields, func(i, j int) bool { return p.fields[i].Brevo < p.fields[j].Brevo })
	return p, nil
}

func validDirection(d Direction) bool {
	for _, x := range Directions {
		if d == x {
			return true
		}
	}
	return false
}

func validConflict(c Conflict) bool {
	for _, x := range Conflicts {
		if c == x {
			return true
		}
	}
	return false
}

// Fields lists the fields synced from Brevo to Braze, by Brevo name.
func (p *Policy) Fields() []Field { return append([]Field(nil), p.fields...) }

// Options returns the options the policy was built from.
func (p *Policy) Options() Options { return p.opts }

// ForwardMapping is field_mapping without the fields that travel Brevo →
// Braze only: what the Braze → Brevo mapper maps.
func ForwardMapping(fieldMapping map[string]string, fields map[string]Rule) map[string]string {
	if fieldMapping == nil {
		fieldMapping = mapping.DefaultFieldMapping()
	}
	out := make(map[string]string, len(fieldMapping))
	for k, v := range fieldMapping {
		if r, ok := fields[k]; ok && r.Direction == BrevoToBraze {
			continue
		}
		out[k] = v
	}
	return out
}
