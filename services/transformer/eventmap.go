package transformer

import (
	"maps"
	"strings"
)

// NameFromEvent as a mapping's value takes the event's own name: a custom
// event's name, or handleEvent's payload.name.
const NameFromEvent = "{name}"

// DefaultEventMapping is the Brevo event name of every Braze event type
// Currents sends for email, push and SMS engagement, conversions, Canvas
// entries and steps, subscription changes, custom events and purchases,
// and of handleEvent's user.event. A type missing here is still written,
// as "braze_" and its type (Braze adds types without notice).
func DefaultEventMapping() map[string]string {
	return map[string]string{
		"users.messages.email.Send":                      "email_sent",
		"users.messages.email.Delivery":                  "email_delivered",
		"users.messages.email.Open":                      "email_opened",
		"users.messages.email.Click":                     "email_clicked",
		"users.messages.email.Bounce":                    "email_bounced",
		"users.messages.email.SoftBounce":                "email_soft_bounced",
		"users.messages.email.MarkAsSpam":                "email_marked_as_spam",
		"users.messages.email.Unsubscribe":               "email_unsubscribed",
		"users.messages.pushnotification.Send":           "push_sent",
		"users.messages.pushnotification.Open":           "push_opened",
		"users.messages.pushnotification.Bounce":         "push_bounced",
		"users.messages.sms.Send":                        "sms_sent",
		"users.messages.sms.Delivery":                    "sms_delivered",
		"users.messages.sms.Rejection":                   "sms_rejected",
		"users.messages.sms.DeliveryFailure":             "sms_delivery_failed",
		"users.messages.sms.ShortLinkClick":              "sms_clicked",
		"users.messages.sms.InboundReceive":              "sms_inbound_received",
		"users.campaigns.Conversion":                     "campaign_conversion",
		"users.canvas.Entry":                             "canvas_entered",
		"users.canvas.Conversion":                        "canvas_conversion",
		"users.canvasstep.Progression":                   "canvas_step_progressed",
		"users.behaviors.subscription.GlobalStateChange": "subscription_changed",
		"users.behaviors.CustomEvent":                    NameFromEvent,
		"users.behaviors.Purchase":                       "purchase",
		"user.event":                                     NameFromEvent,
	}
}

// eventNames is the defaults with the configured entries over them.
func eventNames(configured map[string]string) map[string]string {
	m := DefaultEventMapping()
	maps.Copy(m, configured)
	return m
}

// brevoToken makes s a valid Brevo event name or property key: at most 255
// of [A-Za-z0-9_-], anything else replaced by '_'.
func brevoToken(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 255 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// unknownName is the Brevo name of a type the mapping does not know.
func unknownName(eventType string) string {
	if eventType == "" {
		return "braze_event"
	}
	return brevoToken("braze_" + strings.ToLower(eventType))
}
