package pipeline

import (
	"context"

	"errors"
	"fmt"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"log/slog"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/proto"
)

// Config configures a Worker. Zero values take the documented defaults.
type Config struct {
	// Stream the consumer reads, e.g. proto.StreamRaw. Required.
	Stream string `yaml:"stream"`
	// Durable is the consumer name every replica shares; default
	// DurableName(Stage, Subject).
	Durable string `yaml:"durable"`
	// Subject is the consumer's filter subject, e.g. proto.SubjectRawBrazeUsers.
	// Required: on a work-queue stream each filter has exactly one consumer.
	Subject string `yaml:"subject"`
	// Stage names the worker in dead-letter subjects and logs. Required.
	Stage string `yaml:"stage"`

	// Concurrency is how many batches are handled at once; default 1.
	Concurrency int `yaml:"concurrency"`
	// BatchSize is the most messages in a batch; default 100.
	BatchSize int `yaml:"batch_size"`
	// BatchBytes is the most payload bytes in a batch (a single larger
	// message makes a batch of its own); default 1 MiB.
	BatchBytes int `yaml:"batch_bytes"`
	// BatchWait is how long a batch that has a message waits to fill;
	// default 200ms.
	BatchWait time.Duration `yaml:"batch_wait"`
	// BatchMaxWait, when set, makes BatchWait an idle gap: a batch is cut
	// once no message came for BatchWait, or BatchMaxWait after its first
	// message, whichever comes first (or when full). A stream that keeps
	// coming, such as a full sync, then fills its batches; a trickle is
	// still cut BatchWait after its last message. Zero: BatchWait counts
	// from the batch's first message.
	BatchMaxWait time.Duration `yaml:"batch_max_wait"`
	// CaughtUp, when set, lets a batch go before BatchWait: once no
	// message has come for a fiftieth of BatchWait (at least 10ms), the
	// session asks it, on a goroutine of its own, whether anything more
	// is on its way for the runs of the batch's messages (their
	// Tajo-Run-Id, "" for none); true dispatches the batch as BatchWait
	// passing would (FlushCaughtUp). The last batch of a sync then goes
	// as soon as everything before it has arrived, not BatchWait later;
	// a trickle still waits. Its ctx ends after 500ms (or with the
	// session); it says false when it cannot tell.
	CaughtUp func(ctx context.Context, runs []string) bool `yaml:"-"`

	// AckWait is the server's redelivery timeout; default 30s. The runtime
	// reports progress every AckWait/3 while a batch is being handled.
	AckWait time.Duration `yaml:"ack_wait"`
	// MaxDeliver is how many times a message is handled before it is
	// dead-lettered with reason max_deliveries; default 10.
	MaxDeliver int `yaml:"max_deliver"`
	// PoisonDeliveries: a message delivered this many times is dead-lettered
	// (reason max_deliveries) without being handled again, which stops a
	// record that crashes the process from crash-looping the stage.
	// RetryAfter throttles count as deliveries, so keep it well above
	// MaxDeliver; default 10*MaxDeliver.
	PoisonDeliveries int `yaml:"poison_deliveries"`
	// MaxAckPending bounds the messages delivered and not yet settled across
	// all replicas; default Concurrency*BatchSize*2. With PackItems, it
	// counts items: the consumer's bound is that many packs' worth.
	MaxAckPending int `yaml:"max_ack_pending"`
	// PackItems is how many items the stream's messages carry (the
	// publisher's Packing); BatchSize and MaxAckPending count items, and
	// what the worker pulls and leaves pending is scaled to packs by it.
	// 0 or 1: single messages.
	PackItems int `yaml:"-"`
	// Backoff spaces the redeliveries of retryable failures.
	Backoff Backoff `yaml:"backoff"`
	// DrainTimeout bounds how long Run waits for in-flight batches after
	// its context is cancelled; then the handlers' context is cancelled.
	// Default 30s.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// PausePoll is how often Paused is consulted; default 250ms.
	PausePoll time.Duration `yaml:"pause_poll"`

	// Logger receives the runtime's logs; default discards them.
	Logger *slog.Logger `yaml:"-"`
	// Paused, when set and returning true, stops the worker fetching (e.g.
	// a circuit breaker is open); messages already fetched are handled.
	Paused func() bool `yaml:"-"`
	// Observe, when set, is told how each message was settled; it runs on
	// the handling goroutine and must be quick and concurrency-safe.
	Observe func(m *Msg, o Outcome) `yaml:"-"`
	// Ledger, when set, receives the outcome of every message the worker
	// settles for good (acked with an outcome the handler gave it, see
	// Msg.Settle, or dead-lettered), for the line named by the message's
	// Tajo-Run-Id and Tajo-Line headers, before the message is acked: a
	// redelivery marks the same line again, which changes nothing.
	Ledger Marker `yaml:"-"`
	// Prepare, when set, is called once for each message as it arrives,
	// before it is batched, on the goroutine that receives messages (keep
	// it quick). It returns the message's size for BatchBytes, in place of
	// len(Data), and may leave in Msg.Prepared what the handler will want
	// of it: a handler that batches by the bytes it will send (the loader
	// fills Brevo imports by bytes) encodes each message once, as it comes.
	Prepare func(m *Msg) (size int) `yaml:"-"`
	// Instruments trace and measure the worker; zero: neither.
	Instruments Instruments `yaml:"-"`
}

// Marker records the outcome of lines of a run (pkg/ledger.Ledger).
type Marker interface {
	Mark(ctx context.Context, run, stage string, marks []ledger.Mark) error
}

// Outcome is how the runtime settled a message.
type Outcome struct {
	Kind   OutcomeKind
	Reason string // dead-letter reason, when Kind is DeadLettered
	Err    error  // the handler's error, nil when acked
}

// OutcomeKind enumerates settlements.
type OutcomeKind int

const (
	Acked        OutcomeKind = iota // handled, acked
	Retried                         // nakked for a later redelivery
	DeadLettered                    // published to the DLQ and terminated
)

func (k OutcomeKind) String() string {
	switch k {
	case Acked:
		return "acked"
	case Retried:
		return "retried"
	case DeadLettered:
		return "dead_lettered"
	}
	return fmt.Sprintf("outcome(%d)", int(k))
}

// DurableName is the consumer name shared by every replica of stage
// reading subject: e.g. "transformer_raw_braze_users".
func DurableName(stage, subject string) string {
	return proto.Token(stage) + "_" + proto.Token(strings.NewReplacer("*", "any", ">", "all").Replace(subject))
}

// Validate reports a configuration the runtime cannot run, naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.Stream == "" {
		errs = append(errs, errors.New("stream is required"))
	}
	if c.Subject == "" {
		errs = append(errs, errors.New("subject (the consumer's filter) is required"))
	}
	if c.Stage == "" {
		errs = append(errs, errors.New("stage is required"))
	}
	if strings.ContainsAny(c.Durable, ". *>\t\n") {
		errs = append(errs, fmt.Errorf("durable %q must not contain '.', '*', '>' or spaces", c.Durable))
	}
	for name, v := range map[string]int{"concurrency": c.Concurrency, "batch_size": c.BatchSize,
		"batch_bytes": c.BatchBytes, "max_deliver": c.MaxDeliver, "poison_deliveries": c.PoisonDeliveries, "max_ack_pending": c.MaxAckPending} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s %d must not be negative", name, v))
		}
	}
	if c.BatchMaxWait > 0 && c.BatchMaxWait < c.BatchWait {
		errs = append(errs, fmt.Errorf("batch_max_wait %s is shorter than batch_wait %s", c.BatchMaxWait, c.BatchWait))
	}
	for name, v := range map[string]time.Duration{"batch_wait": c.BatchWait, "batch_max_wait": c.BatchMaxWait, "ack_wait": c.AckWait,
		"drain_timeout": c.DrainTimeout, "pause_poll": c.PausePoll} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s %s must not be negative", name, v))
		}
	}
	if c.AckWait > 0 && c.AckWait < 300*time.Millisecond {
		errs = append(errs, fmt.Errorf("ack_wait %s is too short to report progress in time (minimum 300ms)", c.AckWait))
	}
	if err := c.Backoff.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxAckPending > 0 && c.MaxAckPending < max(c.BatchSize, 1) {
		errs = append(errs, fmt.Errorf("max_ack_pending %d is below batch_size %d: batches could never fill", c.MaxAckPending, c.BatchSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pipeline config for stage %q: %w", c.Stage, err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Durable == "" {
		c.Durable = DurableName(c.Stage, c.Subject)
	}
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = 1 << 20
	}
	if c.BatchWait == 0 {
		c.BatchWait = 200 * time.Millisecond
	}
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 10
	}
	if c.PoisonDeliveries == 0 {
		c.PoisonDeliveries = 10 * c.MaxDeliver
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = c.Concurrency * c.BatchSize * 2
	}
	c.Backoff = c.Backoff.withDefaults()
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 30 * time.Second
	}
	if c.PausePoll == 0 {
		c.PausePoll = 250 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// packsOf is how many messages of packs of items each hold n items, and
// at least minPacks (or n, if less): single messages in a stream of packs
// (a dead letter replayed, what an older version published) still go
// through a few dozen at a time.
func packsOf(n, items int) int {
	if items <= 1 {
		return n
	}
	return max((n+items-1)/items, min(n, minPacks), 1)
}

// minPacks is the fewest messages packsOf allows.
const minPacks = 64

// Packs is how many messages of DefaultPackItems items n items make: a
// bound in items (a Backlog's) for a stream of packs. n <= 0 is kept.
func Packs(n int) int {
	if n <= 0 {
		return n
	}
	return (n + DefaultPackItems - 1) / DefaultPackItems
}
