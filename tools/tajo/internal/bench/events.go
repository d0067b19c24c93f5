package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// EventsResult is the events line: Currents events sent to the gateway in
// Braze's batches of 100, each answered once durably in JetStream, mapped
// and written to the Brevo simulator (its limits off), against a bare
// JetStream publish+consume of the same events on the same server.
type EventsResult struct {
	Events       int           `json:"events"`
	Time         time.Duration `json:"time"`          // first POST to the last event written to Brevo
	Accepted     time.Duration `json:"accepted"`      // first POST to the last batch answered 200
	Rate         float64       `json:"rate"`          // events/s
	BaselineRate float64       `json:"baseline_rate"` // events/s through one bare hop
	Written      uint64        `json:"written"`       // events Brevo was asked to write (eventsProcessed)
	// CPU is this process's CPU time over the events (gateway, workers,
	// server, the senders), SandboxCPU the Brevo simulator's, BaselineCPU
	// this process's over the baseline: steadier than rates on a busy
	// machine.
	CPU         time.Duration `json:"cpu"`
	SandboxCPU  time.Duration `json:"sandbox_cpu"`
	BaselineCPU time.Duration `json:"baseline_cpu"`
}

// Ratio is the events' rate over the baseline's.
func (e EventsResult) Ratio() float64 {
	if e.BaselineRate == 0 {
		return 0
	}
	return e.Rate / e.BaselineRate
}

const (
	eventsBatch    = 100 // Braze's Currents batch
	eventsSenders  = 16  // batches in flight: enough to keep the gateway busy
	eventsContacts = 100 // the contacts the events land on
	eventsToken    = "bench-currents-token"
)

// currentsEvent is event i as Braze's Currents sends it.
func currentsEvent(i int) []byte {
	return fmt.Appendf(nil, `{"event_type":"users.messages.email.Open","id":"bench-ev-%d","time":%d,`+
		`"user":{"external_user_id":"bench_ev_%d"},"properties":{"campaign_id":"bench-campaign","dispatch_id":"d-%d"}}`,
		i, 1700000000+i, i%eventsContacts, i)
}

// runEvents measures the events line on the all-in-one's server and
// pipeline a: the baseline first, then the gateway and the events workers.
func runEvents(ctx context.Context, o Options, nc *nats.Conn, a *app.App, ep Endpoints, sandboxPID int) (*EventsResult, []string, error) {
	n := o.Events
	res := &EventsResult{Events: n}
	payload := func(i int) []byte {
		b, _ := proto.Encode(&proto.RawEvent{V: proto.SchemaVersion, Source: proto.EventSourceCurrents,
			ID: fmt.Sprintf("bench-ev-%d", i), ReceivedAt: time.Now().UnixMilli(), JSON: currentsEvent(i)})
		return b
	}
	var err error
	cpu := processCPU()
	if res.BaselineRate, err = PublishConsume(ctx, nc, n, payload); err != nil {
		return nil, nil, fmt.Errorf("events baseline: %w", err)
	}
	res.BaselineCPU = processCPU() - cpu

	bc := brevo.Config{BaseURL: ep.BrevoURL, APIKey: ep.BrevoAPIKey}
	bv, err := brevo.New(bc)
	if err != nil {
		return nil, nil, err
	}
	for c := range eventsContacts {
		if _, err := bv.UpsertContact(ctx, brevo.Contact{ExtID: fmt.Sprintf("bench_ev_%d", c),
			Email: fmt.Sprintf("bench-ev-%d@example.com", c)}); err != nil {
			return nil, nil, fmt.Errorf("creating the events' contacts: %w", err)
		}
	}
	ectx, stop := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- a.RunEvents(ectx, app.EventsOptions{
			Gateway:    gateway.Config{Listen: "127.0.0.1:0", CurrentsToken: eventsToken},
			Brevo:      bc,
			Resilience: unlimited,
			Logger:     slog.New(slog.DiscardHandler),
			Ready:      func(addr string) { ready <- addr },
		})
	}()
	defer func() {
		stop()
		<-done
	}()
	var url string
	select {
	case addr := <-ready:
		url = "http://" + addr + "/v1/braze/currents"
	case err := <-done:
		return nil, nil, fmt.Errorf("the events side stopped: %w", err)
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	kv := a.State.KeyValue()
	before, err := loader.EventsProcessed(ctx, kv)
	if err != nil {
		return nil, nil, err
	}

	fmt.Fprintf(o.Log, "events: %d Currents events through the gateway...\n", n)
	start, cpu := time.Now(), processCPU()
	sbCPU, _ := ProcCPU(sandboxPID)
	if o.Verbose {
		pctx, stop := context.WithCancel(ctx)
		defer stop()
		go eventsProgress(pctx, o.Log, a, start)
	}
	batches := make(chan int)
	errc := make(chan error, eventsSenders)
	var wg sync.WaitGroup
	for range eventsSenders {
		wg.Go(func() {
			for b := range batches {
				if err := sendBatch(ctx, url, b, min(b+eventsBatch, n)); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	go func() {
		defer close(batches)
		for b := 0; b < n; b += eventsBatch {
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, nil, err
	}
	res.Accepted = time.Since(start)
	// Written: the loader counts each event once Brevo took it.
	deadline := time.Now().Add(2*time.Minute + time.Duration(n)*time.Millisecond)
	for {
		got, err := loader.EventsProcessed(ctx, kv)
		if err != nil {
			return nil, nil, err
		}
		if res.Written = got - before; res.Written >= uint64(n) {
			break
		}
		if time.Now().After(deadline) {
			return res, []string{fmt.Sprintf("events: %d of %d events written to Brevo after %s", res.Written, n, time.Since(start).Round(time.Second))}, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.Time = time.Since(start)
	res.Rate = float64(n) / res.Time.Seconds()
	res.CPU = processCPU() - cpu
	if c, err := ProcCPU(sandboxPID); err == nil {
		res.SandboxCPU = c - sbCPU
	}
	// None written twice: the count stays where it is.
	time.Sleep(500 * time.Millisecond)
	if got, err := loader.EventsProcessed(ctx, kv); err == nil && got-before != uint64(n) {
		return res, []string{fmt.Sprintf("events: %d events written to Brevo for %d sent once each", got-before, n)}, nil
	}
	return res, nil, nil
}

// sendBatch posts events [from, to) as one Currents batch until it is
// answered 200, as Braze re-sends a batch that was not.
func sendBatch(ctx context.Context, url string, from, to int) error {
	var body bytes.Buffer
	body.WriteString(`{"events":[`)
	for i := from; i < to; i++ {
		if i > from {
			body.WriteByte(',')
		}
		body.Write(currentsEvent(i))
	}
	body.WriteString(`]}`)
	var last string
	for attempt := range 20 {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body.Bytes()))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+eventsToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
		}
	}
	return fmt.Errorf("the gateway did not take events %d-%d: %s", from, to-1, last)
}

// eventsProgress prints, every half second until ctx ends, what waits for
// each events worker: the stage that trails is the one with a backlog.
func eventsProgress(ctx context.Context, w io.Writer, a *app.App, start time.Time) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		line := fmt.Sprintf("  %5.1fs", time.Since(start).Seconds())
		for _, c := range []struct{ stream, durable string }{
			{proto.StreamRaw, transformer.EventsDurable}, {proto.StreamOps, loader.EventsDurable}} {
			if ci, err := a.JS.Consumer(ctx, c.stream, c.durable); err == nil {
				i := ci.CachedInfo()
				line += fmt.Sprintf(" %s pending %d, unacked %d;", c.durable, i.NumPending, i.NumAckPending)
			}
		}
		fmt.Fprintln(w, strings.TrimSuffix(line, ";"))
	}
}
