package plan

import (
	"context"
	"errors"
	"maps"
	"sort"
	"sync"

	"github.com/tajo-sync/tajo/proto"
)

// Contact is one planned contact upsert.
type Contact struct {
	Key   string // who the contact is in Brevo: its ext_id, else "email:" and its email, else the record key
	ExtID string
	Email string
	// Op is how the run counts it: proto.OpCreate when the connector never
	// sent this key, proto.OpUpdate when it sent other content before.
	Op         string
	Attributes map[string]any
	// SourceVersion orders two upserts of one key: the newer one is planned.
	SourceVersion int64
	// Record is the connector's record key (Key is the Brevo identity).
	Record string

	// Set by FetchDiffs.
	Checked bool     // the current Brevo contact was looked up
	InBrevo bool     // and found
	Changes []Change // attributes that would change, by name
}

// Attribute is a Brevo contact attribute the run would create.
type Attribute struct {
	Name string
	Type string
}

// Plan is what a dry run would write. The zero value is not usable: use New.
type Plan struct {
	mu       sync.Mutex
	contacts map[string]*Contact
	attrs    map[string]string
}

// New returns an empty plan.
func New() *Plan {
	return &Plan{contacts: map[string]*Contact{}, attrs: map[string]string{}}
}

// PlanUpsert records up; of two upserts of one key, the one with the newer
// source version stays (as in a real run, the older one never overwrites).
func (p *Plan) PlanUpsert(_ context.Context, up proto.ContactUpsert) error {
	if up.Key == "" {
		return errors.New("planning an upsert: empty record key")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.contacts[up.Key]; ok && prev.SourceVersion > up.SourceVersion {
		return nil
	}
	p.contacts[up.Key] = &Contact{
		Key: identity(up), Record: up.Key, ExtID: up.ExtID, Email: up.Email, Op: up.Op,
		Attributes: maps.Clone(up.Attributes), SourceVersion: up.SourceVersion,
	}
	return nil
}

// identity names the contact as Brevo knows it; the record key of a user
// without an ext_id is an internal braze_id an operator cannot look up.
func identity(up proto.ContactUpsert) string {
	switch {
	case up.ExtID != "":
		return up.ExtID
	case up.Email != "":
		return "email:" + up.Email
	}
	return up.Key
}

// PlanAttribute records an attribute the run would create.
func (p *Plan) PlanAttribute(_ context.Context, name, typ string) error {
	if name == "" {
		return errors.New("planning an attribute: empty name")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attrs[name] = typ
	return nil
}

// Contacts returns every planned contact, sorted by key.
func (p *Plan) Contacts() []Contact {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Contact, 0, len(p.contacts))
	for _, c := range p.contacts {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Creates returns the planned contacts counted as created, sorted by key.
func (p *Plan) Creates() []Contact { return p.withOp(proto.OpCreate) }

// Updates returns the planned contacts counted as updated, sorted by key.
func (p *Plan) Updates() []Contact { return p.withOp(proto.OpUpdate) }

func (p *Plan) withOp(op string) []Contact {
	var out []Contact
	for _, c := range p.Contacts() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Attributes returns the attributes the run would create, sorted by name.
func (p *Plan) Attributes() []Attribute {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Attribute, 0, len(p.attrs))
	for n, t := range p.attrs {
		out = append(out, Attribute{Name: n, Type: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// setDiff stores what FetchDiffs found for key.
func (p *Plan) setDiff(key string, inBrevo bool, changes []Change) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.contacts[key]; ok {
		c.Checked, c.InBrevo, c.Changes = true, inBrevo, changes
	}
}
