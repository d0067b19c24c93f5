package plan

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/tajo-sync/tajo/pkg/brevo"
)

// Change is one attribute a write would change.
type Change struct {
	Attribute string
	From      any // nil when the contact has no value (or does not exist)
	To        any // nil when the write unsets the attribute
}

// Diff lists the attributes of want whose value differs from have's, by
// name. Attributes the write does not carry are left alone by Brevo, so
// they are not compared.
func Diff(want, have map[string]any) []Change {
	var out []Change
	for name, to := range want {
		from, ok := have[name]
		if !ok {
			from = nil
		}
		if !sameValue(name, to, from) {
			out = append(out, Change{Attribute: name, From: from, To: to})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Attribute < out[j].Attribute })
	return out
}

// sameValue compares a value the connector sends with the one Brevo reports,
// allowing for how Brevo prints them: dates may come back as date-times,
// phone numbers without their "+", numbers as floats.
func sameValue(name string, want, have any) bool {
	if want == nil || have == nil {
		return want == nil && (have == nil || have == "")
	}
	switch w := want.(type) {
	case string:
		h, ok := have.(string)
		if !ok {
			return w == fmt.Sprint(have)
		}
		if name == "SMS" {
			return strings.TrimPrefix(w, "+") == strings.TrimPrefix(h, "+")
		}
		if isDate(w) && strings.HasPrefix(h, w) && (len(h) == len(w) || h[len(w)] == 'T') {
			return true
		}
		return w == h
	case float64:
		h, ok := have.(float64)
		return ok && (w == h || math.Abs(w-h) < 1e-9*math.Max(1, math.Abs(w)))
	case bool:
		h, ok := have.(bool)
		return ok && w == h
	default:
		return fmt.Sprint(want) == fmt.Sprint(have)
	}
}

// isDate reports whether s is a YYYY-MM-DD date, the shape date attributes
// travel in.
func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, r := range s {
		if i != 4 && i != 7 && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// ContactReader reads one Brevo contact (pkg/brevo's Client does).
type ContactReader interface {
	Contact(ctx context.Context, identifier, identifierType string) (brevo.ContactInfo, error)
}

// FetchDiffs reads the current Brevo contact of up to limit planned contacts
// (0: all of them), in key order, and records which exist and which of their
// attributes would change. It returns how many it read. Brevo allows about
// 10 contact reads a second, so a large plan is best sampled.
func (p *Plan) FetchDiffs(ctx context.Context, r ContactReader, limit int) (int, error) {
	contacts := p.Contacts()
	if limit > 0 && len(contacts) > limit {
		contacts = contacts[:limit]
	}
	for i, c := range contacts {
		id, typ := c.ExtID, brevo.IdentifierExtID
		if id == "" {
			id, typ = c.Email, brevo.IdentifierEmail
		}
		info, err := r.Contact(ctx, id, typ)
		var ae *brevo.APIError
		switch {
		case errors.As(err, &ae) && ae.Status == 404:
			p.setDiff(c.Record, false, Diff(c.Attributes, nil))
		case err != nil:
			return i, fmt.Errorf("reading the Brevo contact %s to diff it: %w", c.Key, err)
		default:
			have := info.Attributes
			if have == nil {
				have = map[string]any{}
			}
			p.setDiff(c.Record, true, Diff(c.Attributes, have))
		}
	}
	return len(contacts), nil
}
