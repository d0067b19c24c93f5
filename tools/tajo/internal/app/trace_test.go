package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// In one process too (tajo run), one user's trace runs from the
// extractor's line through the transformer and the loader to the Brevo
// write; and a Currents event's, from its sender's traceparent through
// the gateway, the transformer and the loader to the Brevo events call.
// `make e2e` checks the same across processes in a real Jaeger.
func TestOneTracePerUserInProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const users = 300
	sb := startSandbox(t, ctx, sandbox.Options{Users: users, Seed: 13})
	nc, _ := natsxtest.Conn(t, natsxtest.Server(t))
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())

	a, err := app.New(ctx, app.Options{
		NC:        nc,
		Braze:     braze.Config{BaseURL: sb.BrazeURL, APIKey: sb.BrazeAPIKey},
		Brevo:     brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey},
		Mapping:   mapping.Options{Fields: mapping.DefaultFieldMapping()},
		Extractor: extractor.Config{TempDir: t.TempDir(), Poll: braze.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}},
		Loader:    loader.Config{FirstPoll: 100 * time.Millisecond},
		Logger:    slog.New(slog.DiscardHandler),
		Tracer:    tp.Tracer("test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	attr := func(sp sdktrace.ReadOnlySpan, key string) string {
		for _, kv := range sp.Attributes() {
			if string(kv.Key) == key {
				return kv.Value.Emit()
			}
		}
		return ""
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { done <- a.RunWorkers(wctx) }()
	ready := make(chan string, 1)
	go func() {
		done <- a.RunEvents(wctx, app.EventsOptions{
			Gateway: gateway.Config{Listen: "127.0.0.1:0", CurrentsToken: "trace-token"},
			Brevo:   brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey},
			Ready:   func(addr string) { ready <- addr },
		})
	}()
	s, err := a.Sync(ctx, "full", nil)
	if err != nil || s.Missing != 0 || s.Created == 0 {
		t.Fatalf("sync: %+v, %v", s, err)
	}

	// A Currents batch whose sender traces it: the gateway's span is the
	// child of the caller's, and the event's trace goes on to the Brevo
	// call that writes it.
	bv, err := brevo.New(brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.UpsertContact(ctx, brevo.Contact{ExtID: "user_traced", Email: "traced@example.com"}); err != nil {
		t.Fatal(err)
	}
	cctx, caller := tp.Tracer("caller").Start(ctx, "braze currents send")
	var addr string
	select {
	case addr = <-ready:
	case <-ctx.Done():
		t.Fatal("gateway not listening")
	}
	req, err := http.NewRequestWithContext(cctx, "POST", "http://"+addr+"/v1/braze/currents", strings.NewReader(
		`{"events":[{"event_type":"users.messages.email.Open","id":"trace-ev-1","time":1700000000,"user":{"external_user_id":"user_traced"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer trace-token")
	propagation.TraceContext{}.Inject(cctx, propagation.HeaderCarrier(req.Header))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	caller.End()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("currents answered %d", resp.StatusCode)
	}
	eventTrace := caller.SpanContext().TraceID().String()
	waitEventSpans := func() map[string]bool {
		has := map[string]bool{}
		for _, sp := range rec.Ended() {
			if sp.SpanContext().TraceID().String() != eventTrace {
				continue
			}
			switch name := sp.Name(); {
			case name == "gateway POST /v1/braze/currents" && sp.Parent().SpanID() == caller.SpanContext().SpanID() &&
				sp.SpanKind() == trace.SpanKindServer && attr(sp, "http.response.status_code") == "200":
				has["gateway"] = true
			case name == "gateway publish "+proto.SubjectRawBrazeEvents && attr(sp, "tajo.event_id") == "trace-ev-1":
				has["gateway publish"] = true
			case name == proto.StageTransformer+" "+proto.SubjectRawBrazeEvents:
				has["transformer"] = true
			case name == proto.StageLoader+" "+proto.SubjectOpsBrevoEvents && attr(sp, "tajo.outcome") == "acked":
				has["loader"] = true
			case name == "brevo POST /events/batch" && attr(sp, "http.response.status_code") != "":
				has["brevo"] = true
			}
		}
		return has
	}
	var has map[string]bool
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if has = waitEventSpans(); len(has) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Currents event's trace %s holds %v: want the gateway (child of the caller), its publish, the transformer, the loader and the Brevo call", eventTrace, has)
		}
	}
	t.Logf("event trace %s: caller -> gateway -> transformer -> loader -> Brevo POST /events/batch", eventTrace)
	stop()
	for range 2 {
		if werr := <-done; werr != nil {
			t.Errorf("workers: %v", werr)
		}
	}

	byTrace := map[string][]sdktrace.ReadOnlySpan{}
	for _, sp := range rec.Ended() {
		id := sp.SpanContext().TraceID().String()
		byTrace[id] = append(byTrace[id], sp)
	}
	full, reached := 0, 0
	for id, spans := range byTrace {
		var line string
		has := map[string]bool{}
		for _, sp := range spans {
			switch name := sp.Name(); {
			case name == "extractor publish "+proto.SubjectRawBrazeUsers:
				line = attr(sp, "tajo.line")
				has["extractor"] = attr(sp, "tajo.braze_id") != "" && sp.Parent().IsValid() == false
			case name == proto.StageTransformer+" "+proto.SubjectRawBrazeUsers:
				has["transformer"] = true
			case name == proto.StageLoader+" "+proto.SubjectOpsBrevoContactsUpsert:
				has["loader"] = true
			case strings.HasPrefix(name, "brevo POST /contacts") && attr(sp, "http.response.status_code") != "":
				has["brevo"] = true
			}
		}
		if has["extractor"] && has["transformer"] && has["loader"] && has["brevo"] {
			full++
			t.Logf("trace %s: line %s, %d spans", id, line, len(spans))
		}
		if has["extractor"] && has["loader"] {
			reached++
		}
	}
	// Every created contact's own trace reaches the loader, whether or not
	// its message led its batch (only a batch's first message's trace holds
	// the Brevo call: the batch span is linked to the others).
	if reached < int(s.Created) {
		t.Errorf("%d users' traces reach the loader; %d contacts were created", reached, s.Created)
	}
	if full == 0 {
		t.Fatalf("no trace runs extractor -> transformer -> loader -> Brevo (%d traces)", len(byTrace))
	}
}
