package resilience_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/resilience"
	sandboxbrevo "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// A loader wires one Guard per vendor: its Transport into the vendor client,
// Open into pipeline.Config.Paused, Delay into the redelivery of failed
// messages, and Do around calls with no message behind them.
func Example() {
	sim := httptest.NewServer(sandboxbrevo.New(sandboxbrevo.Config{APIKey: "xkeysib-example", RateLimit: true}))
	defer sim.Close()
	baseURL := sim.URL + "/v3" // brevo.DefaultBaseURL in production

	guard, err := resilience.New(resilience.VendorBrevo, resilience.Config{
		Limits: resilience.Limits{Replicas: 1, Brevo: resilience.BrevoLimits{Plan: resilience.PlanGeneral}},
	})
	if err != nil {
		log.Fatal(err)
	}
	transport, err := guard.Transport(nil, baseURL)
	if err != nil {
		log.Fatal(err)
	}
	client, err := brevo.New(brevo.Config{
		APIKey: "xkeysib-example", BaseURL: baseURL,
		HTTPClient: &http.Client{Transport: transport},
	})
	if err != nil {
		log.Fatal(err)
	}

	// pipeline.Config{Paused: guard.Open, ...}: stop fetching while Brevo fails.
	paused := guard.Open

	// A poll has no message behind it: retry it here.
	ctx := context.Background()
	var attrs []brevo.Attribute
	err = guard.Retry.Do(ctx, func(ctx context.Context) error {
		attrs, err = client.Attributes(ctx)
		return err
	})
	fmt.Println("attributes read:", err == nil && len(attrs) > 0)

	// A message's retry is a redelivery: nak with the policy's delay.
	delay := guard.Retry.Delay(3)
	fmt.Println("third redelivery within 2s:", delay <= 2*time.Second)

	fmt.Println("paused:", paused(), "contacts breaker:", guard.Breakers.States()["contacts"])
	fmt.Printf("contacts pace: %.1f req/s\n", guard.Limiter.Snapshot()["contacts"].Rate)
	// Output:
	// attributes read: true
	// third redelivery within 2s: true
	// paused: false contacts breaker: closed
	// contacts pace: 9.5 req/s
}
