package brevo

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
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

// WaitProcess polls process id until it completes: first after
// policy.Initial, then doubling (by default) up to policy.Max. Retryable
// failures are polled again, after the rate-limit reset when that is later;
// other errors end the wait.
func (c *Client) WaitProcess(ctx context.Context, id int64, policy Backoff) (Process, error) {
	policy, err := policy.withDefaults()
	if err != nil {
		return Process{}, err
	}
	if policy.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, policy.Timeout)
		defer cancel()
	}
	delay, wait := policy.Initial, policy.Initial
	var last error
	for attempt := 1; ; attempt++ {
		if err := c.wait(ctx, wait); err != nil {
			if last == nil {
				return Process{}, fmt.Errorf("waiting for process %d after %d polls: %w", id, attempt-1, err)
			}
			return Process{}, fmt.Errorf("waiting for process %d after %d polls: %w (last: %w)", id, attempt-1, err, last)
		}
		p, err := c.Process(WithAttempt(ctx, attempt), id)
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
		delay = policy.next(delay)
		wait = max(delay, retryAfter(err, c.now()))
	}
}
