package app_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/apikeys"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/tools/sandbox/currents"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// eventsEnv is the users pipeline with the events side running: the
// gateway on a free loopback port, both events workers, an API key.
type eventsEnv struct {
	*env
	url, token, key string
}

func startEvents(t *testing.T, e *env) *eventsEnv {
	t.Helper()
	keys, err := apikeys.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := keys.Create("e2e")
	if err != nil {
		t.Fatal(err)
	}
	ee := &eventsEnv{env: e, token: "currents-secret-token", key: key}
	ready := make(chan string, 1)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- e.app.RunEvents(ctx, app.EventsOptions{
			Gateway: gateway.Config{Listen: "127.0.0.1:0", CurrentsToken: ee.token, Keys: keys},
			Brevo:   brevo.Config{BaseURL: e.sb.BrevoURL, APIKey: e.sb.BrevoAPIKey},
			Ready:   func(addr string) { ready <- addr },
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("events side: %v", err)
		}
	})
	select {
	case addr := <-ready:
		ee.url = "http://" + addr
	case err := <-done:
		t.Fatalf("events side stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("gateway not listening after 30s")
	}
	return ee
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not after %s: %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCurrentsEventsEndToEnd sends 10,000 Currents events (5% of batches
// re-sent, 1% of unknown types) for synced users through the gateway: each
// lands exactly once on its own contact's Brevo timeline; unsubscribes
// blocklist the email; a handleEvent call lands on user_12345's timeline.
func TestCurrentsEventsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: skipped with -short")
	}
	e := start(t, 1000)
	syncNow(t, e, "full")
	ee := startEvents(t, e)

	var users []currents.User
	for _, u := range currents.UsersOf(e.sb.Gen) {
		if c, ok := e.sb.Brevo.ContactByExtID(u.ExternalID); ok {
			u.Email = c.Email // the address Brevo holds, as Braze would know it
			users = append(users, u)
		}
	}
	if len(users) < 500 {
		t.Fatalf("only %d synced users with an ext_id", len(users))
	}
	var mu sync.Mutex
	sentTo := map[string]string{} // event id -> ext_id
	unsubscribed := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	st, err := currents.Run(ctx, currents.Config{
		URL: ee.url + "/v1/braze/currents", Token: ee.token, Users: users, Events: 10000, Seed: 7,
		Acked: func(evs []currents.Event) {
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range evs {
				sentTo[ev.ID] = ev.User.ExternalUserID
				if ev.Type == "users.messages.email.Unsubscribe" ||
					ev.Type == "users.behaviors.subscription.GlobalStateChange" && ev.Properties["subscription_status"] == "Unsubscribed" {
					unsubscribed[ev.User.ExternalUserID] = true
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("emitter: %+v", st)
	if st.Events != 10000 || st.Resent == 0 || st.Unknown == 0 {
		t.Fatalf("emitter sent %d events, re-sent %d batches, %d unknown: want 10000, some, some", st.Events, st.Resent, st.Unknown)
	}

	// handleEvent, as the page's SDK posts it.
	if _, err := brevoClient(t, e).UpsertContact(ctx, brevo.Contact{ExtID: "user_12345", Email: "user12345@example.com"}); err != nil {
		t.Fatal(err)
	}
	body := `{"type":"user.event","payload":{"external_id":"user_12345","name":"product_viewed","properties":{"product_id":"sku-1","price":9.5}}}`
	resp := post(t, ee.url+"/v1/connectors/braze/events", ee.key, body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("handleEvent answered %d", resp.StatusCode)
	}

	waitFor(t, 2*time.Minute, "every event on a timeline", func() bool {
		return e.sb.Brevo.State().Events.Count >= 10001
	})
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive now
	if n := e.sb.Brevo.State().Events.Count; n != 10001 {
		t.Fatalf("Brevo holds %d events, want 10001", n)
	}
	// A batch's blocklists follow its events (through the contacts
	// endpoint, at its own pace): the last ones may trail the last event.
	notBlocked := func() []string {
		var out []string
		for _, u := range users {
			if c, _ := e.sb.Brevo.ContactByExtID(u.ExternalID); unsubscribed[u.ExternalID] && !c.EmailBlacklisted {
				out = append(out, u.ExternalID)
			}
		}
		return out
	}
	waitFor(t, time.Minute, "every unsubscribe blocklisted", func() bool { return len(notBlocked()) == 0 })
	seen := map[string]int{}
	for _, u := range users {
		c, _ := e.sb.Brevo.ContactByExtID(u.ExternalID)
		for _, ev := range e.sb.Brevo.Events(c.ID) {
			id, _ := ev.EventProperties["braze_event_id"].(string)
			seen[id]++
			if sentTo[id] != u.ExternalID {
				t.Fatalf("event %s (%s) on %s's timeline, sent for %q", id, ev.Name, u.ExternalID, sentTo[id])
			}
			if ev.Name == "" || strings.Contains(ev.Name, ".") {
				t.Fatalf("event %s named %q", id, ev.Name)
			}
		}
	}
	for id := range sentTo {
		if seen[id] != 1 {
			t.Fatalf("event %s is on Brevo timelines %d times", id, seen[id])
		}
	}
	if len(unsubscribed) == 0 {
		t.Fatal("no unsubscribe was sent: the blocklist went untested")
	}
	u, _ := e.sb.Brevo.ContactByExtID("user_12345")
	evs := e.sb.Brevo.Events(u.ID)
	if len(evs) != 1 || evs[0].Name != "product_viewed" || evs[0].EventProperties["product_id"] != "sku-1" {
		t.Fatalf("user_12345's timeline: %+v", evs)
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer rcancel()
	n, err := loader.EventsProcessed(rctx, e.app.State.KeyValue())
	if err != nil || n != 10001 {
		t.Fatalf("eventsProcessed = %d, %v; want 10001", n, err)
	}
}

func brevoClient(t *testing.T, e *env) *brevo.Client {
	t.Helper()
	c, err := brevo.New(brevo.Config{BaseURL: e.sb.BrevoURL, APIKey: e.sb.BrevoAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func post(t *testing.T, url, key, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
