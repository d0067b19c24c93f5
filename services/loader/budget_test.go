package loader

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/restcall"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// pollLog records when each poll was made (on the simulated clock).
type pollLog struct {
	Processes
	clock *restcall.ManualClock
	at    []time.Time
}

func (p *pollLog) Process(ctx context.Context, id int64) (brevo.Process, error) {
	p.at = append(p.at, p.clock.Now())
	return p.Processes.Process(ctx, id)
}

// pollRig is a Brevo simulator on clock whose imports take delay plus
// their rows at rowsPerSecond, a client of it, its polls logged, and a
// tracker polling it within perHour polls an hour.
func pollRig(t *testing.T, clock *restcall.ManualClock, delay time.Duration, rowsPerSecond float64, perHour int) (*brevosim.Server, *brevo.Client, *pollLog, *tracker) {
	t.Helper()
	sim := brevosim.New(brevosim.Config{APIKey: "k", RateLimit: true, Now: clock.Now,
		ImportDelay: delay, ImportRowsPerSecond: rowsPerSecond})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	client, err := brevo.New(brevo.Config{BaseURL: srv.URL + "/v3", APIKey: "k", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	polls := &pollLog{Processes: client, clock: clock}
	tr := &tracker{procs: polls, clock: clock, perHour: perHour, firstPoll: 2 * time.Second, grace: time.Minute,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return sim, client, polls, tr
}

// A full sync of any size polls GET /processes within Brevo's budget of 100
// calls an hour, with the simulator enforcing it (a 429 would show): here
// 400 imports, first fast ones (the budget, not the imports, sets the
// pace), then realistic ones (one poll each once the pace is learned).
func TestPollsStayWithinTheHourlyBudget(t *testing.T) {
	// The Brevo simulator reads the same clock: hours of imports run in
	// seconds.
	clock := restcall.NewManualClock(time.Date(2026, 1, 5, 9, 59, 0, 0, time.UTC))
	for _, tc := range []struct {
		name          string
		delay         time.Duration
		rowsPerSecond float64
		rows          int
		imports       int
		maxPerImport  float64 // polls per import after the first, on average
		maxLate       float64 // the sync's time over the simulated processing time
	}{
		// Imports of 500 rows take 1 s: the budget (80 an hour), not the
		// imports, sets the pace.
		{"imports faster than the budget", time.Second, 0, 500, 300, 0, 0},
		// Imports filled to about 8 MB take a minute at the sandbox's
		// realistic rate: fewer than 80 an hour, so the budget never binds
		// and each is polled about once, shortly after it completed.
		{"realistic imports", brevosim.RealisticImportDelay, brevosim.RealisticImportRowsPerSecond, 27_000, 16, 1.3, 1.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, client, polls, tr := pollRig(t, clock, tc.delay, tc.rowsPerSecond, 80)
			batch := brevo.NewImportBatch(0)
			ctx := context.Background()
			start, firstPolls := clock.Now(), 0
			for k := range tc.imports {
				batch.Reset()
				for i := range tc.rows {
					if ok, err := batch.Add(brevo.ImportContact{ExtID: fmt.Sprintf("u%d-%d", k, i)}); !ok || err != nil {
						t.Fatalf("adding a row: %v %v", ok, err)
					}
				}
				id, err := client.ImportFromBatch(ctx, batch, brevo.ImportOptions{ListIDs: []int64{2}, UpdateExistingContacts: true})
				if err != nil {
					t.Fatalf("import %d: %v", k, err)
				}
				t0, p0 := clock.Now(), len(polls.at)
				if _, err := tr.wait(ctx, &expectation{}, id, tc.rows, clock.Now()); err != nil {
					t.Fatalf("import %d: %v", k, err)
				}
				if k == 0 {
					firstPolls = len(polls.at)
				}
				if testing.Verbose() && k < 20 {
					var at []string
					for _, a := range polls.at[p0:] {
						at = append(at, a.Sub(t0).Round(100*time.Millisecond).String())
					}
					t.Logf("import %d: polled at %v", k, at)
				}
			}
			elapsed := clock.Now().Sub(start)
			// Every clock hour (Brevo's window) and every sliding hour.
			perHour := map[time.Time]int{}
			for _, at := range polls.at {
				perHour[at.Truncate(time.Hour)]++
			}
			for h, n := range perHour {
				if n > 100 {
					t.Errorf("%d polls in the hour from %s: over Brevo's 100", n, h.Format("15:04"))
				}
			}
			for i := range polls.at {
				j := i
				for j < len(polls.at) && polls.at[j].Sub(polls.at[i]) < time.Hour {
					j++
				}
				if n := j - i; n > 80 {
					t.Fatalf("%d polls within an hour from poll %d: over the budget of 80", n, i)
				}
			}
			if n := sim.Requests()["GET /v3/processes/{processId} 429"]; n > 0 {
				t.Errorf("Brevo answered 429 to %d polls", n)
			}
			per := float64(len(polls.at)-firstPolls) / float64(tc.imports-1)
			t.Logf("%d imports of %d rows in %s (simulated): %d polls, the first import %d, %.2f per import after it",
				tc.imports, tc.rows, elapsed.Round(time.Second), len(polls.at), firstPolls, per)
			if tc.maxPerImport > 0 && per > tc.maxPerImport {
				t.Errorf("%.2f polls per import, want at most %.1f once the pace is learned", per, tc.maxPerImport)
			}
			processing := time.Duration(tc.imports) * (tc.delay + time.Duration(float64(tc.rows)/max(tc.rowsPerSecond, 1e-9)*float64(time.Second)))
			if tc.maxLate > 0 && float64(elapsed) > tc.maxLate*float64(processing) {
				t.Errorf("the imports took %s against %s of processing: polls came too late", elapsed, processing)
			}
		})
	}
}

// Imports of very different sizes (a full sync's, filled to about 8 MB,
// then small incrementals', then a full sync's again) each have their own
// pace: Brevo's fixed time per import weighs on a small import's rows far
// more than on a large one's, so what a small import took per row would
// make the next full sync wait minutes past each import, and what a large
// one took would poll each small one too early, several times.
func TestImportSizesArePacedApart(t *testing.T) {
	clock := restcall.NewManualClock(time.Date(2026, 1, 5, 9, 59, 0, 0, time.UTC))
	// The budget is not what is measured here: it never binds.
	_, client, polls, tr := pollRig(t, clock, brevosim.RealisticImportDelay, brevosim.RealisticImportRowsPerSecond, 100_000)
	ctx := context.Background()
	batch := brevo.NewImportBatch(0)
	for n, ph := range []struct {
		name          string
		rows, imports int
		seen          bool // imports of this size were paced before
	}{
		{"full sync", 27_000, 4, false}, {"incrementals", 1_000, 4, false},
		{"full sync again", 27_000, 4, true}, {"incrementals again", 1_000, 4, true},
	} {
		took := brevosim.RealisticImportDelay + time.Duration(float64(ph.rows)/brevosim.RealisticImportRowsPerSecond*float64(time.Second))
		var late time.Duration
		p0 := len(polls.at)
		for k := range ph.imports {
			batch.Reset()
			for i := range ph.rows {
				if ok, err := batch.Add(brevo.ImportContact{ExtID: fmt.Sprintf("p%d-%d-%d", n, k, i)}); !ok || err != nil {
					t.Fatalf("adding a row: %v %v", ok, err)
				}
			}
			id, err := client.ImportFromBatch(ctx, batch, brevo.ImportOptions{ListIDs: []int64{2}, UpdateExistingContacts: true})
			if err != nil {
				t.Fatalf("%s, import %d: %v", ph.name, k, err)
			}
			started := clock.Now()
			if _, err := tr.wait(ctx, &expectation{}, id, ph.rows, started); err != nil {
				t.Fatalf("%s, import %d: %v", ph.name, k, err)
			}
			l := clock.Now().Sub(started) - took
			late += l
			if k == 0 && !ph.seen && n > 0 && l > took/10 {
				// A size not seen yet is guessed at the full imports'
				// time per row, far short of a small import's (mostly
				// Brevo's fixed part): polled again at half as long
				// again as it ran, it is found done soon after its end.
				t.Errorf("%s: the first import of a size not seen yet was found done %s after it ended; want within a tenth of its time (%s)",
					ph.name, l.Round(time.Millisecond), took/10)
			}
			t.Logf("%s, import %d: found done %s after it ended", ph.name, k, l.Round(time.Millisecond))
		}
		n := len(polls.at) - p0
		t.Logf("%s: %d imports of %d rows (%s each), %d polls, found done %s after they ended, in all",
			ph.name, ph.imports, ph.rows, took, n, late.Round(time.Second))
		if !ph.seen {
			continue
		}
		if n > ph.imports+ph.imports/2 {
			t.Errorf("%s: %d polls for %d imports of a size paced before; want about one each", ph.name, n, ph.imports)
		}
		if late > time.Duration(ph.imports)*took/10 {
			t.Errorf("%s: the imports were found done %s after they ended, in all; want within a tenth of their time (%s)",
				ph.name, late.Round(time.Second), time.Duration(ph.imports)*took/10)
		}
	}
}
