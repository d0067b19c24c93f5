package twoway

import (
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/tajo-sync/tajo/pkg/mapping"
)

// Values are compared in Brevo's terms: the forward mapping turns a Braze
// user into Brevo-typed values (text, float, boolean, date "YYYY-MM-DD",
// the email identifier) and Brevo returns its contacts in the same types,
// so one canonical text per value makes both sides comparable, and its
// hash is what the state keeps per field.

var datePrefix = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)

// canon is the canonical text of a Brevo-typed value of type typ (the
// email identifier is text, compared case-insensitively); "" means none:
// absent, null or empty, which Brevo does not tell apart. ok is false for
// a value that is not of the type.
func canon(v any, typ string, email bool) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return "", true
		}
		switch typ {
		case mapping.TypeFloat:
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return "", false
			}
			return strconv.FormatFloat(f, 'g', -1, 64), true
		case mapping.TypeBoolean:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return "", false
			}
			return strconv.FormatBool(b), true
		case mapping.TypeDate:
			if !datePrefix.MatchString(s) {
				return "", false
			}
			return s[:10], true
		}
		if email {
			return strings.ToLower(s), true
		}
		return s, true
	case float64:
		switch typ {
		case mapping.TypeBoolean:
			return "", false
		case mapping.TypeDate:
			return "", false
		}
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case int64:
		return canon(float64(x), typ, email)
	case int:
		return canon(float64(x), typ, email)
	case bool:
		if typ == mapping.TypeFloat || typ == mapping.TypeDate {
			return "", false
		}
		return strconv.FormatBool(x), true
	}
	return "", false
}

// hashOf is the state's hash of a canonical value: 0 for none.
func hashOf(c string) uint64 {
	if c == "" {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(c))
	return h.Sum64() | 1 // never 0: 0 means none
}

// hashValue hashes the Brevo-typed value v of field f.
func (f Field) hash(v any) (uint64, bool) {
	c, ok := canon(v, f.Type, f.Brevo == mapping.TargetEmail)
	return hashOf(c), ok
}

var subscribeStates = map[string]bool{"opted_in": true, "subscribed": true, "unsubscribed": true}

// toBraze turns the Brevo-typed value v of field f into the value Braze
// takes for f.Braze: text as text (email_subscribe and push_subscribe only
// as a subscription state), float as a number, boolean as a boolean, a
// date as "YYYY-MM-DD" for dob and as an ISO 8601 time for a custom
// attribute (Braze's date type); none as null, which unsets the field.
func (f Field) toBraze(v any) (any, error) {
	c, ok := canon(v, f.Type, f.Brevo == mapping.TargetEmail)
	if !ok {
		return nil, fmt.Errorf("%s: the value is not a Brevo %s", f.Brevo, f.Type)
	}
	if c == "" {
		return nil, nil
	}
	switch f.Type {
	case mapping.TypeFloat:
		x, _ := strconv.ParseFloat(c, 64)
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
		return x, nil
	case mapping.TypeBoolean:
		return c == "true", nil
	case mapping.TypeDate:
		if f.Braze == "dob" {
			return c, nil
		}
		return c + "T00:00:00.000Z", nil
	}
	switch f.Braze {
	case "email_subscribe", "push_subscribe":
		if !subscribeStates[c] {
			return nil, fmt.Errorf("%s: %q is not a Braze subscription state (opted_in, subscribed, unsubscribed)", f.Brevo, c)
		}
	case "email":
		if !strings.Contains(c, "@") {
			return nil, fmt.Errorf("%s: not an email address", f.Brevo)
		}
	}
	return c, nil
}
