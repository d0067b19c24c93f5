package brevo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestUpsertContact(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name        string
		contact     Contact
		status      int
		wantBody    map[string]any
		wantCreated bool
	}{
		{
			name:        "created, blacklist flags absent when unset",
			contact:     Contact{Email: "ann@example.com", ExtID: "u1", Attributes: map[string]any{"FIRSTNAME": "Ann"}, ListIDs: []int64{7}},
			status:      http.StatusCreated,
			wantBody:    map[string]any{"email": "ann@example.com", "ext_id": "u1", "attributes": map[string]any{"FIRSTNAME": "Ann"}, "listIds": []any{7.0}, "updateEnabled": true},
			wantCreated: true,
		},
		{
			name:     "updated, explicit flags sent as given",
			contact:  Contact{ExtID: "u2", EmailBlacklisted: &yes, SMSBlacklisted: &no},
			status:   http.StatusNoContent,
			wantBody: map[string]any{"ext_id": "u2", "updateEnabled": true, "emailBlacklisted": true, "smsBlacklisted": false},
		},
		{
			name:     "keyed by SMS alone",
			contact:  Contact{Attributes: map[string]any{"SMS": "+33612345678"}},
			status:   http.StatusNoContent,
			wantBody: map[string]any{"attributes": map[string]any{"SMS": "+33612345678"}, "updateEnabled": true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body map[string]any
			c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/contacts" {
					http.NotFound(w, r)
					return
				}
				_ = json.NewDecoder(r.Body).Decode(&body)
				w.WriteHeader(tt.status)
				if tt.status == http.StatusCreated {
					_, _ = w.Write([]byte(`{"id":122}`))
				}
			})
			created, err := c.UpsertContact(context.Background(), tt.contact)
			if err != nil || created != tt.wantCreated {
				t.Fatalf("UpsertContact = %v, %v; want %v", created, err, tt.wantCreated)
			}
			if !reflect.DeepEqual(body, tt.wantBody) {
				t.Fatalf("body = %v\nwant %v", body, tt.wantBody)
			}
		})
	}
}

func TestUpsertContactWithoutIdentifier(t *testing.T) {
	c, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	_, err := c.UpsertContact(context.Background(), Contact{Attributes: map[string]any{"FIRSTNAME": "x"}})
	if !errors.Is(err, ErrNoIdentifier) || len(rec.All()) != 0 {
		t.Fatalf("err = %v after %d calls", err, len(rec.All()))
	}
}

func TestContact(t *testing.T) {
	var gotURI string
	c, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		gotURI = r.RequestURI
		_, _ = w.Write([]byte(`{"email":"a+b/c@example.com","id":42,"emailBlacklisted":false,"smsBlacklisted":true,
			"createdAt":"2017-05-02T16:40:31Z","modifiedAt":"2017-05-02T18:40:31.123+02:00","listIds":[40],
			"attributes":{"FIRSTNAME":"Peggy","AGE":31},"statistics":{"messagesSent":[]}}`))
	})
	got, err := c.Contact(context.Background(), "a+b/c@example.com", IdentifierEmail)
	if err != nil {
		t.Fatal(err)
	}
	if gotURI != "/contacts/a+b%2Fc@example.com?identifierType=email_id" {
		t.Fatalf("request URI %q", gotURI)
	}
	want := ContactInfo{
		ID: 42, Email: "a+b/c@example.com", SMSBlacklisted: true,
		CreatedAt:  time.Date(2017, 5, 2, 16, 40, 31, 0, time.UTC),
		ModifiedAt: time.Date(2017, 5, 2, 16, 40, 31, 123e6, time.UTC),
		ListIDs:    []int64{40}, Attributes: map[string]any{"FIRSTNAME": "Peggy", "AGE": 31.0},
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.ModifiedAt.Equal(want.ModifiedAt) {
		t.Fatalf("times = %v, %v", got.CreatedAt, got.ModifiedAt)
	}
	got.CreatedAt, got.ModifiedAt = want.CreatedAt, want.ModifiedAt
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("contact = %+v\nwant %+v", got, want)
	}
	if calls := rec.All(); len(calls) != 1 || strings.Contains(calls[0].Path, "example") {
		t.Fatalf("calls = %+v: the email must not be reported", calls)
	}
}

func TestListContacts(t *testing.T) {
	var query map[string][]string
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query()
		_, _ = w.Write([]byte(`{"contacts":[{"id":1,"email":"a@x.io","listIds":[],"attributes":{}},{"id":2,"listIds":[3],"attributes":{"SMS":"336"}}],"count":1234}`))
	})
	ctx := context.Background()
	since := time.Date(2026, 1, 2, 4, 5, 6, 7e6, time.FixedZone("CET", 3600))
	page, err := c.ListContacts(ctx, ListContactsParams{Limit: 1000, Offset: 2000, ModifiedSince: since, Sort: "asc"})
	if err != nil {
		t.Fatal(err)
	}
	wantQuery := map[string][]string{"limit": {"1000"}, "offset": {"2000"}, "modifiedSince": {"2026-01-02T03:05:06.007Z"}, "sort": {"asc"}}
	if !reflect.DeepEqual(query, wantQuery) {
		t.Fatalf("query = %v, want %v", query, wantQuery)
	}
	if page.Count != 1234 || len(page.Contacts) != 2 || page.Contacts[1].Attributes["SMS"] != "336" {
		t.Fatalf("page = %+v", page)
	}

	for _, p := range []ListContactsParams{{Limit: 1001}, {Limit: -1}, {Offset: -1}, {Sort: "modified"}} {
		if _, err := c.ListContacts(ctx, p); err == nil {
			t.Errorf("ListContacts(%+v) succeeded, want a validation error", p)
		}
	}
}

func TestAttributes(t *testing.T) {
	var created []string
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/contacts/attributes":
			_, _ = w.Write([]byte(`{"attributes":[{"name":"FIRSTNAME","category":"normal","type":"text"},
				{"name":"GENDER","category":"category","type":"text","enumeration":[{"value":1,"label":"M"}]}]}`))
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/contacts/attributes/"):
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			if r.URL.Path == "/contacts/attributes/normal/EXISTS" {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"code":"invalid_parameter","message":"Attribute name must be unique"}`))
				return
			}
			created = append(created, r.URL.Path+" "+body["type"].(string))
			w.WriteHeader(http.StatusCreated)
		default:
			http.NotFound(w, r)
		}
	})
	ctx := context.Background()
	attrs, err := c.Attributes(ctx)
	want := []Attribute{{"FIRSTNAME", "normal", "text"}, {"GENDER", "category", "text"}}
	if err != nil || !reflect.DeepEqual(attrs, want) {
		t.Fatalf("Attributes = %+v, %v", attrs, err)
	}
	if err := c.CreateAttribute(ctx, "normal", "BRAZE_ID", "text"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateAttribute(ctx, "normal", "EXISTS", "date"); err == nil || Retryable(err) {
		t.Fatalf("existing attribute: err = %v, want a permanent error", err)
	}
	if err := c.CreateAttribute(ctx, "normal", "NOTYPE", ""); err == nil {
		t.Fatal("a normal attribute without a type was accepted")
	}
	if !reflect.DeepEqual(created, []string{"/contacts/attributes/normal/BRAZE_ID text"}) {
		t.Fatalf("created = %v", created)
	}
}
