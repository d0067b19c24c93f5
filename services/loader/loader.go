package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/kvmap"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// Durable is the consumer every loader replica shares.
const Durable = proto.DurableLoaderContacts

// Brevo is what the loader needs from a Brevo client.
type Brevo interface {
	Attributes(ctx context.Context) ([]brevo.Attribute, error)
	CreateAttribute(ctx context.Context, category, name, typ string) error
	UpsertContact(ctx context.Context, c brevo.Contact) (created bool, err error)
	ImportFromBatch(ctx context.Context, b *brevo.ImportBatch, o brevo.ImportOptions) (processID int64, err error)
	Process(ctx context.Context, id int64) (brevo.Process, error)
	EnsureList(ctx context.Context, name string) (brevo.List, error)
}

// DefaultListName is the Brevo list synced contacts join when no list id is
// configured (Brevo requires one for an import).
const DefaultListName = "Braze users"

// Config tunes the loader.
type Config struct {
	Instance string // names this replica in counters; default "loader"
	// BatchSize bounds the upserts of one batch. Imports are filled by
	// bytes (MaxImportBytes): on a full sync a batch is one import of rows
	// up to the body limit, and the count binds only when rows are small;
	// in a trickle, BatchWait cuts the batch. Default 30,000.
	BatchSize       int
	BatchWait       time.Duration // a batch is cut once no upsert came for this long (at most ten times it after its first), or as soon as its sync has nothing more for it (caughtup.go); default 1s
	ImportThreshold int           // batches at least this large go through /contacts/import; default 50
	MaxImportBytes  int           // import body limit; default 8,000,000 (Brevo allows 10 MB)
	// ListIDs are the Brevo lists every synced contact joins; Brevo requires
	// at least one for an import. Empty: the list named ListName, created
	// when missing.
	ListIDs  []int64
	ListName string // default DefaultListName
	// NotifyURL is the gateway's public URL (gateway.public_url): set, each
	// import asks Brevo to call NotifyURL + proto.BrevoNotifyPath +
	// "/<token>" when it finishes, the gateway relays that call over NATS, and the loader
	// learns the import finished without polling (completion.go); polling
	// stays the fallback. Empty: polling only.
	NotifyURL string
	// NotifyToken authenticates Brevo's call; default: the install's
	// secret proto.SecretBrevoNotify from the state bucket (the gateway
	// reads the same).
	NotifyToken string
	// NotifyGrace is how long past twice the expected time of an import
	// the loader waits for its notification before it polls; default 30s.
	NotifyGrace time.Duration
	// OtherPerHour is Brevo's budget for every endpoint but contacts and
	// events (resilience.limits.brevo.other_per_hour; default 100). All
	// loader replicas together poll GET /processes/{id} at most 80% of it
	// in any hour (pace.go), leaving the rest to other calls.
	OtherPerHour int
	// FirstPoll is the first wait for an import while nothing is known of
	// Brevo's pace, and the shortest wait between polls; default 2s.
	FirstPoll time.Duration
	// Clock times the polls; default the real clock.
	Clock restcall.Clock
	// AckWait is how long the server waits for a batch's progress report
	// before it redelivers; default 30s (progress is reported every third).
	AckWait time.Duration
	// Paused, when set, stops the loader fetching while it returns true
	// (a Brevo circuit breaker is open).
	Paused func() bool
	// Retry retries the start-up calls (the attributes, the list), the only
	// ones no message stands behind: a vendor hiccup at start-up is not a
	// crash loop. Wire the Brevo guard's policy (Guard.Retry); zero fields
	// take resilience's defaults. A message's calls are retried by
	// redelivery, an import's poll by its next poll.
	Retry  resilience.Policy
	Logger *slog.Logger
	// DryRun records every write in Planner instead of sending it (see
	// dryrun.go); Planner is required with it.
	DryRun  bool
	Planner Planner
	// Instruments trace and measure the loader's worker (pkg/pipeline).
	Instruments pipeline.Instruments
}

func (c *Config) defaults() {
	if c.Instance == "" {
		c.Instance = "loader"
	}
	if c.BatchSize <= 0 {
		c.BatchSize = config.DefaultBatchSize
	}
	if c.BatchWait <= 0 {
		c.BatchWait = config.DefaultBatchWait
	}
	if c.ImportThreshold <= 0 {
		c.ImportThreshold = config.DefaultImportThreshold
	}
	if c.MaxImportBytes <= 0 {
		c.MaxImportBytes = brevo.DefaultImportMaxBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.ListName == "" {
		c.ListName = DefaultListName
	}
	if c.NotifyGrace <= 0 {
		c.NotifyGrace = 30 * time.Second
	}
	if c.OtherPerHour <= 0 {
		c.OtherPerHour = 100
	}
	if c.FirstPoll <= 0 {
		c.FirstPoll = 2 * time.Second
	}
	if c.Clock == nil {
		c.Clock = restcall.SystemClock{}
	}
}

// Loader writes contact upserts to Brevo.
type Loader struct {
	cfg     Config
	js      jetstream.JetStream
	brevo   Brevo
	attrs   []mapping.Attribute
	attrSet attrSet    // the mapping's attributes, for clearing (cleared.go)
	fps     *kvmap.Map // record key -> fingerprint confirmed at Brevo
	claims  *kvmap.Map // "email:x" / "sms:+1..." -> record key owning it
	ledger  *ledger.Ledger
	state   *state.Store
	log     *slog.Logger
	sinks   sinks
	track   *tracker
	prep    *preparer // encodes upserts as they arrive (prepare.go)
	// inflightMu guards inflight: the keys batches of this process are
	// writing (batch.go, busy).
	inflightMu sync.Mutex
	inflight   map[string]bool
}

// New builds a loader for contacts carrying the given attributes.
func New(ctx context.Context, js jetstream.JetStream, b Brevo, attrs []mapping.Attribute, st *state.Store, cfg Config) (*Loader, error) {
	if b == nil {
		return nil, errors.New("loader: a Brevo client is required")
	}
	cfg.defaults()
	fps, err := kvmap.Open(ctx, js, proto.BucketFingerprints)
	if err != nil {
		return nil, fmt.Errorf("loader: %w", err)
	}
	claims, err := kvmap.Open(ctx, js, proto.BucketClaims)
	if err != nil {
		return nil, fmt.Errorf("loader: %w", err)
	}
	led, err := ledger.Open(ctx, js, proto.BucketLedger)
	if err != nil {
		return nil, fmt.Errorf("loader: %w", err)
	}
	if cfg.DryRun { // dry run (dryrun.go): Brevo writes are recorded, never sent
		if b, err = dryRunBrevo(b, cfg.Planner); err != nil {
			return nil, fmt.Errorf("loader: %w", err)
		}
	}
	l := &Loader{
		cfg: cfg, js: js, brevo: b, attrs: attrs, attrSet: newAttrSet(attrs), prep: &preparer{attrs: newAttrSet(attrs)}, fps: fps, claims: claims,
		ledger:   led,
		state:    st,
		inflight: map[string]bool{},
		log:      cfg.Logger.With("service", proto.StageLoader, "instance", cfg.Instance),
	}
	l.track = &tracker{procs: b, clock: cfg.Clock, perHour: max(cfg.OtherPerHour*4/5, 1), grace: cfg.NotifyGrace,
		firstPoll: cfg.FirstPoll, log: l.log}
	if st != nil {
		l.track.kv = st.KeyValue()
	}
	if cfg.NotifyURL != "" && !cfg.DryRun {
		token := cfg.NotifyToken
		if token == "" {
			if st == nil {
				return nil, errors.New("loader: a notify URL needs the state store (its token is the install's secret)")
			}
			if token, err = st.Secret(ctx, proto.SecretBrevoNotify); err != nil {
				return nil, fmt.Errorf("loader: reading the notify token: %w", err)
			}
		}
		l.track.base, l.track.token, l.track.nc = cfg.NotifyURL, token, js.Conn()
	}
	l.setSinks()
	return l, nil
}

// sinks are the loader's ways of writing (sink.go).
type sinks struct {
	imports *importSink
	upserts upsertSink
	plan    planSink
}

// setSinks builds the sinks for the current list ids (EnsureList may
// resolve them after New).
func (l *Loader) setSinks() {
	l.sinks = newSinks(l.brevo, l.state, l.track, l.cfg, l.log)
}

// newSinks builds every sink of a loader configured by cfg.
func newSinks(b Brevo, st *state.Store, track *tracker, cfg Config, log *slog.Logger) sinks {
	up := upsertSink{brevo: b, lists: cfg.ListIDs}
	return sinks{
		imports: &importSink{brevo: b, lists: cfg.ListIDs, state: st, instance: cfg.Instance,
			track: track, one: up, threshold: cfg.ImportThreshold, log: log,
			batch: brevo.NewImportBatch(cfg.MaxImportBytes), records: newImportLog(st, track.clock)},
		upserts: up,
		plan:    planSink{planner: cfg.Planner, lists: cfg.ListIDs},
	}
}

// EnsureAttributes creates the Brevo contact attributes the mapping writes
// that do not exist yet, with the mapping's type. An attribute that exists
// with another type is an error: Brevo would silently drop every value.
func (l *Loader) EnsureAttributes(ctx context.Context) error {
	have, err := l.brevo.Attributes(ctx)
	if err != nil {
		return fmt.Errorf("listing Brevo contact attributes: %w", err)
	}
	existing := make(map[string]string, len(have))
	for _, a := range have {
		existing[a.Name] = a.Type
	}
	var mismatched []string
	for _, a := range l.attrs {
		typ, ok := existing[a.Name]
		switch {
		case !ok:
			if err := l.brevo.CreateAttribute(ctx, "normal", a.Name, a.Type); err != nil {
				return fmt.Errorf("creating Brevo attribute %s (%s): %w", a.Name, a.Type, err)
			}
			l.log.Info("created Brevo attribute", "name", a.Name, "type", a.Type)
		case typ != "" && !sameType(typ, a.Type):
			mismatched = append(mismatched, fmt.Sprintf("%s is %q in Brevo but the mapping writes %q", a.Name, typ, a.Type))
		}
	}
	if len(mismatched) > 0 {
		sort.Strings(mismatched)
		return fmt.Errorf("Brevo attribute types do not match the mapping (Brevo would silently ignore these values): %v; "+
			"set connectors.braze.field_types to the Brevo type or change the attribute in Brevo", mismatched)
	}
	return nil
}

// sameType compares Brevo attribute types; Brevo reports some types under
// more than one name.
func sameType(brevoType, want string) bool {
	if brevoType == want {
		return true
	}
	switch want {
	case "float":
		return brevoType == "number"
	case "text":
		return brevoType == "string"
	}
	return false
}

// EnsureList resolves the list contacts join when none is configured.
func (l *Loader) EnsureList(ctx context.Context) error {
	if len(l.cfg.ListIDs) > 0 {
		return nil
	}
	list, err := l.brevo.EnsureList(ctx, l.cfg.ListName)
	if err != nil {
		return fmt.Errorf("finding or creating the Brevo list %q (or set connectors.brevo.list_ids): %w", l.cfg.ListName, err)
	}
	l.cfg.ListIDs = []int64{list.ID}
	l.setSinks()
	l.log.Info("contacts join Brevo list", "list", list.Name, "id", list.ID)
	return nil
}

// Run ensures the attributes and the list, then consumes upserts until ctx
// is cancelled.
func (l *Loader) Run(ctx context.Context) error {
	// A vendor hiccup at start-up is retried, not a crash loop.
	start := l.cfg.Retry
	if err := start.Do(ctx, l.EnsureAttributes); err != nil {
		if ctx.Err() != nil {
			return nil // stopped during start-up: nothing to drain
		}
		return fmt.Errorf("loader: %w", err)
	}
	if err := start.Do(ctx, l.EnsureList); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("loader: %w", err)
	}
	w, err := pipeline.NewWorker(l.js, pipeline.Config{
		Stream:  proto.StreamOps,
		Durable: Durable,
		Subject: proto.SubjectOpsBrevoContactsUpsert,
		// The transformer packs its upserts (pipeline.Publisher.Packing).
		PackItems: pipeline.DefaultPackItems,
		Stage:     proto.StageLoader,
		// Two batches in flight: one prepares (claims) or records
		// (fingerprints) while the other imports; the import sink keeps
		// Brevo to one import at a time.
		Concurrency: 2,
		// A batch is about one full import: its rows' bytes, encoded as
		// they arrive (prepare.go), fill the body Brevo takes.
		BatchSize:  l.cfg.BatchSize,
		BatchBytes: importFill(l.cfg.MaxImportBytes),
		Prepare:    l.prep.prepare,
		// Two batches: one importing, the next ready behind it (a message
		// held costs about 1 KB once prepared and compacted).
		MaxAckPending: 2 * l.cfg.BatchSize,
		// A full sync keeps coming: its batches fill by bytes, the first
		// ones included; a trickle is cut BatchWait after its last upsert,
		// and no upsert waits more than ten times that. A sync's last
		// batch goes once it holds everything (caughtup.go).
		BatchWait:    l.cfg.BatchWait,
		BatchMaxWait: 10 * l.cfg.BatchWait,
		CaughtUp:     l.caughtUp,
		AckWait:      l.cfg.AckWait, // long imports stay alive through InProgress
		Paused:       l.cfg.Paused,
		Ledger:       l.ledger,
		Logger:       l.log,
		Instruments:  l.cfg.Instruments,
	}, l)
	if err != nil {
		return fmt.Errorf("loader: starting worker: %w", err)
	}
	l.log.Info("loader started", "subject", proto.SubjectOpsBrevoContactsUpsert)
	return w.Run(ctx)
}
