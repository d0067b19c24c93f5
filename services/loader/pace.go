package loader

import (
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
)

// Brevo imports take minutes, and GET /processes, the only way to learn
// that one completed, shares a budget of 100 calls an hour with every other
// endpoint but contacts and events. A loader that polls on a fixed backoff
// spends several polls per import and stalls a large sync until the hour
// turns. importPace learns how fast Brevo imports (rows per second, from
// the imports it saw complete) and polls the next import first when it
// should be done, then as often again while it runs late.
type importPace struct {
	rate float64 // rows per second, as observed; 0 until an import completed
}

const (
	// firstPoll is the first wait of the first import: nothing is known yet.
	firstPoll = time.Second
	// maxPoll caps any wait between polls.
	maxPoll = 2 * time.Minute
	// paceWeight is the weight of the newest observation.
	paceWeight = 0.5
)

// policy is how to poll an import of rows rows.
func (p *importPace) policy(rows int) brevo.Backoff {
	if p.rate <= 0 {
		return brevo.Backoff{Initial: firstPoll, Max: maxPoll, Multiplier: 2}
	}
	// The observed time includes up to one poll interval of lateness, so
	// the estimate errs long: aim a little early.
	est := time.Duration(0.9 * float64(rows) / p.rate * float64(time.Second))
	est = min(max(est, 100*time.Millisecond), maxPoll)
	return brevo.Backoff{Initial: est, Max: est, Multiplier: 1}
}

// observe records that an import of rows rows was seen complete after d.
func (p *importPace) observe(rows int, d time.Duration) {
	if rows <= 0 || d <= 0 {
		return
	}
	r := float64(rows) / d.Seconds()
	if p.rate <= 0 {
		p.rate = r
		return
	}
	p.rate = paceWeight*r + (1-paceWeight)*p.rate
}
