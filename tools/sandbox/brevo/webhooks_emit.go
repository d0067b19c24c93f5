package brevo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Marketing webhooks fire on contact changes made by any means: the API
// (contacts, imports, list changes, events' contact properties), a person
// in Brevo's interface (EditContact, the admin API) or a merge. What fires:
//
//	contact_updated  an existing contact's attributes or identifiers changed;
//	                 content holds the changed attributes (new values, null
//	                 when erased); api_key_name names the API key the change
//	                 came through ("" when none did)
//	unsubscribed     emailBlacklisted turned true
//	list_addition    the contact joined lists (list_id); api_key_name as above
//	contact_deleted  the contact was deleted (or merged away)
//
// A contact created emits no contact_updated (Brevo has no creation event),
// and a change that changes nothing emits nothing. Payloads follow the API
// notes ({event, id, email, content, list_id, date, ts, api_key_name}),
// with id the contact's id. Deliveries are POSTed, with the webhook's
// bearer token and headers, after the change is made and outside the
// state lock: one event per request, or, for a batched webhook, an array
// of the events gathered over Config.WebhookBatchWait (at most 500). A
// delivery that fails is tried three times in all, then counted failed.

// maxWebhookBatch is the most events of one batched delivery (Brevo's).
const maxWebhookBatch = 500

// hookState is the registered webhooks.
type hookState struct {
	all  []*webhook
	next int64
}

// WebhookStats counts webhook deliveries.
type WebhookStats struct {
	Events    int `json:"events"`    // events queued for delivery
	Delivered int `json:"delivered"` // requests answered 2xx
	Failed    int `json:"failed"`    // requests given up after three tries
}

// outbox holds the deliveries waiting, apart from the state lock.
type outbox struct {
	mu      sync.Mutex
	pending map[*webhook][]map[string]any
	wake    chan struct{}
	stats   WebhookStats
	stop    chan struct{}
	done    chan struct{}
	client  *http.Client
	wait    time.Duration
	started sync.Once // the delivery goroutine starts with the first event
}

func newOutbox(wait, timeout time.Duration) *outbox {
	return &outbox{pending: map[*webhook][]map[string]any{}, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}), client: &http.Client{Timeout: timeout}, wait: wait}
}

func (o *outbox) enqueue(h *webhook, ev map[string]any) {
	o.started.Do(func() { go o.run() })
	o.mu.Lock()
	o.pending[h] = append(o.pending[h], ev)
	o.stats.Events++
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// run delivers until close: batched webhooks after gathering for wait.
func (o *outbox) run() {
	defer close(o.done)
	for {
		select {
		case <-o.stop:
			o.flush(true)
			return
		case <-o.wake:
		}
		if o.wait > 0 {
			select {
			case <-time.After(o.wait):
			case <-o.stop:
			}
		}
		o.flush(false)
	}
}

// flush sends everything pending; last stops retrying at once.
func (o *outbox) flush(last bool) {
	o.mu.Lock()
	work := o.pending
	o.pending = map[*webhook][]map[string]any{}
	o.mu.Unlock()
	for h, events := range work {
		if h.batched {
			for chunk := range slices.Chunk(events, maxWebhookBatch) {
				o.send(h, chunk, last)
			}
			continue
		}
		for _, ev := range events {
			o.send(h, ev, last)
		}
	}
}

func (o *outbox) send(h *webhook, payload any, last bool) {
	body, _ := json.Marshal(payload)
	for attempt := 1; attempt <= 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), o.client.Timeout)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("User-Agent", "sendinblue-webhooks (tajo sandbox)")
			if h.authType == "bearer" {
				req.Header.Set("Authorization", "Bearer "+h.authToken)
			}
			for _, hd := range h.headers {
				req.Header.Set(hd.Key, hd.Value)
			}
			var resp *http.Response
			if resp, err = o.client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					cancel()
					o.mu.Lock()
					o.stats.Delivered++
					o.mu.Unlock()
					return
				}
			}
		}
		cancel()
		if last {
			break
		}
		time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
	}
	o.mu.Lock()
	o.stats.Failed++
	o.mu.Unlock()
}

// close delivers what is pending (one try each) and stops.
func (o *outbox) close() {
	o.started.Do(func() { close(o.done) }) // never started: nothing to wait for
	select {
	case <-o.stop:
	default:
		close(o.stop)
	}
	<-o.done
}

func (o *outbox) snapshot() WebhookStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stats
}

// WebhookStats reports the webhook deliveries so far.
func (s *Server) WebhookStats() WebhookStats { return s.out.snapshot() }

// contactChanged turns one change of the contact at idx into webhook
// events; call with the lock held. before is the contact as it was (zero
// with created true for a new one).
func (s *Server) contactChanged(idx int, before *contact, created bool) {
	if len(s.hooks.all) == 0 {
		return
	}
	after := &s.st.contacts[idx]
	now := s.cfg.Now()
	base := func(event string) map[string]any {
		email := after.email
		if email == "" {
			email = before.email
		}
		return map[string]any{"event": event, "id": int64(idx) + 1, "email": email,
			"date": now.UTC().Format(time.DateTime), "ts": now.Unix()}
	}
	var events []map[string]any
	if !created {
		content := map[string]any{}
		old, cur := map[uint16]string{}, map[uint16]string{}
		for _, kv := range decodeAttrs(before.attrs) {
			old[kv.id] = kv.value
		}
		for _, kv := range decodeAttrs(after.attrs) {
			cur[kv.id] = kv.value
			if v, ok := old[kv.id]; !ok || v != kv.value {
				content[s.attrs[kv.id].name] = s.attrs[kv.id].render(kv.value)
			}
		}
		for id := range old {
			if _, ok := cur[id]; !ok {
				content[s.attrs[id].name] = nil
			}
		}
		for _, x := range []struct{ name, was, is string }{
			{attrEmail, before.email, after.email}, {attrSMS, before.sms, after.sms}, {attrExtID, before.extID, after.extID},
		} {
			if x.was != x.is {
				content[x.name] = x.is
			}
		}
		if len(content) > 0 {
			ev := base("contact_updated")
			ev["content"] = content
			ev["api_key_name"] = s.actor
			events = append(events, ev)
		}
	}
	if after.flags&flagEmailBlacklisted != 0 && (created || before.flags&flagEmailBlacklisted == 0) {
		events = append(events, base("unsubscribed"))
	}
	var added []int64
	for _, l := range after.lists {
		if created || !slices.Contains(before.lists, l) {
			added = append(added, int64(l))
		}
	}
	if len(added) > 0 {
		ev := base("list_addition")
		ev["list_id"] = added
		ev["api_key_name"] = s.actor
		events = append(events, ev)
	}
	s.emit(events...)
}

// contactRemoved emits contact_deleted; call with the lock held.
func (s *Server) contactRemoved(idx int, before *contact) {
	if len(s.hooks.all) == 0 {
		return
	}
	now := s.cfg.Now()
	s.emit(map[string]any{"event": "contact_deleted", "id": int64(idx) + 1, "email": before.email,
		"date": now.UTC().Format(time.DateTime), "ts": now.Unix()})
}

// emit queues events for every marketing webhook subscribed to them.
func (s *Server) emit(events ...map[string]any) {
	for _, ev := range events {
		name := map[string]string{"contact_updated": EventContactUpdated, "contact_deleted": EventContactDeleted,
			"unsubscribed": EventUnsubscribed, "list_addition": EventListAddition}[ev["event"].(string)]
		for _, h := range s.hooks.all {
			if h.typ == "marketing" && slices.Contains(h.events, name) {
				s.out.enqueue(h, ev)
			}
		}
	}
}
