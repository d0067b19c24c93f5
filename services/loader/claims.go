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
// their errs) and the SMS another record owns. It returns the records left
// to write and the claims they would newly make, which stay pending (seen by
// concurrent batches of this process) until release.
func (l *Loader) checkClaims(ctx context.Context, items []*item, errs []error) ([]*item, map[string]string, error) {
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
		return items, nil, fmt.Errorf("reading identifier claims: %w", err)
	}
	l.claimMu.Lock()
	defer l.claimMu.Unlock()
	owner := func(id string) (string, bool) {
		if o, ok := owners[id]; ok {
			return o, true
		}
		o, ok := l.pending[id]
		return o, ok
	}
	fresh := map[string]string{}
	claim := func(id, key string) {
		if _, ok := owners[id]; !ok {
			fresh[id] = key
			l.pending[id] = key
		}
	}
	keep := make([]*item, 0, len(items))
	for _, it := range items {
		if it.up.Email != "" {
			id := emailClaim(it.up.Email)
			if o, ok := owner(id); ok && o != it.up.Key {
				errs[it.idx] = pipeline.Permanent(reasonDuplicateEmail,
					fmt.Errorf("contact %s: email %s already belongs to the Brevo contact of Braze user %s; "+
						"Brevo keeps emails unique, so this user is not synced until one of them changes", it.up.Key, it.up.Email, o))
				continue
			}
			claim(id, it.up.Key)
		}
		if sms, ok := it.up.Attributes[smsAttr].(string); ok {
			id := smsClaim(sms)
			if o, ok := owner(id); ok && o != it.up.Key {
				l.log.Warn("SMS already belongs to another contact; syncing without SMS", "key", it.up.Key, "owner", o)
				it.up.Attributes = withoutSMS(it.up.Attributes)
			} else {
				claim(id, it.up.Key)
			}
		}
		keep = append(keep, it)
	}
	return keep, fresh, nil
}

// recordClaims stores the fresh claims of the written records and releases
// every pending claim of the batch.
func (l *Loader) recordClaims(ctx context.Context, fresh map[string]string, done []*item) error {
	defer func() {
		l.claimMu.Lock()
		for id := range fresh {
			delete(l.pending, id)
		}
		l.claimMu.Unlock()
	}()
	written := make(map[string]bool, len(done))
	for _, it := range done {
		written[it.up.Key] = true
	}
	put := make(map[string]string, len(fresh))
	for id, key := range fresh {
		if written[key] {
			put[id] = key
		}
	}
	return l.claims.PutMany(ctx, put)
}
