package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

func TestDecide(t *testing.T) {
	p := policy{maxDeliver: 5, backoff: Backoff{Backoff: restcall.Backoff{Initial: time.Second, Max: 10 * time.Second, Multiplier: 2}, Jitter: 0.2},
		rand: func() float64 { return 0.5 }} // no jitter
	for _, tc := range []struct {
		name string
		err  error
		n    uint64
		want action
	}{
		{"nil acks", nil, 1, action{kind: actAck}},
		{"nil acks on the last delivery", nil, 5, action{kind: actAck}},
		{"permanent dead-letters at once", Permanent("malformed_json", errors.New("x")), 1, action{kind: actDeadLetter, reason: "malformed_json"}},
		{"wrapped permanent", fmt.Errorf("mapping: %w", Permanent("no_identifier", nil)), 1, action{kind: actDeadLetter, reason: "no_identifier"}},
		{"retry after waits as told", RetryAfter(7*time.Second, errors.New("429")), 1, action{kind: actNak, delay: 7 * time.Second}},
		{"retry after never dead-letters", RetryAfter(time.Second, errors.New("429")), 50, action{kind: actNak, delay: time.Second}},
		{"generic first failure", errors.New("reset"), 1, action{kind: actNak, delay: time.Second}},
		{"generic third failure", errors.New("reset"), 3, action{kind: actNak, delay: 4 * time.Second}},
		{"generic fourth failure", errors.New("reset"), 4, action{kind: actNak, delay: 8 * time.Second}},
		{"generic at max deliver", errors.New("reset"), 5, action{kind: actDeadLetter, reason: ReasonMaxDeliveries}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.decide(tc.err, tc.n); got != tc.want {
				t.Fatalf("decide(%v, %d) = %+v, want %+v", tc.err, tc.n, got, tc.want)
			}
		})
	}
}

func TestBackoffJitterAndCap(t *testing.T) {
	b := Backoff{Backoff: restcall.Backoff{Initial: time.Second, Max: 5 * time.Second, Multiplier: 2}, Jitter: 0.2}
	lo, hi := func() float64 { return 0 }, func() float64 { return 0.999999 }
	if d := b.delay(1, lo); d != 800*time.Millisecond {
		t.Errorf("lowest jitter on first retry = %s, want 800ms", d)
	}
	if d := b.delay(1, hi); d < 1199*time.Millisecond || d > 1200*time.Millisecond {
		t.Errorf("highest jitter on first retry = %s, want ~1.2s", d)
	}
	if d := b.delay(10, hi); d != 5*time.Second {
		t.Errorf("capped delay = %s, want max 5s", d)
	}
	if d := b.delay(1000, lo); d != 4*time.Second {
		t.Errorf("huge attempt count = %s, want 4s (max minus jitter)", d)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Stream: "RAW", Subject: "raw.braze.users", Stage: "transformer"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	for _, tc := range []struct {
		name string
		mut  func(*Config)
		want string
	}{
		{"no stream", func(c *Config) { c.Stream = "" }, "stream is required"},
		{"no subject", func(c *Config) { c.Subject = "" }, "subject"},
		{"bad durable", func(c *Config) { c.Durable = "a.b" }, "durable"},
		{"negative batch", func(c *Config) { c.BatchSize = -1 }, "batch_size"},
		{"tiny ack wait", func(c *Config) { c.AckWait = time.Millisecond }, "ack_wait"},
		{"jitter", func(c *Config) { c.Backoff.Jitter = 1.5 }, "jitter"},
		{"ack pending below batch", func(c *Config) { c.BatchSize, c.MaxAckPending = 100, 10 }, "max_ack_pending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mut(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestDurableNameIsValidAndShared(t *testing.T) {
	if got := DurableName("transformer", "raw.braze.users"); got != "transformer_raw_braze_users" {
		t.Fatalf("DurableName = %q", got)
	}
	if a, b := DurableName("loader", "ops.brevo.>"), DurableName("loader", "ops.brevo.*"); a == b {
		t.Fatalf("different filters share a durable name %q", a)
	}
}
