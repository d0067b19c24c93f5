package brevo

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// attrType is the type of a contact attribute.
type attrType uint8

const (
	typeText attrType = iota
	typeDate
	typeFloat
	typeBoolean
	typeMultipleChoice
)

var typeNames = map[attrType]string{
	typeText: "text", typeDate: "date", typeFloat: "float", typeBoolean: "boolean",
	typeMultipleChoice: "multiple-choice",
}

// Names of the identifier attributes: their values live in contact fields, not in
// the attribute store, because they must be unique and indexed.
const (
	attrEmail     = "EMAIL"
	attrSMS       = "SMS"
	attrExtID     = "EXT_ID"
	attrContactID = "CONTACT_ID" // import only: targets an existing contact by id
)

const dateLayout = "2006-01-02"

type attribute struct {
	name     string
	category string
	typ      attrType
	options  []string // multiple-choice
}

// defaultAttributes are what a fresh Brevo account lists.
func defaultAttributes() []attribute {
	return []attribute{
		{name: "LASTNAME", category: "normal", typ: typeText},
		{name: "FIRSTNAME", category: "normal", typ: typeText},
		{name: attrSMS, category: "normal", typ: typeText},
		{name: attrExtID, category: "normal", typ: typeText},
	}
}

var attrNameRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// verdict says what to do with an attribute value given to a contact.
type verdict uint8

const (
	valueSet    verdict = iota // store the encoded value
	valueErase                 // remove the attribute
	valueIgnore                // wrong type: keep the old value, say nothing
)

// coerceOpts says where a value comes from.
type coerceOpts struct {
	fromText     bool // a CSV cell: numbers and booleans arrive as text
	lenientDates bool // imports ignore a badly formatted date instead of failing
}

// coerce checks v (a decoded JSON value, or a CSV cell) against the attribute's
// type and returns its stored encoding. Only a date string in the wrong format is
// an error; every other mismatch is silently ignored as Brevo does.
func (a *attribute) coerce(v any, o coerceOpts) (string, verdict, *apiError) {
	fromText := o.fromText
	if v == nil {
		return "", valueIgnore, nil
	}
	if s, ok := v.(string); ok && s == "" {
		return "", valueErase, nil
	}
	switch a.typ {
	case typeText:
		if s, ok := v.(string); ok {
			return s, valueSet, nil
		}
	case typeDate:
		if s, ok := v.(string); ok {
			if _, err := time.Parse(dateLayout, s); err != nil {
				if o.lenientDates {
					return "", valueIgnore, nil
				}
				return "", valueIgnore, badRequest("Invalid date for attribute %s: %q, expected format YYYY-MM-DD", a.name, s)
			}
			return s, valueSet, nil
		}
	case typeFloat:
		f, ok := v.(float64)
		if s, isText := v.(string); isText && fromText {
			var err error
			f, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
			ok = err == nil
		}
		if ok && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return strconv.FormatFloat(f, 'g', -1, 64), valueSet, nil
		}
	case typeBoolean:
		b, ok := v.(bool)
		if s, isText := v.(string); isText && fromText {
			var err error
			b, err = strconv.ParseBool(strings.TrimSpace(s))
			ok = err == nil
		}
		if ok {
			return strconv.FormatBool(b), valueSet, nil
		}
	case typeMultipleChoice:
		return a.coerceChoices(v, fromText)
	}
	return "", valueIgnore, nil
}

// coerceChoices accepts an array of known options (a comma-separated cell in CSV);
// one unknown option makes the whole value ignored.
func (a *attribute) coerceChoices(v any, fromText bool) (string, verdict, *apiError) {
	var picked []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return "", valueIgnore, nil
			}
			picked = append(picked, s)
		}
	case string:
		if !fromText {
			return "", valueIgnore, nil
		}
		picked = strings.Split(x, ",")
	default:
		return "", valueIgnore, nil
	}
	for _, p := range picked {
		if !contains(a.options, p) {
			return "", valueIgnore, nil
		}
	}
	if len(picked) == 0 {
		return "", valueErase, nil
	}
	return strings.Join(picked, "\x1f"), valueSet, nil
}

// render turns a stored encoding back into the JSON value Brevo returns.
func (a *attribute) render(s string) any {
	switch a.typ {
	case typeFloat:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case typeBoolean:
		return s == "true"
	case typeMultipleChoice:
		return strings.Split(s, "\x1f")
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
