package loader

import (
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tajo-sync/tajo/pkg/mapping"
)

// When a Braze attribute that was synced becomes null or disappears, the
// mapped contact simply lacks it, and Brevo would keep the old value for
// ever: an absent attribute is left alone, by design (it may be another
// tool's). So the loader remembers, with each applied contact, which of the
// mapping's attributes it wrote (a bit per attribute, in the applied
// record), and clears the ones written before and absent now by sending
// them empty (an import with emptyContactsAttributes, or "" on a single
// upsert). An attribute the connector never wrote is never cleared.

// attrSet names the mapping's attributes in a fixed order, with a
// signature of that order: a mask written under another mapping is not
// read (nothing is cleared until the contact is written again).
type attrSet struct {
	names []string
	index map[string]int
	sig   string
	// masks interns the masks made: every upsert a batch holds has one,
	// and a mapping's contacts hold few distinct ones.
	masks *maskIntern
}

// maskIntern keeps one copy of each mask, up to maxMasks of them.
type maskIntern struct {
	mu sync.Mutex
	m  map[string]string
}

const maxMasks = 4096

// intern is b as a string, the kept copy when there is one.
func (in *maskIntern) intern(b []byte) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.m) < maxMasks {
		in.m[s] = s
	}
	return s
}

func newAttrSet(attrs []mapping.Attribute) attrSet {
	s := attrSet{index: map[string]int{}, masks: &maskIntern{m: map[string]string{}}}
	for _, a := range attrs {
		switch a.Name {
		case smsAttr, "EMAIL", "EXT_ID": // identifiers: never cleared this way
			continue
		}
		s.names = append(s.names, a.Name)
	}
	sort.Strings(s.names)
	for i, n := range s.names {
		s.index[n] = i
	}
	h := sha256.Sum256([]byte(strings.Join(s.names, "\x00")))
	s.sig = hex.EncodeToString(h[:4])
	return s
}

// mask encodes which of the set's attributes attrs holds: the set's
// signature, a dot, and the bits (attribute i is bit i) in hexadecimal.
func (s attrSet) mask(attrs map[string]any) string {
	var buf [64]byte
	b := append(append(buf[:0], s.sig...), '.')
	if len(s.names) <= 64 {
		var w uint64
		for name, v := range attrs {
			if i, ok := s.index[name]; ok && v != nil && v != "" {
				w |= 1 << i
			}
		}
		b = strconv.AppendUint(b, w, 16)
	} else {
		var n big.Int
		for name, v := range attrs {
			if i, ok := s.index[name]; ok && v != nil && v != "" {
				n.SetBit(&n, i, 1)
			}
		}
		b = n.Append(b, 16)
	}
	if s.masks == nil {
		return string(b)
	}
	return s.masks.intern(b)
}

// cleared lists the attributes prev (a mask) holds and attrs does not.
func (s attrSet) cleared(prev string, attrs map[string]any) []string {
	sig, bits, ok := strings.Cut(prev, ".")
	if !ok || sig != s.sig {
		return nil
	}
	var b big.Int
	if _, ok := b.SetString(bits, 16); !ok {
		return nil
	}
	var out []string
	for i, name := range s.names {
		if b.Bit(i) == 0 {
			continue
		}
		if v, ok := attrs[name]; !ok || v == nil || v == "" {
			out = append(out, name)
		}
	}
	return out
}

// clearedMasks lists the attributes prev (a mask) holds and cur (a mask of
// the same set) does not.
func (s attrSet) clearedMasks(prev, cur string) []string {
	psig, pbits, ok := strings.Cut(prev, ".")
	csig, cbits, ok2 := strings.Cut(cur, ".")
	if !ok || !ok2 || psig != s.sig || csig != s.sig {
		return nil
	}
	var p, c big.Int
	if _, ok := p.SetString(pbits, 16); !ok {
		return nil
	}
	if _, ok := c.SetString(cbits, 16); !ok {
		return nil
	}
	var out []string
	for i, name := range s.names {
		if p.Bit(i) == 1 && c.Bit(i) == 0 {
			out = append(out, name)
		}
	}
	return out
}
