package config

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/twoway"
)

// TwoWay configures the Brevo → Braze direction (connectors.brevo.two_way):
// Brevo's changes to the fields given a direction other than
// braze_to_brevo, its unsubscribes and (propagate_deletes) its deletions
// reach Braze; see pkg/twoway.
type TwoWay struct {
	// Enabled turns the Brevo → Braze direction on (false).
	Enabled bool `yaml:"enabled"`
	// PollInterval is the time between polls of GET /contacts?modifiedSince
	// (1m). Webhooks, when registered, bring changes sooner.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Overlap is how far before the previous poll's start each poll reads
	// again (2m): changes in flight and clock skew.
	Overlap time.Duration `yaml:"overlap"`
	// APIKeyName is the name of the connector's Brevo API key (Brevo >
	// SMTP & API > API keys): webhook events naming it are the connector's
	// own writes. Empty: only the comparison with what was written
	// recognises them.
	APIKeyName string `yaml:"api_key_name"`
	// Conflict is the policy of fields synced both ways that give none:
	// newest_wins (default), braze_wins, brevo_wins.
	Conflict string `yaml:"conflict"`
	// Fields gives, by Braze field (a key of field_mapping), a direction
	// (braze_to_brevo, brevo_to_braze, both) or {direction, conflict}.
	// Fields not listed travel Braze → Brevo only.
	Fields map[string]FieldRule `yaml:"fields"`
	// SubscriptionGroupID is a Braze subscription group a Brevo
	// unsubscribe also leaves ("": /email/status alone).
	SubscriptionGroupID string `yaml:"subscription_group_id"`
	// PropagateDeletes deletes the Braze user of a contact deleted in
	// Brevo (false: the deletion is reported in the DLQ as
	// deleted_in_brevo, and nothing is deleted).
	PropagateDeletes bool `yaml:"propagate_deletes"`
}

// FieldRule is one field's direction and conflict policy; in the file a
// direction alone (first_name: both) or a mapping ({direction: both,
// conflict: brevo_wins}).
type FieldRule struct {
	Direction string `yaml:"direction"`
	Conflict  string `yaml:"conflict"`
}

var fieldRuleType = reflect.TypeOf(FieldRule{})

func defaultTwoWay() TwoWay {
	return TwoWay{PollInterval: time.Minute, Overlap: 2 * time.Minute, Conflict: string(twoway.NewestWins),
		Fields: map[string]FieldRule{}}
}

// TwoWayOptions are the two-way sync's options this configuration describes.
func (c *Config) TwoWayOptions() twoway.Options {
	t := c.Connectors.Brevo.TwoWay
	fields := make(map[string]twoway.Rule, len(t.Fields))
	for k, r := range t.Fields {
		fields[k] = twoway.Rule{Direction: twoway.Direction(r.Direction), Conflict: twoway.Conflict(r.Conflict)}
	}
	return twoway.Options{
		FieldMapping: c.Connectors.Braze.FieldMapping, FieldTypes: c.Connectors.Braze.FieldTypes,
		Fields: fields, Conflict: twoway.Conflict(t.Conflict), SubscriptionGroupID: t.SubscriptionGroupID,
		PropagateDeletes: t.PropagateDeletes, APIKeyName: t.APIKeyName,
	}
}

// TwoWayPolicy is the two-way sync's policy, or nil when it is off.
func (c *Config) TwoWayPolicy() (*twoway.Policy, error) {
	if !c.Connectors.Brevo.TwoWay.Enabled {
		return nil, nil
	}
	return twoway.NewPolicy(c.TwoWayOptions())
}

// forwardFields is field_mapping as the Braze → Brevo direction maps it:
// without the fields that travel Brevo → Braze only.
func (c *Config) forwardFields() map[string]string {
	if !c.Connectors.Brevo.TwoWay.Enabled {
		return c.Connectors.Braze.FieldMapping
	}
	return twoway.ForwardMapping(c.Connectors.Braze.FieldMapping, c.TwoWayOptions().Fields)
}

// checkTwoWay validates connectors.brevo.two_way, whether it is on or not
// (a file switching it on later must not then fail).
func (c *Config) checkTwoWay(report func(path, msg string)) {
	t := c.Connectors.Brevo.TwoWay
	const tp = "connectors.brevo.two_way"
	if t.PollInterval <= 0 {
		report(tp+".poll_interval", fmt.Sprintf("must be a positive duration such as 1m (got %s)", t.PollInterval))
	}
	if t.Overlap <= 0 {
		report(tp+".overlap", fmt.Sprintf("must be a positive duration such as 2m (got %s)", t.Overlap))
	}
	if _, err := mapping.New(mapping.Options{Fields: c.Connectors.Braze.FieldMapping, Types: c.Connectors.Braze.FieldTypes}); err != nil {
		return // field_mapping's own problems are reported by checkMapping
	}
	_, err := twoway.NewPolicy(c.TwoWayOptions())
	var fe twoway.FieldErrors
	switch {
	case errors.As(err, &fe):
		for _, e := range fe {
			if e.Field == "(default)" {
				report(tp+".conflict", e.Msg)
				continue
			}
			report(tp+".fields."+e.Field, e.Msg)
		}
	case err != nil:
		report(tp, err.Error())
	}
}
