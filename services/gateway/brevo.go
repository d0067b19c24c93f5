package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/secrets"
	"github.com/tajo-sync/tajo/proto"
)

// Brevo's marketing webhooks (contact_updated, unsubscribed,
// contact_deleted, list_addition) arrive at POST /v1/brevo/webhooks, one
// event per request or, for a batched webhook, an array of up to 500. Each
// event is stored on raw.brevo.webhooks as Brevo sent it; its id is a hash
// of its content, so a re-sent event is stored once within the RAW
// stream's dedup window and, past it, changes nothing downstream (the
// reverse worker compares it with what it knows).

// EnvBrevoWebhookToken holds the token Brevo's webhooks send; it wins over
// the one stored with the Brevo connector's credentials.
const EnvBrevoWebhookToken = "TAJO_BREVO_WEBHOOK_TOKEN"

// MaxBrevoWebhookBatch is the most events a batched delivery may hold
// (Brevo sends up to 500).
const MaxBrevoWebhookBatch = 1000

// BrevoWebhookToken is the webhook token: TAJO_BREVO_WEBHOOK_TOKEN, else
// the one stored (encrypted) with the connector's credentials under home;
// "" when neither is set.
func BrevoWebhookToken(home string) (string, error) {
	return token(home, EnvBrevoWebhookToken, func(c secrets.Credentials) string { return c.BrevoWebhookToken })
}

// brevoWebhookAuthorized accepts the token as a bearer token (what `tajo
// connectors install` registers) or as the password of basic auth (what a
// webhook made by hand in Brevo's interface can send), compared in
// constant time as hashes of equal length.
func (s *Server) brevoWebhookAuthorized(r *http.Request) bool {
	want := s.cfg.BrevoWebhookToken
	if want == "" {
		return false
	}
	got, ok := bearer(r)
	if !ok {
		_, got, ok = r.BasicAuth()
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return ok && subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// DecodeBrevoWebhooks reads a webhook body: one event object or an array
// of them, each an object with an "event" string. Unknown events and fields
// are kept.
func DecodeBrevoWebhooks(body []byte) ([]json.RawMessage, error) {
	trimmed := strings.TrimSpace(string(body))
	var items []json.RawMessage
	if strings.HasPrefix(trimmed, "[") {
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, fmt.Errorf("%w: the body must be an event object or an array of them: %v", ErrShape, err)
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("%w: the array holds no event", ErrShape)
		}
	} else {
		items = []json.RawMessage{body}
	}
	if len(items) > MaxBrevoWebhookBatch {
		return nil, fmt.Errorf("%w: %d events, over the limit of %d a delivery", ErrShape, len(items), MaxBrevoWebhookBatch)
	}
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		var env struct {
			Event *string `json:"event"`
		}
		if err := json.Unmarshal(it, &env); err != nil || env.Event == nil || *env.Event == "" {
			return nil, fmt.Errorf("%w: event %d is not an object with an \"event\" name", ErrShape, i)
		}
		out[i] = compact(it)
	}
	return out, nil
}

// brevoWebhooks serves POST /v1/brevo/webhooks.
func (s *Server) brevoWebhooks(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		readError(w, err)
		return
	}
	items, err := DecodeBrevoWebhooks(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	now := time.Now().UnixMilli()
	raws := make([]proto.RawEvent, len(items))
	for i, it := range items {
		h := sha256.Sum256(it)
		raws[i] = proto.RawEvent{V: proto.SchemaVersion, Source: proto.EventSourceBrevoWebhook,
			ID: hex.EncodeToString(h[:16]), ReceivedAt: now, JSON: it}
	}
	res, err := s.storeOn(r.Context(), proto.SubjectRawBrevoWebhooks, raws, true)
	if err != nil {
		var tl *TooLargeError
		if errors.As(err, &tl) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", err.Error())
			return
		}
		s.log.Warn("Brevo webhook events not stored; answered 503 for Brevo to re-send", "events", len(raws), "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the events could not be stored durably; send them again")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"accepted": res.stored, "deadLettered": res.deadLettered})
}
