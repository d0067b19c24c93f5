package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/twoway"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
	"github.com/tajo-sync/tajo/tools/sandbox"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
	"github.com/tajo-sync/tajo/tools/sandbox/faults"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

const webhookToken = "twoway-webhook-token-0123456789"

// twEnv is a two-way deployment on the sandbox: the users pipeline, the
// Brevo → Braze workers (the poller driven by the test: PollOnce), and a
// gateway receiving Brevo's webhooks, registered as `tajo connectors
// install --webhook-url` registers them.
type twEnv struct {
	*env
	tw      *app.TwoWayWorkers
	killer  *killable // the reverse worker and the Braze writer, when the test kills them
	gateway string    // the gateway's base URL
	// last counts, to measure one cycle's writes
	lastTrack, lastEmail, lastBrevo int
}

type twOptions struct {
	users   int
	fields  map[string]twoway.Rule
	group   string
	faults  string // the sandbox's fault mix (faults.Parse)
	noHooks bool
	// manual leaves the reverse worker and the Braze writer to the test.
	manual bool
}

func startTwoWay(t *testing.T, o twOptions) *twEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sopts := sandbox.Options{Users: o.users, Seed: 42, RateLimits: true, ExportDelay: 100 * time.Millisecond}
	if o.faults != "" {
		spec, err := faults.Parse(o.faults)
		if err != nil {
			t.Fatal(err)
		}
		sopts.Faults = spec
	}
	sb := startSandbox(t, ctx, sopts)
	ns := natsxtest.Server(t)
	nc, _ := natsxtest.Conn(t, ns)
	log := testLogger(t, slog.LevelInfo)
	policy, err := twoway.NewPolicy(twoway.Options{Fields: o.fields, SubscriptionGroupID: o.group, APIKeyName: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := mappingOf(o.fields)
	if err != nil {
		t.Fatal(err)
	}
	ao := baseOptions(t, sb, nc, log)
	ao.Mapping, ao.TwoWay = fwd, policy
	ao.Extractor.Poll = braze.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}
	ao.Loader.FirstPoll = 50 * time.Millisecond
	a, err := app.New(ctx, ao)
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
	var killer *killable
	if o.manual {
		killer = &killable{url: ns.ClientURL(), policy: policy, brazeURL: sb.BrazeURL, brazeKey: sb.BrazeAPIKey, log: log}
		killer.start(t)
		done <- nil
		done <- nil
	} else {
		go func() { done <- tw.Reverse.Run(wctx) }()
		go func() { done <- tw.Writer.Run(wctx) }()
	}
	var hookURL string
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
		hookURL = "http://" + ln.Addr().String()
		if _, err := bv.CreateWebhook(ctx, brevo.Webhook{URL: hookURL + "/v1/brevo/webhooks",
			Events: brevo.ContactWebhookEvents, Token: webhookToken}); err != nil {
			t.Fatal(err)
		}
	}
	var gwURL string
	if !o.noHooks {
		gwURL = hookURL
	}
	n := 3
	t.Cleanup(func() {
		stop()
		if killer != nil {
			killer.kill()
		}
		for range n + boolInt(!o.noHooks) {
			if err := <-done; err != nil {
				t.Errorf("worker: %v", err)
			}
		}
	})
	e := &twEnv{env: &env{sb: sb, app: a, js: a.JS}, tw: tw, gateway: gwURL, killer: killer}
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
	waitFor(t, 60*time.Second, "webhook deliveries", func() bool {
		st := e.sb.Brevo.WebhookStats()
		return st.Delivered+st.Failed == st.Events
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
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
	for try := 1; ; try++ { // the sandbox may be injecting faults
		_, err := e.tw.Poller.PollOnce(ctx)
		if err == nil {
			break
		}
		if try == 20 {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
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
		// Each change is written once, to the other side only: nothing
		// comes back.
		inBraze, inBrevo := 0, 0
		for _, c := range made {
			if c.braze {
				inBraze++
			} else {
				inBrevo++
			}
		}
		if track != inBrevo || rows != inBraze || email != 0 {
			t.Errorf("cycle %d: %d Braze changes and %d Brevo changes made %d Brevo rows and %d Braze objects (%d email statuses); want %d and %d",
				cycle, inBraze, inBrevo, rows, track, email, inBraze, inBrevo)
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

// TestTwoWayUnsubscribeOnce: a Brevo unsubscribe reaches Braze as
// email_subscribe unsubscribed (and leaves the configured subscription
// group) exactly once, though both the webhook and the poller report it,
// the webhook twice, in either order.
func TestTwoWayUnsubscribeOnce(t *testing.T) {
	const group = "grp-newsletter"
	e := startTwoWay(t, twOptions{users: 30, group: group, fields: map[string]twoway.Rule{"first_name": {Direction: twoway.Both}}})
	cs := e.synced(t, 2)
	yes := true
	// The webhook first, then the poll; Brevo then sends the webhook again.
	if err := e.sb.Brevo.EditContact(cs[0].ID, nil, &yes); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	resp := post(t, e.gateway+"/v1/brevo/webhooks", webhookToken,
		`{"event":"unsubscribed","id":`+itoa(cs[0].ID)+`,"email":"`+cs[0].Email+`","date":"2030-01-01 00:00:00","ts":1893456000}`)
	if resp.StatusCode != 200 {
		t.Fatalf("re-sent webhook: %d", resp.StatusCode)
	}
	// The poll first (the webhook is still on its way), then the webhook.
	if err := e.sb.Brevo.EditContact(cs[1].ID, nil, &yes); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tw.Poller.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.cycle(t)
	e.cycle(t)
	for _, c := range cs {
		calls := 0
		for _, s := range e.sb.Braze.EmailStatusLog() {
			for _, addr := range s.Emails {
				if addr == c.Email {
					calls++
					if s.State != "unsubscribed" {
						t.Errorf("%s: /email/status %s", c.Email, s.State)
					}
				}
			}
		}
		if calls != 1 {
			t.Errorf("%s: %d /email/status calls, want exactly 1", c.Email, calls)
		}
		groupCalls := 0
		for _, s := range e.sb.Braze.SubscriptionLog() {
			if s.GroupID == group && slices.Contains(s.Emails, c.Email) {
				groupCalls++
			}
		}
		if groupCalls != 1 || e.sb.Braze.SubscriptionState(group, "email:"+c.Email) != "unsubscribed" {
			t.Errorf("%s: %d /subscription/status/set calls, group state %q", c.Email, groupCalls, e.sb.Braze.SubscriptionState(group, "email:"+c.Email))
		}
		if got := e.sb.Braze.User(c.ExtID)["email_subscribe"]; got != "unsubscribed" {
			t.Errorf("%s: Braze email_subscribe %v", c.ExtID, got)
		}
	}
	if st := e.tw.Reverse.Stats(); st[twoway.OutcomeUnsubscribed] != 2 {
		t.Errorf("reverse outcomes %v: want 2 unsubscribes sent", st)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTwoWayBrazeBatches: many Brevo changes reach Braze in /users/track
// requests of at most 75 objects (the sandbox's request log says so), one
// object per user; objects Braze refuses in a partially successful request
// are sent again alone, the others never.
func TestTwoWayBrazeBatches(t *testing.T) {
	e := startTwoWay(t, twOptions{users: 220, fields: map[string]twoway.Rule{"first_name": {Direction: twoway.Both}}})
	cs := e.synced(t, 180)
	failing := []string{cs[10].ExtID, cs[100].ExtID, cs[170].ExtID}
	e.sb.Braze.FailTrack(1, failing...)
	before := len(e.sb.Braze.TrackLog())
	for i, c := range cs {
		if err := e.sb.Brevo.EditContact(c.ID, map[string]any{"FIRSTNAME": "Batch" + strconv.Itoa(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	e.cycle(t)
	log := e.sb.Braze.TrackLog()[before:]
	sent := map[string]int{}
	failedOnce := map[string]bool{}
	for _, call := range log {
		if call.Objects() > 75 {
			t.Errorf("a /users/track request held %d objects", call.Objects())
		}
		inCall := map[string]bool{}
		for _, u := range call.Users {
			if inCall[u] {
				t.Errorf("%s twice in one request", u)
			}
			inCall[u] = true
			sent[u]++
		}
		for _, te := range call.Errors {
			failedOnce[call.Users[te.Index]] = true
		}
	}
	if len(log) < 3 {
		t.Errorf("%d requests for %d users", len(log), len(cs))
	}
	for _, id := range failing {
		if !failedOnce[id] || sent[id] != 2 {
			t.Errorf("%s: refused %v, sent %d times; want refused once and sent again once", id, failedOnce[id], sent[id])
		}
	}
	for i, c := range cs {
		if !slices.Contains(failing, c.ExtID) && sent[c.ExtID] != 1 {
			t.Errorf("%s sent %d times, want once", c.ExtID, sent[c.ExtID])
		}
		if got := e.sb.Braze.User(c.ExtID)["first_name"]; got != "Batch"+strconv.Itoa(i) {
			t.Errorf("%s: Braze first_name %v", c.ExtID, got)
		}
	}
	t.Logf("%d users in %d /users/track requests", len(cs), len(log))
}

// killable runs the reverse worker and the Braze writer on a connection of
// their own, which kill closes at once: what they had fetched and not
// acknowledged comes back after AckWait, to whichever workers start next.
type killable struct {
	url                string
	policy             *twoway.Policy
	brazeURL, brazeKey string
	log                *slog.Logger

	mu     sync.Mutex
	nc     *nats.Conn
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kills  int
}

func (k *killable) start(t *testing.T) {
	t.Helper()
	if err := k.startErr(); err != nil {
		t.Fatal(err)
	}
}

func (k *killable) startErr() error {
	ctx, cancel := context.WithCancel(context.Background())
	nc, err := natsx.Connect(ctx, k.url, "twoway-workers")
	if err != nil {
		cancel()
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		cancel()
		return err
	}
	s, err := twoway.NewSyncer(ctx, js, k.policy)
	if err != nil {
		cancel()
		return err
	}
	// Small batches: a kill finds work in flight.
	r, err := transformer.NewReverse(js, s, transformer.ReverseConfig{BatchSize: 5, AckWait: 2 * time.Second, DrainTimeout: time.Second, Logger: k.log})
	if err != nil {
		cancel()
		return err
	}
	bc := braze.Config{BaseURL: k.brazeURL, APIKey: k.brazeKey}
	if _, err := bootstrap.GuardBraze(resilience.Config{}, &bc, k.log); err != nil {
		cancel()
		return err
	}
	bz, err := braze.New(bc)
	if err != nil {
		cancel()
		return err
	}
	w, err := loader.NewBrazeSink(js, bz, s, loader.BrazeConfig{BatchSize: 5, AckWait: 2 * time.Second, DrainTimeout: time.Second, Logger: k.log})
	if err != nil {
		cancel()
		return err
	}
	k.mu.Lock()
	k.nc, k.cancel = nc, cancel
	k.mu.Unlock()
	for _, run := range []func(context.Context) error{r.Run, w.Run} {
		k.wg.Go(func() { _ = run(ctx) }) // a killed worker's error is the point
	}
	return nil
}

// kill closes the workers' connection without a drain, and waits for them.
// (A process killed stops at once; here the handlers in flight, whose
// connection is gone, are cut after DrainTimeout.)
func (k *killable) kill() {
	k.mu.Lock()
	nc, cancel := k.nc, k.cancel
	k.kills++
	k.mu.Unlock()
	nc.Close()
	cancel()
	k.wg.Wait()
}

// TestTwoWayUnderFaultsAndKills runs the same Brevo changes twice: once
// fault-free, once with the sandbox injecting 5xx, 429s and resets on both
// vendors while the reverse worker and the Braze writer are killed and
// restarted mid-work; Braze must end the same.
func TestTwoWayUnderFaultsAndKills(t *testing.T) {
	if testing.Short() {
		t.Skip("two full deployments: skipped with -short")
	}
	fields := map[string]twoway.Rule{"first_name": {Direction: twoway.Both}, "last_name": {Direction: twoway.Both, Conflict: twoway.BrevoWins}}
	run := func(faulty bool) map[string]string {
		o := twOptions{users: 60, fields: fields}
		if faulty {
			o.manual, o.faults = true, "5xx=0.1,429=0.05,reset=0.03,latency=40ms±20ms"
		}
		e := startTwoWay(t, o)
		var exts []string
		for _, c := range e.sb.Brevo.Contacts() {
			if c.ExtID != "" && c.Email != "" {
				exts = append(exts, c.ExtID)
			}
		}
		slices.Sort(exts)
		yes := true
		for k, ext := range exts[:45] {
			c, _ := e.sb.Brevo.ContactByExtID(ext)
			attrs := map[string]any{"FIRSTNAME": "F" + strconv.Itoa(k)}
			if k%3 == 0 {
				attrs["LASTNAME"] = "L" + strconv.Itoa(k)
			}
			var bl *bool
			if k%7 == 0 {
				bl = &yes
			}
			if err := e.sb.Brevo.EditContact(c.ID, attrs, bl); err != nil {
				t.Fatal(err)
			}
		}
		var kills sync.WaitGroup
		if faulty {
			// Kill and restart the workers while they handle the changes.
			kills.Go(func() {
				for range 4 {
					time.Sleep(250 * time.Millisecond)
					e.killer.kill()
					if err := e.killer.startErr(); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		e.cycle(t)
		kills.Wait()
		for range 2 {
			e.cycle(t)
		}
		out := map[string]string{}
		for _, ext := range exts {
			u := e.sb.Braze.User(ext)
			out[ext] = fmt.Sprintf("%v|%v|%v", u["first_name"], u["last_name"], u["email_subscribe"])
		}
		if faulty {
			t.Logf("faulty run: %d kills; Braze answered %v", e.killer.kills, e.sb.Braze.Requests())
		}
		return out
	}
	want := run(false)
	got := run(true)
	if len(got) != len(want) {
		t.Fatalf("%d users compared, the reference has %d", len(got), len(want))
	}
	diffs := 0
	for ext, w := range want {
		if got[ext] != w {
			diffs++
			t.Errorf("%s: Braze holds %s after faults and kills, %s without", ext, got[ext], w)
		}
	}
	t.Logf("%d users compared, %d differ", len(want), diffs)
}

// TestTwoWayDeleteIsReported: a contact deleted in Brevo keeps its Braze
// user (propagate_deletes is off by default) and is reported in the DLQ.
func TestTwoWayDeleteIsReported(t *testing.T) {
	e := startTwoWay(t, twOptions{users: 20, fields: map[string]twoway.Rule{"first_name": {Direction: twoway.Both}}})
	c := e.synced(t, 1)[0]
	if err := e.sb.Brevo.DeleteContact(c.ID); err != nil {
		t.Fatal(err)
	}
	e.cycle(t)
	if e.sb.Braze.User(c.ExtID) == nil {
		t.Error("the Braze user of a contact deleted in Brevo was deleted")
	}
	if got := dlqReasons(t, e.js)["transformer.deleted_in_brevo"]; got != 1 {
		t.Errorf("%d deleted_in_brevo reports, want 1 (all: %v)", got, dlqReasons(t, e.js))
	}
	// The deletion leaves no writes behind on either side.
	e.cycleWrites()
	e.cycle(t)
	if track, email, rows := e.cycleWrites(); track+email+rows != 0 {
		t.Errorf("after a deletion a cycle wrote %d/%d/%d", track, email, rows)
	}
}
