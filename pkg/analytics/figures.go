// Package analytics keeps the campaign and Canvas statistics read from
// Braze, and Brevo's own email campaign statistics, in the tajo_analytics
// bucket, and builds the report `tajo connectors report` and the control
// API show.
//
// Keys (a KV bucket keeps one value per key, so a re-read replaces):
//
//	day.<kind>.<id>.<YYYYMMDD>   Day: one campaign's or Canvas's figures of one day
//	meta.<kind>.<id>             Meta: its name, dates and what was read of it
//	brevo.<id>                   BrevoCampaign: a Brevo email campaign's statistics
//
// kind is "campaign" or "canvas"; ids that are not plain tokens are hex
// encoded. Figures are normalized across channels (Figures).
package analytics

import (
	"github.com/tajo-sync/tajo/pkg/braze"
)

// Kinds of what is tracked.
const (
	KindCampaign = "campaign"
	KindCanvas   = "canvas"
)

// Figures are the statistics the report shows, summed across channels:
// email counts unique opens and clicks; push counts direct opens and body
// clicks (delivered: sent less bounces); in-app messages count
// impressions as opens; SMS and webhooks count sends and deliveries.
type Figures struct {
	Sent         int64   `msgpack:"sent" json:"sent"`
	Delivered    int64   `msgpack:"delivered" json:"delivered"`
	Opens        int64   `msgpack:"opens" json:"opens"`
	Clicks       int64   `msgpack:"clicks" json:"clicks"`
	Unsubscribes int64   `msgpack:"unsubscribes" json:"unsubscribes"`
	Bounces      int64   `msgpack:"bounces" json:"bounces"`
	Conversions  int64   `msgpack:"conversions" json:"conversions"`
	Revenue      float64 `msgpack:"revenue" json:"revenue"`
	// Entries are Canvas entries (0 for campaigns).
	Entries int64 `msgpack:"entries,omitempty" json:"entries,omitempty"`
}

// Add adds o to f.
func (f *Figures) Add(o Figures) {
	f.Sent += o.Sent
	f.Delivered += o.Delivered
	f.Opens += o.Opens
	f.Clicks += o.Clicks
	f.Unsubscribes += o.Unsubscribes
	f.Bounces += o.Bounces
	f.Conversions += o.Conversions
	f.Revenue += o.Revenue
	f.Entries += o.Entries
}

// FromMessages sums a day's per-channel message statistics.
func FromMessages(m braze.Messages) Figures {
	var f Figures
	for channel, variations := range m {
		for _, s := range variations {
			f.Add(channelFigures(channel, s))
		}
	}
	return f
}

func channelFigures(channel string, s braze.Stats) Figures {
	n := func(k string) int64 { return int64(s[k]) }
	f := Figures{Sent: n("sent"), Unsubscribes: n("unsubscribes"), Bounces: n("bounces")}
	switch {
	case channel == "email":
		f.Delivered, f.Opens, f.Clicks = n("delivered"), n("unique_opens"), n("unique_clicks")
	case isPush(channel):
		f.Delivered, f.Opens, f.Clicks = max(f.Sent-f.Bounces, 0), n("direct_opens"), n("body_clicks")
	case channel == "in_app_message" || channel == "trigger_in_app_message" || channel == "content_cards":
		f.Opens, f.Clicks = n("impressions"), n("clicks")
	default: // sms, whats_app, webhook, ...
		f.Delivered = n("delivered")
		if _, ok := s["delivered"]; !ok {
			f.Delivered = max(f.Sent-n("errors"), 0)
		}
	}
	return f
}

func isPush(channel string) bool {
	switch channel {
	case "ios_push", "android_push", "web_push", "kindle_push", "push":
		return true
	}
	return false
}

// CampaignDay normalizes one day of a campaign's data series.
func CampaignDay(d braze.CampaignDay) Figures {
	f := FromMessages(d.Messages)
	f.Conversions, f.Revenue = int64(d.Conversions), d.Revenue
	return f
}

// Breakdown is a Canvas step's or variant's figures of a day.
type Breakdown struct {
	Name    string  `msgpack:"name" json:"name"`
	Figures Figures `msgpack:"f" json:"figures"`
}

// CanvasDay normalizes one day of a Canvas's data series: entries,
// conversions and revenue from its totals, messages summed over its steps,
// and the figures of each step and variant.
func CanvasDay(d braze.CanvasDay) (Figures, map[string]Breakdown, map[string]Breakdown) {
	f := Figures{Entries: int64(d.TotalStats.Entries), Conversions: int64(d.TotalStats.Conversions), Revenue: d.TotalStats.Revenue}
	steps := make(map[string]Breakdown, len(d.StepStats))
	for id, s := range d.StepStats {
		m := FromMessages(s.Messages) // message figures only: no conversions, revenue or entries
		f.Add(m)
		m.Conversions, m.Revenue = int64(s.Conversions), s.Revenue
		steps[id] = Breakdown{Name: s.Name, Figures: m}
	}
	variants := make(map[string]Breakdown, len(d.VariantStats))
	for id, v := range d.VariantStats {
		variants[id] = Breakdown{Name: v.Name, Figures: Figures{Entries: int64(v.Entries), Conversions: int64(v.Conversions), Revenue: v.Revenue}}
	}
	return f, steps, variants
}
