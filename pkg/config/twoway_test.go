package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/pkg/twoway"
)

func TestTwoWaySection(t *testing.T) {
	const file = `
connectors:
  braze:
    instance_url: rest.iad-01.braze.com
  brevo:
    two_way:
      enabled: true
      poll_interval: 30s
      api_key_name: tajo
      conflict: brevo_wins
      subscription_group_id: grp-1
      fields:
        first_name: both
        last_name: {direction: both, conflict: braze_wins}
        preferred_language: brevo_to_braze
`
	cfg, err := Parse("t.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.TwoWayPolicy()
	if err != nil || p == nil {
		t.Fatalf("policy: %v", err)
	}
	got := map[string]string{}
	for _, f := range p.Fields() {
		got[f.Braze] = string(f.Direction) + "/" + string(f.Conflict)
	}
	want := map[string]string{"first_name": "both/brevo_wins", "last_name": "both/braze_wins", "preferred_language": "brevo_to_braze/"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	// A field Brevo alone writes is not mapped Braze → Brevo.
	if _, ok := cfg.MappingOptions().Fields["preferred_language"]; ok {
		t.Error("preferred_language (brevo_to_braze) is still in the forward mapping")
	}
	if _, ok := cfg.MappingOptions().Fields["first_name"]; !ok {
		t.Error("first_name (both) left the forward mapping")
	}
	if o := cfg.TwoWayOptions(); o.APIKeyName != "tajo" || o.SubscriptionGroupID != "grp-1" {
		t.Errorf("options %+v", o)
	}
}

func TestTwoWayRefusesWhatItCannotDo(t *testing.T) {
	const file = `
connectors:
  braze:
    instance_url: rest.iad-01.braze.com
  brevo:
    two_way:
      enabled: true
      poll_interval: 0s
      conflict: loudest_wins
      colour: blue
      fields:
        external_id: both
        push_opted_in: brevo_to_braze
        favourite_colour: both
        first_name: sideways
        last_name: {direction: brevo_to_braze, conflict: brevo_wins}
`
	_, err := Parse("t.yaml", []byte(file))
	var ves ValidationErrors
	if !errors.As(err, &ves) {
		t.Fatalf("want validation errors, got %v", err)
	}
	text := err.Error()
	for _, want := range []string{
		"connectors.brevo.two_way.colour: unknown key",
		"two_way.poll_interval: must be a positive duration",
		"two_way.conflict: conflict \"loudest_wins\"",
		"fields.external_id: cannot be written to Braze",
		"fields.push_opted_in: cannot be written to Braze",
		"fields.favourite_colour: is not in field_mapping",
		"fields.first_name: direction \"sideways\"",
		"fields.last_name: a conflict policy applies to direction both only",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	for _, e := range ves {
		if e.Line == 0 {
			t.Errorf("no line for %s: %s", e.Path, e.Msg)
		}
	}
}

func TestTwoWayOffIsNoticed(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("connectors:\n  braze:\n    instance_url: rest.iad-01.braze.com\n  brevo:\n    two_way:\n      fields:\n        first_name: both\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := cfg.TwoWayPolicy(); p != nil || err != nil {
		t.Errorf("two_way off gave a policy %v %v", p, err)
	}
	var found bool
	for _, n := range cfg.Notices() {
		found = found || strings.Contains(n.Path, "two_way.fields")
	}
	if !found {
		t.Errorf("notices %v: want one for two_way.fields", cfg.Notices())
	}
	_ = twoway.Both
}
