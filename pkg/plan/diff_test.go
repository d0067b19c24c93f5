package plan

import (
	"context"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/proto"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

func TestDiff(t *testing.T) {
	cases := []struct {
		name       string
		want, have map[string]any
		changed    []string
	}{
		{"same text", map[string]any{"FIRSTNAME": "Ann"}, map[string]any{"FIRSTNAME": "Ann"}, nil},
		{"changed text", map[string]any{"FIRSTNAME": "Anna"}, map[string]any{"FIRSTNAME": "Ann"}, []string{"FIRSTNAME"}},
		{"new value", map[string]any{"CITY": "Paris"}, map[string]any{}, []string{"CITY"}},
		{"unset a value", map[string]any{"CITY": nil}, map[string]any{"CITY": "Paris"}, []string{"CITY"}},
		{"unset what is absent", map[string]any{"CITY": nil}, map[string]any{}, nil},
		{"date printed as a date-time", map[string]any{"DOB": "1990-04-02"}, map[string]any{"DOB": "1990-04-02T00:00:00.000Z"}, nil},
		{"another date", map[string]any{"DOB": "1990-04-02"}, map[string]any{"DOB": "1990-04-03T00:00:00.000Z"}, []string{"DOB"}},
		{"SMS without its plus", map[string]any{"SMS": "+33612345678"}, map[string]any{"SMS": "33612345678"}, nil},
		{"same number", map[string]any{"REVENUE": 12.5}, map[string]any{"REVENUE": 12.5}, nil},
		{"number changed", map[string]any{"REVENUE": 12.5}, map[string]any{"REVENUE": 10.0}, []string{"REVENUE"}},
		{"boolean changed", map[string]any{"VIP": true}, map[string]any{"VIP": false}, []string{"VIP"}},
		{"attributes not sent are not compared", map[string]any{}, map[string]any{"OTHER": "x"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, ch := range Diff(c.want, c.have) {
				got = append(got, ch.Attribute)
			}
			if !reflect.DeepEqual(got, c.changed) {
				t.Fatalf("changed %v, want %v", got, c.changed)
			}
		})
	}
}

// TestFetchDiffsAgainstSimulator reads contacts from the sandbox's Brevo
// simulator over HTTP: one that exists with other values, one that does not.
func TestFetchDiffsAgainstSimulator(t *testing.T) {
	const key = "xkeysib-test"
	sim := brevosim.New(brevosim.Config{APIKey: key})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := brevo.New(brevo.Config{BaseURL: srv.URL + "/v3", APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.CreateAttribute(ctx, "normal", "CITY", "text"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpsertContact(ctx, brevo.Contact{Email: "ann@example.com", ExtID: "u1",
		Attributes: map[string]any{"FIRSTNAME": "Ann", "CITY": "Lyon"}}); err != nil {
		t.Fatal(err)
	}
	writes := sim.Requests()

	p := New()
	for _, up := range []Write{
		{Record: "u1", ExtID: "u1", Email: "ann@example.com", Op: proto.OpUpdate,
			Attributes: map[string]any{"FIRSTNAME": "Ann", "CITY": "Paris"}},
		{Record: "bob@example.com", Email: "bob@example.com", Op: proto.OpCreate,
			Attributes: map[string]any{"FIRSTNAME": "Bob"}},
	} {
		if err := p.PlanWrite(ctx, up); err != nil {
			t.Fatal(err)
		}
	}
	n, err := p.FetchDiffs(ctx, c, 0)
	if err != nil || n != 2 {
		t.Fatalf("FetchDiffs = %d, %v", n, err)
	}
	got := map[string]Contact{}
	for _, c := range p.Contacts() {
		got[c.Key] = c
	}
	if u := got["u1"]; !u.Checked || !u.InBrevo || !reflect.DeepEqual(u.Changes, []Change{{Attribute: "CITY", From: "Lyon", To: "Paris"}}) {
		t.Errorf("u1: %+v; want found, CITY Lyon -> Paris", u)
	}
	if b := got["email:bob@example.com"]; !b.Checked || b.InBrevo || !reflect.DeepEqual(b.Changes, []Change{{Attribute: "FIRSTNAME", To: "Bob"}}) {
		t.Errorf("bob: %+v; want not found, FIRSTNAME new", b)
	}
	// Reading is all it did.
	after := sim.Requests()
	for k, v := range after {
		if v != writes[k] && k[:4] != "GET " {
			t.Errorf("FetchDiffs made a write: %s (%d)", k, v-writes[k])
		}
	}
}
