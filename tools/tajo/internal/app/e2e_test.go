package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nyaruka/phonenumbers"

	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/tools/sandbox"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// The expectation below is written from the product's rules (README,
// API-NOTES), not from pkg/mapping: if the transformer misreads a rule, the
// two disagree and this test says where.

type expected struct {
	extID, email string
	attrs        map[string]any // Brevo attribute values, SMS excluded
	sms          string
	dlqReason    string // non-empty: the record must be in the DLQ instead
	shared       bool   // shares its email or phone with another user
	// sideLetters are the DLQ records ("stage.reason") of identifiers the
	// contact is synced without.
	sideLetters []string
}

func (e expected) dlqStage() string {
	switch e.dlqReason {
	case "malformed_json", "no_braze_id":
		return proto.StageExtractor
	case "duplicate_email":
		return proto.StageLoader
	}
	return proto.StageTransformer
}

func lookup(e *env, exp expected) (brevosim.Contact, bool) {
	switch {
	case exp.extID != "":
		return e.sb.Brevo.ContactByExtID(exp.extID)
	case exp.email != "":
		return e.sb.Brevo.ContactByEmail(exp.email)
	}
	for _, c := range e.sb.Brevo.Contacts() { // identified by its SMS alone
		if exp.sms != "" && c.SMS == exp.sms {
			return c, true
		}
	}
	return brevosim.Contact{}, false
}

// holdsSMS reports whether a contact other than the email's owner holds sms.
func holdsSMS(e *env, sms string, emailOwner brevosim.Contact) bool {
	for _, c := range e.sb.Brevo.Contacts() {
		if c.SMS == sms {
			return c.ID != emailOwner.ID
		}
	}
	return false
}

// resolveShared applies Brevo's uniqueness of email and SMS to users who
// share them in Braze: the user whose contact holds the identifier owns it
// (whichever the pipeline wrote first); another user sharing the email is
// synced without it when an ext_id identifies them (side letter
// loader.email_taken) and dead-lettered as duplicate_email otherwise; one
// sharing the phone is synced without SMS (side letter loader.sms_taken).
func resolveShared(e *env, exps []expected) {
	owner := func(exp expected, c brevosim.Contact) bool {
		if exp.extID != "" {
			return c.ExtID == exp.extID
		}
		return c.ExtID == "" && c.Email == exp.email
	}
	byEmail := map[string][]int{}
	for i, exp := range exps {
		if exp.dlqReason == "" && exp.email != "" {
			byEmail[exp.email] = append(byEmail[exp.email], i)
		}
	}
	for email, group := range byEmail {
		if len(group) < 2 {
			continue
		}
		c, _ := e.sb.Brevo.ContactByEmail(email)
		for _, i := range group {
			exps[i].shared = true
			switch {
			case owner(exps[i], c):
			case exps[i].extID != "" || (exps[i].sms != "" && holdsSMS(e, exps[i].sms, c)):
				// An ext_id, or its own SMS, identifies the contact without it.
				exps[i].email = ""
				exps[i].sideLetters = append(exps[i].sideLetters, "loader.email_taken")
			default:
				exps[i].dlqReason = "duplicate_email"
			}
		}
	}
	bySMS := map[string][]int{}
	for i, exp := range exps {
		if exp.dlqReason == "" && exp.sms != "" {
			bySMS[exp.sms] = append(bySMS[exp.sms], i)
		}
	}
	for _, group := range bySMS {
		if len(group) < 2 {
			continue
		}
		for _, i := range group {
			exps[i].shared = true
			if c, ok := lookup(e, exps[i]); !ok || c.SMS != exps[i].sms {
				exps[i].sms = ""
				exps[i].sideLetters = append(exps[i].sideLetters, "loader.sms_taken")
			}
		}
	}
}

var validEmail = regexp.MustCompile(`^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)

func expect(t *testing.T, line []byte) expected {
	var u map[string]any
	if err := json.Unmarshal(line, &u); err != nil || u == nil {
		return expected{dlqReason: "malformed_json"}
	}
	if id, _ := u["braze_id"].(string); id == "" {
		return expected{dlqReason: "no_braze_id"}
	}
	var e expected
	e.extID, _ = u["external_id"].(string)
	email, _ := u["email"].(string)
	e.email = strings.ToLower(strings.TrimSpace(email))
	if e.email != "" && !validEmail.MatchString(e.email) {
		// An ext_id identifies the contact: it is synced without the email.
		if e.extID == "" {
			return expected{dlqReason: "invalid_email"}
		}
		e.email = ""
		e.sideLetters = append(e.sideLetters, "transformer.invalid_email")
	}
	if e.extID == "" && e.email == "" {
		return expected{dlqReason: "no_identifier"}
	}
	custom, _ := u["custom_attributes"].(map[string]any)
	e.attrs = map[string]any{}
	text := func(attr string, v any) {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			e.attrs[attr] = strings.TrimSpace(s)
		}
	}
	num := func(attr string, v any) {
		if f, ok := v.(float64); ok {
			e.attrs[attr] = f
		}
	}
	text("BRAZE_ID", u["external_id"])
	text("FIRSTNAME", u["first_name"])
	text("LASTNAME", u["last_name"])
	num("TOTAL_REVENUE", u["total_revenue"])
	text("EMAIL_STATUS", u["email_subscribe"])
	if ps, ok := u["push_subscribe"].(string); ok {
		e.attrs["PUSH_OPTIN"] = ps == "opted_in"
	}
	num("LOYALTY_POINTS", custom["loyalty_points"])
	text("APP_VERSION", custom["last_app_version"])
	text("LANGUAGE", custom["preferred_language"])
	if p, ok := u["phone"].(string); ok {
		region, _ := u["country"].(string)
		if region == "" {
			region = "US"
		}
		if n, err := phonenumbers.Parse(p, region); err == nil && phonenumbers.IsValidNumber(n) {
			e.sms = phonenumbers.Format(n, phonenumbers.E164)
		}
	}
	return e
}

type env struct {
	sb  *sandbox.Sandbox
	app *app.App
	js  jetstream.JetStream
}

func start(t *testing.T, users int) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// MalformedLines: the DLQ expectations cover the extractor's malformed_json
	// and no_braze_id, which real Braze exports (and the default sandbox) lack.
	sb := startSandbox(t, ctx, sandbox.Options{Users: users, Seed: 42, RateLimits: true, ExportDelay: 200 * time.Millisecond,
		MalformedLines: true})
	nc, _ := natsxtest.Conn(t, natsxtest.Server(t))
	a, err := app.New(ctx, baseOptions(t, sb, nc, testLogger(t, slog.LevelInfo)))
	if err != nil {
		t.Fatal(err)
	}
	runWorkers(t, a)
	return &env{sb: sb, app: a, js: a.JS}
}

func syncNow(t *testing.T, e *env, typ string) app.Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := e.app.Sync(ctx, typ, nil)
	if err != nil {
		t.Fatalf("%s sync: %v", typ, err)
	}
	t.Logf("%s sync: %+v", typ, s)
	return s
}

// dlqReasons counts the dead letters by stage.reason.
func dlqReasons(t *testing.T, js jetstream.JetStream) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, proto.StreamDLQ, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := js.Stream(ctx, proto.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	total := int(info.CachedInfo().State.Msgs)
	out := map[string]int{}
	for got := 0; got < total; {
		b, err := c.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			got++
			var dl proto.DeadLetter
			if err := proto.Decode(m.Data(), &dl); err != nil {
				t.Fatalf("dead letter on %s: %v", m.Subject(), err)
			}
			if dl.Detail == "" || len(dl.Data) == 0 || dl.OriginalSubject == "" {
				t.Errorf("dead letter without detail, data or subject: %+v", dl)
			}
			out[dl.Stage+"."+dl.Reason]++
		}
	}
	return out
}

func TestUsersEndToEnd(t *testing.T) {
	const users = 5000
	e := start(t, users)
	g := e.sb.Gen

	first := syncNow(t, e, "full")

	// Every user with an identifier is a Brevo contact with the expected
	// attributes; the others are dead-lettered with the expected reason.
	exps := make([]expected, users)
	for i := range users {
		exps[i] = expect(t, g.Line(i, 0))
	}
	resolveShared(e, exps)
	wantDLQ := map[string]int{}
	synced, dead := 0, int64(0)
	var withoutEmail, withoutSMS int64
	var mismatches []string
	for i, exp := range exps {
		if exp.dlqReason != "" {
			wantDLQ[exp.dlqStage()+"."+exp.dlqReason]++
			dead++
			continue
		}
		for _, sl := range exp.sideLetters {
			wantDLQ[sl]++
			switch sl {
			case "loader.sms_taken":
				withoutSMS++
			default:
				withoutEmail++
			}
		}
		synced++
		got, ok := lookup(e, exp)
		if !ok {
			mismatches = append(mismatches, fmt.Sprintf("user %d (ext %q, email %q): no Brevo contact", i, exp.extID, exp.email))
			continue
		}
		mismatches = append(mismatches, compare(i, exp, got)...)
	}
	if len(mismatches) > 0 {
		n := len(mismatches)
		if n > 20 {
			mismatches = mismatches[:20]
		}
		t.Fatalf("%d mismatches between Braze users and Brevo contacts, first ones:\n%s", n, strings.Join(mismatches, "\n"))
	}
	if got := len(e.sb.Brevo.Contacts()); got != synced {
		t.Errorf("Brevo holds %d contacts, want %d", got, synced)
	}
	// With no list configured, every contact joins the list the loader
	// ensured by name.
	var list brevosim.ListState
	for _, l := range e.sb.Brevo.State().Lists {
		if l.Name == loader.DefaultListName {
			list = l
		}
	}
	if list.ID == 0 || list.Members != int64(synced) {
		t.Errorf("list %q: %+v, want all %d contacts in it", loader.DefaultListName, list, synced)
	}
	if first.Exported != users {
		t.Errorf("summary exported %d, want %d", first.Exported, users)
	}
	if first.Created != int64(synced) || first.Updated != 0 || first.Unchanged != 0 || first.Failed != 0 {
		t.Errorf("first summary %+v, want %d created and nothing else", first, synced)
	}
	if first.WithoutEmail != withoutEmail || first.WithoutSMS != withoutSMS {
		t.Errorf("summary: synced without email %d, without SMS %d; want %d and %d",
			first.WithoutEmail, first.WithoutSMS, withoutEmail, withoutSMS)
	}
	gotDLQ := dlqReasons(t, e.js)
	if fmt.Sprint(sorted(gotDLQ)) != fmt.Sprint(sorted(wantDLQ)) {
		t.Errorf("DLQ by reason = %v, want %v", sorted(gotDLQ), sorted(wantDLQ))
	}
	if first.DeadLettered != dead {
		t.Errorf("summary dead-lettered %d, want %d", first.DeadLettered, dead)
	}
	addsUp(t, first)
	if st := e.sb.Brevo.State(); st.Imports.ConcurrentViolations != 0 {
		t.Errorf("the loader ran %d imports concurrently", st.Imports.ConcurrentViolations)
	}
	for _, c := range e.sb.Brevo.Contacts() {
		if c.EmailBlacklistedSent || c.SMSBlacklistedSent {
			t.Fatalf("contact %d: the loader sent a blacklist flag it was never asked to", c.ID)
		}
	}

	// A second sync after changing 50 users writes exactly those 50.
	changed := pick(g, 50, func(i int) bool { return exps[i].dlqReason == "" && !exps[i].shared })
	e.sb.Braze.Mutate(changed...)
	before := contactWrites(e.sb.Brevo.State())
	second := syncNow(t, e, "incremental")
	if got := contactWrites(e.sb.Brevo.State()) - before; got != 50 {
		t.Errorf("the second sync wrote %d contacts to Brevo (import rows + single upserts), want exactly the 50 changed", got)
	}
	if second.Created+second.Updated != 50 || second.Updated != 50 || second.Unchanged != int64(synced-50) || second.Failed != 0 {
		t.Errorf("second summary %+v, want 50 updated and %d unchanged", second, synced-50)
	}
	addsUp(t, second)
	// The lines lettered for what the mapping left off (an invalid email)
	// were published again (lettered lines always are) but not lettered
	// again: unchanged, they were lettered by the run that wrote them. Only
	// the changed ones among them were written, and lettered, again.
	wantInvalid := gotDLQ["transformer.invalid_email"]
	for _, i := range changed {
		if slices.Contains(exps[i].sideLetters, "transformer.invalid_email") {
			wantInvalid++
		}
	}
	if got := dlqReasons(t, e.js)["transformer.invalid_email"]; got != wantInvalid {
		t.Errorf("after the second sync the DLQ holds %d invalid_email letters, want %d (%d from the first sync, and the changed users')",
			got, wantInvalid, gotDLQ["transformer.invalid_email"])
	}
	// Lines as they were, and settled cleanly by the first sync, were not
	// even published: at most the changed ones, the lettered ones and the
	// users sharing an identifier were.
	lettered := 0
	for _, x := range exps {
		if x.dlqReason != "" || x.shared || len(x.sideLetters) > 0 {
			lettered++
		}
	}
	run2, err := e.app.State.GetRun(context.Background(), second.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run2.Skipped > int64(synced-50) || run2.Skipped < int64(users-50-lettered) {
		t.Errorf("the incremental sync skipped %d unchanged lines, want between %d and %d", run2.Skipped, users-50-lettered, synced-50)
	}
	for _, i := range changed {
		exp := expect(t, g.Line(i, e.sb.Braze.Version(i)))
		got, _ := lookup(e, exp)
		if m := compare(i, exp, got); len(m) > 0 {
			t.Errorf("after the change: %s", strings.Join(m, "; "))
		}
	}

	// Cleared values clear: 20 users lose their first name in Braze; the
	// next sync leaves their contacts without FIRSTNAME, and writes only them.
	var cleared []int
	for _, i := range pick(g, 400, func(i int) bool { return exps[i].dlqReason == "" && !exps[i].shared }) {
		if _, ok := exps[i].attrs["FIRSTNAME"]; ok && !slices.Contains(changed, i) && len(cleared) < 20 {
			cleared = append(cleared, i)
		}
	}
	if len(cleared) != 20 {
		t.Fatalf("found %d users with a first name to remove, want 20", len(cleared))
	}
	if err := e.sb.Braze.RemoveFields([]string{"first_name"}, cleared...); err != nil {
		t.Fatal(err)
	}
	before = contactWrites(e.sb.Brevo.State())
	third := syncNow(t, e, "incremental")
	addsUp(t, third)
	if got := contactWrites(e.sb.Brevo.State()) - before; got != 20 || third.Updated != 20 {
		t.Errorf("the third sync wrote %d contacts (updated %d), want the 20 whose first name was removed", got, third.Updated)
	}
	for _, i := range cleared {
		got, _ := lookup(e, exps[i])
		if v, ok := got.Attributes["FIRSTNAME"]; ok {
			t.Errorf("user %d: FIRSTNAME %v after its first name was removed in Braze; want none", i, v)
		}
	}
}

// addsUp checks that a summary accounts for every exported user once.
func addsUp(t *testing.T, s app.Summary) {
	t.Helper()
	if s.Missing != 0 || s.Settled() != s.Exported {
		t.Errorf("summary %+v: created+updated+unchanged+merged+stale+dead-lettered = %d for %d exported, %d missing",
			s, s.Settled(), s.Exported, s.Missing)
	}
}

// contactWrites counts the contacts Brevo was asked to write: import rows
// plus single upserts.
func contactWrites(st brevosim.State) int {
	n := st.Imports.Rows.Rows
	for k, c := range st.Requests {
		if strings.HasPrefix(k, "POST /v3/contacts ") {
			n += c
		}
	}
	return n
}

// pick returns n user indices, spread over the population, that satisfy ok.
func pick(g interface{ N() int }, n int, ok func(int) bool) []int {
	var out []int
	for i := 7; len(out) < n && i < g.N(); i += 37 {
		if ok(i) {
			out = append(out, i)
		}
	}
	return out
}

func compare(i int, exp expected, got brevosim.Contact) []string {
	var out []string
	if got.ExtID != exp.extID {
		out = append(out, fmt.Sprintf("user %d: ext_id %q, want %q", i, got.ExtID, exp.extID))
	}
	if got.Email != exp.email {
		out = append(out, fmt.Sprintf("user %d: email %q, want %q", i, got.Email, exp.email))
	}
	if got.SMS != exp.sms {
		out = append(out, fmt.Sprintf("user %d: SMS %q, want %q", i, got.SMS, exp.sms))
	}
	for k, want := range exp.attrs {
		have, ok := got.Attributes[k]
		if !ok || !same(have, want) {
			out = append(out, fmt.Sprintf("user %d: %s = %v (%T), want %v (%T)", i, k, have, have, want, want))
		}
	}
	for k, have := range got.Attributes {
		if _, ok := exp.attrs[k]; !ok && k != "EXT_ID" {
			out = append(out, fmt.Sprintf("user %d: unexpected attribute %s = %v", i, k, have))
		}
	}
	return out
}

func same(a, b any) bool {
	fa, okA := a.(float64)
	fb, okB := b.(float64)
	if okA && okB {
		return math.Abs(fa-fb) < 1e-9
	}
	return a == b
}

func sorted(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(out)
	return out
}

// A run left "running" by an extractor that died during the export is
// resumed, under its id, when an extractor starts again.
func TestInterruptedRunResumes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sb := startSandbox(t, ctx, sandbox.Options{Users: 500, Seed: 3, RateLimits: true, ExportDelay: 50 * time.Millisecond})
	nc, _ := natsxtest.Conn(t, natsxtest.Server(t))
	o := baseOptions(t, sb, nc, testLogger(t, slog.LevelInfo))
	o.Mapping = mapping.Options{}
	o.Extractor.Poll.Initial, o.Loader.FirstPoll = 50*time.Millisecond, 50*time.Millisecond
	a, err := app.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	// What a killed extractor leaves behind: a run marked running.
	run := &proto.SyncRun{V: proto.SchemaVersion, ID: "20261128T000000Z-dead00", Resource: extractor.Resource,
		Type: "full", Status: proto.RunRunning, StartedAt: time.Now().UnixMilli()}
	if err := a.State.PutRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := a.State.SetLastRun(ctx, extractor.Resource, run.ID); err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.RunWorkers(wctx) }()
	defer func() { stop(); <-done }()
	sum, err := app.Wait(ctx, a.JS, a.State, run.ID, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Exported != 500 || sum.Created == 0 || sum.Failed != 0 {
		t.Fatalf("resumed run: %+v, want 500 exported and contacts created", sum)
	}
}
