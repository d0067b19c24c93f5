package chaos

import (
	"fmt"
	"io"
	"time"

	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// BreakersNotWired is printed for breaker transitions until the workers
// expose them: they live inside the worker processes and nothing publishes
// them yet.
const BreakersNotWired = "n/a (not wired)"

// maxShown bounds the problems Print lists.
const maxShown = 30

// Report is what a chaos run observed and what its checks found.
type Report struct {
	Users   int
	Seed    int64
	Faults  string
	WorkDir string
	CPUHog  int

	PlannedKills, PlannedRestarts int
	Events                        []*Event
	// Crashes are workers that exited by themselves; the run restarted
	// them, as a deployment's restart policy would. They fail no check
	// (nothing may be lost either way) but each is a finding.
	Crashes []Crash

	ChaosSummary, RefSummary app.Summary
	ChaosTime, RefTime, Wall time.Duration

	// Redeliveries are JetStream redeliveries in the chaos run (see
	// redeliveries); RefRedeliveries the same in the reference run.
	Redeliveries, RefRedeliveries int64
	// Statuses counts the chaos run's requests to both simulators by status.
	Statuses map[string]int
	// Breakers are the circuit breakers' transitions.
	Breakers string
	Contacts int
	// Writes and RefWrites count the contact rows Brevo was asked to write
	// (import rows + single upserts) in each run.
	Writes, RefWrites int

	SharedEmails, SharedPhones int
	// OrderDependent users (no ext_id, a shared email) may end as a
	// contact or a duplicate_email letter depending on claim order.
	OrderDependent int
	Problems       []string
}

func (r *Report) addChaos(c *chaosResult) {
	r.Events, r.Crashes, r.ChaosSummary, r.ChaosTime = c.events, c.crashes, c.summary, c.duration
	r.Breakers = BreakersNotWired
	if c.breakers != "" {
		r.Breakers = c.breakers
	}
	r.Problems = append(r.Problems, c.problems...)
	r.Statuses = c.statuses
	if c.snap != nil {
		r.Statuses, r.Redeliveries, r.Contacts = c.snap.Statuses, c.snap.Redeliveries, len(c.snap.Contacts)
	}
	kills, restarts := r.done()
	if kills != r.PlannedKills || restarts != r.PlannedRestarts {
		r.Problems = append(r.Problems, fmt.Sprintf("chaos incomplete: %d of %d kills and %d of %d nats-server restarts happened before the run ended",
			kills, r.PlannedKills, restarts, r.PlannedRestarts))
	}
	for _, e := range c.events {
		if e.Err != "" {
			r.Problems = append(r.Problems, fmt.Sprintf("restarting %s: %s", e.Target, e.Err))
		}
	}
}

// OneLine is the report's key figures on one line.
func (r *Report) OneLine() string {
	kills, restarts := r.done()
	return fmt.Sprintf("%d users, %d kills, %d server restarts, %d redeliveries, %d requests (%d 429s), chaos sync %s, reference %s; %s",
		r.Users, kills, restarts, r.Redeliveries, r.Requests(), r.Statuses["429"], r.ChaosTime.Round(time.Second),
		r.RefTime.Round(time.Second), summaryLine(r.ChaosSummary))
}

// summaryLine is a run summary on one line.
func summaryLine(s app.Summary) string {
	return fmt.Sprintf("exported %d, created %d, updated %d, unchanged %d, merged %d, stale %d, dead-lettered %d, missing %d, failed %d; "+
		"without email %d, without SMS %d", s.Exported, s.Created, s.Updated, s.Unchanged, s.Merged, s.Stale, s.DeadLettered,
		s.Missing, s.Failed, s.WithoutEmail, s.WithoutSMS)
}

// checkSummaries finds a summary that does not account for every exported
// user, and a chaos summary that differs from the fault-free one: each line
// of the export has one outcome, whatever the kills and redeliveries.
func checkSummaries(chaos, ref app.Summary) []string {
	var out []string
	for _, s := range []struct {
		name string
		s    app.Summary
	}{{"chaos", chaos}, {"reference", ref}} {
		if s.s.Missing != 0 || s.s.Settled() != s.s.Exported {
			out = append(out, fmt.Sprintf("the %s run's summary does not account for every exported user: %s",
				s.name, summaryLine(s.s)))
		}
	}
	norm := func(s app.Summary) app.Summary {
		s.RunID, s.Duration, s.Type = "", 0, ""
		return s
	}
	if norm(chaos) != norm(ref) {
		out = append(out, fmt.Sprintf("the chaos run's summary differs from the fault-free run's: %s, against %s",
			summaryLine(chaos), summaryLine(ref)))
	}
	return out
}

// done counts the kills and restarts that happened.
func (r *Report) done() (kills, restarts int) {
	for _, e := range r.Events {
		switch {
		case !e.Fired:
		case e.Target == TargetNATS:
			restarts++
		default:
			kills++
		}
	}
	return kills, restarts
}

// OK reports whether every check passed.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Requests is the total of Statuses.
func (r *Report) Requests() int {
	n := 0
	for _, c := range r.Statuses {
		n += c
	}
	return n
}

// Print writes the report, one figure a line.
func (r *Report) Print(w io.Writer) {
	kills, restarts := r.done()
	fmt.Fprintf(w, "chaos report: %d users, seed %d\n", r.Users, r.Seed)
	fmt.Fprintf(w, "faults: %s\n", r.Faults)
	if r.CPUHog > 0 {
		fmt.Fprintf(w, "busy processes beside the run: %d\n", r.CPUHog)
	}
	for _, e := range r.Events {
		if e.Fired {
			fmt.Fprintf(w, "  event: %-11s at %6.1fs (exported %d, transformed %d, loaded %d)%s\n", e.Target,
				e.Elapsed.Seconds(), e.Seen.Exported, e.Seen.Transformed, e.Seen.Loaded, errSuffix(e.Err))
		} else {
			fmt.Fprintf(w, "  event: %-11s planned at %.0f%%, never reached\n", e.Target, e.At*100)
		}
	}
	fmt.Fprintf(w, "kills done: %d of %d\n", kills, r.PlannedKills)
	fmt.Fprintf(w, "worker crashes (restarted as a supervisor would): %d\n", len(r.Crashes))
	for _, c := range r.Crashes {
		fmt.Fprintf(w, "  crash: %-11s at %6.1fs: %s\n", c.Target, c.Elapsed.Seconds(), c.LastLine)
	}
	fmt.Fprintf(w, "nats restarts: %d of %d\n", restarts, r.PlannedRestarts)
	fmt.Fprintf(w, "retries (JetStream redeliveries of RAW+OPS messages, packs of users on the users path): %d (reference run: %d)\n", r.Redeliveries, r.RefRedeliveries)
	fmt.Fprintf(w, "breaker transitions: %s\n", r.Breakers)
	fmt.Fprintf(w, "429s received: %d\n", r.Statuses["429"])
	fmt.Fprintf(w, "total requests: %d\n", r.Requests())
	fmt.Fprintf(w, "requests by status: %s\n", countsString(r.Statuses))
	s := r.ChaosSummary
	fmt.Fprintf(w, "chaos run: %s; %s\n", r.ChaosTime.Round(100*time.Millisecond), summaryLine(s))
	fmt.Fprintf(w, "reference run: %s; %s\n", r.RefTime.Round(100*time.Millisecond), summaryLine(r.RefSummary))
	fmt.Fprintf(w, "contact writes (import rows + single upserts): %d (reference run: %d)\n", r.Writes, r.RefWrites)
	fmt.Fprintf(w, "contacts: %d (shared emails %d, shared phones %d compared by group; %d users without an ext_id share an email, their outcome depends on claim order)\n",
		r.Contacts, r.SharedEmails, r.SharedPhones, r.OrderDependent)
	fmt.Fprintf(w, "wall time: %s\n", r.Wall.Round(100*time.Millisecond))
	if r.OK() {
		dlq := "DLQ by reason identical"
		if r.OrderDependent > 0 {
			dlq = "DLQ by reason identical but for the identifier reasons the claim order decides"
		}
		fmt.Fprintln(w, "verdict: PASS (same contacts, attributes, SMS, emails, ext_ids and lists as the fault-free run; "+
			"no duplicate contact; "+dlq+"; no concurrent import)")
		return
	}
	fmt.Fprintf(w, "verdict: FAIL, %d problems (work directory kept: %s)\n", len(r.Problems), r.WorkDir)
	for _, p := range r.Problems[:min(len(r.Problems), maxShown)] {
		fmt.Fprintln(w, "  - "+p)
	}
	if len(r.Problems) > maxShown {
		fmt.Fprintf(w, "  ... and %d more\n", len(r.Problems)-maxShown)
	}
}
