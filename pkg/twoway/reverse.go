package twoway

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/tajo-sync/tajo/proto"
)

// Item is one thing Brevo told, as the reverse worker read it off the bus:
// a polled contact or a webhook event.
type Item struct {
	Contact  []byte // GET /contacts's object (raw.brevo.contacts)
	Webhook  []byte // one webhook event (raw.brevo.webhooks)
	Received int64  // unix ms the gateway received the webhook
}

// Outcomes of an item.
const (
	OutcomeWritten      = "written"      // a write to Braze was asked for
	OutcomeUnchanged    = "unchanged"    // Braze holds it already, or it waits (braze_wins)
	OutcomeStale        = "stale"        // not newer than what was handled
	OutcomeEcho         = "echo"         // the connector's own write (api_key_name)
	OutcomeIgnored      = "ignored"      // nothing in Braze to change (list_addition, no identifier)
	OutcomeDeleted      = "deleted"      // deleted in Brevo: reported (or deleted in Braze: propagate_deletes)
	OutcomeUnsubscribed = "unsubscribed" // an unsubscribe sent to Braze
)

// Result is what became of one item.
type Result struct {
	// Err is set when the item cannot be read: bad input, for the DLQ.
	Err      error
	Outcome  string
	Key      string
	Warnings []string
}

// Reverse decides and publishes what Brevo's news asks of Braze: only
// changed fields are written, a change the connector made itself or has
// handled already is dropped, an unsubscribe is sent once whoever reports
// it. It returns one Result per item, or an error when the bus failed
// (nothing of the batch is to be acknowledged).
func (s *Syncer) Reverse(ctx context.Context, items []Item) ([]Result, error) {
	results := make([]Result, len(items))
	obs := make([]*Observation, len(items))
	var unresolved []int
	for i, it := range items {
		var (
			o   Observation
			err error
		)
		if it.Webhook != nil {
			var ev WebhookEvent
			ev, err = s.p.FromWebhook(it.Webhook, it.Received)
			switch {
			case err != nil:
			case ev.Ours:
				results[i].Outcome = OutcomeEcho
				continue
			case !ev.Relevant:
				results[i].Outcome = OutcomeIgnored
				continue
			}
			o = ev.Obs
		} else {
			o, err = s.p.FromContact(it.Contact)
		}
		if err != nil {
			results[i].Err = err
			continue
		}
		if o.ExtID != "" {
			o.Key = o.ExtID
		} else {
			unresolved = append(unresolved, i)
		}
		obs[i] = &o
	}
	if err := s.resolve(ctx, obs, unresolved, results); err != nil {
		return nil, err
	}

	// Decide, key by key, in the order of Brevo's times.
	order := make([]int, 0, len(items))
	keys := map[string]bool{}
	for i, o := range obs {
		if o != nil && o.Key != "" {
			order = append(order, i)
			keys[o.Key] = true
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return obs[order[a]].At < obs[order[b]].At })
	list := make([]string, 0, len(keys))
	for k := range keys {
		list = append(list, k)
	}
	recs, err := s.Records(ctx, list...)
	if err != nil {
		return nil, err
	}
	var ops []op
	byKey := map[string][]int{}
	for _, i := range order {
		o := obs[i]
		rec := recs[o.Key]
		if rec == nil {
			rec = &Record{}
		}
		res, next := s.p.reverse(*o, rec)
		recs[o.Key] = next
		byKey[o.Key] = append(byKey[o.Key], i)
		r := &results[i]
		r.Key, r.Warnings = o.Key, res.warnings
		switch {
		case res.stale:
			r.Outcome = OutcomeStale
		case res.deleted:
			r.Outcome = OutcomeDeleted
			if res.delete != nil {
				ops = append(ops, op{proto.SubjectOpsBrazeUsersDelete,
					proto.MsgID("braze.delete", o.Key, []byte(strconv.FormatInt(o.At, 10))), res.delete})
			}
		case res.update != nil:
			r.Outcome = OutcomeWritten
			ops = append(ops, updateOp(res.update, "rev"))
		default:
			r.Outcome = OutcomeUnchanged
		}
	}
	if err := s.publish(ctx, ops); err != nil {
		return nil, err
	}
	if len(byKey) > 0 {
		rk := make([]string, 0, len(byKey))
		back := map[string]string{}
		for k := range byKey {
			rk = append(rk, recordKey(k))
			back[recordKey(k)] = k
		}
		_, err := s.state.Modify(ctx, rk, func(key, cur string, ok bool) (string, bool, bool) {
			rec, err := decodeRecord(cur)
			if err != nil {
				rec = &Record{}
			}
			for _, i := range byKey[back[key]] {
				_, rec = s.p.reverse(*obs[i], rec)
			}
			return rec.encode(), true, false
		})
		if err != nil {
			return nil, fmt.Errorf("twoway: recording Brevo's changes: %w", err)
		}
	}
	if err := s.unsubscribes(ctx, obs, order, results); err != nil {
		return nil, err
	}
	return results, nil
}

// resolve finds the key of observations without an ext_id: the key that
// wrote the contact's email (the loader's claims), else the contact's
// Brevo id.
func (s *Syncer) resolve(ctx context.Context, obs []*Observation, idx []int, results []Result) error {
	var ids []string
	for _, i := range idx {
		if e := obs[i].Email; e != "" {
			ids = append(ids, proto.EmailClaim(e))
		}
	}
	owners := map[string]string{}
	if len(ids) > 0 {
		var err error
		if owners, err = s.claims.GetMany(ctx, ids); err != nil {
			return fmt.Errorf("twoway: reading email claims: %w", err)
		}
	}
	for _, i := range idx {
		o := obs[i]
		switch {
		case o.Email != "" && owners[proto.EmailClaim(o.Email)] != "":
			o.Key = owners[proto.EmailClaim(o.Email)]
		case o.ContactID > 0:
			o.Key = BrevoKey(o.ContactID)
		case o.Email != "" && o.Blacklisted != nil:
			// An unsubscribe needs no user: Braze's /email/status takes the address.
		default:
			results[i].Outcome = OutcomeIgnored
			obs[i] = nil
		}
	}
	return nil
}

// unsubscribes sends each address Brevo blocklisted an unsubscribe, once:
// the address's state is claimed with a compare-and-set before the write is
// published.
func (s *Syncer) unsubscribes(ctx context.Context, obs []*Observation, order []int, results []Result) error {
	byEmail := map[string][]int{}
	for i, o := range obs {
		if o != nil && o.Blacklisted != nil && o.Email != "" && !o.Deleted {
			byEmail[o.Email] = append(byEmail[o.Email], i)
		}
	}
	if len(byEmail) == 0 {
		return nil
	}
	for _, list := range byEmail {
		sort.SliceStable(list, func(a, b int) bool { return obs[list[a]].At < obs[list[b]].At })
	}
	keys := make([]string, 0, len(byEmail))
	for e := range byEmail {
		keys = append(keys, EmailKey(e))
	}
	var send map[string]*proto.BrazeEmailStatus // decided on the value replaced
	var sentBy map[string]int
	_, err := s.state.Modify(ctx, keys, func(key, cur string, ok bool) (string, bool, bool) {
		email := key[len("email:"):]
		st := decodeEmailState(cur)
		write := false
		if send == nil {
			send, sentBy = map[string]*proto.BrazeEmailStatus{}, map[string]int{}
		}
		delete(send, email)
		for _, i := range byEmail[email] {
			o := obs[i]
			next, w, sendNow := decideEmail(st, *o.Blacklisted, o.At)
			st, write = next, write || w
			if sendNow {
				send[email] = &proto.BrazeEmailStatus{V: proto.SchemaVersion, Email: email, State: "unsubscribed",
					GroupID: s.p.opts.SubscriptionGroupID, SourceVersion: st.At}
				sentBy[email] = i
			}
		}
		return st.encode(), write, false
	})
	if err != nil {
		return fmt.Errorf("twoway: recording unsubscribes: %w", err)
	}
	var ops []op
	for email, m := range send {
		ops = append(ops, op{proto.SubjectOpsBrazeEmailStatus,
			proto.MsgID("braze.email."+m.State, email, []byte(strconv.FormatInt(m.SourceVersion, 10))), m})
		if results[sentBy[email]].Outcome != OutcomeWritten {
			results[sentBy[email]].Outcome = OutcomeUnsubscribed
		}
	}
	return s.publish(ctx, ops)
}
