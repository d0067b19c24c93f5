package progress

import (
	"fmt"
	"strings"
	"time"
)

// Snapshot is the state of a run at one moment, as the bar draws it.
type Snapshot struct {
	Stage       string // what the run is doing now: "exporting", "loading", ...
	Exported    int64  // users read from Braze
	Transformed int64  // users mapped to Brevo contacts
	Loaded      int64  // contacts written to Brevo (or found unchanged)
	Total       int64  // users in the export; 0 while still unknown
	Elapsed     time.Duration
}

// barWidth is the number of cells of the bar itself; the whole line stays
// under 100 columns so it does not wrap on an ordinary terminal.
const barWidth = 24

// Render draws s as one line without a line ending. Percentage and bar follow
// Loaded, the last stage: a user counts as done only once Brevo has it.
func Render(s Snapshot) string {
	var b strings.Builder
	if s.Total > 0 {
		done := min(s.Loaded, s.Total)
		filled := int(done * barWidth / s.Total)
		b.WriteString("[")
		b.WriteString(strings.Repeat("#", filled))
		b.WriteString(strings.Repeat("-", barWidth-filled))
		fmt.Fprintf(&b, "] %3d%% ", done*100/s.Total)
	} else {
		b.WriteString("[")
		b.WriteString(strings.Repeat(" ", barWidth))
		b.WriteString("]   ?% ")
	}
	fmt.Fprintf(&b, "exported %s", Count(s.Exported))
	if s.Total > 0 {
		fmt.Fprintf(&b, "/%s", Count(s.Total))
	}
	fmt.Fprintf(&b, " transformed %s loaded %s", Count(s.Transformed), Count(s.Loaded))
	fmt.Fprintf(&b, " %s/s %s", Count(rate(s.Loaded, s.Elapsed)), Clock(s.Elapsed))
	if s.Stage != "" {
		b.WriteString(" ")
		b.WriteString(s.Stage)
	}
	return b.String()
}

// rate is n per second over d, 0 before the first full millisecond so the
// first frames do not show absurd rates.
func rate(n int64, d time.Duration) int64 {
	if d < time.Millisecond {
		return 0
	}
	return int64(float64(n) / d.Seconds())
}

// Count formats n with thousands separators: 12345 -> "12,345".
func Count(n int64) string {
	if n < 0 {
		return "-" + Count(-n)
	}
	s := fmt.Sprint(n)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	head := len(s) % 3
	if head > 0 {
		b.WriteString(s[:head])
	}
	for i := head; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// Clock formats d as mm:ss, or h:mm:ss from one hour on.
func Clock(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", m, s)
}
