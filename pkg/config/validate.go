package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
)

// brevoMaxImportBytes is Brevo's limit on a /contacts/import body.
const brevoMaxImportBytes = 10_000_000

var logLevels = []string{"error", "warn", "info", "debug", "verbose"}

// fillDefaults replaces values the file set to empty where empty has no
// meaning of its own.
func (c *Config) fillDefaults() {
	b := &c.Connectors.Braze
	if b.APIVersion == "" {
		b.APIVersion = "v1"
	}
	if b.LogLevel == "" {
		b.LogLevel = "info"
	}
	if b.DefaultPhoneRegion == "" {
		b.DefaultPhoneRegion = "US"
	}
	if c.NATS.StoreDir == "" {
		c.NATS.StoreDir = filepath.Join(Home(), "nats")
	}
	c.fillSegments()
}

// normalize writes URLs in full once they are known to be valid.
func (c *Config) normalize() {
	if u, err := BrazeInstanceURL(c.Connectors.Braze.InstanceURL); err == nil && u != "" {
		c.Connectors.Braze.InstanceURL = u
	}
	if u, err := BrevoAPIURL(c.Connectors.Brevo.APIURL); err == nil && u != "" {
		c.Connectors.Brevo.APIURL = u
	}
	if u, err := GatewayPublicURL(c.Gateway.PublicURL); err == nil && u != "" {
		c.Gateway.PublicURL = u
	}
	c.Connectors.Braze.DefaultPhoneRegion = strings.ToUpper(c.Connectors.Braze.DefaultPhoneRegion)
}

// check reports every semantic problem through report(path, message).
func (c *Config) check(report func(path, msg string)) {
	c.checkOperations(report)
	if err := c.Resilience.Validate(); err != nil {
		report("resilience", err.Error())
	}
	b := c.Connectors.Braze
	const bp = "connectors.braze"
	if b.Enabled && strings.TrimSpace(b.InstanceURL) == "" {
		report(bp+".instance_url", "required when the Braze connector is enabled: the REST endpoint of your instance, such as rest.iad-01.braze.com (Braze dashboard > Settings > APIs and Identifiers)")
	} else if _, err := BrazeInstanceURL(b.InstanceURL); err != nil {
		report(bp+".instance_url", err.Error())
	}
	if b.APIVersion != "v1" {
		report(bp+".api_version", fmt.Sprintf("only v1 exists: Braze's REST API has one version, which tajo calls (got %q); write v1 or leave it out", b.APIVersion))
	}
	if !contains(logLevels, b.LogLevel) {
		report(bp+".log_level", fmt.Sprintf("unknown log level %q; use one of %s", b.LogLevel, strings.Join(logLevels, ", ")))
	}
	u := b.Sync.Users
	if u.Interval <= 0 {
		report(bp+".sync.users.interval", fmt.Sprintf("must be a positive duration such as 15m (got %s)", u.Interval))
	}
	if u.FullEvery <= 0 {
		report(bp+".sync.users.full_every", fmt.Sprintf("must be a positive duration such as 24h (got %s)", u.FullEvery))
	} else if u.Interval > 0 && u.FullEvery < u.Interval {
		report(bp+".sync.users.full_every", fmt.Sprintf("must not be shorter than sync.users.interval (%s < %s)", u.FullEvery, u.Interval))
	}
	for _, r := range []struct {
		key string
		t   Toggle
	}{{"events", b.Sync.Events}} {
		if r.t.Interval < 0 {
			report(bp+".sync."+r.key+".interval", fmt.Sprintf("must not be negative (got %s)", r.t.Interval))
		}
	}
	c.checkSegments(report)
	for seg, id := range b.Lists {
		if id <= 0 {
			report(bp+".lists."+seg, fmt.Sprintf("%s (got %d); use the numeric id shown in Brevo > Contacts > Lists", msgListID, id))
		}
	}
	c.checkMapping(report)
	c.checkResources(report)
	c.checkTwoWay(report)

	v := c.Connectors.Brevo
	const vp = "connectors.brevo"
	if v.Enabled && strings.TrimSpace(v.APIURL) == "" {
		report(vp+".api_url", "required when the Brevo connector is enabled (default https://api.brevo.com/v3)")
	} else if _, err := BrevoAPIURL(v.APIURL); err != nil {
		report(vp+".api_url", err.Error())
	}
	for i, id := range v.ListIDs {
		if id <= 0 {
			report(fmt.Sprintf("%s.list_ids[%d]", vp, i), fmt.Sprintf("%s (got %d); use the numeric id shown in Brevo > Contacts > Lists", msgListID, id))
		}
	}

	if _, err := GatewayPublicURL(c.Gateway.PublicURL); err != nil {
		report("gateway.public_url", err.Error())
	}

	if err := checkNATSURL(c.NATS.URL); err != nil {
		report("nats.url", err.Error())
	}

	p := c.Pipeline
	positive := func(key string, n int, hint string) {
		if n <= 0 {
			report("pipeline."+key, fmt.Sprintf("must be a positive integer (got %d); %s", n, hint))
		}
	}
	positive("batch_size", p.BatchSize, fmt.Sprintf("default %d", DefaultBatchSize))
	positive("concurrency", p.Concurrency, fmt.Sprintf("default %d", DefaultConcurrency))
	positive("max_import_bytes", p.MaxImportBytes, fmt.Sprintf("default %d", brevo.DefaultImportMaxBytes))
	if p.MaxImportBytes > brevoMaxImportBytes {
		report("pipeline.max_import_bytes", fmt.Sprintf("must be at most %d, Brevo's limit on an import body (got %d)", brevoMaxImportBytes, p.MaxImportBytes))
	}
	if p.ImportThreshold < 0 {
		report("pipeline.import_threshold", fmt.Sprintf("must be zero or more (got %d); default %d", p.ImportThreshold, DefaultImportThreshold))
	}
	if p.BatchWait <= 0 {
		report("pipeline.batch_wait", fmt.Sprintf("must be a positive duration such as 1s (got %s)", p.BatchWait))
	} else if p.BatchWait > time.Minute {
		report("pipeline.batch_wait", fmt.Sprintf("must be at most 1m: messages wait this long before a partial batch goes out (got %s)", p.BatchWait))
	}
}

// checkMapping lets the mapping package judge field_mapping, field_types
// and default_phone_region, and points its errors at the keys concerned.
func (c *Config) checkMapping(report func(path, msg string)) {
	_, err := mapping.New(c.MappingOptions())
	var errs mapping.OptionErrors
	if !errors.As(err, &errs) {
		if err != nil {
			report("connectors.braze.field_mapping", err.Error())
		}
		return
	}
	for _, e := range errs {
		switch e.Option {
		case "Fields":
			report("connectors.braze.field_mapping."+e.Key, e.Msg)
		case "Types":
			report("connectors.braze.field_types."+e.Key, e.Msg)
		default:
			report("connectors.braze.default_phone_region", e.Msg)
		}
	}
}

// checkNATSURL accepts what nats.Connect accepts: a comma-separated list of
// nats://, tls://, ws:// or wss:// URLs. Empty means the embedded server.
func checkNATSURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	for _, part := range strings.Split(raw, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil || u.Host == "" {
			return fmt.Errorf("not a NATS URL (got %q); example: nats://localhost:4222, or leave empty for the embedded server", part)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("scheme must be nats, tls, ws or wss (got %q)", part)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
