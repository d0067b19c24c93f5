package braze

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// What POST /users/track, /email/status and /users/delete change is kept
// apart from the generated users: a profile per user written to, holding
// the values set (a nil value unsets the field). Exports and look-ups show
// the generated user with its profile laid over it, so a value written
// through the API is what the next export reads. Users the API creates (an
// unknown external_id, an alias with _update_existing_only false, an email
// nobody has) are numbered after the generated ones.

// profile is what the API wrote to one user. Profiles are replaced, never
// changed in place, so an export can keep the ones it started with.
type profile struct {
	top     map[string]any // standard fields set; nil value: unset
	custom  map[string]any // custom attributes set; nil value: unset
	deleted bool           // removed by /users/delete
}

func (p *profile) clone() *profile {
	if p == nil {
		return &profile{top: map[string]any{}, custom: map[string]any{}}
	}
	return &profile{top: maps.Clone(p.top), custom: maps.Clone(p.custom), deleted: p.deleted}
}

// created is a user the API created; its index is Gen.N() + its position.
type created struct {
	brazeID    string
	externalID string
	alias      *userAlias
	at         int64 // unix seconds
}

// standardTrackFields are the attributes of a user attributes object that
// are profile fields rather than custom attributes (Braze's "user attributes
// object"); the identifiers are handled apart.
var standardTrackFields = map[string]bool{
	"first_name": true, "last_name": true, "email": true, "phone": true, "dob": true,
	"home_city": true, "country": true, "language": true, "time_zone": true, "gender": true,
	"email_subscribe": true, "push_subscribe": true, "date_of_first_session": true,
	"date_of_last_session": true, "image_url": true,
}

// subscribeStates are the values email_subscribe and push_subscribe take.
var subscribeStates = []string{"opted_in", "subscribed", "unsubscribed"}

// userCount is the generated users plus the created ones; call with mu held.
func (s *Server) userCount() int { return s.cfg.Gen.N() + len(s.created) }

// userLine writes user i (generated or created) as of changes c and
// profile p, restricted by f. Call without mu: it only reads its arguments
// and the immutable generator.
func (s *Server) userLine(dst []byte, i int, c gen.Change, p *profile, cr *created, f *gen.Filter, export bool) []byte {
	g := s.cfg.Gen
	if i < g.N() {
		if p == nil || (export && g.Malformed(i, c.Version)) {
			if export {
				return g.AppendLineAt(dst, i, c, f)
			}
			return g.AppendUserAt(dst, i, c, f)
		}
		base := g.AppendUserAt(nil, i, c, nil)
		return overlay(dst, base, p, f)
	}
	base := map[string]any{"braze_id": cr.brazeID, "created_at": isoSeconds(cr.at)}
	if cr.externalID != "" {
		base["external_id"] = cr.externalID
	}
	if cr.alias != nil {
		base["user_aliases"] = []any{map[string]any{"alias_name": cr.alias.AliasName, "alias_label": cr.alias.AliasLabel}}
	}
	raw, _ := json.Marshal(base)
	return overlay(dst, raw, p, f)
}

// overlay lays p over the user object base and writes the fields f selects.
func overlay(dst, base []byte, p *profile, f *gen.Filter) []byte {
	var u map[string]any
	if err := json.Unmarshal(base, &u); err != nil {
		return append(dst, base...) // never: base comes from the generator
	}
	if p != nil {
		for k, v := range p.top {
			if v == nil {
				delete(u, k)
			} else {
				u[k] = v
			}
		}
		if len(p.custom) > 0 {
			ca, _ := u["custom_attributes"].(map[string]any)
			if ca == nil {
				ca = map[string]any{}
			}
			for k, v := range p.custom {
				if v == nil {
					delete(ca, k)
				} else {
					ca[k] = v
				}
			}
			if len(ca) > 0 {
				u["custom_attributes"] = ca
			} else {
				delete(u, "custom_attributes")
			}
		}
	}
	if f != nil && f.Fields != nil {
		for k := range u {
			if k == "braze_id" || f.Fields[k] {
				continue
			}
			if k == "custom_attributes" && f.CustomAttributes != nil {
				ca, _ := u[k].(map[string]any)
				for name := range ca {
					if !f.CustomAttributes[name] {
						delete(ca, name)
					}
				}
				if len(ca) > 0 {
					continue
				}
			}
			delete(u, k)
		}
	}
	out, _ := json.Marshal(u)
	return append(dst, out...)
}

func isoSeconds(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }

// emailOf is user i's email as the API sees it now; call with mu held.
func (s *Server) emailOf(i int) string {
	if p := s.profiles[i]; p != nil {
		if v, ok := p.top["email"]; ok {
			str, _ := v.(string)
			return str
		}
	}
	if i < s.cfg.Gen.N() {
		e, _ := s.cfg.Gen.Email(i)
		return e
	}
	return ""
}

// usersWithEmail lists the live users whose email is addr (compared as
// Braze compares them, ignoring case and surrounding spaces); call with mu
// held. The generated users are found through the generator's index, the
// others among the profiles.
func (s *Server) usersWithEmail(addr string) []int {
	want := strings.ToLower(strings.TrimSpace(addr))
	var out []int
	for _, i := range s.cfg.Gen.IndicesOfEmail(want) {
		if strings.ToLower(strings.TrimSpace(s.emailOf(i))) == want && !s.deleted(i) {
			out = append(out, i)
		}
	}
	for i, p := range s.profiles {
		if v, ok := p.top["email"].(string); ok && strings.ToLower(strings.TrimSpace(v)) == want && !p.deleted && !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

func (s *Server) deleted(i int) bool {
	p := s.profiles[i]
	return p != nil && p.deleted
}

// findUser resolves the identifier of a /users/track object to a user
// index; call with mu held. ok is false when no live user has it.
func (s *Server) findUser(id identity) (int, bool) {
	g := s.cfg.Gen
	var (
		i  int
		ok bool
	)
	switch {
	case id.externalID != "":
		if i, ok = g.IndexOfExternalID(id.externalID); !ok {
			i, ok = s.createdByExt[id.externalID]
		}
	case id.alias != nil:
		if i, ok = g.IndexOfAlias(id.alias.AliasName, id.alias.AliasLabel); !ok {
			i, ok = s.createdByAlias[id.alias.AliasLabel+"\x00"+id.alias.AliasName]
		}
	case id.brazeID != "":
		if i, ok = g.IndexOfBrazeID(id.brazeID); !ok {
			i, ok = s.createdByBrazeID[id.brazeID]
		}
	case id.email != "":
		if found := s.usersWithEmail(id.email); len(found) > 0 {
			i, ok = found[len(found)-1], true // Braze updates the most recent profile
		}
	case id.phone != "":
		if found := g.IndicesOfPhone(id.phone); len(found) > 0 {
			i, ok = found[len(found)-1], true
		}
	}
	if ok && s.deleted(i) {
		return 0, false
	}
	return i, ok
}

// createUser adds a user the API named and nobody has; call with mu held.
func (s *Server) createUser(id identity, now int64) int {
	i := s.userCount()
	cr := created{externalID: id.externalID, alias: id.alias, at: now,
		brazeID: fmt.Sprintf("%08x%016x", uint32(now), mix(uint64(i)^0x637265617465)|1<<63)}
	s.created = append(s.created, cr)
	s.createdByBrazeID[cr.brazeID] = i
	if id.externalID != "" {
		s.createdByExt[id.externalID] = i
	}
	if id.alias != nil {
		s.createdByAlias[id.alias.AliasLabel+"\x00"+id.alias.AliasName] = i
	}
	if id.email != "" {
		p := s.profiles[i].clone()
		p.top["email"] = id.email
		s.profiles[i] = p
	}
	return i
}

// createdOf returns the created user at index i (nil for a generated one);
// call with mu held.
func (s *Server) createdOf(i int) *created {
	if k := i - s.cfg.Gen.N(); k >= 0 && k < len(s.created) {
		c := s.created[k]
		return &c
	}
	return nil
}
