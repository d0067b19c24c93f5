package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// digestVersion changes whenever the mapping code maps a line differently
// than before: a line unchanged since an earlier run is then mapped again.
const digestVersion = 1

// Digest names what the mapper makes of a line besides the line itself:
// two mappers with the same digest map every line alike. The extractor
// skips a line unchanged since the last run only while the digest (with
// whatever else decides the contact, such as its lists) stays the same.
func (m *Mapper) Digest() string {
	h := sha256.New()
	fmt.Fprintf(h, "mapping v%d region=%s email=%s top=%v\n", digestVersion, m.region, m.emailSource, m.emailTop)
	for _, r := range m.rules {
		fmt.Fprintf(h, "%q>%q type=%s top=%v how=%d\n", r.source, r.attr, r.typ, r.top, r.how)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
