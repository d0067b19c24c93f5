package currents

import (
	"fmt"
	"math/rand/v2"
	"time"
)

var totalWeight = func() int {
	n := 0
	for _, t := range Types {
		n += t.Weight
	}
	return n
}()

// isUnknown reports a type of UnknownTypes.
func isUnknown(t string) bool {
	for _, u := range UnknownTypes {
		if u == t {
			return true
		}
	}
	return false
}

// draw makes the n-th event.
func draw(rng *rand.Rand, cfg Config, n int) Event {
	u := cfg.Users[rng.IntN(len(cfg.Users))]
	ev := Event{
		ID:   fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(cfg.Seed), n>>16&0xffff, n>>4&0xfff, n&0xf, rng.Uint64()&0xffffffffffff),
		Time: time.Now().Unix(),
		User: EventUser{UserID: u.BrazeID, ExternalUserID: u.ExternalID, Timezone: "America/New_York"},
	}
	if rng.Float64() < cfg.UnknownRate {
		ev.Type = UnknownTypes[rng.IntN(len(UnknownTypes))]
		ev.NewField = map[string]any{"added": "later"}
		ev.Properties = map[string]any{"campaign_id": "camp-unknown", "some_new_property": rng.IntN(100)}
		return ev
	}
	w := rng.IntN(totalWeight)
	for _, t := range Types {
		if w < t.Weight {
			ev.Type = t.Name
			break
		}
		w -= t.Weight
	}
	camp := rng.IntN(20)
	p := map[string]any{
		"campaign_id":          fmt.Sprintf("camp-%02d", camp),
		"campaign_name":        fmt.Sprintf("Campaign %d", camp),
		"message_variation_id": fmt.Sprintf("var-%02d-%d", camp, rng.IntN(2)),
		"send_id":              fmt.Sprintf("send-%d", rng.IntN(1000)),
	}
	switch ev.Type {
	case "users.canvas.Entry", "users.canvas.Conversion", "users.canvasstep.Progression":
		cv := rng.IntN(5)
		p = map[string]any{"canvas_id": fmt.Sprintf("canvas-%d", cv), "canvas_name": fmt.Sprintf("Canvas %d", cv),
			"canvas_variation_id": fmt.Sprintf("cvar-%d", rng.IntN(2)), "canvas_step_id": fmt.Sprintf("step-%d", rng.IntN(4))}
	case "users.messages.email.Click":
		p["url"] = fmt.Sprintf("https://shop.example.com/p/%d", rng.IntN(100))
		p["link_id"] = fmt.Sprintf("link-%d", rng.IntN(10))
		p["is_suspected_bot_click"] = rng.IntN(20) == 0
	case "users.behaviors.subscription.GlobalStateChange":
		st := "Subscribed"
		if rng.IntN(2) == 0 {
			st = "Unsubscribed"
		}
		p = map[string]any{"channel": "email", "subscription_status": st, "state_change_source": "Subscription Center"}
	case "users.behaviors.CustomEvent":
		p = map[string]any{"name": []string{"product_viewed", "added_to_cart", "wishlist_added"}[rng.IntN(3)],
			"properties": map[string]any{"sku": fmt.Sprintf("SKU-%d", rng.IntN(50))}}
	}
	if u.Email != "" && (len(ev.Type) > 21 && ev.Type[:21] == "users.messages.email." || ev.Type == "users.behaviors.subscription.GlobalStateChange") {
		p["email_address"] = u.Email
	}
	ev.Properties = p
	return ev
}
