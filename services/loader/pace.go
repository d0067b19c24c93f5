package loader

import (
	"math/bits"
	"time"
)

// Brevo imports take minutes, and GET /processes/{id}, the only read of
// whether one completed, shares Brevo's budget of 100 calls an hour with
// every endpoint but contacts and events. Two things keep a sync of any size
// within that budget:
//
//   - pollBudget, a token bucket every loader replica shares (kept in the
//     state bucket, completion.go) of perHour polls an hour: a quarter of
//     them may follow each other at once (a small sync's few imports are
//     each polled as soon as they should be done), the rest refill evenly,
//     so in any hour (a clock hour included) there are at most perHour
//     polls however many imports run;
//   - importPace, which learns how long an import takes per row and polls
//     each import once, when it should be done, rather than on a fixed
//     backoff that spends several polls on every import. Each size class
//     of imports (importPaces) has its own: Brevo takes seconds for any
//     import, however small, so a small import takes far longer per row
//     than a full one.
//
// With a notify URL (Config.NotifyURL) Brevo says when an import finished
// and polling is the fallback: the first poll waits twice the estimate plus
// Config.NotifyGrace.

// pollBurst is the capacity of a budget of perHour polls an hour: polls
// that may follow each other without waiting for the refill. The refill is
// the rest of perHour, spread over the hour.
func pollBurst(perHour int) float64 { return float64(max(1, perHour/4)) }

// pollBudget is a token bucket of polls.
type pollBudget struct {
	Tokens float64 `json:"tokens"`
	At     int64   `json:"at"` // unix ns of the last refill; 0: never used (full)
}

// take spends a poll at now when the bucket holds one and returns 0, else
// it returns how long until it will (spending nothing). perHour > 0.
func (b *pollBudget) take(now time.Time, perHour int) time.Duration {
	burst := pollBurst(perHour)
	rate := max(float64(perHour)-burst, 1) / float64(time.Hour) // tokens per ns
	if b.At == 0 {
		b.Tokens = burst
	} else if el := now.UnixNano() - b.At; el > 0 {
		b.Tokens = min(burst, b.Tokens+rate*float64(el))
	}
	b.At = max(b.At, now.UnixNano())
	if b.Tokens >= 1 {
		b.Tokens--
		return 0
	}
	return time.Duration((1-b.Tokens)/rate) + time.Millisecond
}

// importPace is how long Brevo takes per imported row, as bounds learned
// from the imports seen complete: an import was still running after Lo per
// row, another was done by Hi per row. The next import is polled between
// them (a binary search) until they are within paceTolerance, then at Hi.
// Lo slowly decays, so that an import that got faster is noticed. Zero:
// nothing learned.
type importPace struct {
	Lo float64 `json:"lo_ns_per_row"`
	Hi float64 `json:"hi_ns_per_row"`
}

const (
	// maxPoll caps a wait between two polls of an import (the budget may
	// make it longer).
	maxPoll = 2 * time.Minute
	// paceTolerance is how close the bounds must be for polls to aim at Hi.
	paceTolerance = 0.03
	// paceForget decays Lo at each import done at its first poll.
	paceForget = 0.998
	// paceWeight is the weight of the newest exact observation.
	paceWeight = 0.5
)

// estimate is when to poll an import of rows rows first; 0 when unknown.
func (p importPace) estimate(rows int) time.Duration {
	if rows <= 0 {
		return 0
	}
	return time.Duration(p.perRow() * float64(rows))
}

// perRow is the time per row an import is polled at; 0 when unknown.
func (p importPace) perRow() float64 {
	switch {
	case p.Hi <= 0 && p.Lo <= 0:
		return 0
	case p.Hi <= 0:
		return 1.5 * p.Lo
	case p.Hi-p.Lo <= paceTolerance*p.Hi:
		return p.Hi
	default:
		return (p.Lo + p.Hi) / 2
	}
}

// surely is when an import of rows rows was done by, as far as is known
// (0: unknown): where to poll again after an early poll found it running.
func (p importPace) surely(rows int) time.Duration {
	return time.Duration(p.Hi * float64(rows))
}

// exact records that an import of rows rows took d (its notification came).
func (p *importPace) exact(rows int, d time.Duration) {
	if rows <= 0 || d <= 0 {
		return
	}
	r := float64(d) / float64(rows)
	if p.Hi > 0 && p.Lo > 0 && p.Lo < p.Hi {
		r = paceWeight*r + (1-paceWeight)*p.Hi
	}
	p.Lo, p.Hi = r, r
}

// polled records that a poll after d found an import of rows rows done;
// runningAt is when an earlier poll found it still running (0: none did).
func (p *importPace) polled(rows int, d, runningAt time.Duration) {
	if rows <= 0 || d <= 0 {
		return
	}
	hi, lo := float64(d)/float64(rows), float64(runningAt)/float64(rows)
	if p.Hi <= 0 || hi < p.Hi || lo >= p.Hi {
		// Done sooner than known, or running past what was known enough:
		// imports got slower, the old bound is stale.
		p.Hi = hi
	}
	if runningAt > 0 {
		p.Lo = max(p.Lo, lo)
	} else {
		p.Lo *= paceForget
	}
	if p.Lo >= p.Hi {
		p.Lo = lo
	}
}

// importPaces is the pace of each size class of imports: class k holds the
// imports of 2^(k-1) to 2^k-1 rows. Brevo's time for an import is a fixed
// part (seconds) and a part per row, so one pace per row for every size
// would be wrong for all but one: learned on small incrementals, it made
// the next full sync wait minutes past each import (a 27,000-row import
// polled at 189 s for 59 s); learned on full imports, it polled each
// small one too early, several times.
type importPaces map[int]importPace

// sizeClass is the class of an import of rows rows.
func sizeClass(rows int) int { return bits.Len(uint(max(rows, 1))) }

// of is the pace to poll an import of rows rows by: its class's, or, for a
// size not seen yet, the fastest per row any class knows (a poll too early
// costs a poll; one too late, the import's time again).
func (ps importPaces) of(rows int) importPace {
	if p, ok := ps[sizeClass(rows)]; ok {
		return p
	}
	var fastest float64
	for _, p := range ps {
		if per := p.perRow(); per > 0 && (fastest == 0 || per < fastest) {
			fastest = per
		}
	}
	// A guess, not a bound: nothing is known to be done by then.
	return importPace{Lo: fastest / 1.5}
}

// surely is when an import of rows rows would be done by, as far as is
// known, erring late (0: unknown): its class's bound, or for a size not
// seen yet the slowest per row any class was done by.
func (ps importPaces) surely(rows int) time.Duration {
	if p, ok := ps[sizeClass(rows)]; ok {
		return p.surely(rows)
	}
	var slowest float64
	for _, p := range ps {
		slowest = max(slowest, p.Hi)
	}
	return time.Duration(slowest * float64(rows))
}

// learn applies f to the pace of rows rows' class.
func (ps *importPaces) learn(rows int, f func(*importPace)) {
	if *ps == nil {
		*ps = importPaces{}
	}
	p := (*ps)[sizeClass(rows)]
	f(&p)
	(*ps)[sizeClass(rows)] = p
}
