package config

import (
	"path/filepath"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/resilience"
)

// Config is the whole configuration file.
type Config struct {
	Connectors Connectors `yaml:"connectors"`
	NATS       NATS       `yaml:"nats"`
	Pipeline   Pipeline   `yaml:"pipeline"`
	// Gateway configures the HTTP entry point (services/gateway).
	Gateway Gateway `yaml:"gateway"`
	// Resilience tunes rate limits (per vendor plan), retries and circuit
	// breakers; every zero field takes the vendors' documented defaults.
	Resilience resilience.Config `yaml:"resilience"`
	// Metrics sets where /metrics, /healthz and /readyz are served.
	Metrics Metrics `yaml:"metrics"`

	// src locates keys in the file this came from (nil when built in code),
	// so that notices name the line and the key as the file wrote it.
	src *walker
}

// Connectors holds one section per vendor.
type Connectors struct {
	Braze Braze `yaml:"braze"`
	Brevo Brevo `yaml:"brevo"`
}

// Braze configures the Braze side: where to read and what to sync.
type Braze struct {
	// Enabled false stops the connector: tajo run, the extractor and
	// `tajo connectors sync` refuse to sync, saying so. Default true.
	Enabled bool `yaml:"enabled"`
	// InstanceURL is the REST endpoint of the Braze instance, such as
	// rest.iad-01.braze.com. The scheme is optional (https is assumed);
	// http is accepted only for loopback hosts (the sandbox). After Parse it
	// always carries its scheme and no trailing slash.
	InstanceURL string `yaml:"instance_url"`
	// APIVersion is the Braze REST API version. Braze has one, v1 (its
	// paths carry no version), so v1 is the only valid value. Default v1.
	APIVersion  string `yaml:"api_version"`
	Debug       bool   `yaml:"debug"`
	LogLevel    string `yaml:"log_level"`     // error|warn|info|debug|verbose; default info
	LogAPICalls bool   `yaml:"log_api_calls"` // record request bodies (keys redacted) in the audit stream
	Sync        Sync   `yaml:"sync"`
	// Lists maps a Braze segment (id or name) to the Brevo list that
	// mirrors it, when sync.segments is on (see SegmentsSync).
	Lists map[string]ListID `yaml:"lists"`
	// FieldMapping maps Braze fields to Brevo attributes (or "email");
	// default mapping.DefaultFieldMapping(). A mapping in the file replaces
	// the default entirely.
	FieldMapping map[string]string `yaml:"field_mapping"`
	// FieldTypes overrides the Brevo type of an attribute:
	// text|float|boolean|date.
	FieldTypes map[string]string `yaml:"field_types"`
	// DefaultPhoneRegion reads phone numbers written without a country code
	// when the user has no country; default "US".
	DefaultPhoneRegion string `yaml:"default_phone_region"`
	// EventMapping maps a Braze event type (Currents' event_type, or
	// handleEvent's type) to the Brevo event name it is written as;
	// entries here add to and override the defaults
	// (services/transformer/eventmap.go). "{name}" takes the event's own
	// name (custom events, handleEvent's user.event).
	EventMapping map[string]string `yaml:"event_mapping"`
}

// Gateway configures the HTTP entry point.
type Gateway struct {
	// Listen is the address served; default 127.0.0.1:8080 (loopback:
	// in a container, configure the address to expose).
	Listen string `yaml:"listen"`
	// PublicURL is the base URL at which Brevo reaches this gateway, such
	// as https://tajo.example.com. Set, every Brevo import asks Brevo to
	// call the gateway when it finishes (notifyUrl, carrying the install's
	// secret), and the loader learns it without polling GET /processes,
	// whose budget is 100 calls an hour; polling stays the fallback. Empty
	// (default): the loader polls. https, or http to loopback only; read by
	// the loader, which builds the URL.
	PublicURL string `yaml:"public_url"`
}

// Sync says which Braze resources are synced. In the file each resource is
// either true/false or a mapping ({enabled, interval, ...}). Users,
// catalogs, campaigns and Canvases are synced; Notices names the other
// resources switched on.
type Sync struct {
	Users     UsersSync     `yaml:"users"`
	Campaigns AnalyticsSync `yaml:"campaigns"`
	Canvases  AnalyticsSync `yaml:"canvases"`
	Segments  SegmentsSync  `yaml:"segments"`
	Events    Toggle        `yaml:"events"`
	Catalogs  CatalogsSync  `yaml:"catalogs"`
}

// UsersSync configures the user export.
type UsersSync struct {
	Enabled   bool          `yaml:"enabled"`    // default true
	SegmentID string        `yaml:"segment_id"` // Braze segment to export; empty: the whole user base segment the extractor chooses
	Interval  time.Duration `yaml:"interval"`   // between incremental runs; default 15m
	FullEvery time.Duration `yaml:"full_every"` // between full re-exports; default 24h
}

// Toggle is a Braze resource other than users: written true, false or
// {enabled, segment_id, interval}. None of them is synced yet.
type Toggle struct {
	Enabled   bool          `yaml:"enabled"`    // default false
	SegmentID string        `yaml:"segment_id"` // Braze segment the resource is read for
	Interval  time.Duration `yaml:"interval"`   // between syncs of the resource
}

// Brevo configures the Brevo side.
type Brevo struct {
	// Enabled false stops the Brevo side: tajo run and the loader refuse to
	// run (nothing else writes anywhere). Default true.
	Enabled bool   `yaml:"enabled"`
	APIURL  string `yaml:"api_url"` // default https://api.brevo.com/v3; same scheme rules as InstanceURL
	// ListIDs are Brevo lists every synced contact is added to.
	ListIDs []ListID `yaml:"list_ids"`
	// CampaignStatistics reads Brevo's own email campaign statistics with
	// the campaign analytics, to show them beside Braze's in
	// `tajo connectors report`. Default false.
	CampaignStatistics bool `yaml:"campaign_statistics"`
	// TwoWay configures the Brevo → Braze direction (twoway.go).
	TwoWay TwoWay `yaml:"two_way"`
}

// ListID is a Brevo list id: a positive integer.
type ListID int64

// NATS says where the bus is.
type NATS struct {
	URL      string `yaml:"url"`       // empty: start an embedded server
	StoreDir string `yaml:"store_dir"` // embedded server's JetStream directory; default Home()/nats
	// Replicas of every stream and bucket: 1 on a single server (default),
	// 3 on a three-node cluster. Streams that exist keep theirs.
	Replicas int `yaml:"replicas"`
}

// The pipeline's defaults, decided here: Default and Validate's hints say
// them, and the loader and the transformer fall back on them when they are
// built without a configuration file. max_import_bytes defaults to
// brevo.DefaultImportMaxBytes.
const (
	DefaultBatchSize       = 30_000
	DefaultBatchWait       = time.Second
	DefaultImportThreshold = 50
	DefaultConcurrency     = 2
)

// Pipeline tunes batching towards Brevo.
type Pipeline struct {
	BatchSize       int           `yaml:"batch_size"`       // most contact upserts per loader batch; imports are filled by bytes (max_import_bytes), so this binds only for small rows; default 30000
	BatchWait       time.Duration `yaml:"batch_wait"`       // longest wait to fill a loader batch; default 1s
	ImportThreshold int           `yaml:"import_threshold"` // from this many pending contacts, use /contacts/import; default 50
	MaxImportBytes  int           `yaml:"max_import_bytes"` // body size of one import (Brevo takes 10 MB); default 8000000
	Concurrency     int           `yaml:"concurrency"`      // transformer batches handled at once; default 2
}

// Default returns the configuration used when the file says nothing.
func Default() *Config {
	return &Config{
		Connectors: Connectors{
			Braze: Braze{
				Enabled:    true,
				APIVersion: "v1",
				LogLevel:   "info",
				Sync: Sync{
					Users:     UsersSync{Enabled: true, Interval: 15 * time.Minute, FullEvery: 24 * time.Hour},
					Campaigns: defaultAnalyticsSync(),
					Canvases:  defaultAnalyticsSync(),
					Catalogs:  defaultCatalogsSync(),
					Segments:  SegmentsSync{Interval: defaultSegmentsInterval, Folder: DefaultSegmentsFolder},
				},
				Lists:              map[string]ListID{},
				FieldMapping:       mapping.DefaultFieldMapping(),
				FieldTypes:         map[string]string{},
				DefaultPhoneRegion: "US",
				EventMapping:       map[string]string{},
			},
			Brevo: Brevo{Enabled: true, APIURL: "https://api.brevo.com/v3", ListIDs: []ListID{}, TwoWay: defaultTwoWay()},
		},
		NATS:    NATS{StoreDir: filepath.Join(Home(), "nats"), Replicas: 1},
		Gateway: Gateway{Listen: "127.0.0.1:8080"},
		Pipeline: Pipeline{
			BatchSize:       DefaultBatchSize,
			BatchWait:       DefaultBatchWait,
			ImportThreshold: DefaultImportThreshold,
			MaxImportBytes:  brevo.DefaultImportMaxBytes,
			Concurrency:     DefaultConcurrency,
		},
	}
}

// MappingOptions returns the mapping.Options this configuration describes.
func (c *Config) MappingOptions() mapping.Options {
	return mapping.Options{
		Fields:        c.forwardFields(),
		Types:         c.Connectors.Braze.FieldTypes,
		DefaultRegion: c.Connectors.Braze.DefaultPhoneRegion,
	}
}
