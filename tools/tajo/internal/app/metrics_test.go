package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// scrape reads url's Prometheus text into families.
func scrape(ctx context.Context, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// sum adds the values of name's series whose labels include want.
func sum(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	var total float64
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if have[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += m.Histogram.GetSampleSum()
		}
	}
	return total
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// /metrics, scraped during a sync and after it, tells the same story as the
// run's summary; /readyz is ready once the streams exist.
func TestMetricsMatchTheSummary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const users = 3000
	sb := startSandbox(t, ctx, sandbox.Options{Users: users, Seed: 5, RateLimits: true, ExportDelay: 200 * time.Millisecond,
		MalformedLines: true})
	nc, _ := natsxtest.Conn(t, natsxtest.Server(t))
	log := slog.New(slog.DiscardHandler)

	cfg := config.Default()
	cfg.Metrics.Listen = "127.0.0.1:0"
	ops, err := bootstrap.StartOps(cfg, "tajo", log)
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	base := "http://" + ops.Addr()
	if got := getStatus(t, base+"/healthz"); got != http.StatusOK {
		t.Fatalf("/healthz before the bus: %d", got)
	}
	if got := getStatus(t, base+"/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before the bus: %d, want 503", got)
	}

	o := baseOptions(t, sb, nc, log)
	o.Ops = ops
	a, err := app.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := getStatus(t, base+"/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz once provisioned: %d, want 200", got)
	}
	done := make(chan error, 1)
	wctx, stop := context.WithCancel(context.Background())
	go func() { done <- a.RunWorkers(wctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("workers: %v", err)
		}
	}()

	// Scrape all along the sync.
	var mu sync.Mutex
	var during []float64 // transformer's messages in, per scrape
	sctx, stopScraping := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for sctx.Err() == nil {
			if fams, err := scrape(sctx, base+"/metrics"); err == nil {
				mu.Lock()
				during = append(during, sum(fams, "tajo_messages_in_total", map[string]string{"stage": proto.StageTransformer}))
				mu.Unlock()
			}
			select {
			case <-sctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	s, err := a.Sync(ctx, "full", nil)
	stopScraping()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("summary: %+v", s)
	if s.Missing != 0 || s.Settled() != s.Exported || s.Exported != users {
		t.Fatalf("summary does not add up: %+v", s)
	}
	mid := false
	for _, v := range during {
		if v > 0 && v < float64(s.Exported) {
			mid = true
		}
	}
	if !mid {
		t.Errorf("no scrape during the sync saw it part-way (%d scrapes: %v)", len(during), during)
	}

	// The workers ack after the ledger is marked: the figures settle a
	// moment after the summary is complete.
	var fams map[string]*dto.MetricFamily
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			f, err := scrape(ctx, base+"/metrics")
			if err == nil {
				fams = f
				if cond() {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: never true (last scrape err %v)", what, err)
			}
		}
	}
	st := func(stage string) map[string]string { return map[string]string{"stage": stage} }
	dlq := func(stage string) float64 { return sum(fams, "tajo_dlq_depth", st(stage)) }
	in := func(stage string) float64 { return sum(fams, "tajo_messages_in_total", st(stage)) }
	settled := func(stage string) float64 {
		return sum(fams, "tajo_messages_out_total", st(stage)) + sum(fams, "tajo_messages_failed_total", st(stage)) +
			sum(fams, "tajo_messages_dead_lettered_total", st(stage))
	}
	// Lines in RAW: the export less the lines the extractor dead-lettered.
	raw := float64(s.Exported)
	eventually("every message in settled, consumers drained", func() bool {
		raw = float64(s.Exported) - dlq(proto.StageExtractor)
		return in(proto.StageTransformer) == raw && settled(proto.StageTransformer) == raw &&
			in(proto.StageLoader) == settled(proto.StageLoader) && in(proto.StageLoader) > 0 &&
			sum(fams, "tajo_consumer_pending", nil) == 0 && sum(fams, "tajo_consumer_ack_pending", nil) == 0
	})
	// The loader gets one upsert per line the transformer passed on: all
	// but its dead letters (the transformer reads no state: unchanged
	// contacts are the loader's to find).
	passed := raw - sum(fams, "tajo_messages_dead_lettered_total", st(proto.StageTransformer))
	if got := in(proto.StageLoader); got != passed {
		t.Errorf("loader took %v messages; the transformer passed on %v", got, passed)
	}
	// Every line the loader settled for good is written, merged, stale,
	// unchanged or dead-lettered by it.
	loaderDL := sum(fams, "tajo_messages_dead_lettered_total", st(proto.StageLoader))
	if got, want := sum(fams, "tajo_messages_out_total", st(proto.StageLoader))+loaderDL,
		float64(s.Created+s.Updated+s.Merged+s.Stale+s.Unchanged)+loaderDL; got != want {
		t.Errorf("loader settled %v; the summary's written, merged, stale and unchanged lines plus its dead letters are %v", got, want)
	}
	// The loader also files side letters (a contact written without an
	// identifier another contact holds) on its own: at least its worker's.
	if got := dlq(proto.StageLoader); got < loaderDL {
		t.Errorf("DLQ holds %v loader dead letters; the loader's worker alone counted %v", got, loaderDL)
	}
	if total := sum(fams, "tajo_dlq_depth", nil); total < float64(s.DeadLettered) {
		t.Errorf("DLQ depth %v is below the summary's %d dead-lettered lines", total, s.DeadLettered)
	}
	if got := sum(fams, "tajo_batch_size", st(proto.StageTransformer)); got != in(proto.StageTransformer) {
		t.Errorf("transformer batch sizes add up to %v, not the %v messages in", got, in(proto.StageTransformer))
	}
	if sum(fams, "tajo_batches_total", st(proto.StageLoader)) == 0 {
		t.Error("no loader batch counted")
	}
	for _, c := range []map[string]string{
		{"vendor": "braze", "route": "/users/export/segment", "status": "201"},
		{"vendor": "brevo", "route": "/contacts/import", "status": "202"},
	} {
		if sum(fams, "tajo_vendor_calls_total", c) == 0 {
			t.Errorf("no vendor call counted with %v; have %v", c, fams["tajo_vendor_calls_total"])
		}
	}
	if sum(fams, "tajo_breaker_state", map[string]string{"vendor": "brevo", "state": "closed"}) == 0 {
		t.Error("no closed Brevo breaker reported")
	}
	t.Logf("transformer in %v, loader in %v, DLQ %v", in(proto.StageTransformer), in(proto.StageLoader), sum(fams, "tajo_dlq_depth", nil))

	// The events side reports on the same /metrics: the gateway's requests,
	// each events worker under "<stage>.events", the Brevo events calls.
	ready := make(chan string, 1)
	evDone := make(chan error, 1)
	go func() {
		evDone <- a.RunEvents(wctx, app.EventsOptions{
			Gateway: gateway.Config{Listen: "127.0.0.1:0", CurrentsToken: "metrics-token"},
			Brevo:   brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey},
			Logger:  log,
			Ready:   func(addr string) { ready <- addr },
		})
	}()
	defer func() {
		stop()
		if err := <-evDone; err != nil {
			t.Errorf("events side: %v", err)
		}
	}()
	bv, err := brevo.New(brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.UpsertContact(ctx, brevo.Contact{ExtID: "user_metrics", Email: "metrics@example.com"}); err != nil {
		t.Fatal(err)
	}
	var addr string
	select {
	case addr = <-ready:
	case err := <-evDone:
		t.Fatalf("events side stopped: %v", err)
	}
	var evs []string
	for i := range 3 {
		evs = append(evs, fmt.Sprintf(`{"event_type":"users.messages.email.Open","id":"m-%d","time":1700000000,"user":{"external_user_id":"user_metrics"}}`, i))
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/braze/currents", strings.NewReader(`{"events":[`+strings.Join(evs, ",")+`]}`))
	req.Header.Set("Authorization", "Bearer metrics-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("currents answered %d", resp.StatusCode)
	}
	tEv, lEv := bootstrap.EventsStage(proto.StageTransformer), bootstrap.EventsStage(proto.StageLoader)
	eventually("the events counted by the gateway, both events workers and the Brevo calls", func() bool {
		return sum(fams, "tajo_gateway_requests_total", map[string]string{"route": "POST /v1/braze/currents", "status": "200"}) == 1 &&
			in(tEv) == 3 && sum(fams, "tajo_messages_out_total", st(tEv)) == 3 &&
			in(lEv) == 3 && sum(fams, "tajo_messages_out_total", st(lEv)) == 3 &&
			sum(fams, "tajo_vendor_calls_total", map[string]string{"vendor": "brevo", "route": "/events/batch"}) > 0 &&
			sum(fams, "tajo_consumer_pending", map[string]string{"consumer": loader.EventsDurable}) == 0
	})
	// The users workers' figures are their own.
	if got := in(proto.StageLoader); got != passed {
		t.Errorf("after the events the loader's users worker took %v messages, want still %v", got, passed)
	}
}
