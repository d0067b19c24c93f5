package logging

import (
	"regexp"
	"strings"
)

// Mask replaces what is redacted.
const Mask = "***"

// minSecretLen is the shortest configured secret replaced literally: a
// shorter "key" (a test placeholder, say) would mask ordinary words.
const minSecretLen = 8

var (
	// Brevo API and SMTP keys: xkeysib-<64 hex>-<16 alnum> in real accounts.
	brevoKey = regexp.MustCompile(`\b(xkeysib|xsmtpsib)-[A-Za-z0-9-]+`)
	// An Authorization header value, as printed by a dumped request.
	bearer = regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+`)
	// The local part goes, the domain stays: it says which provider
	// bounced without saying who. Unicode-aware: internationalised
	// addresses (jörg.müller@exämple.com, RFC 6531) have letters and marks
	// of any script on both sides, and a JSON text may carry them escaped
	// (j\u00f6rg); a TLD is letters, or an IDN's punycode (xn--p1ai).
	email = regexp.MustCompile(emailPattern)
	// Phone numbers: international (E.164 or spaced), US-style
	// (555) 123-4567 / 555-123-4567, and European national forms such as
	// 06 12 34 56 78 or 020 7946 0958. Matches are kept only with enough
	// digits (see isPhone), so dates like 2024-01-01 stay readable. A bare
	// run of ten digits is not touched: in logs it is far more often a count,
	// an id or a timestamp.
	phone = regexp.MustCompile(`\+\d[\d .()-]{5,}\d` +
		`|\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}` +
		`|\b\d{3}[ .-]\d{3}[ .-]\d{4}\b` +
		`|\b0\d{1,4}(?:[ .-]\d{2,4}){2,4}\b`)
)

const (
	emailChar    = `[\p{L}\p{M}\p{N}._%+'!#$&*?^~-]|\\u[0-9A-Fa-f]{4}`
	domainChar   = `[\p{L}\p{M}\p{N}-]|\\u[0-9A-Fa-f]{4}`
	emailPattern = `(?:` + emailChar + `)+@((?:(?:` + domainChar + `)+\.)+(?:xn--[A-Za-z0-9-]+|(?:[\p{L}\p{M}]|\\u[0-9A-Fa-f]{4}){2,}))`
)

// Redactor removes secrets and personal data from strings. The zero value
// redacts the patterns only; NewRedactor adds literal secrets.
type Redactor struct {
	secrets []string
}

// NewRedactor returns a Redactor that also replaces each of secrets (the
// configured API keys) wherever it appears. Empty and very short values are
// ignored.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if s = strings.TrimSpace(s); len(s) >= minSecretLen {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

// String returns s with every secret, e-mail local part and phone number
// masked.
func (r *Redactor) String(s string) string {
	if r != nil {
		for _, sec := range r.secrets {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	s = brevoKey.ReplaceAllString(s, "${1}-"+Mask)
	s = bearer.ReplaceAllString(s, "Bearer "+Mask)
	s = email.ReplaceAllString(s, Mask+"@${1}")
	return phone.ReplaceAllStringFunc(s, func(m string) string {
		if isPhone(m) {
			return Mask
		}
		return m
	})
}

// isPhone holds a candidate to the length of real numbers once separators
// are gone: at most 15 digits (E.164), at least 8 with a country code and 9
// without, so that a date such as 01-02-2024 (8 digits) stays.
func isPhone(m string) bool {
	n := 0
	for _, c := range m {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	least := 9
	if strings.HasPrefix(m, "+") {
		least = 8
	}
	return n >= least && n <= 15
}
