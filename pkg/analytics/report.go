package analytics

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Sources of a report row.
const (
	SourceBraze = "braze"
	SourceBrevo = "brevo"
)

// Row is one campaign, Canvas or Brevo email campaign of a report.
type Row struct {
	Source string `json:"source"` // braze | brevo
	Kind   string `json:"kind"`   // campaign | canvas | email
	ID     string `json:"id"`
	Name   string `json:"name"`
	Figures
	// Days is how many days of the period have figures (Braze rows).
	Days int `json:"days,omitempty"`
}

// Report is the figures of a period, per campaign and Canvas, beside
// Brevo's email campaigns when their statistics are read.
type Report struct {
	Since string `json:"since"` // YYYY-MM-DD, first day counted
	Until string `json:"until"` // YYYY-MM-DD, last day counted
	Rows  []Row  `json:"rows"`
	// Totals are per source: "braze" (campaigns and Canvases) and, when
	// any, "brevo".
	Totals map[string]Figures `json:"totals"`
	// Tracked is how many campaigns and Canvases are tracked.
	Tracked int `json:"campaignsTracked"`
}

// Build reads the figures of the days from since to until (both
// included; zero since: every day stored, zero until: today) per campaign
// and Canvas, streaming the bucket, with each one's name; and Brevo's
// email campaigns sent in the period (or of unknown date).
func Build(ctx context.Context, s *Store, since, until time.Time) (Report, error) {
	from, to := "", "9999-12-31"
	if !since.IsZero() {
		from = since.UTC().Format(time.DateOnly)
	}
	if !until.IsZero() {
		to = until.UTC().Format(time.DateOnly)
	}
	type key struct{ kind, id string }
	rows := map[key]*Row{}
	first, last := "", ""
	err := s.each(ctx, "day.>", func(v []byte) error {
		var d Day
		if err := msgpack.Unmarshal(v, &d); err != nil {
			return err
		}
		if d.Date < from || d.Date > to {
			return nil
		}
		if first == "" || d.Date < first {
			first = d.Date
		}
		if d.Date > last {
			last = d.Date
		}
		k := key{d.Kind, d.ID}
		r := rows[k]
		if r == nil {
			r = &Row{Source: SourceBraze, Kind: d.Kind, ID: d.ID}
			rows[k] = r
		}
		r.Add(d.Figures)
		r.Days++
		return nil
	})
	if err != nil {
		return Report{}, err
	}
	metas, err := s.Metas(ctx, "")
	if err != nil {
		return Report{}, err
	}
	rep := Report{Since: from, Until: to, Totals: map[string]Figures{SourceBraze: {}}, Tracked: len(metas)}
	for _, m := range metas {
		k := key{m.Kind, m.ID}
		if r := rows[k]; r != nil {
			r.Name = m.Name
		} else {
			rows[k] = &Row{Source: SourceBraze, Kind: m.Kind, ID: m.ID, Name: m.Name}
		}
	}
	for _, r := range rows {
		rep.Rows = append(rep.Rows, *r)
		t := rep.Totals[SourceBraze]
		t.Add(r.Figures)
		rep.Totals[SourceBraze] = t
	}
	err = s.each(ctx, "brevo.>", func(v []byte) error {
		var c BrevoCampaign
		if err := msgpack.Unmarshal(v, &c); err != nil {
			return err
		}
		if day := dateOf(c.SentDate); day != "" && (day < from || day > to) {
			return nil
		}
		rep.Rows = append(rep.Rows, Row{Source: SourceBrevo, Kind: "email", ID: strconv.FormatInt(c.ID, 10), Name: c.Name, Figures: c.Figures})
		t := rep.Totals[SourceBrevo]
		t.Add(c.Figures)
		rep.Totals[SourceBrevo] = t
		return nil
	})
	if err != nil {
		return Report{}, err
	}
	slices.SortFunc(rep.Rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	if rep.Rows == nil {
		rep.Rows = []Row{}
	}
	if from == "" {
		rep.Since = first
	}
	if until.IsZero() {
		rep.Until = time.Now().UTC().Format(time.DateOnly)
	}
	return rep, nil
}

// dateOf is the YYYY-MM-DD of an ISO 8601 time ("" when it is not one).
func dateOf(s string) string {
	if len(s) >= 10 {
		if _, err := time.Parse(time.DateOnly, s[:10]); err == nil {
			return s[:10]
		}
	}
	return ""
}

// columns of the table and CSV forms.
var columns = []string{"source", "kind", "id", "name", "sent", "delivered", "opens", "clicks", "unsubscribes",
	"conversions", "revenue"}

func (r Row) cells(clean func(string) string) []string {
	return []string{r.Source, r.Kind, clean(r.ID), clean(r.Name), itoa(r.Sent), itoa(r.Delivered), itoa(r.Opens),
		itoa(r.Clicks), itoa(r.Unsubscribes), itoa(r.Conversions), strconv.FormatFloat(r.Revenue, 'f', 2, 64)}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// WriteJSON writes the report as one JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteCSV writes a header and a row per campaign, Canvas and Brevo email
// campaign, then a TOTAL row per source. clean makes names safe to print.
func (r Report) WriteCSV(w io.Writer, clean func(string) string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(columns); err != nil {
		return err
	}
	for _, row := range r.Rows {
		if err := cw.Write(row.cells(clean)); err != nil {
			return err
		}
	}
	for _, src := range r.sources() {
		if err := cw.Write(Row{Source: src, Kind: "total", Figures: r.Totals[src]}.cells(clean)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the report for a person: a section per source, each
// with its total. clean makes names safe to print on a terminal.
func (r Report) WriteTable(w io.Writer, clean func(string) string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "Campaign and Canvas analytics, %s to %s (%d tracked)\n", r.Since, r.Until, r.Tracked)
	head := "KIND\tNAME\tSENT\tDELIVERED\tOPENS\tCLICKS\tUNSUBSCRIBES\tCONVERSIONS\tREVENUE\t"
	for _, src := range r.sources() {
		title := "Braze campaigns and Canvases"
		if src == SourceBrevo {
			title = "Brevo email campaigns"
		}
		fmt.Fprintf(tw, "\n%s\n%s\n", title, head)
		for _, row := range r.Rows {
			if row.Source == src {
				c := row.cells(clean)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", c[1], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10])
			}
		}
		c := Row{Figures: r.Totals[src]}.cells(clean)
		fmt.Fprintf(tw, "TOTAL\t\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", c[4], c[5], c[6], c[7], c[8], c[9], c[10])
	}
	return tw.Flush()
}

func (r Report) sources() []string {
	out := []string{SourceBraze}
	if _, ok := r.Totals[SourceBrevo]; ok {
		out = append(out, SourceBrevo)
	}
	return out
}
