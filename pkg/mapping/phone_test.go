package mapping

import (
	"testing"
)

// phoneCorpus are numbers as people type them, with the region they would
// be read in. Each is checked against phonenumbers itself.
var phoneCorpus = []struct{ in, region string }{
	{"+14155552671", "US"}, {"+1 415-555-2671", "GB"}, {"(415) 555-2671", "US"}, {"415.555.2671", "US"},
	{"4155552671", "US"}, {"1-415-555-2671", "US"}, {"1 (415) 555 2671", "US"}, {"+1 (212) 555-0100", "US"},
	{"212 555 0100", "US"}, {"+1 555 555 5555", "US"}, {"555-5555", "US"}, {"604 555 0199", "CA"},
	{"+1 604 555 0199", "US"}, {"+1 868 620 1234", "US"}, {"+1 242 357 1234", "US"}, {"787 555 1234", "PR"},
	{"+442071838750", "US"}, {"020 7183 8750", "GB"}, {"07911 123456", "GB"}, {"+44 7911 123456", "FR"},
	{"+44 (0)20 7183 8750", "GB"}, {"0044 20 7183 8750", "GB"}, {"44 20 7183 8750", "GB"}, {"1800201234567", "GB"},
	{"06 12 34 56 78", "FR"}, {"+33 6 12 34 56 78", "US"}, {"0612345678", "FR"}, {"33612345678", "FR"},
	{"030 1234567", "DE"}, {"+49 30 1234567", "US"}, {"0151 23456789", "DE"}, {"+49 151 23456789", "DE"},
	{"+39 06 6982 1234", "IT"}, {"06 6982 1234", "IT"}, {"+39 312 345 6789", "IT"}, {"312 345 6789", "IT"},
	{"+34 612 34 56 78", "ES"}, {"612 34 56 78", "ES"}, {"+31 6 12345678", "NL"}, {"06-12345678", "NL"},
	{"+61 2 9876 5432", "AU"}, {"(02) 9876 5432", "AU"}, {"0412 345 678", "AU"}, {"+61 412 345 678", "US"},
	{"+81 3-1234-5678", "JP"}, {"03-1234-5678", "JP"}, {"090-1234-5678", "JP"},
	{"+55 11 91234-5678", "BR"}, {"(11) 91234-5678", "BR"}, {"011 91234 5678", "BR"},
	{"+54 9 11 1234-5678", "AR"}, {"011 15-1234-5678", "AR"},
	{"+52 55 1234 5678", "MX"}, {"55 1234 5678", "MX"}, {"+91 98765 43210", "IN"}, {"098765 43210", "IN"},
	{"+86 138 0013 8000", "CN"}, {"138 0013 8000", "CN"}, {"+7 912 345-67-89", "RU"}, {"8 912 345-67-89", "RU"},
	{"+800 1234 5678", "US"}, {"+882 13 1234 5678", "US"}, {"+999 123 4567", "US"}, {"+0 123", "US"},
	{"415.555.2671 x12", "US"}, {"+1 415 555 2671 ext. 3", "US"}, {"call me maybe", "US"}, {"12345", "US"},
	{"", "US"}, {"+", "US"}, {"00000000000", "US"}, {"+1 415 555 26711", "US"}, {"415-555-267", "US"},
	{"tel:+14155552671", "US"}, {"+1\u00a0415\u00a0555\u00a02671", "US"}, {"＋１ ４１５ ５５５ ２６７１", "US"},
	{"  +14155552671  ", "US"}, {"+1/415/555/2671", "US"}, {"((415)) 555--2671", "US"}, {"4155552671", "ZZ"},
	// A national prefix after the country code, an international call
	// prefix instead of '+', and both.
	{"+49 (0)89 55333333", "DE"}, {"0049 151 55333333", "DE"}, {"0049 (0)151 55333333", "DE"}, {"00 33 6 12 34 56 78", "FR"},
	{"+33 (0)6 12 34 56 78", "US"}, {"0033 (0)6 12 34 56 78", "FR"}, {"011 44 20 7183 8750", "US"}, {"0044 (0)20 7183 8750", "GB"},
	{"+39 (0)6 6982 1234", "IT"}, {"0039 06 6982 1234", "IT"}, {"0049 30 1234567", "US"}, {"000 49 30 1234567", "DE"},
	{"00 0 123 4567", "DE"}, {"0049", "DE"}, {"00499", "DE"}, {"+44 (0)7911 123456", "GB"}, {"+44 7911 333333", "GB"},
	{"+61 (0)4 1234 5678", "AU"}, {"0061 412 345 678", "AU"}, {"0011 61 412 345 678", "AU"}, {"+7 (8) 912 345-67-89", "RU"},
	{"+1 (0) 415 555 2671", "US"}, {"+800 (0) 1234 5678", "US"}, {"0081 3-1234-5678", "JP"}, {"010 81 3-1234-5678", "JP"},
}

// TestPhoneFastPathAgreesWithLibrary pins the fast path to what
// phonenumbers.Parse + IsValidNumber + Format(E164) answer.
func TestPhoneFastPathAgreesWithLibrary(t *testing.T) {
	fast := 0
	for _, tc := range phoneCorpus {
		want, wantErr := slowE164(tc.in, tc.region)
		got, err := normalizePhone(tc.in, tc.region)
		if (err != nil) != (wantErr != nil) || got != want {
			t.Errorf("normalizePhone(%q, %s) = %q, %v; library says %q, %v", tc.in, tc.region, got, err, want, wantErr)
		}
		if e164, ok := fastE164(tc.in, tc.region); ok {
			fast++
			if e164 != want {
				t.Errorf("fastE164(%q, %s) = %q; library says %q, %v", tc.in, tc.region, e164, want, wantErr)
			}
		}
	}
	// The common shapes must not all fall through to the slow path.
	if fast < len(phoneCorpus)/3 {
		t.Errorf("the fast path answered %d of %d numbers; it should take the common shapes", fast, len(phoneCorpus))
	}
	t.Logf("fast path answered %d of %d", fast, len(phoneCorpus))
}

func TestPhoneFastPathTakesCommonShapes(t *testing.T) {
	for _, tc := range []struct{ in, region, want string }{
		{"+14155552671", "US", "+14155552671"},
		{"(415) 555-2671", "US", "+14155552671"},
		{"1-415-555-2671", "US", "+14155552671"},
		{"07911 123456", "GB", "+447911123456"},
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"+33 6 12 34 56 78", "US", "+33612345678"},
		{"604 555 0199", "CA", "+16045550199"},
		{"+44 (0)20 7183 8750", "GB", "+442071838750"},
		{"+49 (0)89 55333333", "US", "+498955333333"},
		{"0049 151 23456789", "DE", "+4915123456789"},
		{"011 44 20 7183 8750", "US", "+442071838750"},
		{"0412 345 678", "AU", "+61412345678"},
		{"(11) 91234-5678", "BR", "+5511912345678"},
		{"011 91234 5678", "BR", "+5511912345678"},
	} {
		got, ok := fastE164(tc.in, tc.region)
		if !ok || got != tc.want {
			t.Errorf("fastE164(%q, %s) = %q, %v; want %q from the fast path", tc.in, tc.region, got, ok, tc.want)
		}
	}
}

func BenchmarkNormalizePhone(b *testing.B) {
	b.Run("fast", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := normalizePhone("(415) 555-2671", "US"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("library", func(b *testing.B) {
		for b.Loop() {
			if _, err := slowE164("(415) 555-2671", "US"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzPhoneFastPath: whatever is typed, in whichever region, an answer of
// the fast path is the library's.
func FuzzPhoneFastPath(f *testing.F) {
	regions := []string{"US", "GB", "FR", "DE", "CA", "ES", "IT", "NL", "BR", "IN", "AU", "JP", "RU", "AR", "MX", "CN"}
	for i, tc := range phoneCorpus {
		f.Add(tc.in, uint8(i))
	}
	f.Fuzz(func(t *testing.T, in string, r uint8) {
		region := regions[int(r)%len(regions)]
		got, ok := fastE164(in, region)
		if !ok {
			return
		}
		want, err := slowE164(in, region)
		if err != nil || got != want {
			t.Errorf("fastE164(%q, %s) = %q; library says %q, %v", in, region, got, want, err)
		}
	})
}
