package twoway

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/kvmap"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// recordKey is the state key of a contact key's record ("email:..." keys
// hold email states).
func recordKey(key string) string { return "k:" + key }

// Syncer applies a Policy on the bus: it keeps the records in the
// tajo_twoway bucket and publishes the writes to Braze the decisions ask
// for. The forward direction (the transformer) calls Forward, the reverse
// worker Reverse, the Braze writer Landed and EmailSent. Safe for
// concurrent use.
type Syncer struct {
	p      *Policy
	state  *kvmap.Map
	claims *kvmap.Map // tajo_claims, read: which key wrote an email
	js     jetstream.JetStream
	now    func() time.Time
}

// NewSyncer opens the buckets (provisioned: natsx.Provision).
func NewSyncer(ctx context.Context, js jetstream.JetStream, p *Policy) (*Syncer, error) {
	if p == nil {
		return nil, errors.New("twoway: a policy is required")
	}
	st, err := kvmap.Open(ctx, js, proto.BucketTwoWay)
	if err != nil {
		return nil, fmt.Errorf("twoway: %w", err)
	}
	cl, err := kvmap.Open(ctx, js, proto.BucketClaims)
	if err != nil {
		return nil, fmt.Errorf("twoway: %w", err)
	}
	return &Syncer{p: p, state: st, claims: cl, js: js, now: time.Now}, nil
}

// Policy is the syncer's policy.
func (s *Syncer) Policy() *Policy { return s.p }

// Records reads the records of keys (absent: none yet).
func (s *Syncer) Records(ctx context.Context, keys ...string) (map[string]*Record, error) {
	rk := make([]string, len(keys))
	for i, k := range keys {
		rk[i] = recordKey(k)
	}
	raw, err := s.state.GetMany(ctx, rk)
	if err != nil {
		return nil, fmt.Errorf("twoway: reading records: %w", err)
	}
	out := make(map[string]*Record, len(raw))
	for i, k := range keys {
		v, ok := raw[rk[i]]
		if !ok {
			continue
		}
		r, err := decodeRecord(v)
		if err != nil {
			return nil, fmt.Errorf("twoway: record of %s: %w", proto.KeyHash(k), err)
		}
		out[k] = r
	}
	return out, nil
}

// EmailStates reads the subscription states of addresses.
func (s *Syncer) EmailStates(ctx context.Context, emails ...string) (map[string]EmailState, error) {
	ks := make([]string, len(emails))
	for i, e := range emails {
		ks[i] = EmailKey(e)
	}
	raw, err := s.state.GetMany(ctx, ks)
	if err != nil {
		return nil, fmt.Errorf("twoway: reading email states: %w", err)
	}
	out := map[string]EmailState{}
	for i, e := range emails {
		if v, ok := raw[ks[i]]; ok {
			out[e] = decodeEmailState(v)
		}
	}
	return out, nil
}

// publish sends the writes to Braze and waits for the OPS stream to
// store them.
func (s *Syncer) publish(ctx context.Context, ops []op) error {
	if len(ops) == 0 {
		return nil
	}
	pub := pipeline.NewPublisher(s.js, len(ops))
	for _, o := range ops {
		data, err := proto.Encode(o.msg)
		if err != nil {
			return fmt.Errorf("twoway: encoding a write to Braze: %w", err)
		}
		hdr := nats.Header{}
		hdr.Set(proto.HeaderSchema, "1")
		if err := pub.Publish(ctx, o.subject, o.id, hdr, data); err != nil {
			return fmt.Errorf("twoway: publishing a write to Braze: %w", err)
		}
	}
	if err := pub.Flush(ctx); err != nil {
		return fmt.Errorf("twoway: publishing %d writes to Braze: %w", len(ops), err)
	}
	return nil
}

type op struct {
	subject, id string
	msg         proto.Versioned
}

func updateOp(u *proto.BrazeUserUpdate, why string) op {
	names := make([]string, 0, len(u.Hashes))
	for k := range u.Hashes {
		names = append(names, k)
	}
	sort.Strings(names)
	content := why
	for _, n := range names {
		content += "\x00" + n + "=" + strconv.FormatUint(u.Hashes[n], 16)
	}
	return op{proto.SubjectOpsBrazeUsersTrack,
		proto.MsgID("braze.track."+strconv.FormatInt(u.SourceVersion, 10), u.Key, []byte(content)), u}
}

// Forward reconciles the two-way fields of Braze users mapped from an
// export (exportedAt[i], unix ms, for contacts[i]) before they are compared
// with what Brevo was sent and passed on: a field whose Braze value is
// stale, or loses to a Brevo change, takes Brevo's value in the contact;
// a Brevo change waiting for this export (braze_wins) is approved and
// written to Braze. It records what Braze holds for every user it sees.
// skip[i] is true when contacts[i] is what Brevo holds already (a Brevo
// change that came back from Braze): there is nothing to write.
func (s *Syncer) Forward(ctx context.Context, contacts []*mapping.Contact, exportedAt []int64) (skip []bool, err error) {
	skip = make([]bool, len(contacts))
	if len(contacts) == 0 {
		return skip, nil
	}
	keys := make([]string, 0, len(contacts))
	seen := map[string]bool{}
	for _, c := range contacts {
		if c != nil && !seen[c.Key] {
			seen[c.Key] = true
			keys = append(keys, c.Key)
		}
	}
	recs, err := s.Records(ctx, keys...)
	if err != nil {
		return nil, err
	}
	type seenAs struct {
		c  mapping.Contact // the contact as mapped, before any change
		te int64
	}
	replay := map[string][]seenAs{} // to decide again on a record another writer changed
	var ops []op
	for i, c := range contacts {
		if c == nil {
			continue
		}
		orig := *c
		orig.Attributes = cloneMap(c.Attributes)
		rec, exists := recs[c.Key]
		next, changed, up := s.p.forward(c, exportedAt[i], rec, exists)
		if changed {
			recs[c.Key] = next
			replay[c.Key] = append(replay[c.Key], seenAs{orig, exportedAt[i]})
		}
		if up != nil {
			ops = append(ops, updateOp(up, "fwd:"+strconv.FormatInt(exportedAt[i], 10)))
		}
		if r := recs[c.Key]; r != nil && r.B != "" && up == nil {
			skip[i] = c.Fingerprint() == r.B
		}
	}
	if err := s.publish(ctx, ops); err != nil {
		return nil, err
	}
	if len(replay) == 0 {
		return skip, nil
	}
	rk := make([]string, 0, len(replay))
	byRK := map[string]string{}
	for k := range replay {
		rk = append(rk, recordKey(k))
		byRK[recordKey(k)] = k
	}
	_, err = s.state.Modify(ctx, rk, func(key, cur string, ok bool) (string, bool, bool) {
		rec, err := decodeRecord(cur)
		if err != nil {
			rec, ok = &Record{}, false
		}
		for _, sa := range replay[byRK[key]] {
			c := sa.c
			c.Attributes = cloneMap(sa.c.Attributes)
			var changed bool
			if rec, changed, _ = s.p.forward(&c, sa.te, rec, ok); changed {
				ok = true
			}
		}
		return rec.encode(), true, false
	})
	if err != nil {
		return nil, fmt.Errorf("twoway: recording what Braze holds: %w", err)
	}
	return skip, nil
}
