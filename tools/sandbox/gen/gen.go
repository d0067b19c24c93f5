package gen

import (
	"encoding/json"
	"strconv"
	"strings"
)

const (
	// malformedEvery is the block size in which exactly one line is malformed.
	malformedEvery = 2000
	// phoneModulo: every phone template carries the index modulo this.
	phoneModulo = 1_000_000
	// externalIDPrefix starts every external_id; the zero-padded index follows.
	externalIDPrefix = "cust_"

	createdFrom = 1451606400 // 2016-01-01
	createdSpan = 283996800  // up to 2024-12-31
	dayS        = 86400
)

// Filter selects what a line contains. A nil *Filter selects everything.
type Filter struct {
	// Fields are the top-level fields to write; nil means all of them.
	Fields map[string]bool
	// CustomAttributes, when Fields does not select "custom_attributes",
	// names the custom attributes to write in a custom_attributes object;
	// nil means none. This is Braze's custom_attributes_to_export.
	CustomAttributes map[string]bool
}

// fields are the top-level fields of an export line, in the order written.
var fields = []string{
	"created_at", "external_id", "braze_id", "user_aliases", "first_name", "last_name", "email", "dob",
	"home_city", "country", "phone", "language", "time_zone", "gender", "total_revenue", "push_subscribe",
	"push_opted_in_at", "email_subscribe", "custom_attributes", "custom_events", "purchases", "devices", "apps",
}

// Fields returns every top-level field a user line can hold, in the order
// lines write them: what a client puts in fields_to_export for everything
// (Braze has required the list since December 2021).
func Fields() []string { return append([]string(nil), fields...) }

// Generator produces users 0..N()-1. It holds no per-user state.
type Generator struct {
	seed   int64
	n      int
	key    uint64
	block  int // one malformed line per block; 0: no malformed lines
	malOff int // its position in the block
}

// Option changes what New generates.
type Option func(*Generator)

// WithMalformedLines breaks one export line in every block of 2,000 users
// (one line overall when N < 2,000): truncated JSON, an array instead of an
// object, or an object without braze_id. Real Braze exports hold none of
// these (Braze always sends braze_id), so they are off by default; tests of
// a client's dead-lettering turn them on.
func WithMalformedLines() Option {
	return func(g *Generator) {
		g.block = min(g.n, malformedEvery)
		if g.block > 0 {
			g.malOff = int(mix(g.key^0xbad) % uint64(g.block))
		}
	}
}

// New returns a generator of n users for seed. The same (seed, n, options)
// always yields the same users; without options every line is what Braze
// sends.
func New(seed int64, n int, opts ...Option) *Generator {
	if n < 0 {
		n = 0
	}
	g := &Generator{seed: seed, n: n, key: mix(uint64(seed) ^ 0x7a6a6f2d73796e63)}
	for _, o := range opts {
		o(g)
	}
	return g
}

// N is the number of users.
func (g *Generator) N() int { return g.n }

// Seed is the seed the generator was made with.
func (g *Generator) Seed() int64 { return g.seed }

// Malformed reports whether the export line of user i is broken (see
// WithMalformedLines; never without it). It does not depend on the version;
// version is accepted so callers need not care.
func (g *Generator) Malformed(i, version int) bool {
	return g.block > 0 && i >= 0 && i < g.n && i%g.block == g.malOff
}

// MalformedCount is the number of malformed lines in a full export.
func (g *Generator) MalformedCount() int {
	if g.block == 0 {
		return 0
	}
	c := g.n / g.block
	if g.n%g.block > g.malOff {
		c++
	}
	return c
}

// Line returns the export NDJSON line (without newline) of user i at a
// version, or nil when i is out of range.
func (g *Generator) Line(i, version int) []byte {
	return g.AppendLine(make([]byte, 0, 1536), i, version, nil)
}

// AppendLine appends the export line of user i at a version, restricted by f,
// to dst. Malformed users give malformed lines, as in a real export.
func (g *Generator) AppendLine(dst []byte, i, version int, f *Filter) []byte {
	return g.AppendLineAt(dst, i, Change{Version: version}, f)
}

// AppendUser appends user i as a well-formed JSON object even when its export
// line is malformed: the profile exists, only the export file broke. This is
// what a look-up by identifier returns.
func (g *Generator) AppendUser(dst []byte, i, version int, f *Filter) []byte {
	return g.AppendUserAt(dst, i, Change{Version: version}, f)
}

// User returns the decoded export line of user i, or nil when the line is
// malformed or i is out of range. Numbers decode as float64. For tests.
func (g *Generator) User(i, version int) map[string]any {
	if i < 0 || i >= g.n || g.Malformed(i, version) {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(g.Line(i, version), &m); err != nil {
		return nil
	}
	return m
}

// ExternalID returns the external_id of user i; ok is false for the ~3% of
// users without one.
func (g *Generator) ExternalID(i int) (id string, ok bool) {
	if i < 0 || i >= g.n || !g.identity(i).hasExt {
		return "", false
	}
	return string(appendExternalID(nil, i)), true
}

func appendExternalID(b []byte, i int) []byte {
	b = append(b, externalIDPrefix...)
	for d := 1_000_000; d > 1 && i < d; d /= 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(i), 10)
}

// IndexOfExternalID returns the user whose external_id is id.
func (g *Generator) IndexOfExternalID(id string) (int, bool) {
	digits, ok := strings.CutPrefix(id, externalIDPrefix)
	if !ok || len(digits) < 7 {
		return 0, false
	}
	i, err := strconv.Atoi(digits)
	if err != nil || i < 0 || i >= g.n || !g.identity(i).hasExt {
		return 0, false
	}
	if string(appendExternalID(nil, i)) != id { // reject "cust_+000012" and the like
		return 0, false
	}
	return i, true
}

// BrazeID returns the braze_id of user i: 8 hex digits of its creation time
// (like a MongoDB ObjectID) and 16 of an invertible permutation of i.
func (g *Generator) BrazeID(i int) string {
	if i < 0 || i >= g.n {
		return ""
	}
	return string(g.appendBrazeID(nil, i, g.identity(i).created))
}

func (g *Generator) appendBrazeID(b []byte, i int, created int64) []byte {
	for s := 28; s >= 0; s -= 4 {
		b = append(b, hexDigits[(created>>s)&0xf])
	}
	p := (uint64(i) + g.key) * permMul
	for s := 60; s >= 0; s -= 4 {
		b = append(b, hexDigits[(p>>s)&0xf])
	}
	return b
}

// IndexOfBrazeID returns the user whose braze_id is id.
func (g *Generator) IndexOfBrazeID(id string) (int, bool) {
	if len(id) != 24 {
		return 0, false
	}
	p, err := strconv.ParseUint(id[8:], 16, 64)
	if err != nil {
		return 0, false
	}
	i := p*permInv - g.key
	if i >= uint64(g.n) {
		return 0, false
	}
	if g.BrazeID(int(i)) != id {
		return 0, false
	}
	return int(i), true
}

// Email returns the email of user i as exported (with its quirks: padding,
// capitals, sometimes invalid); ok is false when the user has none.
func (g *Generator) Email(i int) (string, bool) {
	if i < 0 || i >= g.n {
		return "", false
	}
	b, ok := g.appendEmail(nil, i, true)
	return string(b), ok
}

// IndicesOfEmail returns the users whose email matches addr, ignoring case
// and surrounding spaces. Several users may share one address.
func (g *Generator) IndicesOfEmail(addr string) []int {
	want := strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndexByte(want, '@')
	if at <= 0 {
		return nil
	}
	k := at
	for k > 0 && want[k-1] >= '0' && want[k-1] <= '9' {
		k--
	}
	j, err := strconv.Atoi(want[k:at])
	if err != nil {
		return nil
	}
	var out []int
	for _, c := range []int{j, j + 1} { // j+1 may have copied j's address
		if e, ok := g.Email(c); ok && strings.ToLower(strings.TrimSpace(e)) == want {
			out = append(out, c)
		}
	}
	return out
}

// Phone returns the phone of user i as exported, in whatever format the
// user typed it; ok is false when the user has none.
func (g *Generator) Phone(i int) (string, bool) {
	if i < 0 || i >= g.n {
		return "", false
	}
	b, ok := g.appendPhone(nil, i, true)
	return string(b), ok
}

// IndicesOfPhone returns the users whose phone is the same number as phone,
// comparing the last nine digits (so "+14155550134" finds "415.555.0134").
func (g *Generator) IndicesOfPhone(phone string) []int {
	want := phoneKey(phone)
	if want == "" {
		return nil
	}
	d, _ := strconv.Atoi(want[len(want)-6:])
	var out []int
	for c := d; c < g.n; c += phoneModulo {
		for _, cand := range []int{c, c + 1} { // c+1 may have copied c's phone
			if p, ok := g.Phone(cand); ok && phoneKey(p) == want {
				out = append(out, cand)
			}
		}
	}
	return out
}

// phoneKey is the last nine digits of a phone, or "" when it has fewer.
func phoneKey(s string) string {
	var d [32]byte
	n := 0
	for i := len(s) - 1; i >= 0 && n < 9; i-- {
		if c := s[i]; c >= '0' && c <= '9' {
			d[n] = c
			n++
		}
	}
	if n < 9 {
		return ""
	}
	for a, b := 0, n-1; a < b; a, b = a+1, b-1 {
		d[a], d[b] = d[b], d[a]
	}
	return string(d[:n])
}

// Alias returns the user alias of user i; ok is false for the 90% of users
// without one.
func (g *Generator) Alias(i int) (name, label string, ok bool) {
	if i < 0 || i >= g.n || !hasAlias(i) {
		return "", "", false
	}
	return aliasPrefix + strconv.Itoa(i), aliasLabel, true
}

// IndexOfAlias returns the user with the alias (name, label).
func (g *Generator) IndexOfAlias(name, label string) (int, bool) {
	digits, ok := strings.CutPrefix(name, aliasPrefix)
	if !ok || label != aliasLabel {
		return 0, false
	}
	i, err := strconv.Atoi(digits)
	if err != nil || i < 0 || i >= g.n || !hasAlias(i) || strconv.Itoa(i) != digits {
		return 0, false
	}
	return i, true
}

const (
	aliasPrefix = "crm-"
	aliasLabel  = "crm_id"
)

func hasAlias(i int) bool { return i%10 == 3 }
