package twoway

import (
	"github.com/vmihailenco/msgpack/v5"
)

// Record is what the connector knows of one contact key's two-way fields.
// It lives in the tajo_twoway bucket (kvmap: 65,536 sharded keys, not one
// per contact) and stays small: a hash per field, plus, while a Brevo
// change is on its way, that change's value and times.
type Record struct {
	// H is, per field (Brevo name), the hash of the value both sides hold
	// or will hold once the writes in flight land: the agreed value.
	H map[string]uint64 `msgpack:"h,omitempty"`
	// V is, per field, the agreed value when Brevo set it (a Brevo change
	// written, or to be written, to Braze), until an export shows Braze
	// holding it: what the forward direction writes instead of a stale
	// Braze value.
	V map[string]any `msgpack:"v,omitempty"`
	// W is, per field in V, when the connector's write of it to Braze
	// landed (unix ms; 0 while in flight).
	W map[string]int64 `msgpack:"w,omitempty"`
	// C is, per field in V, Brevo's modifiedAt of the change.
	C map[string]int64 `msgpack:"c,omitempty"`
	// F is, per field, the export time of the Braze change the forward
	// direction is writing: a Brevo read older than it is stale.
	F map[string]int64 `msgpack:"f,omitempty"`
	// SV is, per field, the Brevo modifiedAt of the newest value written
	// to Braze: an older update in flight is not sent over it.
	SV map[string]int64 `msgpack:"sv,omitempty"`
	// RV is the newest Brevo modifiedAt handled for the contact: an
	// observation not newer changes nothing.
	RV int64 `msgpack:"rv,omitempty"`
	// ID is the Brevo contact id.
	ID int64 `msgpack:"id,omitempty"`
	// B is the fingerprint (mapping.Contact's) of what Brevo held at RV,
	// as the Braze → Brevo mapping writes it (Observation.FP).
	B string `msgpack:"b,omitempty"`
}

func decodeRecord(s string) (*Record, error) {
	r := &Record{}
	if s == "" {
		return r, nil
	}
	if err := msgpack.Unmarshal([]byte(s), r); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Record) encode() string {
	b, _ := msgpack.Marshal(r) // maps of scalars: cannot fail
	return string(b)
}

func (r *Record) clone() *Record {
	if r == nil {
		return &Record{}
	}
	c := *r
	c.H = cloneMap(r.H)
	c.V = cloneMap(r.V)
	c.W = cloneMap(r.W)
	c.C = cloneMap(r.C)
	c.F = cloneMap(r.F)
	c.SV = cloneMap(r.SV)
	return &c
}

func cloneMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func set[V any](m *map[string]V, k string, v V) {
	if *m == nil {
		*m = map[string]V{}
	}
	(*m)[k] = v
}

func del[V any](m *map[string]V, k string) {
	delete(*m, k)
	if len(*m) == 0 {
		*m = nil
	}
}

// settle forgets a field's Brevo change once Braze is known to hold it.
func (r *Record) settle(f string) {
	del(&r.V, f)
	del(&r.W, f)
	del(&r.C, f)
}

// EmailState is what the connector knows of one email address's
// subscription, under the key "email:<address>": the state Braze was last
// told or will be told, for which Brevo version, and whether the telling
// landed.
type EmailState struct {
	State string `msgpack:"s"`
	At    int64  `msgpack:"t"`
	Sent  bool   `msgpack:"ok,omitempty"`
}

func decodeEmailState(s string) EmailState {
	var e EmailState
	if s != "" {
		_ = msgpack.Unmarshal([]byte(s), &e) // a damaged entry reads as unknown
	}
	return e
}

func (e EmailState) encode() string {
	b, _ := msgpack.Marshal(e)
	return string(b)
}

// EmailKey is the state key of an address's subscription.
func EmailKey(email string) string { return "email:" + email }
