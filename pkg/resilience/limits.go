package resilience

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidConfig is wrapped by every validation error of this package.
var ErrInvalidConfig = errors.New("resilience: invalid config")

// Brevo plans, which set the per-second limits of contacts and events.
const (
	PlanGeneral    = "general"
	PlanPro        = "pro"
	PlanEnterprise = "enterprise"
)

// Limits are the vendors' rate limits as this process must honour them.
// Zero fields take the documented defaults (API-NOTES.md).
type Limits struct {
	// Replicas is how many processes share each budget; each takes 1/N of
	// every limit. Default 1.
	Replicas int `yaml:"replicas"`
	// Headroom is the fraction of a paced (sub-hour) limit actually used:
	// the gap it leaves absorbs network jitter that would otherwise push
	// one request too many into a vendor window. Default 0.95; (0, 1].
	Headroom float64 `yaml:"headroom"`
	// SpreadBelow is the fraction of a window's budget below which the
	// remaining budget the vendor reports is spread over the time left.
	// Default 0.5; [0, 1]. Set it to 1 to always spread.
	SpreadBelow float64 `yaml:"spread_below"`

	Braze BrazeLimits `yaml:"braze"`
	Brevo BrevoLimits `yaml:"brevo"`
}

// BrazeLimits are Braze's per-endpoint budgets (requests per window).
type BrazeLimits struct {
	// UsersTrackPer3s: POST /users/track. Default 3,000 (contract dependent).
	UsersTrackPer3s int `yaml:"users_track_per_3s"`
	// ExportIDsPerMinute: /users/export/ids. Default 250 (accounts onboarded
	// since 2024-08-22; older ones have 2,500).
	ExportIDsPerMinute int `yaml:"export_ids_per_minute"`
	// IdentityPerMinute: /users/delete, /users/alias/*, /users/identify and
	// /users/merge, shared. Default 20,000.
	IdentityPerMinute int `yaml:"identity_per_minute"`
	// DataSeriesPerMinute: /campaigns/data_series. Default 50,000.
	DataSeriesPerMinute int `yaml:"data_series_per_minute"`
	// SubscriptionPerMinute: /subscription/status/set (v1 and v2). Default 5,000.
	SubscriptionPerMinute int `yaml:"subscription_per_minute"`
	// EventListsPerHour: /events/list and /purchases/product_list, shared.
	// Default 1,000.
	EventListsPerHour int `yaml:"event_lists_per_hour"`
	// CatalogSyncPerMinute: synchronous catalog endpoints. Default 50.
	CatalogSyncPerMinute int `yaml:"catalog_sync_per_minute"`
	// DefaultPerHour: the pool every other endpoint shares, reset on the
	// clock hour. Default 250,000.
	DefaultPerHour int `yaml:"default_per_hour"`
}

// BrevoLimits are Brevo's budgets. Plan sets the per-second defaults of
// contacts and events: general 10, pro 20, enterprise 60.
type BrevoLimits struct {
	// Plan is general (default), pro or enterprise.
	Plan string `yaml:"plan"`
	// ContactsPerSecond: every /contacts endpoint. Default from Plan.
	ContactsPerSecond int `yaml:"contacts_per_second"`
	// ContactsPerHour: every /contacts endpoint. Default 36,000 on the
	// general plan; the docs give no hourly figure for higher plans, so
	// there it defaults to 3,600 x ContactsPerSecond (never binding): set it
	// if your contract has one.
	ContactsPerHour int `yaml:"contacts_per_hour"`
	// EventsPerSecond: POST /events. Default from Plan.
	EventsPerSecond int `yaml:"events_per_second"`
	// ProductsPerSecond: POST /products*. Default 2.
	ProductsPerSecond int `yaml:"products_per_second"`
	// OtherPerHour: every other endpoint (GET /processes/{id} among them).
	// Counted as one shared pool, the conservative reading of the docs and
	// what the sandbox enforces. Default 100.
	OtherPerHour int `yaml:"other_per_hour"`
}

// WithDefaults returns l with zero fields set to the documented defaults.
func (l Limits) WithDefaults() Limits {
	if l.Replicas == 0 {
		l.Replicas = 1
	}
	if l.Headroom == 0 {
		l.Headroom = 0.95
	}
	if l.SpreadBelow == 0 {
		l.SpreadBelow = 0.5
	}
	b := &l.Braze
	setDefault(&b.UsersTrackPer3s, 3000)
	setDefault(&b.ExportIDsPerMinute, 250)
	setDefault(&b.IdentityPerMinute, 20_000)
	setDefault(&b.DataSeriesPerMinute, 50_000)
	setDefault(&b.SubscriptionPerMinute, 5000)
	setDefault(&b.EventListsPerHour, 1000)
	setDefault(&b.CatalogSyncPerMinute, 50)
	setDefault(&b.DefaultPerHour, 250_000)

	v := &l.Brevo
	if v.Plan == "" {
		v.Plan = PlanGeneral
	}
	rps := map[string]int{PlanGeneral: 10, PlanPro: 20, PlanEnterprise: 60}[v.Plan]
	setDefault(&v.ContactsPerSecond, rps)
	setDefault(&v.EventsPerSecond, rps)
	if v.Plan == PlanGeneral {
		setDefault(&v.ContactsPerHour, 36_000)
	} else {
		setDefault(&v.ContactsPerHour, 3600*v.ContactsPerSecond)
	}
	setDefault(&v.ProductsPerSecond, 2)
	setDefault(&v.OtherPerHour, 100)
	return l
}

func setDefault(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

// Validate reports the first field out of range, after defaults.
func (l Limits) Validate() error {
	l = l.WithDefaults()
	switch {
	case l.Replicas < 1:
		return fmt.Errorf("%w: limits.replicas %d: set the number of replicas sharing the vendor budgets (>= 1)", ErrInvalidConfig, l.Replicas)
	case l.Headroom <= 0 || l.Headroom > 1:
		return fmt.Errorf("%w: limits.headroom %g: use a fraction in (0, 1], e.g. 0.95", ErrInvalidConfig, l.Headroom)
	case l.SpreadBelow < 0 || l.SpreadBelow > 1:
		return fmt.Errorf("%w: limits.spread_below %g: use a fraction in [0, 1], e.g. 0.5", ErrInvalidConfig, l.SpreadBelow)
	case l.Brevo.Plan != PlanGeneral && l.Brevo.Plan != PlanPro && l.Brevo.Plan != PlanEnterprise:
		return fmt.Errorf("%w: limits.brevo.plan %q: use general, pro or enterprise", ErrInvalidConfig, l.Brevo.Plan)
	}
	for _, v := range l.specs() {
		for _, s := range v {
			for _, w := range s.windows {
				if w.max < 0 {
					return fmt.Errorf("%w: limit of bucket %s is %d per %v: use a positive number (or 0 for the default)", ErrInvalidConfig, s.name, w.max, w.period)
				}
			}
		}
	}
	return nil
}

// window is one documented limit: max requests per period.
type window struct {
	max    int
	period time.Duration
}

// bucketSpec names a bucket and its limits.
type bucketSpec struct {
	name    string
	windows []window
}

// specs are the buckets of each vendor after defaults.
func (l Limits) specs() map[string][]bucketSpec {
	l = l.WithDefaults()
	b, v := l.Braze, l.Brevo
	return map[string][]bucketSpec{
		VendorBraze: {
			{bucketBrazeTrack, []window{{b.UsersTrackPer3s, 3 * time.Second}}},
			{bucketBrazeExportIDs, []window{{b.ExportIDsPerMinute, time.Minute}}},
			{bucketBrazeIdentity, []window{{b.IdentityPerMinute, time.Minute}}},
			{bucketBrazeDataSeries, []window{{b.DataSeriesPerMinute, time.Minute}}},
			{bucketBrazeSubscription, []window{{b.SubscriptionPerMinute, time.Minute}}},
			{bucketBrazeEventLists, []window{{b.EventListsPerHour, time.Hour}}},
			{bucketBrazeCatalogSync, []window{{b.CatalogSyncPerMinute, time.Minute}}},
			{bucketBrazeDefault, []window{{b.DefaultPerHour, time.Hour}}},
		},
		VendorBrevo: {
			{bucketBrevoContacts, []window{{v.ContactsPerSecond, time.Second}, {v.ContactsPerHour, time.Hour}}},
			{bucketBrevoEvents, []window{{v.EventsPerSecond, time.Second}}},
			{bucketBrevoProducts, []window{{v.ProductsPerSecond, time.Second}}},
			{bucketBrevoOther, []window{{v.OtherPerHour, time.Hour}}},
		},
	}
}
