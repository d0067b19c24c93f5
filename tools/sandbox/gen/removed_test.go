package gen

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestRemovedFields: a removed field is absent from the line, whatever the
// filter, and nothing else about the user changes.
func TestRemovedFields(t *testing.T) {
	g := New(6, 400)
	r, ok := Removed(0).Remove("first_name", "custom_attributes.loyalty_points")
	if !ok {
		t.Fatal("first_name and custom_attributes.loyalty_points should be removable")
	}
	if _, ok := r.Remove("braze_id"); ok {
		t.Fatal("braze_id must not be removable: Braze always sends it")
	}
	if _, ok := r.Remove("no_such_field"); ok {
		t.Fatal("an unknown field was accepted")
	}
	if got := r.Names(); len(got) != 2 || got[0] != "custom_attributes.loyalty_points" || got[1] != "first_name" {
		t.Fatalf("Names() = %v", got)
	}
	every := &Filter{Fields: map[string]bool{}}
	for _, f := range Fields() {
		every.Fields[f] = true
	}
	someCA := &Filter{Fields: map[string]bool{"braze_id": true, "first_name": true}, CustomAttributes: map[string]bool{"loyalty_points": true, "vip": true}}
	for i := range g.N() {
		for _, f := range []*Filter{nil, every, someCA} {
			var full, cut map[string]any
			if err := json.Unmarshal(g.AppendLineAt(nil, i, Change{Version: 2}, f), &full); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(g.AppendLineAt(nil, i, Change{Version: 2, Removed: r}, f), &cut); err != nil {
				t.Fatal(err)
			}
			if _, ok := cut["first_name"]; ok {
				t.Fatalf("user %d: first_name still exported after its removal", i)
			}
			ca, _ := cut["custom_attributes"].(map[string]any)
			if _, ok := ca["loyalty_points"]; ok {
				t.Fatalf("user %d: loyalty_points still exported after its removal", i)
			}
			delete(full, "first_name")
			if fca, ok := full["custom_attributes"].(map[string]any); ok {
				delete(fca, "loyalty_points")
			}
			a, _ := json.Marshal(full)
			b, _ := json.Marshal(cut)
			if !bytes.Equal(a, b) {
				t.Fatalf("user %d: removing two fields changed others:\n%s\n%s", i, a, b)
			}
		}
	}
	whole, _ := Removed(0).Remove("custom_attributes")
	var m map[string]any
	if err := json.Unmarshal(g.AppendLineAt(nil, 1, Change{Removed: whole}, someCA), &m); err != nil || m["custom_attributes"] != nil {
		t.Fatalf("custom_attributes removed whole, selected by custom_attributes_to_export: %v (%v)", m, err)
	}
	if len(RemovableFields()) != len(Fields())-1+len(customAttributes) || len(removable) > 32 {
		t.Fatalf("%d removable fields", len(RemovableFields()))
	}
}
