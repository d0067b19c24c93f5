package app

import "time"

// Schedule decides what each scheduled users sync is: an incremental one
// every Interval, and a full re-export instead once FullEvery has passed
// since the last full one began (connectors.braze.sync.users.interval and
// full_every). A full re-export catches what incremental syncs cannot see,
// such as users deleted in Braze or a field mapping changed. Not safe for
// concurrent use.
type Schedule struct {
	Interval  time.Duration
	FullEvery time.Duration // 0: never a full one after the first
	lastFull  time.Time
}

// Ran records that a sync of runType began at start.
func (s *Schedule) Ran(runType string, start time.Time) {
	if runType == "full" {
		s.lastFull = start
	}
}

// Next is the type of the sync due at now, "full" or "incremental". A tick
// a little early (the ticker drifts, a sync ran long) still counts: within
// a tenth of the interval of FullEvery is due.
func (s *Schedule) Next(now time.Time) string {
	if s.FullEvery > 0 && (s.lastFull.IsZero() || now.Sub(s.lastFull)+s.Interval/10 >= s.FullEvery) {
		return "full"
	}
	return "incremental"
}
