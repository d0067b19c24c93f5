package plan

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sort"
	"sync"

	"github.com/tajo-sync/tajo/proto"
)

// Write is one contact write a dry run records instead of sending: what
// the loader would make Brevo hold.
type Write struct {
	Record string // the connector's record key
	ExtID  string
	Email  string
	// Op is how the loader counts the write (it alone decides):
	// proto.OpCreate or proto.OpUpdate.
	Op string
	// Attributes as they would be sent: an attribute to clear is "".
	Attributes map[string]any
	// ListIDs are the Brevo lists the contact would join.
	ListIDs       []int64
	SourceVersion int64
}

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
	// ListIDs are the Brevo lists the contact would join.
	ListIDs []int64

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

// PlanWrite records w; of two writes of one record, the one with the newer
// source version stays (as in a real run, the older one never overwrites).
func (p *Plan) PlanWrite(_ context.Context, w Write) error {
	if w.Record == "" {
		return errors.New("planning a contact write: empty record key")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.contacts[w.Record]; ok && prev.SourceVersion > w.SourceVersion {
		return nil
	}
	p.contacts[w.Record] = &Contact{
		Key: identity(w), Record: w.Record, ExtID: w.ExtID, Email: w.Email, Op: w.Op,
		Attributes: maps.Clone(w.Attributes), SourceVersion: w.SourceVersion, ListIDs: slices.Clone(w.ListIDs),
	}
	return nil
}

// identity names the contact as Brevo knows it; the record key of a user
// without an ext_id is an internal braze_id an operator cannot look up.
func identity(w Write) string {
	switch {
	case w.ExtID != "":
		return w.ExtID
	case w.Email != "":
		return "email:" + w.Email
	}
	return w.Record
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
