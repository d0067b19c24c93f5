package chaos

import (
	"math/rand/v2"
	"time"
)

// Targets of chaos events: the worker kinds (stack.Services) and the server.
const (
	TargetExtractor   = "extractor"
	TargetTransformer = "transformer"
	TargetLoader      = "loader"
	TargetNATS        = "nats-server"
)

// Event is one planned disturbance: SIGKILL and restart of a worker, or a
// restart of nats-server. It fires once its trigger stage has handled At of
// the users.
type Event struct {
	Target string
	At     float64

	// Set when it fired.
	Fired   bool
	Elapsed time.Duration // since the sync was requested
	Seen    progress      // the progress that triggered it
	Err     string        // a restart that failed
}

// progress is what the run's state says has been done so far.
type progress struct {
	Status                        string
	Exported, Transformed, Loaded int64
}

// window is where in its trigger stage an event of a target may fire.
// Extractor kills trigger on the export; the others on
// the transformer's progress, which the loader trails, so each kill finds
// messages in flight.
var window = map[string][2]float64{
	TargetExtractor:   {0.05, 0.6},
	TargetTransformer: {0.1, 0.8},
	TargetLoader:      {0.2, 0.9},
	TargetNATS:        {0.15, 0.85},
}

// plan draws the events from seed: kills of each worker kind, then the
// server restarts, each at a uniform point of its window; but with two
// kills or more, the first extractor kill strikes at once, while the export
// is being prepared (the resumed extractor must export again while Braze
// still prepares the first export), which a drawn point would rarely hit.
func plan(seed int64, kills, restarts int) []*Event {
	r := rand.New(rand.NewPCG(uint64(seed), 0x6368616f73)) // "chaos"
	var out []*Event
	add := func(target string, n int) {
		w := window[target]
		for i := range n {
			at := w[0] + r.Float64()*(w[1]-w[0])
			if target == TargetExtractor && i == 0 && n > 1 {
				at = 0
			}
			out = append(out, &Event{Target: target, At: at})
		}
	}
	add(TargetExtractor, kills)
	add(TargetTransformer, kills)
	add(TargetLoader, kills)
	add(TargetNATS, restarts)
	return out
}

// due reports whether e should fire at p, out of users.
func (e *Event) due(p progress, users int) bool {
	if e.Fired || users <= 0 {
		return false
	}
	done := p.Transformed
	if e.Target == TargetExtractor {
		done = p.Exported
	}
	return float64(done) >= e.At*float64(users)
}
