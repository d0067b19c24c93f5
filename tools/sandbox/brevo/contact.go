package brevo

import "time"

// Contact is a copy of a stored contact, for tests and the admin NDJSON stream.
type Contact struct {
	ID    int64  `json:"id"`
	Email string `json:"email,omitempty"`
	ExtID string `json:"ext_id,omitempty"`
	SMS   string `json:"sms,omitempty"` // E.164
	// Attributes holds the non-identifier attributes with their JSON types
	// (string, float64, bool, []string).
	Attributes       map[string]any `json:"attributes"`
	ListIDs          []int64        `json:"listIds"`
	EmailBlacklisted bool           `json:"emailBlacklisted"`
	SMSBlacklisted   bool           `json:"smsBlacklisted"`
	// EmailBlacklistedSent and SMSBlacklistedSent tell whether a client ever sent
	// the flag for this contact, whatever its value: the connector must leave an
	// untouched flag absent.
	EmailBlacklistedSent bool      `json:"emailBlacklistedSent"`
	SMSBlacklistedSent   bool      `json:"smsBlacklistedSent"`
	CreatedAt            time.Time `json:"createdAt"`
	ModifiedAt           time.Time `json:"modifiedAt"`
}

// export copies the contact at idx; call with the lock held.
func (s *Server) export(idx int) Contact {
	ct := &s.st.contacts[idx]
	c := Contact{
		ID: int64(idx) + 1, Email: ct.email, ExtID: ct.extID, SMS: ct.sms,
		Attributes:           s.renderAttrs(ct.attrs),
		ListIDs:              listIDs(ct.lists),
		EmailBlacklisted:     ct.flags&flagEmailBlacklisted != 0,
		SMSBlacklisted:       ct.flags&flagSMSBlacklisted != 0,
		EmailBlacklistedSent: ct.flags&flagEmailBlacklistSent != 0,
		SMSBlacklistedSent:   ct.flags&flagSMSBlacklistSent != 0,
		CreatedAt:            time.UnixMilli(ct.created).UTC(),
		ModifiedAt:           time.UnixMilli(ct.modified).UTC(),
	}
	return c
}

func (s *Server) renderAttrs(enc string) map[string]any {
	m := map[string]any{}
	for _, kv := range decodeAttrs(enc) {
		a := &s.attrs[kv.id]
		m[a.name] = a.render(kv.value)
	}
	return m
}

func listIDs(l []int32) []int64 {
	out := make([]int64, len(l))
	for i, id := range l {
		out[i] = int64(id)
	}
	return out
}

// Brevo prints UTC date-times with milliseconds (YYYY-MM-DDTHH:mm:ss.SSSZ).
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// contactView is a contact as the API returns it (getContactDetails): the
// identifiers SMS and EXT_ID appear among the attributes.
type contactView struct {
	Email            string `json:"email,omitempty"`
	ID               int64  `json:"id"`
	EmailBlacklisted bool   `json:"emailBlacklisted"`
	SMSBlacklisted   bool   `json:"smsBlacklisted"`
	// WhatsappBlacklisted is required by Brevo's current SDK
	// (GetContactDetails); the sandbox sends no WhatsApp, so it is false.
	WhatsappBlacklisted bool           `json:"whatsappBlacklisted"`
	CreatedAt           string         `json:"createdAt"`
	ModifiedAt          string         `json:"modifiedAt"`
	ListIDs             []int64        `json:"listIds"`
	Attributes          map[string]any `json:"attributes"`
	Statistics          *struct{}      `json:"statistics,omitempty"` // GET /contacts/{id} only; the sandbox sends no campaigns
}

func (c Contact) view() contactView {
	attrs := c.Attributes
	if c.SMS != "" {
		attrs[attrSMS] = c.SMS
	}
	if c.ExtID != "" {
		attrs[attrExtID] = c.ExtID
	}
	return contactView{
		Email: c.Email, ID: c.ID, EmailBlacklisted: c.EmailBlacklisted, SMSBlacklisted: c.SMSBlacklisted,
		CreatedAt: c.CreatedAt.Format(timeLayout), ModifiedAt: c.ModifiedAt.Format(timeLayout),
		ListIDs: c.ListIDs, Attributes: attrs,
	}
}
