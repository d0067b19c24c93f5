package pagetest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// chromium finds Debian's chromium (or another Chrome) on PATH.
func chromium() (string, bool) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// readFigures is every figure the page shows, by its data-k key: the raw
// value (data-v) where the page keeps one, else the text shown.
const readFigures = `Object.fromEntries([...document.querySelectorAll("[data-k]")].map(e => [e.dataset.k, e.dataset.v !== undefined ? e.dataset.v : e.textContent]))`

var grouped = regexp.MustCompile(`^[0-9]{1,3}(,[0-9]{3})+$`)

// pageFigures reads the page's figures; numbers shown with thousands
// separators are read back as plain digits.
func pageFigures(ctx context.Context) (map[string]string, error) {
	m, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](readFigures))
	if err != nil {
		return nil, err
	}
	for k, v := range m {
		if grouped.MatchString(v) {
			m[k] = strings.ReplaceAll(v, ",", "")
		}
	}
	return m, nil
}

func ts(t time.Time) string { return t.Format(time.RFC3339Nano) }

// figures is what the page must show for st, by the page's keys.
func figures(st *app.Status) map[string]string {
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	m := map[string]string{
		"connected": strconv.FormatBool(st.Connected), "readAt": ts(st.ReadAt),
		"usersCount": n(st.UsersCount), "eventsProcessed": n(st.EventsProcessed), "campaignsTracked": n(st.CampaignsTracked),
		"lastSync.id": "none yet", "lastSync.startedAt": "",
	}
	if st.LastSync != nil {
		m["lastSync.id"], m["lastSync.startedAt"] = st.LastSync.ID, ts(st.LastSync.StartedAt)
	}
	run := func(p string, r *app.RunStatus) {
		for k, v := range map[string]string{"id": r.ID, "type": r.Type, "status": r.Status, "exported": n(r.Exported),
			"created": n(r.Created), "updated": n(r.Updated), "unchanged": n(r.Unchanged), "failed": n(r.Failed),
			"deadLettered": n(r.DeadLettered), "durationMs": n(r.DurationMs), "resource": r.Resource} {
			m[p+"."+k] = v
		}
	}
	for res, r := range st.Resources {
		run("resources."+res, r)
		m["resources."+res+".resource"] = res
	}
	for _, r := range st.Runs {
		run("runs."+r.ID, r)
		m["runs."+r.ID+".startedAt"] = ts(r.StartedAt)
	}
	for _, c := range st.Consumers {
		p := "consumers." + c.Stream + "/" + c.Consumer
		m[p] = c.Stream + "/" + c.Consumer
		if c.Error != "" {
			m[p+".error"] = c.Error
			continue
		}
		m[p+".pending"], m[p+".ackPending"] = strconv.FormatUint(c.Pending, 10), strconv.FormatUint(c.AckPending, 10)
	}
	for _, d := range st.DeadLetters {
		p := "deadLetters." + d.Stage + "/" + d.Reason
		m[p], m[p+".stage"], m[p+".reason"] = strconv.FormatUint(d.Count, 10), d.Stage, d.Reason
	}
	for _, g := range st.Segments {
		p := "segments." + g.SegmentID
		for k, v := range map[string]string{"": g.SegmentID, ".name": g.Name, ".listId": n(g.ListID), ".members": n(g.Members),
			".lastRun": g.LastRun, ".joined": n(g.Joined), ".left": n(g.Left), ".unresolved": n(g.Unresolved), ".error": g.Error} {
			m[p+k] = v
		}
	}
	for i, w := range st.Waiting {
		m["waiting."+strconv.Itoa(i)] = w
	}
	for _, b := range st.Breakers {
		p := "breakers." + b.Name
		m[p], m[p+".state"], m[p+".transitions"], m[p+".reported_at"] = b.Name, b.State, n(b.Transitions), ts(b.ReportedAt)
	}
	return m
}

// pageOnly are page keys the status has no figure for: computed by the page.
var pageOnly = regexp.MustCompile(`^runs\..*\.rate$`)

// diff lists where the page's figures differ from want, ignoring keys
// skip matches.
func diff(page, want map[string]string, skip *regexp.Regexp) []string {
	var out []string
	for k, v := range want {
		if skip != nil && skip.MatchString(k) {
			continue
		}
		if got, ok := page[k]; !ok {
			out = append(out, fmt.Sprintf("%s: missing on the page (want %q)", k, v))
		} else if got != v {
			out = append(out, fmt.Sprintf("%s: page %q, API %q", k, got, v))
		}
	}
	for k, v := range page {
		if _, ok := want[k]; !ok && !pageOnly.MatchString(k) && (skip == nil || !skip.MatchString(k)) {
			out = append(out, fmt.Sprintf("%s: on the page (%q), not in the status", k, v))
		}
	}
	slices.Sort(out)
	return out
}

// artifacts is where the test leaves what a person may want to look at:
// $TAJO_TEST_ARTIFACTS, else tmp/artifacts at the repository's root
// (gitignored).
func artifacts(t *testing.T) string {
	dir := os.Getenv("TAJO_TEST_ARTIFACTS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for dir = wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
				break
			}
			if filepath.Dir(dir) == dir {
				dir = os.TempDir()
				break
			}
		}
		dir = filepath.Join(dir, "tmp", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestStatusPageInChromium opens the gateway's status page in headless
// Chromium, signs in with an API key (a wrong one is refused first), and
// checks that the figures it shows are the status API's: while a sync
// runs (each counter between the API's before and after the page's
// snapshot) and, once it and an event are done, equal. It saves a
// screenshot.
func TestStatusPageInChromium(t *testing.T) {
	chrome, ok := chromium()
	if !ok {
		t.Skip("SKIPPED: Chromium is absent (no chromium on PATH): the status page test did not run; .ci/run installs Debian's chromium")
	}
	if testing.Short() {
		t.Skip("runs the pipeline and Chromium: skipped with -short")
	}
	// Brevo's imports take a second per 1,500 rows: the sync lasts a few
	// seconds, long enough to be seen in flight.
	s := startStack(t, sandbox.Options{Users: 4000, Seed: 21, MalformedLines: true, ImportRowsPerSecond: 1500})

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bctx := startChromium(t, ctx, chrome)

	// The page asks for a key; a wrong one is refused and asked again.
	if err := chromedp.Do(bctx,
		chromedp.Navigate(s.url+"/"),
		chromedp.WaitVisible("#key"),
		chromedp.SendKeys("#key", "tajo_wrong"),
		chromedp.Click("#keyform button"),
	); err != nil {
		t.Fatalf("signing in with a wrong key: %v", err)
	}
	refused, err := chromedp.Run(bctx, chromedp.Poll[string](`document.getElementById("signin-msg").textContent`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("a wrong key: no message: %v", err)
	}
	t.Logf("a wrong key: %q", refused)
	if err := chromedp.Do(bctx,
		chromedp.SendKeys("#key", s.key),
		chromedp.Click("#keyform button"),
		chromedp.WaitVisible("#status"),
	); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	url, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(url, s.key) {
		t.Fatalf("the key is in the page's URL %s", url)
	}

	// During the sync: every counter the page shows lies between the API's
	// before and after the page's snapshot.
	runID := s.sync(t, "full")
	during := 0
	for {
		before := s.status(t)
		r := before.Resources["users"]
		if r == nil || r.ID != runID {
			time.Sleep(50 * time.Millisecond)
			continue // the run is not recorded yet
		}
		if r.Done {
			break
		}
		page := waitSnapshot(t, bctx, before.ReadAt)
		after := s.status(t)
		if between(t, page, before, after, runID) {
			during++
		}
	}
	if during == 0 {
		t.Fatal("the page was never seen during the sync: the sync was over before the first check")
	}
	t.Logf("%d checks of the page during the sync", during)

	// An event through the API: events processed moves to 1.
	bv, err := brevo.New(brevo.Config{BaseURL: s.sb.BrevoURL, APIKey: s.sb.BrevoAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.UpsertContact(ctx, brevo.Contact{ExtID: "user_12345", Email: "user12345@example.com"}); err != nil {
		t.Fatal(err)
	}
	s.call(t, "POST", "/v1/connectors/braze/events",
		`{"type":"user.event","payload":{"external_id":"user_12345","name":"status_page_viewed"}}`, http.StatusAccepted, nil)
	var final *app.Status
	waitFor(t, 30*time.Second, "the event counted and the consumers idle", func() bool {
		final = s.status(t)
		if final.EventsProcessed != 1 {
			return false
		}
		for _, c := range final.Consumers {
			if c.Pending+c.AckPending > 0 {
				return false
			}
		}
		return true
	})
	if final.LastSync == nil || final.LastSync.ID != runID || len(final.DeadLetters) == 0 || final.UsersCount != 4000 {
		t.Fatalf("after the sync the status is %+v: want run %s as the last sync, 4,000 users, some dead letters", final, runID)
	}

	// After: the page shows exactly what the API says (the time of the
	// snapshot and of the breakers' last report aside: they move).
	moving := regexp.MustCompile(`^readAt$|\.reported_at$`)
	var diffs []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		before := s.status(t)
		page := waitSnapshot(t, bctx, before.ReadAt)
		if diffs = diff(page, figures(before), moving); len(diffs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the sync the page differs from the status API:\n%s", strings.Join(diffs, "\n"))
		}
	}

	// A Brevo breaker open in a loader that reports: the page says what
	// it holds back, as the API does.
	nc, err := natsx.Connect(ctx, s.natsURL, "pagetest")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := natsx.JetStream(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutHealth(ctx, &proto.Health{V: proto.SchemaVersion, Service: "loader", Instance: "pagetest", At: time.Now().UnixMilli(),
		Breakers: map[string]string{"brevo/contacts": "open"}}); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		before := s.status(t)
		page := waitSnapshot(t, bctx, before.ReadAt)
		if diffs = diff(page, figures(before), moving); len(diffs) == 0 && len(before.Waiting) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with a breaker open, waiting %q; the page differs from the status API:\n%s", before.Waiting, strings.Join(diffs, "\n"))
		}
	}
	if held, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`!document.getElementById("held").hidden`)); err != nil || !held {
		t.Fatalf("the page's Held back section is not shown with a breaker open (%v)", err)
	}

	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifacts(t), "statuspage.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the status page: %s", path)
	fmt.Fprintf(os.Stderr, "status page screenshot: %s\n", path)
}

// startChromium starts a headless Chromium for the test. A browser that
// dies while starting (it happens on a loaded machine: a crash report, no
// page) is started again, twice at most; what it said is logged.
func startChromium(t *testing.T, ctx context.Context, chrome string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.WindowSize(1280, 1600),
		chromedp.Flag("disable-gpu", true))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		if err = chromedp.Do(bctx); err == nil { // no steps: starts the browser and its first tab
			t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
			return bctx
		}
		cancelBrowser()
		cancelAlloc()
		t.Logf("Chromium did not start (attempt %d): %v", attempt, err)
	}
	t.Fatalf("Chromium did not start: %v", err)
	return nil
}

// waitSnapshot waits until the page shows a status read at or after
// since, and returns its figures.
func waitSnapshot(t *testing.T, ctx context.Context, since time.Time) map[string]string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		page, err := pageFigures(ctx)
		if err != nil {
			t.Fatalf("reading the page: %v", err)
		}
		if at, err := time.Parse(time.RFC3339Nano, page["readAt"]); err == nil && !at.Before(since) {
			return page
		}
		if time.Now().After(deadline) {
			shown, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("error").hidden ? "" : document.getElementById("error").textContent`))
			t.Fatalf("the page shows the status of %s, not refreshed past %s in 20s (its error line: %q)", page["readAt"], since, shown)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// between checks that the page's figures of run id lie between the API's
// before and after: the counters never go back. It reports whether the
// page showed the run in flight.
func between(t *testing.T, page map[string]string, before, after *app.Status, id string) bool {
	t.Helper()
	lo, hi := before.Resources["users"], after.Resources["users"]
	if page["resources.users.id"] != id || hi == nil || hi.ID != id {
		t.Errorf("during run %s the page shows run %q", id, page["resources.users.id"])
		return false
	}
	for _, c := range []struct {
		key    string
		lo, hi int64
	}{
		{"exported", lo.Exported, hi.Exported}, {"created", lo.Created, hi.Created}, {"updated", lo.Updated, hi.Updated},
		{"unchanged", lo.Unchanged, hi.Unchanged}, {"deadLettered", lo.DeadLettered, hi.DeadLettered},
	} {
		v, err := strconv.ParseInt(page["resources.users."+c.key], 10, 64)
		if err != nil || v < c.lo || v > c.hi {
			t.Errorf("during the sync the page shows %s %q; the API said %d before and %d after", c.key, page["resources.users."+c.key], c.lo, c.hi)
		}
	}
	for _, k := range []string{"eventsProcessed", "usersCount"} {
		lo, hi := figures(before)[k], figures(after)[k]
		if v := page[k]; v != lo && v != hi {
			t.Errorf("during the sync the page shows %s %q; the API said %s before and %s after", k, v, lo, hi)
		}
	}
	st := page["resources.users.status"]
	if st != lo.Status && st != hi.Status {
		t.Errorf("during the sync the page shows status %q; the API said %s before and %s after", st, lo.Status, hi.Status)
	}
	return st != "completed" && st != "failed" && st != "incomplete"
}
