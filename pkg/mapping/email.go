package mapping

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// normalizeEmail trims and lower-cases an address and checks it is a bare
// address Brevo will take: RFC 5322 as net/mail reads it, no display name
// or angle brackets, and a dot in the domain (Brevo refuses "a@localhost").
// Lower-casing the local part is not RFC-correct but is what both vendors
// do when they match contacts by email.
func normalizeEmail(raw string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	if strings.ContainsRune(s, utf8.RuneError) {
		// Invalid UTF-8 in the export (replaced by U+FFFD when decoded).
		return "", fmt.Errorf("is not valid UTF-8")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("not an email address")
	}
	if addr.Name != "" || addr.Address != s {
		return "", fmt.Errorf("has a display name or brackets; only the bare address is accepted")
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", fmt.Errorf("the domain has no dot, or an empty label")
	}
	return s, nil
}
