package brevo

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Webhook events the sandbox emits for marketing webhooks, as one
// subscribes to them (camelCase); payloads name them in snake_case.
const (
	EventContactUpdated = "contactUpdated"
	EventContactDeleted = "contactDeleted"
	EventUnsubscribed   = "unsubscribed"
	EventListAddition   = "listAddition"
)

// webhookEvents are the values createWebhook's events[] takes (Brevo's
// enum); the sandbox emits only the four contact events above and accepts
// the others, which simply never fire.
var webhookEvents = []string{"sent", "hardBounce", "softBounce", "blocked", "spam", "delivered", "request",
	"click", "invalid", "deferred", "opened", "uniqueOpened", EventUnsubscribed, EventListAddition,
	EventContactUpdated, EventContactDeleted, "inboundEmailProcessed"}

// webhook is one registered webhook.
type webhook struct {
	id          int64
	url         string
	description string
	events      []string
	typ         string // marketing | transactional | inbound
	batched     bool
	authType    string
	authToken   string
	headers     []webhookHeader
	created     time.Time
	modified    time.Time
}

type webhookHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type webhookAuth struct {
	Type  string `json:"type,omitempty"`
	Token string `json:"token,omitempty"`
}

// webhookView is a webhook as GET /webhooks returns it (getWebhook).
type webhookView struct {
	URL         string          `json:"url"`
	ID          int64           `json:"id"`
	Description string          `json:"description"`
	Events      []string        `json:"events"`
	Type        string          `json:"type"`
	CreatedAt   string          `json:"createdAt"`
	ModifiedAt  string          `json:"modifiedAt"`
	Batched     bool            `json:"batched"`
	Auth        *webhookAuth    `json:"auth,omitempty"`
	Headers     []webhookHeader `json:"headers,omitempty"`
}

func (h *webhook) view() webhookView {
	v := webhookView{URL: h.url, ID: h.id, Description: h.description, Events: slices.Clone(h.events), Type: h.typ,
		CreatedAt: h.created.UTC().Format(timeLayout), ModifiedAt: h.modified.UTC().Format(timeLayout),
		Batched: h.batched, Headers: h.headers}
	if h.authType != "" {
		v.Auth = &webhookAuth{Type: h.authType} // the token is a secret: never shown again
	}
	return v
}

// createWebhook serves POST /v3/webhooks.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	b, e := readBody(w, r, maxBody)
	if e != nil {
		writeError(w, e)
		return
	}
	h := &webhook{typ: "transactional"}
	var events []string
	var auth webhookAuth
	rawURL, _ := b.str("url")
	h.description, _ = b.str("description")
	b.take("events", "array of strings", &events)
	if t, ok := b.str("type"); ok {
		h.typ = t
	}
	if v := b.boolean("batched"); v != nil {
		h.batched = *v
	}
	b.take("auth", "object {type, token}", &auth)
	b.take("headers", "array of objects {key, value}", &h.headers)
	b.str("domain")
	if b.err != nil {
		writeError(w, b.err)
		return
	}
	u, err := url.Parse(rawURL)
	switch {
	case rawURL == "":
		writeError(w, missing("url is missing"))
		return
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		writeError(w, badRequest("url is not a valid URL"))
		return
	case len(events) == 0:
		writeError(w, missing("events is missing"))
		return
	case h.typ != "marketing" && h.typ != "transactional" && h.typ != "inbound":
		writeError(w, badRequest("type should be one of marketing, transactional, inbound"))
		return
	case auth.Type != "" && (auth.Type != "bearer" || auth.Token == ""):
		writeError(w, badRequest("auth: only {type: bearer, token} is supported"))
		return
	}
	for _, ev := range events {
		if !slices.Contains(webhookEvents, ev) {
			writeError(w, badRequest("events: %q is not a valid event", ev))
			return
		}
	}
	h.url, h.events, h.authType, h.authToken = rawURL, slices.Compact(slices.Sorted(slices.Values(events))), auth.Type, auth.Token
	now := s.lock()
	defer s.mu.Unlock()
	s.hooks.next++
	h.id, h.created, h.modified = s.hooks.next, now, now
	s.hooks.all = append(s.hooks.all, h)
	writeJSON(w, http.StatusCreated, map[string]int64{"id": h.id})
}

// listWebhooks serves GET /v3/webhooks (type defaults to transactional,
// as Brevo's).
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("type")
	if typ == "" {
		typ = "transactional"
	}
	asc := r.URL.Query().Get("sort") == "asc"
	s.lock()
	out := []webhookView{}
	for _, h := range s.hooks.all {
		if h.typ == typ {
			out = append(out, h.view())
		}
	}
	s.mu.Unlock()
	if !asc {
		slices.Reverse(out)
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": out})
}

func (s *Server) webhookByID(r *http.Request) (int, *apiError) {
	id, err := strconv.ParseInt(r.PathValue("webhookId"), 10, 64)
	if err != nil {
		return 0, badRequest("webhookId should be an integer")
	}
	for i, h := range s.hooks.all {
		if h.id == id {
			return i, nil
		}
	}
	return 0, notFound("Webhook not found")
}

// getWebhook serves GET /v3/webhooks/{webhookId}.
func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	s.lock()
	i, e := s.webhookByID(r)
	var v webhookView
	if e == nil {
		v = s.hooks.all[i].view()
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// deleteWebhook serves DELETE /v3/webhooks/{webhookId}.
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	s.lock()
	i, e := s.webhookByID(r)
	if e == nil {
		s.hooks.all = slices.Delete(s.hooks.all, i, i+1)
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
