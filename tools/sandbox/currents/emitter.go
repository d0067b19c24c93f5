package currents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// User is one generated Braze user events are drawn for.
type User struct {
	BrazeID    string
	ExternalID string // may be empty
	Email      string // may be empty
}

// Config configures Run. Zero values take the documented defaults.
type Config struct {
	URL   string // the Currents endpoint, e.g. http://127.0.0.1:8080/v1/braze/currents
	Token string
	Users []User
	// Events is how many distinct events to send; 0 sends until ctx ends.
	Events int
	// Rate is events per second; 0 sends as fast as answers come.
	Rate float64
	// BatchSize is events per batch; default 100 (Braze's most).
	BatchSize int
	// Concurrency is batches in flight; default 2.
	Concurrency int
	// DuplicateRate is the share of batches sent again after their 2xx;
	// default 0.05. Negative: none.
	DuplicateRate float64
	// UnknownRate is the share of events of a type no connector knows;
	// default 0.01. Negative: none.
	UnknownRate float64
	// Seed draws the events; default 1.
	Seed int64
	// MaxBackoff caps the wait between retries; default 2s.
	MaxBackoff time.Duration
	// Client sends the requests; default a client with a 30s timeout.
	Client *http.Client
	// Acked, when set, is called with every batch answered 2xx (re-sends
	// included), from the sending goroutines.
	Acked func(events []Event)
}

// Event is one Currents event as sent.
type Event struct {
	ID         string         `json:"id"`
	Type       string         `json:"event_type"`
	Time       int64          `json:"time"`
	User       EventUser      `json:"user"`
	Properties map[string]any `json:"properties"`
	// NewField stands for the nullable fields Braze adds over time.
	NewField any `json:"x_new_field,omitempty"`
}

// EventUser is the event's user envelope.
type EventUser struct {
	UserID         string `json:"user_id"`
	ExternalUserID string `json:"external_user_id,omitempty"`
	DeviceID       string `json:"device_id,omitempty"`
	Timezone       string `json:"timezone,omitempty"`
}

// Stats count what Run sent.
type Stats struct {
	Events   int // distinct events answered 2xx
	Batches  int // distinct batches answered 2xx
	Resent   int // batches sent again after a 2xx
	Retries  int // sends retried after a failure
	Dropped  int // events of batches answered 400/401/403/404 (not retried)
	Unknown  int // distinct events of an unknown type
	Statuses map[int]int
}

// Types are the event types drawn (with their weights), as Currents names
// them.
var Types = []struct {
	Name   string
	Weight int
}{
	{"users.messages.email.Send", 20}, {"users.messages.email.Delivery", 18}, {"users.messages.email.Open", 15},
	{"users.messages.email.Click", 8}, {"users.messages.email.Bounce", 1}, {"users.messages.email.SoftBounce", 1},
	{"users.messages.email.MarkAsSpam", 1}, {"users.messages.email.Unsubscribe", 1},
	{"users.messages.pushnotification.Send", 8}, {"users.messages.pushnotification.Open", 4},
	{"users.messages.pushnotification.Bounce", 1}, {"users.messages.sms.Send", 3}, {"users.messages.sms.Delivery", 3},
	{"users.campaigns.Conversion", 3}, {"users.canvas.Entry", 4}, {"users.canvas.Conversion", 2},
	{"users.canvasstep.Progression", 3}, {"users.behaviors.subscription.GlobalStateChange", 1},
	{"users.behaviors.CustomEvent", 3},
}

// UnknownTypes are types no connector knows yet.
var UnknownTypes = []string{"users.messages.whatsapp.Read", "users.messages.inappmessage.Impression", "users.messages.liveactivity.Update"}

func (c Config) withDefaults() Config {
	if c.BatchSize <= 0 || c.BatchSize > 100 {
		c.BatchSize = 100
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 2
	}
	if c.DuplicateRate == 0 {
		c.DuplicateRate = 0.05
	}
	if c.UnknownRate == 0 {
		c.UnknownRate = 0.01
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 2 * time.Second
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 30 * time.Second}
	}
	return c
}

// errPermanent marks an answer Braze does not retry.
var errPermanent = errors.New("not retried")

// Run sends events until cfg.Events were answered 2xx (or ctx ends) and
// returns what it sent.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	cfg = cfg.withDefaults()
	if cfg.URL == "" || len(cfg.Users) == 0 {
		return Stats{}, errors.New("currents: a URL and at least one user are required")
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6375727265))
	st := Stats{Statuses: map[int]int{}}
	var mu sync.Mutex
	batches := make(chan batch)
	errc := make(chan error, cfg.Concurrency)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if err := send(ctx, cfg, b, &mu, &st); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	var resend [][]Event
	start := time.Now()
	sent := 0
	var err error
produce:
	for n := 0; cfg.Events == 0 || sent < cfg.Events; n++ {
		size := cfg.BatchSize
		if cfg.Events > 0 {
			size = min(size, cfg.Events-sent)
		}
		b := make([]Event, size)
		for i := range b {
			b[i] = draw(rng, cfg, sent+i)
		}
		sent += size
		if cfg.Rate > 0 {
			due := start.Add(time.Duration(float64(sent) / cfg.Rate * float64(time.Second)))
			if !sleep(ctx, time.Until(due)) {
				break
			}
		}
		select {
		case batches <- batch{events: b}:
		case err = <-errc:
			break produce
		case <-ctx.Done():
			break produce
		}
		if rng.Float64() < cfg.DuplicateRate {
			resend = append(resend, b)
		}
		if len(resend) > 0 && rng.IntN(4) == 0 { // re-sent a little later, as Braze does
			select {
			case batches <- batch{events: resend[0], resend: true}:
				resend = resend[1:]
			case err = <-errc:
				break produce
			case <-ctx.Done():
				break produce
			}
		}
	}
	for _, b := range resend {
		if err != nil || ctx.Err() != nil {
			break
		}
		select {
		case batches <- batch{events: b, resend: true}:
		case err = <-errc:
		case <-ctx.Done():
		}
	}
	close(batches)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	if err == nil && ctx.Err() != nil && cfg.Events > 0 {
		err = ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	return st, err
}

// batch is one send: a new batch, or one sent again after its 2xx.
type batch struct {
	events []Event
	resend bool
}

// send posts one batch until it is answered 2xx or not to be retried.
func send(ctx context.Context, cfg Config, bt batch, mu *sync.Mutex, st *Stats) error {
	b := bt.events
	body, err := json.Marshal(map[string]any{"events": b})
	if err != nil {
		return fmt.Errorf("currents: encoding a batch: %w", err)
	}
	wait := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		status, err := post(ctx, cfg, body)
		mu.Lock()
		if status > 0 {
			st.Statuses[status]++
		}
		switch {
		case err == nil:
			if bt.resend {
				st.Resent++
			} else {
				st.Batches++
				st.Events += len(b)
				for _, e := range b {
					if isUnknown(e.Type) {
						st.Unknown++
					}
				}
			}
			mu.Unlock()
			if cfg.Acked != nil {
				cfg.Acked(b)
			}
			return nil
		case errors.Is(err, errPermanent):
			st.Dropped += len(b)
			mu.Unlock()
			return nil
		}
		st.Retries++
		mu.Unlock()
		if !sleep(ctx, wait) {
			return nil
		}
		wait = min(2*wait, cfg.MaxBackoff)
	}
}

func post(ctx context.Context, cfg Config, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("currents: %w: %v", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+cfg.Token)
	resp, err := cfg.Client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return resp.StatusCode, fmt.Errorf("currents: answered %d", resp.StatusCode)
	default:
		return resp.StatusCode, fmt.Errorf("currents: answered %d: %w", resp.StatusCode, errPermanent)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
