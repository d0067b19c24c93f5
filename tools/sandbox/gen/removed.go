package gen

import "slices"

// Removed is a set of fields taken off a user's profile, as when someone
// unsets an attribute in Braze: the export then leaves the key out. Top-level
// fields are named as in Fields ("first_name"), custom attributes as
// "custom_attributes.NAME". braze_id cannot be removed.
type Removed uint32

// customAttributes are the custom attributes a user line can hold, in the
// order written.
var customAttributes = []string{
	"loyalty_points", "last_app_version", "preferred_language", "vip",
	"favorite_categories", "last_purchase_date", "lifetime_score",
}

const customPrefix = "custom_attributes."

// removable maps each removable field name to its bit.
var removable = func() map[string]Removed {
	m := map[string]Removed{}
	bit := Removed(1)
	for _, f := range fields {
		if f != "braze_id" {
			m[f] = bit
			bit <<= 1
		}
	}
	for _, ca := range customAttributes {
		m[customPrefix+ca] = bit
		bit <<= 1
	}
	return m
}()

// RemovableFields lists every name Remove accepts, sorted.
func RemovableFields() []string {
	out := make([]string, 0, len(removable))
	for k := range removable {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Remove adds the named fields to r; ok is false, and r unchanged, when a
// name is not removable.
func (r Removed) Remove(names ...string) (Removed, bool) {
	out := r
	for _, n := range names {
		b, ok := removable[n]
		if !ok {
			return r, false
		}
		out |= b
	}
	return out, true
}

// Names lists the removed fields, sorted.
func (r Removed) Names() []string {
	var out []string
	for k, b := range removable {
		if r&b != 0 {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// has reports whether the top-level field k is removed.
func (r Removed) has(k string) bool { return r != 0 && r&removable[k] != 0 }

// hasCustom reports whether custom attribute k is removed.
func (r Removed) hasCustom(k string) bool {
	return r != 0 && r&removable[customPrefix+k] != 0
}

// Change is what happened to a user since it was generated: its version
// (each bump edits the fields a connector maps) and the fields removed.
type Change struct {
	Version int
	Removed Removed
}

// AppendLineAt is AppendLine for a user with changes: at c.Version, without
// the fields in c.Removed.
func (g *Generator) AppendLineAt(dst []byte, i int, c Change, f *Filter) []byte {
	if i < 0 || i >= g.n {
		return dst
	}
	if !g.Malformed(i, c.Version) {
		return g.appendUser(dst, i, c, f, true)
	}
	switch g.hash(i, 99) % 3 {
	case 0: // the writer died mid-line
		start := len(dst)
		dst = g.appendUser(dst, i, c, f, true)
		return dst[:start+(len(dst)-start)*2/3]
	case 1:
		dst = append(dst, '[')
		dst = g.appendUser(dst, i, c, f, true)
		return append(dst, ']')
	default:
		return g.appendUser(dst, i, c, f, false)
	}
}

// AppendUserAt is AppendUser for a user with changes.
func (g *Generator) AppendUserAt(dst []byte, i int, c Change, f *Filter) []byte {
	if i < 0 || i >= g.n {
		return dst
	}
	return g.appendUser(dst, i, c, f, true)
}
