package logging

import (
	"strings"
	"testing"
)

func TestRedactorString(t *testing.T) {
	const key = "sandbox-braze-0123456789abcdef"
	r := NewRedactor(key, "", "short")
	tests := []struct {
		name, in, want string
	}{
		{"configured key", "calling with " + key + " now", "calling with *** now"},
		{"configured key twice", key + key, "******"},
		{"short secrets are ignored", "a short word", "a short word"},
		{"brevo api key", "api-key: xkeysib-0a1b2c3d4e5f-AbCdEf123", "api-key: xkeysib-***"},
		{"brevo smtp key", "xsmtpsib-abc123-XYZ", "xsmtpsib-***"},
		{"bearer token", "Authorization: Bearer abc.DEF-123_x/y+z=", "Authorization: Bearer ***"},
		{"bearer lower case", "authorization: bearer tok123", "authorization: Bearer ***"},
		{"email keeps the domain", "invalid email jane.doe+tag@example.com", "invalid email ***@example.com"},
		{"email in a sub-domain", "x o'brien@mail.corp.example.co.uk y", "x ***@mail.corp.example.co.uk y"},
		{"two emails", "a@b.io,c_d@e.fr", "***@b.io,***@e.fr"},
		{"non-ascii email", "invalid email jörg.müller@exämple.com", "invalid email ***@exämple.com"},
		{"non-latin email", "to 用户@例子.广告 and δοκιμή@παράδειγμα.δοκιμή.", "to ***@例子.广告 and ***@παράδειγμα.δοκιμή."},
		{"combining marks", "from jo\u0308rg@example.com", "from ***@example.com"},
		{"punycode tld", "to иван@пример.xn--p1ai", "to ***@пример.xn--p1ai"},
		{"json-escaped email", `{"email":"j\u00f6rg.m\u00fcller@ex\u00e4mple.com"}`, `{"email":"***@ex\u00e4mple.com"}`},
		{"rfc 5322 specials", "x a!b#c$d&e*f?g^h~i@example.org y", "x ***@example.org y"},
		{"e164", "sms +33612345678 refused", "sms *** refused"},
		{"international spaced", "phone +1 (555) 123-4567.", "phone ***."},
		{"us parentheses", "call (555) 123-4567", "call ***"},
		{"us dashes", "call 555-123-4567", "call ***"},
		{"us dots", "call 555.123.4567", "call ***"},
		{"french national", "tel 06 12 34 56 78", "tel ***"},
		{"uk national", "tel 020 7946 0958", "tel ***"},
		{"iso date stays", "since 2024-01-01", "since 2024-01-01"},
		{"dd-mm-yyyy stays", "on 01-02-2024", "on 01-02-2024"},
		{"time stays", "at 2026-11-28T13:05:01.123Z", "at 2026-11-28T13:05:01.123Z"},
		{"run id stays", "run 20261128T130501Z-ab12cd", "run 20261128T130501Z-ab12cd"},
		{"counts stay", "imported 5000 contacts in 12 batches", "imported 5000 contacts in 12 batches"},
		{"short plus number stays", "delta +12 users", "delta +12 users"},
		{"route stays", "POST /contacts/lists/12/contacts/add", "POST /contacts/lists/12/contacts/add"},
		{"nothing to do", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNilRedactorUsesPatterns(t *testing.T) {
	var r *Redactor
	if got := r.String("key xkeysib-abc to a@b.io"); got != "key xkeysib-*** to ***@b.io" {
		t.Errorf("nil Redactor: %q", got)
	}
}

func FuzzRedactorString(f *testing.F) {
	for _, s := range []string{"a@b.io", "+33612345678", "Bearer x", "xkeysib-1", "06 12 34 56 78", "2024-01-01",
		"jörg.müller@exämple.com", `j\u00f6rg@ex\u00e4mple.com`} {
		f.Add(s)
	}
	const key = "fuzz-secret-key-123"
	r := NewRedactor(key)
	f.Fuzz(func(t *testing.T, s string) {
		out := r.String(s + " " + key)
		if strings.Contains(out, key) {
			t.Fatalf("configured key survived: %q", out)
		}
		if again := r.String(out); again != out {
			t.Fatalf("redaction is not stable: %q then %q", out, again)
		}
	})
}
