package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/twoway"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/tools/sandbox"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

const webhookToken = "twoway-webhook-token-0123456789"

// twEnv is a two-way deployment on the sandbox: the users pipeline, the
// Brevo → Braze workers (the poller driven by the test: PollOnce), and a
// gateway receiving Brevo's webhooks, registered as `tajo connectors
// install --webhook-url` registers them.
type twEnv struct {
	*env
	tw *app.TwoWayWorkers
	// last counts, to measure one cycle's writes
	lastTrack, lastEmail, lastBrevo int
}

type twOptions struct {
	users   int
	fields  map[string]twoway.Rule
	group   string
	faults  string
	noHooks bool
}

func startTwoWay(t *testing.T, o twOptions) *twEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sopts := sandbox.Options{Users: o.users, Seed: 42, RateLimits: true, ExportDelay: 100 * time.Millisecond}
	sb, err := sandbox.Start(ctx, sopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "twoway")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	policy, err := twoway.NewPolicy(twoway.Options{Fields: o.fields, SubscriptionGroupID: o.group, APIKeyName: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := mappingOf(o.fields)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, app.Options{
		NC:        nc,
		Braze:     braze.Config{BaseURL: sb.BrazeURL, APIKey: sb.BrazeAPIKey},
		Brevo:     brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey},
		Mapping:   fwd,
		Extractor: extractor.Config{TempDir: t.TempDir(), Poll: braze.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}},
		Loader:    loader.Config{PollPolicy: brevo.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}},
		Logger:    log,
		TwoWay:    policy,
	})
	if err != nil {
		t.Fatal(err)
	}
	tw, err := a.NewTwoWay(app.TwoWayOptions{Poll: extractor.PollConfig{PageSize: 40}})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 3)
	go func() { done <- a.RunWorkers(wctx) }()
	go func() { done <- tw.Reverse.Run(wctx) }()
	go func() { done <- tw.Writer.Run(wctx) }()
	if !o.noHooks {
		gw, err := gateway.New(nc, gateway.Config{BrevoWebhookToken: webhookToken, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { done <- gw.Serve(wctx, ln) }()
		bv, err := brevo.New(brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bv.CreateWebhook(ctx, brevo.Webhook{URL: "http://" + ln.Addr().String() + "/v1/brevo/webhooks",
			Events: brevo.ContactWebhookEvents, Token: webhookToken}); err != nil {
			t.Fatal(err)
		}
	}
	n := 3
	t.Cleanup(func() {
		stop()
		for range n + boolInt(!o.noHooks) {
			if err := <-done; err != nil {
				t.Errorf("worker: %v", err)
			}
		}
	})
	e := &twEnv{env: &env{sb: sb, app: a, js: a.JS}, tw: tw}
	syncNow(t, e.env, "full")
	e.settle(t)
	e.cycleWrites() // the full sync's writes are not a cycle's
	return e
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// settle waits until Brevo's webhooks are delivered and every two-way
// worker has nothing pending.
func (e *twEnv) settle(t *testing.T) {
	t.Helper()
	waitFor(t, 20*time.Second, "webhook deliveries", func() bool {
		st := e.sb.Brevo.WebhookStats()
		return st.Delivered+st.Failed == st.Events
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.app.WaitTwoWayDrained(ctx); err != nil {
		t.Fatal(err)
	}
}

// cycle is one round of the two-way sync: Brevo read (webhooks delivered,
// one poll), then an incremental Braze export through the pipeline.
func (e *twEnv) cycle(t *testing.T) {
	t.Helper()
	e.settle(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.tw.Poller.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	syncNow(t, e.env, "incremental")
	e.settle(t)
}

// cycleWrites returns the writes made since the last call: Braze objects
// (/users/track) and /email/status calls, Brevo contact rows.
func (e *twEnv) cycleWrites() (track, email, brevoRows int) {
	for _, c := range e.sb.Braze.TrackLog() {
		track += c.Attributes
	}
	email = len(e.sb.Braze.EmailStatusLog())
	brevoRows = contactWrites(e.sb.Brevo.State())
	track, e.lastTrack = track-e.lastTrack, track
	email, e.lastEmail = email-e.lastEmail, email
	brevoRows, e.lastBrevo = brevoRows-e.lastBrevo, brevoRows
	return track, email, brevoRows
}

// synced picks n contacts both sides have, with an ext_id and an email.
func (e *twEnv) synced(t *testing.T, n int) []brevosim.Contact {
	t.Helper()
	var out []brevosim.Contact
	for _, c := range e.sb.Brevo.Contacts() {
		if c.ExtID != "" && c.Email != "" && e.sb.Braze.User(c.ExtID) != nil {
			out = append(out, c)
			if len(out) == n {
				return out
			}
		}
	}
	t.Fatalf("only %d synced contacts", len(out))
	return nil
}

func TestTwoWayEndToEndSettles(t *testing.T) {
	e := startTwoWay(t, twOptions{users: 60, fields: map[string]twoway.Rule{
		"first_name": {Direction: twoway.Both}, "last_name": {Direction: twoway.Both},
		"preferred_language": {Direction: twoway.BrevoToBraze},
	}})
	// LANGUAGE is Brevo's own (the forward mapping does not write it).
	if err := brevoClient(t, e.env).CreateAttribute(context.Background(), "normal", "LANGUAGE", "text"); err != nil {
		t.Fatal(err)
	}
	cs := e.synced(t, 4)
	type change struct {
		braze       bool // made in Braze (else in Brevo)
		who         brevosim.Contact
		field, attr string
		value       string
		cycle       int
	}
	changes := []change{
		{true, cs[0], "first_name", "FIRSTNAME", "Zora", 1},
		{false, cs[1], "last_name", "LASTNAME", "Quill", 1},
		{false, cs[2], "preferred_language", "LANGUAGE", "eo", 3},
		{true, cs[3], "last_name", "LASTNAME", "Vance", 3},
	}
	for cycle := 1; cycle <= 5; cycle++ {
		var made []change
		for _, c := range changes {
			if c.cycle != cycle {
				continue
			}
			made = append(made, c)
			if c.braze {
				if err := e.sb.Braze.Edit(c.who.ExtID, map[string]any{c.field: c.value}); err != nil {
					t.Fatal(err)
				}
			} else if err := e.sb.Brevo.EditContact(c.who.ID, map[string]any{c.attr: c.value}, nil); err != nil {
				t.Fatal(err)
			}
		}
		e.cycle(t)
		track, email, rows := e.cycleWrites()
		t.Logf("cycle %d: %d changes; writes: Braze %d objects, %d email statuses; Brevo %d contact rows", cycle, len(made), track, email, rows)
		// Within one cycle, the other side has each change.
		for _, c := range made {
			got, _ := e.sb.Brevo.ContactByExtID(c.who.ExtID)
			if got.Attributes[c.attr] != c.value {
				t.Errorf("cycle %d: Brevo %s of %s is %v, want %q", cycle, c.attr, c.who.ExtID, got.Attributes[c.attr], c.value)
			}
			u := e.sb.Braze.User(c.who.ExtID)
			val := u[c.field]
			if ca, ok := u["custom_attributes"].(map[string]any); ok && val == nil {
				val = ca[c.field]
			}
			if val != c.value {
				t.Errorf("cycle %d: Braze %s of %s is %v, want %q", cycle, c.field, c.who.ExtID, val, c.value)
			}
		}
		switch {
		case len(made) == 0 && (track != 0 || email != 0 || rows != 0):
			t.Errorf("cycle %d changed nothing but wrote %d Braze objects, %d email statuses, %d Brevo rows: the sync does not settle", cycle, track, email, rows)
		case len(made) > 0 && track > len(made):
			t.Errorf("cycle %d: %d Braze objects written for %d changes", cycle, track, len(made))
		}
	}
	if st := e.tw.Reverse.Stats(); st[twoway.OutcomeEcho] == 0 {
		t.Errorf("no webhook event was recognised as the connector's own write: %v", st)
	}
}

// mappingOf is the forward mapping of the default field_mapping with these
// directions.
func mappingOf(fields map[string]twoway.Rule) (mapping.Options, error) {
	return mapping.Options{Fields: twoway.ForwardMapping(mapping.DefaultFieldMapping(), fields)}, nil
}

// brazeValue is a Braze user's field, standard or custom.
func brazeValue(u map[string]any, field string) any {
	if v, ok := u[field]; ok {
		return v
	}
	ca, _ := u["custom_attributes"].(map[string]any)
	return ca[field]
}

// TestTwoWayConflicts changes the same field on both sides between two
// cycles, for each policy, in both orders: Braze first then Brevo, and
// Brevo first (its webhook handled) then Braze.
func TestTwoWayConflicts(t *testing.T) {
	e := startTwoWay(t, twOptions{users: 40, fields: map[string]twoway.Rule{
		"first_name":         {Direction: twoway.Both, Conflict: twoway.NewestWins},
		"last_name":          {Direction: twoway.Both, Conflict: twoway.BrazeWins},
		"preferred_language": {Direction: twoway.Both, Conflict: twoway.BrevoWins},
	}})
	cs := e.synced(t, 6)
	type field struct{ braze, brevo string }
	fields := map[twoway.Conflict]field{
		twoway.NewestWins: {"first_name", "FIRSTNAME"},
		twoway.BrazeWins:  {"last_name", "LASTNAME"},
		twoway.BrevoWins:  {"preferred_language", "LANGUAGE"},
	}
	type scenario struct {
		policy     twoway.Conflict
		brevoFirst bool // Brevo's change is made, and handled, before Braze's
		who        brevosim.Contact
		want       string // "braze" or "brevo": whose value both sides end with
	}
	scenarios := []scenario{
		{twoway.NewestWins, false, cs[0], "brevo"},
		{twoway.NewestWins, true, cs[1], "braze"},
		{twoway.BrazeWins, false, cs[2], "braze"},
		{twoway.BrazeWins, true, cs[3], "braze"},
		{twoway.BrevoWins, false, cs[4], "brevo"},
		{twoway.BrevoWins, true, cs[5], "brevo"},
	}
	value := func(side string, i int) string { return side + "-value-" + string(rune('a'+i)) }
	brazeChange := func(i int, s scenario) {
		if err := e.sb.Braze.Edit(s.who.ExtID, map[string]any{fields[s.policy].braze: value("braze", i)}); err != nil {
			t.Fatal(err)
		}
	}
	brevoChange := func(i int, s scenario) {
		if err := e.sb.Brevo.EditContact(s.who.ID, map[string]any{fields[s.policy].brevo: value("brevo", i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range scenarios {
		if !s.brevoFirst {
			brazeChange(i, s)
			time.Sleep(5 * time.Millisecond) // distinct times, on any clock
			brevoChange(i, s)
		}
	}
	for i, s := range scenarios {
		if s.brevoFirst {
			brevoChange(i, s)
		}
	}
	e.settle(t) // Brevo's webhooks are handled
	for i, s := range scenarios {
		if s.brevoFirst {
			brazeChange(i, s)
		}
	}
	e.cycle(t)
	e.cycle(t) // a brevo_wins re-assertion lands, and is seen
	e.cycleWrites()
	for i, s := range scenarios {
		f := fields[s.policy]
		want := value(s.want, i)
		c, _ := e.sb.Brevo.ContactByExtID(s.who.ExtID)
		if got := c.Attributes[f.brevo]; got != want {
			t.Errorf("%s, Brevo first %v: Brevo %s is %v, want %s's %q", s.policy, s.brevoFirst, f.brevo, got, s.want, want)
		}
		if got := brazeValue(e.sb.Braze.User(s.who.ExtID), f.braze); got != want {
			t.Errorf("%s, Brevo first %v: Braze %s is %v, want %s's %q", s.policy, s.brevoFirst, f.braze, got, s.want, want)
		}
	}
	e.cycle(t)
	if track, email, rows := e.cycleWrites(); track+email+rows != 0 {
		t.Errorf("a cycle after the conflicts resolved wrote %d Braze objects, %d statuses, %d Brevo rows", track, email, rows)
	}
}
