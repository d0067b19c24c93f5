package pipeline

import (
	"errors"
	"fmt"
	"time"
)

// ReasonMaxDeliveries is the dead-letter reason of a message that failed
// with retryable errors MaxDeliver times.
const ReasonMaxDeliveries = "max_deliveries"

// PermanentError marks a message no retry can fix: it is dead-lettered with
// Reason and terminated.
type PermanentError struct {
	Reason string // short and machine-readable: malformed_json, no_identifier, ...
	Err    error
	// Once, when set, names the failure across messages (PermanentOnce):
	// its dead letter is stored once within the DLQ stream's
	// deduplication window, whichever message meets it.
	Once string
}

func (e *PermanentError) Error() string {
	return "permanent failure (" + e.Reason + "): " + e.Err.Error()
}
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so the message is dead-lettered with reason.
func Permanent(reason string, err error) error {
	if err == nil {
		err = errors.New(reason)
	}
	return &PermanentError{Reason: reason, Err: err}
}

// PermanentOnce is Permanent for a failure that every run meets again
// until something outside the record changes (a contested identifier):
// once names it (the record, what it failed on and its content), and its
// dead letter is stored once within the DLQ stream's deduplication window
// (24 hours) rather than once a run. The message is dead-lettered and
// settled each time all the same.
func PermanentOnce(reason, once string, err error) error {
	if err == nil {
		err = errors.New(reason)
	}
	return &PermanentError{Reason: reason, Err: err, Once: once}
}

// RetryAfterError asks for redelivery after Delay, e.g. what a vendor's
// rate-limit header or an open circuit breaker said.
type RetryAfterError struct {
	Delay time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.Delay, e.Err)
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps err so the message is redelivered after d. It is a
// throttle, not a failure: it does not lead to a dead letter however often
// it happens.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		err = errors.New("retry requested")
	}
	return &RetryAfterError{Delay: max(d, 0), Err: err}
}

// Errors returns n copies of err: the result of a handler whose whole batch
// shares one outcome.
func Errors(n int, err error) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// actionKind is what the runtime does with a message.
type actionKind int

const (
	actAck actionKind = iota
	actNak
	actDeadLetter
)

type action struct {
	kind   actionKind
	delay  time.Duration // actNak
	reason string        // actDeadLetter
	once   string        // actDeadLetter: PermanentError.Once
}

// policy holds what decide needs; rand is injectable for tests.
type policy struct {
	maxDeliver int
	backoff    Backoff
	rand       func() float64
}

// decide is the one place that turns a handler's error into an action.
func (p policy) decide(err error, numDelivered uint64) action {
	if err == nil {
		return action{kind: actAck}
	}
	if pe, ok := errors.AsType[*PermanentError](err); ok {
		return action{kind: actDeadLetter, reason: pe.Reason, once: pe.Once}
	}
	if ra, ok := errors.AsType[*RetryAfterError](err); ok {
		return action{kind: actNak, delay: ra.Delay}
	}
	if numDelivered >= uint64(p.maxDeliver) {
		return action{kind: actDeadLetter, reason: ReasonMaxDeliveries}
	}
	return action{kind: actNak, delay: p.backoff.delay(numDelivered, p.rand)}
}
