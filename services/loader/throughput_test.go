package loader_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/services/loader"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// Under Brevo's real limits (10 requests/s on /contacts, enforced by the
// simulator) and no faults, the loader's single upserts get at most 0.1% of
// 429 answers and reach at least 90% of the allowed rate.
func TestTrickleThroughputUnderRealLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 8 s of real time: paced by Brevo's 10 requests/s")
	}
	ctx := context.Background()
	sim := brevosim.New(brevosim.Config{APIKey: key, RateLimit: true})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	_, _, js := natsxtest.Start(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bc := brevo.Config{BaseURL: srv.URL + "/v3", APIKey: key}
	guard, err := bootstrap.GuardBrevo(resilience.Config{}, &bc, log)
	if err != nil {
		t.Fatal(err)
	}
	// A threshold above the batch: every upsert goes through POST /contacts.
	l := buildLoader(t, js, bc, loader.Config{ImportThreshold: 1 << 20, ListIDs: []int64{2}, Logger: log})
	if err := l.EnsureAttributes(ctx); err != nil {
		t.Fatal(err)
	}
	// The attribute calls above spent part of this second's budget: start on
	// a fresh window so the measurement is of the upserts alone.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))

	const n = 80
	var batch []*pipeline.Msg
	for i := range n {
		batch = append(batch, upsert(t, fmt.Sprintf("t%03d", i), 1, map[string]any{"FIRSTNAME": fmt.Sprint(i)}))
	}
	before := sim.Requests()
	start := time.Now()
	for _, err := range l.HandleBatch(ctx, batch) {
		if err != nil {
			t.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	after := sim.Requests()
	sent := after["POST /v3/contacts 201"] - before["POST /v3/contacts 201"]
	throttled := after["POST /v3/contacts 429"] - before["POST /v3/contacts 429"]
	rate := float64(sent) / elapsed.Seconds()
	t.Logf("%d upserts in %s: %.2f requests/s of 10 allowed (%.0f%%), %d answered 429, limiter: %d throttled",
		sent, elapsed.Round(time.Millisecond), rate, rate*10, throttled, guard.Limiter.Throttled())
	if sent != n {
		t.Fatalf("%d contacts created, want %d", sent, n)
	}
	if float64(throttled) > 0.001*float64(sent+throttled) {
		t.Errorf("%d of %d answers were 429: more than 0.1%%", throttled, sent+throttled)
	}
	if rate < 9 {
		t.Errorf("%.2f requests/s: under 90%% of Brevo's 10 requests/s", rate)
	}
}
