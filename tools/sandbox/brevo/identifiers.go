package brevo

import "strings"

// normalizeEmail lower-cases an address and checks its shape loosely (one @, a
// dotted domain, no blanks), as Brevo's "Invalid email address" check does.
func normalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || strings.ContainsAny(s, " \t\r\n,;<>") {
		return "", false
	}
	domain := s[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 || dot == len(domain)-1 || strings.Contains(domain, "..") {
		return "", false
	}
	return s, true
}

// normalizePhone accepts a number with its country code, written "+33 6 12...",
// "0033612..." or "33612...", and returns it in E.164. A national number ("06...")
// has no country code and is refused, as Brevo refuses it.
func normalizePhone(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -().", r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, "00"):
		s = s[2:]
	}
	if len(s) < 8 || len(s) > 15 || s[0] == '0' {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return "+" + s, true
}
