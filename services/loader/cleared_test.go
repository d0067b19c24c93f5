package loader

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/tajo-sync/tajo/pkg/mapping"
)

// bigMask is how masks were made before the fast path: applied records
// written then hold masks in this form, which cleared must still read.
func bigMask(s attrSet, attrs map[string]any) string {
	var b big.Int
	for name, v := range attrs {
		if i, ok := s.index[name]; ok && v != nil && v != "" {
			b.SetBit(&b, i, 1)
		}
	}
	return s.sig + "." + b.Text(16)
}

func TestMaskIsTheSameStringAsBefore(t *testing.T) {
	for _, n := range []int{0, 1, 5, 63, 64, 65, 130} {
		var attrs []mapping.Attribute
		for i := range n {
			attrs = append(attrs, mapping.Attribute{Name: fmt.Sprintf("A%03d", i), Type: "text"})
		}
		attrs = append(attrs, mapping.Attribute{Name: smsAttr}, mapping.Attribute{Name: "EMAIL"})
		s := newAttrSet(attrs)
		rng := rand.New(rand.NewPCG(uint64(n), 1))
		for range 200 {
			m := map[string]any{"SMS": "+33600000000", "EMAIL": "a@example.com", "OTHER": "x"}
			for i := range n {
				switch rng.IntN(4) {
				case 0:
					m[fmt.Sprintf("A%03d", i)] = "v"
				case 1:
					m[fmt.Sprintf("A%03d", i)] = ""
				case 2:
					m[fmt.Sprintf("A%03d", i)] = nil
				}
			}
			got, want := s.mask(m), bigMask(s, m)
			if got != want {
				t.Fatalf("%d attributes: mask %q, want %q (the form applied records hold)", n, got, want)
			}
			if again := s.mask(m); again != got {
				t.Fatalf("%d attributes: the same attributes gave %q then %q", n, got, again)
			}
		}
	}
}

func TestMasksAreInterned(t *testing.T) {
	s := newAttrSet([]mapping.Attribute{{Name: "A"}, {Name: "B"}})
	a := s.mask(map[string]any{"A": "x"})
	b := s.mask(map[string]any{"A": "y"})
	if a != b || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatalf("masks %q and %q: want one kept copy", a, b)
	}
	if got := len(s.masks.m); got != 1 {
		t.Fatalf("%d masks kept for one distinct mask, want 1", got)
	}
	for i := range maxMasks + 10 {
		s.masks.intern(fmt.Appendf(nil, "x.%x", i))
	}
	if got := len(s.masks.m); got != maxMasks {
		t.Fatalf("%d masks kept, want at most %d", got, maxMasks)
	}
	if got := s.mask(map[string]any{"B": "z"}); got != s.sig+".2" {
		t.Fatalf("past the cap: mask %q, want %q", got, s.sig+".2")
	}
}
