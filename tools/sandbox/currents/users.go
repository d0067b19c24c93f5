package currents

import (
	"strings"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// UsersOf returns the generated users Currents events can name: those with
// an external_id (the connector's key for a Brevo contact), with their
// email when it is a plausible one.
func UsersOf(g *gen.Generator) []User {
	out := make([]User, 0, g.N())
	for i := range g.N() {
		ext, ok := g.ExternalID(i)
		if !ok {
			continue
		}
		u := User{BrazeID: g.BrazeID(i), ExternalID: ext}
		if e, ok := g.Email(i); ok && strings.Contains(e, "@") {
			u.Email = strings.ToLower(strings.TrimSpace(e))
		}
		out = append(out, u)
	}
	return out
}
