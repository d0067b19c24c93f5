package brevo

import (
	"net/http"
	"sort"
	"strconv"
	"time"
)

// changeOpts says how a source's attribute values are read.
type changeOpts struct {
	coerceOpts
	emptyErases bool // "" removes an attribute (imports: only with emptyContactsAttributes)
	contactID   bool // CONTACT_ID is an identifier (imports only)
}

// addAttributes validates the attributes of a request into c; call with the lock
// held. Identifier attributes (EMAIL, SMS, EXT_ID) become identifiers; unknown
// names and wrong-typed values are dropped, the former counted.
func (s *Server) addAttributes(c *change, attrs map[string]any, o changeOpts) *apiError {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names) // the first error reported must not depend on map order
	for _, name := range names {
		v := attrs[name]
		switch {
		case name == attrEmail:
			if str := scalarText(v); str != "" {
				email, ok := normalizeEmail(str)
				if !ok {
					return badRequest("Invalid email address")
				}
				c.email = email
			}
		case name == attrSMS:
			if str := scalarText(v); str != "" {
				phone, ok := normalizePhone(str)
				if !ok {
					return badRequest("Invalid phone number")
				}
				c.sms = phone
			}
		case name == attrExtID:
			if str := scalarText(v); str != "" && c.extID == "" {
				c.extID = str
			}
		case name == attrContactID && o.contactID:
			str := scalarText(v)
			if str == "" {
				continue
			}
			id, err := strconv.ParseInt(str, 10, 64)
			if err != nil || id <= 0 {
				return badRequest("Invalid CONTACT_ID")
			}
			c.contactID = id
		default:
			idx, ok := s.attrIdx[name]
			if !ok {
				s.stats.unknownAttributes[name]++
				continue
			}
			a := &s.attrs[idx]
			enc, verdict, e := a.coerce(v, o.coerceOpts)
			switch {
			case e != nil:
				return e
			case verdict == valueSet:
				c.attrs = append(c.attrs, attrKV{id: idx, value: enc})
			case verdict == valueErase && o.emptyErases:
				c.attrs = append(c.attrs, attrKV{id: idx, erase: true})
			}
		}
	}
	return nil
}

// scalarText reads an identifier given as a string or a number (phone numbers and
// ids often arrive as JSON numbers).
func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
	}
	return ""
}

// upsert resolves and applies c; call with the lock held. allowUpdate false makes
// an existing match an error, as POST /contacts without updateEnabled.
func (s *Server) upsert(c *change, allowUpdate bool, now time.Time) (id int64, created bool, e *apiError) {
	res := s.st.resolve(c)
	switch {
	case res.missing:
		return 0, false, notFound("Contact does not exist")
	case res.idx >= 0 && !allowUpdate:
		return 0, false, &apiError{Status: http.StatusBadRequest, Code: codeDuplicateParameter,
			Message: "Contact already exist", Metadata: &metadata{DuplicateIdentifiers: res.matched}}
	case len(res.conflicts) > 0:
		return 0, false, duplicate(res.conflicts)
	}
	idx := s.st.apply(res.idx, c, now)
	return int64(idx) + 1, res.idx < 0, nil
}
