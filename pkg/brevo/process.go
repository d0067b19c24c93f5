package brevo

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// Process statuses.
const (
	ProcessQueued    = "queued"
	ProcessInProcess = "in_process"
	ProcessCompleted = "completed"
)

// Process is a background job, such as an import.
type Process struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"` // Process*
	Name      string `json:"name"`
	ExportURL string `json:"export_url"`
}

// Done reports whether the process has finished.
func (p Process) Done() bool { return p.Status == ProcessCompleted }

// Process reads a background process. The endpoint shares a budget of about
// 100 calls an hour: poll with WaitProcess.
func (c *Client) Process(ctx context.Context, id int64) (Process, error) {
	var out Process
	_, err := c.do(ctx, apiCall{
		method: http.MethodGet,
		path:   "/processes/" + strconv.FormatInt(id, 10),
		route:  "/processes/{id}",
	}, &out)
	if err != nil {
		return Process{}, err
	}
	return out, nil
}

// Backoff spaces WaitProcess's polls (restcall.Backoff).
type Backoff = restcall.Backoff

// DefaultPoll is WaitProcess's spacing for the fields a policy leaves zero:
// sparing, because GET /processes shares the 100 calls an hour budget of
// Brevo's "other endpoints".
var DefaultPoll = Backoff{Initial: time.Second, Max: 30 * time.Second, Multiplier: 2}

// WaitProcess polls process id until it completes or ctx ends: first after
// policy.Initial, then growing by policy.Multiplier up to policy.Max (zero
// fields from DefaultPoll). It only polls: a poll that fails retryably
// counts as one more not-done answer (the next poll is its retry, after
// the rate-limit reset when that is later); any other error ends the wait.
func (c *Client) WaitProcess(ctx context.Context, id int64, policy Backoff) (Process, error) {
	policy = policy.Or(DefaultPoll)
	if err := policy.Validate(); err != nil {
		return Process{}, fmt.Errorf("brevo: waiting for process %d: %w", id, err)
	}
	delay, wait := policy.Initial, policy.Initial
	var last error
	for attempt := 1; ; attempt++ {
		if err := c.calls.Clock.Sleep(ctx, wait); err != nil {
			if last == nil {
				return Process{}, fmt.Errorf("waiting for process %d after %d polls: %w", id, attempt-1, err)
			}
			return Process{}, fmt.Errorf("waiting for process %d after %d polls: %w (last: %w)", id, attempt-1, err, last)
		}
		p, err := c.Process(restcall.WithAttempt(ctx, attempt), id)
		switch {
		case err == nil && p.Done():
			return p, nil
		case err == nil:
			last = fmt.Errorf("process %d is %s", id, p.Status)
		case ctx.Err() == nil && Retryable(err):
			last = err
		default:
			return Process{}, fmt.Errorf("waiting for process %d (poll %d): %w", id, attempt, err)
		}
		delay = policy.Next(delay)
		wait = max(delay, restcall.RetryAfter(err, c.calls.Clock.Now()))
	}
}
