package twoway

import (
	"context"
	"fmt"
	"slices"

	"github.com/tajo-sync/tajo/pkg/mapping"
)

// braze_wins is kept by reading before writing: the writer looks up the
// users of updates that carry a Check (POST /users/export/ids), and a
// field whose Braze value is no longer the one the sides agreed on is not
// written; Undo puts the record back, so the next export sees Braze's
// change as a change and writes it to Brevo.

// LookupFields are the fields_to_export of a look-up that BrazeHashes can
// read.
func (s *Syncer) LookupFields() (fields, custom []string) {
	fields, custom = s.p.mapper.ExportFields()
	for _, f := range []string{"braze_id", "external_id"} {
		if !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	return fields, custom
}

// BrazeHashes reads a Braze user object (a look-up's, or an export line)
// and returns the hash of each two-way field's value, by Brevo name.
func (s *Syncer) BrazeHashes(user []byte) (map[string]uint64, error) {
	c, err := s.p.mapper.Map(user)
	if err != nil {
		return nil, fmt.Errorf("twoway: reading a Braze user: %w", err)
	}
	out := map[string]uint64{}
	for _, f := range s.p.fields {
		var v any
		if f.Brevo == mapping.TargetEmail {
			if c.Email != "" {
				v = c.Email
			}
		} else {
			v = c.Attributes[f.Brevo]
		}
		if h, ok := f.hash(v); ok {
			out[f.Brevo] = h
		}
	}
	return out, nil
}

// BrazeField is the Braze name of a two-way field given by its Brevo name.
func (s *Syncer) BrazeField(brevo string) (string, bool) {
	f, ok := s.p.byBrevo[brevo]
	return f.Braze, ok
}

// Undo records that Brevo's changes of these fields (Brevo name -> the
// hash Braze was expected to hold) were not written because Braze changed
// them: the record agrees again on the expected value, so the export that
// shows Braze's change passes it on to Brevo.
func (s *Syncer) Undo(ctx context.Context, key string, expected map[string]uint64) error {
	_, err := s.state.Modify(ctx, []string{recordKey(key)}, func(_, cur string, ok bool) (string, bool, bool) {
		rec, err := decodeRecord(cur)
		if err != nil {
			return cur, false, false
		}
		for f, h := range expected {
			set(&rec.H, f, h)
			rec.settle(f)
		}
		return rec.encode(), true, false
	})
	if err != nil {
		return fmt.Errorf("twoway: undoing Brevo's changes Braze overrode: %w", err)
	}
	return nil
}
