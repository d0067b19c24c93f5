package loader_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/loader"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

const key = "xkeysib-loader-test"

// newLoader builds a loader on a real embedded server, writing to h (the
// Brevo simulator, or a fake edge in front of it).
func newLoader(t *testing.T, h http.Handler, cfg loader.Config) *loader.Loader {
	t.Helper()
	if cfg.FirstPoll == 0 {
		cfg.FirstPoll = 20 * time.Millisecond
	}
	if cfg.OtherPerHour == 0 {
		cfg.OtherPerHour = 1 << 30 // the simulator's limits are off: so is the poll budget
	}
	return newPacedLoader(t, h, cfg)
}

// newPacedLoader is newLoader keeping cfg's poll policy: unset, the loader
// polls imports at the pace it learns.
func newPacedLoader(t *testing.T, h http.Handler, cfg loader.Config) *loader.Loader {
	t.Helper()
	ctx := context.Background()
	_, _, js := natsxtest.Start(t)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	l := buildLoader(t, js, brevo.Config{BaseURL: srv.URL + "/v3", APIKey: key}, cfg)
	if err := l.EnsureAttributes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.EnsureList(ctx); err != nil {
		t.Fatal(err)
	}
	return l
}

// buildLoader builds a loader on js (provisioned) writing to the Brevo bc
// names, with the default mapping's attributes; its logs are discarded
// unless cfg has a logger.
func buildLoader(t *testing.T, js jetstream.JetStream, bc brevo.Config, cfg loader.Config) *loader.Loader {
	t.Helper()
	ctx := context.Background()
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	client, err := brevo.New(bc)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l, err := loader.New(ctx, js, client, m.Attributes(), st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// handle is the loader as its worker runs it: each upsert prepared as it
// arrives (its row encoded once), then the batch handled.
func handle(l *loader.Loader) pipeline.HandlerFunc {
	return func(ctx context.Context, batch []*pipeline.Msg) []error {
		for _, m := range batch {
			l.Prepare(m)
		}
		return l.HandleBatch(ctx, batch)
	}
}

func upsert(t *testing.T, extID string, version int64, attrs map[string]any) *pipeline.Msg {
	t.Helper()
	data, err := proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: "r",
		Key: extID, ExtID: extID, Email: extID + "@example.com", Attributes: attrs,
		SourceVersion: version, Fingerprint: fmt.Sprint(attrs)})
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline.Msg{Subject: proto.SubjectOpsBrevoContactsUpsert, Header: nats.Header{}, Data: data}
}

// An upsert older than the version already applied for its key (a
// redelivery overtaken by a later run) is skipped, not applied.
func TestStaleWriteIsSkipped(t *testing.T) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	l := newLoader(t, sim, loader.Config{ImportThreshold: 1000})
	ctx := context.Background()

	newer := upsert(t, "u1", 200, map[string]any{"FIRSTNAME": "New"})
	if errs := l.HandleBatch(ctx, []*pipeline.Msg{newer}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	older := upsert(t, "u1", 100, map[string]any{"FIRSTNAME": "Old"})
	if errs := l.HandleBatch(ctx, []*pipeline.Msg{older}); errs[0] != nil {
		t.Fatalf("a stale upsert must be acknowledged, not retried: %v", errs[0])
	}
	c, ok := sim.ContactByExtID("u1")
	if !ok || c.Attributes["FIRSTNAME"] != "New" {
		t.Fatalf("contact after a stale upsert: %+v, want FIRSTNAME New", c)
	}
	// The same version and content again (a redelivery, a duplicate) is
	// acknowledged without a second write.
	writes := func() int { return sim.Requests()["POST /v3/contacts 201"] + sim.Requests()["POST /v3/contacts 204"] }
	before := writes()
	same := upsert(t, "u1", 200, map[string]any{"FIRSTNAME": "New"})
	if errs := l.HandleBatch(ctx, []*pipeline.Msg{same}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if n := writes() - before; n != 0 {
		t.Errorf("a duplicate of what was applied: Brevo saw %d more writes, want none", n)
	}
	// The same version with other content (a re-run after a mapping
	// change) is written.
	changed := upsert(t, "u1", 200, map[string]any{"FIRSTNAME": "Newer"})
	if errs := l.HandleBatch(ctx, []*pipeline.Msg{changed}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if c, _ := sim.ContactByExtID("u1"); c.Attributes["FIRSTNAME"] != "Newer" {
		t.Errorf("same version, new content: %+v, want FIRSTNAME Newer", c)
	}
}

// One record that makes Brevo refuse a whole import does not sink the
// others: the import is bisected down to single upserts, the bad record is
// dead-lettered with Brevo's error and every other one is written.
func TestRefusedImportIsBisected(t *testing.T) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	var imports atomic.Int32
	// A fake edge in front of the simulator: any write whose body holds the
	// poison value is refused, the import as a whole (as Brevo refuses a
	// body it cannot validate) and the single upsert of the record itself.
	edge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && (r.URL.Path == "/v3/contacts/import" || r.URL.Path == "/v3/contacts") {
			if r.URL.Path == "/v3/contacts/import" {
				imports.Add(1)
			}
			body, _ := io.ReadAll(r.Body)
			if strings.Contains(string(body), "poison") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"code":"invalid_parameter","message":"Invalid date format"}`)
				return
			}
			r.Body = io.NopCloser(strings.NewReader(string(body)))
		}
		sim.ServeHTTP(w, r)
	})
	l := newLoader(t, edge, loader.Config{ImportThreshold: 4})
	ctx := context.Background()
	var batch []*pipeline.Msg
	for i := range 32 {
		attrs := map[string]any{"FIRSTNAME": fmt.Sprintf("n%d", i)}
		if i == 13 {
			attrs["FIRSTNAME"] = "poison"
		}
		batch = append(batch, upsert(t, fmt.Sprintf("u%02d", i), 1, attrs))
	}
	errs := handle(l).HandleBatch(ctx, batch)
	var pe *pipeline.PermanentError
	if !errors.As(errs[13], &pe) || !strings.Contains(pe.Error(), "Invalid date format") {
		t.Errorf("the poison record: %v; want a permanent error carrying Brevo's message", errs[13])
	}
	for i, err := range errs {
		if i == 13 {
			continue
		}
		if err != nil {
			t.Errorf("record %d: %v (only the poison record may fail)", i, err)
		}
	}
	if imports.Load() < 3 {
		t.Errorf("Brevo saw %d imports; want the refused one bisected", imports.Load())
	}
	if got := len(sim.Contacts()); got != 31 {
		t.Errorf("Brevo holds %d contacts, want the 31 good ones", got)
	}
	lists := map[string]bool{}
	for i := range 32 {
		if i == 13 {
			continue
		}
		c, ok := sim.ContactByExtID(fmt.Sprintf("u%02d", i))
		if !ok {
			t.Errorf("good record %d was not written", i)
			continue
		}
		// Written by an import or split out by bisection, every contact
		// joins the same list.
		lists[fmt.Sprint(c.ListIDs)] = true
	}
	if len(lists) != 1 || lists["[]"] {
		t.Errorf("contacts are in lists %v, want every one in the one ensured list", lists)
	}
}

// A contact written alone (a trickle below the import threshold) joins the
// list an import would put it in.
func TestSingleUpsertsJoinTheList(t *testing.T) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	l := newLoader(t, sim, loader.Config{ImportThreshold: 1000})
	if errs := handle(l).HandleBatch(context.Background(), []*pipeline.Msg{upsert(t, "u1", 1, map[string]any{"FIRSTNAME": "A"})}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	c, ok := sim.ContactByExtID("u1")
	if !ok || len(c.ListIDs) != 1 {
		t.Fatalf("contact %+v: want it written and in the ensured list", c)
	}
}

// A contact that changes its phone gives the old number back: another user
// with that number then gets it, instead of being synced without it for
// ever because of a claim no contact holds any more.
func TestChangedIdentifierIsReleased(t *testing.T) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	l := newLoader(t, sim, loader.Config{ImportThreshold: 1000})
	ctx := context.Background()
	handle := func(m *pipeline.Msg) {
		t.Helper()
		if errs := handle(l).HandleBatch(ctx, []*pipeline.Msg{m}); errs[0] != nil {
			t.Fatal(errs[0])
		}
	}
	handle(upsert(t, "k", 1, map[string]any{"SMS": "+33611111111"}))
	handle(upsert(t, "l", 1, map[string]any{"SMS": "+33611111111"})) // taken: written without
	if c, _ := sim.ContactByExtID("l"); c.SMS != "" {
		t.Fatalf("l holds SMS %q while k has it", c.SMS)
	}
	handle(upsert(t, "k", 2, map[string]any{"SMS": "+33622222222"})) // k moves to another number
	handle(upsert(t, "l", 2, map[string]any{"SMS": "+33611111111", "FIRSTNAME": "L"}))
	if c, _ := sim.ContactByExtID("l"); c.SMS != "+33611111111" {
		t.Errorf("l holds SMS %q after k gave +33611111111 up; want it", c.SMS)
	}
	if c, _ := sim.ContactByExtID("k"); c.SMS != "+33622222222" {
		t.Errorf("k holds SMS %q, want +33622222222", c.SMS)
	}
}

// A contact written without its SMS, because another user held it, gets
// it at the next sync once that user has let it go, though its own Braze
// record did not change (an unchanged line is otherwise not written
// again); while the other user still holds it, the next sync writes
// nothing and the ledger still says it goes without.
func TestLeftOffIdentifierIsRetriedOnceFreed(t *testing.T) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	l := newLoader(t, sim, loader.Config{ImportThreshold: 1000})
	msg := func(run, ext string, version int64, sms string) *pipeline.Msg {
		return smsUpsert(t, run, ext, version, sms)
	}
	sync := func(m *pipeline.Msg) (ledger.Outcome, ledger.Flags) { return syncOne(t, l, m) }
	writes := func() int {
		n := 0
		for route, c := range sim.Requests() {
			if !strings.HasPrefix(route, "GET") {
				n += c
			}
		}
		return n
	}
	const x, y = "+33611111111", "+33622222222"
	sync(msg("run1", "k", 1, x))
	if o, f := sync(msg("run1", "l", 1, x)); o != ledger.Created || f&ledger.WithoutSMS == 0 {
		t.Fatalf("l, whose SMS k holds: %v/%v, want created without SMS", o, f)
	}

	// Next sync: k still holds x; l's record is as it was. Nothing is
	// written, and l still goes without.
	before := writes()
	if o, f := sync(msg("run2", "l", 1, x)); o != ledger.Unchanged || f&ledger.WithoutSMS == 0 {
		t.Fatalf("l again while k holds its SMS: %v/%v, want unchanged, still without SMS", o, f)
	}
	if n := writes() - before; n != 0 {
		t.Fatalf("%d writes to Brevo for a contact whose SMS is still held", n)
	}
	if c, _ := sim.ContactByExtID("l"); c.SMS != "" {
		t.Fatalf("l holds SMS %q while k has it", c.SMS)
	}

	// k moves to y and lets x go. The sync after, l, unchanged in Braze,
	// gets x.
	sync(msg("run3", "k", 2, y))
	if o, f := sync(msg("run4", "l", 1, x)); o != ledger.Updated || f&ledger.WithoutSMS != 0 {
		t.Fatalf("l once k let its SMS go: %v/%v, want updated with its SMS", o, f)
	}
	if c, _ := sim.ContactByExtID("l"); c.SMS != x {
		t.Fatalf("l holds SMS %q after k let %s go; want it", c.SMS, x)
	}
	if o, f := sync(msg("run5", "l", 1, x)); o != ledger.Unchanged || f != 0 {
		t.Fatalf("l once more: %v/%v, want unchanged with nothing left off", o, f)
	}
}

// smsUpsert is ext's upsert in run at version, with sms its only attribute.
func smsUpsert(t *testing.T, run, ext string, version int64, sms string) *pipeline.Msg {
	t.Helper()
	attrs := map[string]any{"SMS": sms}
	data, err := proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: run, Key: ext, ExtID: ext,
		Email: ext + "@example.com", Attributes: attrs, SourceVersion: version, Fingerprint: fmt.Sprint(attrs)})
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline.Msg{Subject: proto.SubjectOpsBrevoContactsUpsert, Header: nats.Header{}, Data: data}
}

// syncOne has l handle m alone and returns what m settled as.
func syncOne(t *testing.T, l *loader.Loader, m *pipeline.Msg) (ledger.Outcome, ledger.Flags) {
	t.Helper()
	if errs := handle(l).HandleBatch(context.Background(), []*pipeline.Msg{m}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	return m.Outcome()
}

// A contact whose new SMS another user holds is written without SMS and
// keeps its old one in Brevo (an identifier is never cleared), so its
// claim on the old one is kept: a third user with that number is not
// written with it (Brevo would refuse it, or an import drop the row). Once
// the new number is let go, the contact takes it and lets the old one go,
// and the third user gets that one: each at the sync after, with no
// Braze record changing but the first.
func TestOldIdentifierIsKeptUntilTheNewOneIsWritten(t *testing.T) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	l := newLoader(t, sim, loader.Config{ImportThreshold: 1000})
	const x, y, z = "+33611111111", "+33622222222", "+33633333333"
	sms := func(ext string) string {
		c, _ := sim.ContactByExtID(ext)
		return c.SMS
	}
	syncOne(t, l, smsUpsert(t, "run1", "k", 1, x))
	syncOne(t, l, smsUpsert(t, "run1", "m", 1, y))
	syncOne(t, l, smsUpsert(t, "run1", "l", 1, x)) // x is k's
	// k moves to y, which m holds: written without, it keeps x in Brevo.
	if o, f := syncOne(t, l, smsUpsert(t, "run2", "k", 2, y)); o != ledger.Updated || f&ledger.WithoutSMS == 0 {
		t.Fatalf("k moving to m's number: %v/%v, want updated without SMS", o, f)
	}
	if sms("k") != x {
		t.Fatalf("k holds %q in Brevo, want still %s", sms("k"), x)
	}
	if o, f := syncOne(t, l, smsUpsert(t, "run3", "l", 1, x)); o != ledger.Unchanged || f&ledger.WithoutSMS == 0 || sms("l") != "" {
		t.Fatalf("l while k's contact still holds x: %v/%v, SMS %q; want unchanged, without SMS", o, f, sms("l"))
	}
	// m moves to z and lets y go: k takes y at the next sync and lets x
	// go; l takes x at the one after.
	syncOne(t, l, smsUpsert(t, "run4", "m", 2, z))
	if o, _ := syncOne(t, l, smsUpsert(t, "run5", "k", 2, y)); o != ledger.Updated || sms("k") != y {
		t.Fatalf("k once m let y go: %v, SMS %q; want updated with %s", o, sms("k"), y)
	}
	if o, _ := syncOne(t, l, smsUpsert(t, "run6", "l", 1, x)); o != ledger.Updated || sms("l") != x {
		t.Fatalf("l once k let x go: %v, SMS %q; want updated with %s", o, sms("l"), x)
	}
}

// Two Braze users without an ext_id share an email (issue 9.9): they are
// two users, not one contact. The first keeps the email; the second is
// written by its own SMS without the email, or, with no other identifier,
// dead-lettered as duplicate_email. Nothing is merged.
func TestSharedEmailWithoutExtIDIsNotMerged(t *testing.T) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	l := newLoader(t, sim, loader.Config{ImportThreshold: 1000})
	ctx := context.Background()
	run, version := "r", int64(1)
	byEmail := func(brazeID string, attrs map[string]any) *pipeline.Msg {
		data, err := proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: run, Key: "braze:" + brazeID, BrazeID: brazeID,
			Email: "shared@example.com", Attributes: attrs, SourceVersion: version, Fingerprint: fmt.Sprint(brazeID, attrs)})
		if err != nil {
			t.Fatal(err)
		}
		return &pipeline.Msg{Subject: proto.SubjectOpsBrevoContactsUpsert, Header: nats.Header{}, Data: data}
	}
	batch := []*pipeline.Msg{
		byEmail("b1", map[string]any{"FIRSTNAME": "First"}),
		byEmail("b2", map[string]any{"FIRSTNAME": "Second"}),
		byEmail("b3", map[string]any{"FIRSTNAME": "Third", "SMS": "+33633333333"}),
	}
	errs := handle(l).HandleBatch(ctx, batch)
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("first and third: %v, %v", errs[0], errs[2])
	}
	var pe *pipeline.PermanentError
	if !errors.As(errs[1], &pe) || pe.Reason != "duplicate_email" {
		t.Fatalf("second user, nothing but the shared email: %v, want duplicate_email", errs[1])
	}
	// Contested in the run's ledger: the next run handles it again (the
	// first user may let the email go), unlike a line dead-lettered for
	// its own content.
	if o, f := batch[1].Outcome(); o != ledger.DeadLettered || f&ledger.Contested == 0 {
		t.Errorf("the duplicate_email letter settles %v/%v, want dead-lettered and contested", o, f)
	}
	c, ok := sim.ContactByEmail("shared@example.com")
	if !ok || c.Attributes["FIRSTNAME"] != "First" {
		t.Errorf("the email's contact %+v: want the first user's, not merged with another", c)
	}
	if n := len(sim.Contacts()); n != 2 {
		t.Errorf("Brevo holds %d contacts, want 2 (the first by email, the third by SMS)", n)
	}

	// The next runs hand it over again: the same failure, one letter
	// (pipeline.PermanentOnce), until the user changes.
	again := func(r string, v int64, name string) *pipeline.PermanentError {
		t.Helper()
		run, version = r, v
		errs := handle(l).HandleBatch(ctx, []*pipeline.Msg{byEmail("b2", map[string]any{"FIRSTNAME": name})})
		var pe *pipeline.PermanentError
		if !errors.As(errs[0], &pe) || pe.Reason != "duplicate_email" || pe.Once == "" {
			t.Fatalf("run %s: %v, want duplicate_email, lettered once", r, errs[0])
		}
		return pe
	}
	if next := again("r2", 1, "Second"); next.Once != pe.Once {
		t.Errorf("the next run's letter is named %q, the first's %q: one letter a run", next.Once, pe.Once)
	}
	if changed := again("r3", 2, "Changed"); changed.Once == pe.Once {
		t.Errorf("a changed user's letter is named as the unchanged one's: it would not be lettered")
	}
}

// An attribute that was synced and is then removed in Braze is cleared in
// Brevo, by an import (emptyContactsAttributes) and by a single upsert
// alike; one the connector never wrote is left alone.
func TestClearedAttributesAreCleared(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threshold int
	}{{"import", 1}, {"single upsert", 1000}} {
		t.Run(tc.name, func(t *testing.T) {
			sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
			l := newLoader(t, sim, loader.Config{ImportThreshold: tc.threshold})
			ctx := context.Background()
			handle := func(m *pipeline.Msg) {
				t.Helper()
				if errs := handle(l).HandleBatch(ctx, []*pipeline.Msg{m}); errs[0] != nil {
					t.Fatal(errs[0])
				}
			}
			handle(upsert(t, "u1", 1, map[string]any{"FIRSTNAME": "Ann", "LASTNAME": "Lee"}))
			handle(upsert(t, "u1", 2, map[string]any{"LASTNAME": "Lee"})) // first_name removed in Braze
			c, _ := sim.ContactByExtID("u1")
			if _, ok := c.Attributes["FIRSTNAME"]; ok || c.Attributes["LASTNAME"] != "Lee" {
				t.Fatalf("after removing first_name: %v, want no FIRSTNAME and LASTNAME Lee", c.Attributes)
			}
		})
	}
}

// A loader killed after Brevo's write and its own bookkeeping, before it
// acknowledged, handles the upsert again: it reports the write it made
// (created, and without the email another user holds), not "unchanged",
// so the run's summary is the same as without the kill.
func TestRedeliveredWriteKeepsItsOutcome(t *testing.T) {
	// A fingerprint as the mapping makes it (its record kept in binary) and
	// one of another shape (kept as text).
	for _, fp := range []string{"0af7651916cd43dd8448eb211c80319c", "fp-u1"} {
		t.Run(fp, func(t *testing.T) { redeliveredWriteKeepsItsOutcome(t, fp) })
	}
}

func redeliveredWriteKeepsItsOutcome(t *testing.T, fp string) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	l := newLoader(t, sim, loader.Config{ImportThreshold: 1000})
	ctx := context.Background()
	owner := upsert(t, "owner", 1, map[string]any{"FIRSTNAME": "O"})
	if errs := handle(l).HandleBatch(ctx, []*pipeline.Msg{owner}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	data, err := proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: "r", Key: "u1", ExtID: "u1",
		Email: "owner@example.com", Attributes: map[string]any{"FIRSTNAME": "U"}, SourceVersion: 1, Fingerprint: fp})
	if err != nil {
		t.Fatal(err)
	}
	deliver := func() *pipeline.Msg {
		m := &pipeline.Msg{Subject: proto.SubjectOpsBrevoContactsUpsert, Header: nats.Header{}, Data: data}
		if errs := handle(l).HandleBatch(ctx, []*pipeline.Msg{m}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		return m
	}
	first, again := deliver(), deliver()
	o1, f1 := first.Outcome()
	o2, f2 := again.Outcome()
	if o1 != ledger.Created || f1 != ledger.WithoutEmail {
		t.Fatalf("first delivery settled %v %v, want created without email", o1, f1)
	}
	if o2 != o1 || f2 != f1 {
		t.Errorf("redelivery settled %v %v, want the first delivery's %v %v", o2, f2, o1, f1)
	}
	// Another run with the same content: nothing to do.
	data, _ = proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: "r2", Key: "u1", ExtID: "u1",
		Email: "owner@example.com", Attributes: map[string]any{"FIRSTNAME": "U"}, SourceVersion: 2, Fingerprint: fp})
	if o, _ := deliver().Outcome(); o != ledger.Unchanged {
		t.Errorf("a later run with the same content settled %v, want unchanged", o)
	}
}

// Two copies of one upsert (published again after the dedup window) in two
// batches handled side by side: one is written, the other waits (its turn,
// or a retry while the first is recorded) and then finds it applied.
// Brevo sees one row.
func TestConcurrentCopiesAreWrittenOnce(t *testing.T) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 300 * time.Millisecond})
	l := newLoader(t, sim, loader.Config{ImportThreshold: 1})
	ctx := context.Background()
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			errs <- handle(l).HandleBatch(ctx, []*pipeline.Msg{upsert(t, "u1", 1, map[string]any{"FIRSTNAME": "A"})})[0]
		}()
	}
	var retried int
	for range 2 {
		if err := <-errs; err != nil {
			var ra *pipeline.RetryAfterError
			if !errors.As(err, &ra) {
				t.Fatalf("the second copy: %v, want a retry after the first is recorded", err)
			}
			retried++
		}
	}
	// The second copy is either retried (the first still being recorded)
	// or found applied (unchanged): written once either way.
	if rows := sim.State().Imports.Rows.Rows; rows != 1 {
		t.Errorf("Brevo imported %d rows (one copy retried: %d), want the contact written once", rows, retried)
	}
}

// Two copies of one line in a batch (a redelivery beside its original, as
// after a node loss) are one line, not a merge: the line settles as the
// copy handled did. Marked merged, the other copy won over a dead letter
// in the run's ledger, and the summary said merged where it was
// dead-lettered.
func TestTwoCopiesOfALineAreNotAMerge(t *testing.T) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	l := newLoader(t, sim, loader.Config{ImportThreshold: 1000})
	byEmail := func(brazeID string, line int) *pipeline.Msg {
		data, err := proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: "r", Key: "braze:" + brazeID, BrazeID: brazeID,
			Email: "shared@example.com", Attributes: map[string]any{"FIRSTNAME": brazeID}, SourceVersion: 1, Fingerprint: brazeID})
		if err != nil {
			t.Fatal(err)
		}
		h := nats.Header{}
		h.Set(proto.HeaderRunID, "r")
		h.Set(proto.HeaderLine, fmt.Sprint(line))
		return &pipeline.Msg{Subject: proto.SubjectOpsBrevoContactsUpsert, Header: h, Data: data}
	}
	// b2 has nothing but an email b1 holds: dead-lettered duplicate_email,
	// in both copies' batch.
	batch := []*pipeline.Msg{byEmail("b1", 1), byEmail("b2", 2), byEmail("b2", 2)}
	errs := handle(l).HandleBatch(context.Background(), batch)
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	for i, m := range batch[1:] {
		if o, _ := m.Outcome(); o == ledger.Merged {
			t.Errorf("copy %d of line 2 settled as merged: a copy of a line is not a newer record", i+1)
		}
	}
	// One copy is handled (dead-lettered), the other acknowledged with
	// nothing to record.
	lettered, acked := 0, 0
	for i := 1; i <= 2; i++ {
		var pe *pipeline.PermanentError
		switch o, _ := batch[i].Outcome(); {
		case errors.As(errs[i], &pe) && pe.Reason == "duplicate_email" && o == ledger.DeadLettered:
			lettered++
		case errs[i] == nil && o == ledger.None:
			acked++
		default:
			t.Errorf("copy %d of line 2: %v, settled %v", i, errs[i], o)
		}
	}
	if lettered != 1 || acked != 1 {
		t.Errorf("copies of line 2: %d dead-lettered, %d acknowledged with nothing recorded; want one each", lettered, acked)
	}
}
