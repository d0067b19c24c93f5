package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/apikeys"
	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/logging"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/gateway"
)

const token = "currents-token-0123456789abcdef"

// entries is an audit recorder keeping what it is given.
type entries struct {
	mu sync.Mutex
	es []audit.Entry
}

func (r *entries) Record(e audit.Entry) { r.mu.Lock(); r.es = append(r.es, e); r.mu.Unlock() }
func (r *entries) len() int             { r.mu.Lock(); defer r.mu.Unlock(); return len(r.es) }

type fixture struct {
	url     string
	js      jetstream.JetStream
	key     string
	revoked string
	audit   *entries
	log     *bytes.Buffer
	logMu   *sync.Mutex
}

type syncBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func start(t *testing.T) *fixture {
	t.Helper()
	_, nc, js := natsxtest.Start(t)
	keys, err := apikeys.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := keys.Create("test")
	if err != nil {
		t.Fatal(err)
	}
	revoked, k, err := keys.Create("old")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Revoke(k.ID); err != nil {
		t.Fatal(err)
	}
	f := &fixture{js: js, key: key, revoked: revoked, audit: &entries{}, log: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	log := logging.New(syncBuffer{f.logMu, f.log}, logging.Options{Format: logging.JSON, Secrets: []string{token}})
	g, err := gateway.New(nc, gateway.Config{CurrentsToken: token, BrevoWebhookToken: webhookToken, Keys: keys, Audit: f.audit, Logger: log,
		MaxBodyBytes: 3 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	f.url = "http://" + ln.Addr().String()
	return f
}

func (f *fixture) do(t *testing.T, method, path, auth string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, f.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s answered %d with a body that is not JSON: %q", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func (f *fixture) stored(t *testing.T, stream string) uint64 {
	t.Helper()
	s, err := f.js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().State.Msgs
}

// rawEvents reads every event the RAW stream's events subject holds, and
// how many messages carry them.
func (f *fixture) rawEvents(t *testing.T) (events []proto.RawEvent, msgs int) {
	t.Helper()
	ctx := context.Background()
	s, err := f.js.Stream(ctx, proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil || m.Subject != proto.SubjectRawBrazeEvents {
			continue
		}
		evs, err := proto.DecodeRawEvents(m.Data)
		if err != nil {
			t.Fatalf("RAW message %d: %v", seq, err)
		}
		events, msgs = append(events, evs...), msgs+1
	}
	return events, msgs
}

func batch(n int, from int) []byte {
	evs := make([]string, n)
	for i := range evs {
		evs[i] = fmt.Sprintf(`{"event_type":"users.messages.email.Open","id":"ev-%d","time":1700000000,"user":{"external_user_id":"u%d"},"properties":{"campaign_id":"c"},"brand_new_field":null}`, from+i, i)
	}
	return []byte(`{"events":[` + strings.Join(evs, ",") + `]}`)
}

func TestCurrentsStoresEveryEventBeforeAnswering(t *testing.T) {
	f := start(t)
	code, body := f.do(t, "POST", "/v1/braze/currents", "Bearer "+token, batch(100, 0))
	if code != http.StatusOK || body["accepted"] != 100.0 {
		t.Fatalf("answered %d %v", code, body)
	}
	// One message for the batch, not one per event: the bus's cost is
	// per message.
	if evs, msgs := f.rawEvents(t); len(evs) != 100 || msgs != 1 {
		t.Fatalf("RAW holds %d events in %d messages after the 2xx, want 100 in 1", len(evs), msgs)
	}
	// Braze re-sends the batch: the stream's dedup keeps one copy.
	if code, _ := f.do(t, "POST", "/v1/braze/currents", "bearer "+token, batch(100, 0)); code != http.StatusOK {
		t.Fatalf("re-send answered %d", code)
	}
	if evs, msgs := f.rawEvents(t); len(evs) != 100 || msgs != 1 {
		t.Fatalf("RAW holds %d events in %d messages after a re-send, want 100 in 1", len(evs), msgs)
	}
	// An unknown type and unknown fields travel on as sent.
	unknown := []byte(`{"events":[{"event_type":"users.messages.hologram.Beam","id":"new-1","extra":{"a":[1,2]}}]}`)
	if code, _ := f.do(t, "POST", "/v1/braze/currents", "Bearer "+token, unknown); code != http.StatusOK {
		t.Fatalf("unknown type answered %d", code)
	}
	s, err := f.js.Stream(context.Background(), proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(context.Background(), proto.SubjectRawBrazeEvents)
	if err != nil {
		t.Fatal(err)
	}
	raws, err := proto.DecodeRawEvents(m.Data)
	if err != nil || len(raws) != 1 {
		t.Fatal(raws, err)
	}
	raw := raws[0]
	if raw.ID != "new-1" || raw.Source != proto.EventSourceCurrents || !strings.Contains(string(raw.JSON), `"extra":{"a":[1,2]}`) {
		t.Fatalf("stored %+v %s", raw, raw.JSON)
	}
	if f.audit.len() != 3 {
		t.Fatalf("audit holds %d entries for 3 requests", f.audit.len())
	}
	f.logMu.Lock()
	defer f.logMu.Unlock()
	if strings.Contains(f.log.String(), token) || !strings.Contains(f.log.String(), `"route":"/v1/braze/currents"`) {
		t.Fatalf("access log: %s", f.log.String())
	}
}

// TestRefusedRequestsChangeNothing: unauthenticated, malformed and
// oversized requests get their documented status and a JSON error, and
// nothing reaches the bus.
func TestRefusedRequestsChangeNothing(t *testing.T) {
	f := start(t)
	huge := bytes.Repeat([]byte("x"), 4<<20)
	cases := []struct {
		name, method, path, auth string
		body                     []byte
		want                     int
	}{
		{"currents without a token", "POST", "/v1/braze/currents", "", batch(1, 0), 401},
		{"currents with a wrong token", "POST", "/v1/braze/currents", "Bearer nope", batch(1, 0), 401},
		{"currents with a token one byte short", "POST", "/v1/braze/currents", "Bearer " + token[:len(token)-1], batch(1, 0), 401},
		{"currents with basic auth", "POST", "/v1/braze/currents", "Basic " + token, batch(1, 0), 401},
		{"currents with an API key", "POST", "/v1/braze/currents", "Bearer " + "KEY", batch(1, 0), 401},
		{"currents not JSON", "POST", "/v1/braze/currents", "Bearer " + token, []byte("events"), 400},
		{"currents without events", "POST", "/v1/braze/currents", "Bearer " + token, []byte(`{"data":[]}`), 400},
		{"currents events not an array", "POST", "/v1/braze/currents", "Bearer " + token, []byte(`{"events":{}}`), 400},
		{"currents event not an object", "POST", "/v1/braze/currents", "Bearer " + token, []byte(`{"events":[1]}`), 400},
		{"currents id not a string", "POST", "/v1/braze/currents", "Bearer " + token, []byte(`{"events":[{"id":7}]}`), 400},
		{"currents trailing garbage", "POST", "/v1/braze/currents", "Bearer " + token, append(batch(1, 0), '}'), 400},
		{"currents over 100 events", "POST", "/v1/braze/currents", "Bearer " + token, batch(101, 0), 400},
		{"currents over the size limit", "POST", "/v1/braze/currents", "Bearer " + token, huge, 413},
		{"currents oversized and unauthenticated", "POST", "/v1/braze/currents", "", huge, 401},
		{"events without a key", "POST", "/v1/connectors/braze/events", "", []byte(`{"type":"user.event","payload":{"external_id":"u","name":"n"}}`), 401},
		{"events with a revoked key", "POST", "/v1/connectors/braze/events", "Bearer REVOKED", []byte(`{"type":"user.event","payload":{"external_id":"u","name":"n"}}`), 403},
		{"events with the Currents token", "POST", "/v1/connectors/braze/events", "Bearer " + token, []byte(`{"type":"user.event","payload":{"external_id":"u","name":"n"}}`), 401},
		{"events without a contact", "POST", "/v1/connectors/braze/events", "Bearer KEY", []byte(`{"type":"user.event","payload":{"name":"n"}}`), 400},
		{"events without a name", "POST", "/v1/connectors/braze/events", "Bearer KEY", []byte(`{"type":"user.event","payload":{"external_id":"u"}}`), 400},
		{"events without a type", "POST", "/v1/connectors/braze/events", "Bearer KEY", []byte(`{"payload":{"external_id":"u","name":"n"}}`), 400},
		{"events empty array", "POST", "/v1/connectors/braze/events", "Bearer KEY", []byte(`[]`), 400},
		{"events over the size limit", "POST", "/v1/connectors/braze/events", "Bearer KEY", huge, 413},
		{"status without a key", "GET", "/v1/connectors/braze/status", "", nil, 401},
		{"status with a revoked key", "GET", "/v1/connectors/braze/status", "Bearer REVOKED", nil, 403},
		{"sync with a made-up key", "POST", "/v1/connectors/braze/sync", "Bearer tajo_000000000000_x", nil, 401},
		{"run without a key", "GET", "/v1/connectors/braze/runs/x", "", nil, 401},
		{"connect without a key", "POST", "/v1/connectors/braze/connect", "", []byte(`{}`), 401},
		{"export without a key", "POST", "/v1/connectors/braze/segments/export", "", []byte(`{}`), 401},
		{"export without a segment", "POST", "/v1/connectors/braze/segments/export", "Bearer KEY", []byte(`{"targetList":3}`), 400},
		{"export without a list", "POST", "/v1/connectors/braze/segments/export", "Bearer KEY", []byte(`{"segmentId":"s"}`), 400},
		{"export to a list that is no id", "POST", "/v1/connectors/braze/segments/export", "Bearer KEY", []byte(`{"segmentId":"s","targetList":"vip"}`), 400},
		{"export to list 0", "POST", "/v1/connectors/braze/segments/export", "Bearer KEY", []byte(`{"segmentId":"s","targetList":0}`), 400},
		{"export of an empty attribute", "POST", "/v1/connectors/braze/segments/export", "Bearer KEY", []byte(`{"segmentId":"s","targetList":"3","includeAttributes":[""]}`), 400},
		{"export with an unknown field", "POST", "/v1/connectors/braze/segments/export", "Bearer KEY", []byte(`{"segmentId":"s","x":1}`), 400},
		{"unknown route", "GET", "/v1/nothing", "", nil, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			auth := strings.NewReplacer("KEY", f.key, "REVOKED", f.revoked).Replace(c.auth)
			code, body := f.do(t, c.method, c.path, auth, c.body)
			if code != c.want {
				t.Fatalf("answered %d %v, want %d", code, body, c.want)
			}
			if body["error"] == nil || body["message"] == nil {
				t.Fatalf("error body %v lacks error and message", body)
			}
		})
	}
	for _, s := range []string{proto.StreamRaw, proto.StreamDLQ} {
		if n := f.stored(t, s); n != 0 {
			t.Fatalf("%s holds %d messages after refused requests", s, n)
		}
	}
}

func TestHandleEvent(t *testing.T) {
	f := start(t)
	code, body := f.do(t, "POST", "/v1/connectors/braze/events", "Bearer "+f.key,
		[]byte(`[{"type":"user.event","payload":{"external_id":"user_12345","name":"product_viewed","properties":{"sku":"A"}}},
		         {"type":"user.event","payload":{"email":"a@example.com","name":"signed_up","id":"mine-1"}}]`))
	if code != http.StatusAccepted || body["accepted"] != 2.0 {
		t.Fatalf("answered %d %v", code, body)
	}
	if ids := body["ids"].([]any); len(ids) != 2 || ids[1] != "mine-1" {
		t.Fatalf("ids %v", body["ids"])
	}
	if evs, msgs := f.rawEvents(t); len(evs) != 2 || msgs != 1 {
		t.Fatalf("RAW holds %d events in %d messages, want 2 in 1", len(evs), msgs)
	}
	// Over the bus's MaxPayload (1 MB) but under the body limit: refused,
	// nothing stored, never a failed publish.
	big := `{"type":"user.event","payload":{"external_id":"u","name":"n","properties":{"blob":"` + strings.Repeat("y", 1500<<10) + `"}}}`
	code, body = f.do(t, "POST", "/v1/connectors/braze/events", "Bearer "+f.key, []byte(big))
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("an event over MaxPayload answered %d %v", code, body)
	}
	if n := f.stored(t, proto.StreamRaw); n != 1 {
		t.Fatalf("RAW holds %d messages after a refused event, want 1", n)
	}
	// Without the pipeline's control, its commands say so; the status is
	// read from the bus all the same.
	if code, _ := f.do(t, "POST", "/v1/connectors/braze/sync", "Bearer "+f.key, nil); code != http.StatusServiceUnavailable {
		t.Fatalf("sync without control answered %d", code)
	}
	if code, body := f.do(t, "GET", "/v1/connectors/braze/status", "Bearer "+f.key, nil); code != http.StatusOK || body["connector"] != "braze" {
		t.Fatalf("status without control answered %d %v", code, body)
	}
}

func TestCurrentsBatchOverMaxPayloadIsSplit(t *testing.T) {
	f := start(t)
	// 60 events of 30 KB: 1.8 MB, over the bus's 1 MB MaxPayload.
	evs := make([]string, 60)
	for i := range evs {
		evs[i] = fmt.Sprintf(`{"event_type":"users.behaviors.CustomEvent","id":"s-%d","properties":{"blob":"%s"}}`, i, strings.Repeat("q", 30<<10))
	}
	body := []byte(`{"events":[` + strings.Join(evs, ",") + `]}`)
	code, ans := f.do(t, "POST", "/v1/braze/currents", "Bearer "+token, body)
	if code != http.StatusOK || ans["accepted"] != 60.0 {
		t.Fatalf("answered %d %v", code, ans)
	}
	got, msgs := f.rawEvents(t)
	if len(got) != 60 || msgs < 2 || msgs > 3 {
		t.Fatalf("RAW holds %d events in %d messages, want 60 in 2 or 3", len(got), msgs)
	}
	seen := map[string]bool{}
	for _, ev := range got {
		seen[ev.ID] = true
	}
	if len(seen) != 60 {
		t.Fatalf("%d distinct events of 60", len(seen))
	}
	// The same body again: the same messages, stored once.
	if code, _ := f.do(t, "POST", "/v1/braze/currents", "Bearer "+token, body); code != http.StatusOK {
		t.Fatalf("re-send answered %d", code)
	}
	if _, again := f.rawEvents(t); again != msgs {
		t.Fatalf("%d messages after a re-send, want %d", again, msgs)
	}
}

func TestCurrentsDeadLettersEventsTooLargeForTheBus(t *testing.T) {
	f := start(t)
	big := `{"events":[{"event_type":"users.behaviors.CustomEvent","id":"big-1","properties":{"blob":"` + strings.Repeat("z", 1500<<10) + `"}},` +
		`{"event_type":"users.messages.email.Open","id":"small-1"}]}`
	code, body := f.do(t, "POST", "/v1/braze/currents", "Bearer "+token, []byte(big))
	if code != http.StatusOK || body["accepted"] != 1.0 || body["deadLettered"] != 1.0 {
		t.Fatalf("answered %d %v", code, body)
	}
	if f.stored(t, proto.StreamRaw) != 1 || f.stored(t, proto.StreamDLQ) != 1 {
		t.Fatalf("RAW %d, DLQ %d: want 1 and 1", f.stored(t, proto.StreamRaw), f.stored(t, proto.StreamDLQ))
	}
	s, err := f.js.Stream(context.Background(), proto.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(context.Background(), proto.DLQSubject(proto.StageGateway, "too_large"))
	if err != nil {
		t.Fatalf("no dead letter on dlq.gateway.too_large: %v", err)
	}
	_ = m
}

func TestCurrentsAnswers503WhileJetStreamCannotStore(t *testing.T) {
	f := start(t)
	if err := f.js.DeleteStream(context.Background(), proto.StreamRaw); err != nil {
		t.Fatal(err)
	}
	code, body := f.do(t, "POST", "/v1/braze/currents", "Bearer "+token, batch(3, 0))
	if code != http.StatusServiceUnavailable {
		t.Fatalf("answered %d %v, want 503", code, body)
	}
}

// httptestServer serves h on a loopback port until the test ends.
func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
