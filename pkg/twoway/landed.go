package twoway

import (
	"context"
	"fmt"

	"github.com/tajo-sync/tajo/proto"
)

// What the Braze writer asks of the state: before a write, which fields an
// update may still write (a newer value of a field may have been written
// already); after it, that it landed (the forward direction then knows an
// export requested before this moment shows Braze's older value).

// Fresh removes from each update the fields a newer Brevo change has
// written already (an update redelivered after a later one), and reports
// which updates have nothing left.
func (s *Syncer) Fresh(ctx context.Context, ups []*proto.BrazeUserUpdate) (empty []bool, err error) {
	keys := make([]string, 0, len(ups))
	for _, u := range ups {
		keys = append(keys, u.Key)
	}
	recs, err := s.Records(ctx, keys...)
	if err != nil {
		return nil, err
	}
	empty = make([]bool, len(ups))
	for i, u := range ups {
		rec := recs[u.Key]
		for brevo := range u.Hashes {
			if rec != nil && rec.SV[brevo] > u.SourceVersion {
				delete(u.Hashes, brevo)
				if f, ok := s.p.byBrevo[brevo]; ok {
					delete(u.Attributes, f.Braze)
				}
			}
		}
		empty[i] = len(u.Attributes) == 0
	}
	return empty, nil
}

// Landed records that the updates were written to Braze at at (unix ms).
func (s *Syncer) Landed(ctx context.Context, ups []*proto.BrazeUserUpdate, at int64) error {
	byRK := map[string][]*proto.BrazeUserUpdate{}
	var keys []string
	for _, u := range ups {
		rk := recordKey(u.Key)
		if _, ok := byRK[rk]; !ok {
			keys = append(keys, rk)
		}
		byRK[rk] = append(byRK[rk], u)
	}
	_, err := s.state.Modify(ctx, keys, func(key, cur string, ok bool) (string, bool, bool) {
		rec, err := decodeRecord(cur)
		if err != nil {
			return cur, false, false
		}
		for _, u := range byRK[key] {
			for brevo, h := range u.Hashes {
				if u.SourceVersion > rec.SV[brevo] {
					set(&rec.SV, brevo, u.SourceVersion)
				}
				if _, inFlight := rec.V[brevo]; inFlight && rec.H[brevo] == h {
					set(&rec.W, brevo, at)
				}
			}
		}
		return rec.encode(), true, false
	})
	if err != nil {
		return fmt.Errorf("twoway: recording writes to Braze: %w", err)
	}
	return nil
}

// EmailPending reports, per status, whether it is still to be sent (its
// claim stands and has not landed).
func (s *Syncer) EmailPending(ctx context.Context, sts []*proto.BrazeEmailStatus) ([]bool, error) {
	emails := make([]string, len(sts))
	for i, m := range sts {
		emails[i] = m.Email
	}
	states, err := s.EmailStates(ctx, emails...)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(sts))
	for i, m := range sts {
		st, ok := states[m.Email]
		out[i] = !ok || !(st.Sent && st.State == m.State && st.At >= m.SourceVersion)
	}
	return out, nil
}

// EmailSent records that the statuses were written to Braze.
func (s *Syncer) EmailSent(ctx context.Context, sts []*proto.BrazeEmailStatus) error {
	by := map[string]*proto.BrazeEmailStatus{}
	keys := make([]string, 0, len(sts))
	for _, m := range sts {
		if _, ok := by[EmailKey(m.Email)]; !ok {
			keys = append(keys, EmailKey(m.Email))
		}
		by[EmailKey(m.Email)] = m
	}
	_, err := s.state.Modify(ctx, keys, func(key, cur string, ok bool) (string, bool, bool) {
		st := decodeEmailState(cur)
		m := by[key]
		if st.State != m.State || st.At != m.SourceVersion {
			return cur, false, false // claimed again since: not this write's to settle
		}
		st.Sent = true
		return st.encode(), true, false
	})
	if err != nil {
		return fmt.Errorf("twoway: recording unsubscribes sent: %w", err)
	}
	return nil
}
