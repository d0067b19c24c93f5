package app_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// In one process too (tajo run), one user's trace runs from the
// extractor's line through the transformer and the loader to the Brevo
// write. `make e2e` checks the same across processes in a real Jaeger.
func TestOneTracePerUserInProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const users = 300
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: users, Seed: 13})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "trace-test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
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
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.RunWorkers(wctx) }()
	s, err := a.Sync(ctx, "full", nil)
	stop()
	if werr := <-done; werr != nil {
		t.Errorf("workers: %v", werr)
	}
	if err != nil || s.Missing != 0 || s.Created == 0 {
		t.Fatalf("sync: %+v, %v", s, err)
	}

	byTrace := map[string][]sdktrace.ReadOnlySpan{}
	for _, sp := range rec.Ended() {
		id := sp.SpanContext().TraceID().String()
		byTrace[id] = append(byTrace[id], sp)
	}
	attr := func(sp sdktrace.ReadOnlySpan, key string) string {
		for _, kv := range sp.Attributes() {
			if string(kv.Key) == key {
				return kv.Value.Emit()
			}
		}
		return ""
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
