package mapping

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Phone numbers are normalised to E.164 with libphonenumber's metadata.
// phonenumbers.Parse plus IsValidNumber costs ~30 µs a number on the
// reference machine, mostly in an extension regexp run on every input: too
// slow for million-user exports. So the common shapes ("+1 415-555-2671",
// "(415) 555-2671", "07911 123456": digits, an optional leading '+', and
// spaces, dashes, dots, slashes or parentheses) take a fast path that
// applies the same metadata rules with regexps compiled once per region,
// also to a national prefix typed after the country code ("+44 (0)20 …")
// and to the region's international call prefix typed instead of '+'
// ("0049 151 …") when that prefix is plain digits. The fast path only ever
// answers "valid, and here is the E.164 form"; anything else (letters,
// extensions, leading zeros that Italy keeps, regions whose national prefix
// needs a rewrite rule, numbers it cannot confirm) goes to the library.
// TestPhoneFastPathAgreesWithLibrary and FuzzPhoneFastPath pin the two
// paths to the same answers.

// normalizePhone returns raw in E.164, reading numbers without a country
// code as numbers of region.
func normalizePhone(raw, region string) (string, error) {
	if e164, ok := fastE164(raw, region); ok {
		return e164, nil
	}
	return slowE164(raw, region)
}

// slowE164 is the library's answer.
func slowE164(raw, region string) (string, error) {
	num, err := phonenumbers.Parse(raw, region)
	if err != nil {
		return "", fmt.Errorf("not a phone number (region %s)", region)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("not a valid phone number for its country (region %s)", region)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// fastE164 handles the common shapes; ok is false when the library must
// decide.
func fastE164(raw, region string) (string, bool) {
	digits, plus, ok := cleanPhone(raw)
	if !ok {
		return "", false
	}
	if plus {
		return internationalE164(digits)
	}
	meta := regionMetadata(region)
	if meta == nil {
		return "", false
	}
	if meta.idd != "" && len(digits) > len(meta.idd) && strings.HasPrefix(digits, meta.idd) {
		// "0049 151 …": the region's international call prefix, then a
		// country code (none starts with 0: then the library reads no
		// prefix, and neither is this read here).
		if digits[len(meta.idd)] == '0' {
			return "", false
		}
		return internationalE164(digits[len(meta.idd):])
	}
	// libphonenumber strips the national prefix whenever what remains is
	// a possible number; when the stripped form is not valid the library
	// must decide between the two readings.
	end, ok := meta.nationalPrefixEnd(digits)
	if !ok {
		return "", false
	}
	national := digits[end:]
	if national == "" || national[0] == '0' {
		return "", false
	}
	regions := phonenumbers.GetRegionCodesForCountryCode(meta.countryCode)
	if !validForCountry(meta.countryCode, regions, national) {
		return "", false
	}
	return "+" + strconv.Itoa(meta.countryCode) + national, true
}

// internationalE164 is fastE164 for digits that start with a country code
// (after a '+' or the region's international call prefix).
func internationalE164(digits string) (string, bool) {
	if digits == "" || digits[0] == '0' {
		return "", false // no country code starts with 0 ("+01 201 …" is not +1)
	}
	for l := 1; l <= 3 && l < len(digits); l++ {
		cc, _ := strconv.Atoi(digits[:l])
		regions := phonenumbers.GetRegionCodesForCountryCode(cc)
		if len(regions) == 0 {
			continue // country codes are prefix-free: try a longer one
		}
		national := digits[l:]
		if national[0] == '0' {
			// "+44 (0)20 …": the national prefix typed after the country
			// code. The library strips it as from a national number, by
			// the metadata of the code's main region, and takes the
			// stripped number when it is possible; it is taken here when
			// it is valid, else the library decides.
			meta := regionOrNonGeo(regions[0], cc)
			if meta == nil {
				return "", false
			}
			end, ok := meta.nationalPrefixEnd(national)
			if !ok || end == 0 {
				return "", false // Italy keeps its leading zero: the library's job
			}
			national = national[end:]
			if national == "" || national[0] == '0' {
				return "", false
			}
		}
		if !validForCountry(cc, regions, national) {
			return "", false
		}
		return "+" + digits[:l] + national, true
	}
	return "", false
}

// cleanPhone drops the formatting people type and reports whether only
// digits remain (after an optional leading '+').
func cleanPhone(raw string) (digits string, plus, ok bool) {
	// Spaces only: the library refuses a number that ends in a tab or a line
	// break, and that is its answer to give.
	if len(raw) > phonenumbers.MAX_INPUT_STRING_LENGTH {
		return "", false, false // the library refuses it whole
	}
	s := strings.Trim(raw, " ")
	if strings.HasPrefix(s, "+") {
		plus, s = true, s[1:]
	}
	var b [32]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(b) {
				return "", false, false
			}
			b[n] = c
			n++
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/':
		default:
			return "", false, false
		}
	}
	if n < 4 {
		return "", false, false
	}
	return string(b[:n]), plus, true
}

// validForCountry mirrors phonenumbers.IsValidNumber: among the regions
// sharing a country code, the first whose leading digits match (or, lacking
// leading digits, that validates the number) decides.
func validForCountry(cc int, regions []string, national string) bool {
	if len(regions) == 1 {
		m := regionOrNonGeo(regions[0], cc)
		return m != nil && m.valid(national)
	}
	for _, r := range regions {
		m := regionOrNonGeo(r, cc)
		if m == nil {
			continue
		}
		if m.leadingDigits != nil {
			if m.leadingDigits.MatchString(national) {
				return m.valid(national)
			}
			continue
		}
		if m.valid(national) {
			return true
		}
	}
	return false
}

// numberDesc is one compiled number pattern with its possible lengths.
type numberDesc struct {
	lengths []int32 // empty: any length the general description allows
	re      *regexp.Regexp
}

func (d numberDesc) matches(national string) bool {
	if len(d.lengths) > 0 {
		found := false
		for _, l := range d.lengths {
			if int32(len(national)) == l {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return d.re.MatchString(national)
}

// phoneMeta is what the fast path needs of one region's metadata.
type phoneMeta struct {
	countryCode    int
	nationalPrefix *regexp.Regexp // national_prefix_for_parsing, anchored; nil if none
	transform      bool           // the region has a national prefix transform rule
	idd            string         // the international call prefix when it is plain digits ("00", "011"); "" otherwise
	leadingDigits  *regexp.Regexp
	general        numberDesc
	types          []numberDesc
}

// nationalPrefixEnd is where the national prefix libphonenumber strips
// from digits ends (maybeStripNationalPrefixAndCarrierCode): 0 when the
// region's national_prefix_for_parsing does not match them, the end of the
// whole match when it does and nothing is rewritten (no transform rule, or
// the pattern's last group took no part: a carrier code caught in a group
// changes nothing of the number). ok is false when the library would
// rewrite the number by the transform rule: its job.
func (m *phoneMeta) nationalPrefixEnd(digits string) (end int, ok bool) {
	if m.nationalPrefix == nil {
		return 0, true
	}
	loc := m.nationalPrefix.FindStringSubmatchIndex(digits)
	if loc == nil {
		return 0, true
	}
	if m.transform {
		// The library rewrites unless the last group did not match; with
		// no group, its "last group" is the whole match, which did.
		groups := len(loc)/2 - 1
		if groups == 0 || loc[2*groups] >= 0 {
			return 0, false
		}
	}
	return loc[1], true
}

// valid is libphonenumber's IsValidNumberForRegion: the number fits the
// general description and at least one number type.
func (m *phoneMeta) valid(national string) bool {
	if !m.general.matches(national) {
		return false
	}
	for _, t := range m.types {
		if t.matches(national) {
			return true
		}
	}
	return false
}

var (
	phoneIndexOnce sync.Once
	phoneByRegion  map[string]*phonenumbers.PhoneMetadata
	phoneNonGeo    map[int]*phonenumbers.PhoneMetadata
	phoneCompiled  sync.Map // region or "001+cc" -> *phoneMeta; compiled on first use
)

func loadPhoneIndex() {
	phoneByRegion = map[string]*phonenumbers.PhoneMetadata{}
	phoneNonGeo = map[int]*phonenumbers.PhoneMetadata{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		// The metadata is embedded in the library: failing to read it is a
		// broken build. With an empty index every number takes the slow path.
		return
	}
	for _, m := range coll.GetMetadata() {
		if m.GetId() == "001" {
			phoneNonGeo[int(m.GetCountryCode())] = m
		} else {
			phoneByRegion[m.GetId()] = m
		}
	}
}

func regionMetadata(region string) *phoneMeta { return regionOrNonGeo(region, 0) }

func regionOrNonGeo(region string, cc int) *phoneMeta {
	key := region
	if region == "001" {
		key = "001+" + strconv.Itoa(cc)
	}
	if m, ok := phoneCompiled.Load(key); ok {
		return m.(*phoneMeta)
	}
	phoneIndexOnce.Do(loadPhoneIndex)
	var md *phonenumbers.PhoneMetadata
	if region == "001" {
		md = phoneNonGeo[cc]
	} else {
		md = phoneByRegion[region]
	}
	if md == nil {
		return nil
	}
	m := compilePhoneMeta(md)
	phoneCompiled.Store(key, m)
	return m
}

func compilePhoneMeta(md *phonenumbers.PhoneMetadata) *phoneMeta {
	m := &phoneMeta{
		countryCode: int(md.GetCountryCode()),
		transform:   md.GetNationalPrefixTransformRule() != "",
		general:     compileDesc(md.GetGeneralDesc()),
	}
	if idd := md.GetInternationalPrefix(); idd != "" && strings.Trim(idd, "0123456789") == "" {
		m.idd = idd
	}
	npp := md.GetNationalPrefixForParsing()
	if npp == "" {
		npp = md.GetNationalPrefix() // the library's default too
	}
	if npp != "" {
		m.nationalPrefix = regexp.MustCompile("^(?:" + npp + ")")
	}
	if ld := md.GetLeadingDigits(); ld != "" {
		m.leadingDigits = regexp.MustCompile("^(?:" + ld + ")")
	}
	// Fixed line and mobile first: most numbers are one of them.
	for _, d := range []*phonenumbers.PhoneNumberDesc{
		md.GetFixedLine(), md.GetMobile(), md.GetTollFree(), md.GetPremiumRate(),
		md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(), md.GetPager(),
		md.GetUan(), md.GetVoicemail(),
	} {
		if d.GetNationalNumberPattern() == "" {
			continue
		}
		m.types = append(m.types, compileDesc(d))
	}
	return m
}

func compileDesc(d *phonenumbers.PhoneNumberDesc) numberDesc {
	return numberDesc{
		lengths: d.GetPossibleLength(),
		re:      regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$"),
	}
}
