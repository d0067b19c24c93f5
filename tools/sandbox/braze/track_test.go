package braze

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// exportAll exports every user with every field and returns them by
// external_id (users without one by "braze:"+braze_id).
func exportAll(t *testing.T, s *Server, base string) map[string]map[string]any {
	t.Helper()
	resp, data := call(t, "POST", base+"/users/export/segment", testKey, map[string]any{
		"segment_id": AllUsersSegmentID, "fields_to_export": gen.Fields(),
	})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("export: %d %s", resp.StatusCode, data)
	}
	e := decode[exportResponse](t, data)
	lines, _ := download(t, e.URL)
	out := map[string]map[string]any{}
	for _, l := range lines {
		var u map[string]any
		if err := json.Unmarshal([]byte(l), &u); err != nil {
			continue // a malformed line, when the generator makes them
		}
		key, _ := u["external_id"].(string)
		if key == "" {
			key = "braze:" + u["braze_id"].(string)
		}
		out[key] = u
	}
	return out
}

func TestUsersTrackWritesWhatExportsShow(t *testing.T) {
	s, ts := start(t, Config{Gen: gen.New(1, 40), ExportDelay: -1})
	ext, _ := s.cfg.Gen.ExternalID(5)
	resp, data := call(t, "POST", ts.URL+"/users/track", testKey, map[string]any{
		"attributes": []any{
			map[string]any{"external_id": ext, "first_name": "Ada", "email_subscribe": "unsubscribed",
				"loyalty_points": 7, "home_city": nil},
			map[string]any{"external_id": "new_user_1", "last_name": "Lovelace", "vip": true},
			map[string]any{"user_alias": map[string]any{"alias_name": "1234", "alias_label": "brevo_id"},
				"_update_existing_only": false, "first_name": "Alias"},
			map[string]any{"user_alias": map[string]any{"alias_name": "999", "alias_label": "brevo_id"}, "first_name": "No"},
		},
		"events": []any{map[string]any{"external_id": ext, "name": "x", "time": "2026-01-02T03:04:05Z"}},
	})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("track: %d %s", resp.StatusCode, data)
	}
	body := decode[map[string]any](t, data)
	if body["attributes_processed"] != 3.0 || body["events_processed"] != 1.0 {
		t.Errorf("processed counts: %s", data)
	}
	// The alias without _update_existing_only:false names nobody: refused alone.
	if errs, _ := body["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["index"] != 3.0 {
		t.Errorf("errors: %s", data)
	}
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}

	users := exportAll(t, s, ts.URL)
	u := users[ext]
	ca, _ := u["custom_attributes"].(map[string]any)
	if u["first_name"] != "Ada" || u["email_subscribe"] != "unsubscribed" || ca["loyalty_points"] != 7.0 {
		t.Errorf("export of %s after track: %v", ext, u)
	}
	if _, ok := u["home_city"]; ok {
		t.Errorf("home_city was unset (null) but is exported: %v", u["home_city"])
	}
	if n := users["new_user_1"]; n == nil || n["last_name"] != "Lovelace" || n["braze_id"] == "" {
		t.Errorf("created user exported as %v", n)
	}
	var alias map[string]any
	for _, x := range users {
		if x["first_name"] == "Alias" {
			alias = x
		}
	}
	if alias == nil || alias["user_aliases"] == nil {
		t.Errorf("alias-only user not exported with its alias: %v", alias)
	}
	if got := s.UserByAlias("1234", "brevo_id"); got["first_name"] != "Alias" {
		t.Errorf("look-up by alias: %v", got)
	}

	// /users/export/ids shows the same.
	resp, data = call(t, "POST", ts.URL+"/users/export/ids", testKey, map[string]any{
		"external_ids": []string{ext, "new_user_1"}, "fields_to_export": []string{"first_name", "last_name", "email_subscribe"},
	})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(data), `"first_name":"Ada"`) || !strings.Contains(string(data), `"last_name":"Lovelace"`) {
		t.Errorf("export ids: %d %s", resp.StatusCode, data)
	}
	if strings.Contains(string(data), "home_city") || strings.Contains(string(data), "vip") {
		t.Errorf("export ids ignores fields_to_export: %s", data)
	}
}

func TestUsersTrackLimitAndPartialErrors(t *testing.T) {
	s, ts := start(t, Config{Gen: gen.New(1, 100), ExportDelay: -1})
	var withExt []int // users that have an external_id
	for i := range 100 {
		if _, ok := s.cfg.Gen.ExternalID(i); ok {
			withExt = append(withExt, i)
		}
	}
	obj := func(k int) map[string]any {
		i := withExt[k]
		ext, _ := s.cfg.Gen.ExternalID(i)
		return map[string]any{"external_id": ext, "first_name": fmt.Sprint("n", i)}
	}
	ev := func(k int) map[string]any {
		ext, _ := s.cfg.Gen.ExternalID(withExt[k])
		return map[string]any{"external_id": ext, "name": "e", "time": "2026-01-02T03:04:05Z"}
	}
	// 40 attributes and 36 events: 76 objects in all, over Braze's total.
	var attrs, events []any
	for i := range 40 {
		attrs = append(attrs, obj(i))
	}
	for i := range 36 {
		events = append(events, ev(i))
	}
	resp, data := call(t, "POST", ts.URL+"/users/track", testKey, map[string]any{"attributes": attrs, "events": events})
	wantError(t, resp, data, http.StatusBadRequest, "Max Input Length Exceeded")
	if log := s.TrackLog(); len(log) != 1 || log[0].Objects() != 76 || log[0].Status != 400 {
		t.Fatalf("log %+v", log)
	}

	// A bad value and a forced failure fail alone; the rest is applied.
	ext3, _ := s.cfg.Gen.ExternalID(withExt[3])
	s.FailTrack(1, ext3)
	bad := obj(1)
	bad["email_subscribe"] = "maybe"
	resp, data = call(t, "POST", ts.URL+"/users/track", testKey, map[string]any{"attributes": []any{obj(0), bad, obj(2), obj(3)}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("partial: %d %s", resp.StatusCode, data)
	}
	got := decode[struct {
		Errors []TrackError `json:"errors"`
	}](t, data)
	if len(got.Errors) != 2 || got.Errors[0].Index != 1 || got.Errors[1].Index != 3 || got.Errors[0].InputArray != "attributes" {
		t.Fatalf("errors %+v", got.Errors)
	}
	for _, k := range []int{0, 2} {
		ext, _ := s.cfg.Gen.ExternalID(withExt[k])
		if u := s.User(ext); u["first_name"] != fmt.Sprint("n", withExt[k]) {
			t.Errorf("user %d first_name %v", withExt[k], u["first_name"])
		}
	}
	if u := s.User(ext3); u["first_name"] == fmt.Sprint("n", withExt[3]) {
		t.Error("the object made to fail was applied")
	}
	// The failure was for one request: sent again, it is applied.
	resp, _ = call(t, "POST", ts.URL+"/users/track", testKey, map[string]any{"attributes": []any{obj(3)}})
	if resp.StatusCode != http.StatusCreated || s.User(ext3)["first_name"] != fmt.Sprint("n", withExt[3]) {
		t.Errorf("re-sent object: %d %v", resp.StatusCode, s.User(ext3)["first_name"])
	}
	log := s.TrackLog()
	if last := log[len(log)-1]; len(last.Users) != 1 || last.Users[0] != ext3 {
		t.Errorf("last request's users %v", last.Users)
	}
}

func TestEmailStatusAndSubscriptionGroups(t *testing.T) {
	s, ts := start(t, Config{Gen: gen.New(1, 60), ExportDelay: -1})
	var i int
	var email string
	for i = range 60 {
		if e, ok := s.cfg.Gen.Email(i); ok && strings.Contains(e, "@") && len(s.cfg.Gen.IndicesOfEmail(e)) == 1 {
			email = e
			break
		}
	}
	if email == "" {
		t.Fatal("no user with a unique email")
	}
	resp, data := call(t, "POST", ts.URL+"/email/status", testKey, map[string]any{"email": email, "subscription_state": "unsubscribed"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("email/status: %d %s", resp.StatusCode, data)
	}
	ext, _ := s.cfg.Gen.ExternalID(i)
	if users := exportAll(t, s, ts.URL); users[ext]["email_subscribe"] != "unsubscribed" {
		t.Errorf("exported email_subscribe %v", users[ext]["email_subscribe"])
	}
	if l := s.EmailStatusLog(); len(l) != 1 || l[0].State != "unsubscribed" || l[0].Emails[0] != email {
		t.Errorf("email log %+v", l)
	}
	resp, data = call(t, "POST", ts.URL+"/subscription/status/set", testKey, map[string]any{
		"subscription_group_id": "grp-1", "subscription_state": "unsubscribed", "external_id": []string{ext},
	})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("subscription/status/set: %d %s", resp.StatusCode, data)
	}
	if got := s.SubscriptionState("grp-1", "external_id:"+ext); got != "unsubscribed" {
		t.Errorf("group state %q", got)
	}
}

func TestUsersDelete(t *testing.T) {
	s, ts := start(t, Config{Gen: gen.New(1, 20), ExportDelay: -1})
	s.AddKey("no-delete", PagePermissions...)
	ext, _ := s.cfg.Gen.ExternalID(4)
	resp, data := call(t, "POST", ts.URL+"/users/delete", "no-delete", map[string]any{"external_ids": []string{ext}})
	wantError(t, resp, data, http.StatusForbidden, "Access Denied")
	resp, data = call(t, "POST", ts.URL+"/users/delete", testKey, map[string]any{"external_ids": []string{ext}})
	if resp.StatusCode != http.StatusCreated || decode[map[string]any](t, data)["deleted"] != 1.0 {
		t.Fatalf("delete: %d %s", resp.StatusCode, data)
	}
	if users := exportAll(t, s, ts.URL); users[ext] != nil {
		t.Error("a deleted user is exported")
	}
	if s.User(ext) != nil {
		t.Error("a deleted user is found")
	}
}

// TestContractWrites checks the write endpoints against the community
// OpenAPI spec (its bodies are loosely typed: objects and arrays).
func TestContractWrites(t *testing.T) {
	s, ts := start(t, Config{Gen: gen.New(1, 20), ExportDelay: -1})
	ext, _ := s.cfg.Gen.ExternalID(1)
	doc := loadBrazeSpec(t, ts.URL, "/users/track", "/email/status", "/subscription/status/set", "/users/delete")
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	for _, tc := range []struct {
		path, body string
		status     int
	}{
		{"/users/track", `{"attributes":[{"external_id":"` + ext + `","first_name":"A"}],"events":[{"external_id":"` + ext + `","name":"e","time":"2026-01-02T03:04:05Z"}]}`, 201},
		{"/users/track", `{"attributes":[{"external_id":"` + ext + `","email_subscribe":"x"},{"external_id":"` + ext + `","last_name":"B"}]}`, 201},
		// The spec types errors[] as strings; Braze's docs give objects
		// (type, input_array, index), which the docs win: not checked here.
		{"/email/status", `{"email":"a@example.com","subscription_state":"unsubscribed"}`, 201},
		{"/subscription/status/set", `{"subscription_group_id":"g","subscription_state":"unsubscribed","email":["a@example.com"]}`, 201},
		{"/users/delete", `{"external_ids":["` + ext + `"]}`, 201},
	} {
		t.Run(tc.path+" "+fmt.Sprint(tc.status), func(t *testing.T) {
			newReq := func() *http.Request {
				req, err := http.NewRequest("POST", ts.URL+tc.path, bytes.NewReader([]byte(tc.body)))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+testKey)
				req.Header.Set("Content-Type", "application/json")
				return req
			}
			route, params, err := router.FindRoute(newReq())
			if err != nil {
				t.Fatal(err)
			}
			in := &openapi3filter.RequestValidationInput{Request: newReq(), PathParams: params, Route: route, Options: opts}
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				t.Fatalf("the request breaks the spec: %v", err)
			}
			resp, err := http.DefaultClient.Do(newReq())
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, data)
			}
			validateResponse(ctx, t, in, resp, data)
		})
	}
}
