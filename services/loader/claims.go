package loader

import (
	"context"
	"fmt"

	"github.com/tajo-sync/tajo/pkg/pipeline"
)

// Brevo keeps email and SMS unique across contacts, while Braze lets several
// users share them. Sent as is, a second user would silently merge into the
// first one's contact (an import matches on email) or be refused (a single
// upsert). The loader remembers which record key owns each identifier it
// wrote and, for a record whose identifier another record owns:
//   - email: the record is dead-lettered as duplicate_email, nothing is sent;
//   - SMS: the record is sent without SMS and the conflict is logged.
// The first record to claim an identifier keeps it.

const (
	smsAttr              = "SMS"
	reasonDuplicateEmail = "duplicate_email"
)

func emailClaim(email string) string { return "email:" + email }
func smsClaim(sms string) string     { return "sms:" + sms }

// checkClaims drops the records whose email another record owns (setting
// their errs) and the SMS that another record owns; it returns the records
// left to write.
func (l *Loader) checkClaims(ctx context.Context, items []*item, errs []error) ([]*item, error) {
	ids := make([]string, 0, 2*len(items))
	for _, it := range items {
		if it.up.Email != "" {
			ids = append(ids, emailClaim(it.up.Email))
		}
		if sms, ok := it.up.Attributes[smsAttr].(string); ok {
			ids = append(ids, smsClaim(sms))
		}
	}
	owners, err := l.claims.GetMany(ctx, ids)
	if err != nil {
		return items, fmt.Errorf("reading identifier claims: %w", err)
	}
	keep := make([]*item, 0, len(items))
	for _, it := range items {
		if it.up.Email != "" {
			id := emailClaim(it.up.Email)
			if owner, ok := owners[id]; ok && owner != it.up.Key {
				errs[it.idx] = pipeline.Permanent(reasonDuplicateEmail,
					fmt.Errorf("contact %s: email %s already belongs to the Brevo contact of Braze user %s; "+
						"Brevo keeps emails unique, so this user is not synced until one of them changes", it.up.Key, it.up.Email, owner))
				continue
			}
			owners[id] = it.up.Key
		}
		if sms, ok := it.up.Attributes[smsAttr].(string); ok {
			id := smsClaim(sms)
			if owner, ok := owners[id]; ok && owner != it.up.Key {
				l.log.Warn("SMS already belongs to another contact; syncing without SMS", "key", it.up.Key, "owner", owner)
				it.up.Attributes = withoutSMS(it.up.Attributes)
			} else {
				owners[id] = it.up.Key
			}
		}
		keep = append(keep, it)
	}
	return keep, nil
}

// claimsOf lists the identifiers the written records now own.
func claimsOf(done []*item) map[string]string {
	out := make(map[string]string, 2*len(done))
	for _, it := range done {
		if it.up.Email != "" {
			out[emailClaim(it.up.Email)] = it.up.Key
		}
		if sms, ok := it.up.Attributes[smsAttr].(string); ok {
			out[smsClaim(sms)] = it.up.Key
		}
	}
	return out
}
