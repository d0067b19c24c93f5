package brevo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ErrNoIdentifier is returned for a contact with no email, ext_id or SMS
// attribute: Brevo cannot key it.
var ErrNoIdentifier = errors.New("brevo: contact has no email, ext_id or SMS")

// Contact is a contact to create or update with POST /contacts.
type Contact struct {
	Email string
	ExtID string
	// Attributes are keyed by upper-case attribute name. Dates as
	// YYYY-MM-DD; SMS with its country code.
	Attributes map[string]any
	ListIDs    []int64
	// EmailBlacklisted and SMSBlacklisted are sent only when set: an absent
	// flag leaves the contact as it is, while false would resubscribe them.
	EmailBlacklisted *bool
	SMSBlacklisted   *bool
}

type createContactBody struct {
	Email            string         `json:"email,omitempty"`
	ExtID            string         `json:"ext_id,omitempty"`
	Attributes       map[string]any `json:"attributes,omitempty"`
	ListIDs          []int64        `json:"listIds,omitempty"`
	UpdateEnabled    bool           `json:"updateEnabled"`
	EmailBlacklisted *bool          `json:"emailBlacklisted,omitempty"`
	SMSBlacklisted   *bool          `json:"smsBlacklisted,omitempty"`
}

// AttrSMS is the contact attribute that holds a contact's mobile number,
// which Brevo keeps unique like the email.
const AttrSMS = "SMS"

// SMSOf is the SMS number among a contact's attributes ("" if none).
func SMSOf(attrs map[string]any) string {
	s, _ := attrs[AttrSMS].(string)
	return s
}

func hasSMS(attrs map[string]any) bool { return SMSOf(attrs) != "" }

// UpsertContact creates the contact or, when one with its identifiers exists,
// updates it (updateEnabled). created reports which: 201 or 204. A contact
// whose email or SMS belongs to another contact fails with an error whose
// DuplicateIdentifiers names it.
func (c *Client) UpsertContact(ctx context.Context, ct Contact) (created bool, err error) {
	if ct.Email == "" && ct.ExtID == "" && !hasSMS(ct.Attributes) {
		return false, fmt.Errorf("upserting contact: %w", ErrNoIdentifier)
	}
	status, err := c.do(ctx, apiCall{
		method: http.MethodPost,
		path:   "/contacts",
		body: createContactBody{
			Email: ct.Email, ExtID: ct.ExtID, Attributes: ct.Attributes, ListIDs: ct.ListIDs,
			UpdateEnabled: true, EmailBlacklisted: ct.EmailBlacklisted, SMSBlacklisted: ct.SMSBlacklisted,
		},
	}, nil)
	if err != nil {
		return false, err
	}
	return status == http.StatusCreated, nil
}

// ContactInfo is a contact as Brevo returns it. Attribute values decode as
// JSON does: string, float64, bool, nil.
type ContactInfo struct {
	ID               int64          `json:"id"`
	Email            string         `json:"email"`
	EmailBlacklisted bool           `json:"emailBlacklisted"`
	SMSBlacklisted   bool           `json:"smsBlacklisted"`
	CreatedAt        time.Time      `json:"createdAt"`
	ModifiedAt       time.Time      `json:"modifiedAt"`
	ListIDs          []int64        `json:"listIds"`
	ListUnsubscribed []int64        `json:"listUnsubscribed"`
	Attributes       map[string]any `json:"attributes"`
}

// Identifier types of Contact.
const (
	IdentifierEmail     = "email_id"
	IdentifierContactID = "contact_id"
	IdentifierExtID     = "ext_id"
	IdentifierPhone     = "phone_id"
)

// Contact reads one contact by identifier of the given type (Identifier*;
// empty lets Brevo guess between email, id and SMS). A missing contact is an
// *APIError with Status 404.
func (c *Client) Contact(ctx context.Context, identifier, identifierType string) (ContactInfo, error) {
	if identifier == "" {
		return ContactInfo{}, errors.New("brevo: reading contact: identifier is empty")
	}
	var q url.Values
	if identifierType != "" {
		q = url.Values{"identifierType": {identifierType}}
	}
	var out ContactInfo
	_, err := c.do(ctx, apiCall{
		method: http.MethodGet,
		path:   "/contacts/" + url.PathEscape(identifier),
		route:  "/contacts/{identifier}",
		query:  q,
	}, &out)
	if err != nil {
		return ContactInfo{}, err
	}
	return out, nil
}

// MaxContactsPage is the largest page GET /contacts serves.
const MaxContactsPage = 1000

// ListContactsParams pages through contacts. Sort orders by creation, not
// modification: to follow changes, keep ModifiedSince fixed for a whole pass
// and dedupe by ID.
type ListContactsParams struct {
	Limit         int // 1..MaxContactsPage; 0 for Brevo's default (50)
	Offset        int
	ModifiedSince time.Time // zero for no filter
	Sort          string    // "asc", "desc" or "" (Brevo's default, desc)
}

// ContactsPage is one page of contacts and the total the filter matches.
type ContactsPage struct {
	Contacts []ContactInfo `json:"contacts"`
	Count    int64         `json:"count"`
}

// ListContacts reads one page of contacts.
func (c *Client) ListContacts(ctx context.Context, p ListContactsParams) (ContactsPage, error) {
	switch {
	case p.Limit < 0 || p.Limit > MaxContactsPage:
		return ContactsPage{}, fmt.Errorf("brevo: listing contacts: limit %d not in 0..%d", p.Limit, MaxContactsPage)
	case p.Offset < 0:
		return ContactsPage{}, fmt.Errorf("brevo: listing contacts: offset %d is negative", p.Offset)
	case p.Sort != "" && p.Sort != "asc" && p.Sort != "desc":
		return ContactsPage{}, fmt.Errorf("brevo: listing contacts: sort %q is not asc or desc", p.Sort)
	}
	q := url.Values{}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Offset > 0 {
		q.Set("offset", strconv.Itoa(p.Offset))
	}
	if !p.ModifiedSince.IsZero() {
		q.Set("modifiedSince", p.ModifiedSince.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	}
	if p.Sort != "" {
		q.Set("sort", p.Sort)
	}
	var out ContactsPage
	if _, err := c.do(ctx, apiCall{method: http.MethodGet, path: "/contacts", query: q}, &out); err != nil {
		return ContactsPage{}, err
	}
	return out, nil
}
