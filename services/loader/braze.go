package loader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/twoway"
	"github.com/tajo-sync/tajo/proto"
)

// BrazeDurable is the consumer every loader replica's Braze writer shares.
const BrazeDurable = "loader-braze"

// ReasonBrazeRefused is the dead-letter reason of a write Braze refused
// for good (a 400 naming the object).
const ReasonBrazeRefused = "braze_refused"

// BrazeWrites is what the Braze writer needs from a Braze client.
type BrazeWrites interface {
	TrackAttributes(ctx context.Context, users []braze.Attributes) (braze.TrackResult, error)
	SetEmailSubscription(ctx context.Context, state string, emails []string) error
	SetSubscriptionGroup(ctx context.Context, groupID, state string, emails []string) error
	DeleteUsers(ctx context.Context, externalIDs []string, aliases []braze.UserAlias, brazeIDs []string) (int, error)
	ExportIDs(ctx context.Context, req braze.ExportIDsRequest) (braze.ExportIDsResult, error)
}

var _ BrazeWrites = (*braze.Client)(nil)

// BrazeConfig tunes the Braze writer.
type BrazeConfig struct {
	BatchSize int           // messages per batch; default 300
	BatchWait time.Duration // default 200ms
	// AckWait is the redelivery timeout of a message whose handling died
	// (pipeline.Config.AckWait); default 30s.
	AckWait time.Duration
	// DrainTimeout bounds the wait for batches in flight once stopped
	// (pipeline.Config.DrainTimeout); default 30s.
	DrainTimeout time.Duration
	// Paused stops fetching while it reports true (a Braze breaker open).
	Paused func() bool
	Logger *slog.Logger
}

// BrazeSink writes what the reverse direction decided to Braze: attribute
// updates with POST /users/track (at most braze.MaxTrackObjects objects a
// request, one object per user, a user's updates of a batch merged),
// unsubscribes with /email/status (and /subscription/status/set for a
// configured group), deletions with /users/delete. An object Braze refuses
// in a partially successful request fails alone: only its messages are
// retried. After a write lands it is recorded (twoway.Syncer.Landed), so
// an export requested before it is known to show Braze's older value.
type BrazeSink struct {
	cfg BrazeConfig
	js  jetstream.JetStream
	bz  BrazeWrites
	s   *twoway.Syncer
	log *slog.Logger
}

// NewBrazeSink builds the Braze writer.
func NewBrazeSink(js jetstream.JetStream, bz BrazeWrites, s *twoway.Syncer, cfg BrazeConfig) (*BrazeSink, error) {
	if js == nil || bz == nil || s == nil {
		return nil, errors.New("loader braze: JetStream, a Braze client and a two-way syncer are required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 300
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &BrazeSink{cfg: cfg, js: js, bz: bz, s: s, log: cfg.Logger.With("service", proto.StageLoader, "worker", "braze")}, nil
}

// Run consumes ops.braze.* until ctx is cancelled, then drains.
func (b *BrazeSink) Run(ctx context.Context) error {
	w, err := pipeline.NewWorker(b.js, pipeline.Config{
		Stream:       proto.StreamOps,
		Durable:      BrazeDurable,
		Subject:      proto.SubjectsOpsBraze,
		Stage:        proto.StageLoader,
		BatchSize:    b.cfg.BatchSize,
		BatchWait:    b.cfg.BatchWait,
		AckWait:      b.cfg.AckWait,
		DrainTimeout: b.cfg.DrainTimeout,
		Paused:       b.cfg.Paused,
		Logger:       b.log,
	}, b)
	if err != nil {
		return fmt.Errorf("loader braze: starting worker: %w", err)
	}
	return w.Run(ctx)
}

// HandleBatch writes the batch's updates, unsubscribes and deletions.
func (b *BrazeSink) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	var (
		ups     []*proto.BrazeUserUpdate
		upIdx   []int
		sts     []*proto.BrazeEmailStatus
		stIdx   []int
		dels    []*proto.BrazeUserDelete
		delIdx  []int
		decoded = func(i int, err error) { errs[i] = pipeline.Permanent("bad_payload", err) }
	)
	for i, m := range batch {
		switch m.Subject {
		case proto.SubjectOpsBrazeUsersTrack:
			u := &proto.BrazeUserUpdate{}
			if err := proto.Decode(m.Data, u); err != nil {
				decoded(i, err)
				continue
			}
			ups, upIdx = append(ups, u), append(upIdx, i)
		case proto.SubjectOpsBrazeEmailStatus:
			s := &proto.BrazeEmailStatus{}
			if err := proto.Decode(m.Data, s); err != nil {
				decoded(i, err)
				continue
			}
			sts, stIdx = append(sts, s), append(stIdx, i)
		case proto.SubjectOpsBrazeUsersDelete:
			d := &proto.BrazeUserDelete{}
			if err := proto.Decode(m.Data, d); err != nil {
				decoded(i, err)
				continue
			}
			dels, delIdx = append(dels, d), append(delIdx, i)
		default:
			errs[i] = pipeline.Permanent("unknown_subject", fmt.Errorf("no Braze write for %s", m.Subject))
		}
	}
	if len(ups) > 0 {
		for k, err := range b.track(ctx, ups) {
			errs[upIdx[k]] = err
		}
	}
	if len(sts) > 0 {
		for k, err := range b.statuses(ctx, sts) {
			errs[stIdx[k]] = err
		}
	}
	if len(dels) > 0 {
		for k, err := range b.deletes(ctx, dels) {
			errs[delIdx[k]] = err
		}
	}
	return errs
}

// object is one user's attributes object of a /users/track request: the
// updates of the batch merged into it.
type object struct {
	key   string
	attrs braze.Attributes
	ups   []int // indexes in the batch's updates
}

// track writes the updates; one error per update.
func (b *BrazeSink) track(ctx context.Context, ups []*proto.BrazeUserUpdate) []error {
	errs := make([]error, len(ups))
	all := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	empty, err := b.s.Fresh(ctx, ups)
	if err != nil {
		return all(err)
	}
	// Merge each user's updates, older first, so the newest value of a
	// field is the one sent.
	order := make([]int, 0, len(ups))
	for i := range ups {
		if !empty[i] {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, c int) bool { return ups[order[a]].SourceVersion < ups[order[c]].SourceVersion })
	byKey := map[string]*object{}
	var objs []*object
	for _, i := range order {
		u := ups[i]
		o := byKey[u.Key]
		if o == nil {
			o = &object{key: u.Key, attrs: braze.Attributes{ExternalID: u.ExternalID, BrazeID: u.BrazeID, Fields: map[string]any{}}}
			if u.ExternalID == "" && u.BrazeID == "" {
				o.attrs.Alias = &braze.UserAlias{Name: u.AliasName, Label: u.AliasLabel}
			}
			byKey[u.Key] = o
			objs = append(objs, o)
		}
		for k, v := range u.Attributes {
			o.attrs.Fields[k] = v
		}
		o.ups = append(o.ups, i)
	}
	if err := b.check(ctx, ups, objs); err != nil {
		return all(err)
	}
	now := time.Now().UnixMilli()
	for chunk := range slices.Chunk(slices.DeleteFunc(objs, func(o *object) bool { return len(o.attrs.Fields) == 0 }), braze.MaxTrackObjects) {
		users := make([]braze.Attributes, len(chunk))
		for k, o := range chunk {
			users[k] = o.attrs
		}
		res, err := b.bz.TrackAttributes(ctx, users)
		failed := map[int]error{}
		switch {
		case err != nil:
			var ae *braze.APIError
			if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
				// Braze refused the request as a whole; objects it names are
				// refused for good, the others are tried again.
				for _, te := range trackErrors(ae.Errors) {
					if te.InputArray == "attributes" && te.Index >= 0 && te.Index < len(chunk) {
						failed[te.Index] = pipeline.Permanent(ReasonBrazeRefused, fmt.Errorf("braze refused the attributes of %s: %s", proto.KeyHash(chunk[te.Index].key), te.Type))
					}
				}
			}
			for k := range chunk {
				if _, ok := failed[k]; !ok {
					failed[k] = fmt.Errorf("writing %d users to Braze: %w", len(chunk), err)
				}
			}
		default:
			for _, te := range res.Errors {
				if te.InputArray == "attributes" && te.Index >= 0 && te.Index < len(chunk) {
					failed[te.Index] = fmt.Errorf("braze refused the attributes of %s: %s", proto.KeyHash(chunk[te.Index].key), te.Type)
				}
			}
		}
		var landed []*proto.BrazeUserUpdate
		for k, o := range chunk {
			for _, i := range o.ups {
				if e, bad := failed[k]; bad {
					errs[i] = e
				} else {
					landed = append(landed, ups[i])
				}
			}
		}
		if len(landed) > 0 {
			if err := b.s.Landed(ctx, landed, now); err != nil {
				// Written, not recorded: the updates come back and are written
				// again (the same values: harmless), then recorded.
				for k, o := range chunk {
					if _, bad := failed[k]; !bad {
						for _, i := range o.ups {
							errs[i] = err
						}
					}
				}
			}
		}
	}
	return errs
}

// trackErrors reads the errors[] of a refused /users/track.
func trackErrors(raw []any) []braze.TrackError {
	var out []braze.TrackError
	for _, e := range raw {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		te := braze.TrackError{Index: -1}
		te.Type, _ = m["type"].(string)
		te.InputArray, _ = m["input_array"].(string)
		if f, ok := m["index"].(float64); ok {
			te.Index = int(f)
		}
		out = append(out, te)
	}
	return out
}

// check reads, for the objects carrying braze_wins fields, the user as
// Braze holds it, and leaves out the fields Braze changed since the sides
// last agreed (twoway.Syncer.Undo records it).
func (b *BrazeSink) check(ctx context.Context, ups []*proto.BrazeUserUpdate, objs []*object) error {
	expected := map[string]map[string]uint64{} // key -> Brevo field -> hash
	var exts []string
	var bids []string
	for _, o := range objs {
		for _, i := range o.ups {
			for f, h := range ups[i].Check {
				if expected[o.key] == nil {
					expected[o.key] = map[string]uint64{}
				}
				expected[o.key][f] = h
			}
		}
		if expected[o.key] == nil {
			continue
		}
		switch {
		case o.attrs.ExternalID != "":
			exts = append(exts, o.attrs.ExternalID)
		case o.attrs.BrazeID != "":
			bids = append(bids, o.attrs.BrazeID)
		}
	}
	if len(expected) == 0 {
		return nil
	}
	fields, _ := b.s.LookupFields()
	held := map[string]map[string]uint64{} // external id or braze id -> hashes
	read := func(req braze.ExportIDsRequest) error {
		req.FieldsToExport = fields
		res, err := b.bz.ExportIDs(ctx, req)
		if err != nil {
			return fmt.Errorf("reading users from Braze before writing braze_wins fields: %w", err)
		}
		for _, raw := range res.Users {
			hs, err := b.s.BrazeHashes(raw)
			if err != nil {
				continue // a user Braze holds that cannot be read: no conflict is known
			}
			var id struct {
				ExternalID string `json:"external_id"`
				BrazeID    string `json:"braze_id"`
			}
			_ = json.Unmarshal(raw, &id)
			if id.ExternalID != "" {
				held["ext:"+id.ExternalID] = hs
			}
			if id.BrazeID != "" {
				held["bid:"+id.BrazeID] = hs
			}
		}
		return nil
	}
	for chunk := range slices.Chunk(exts, braze.MaxExportIDs) {
		if err := read(braze.ExportIDsRequest{ExternalIDs: chunk}); err != nil {
			return err
		}
	}
	for _, bid := range bids {
		if err := read(braze.ExportIDsRequest{BrazeID: bid}); err != nil {
			return err
		}
	}
	for _, o := range objs {
		exp := expected[o.key]
		if exp == nil {
			continue
		}
		hs := held["ext:"+o.attrs.ExternalID]
		if o.attrs.ExternalID == "" {
			hs = held["bid:"+o.attrs.BrazeID]
		}
		if hs == nil {
			continue // Braze has no such user: nothing of Braze's to keep
		}
		undo := map[string]uint64{}
		for f, h := range exp {
			if hs[f] == h {
				continue
			}
			undo[f] = h
			if name, ok := b.s.BrazeField(f); ok {
				delete(o.attrs.Fields, name)
			}
		}
		if len(undo) > 0 {
			b.log.Info("Braze changed fields Brevo changed too: braze_wins keeps Braze's", "key", proto.KeyHash(o.key), "fields", len(undo))
			if err := b.s.Undo(ctx, o.key, undo); err != nil {
				return err
			}
		}
	}
	return nil
}

// statuses sends the unsubscribes not sent yet; one error per status.
func (b *BrazeSink) statuses(ctx context.Context, sts []*proto.BrazeEmailStatus) []error {
	errs := make([]error, len(sts))
	pending, err := b.s.EmailPending(ctx, sts)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	type group struct{ state, id string }
	by := map[group][]int{}
	var groups []group
	for i, m := range sts {
		if !pending[i] {
			continue // landed already (a redelivery)
		}
		g := group{m.State, m.GroupID}
		if _, ok := by[g]; !ok {
			groups = append(groups, g)
		}
		by[g] = append(by[g], i)
	}
	for _, g := range groups {
		for chunk := range slices.Chunk(by[g], braze.MaxEmailsPerStatus) {
			emails := make([]string, 0, len(chunk))
			seen := map[string]bool{}
			for _, i := range chunk {
				if !seen[sts[i].Email] {
					seen[sts[i].Email] = true
					emails = append(emails, sts[i].Email)
				}
			}
			err := b.bz.SetEmailSubscription(ctx, g.state, emails)
			if err == nil && g.id != "" {
				err = b.bz.SetSubscriptionGroup(ctx, g.id, g.state, emails)
			}
			if err == nil {
				sent := make([]*proto.BrazeEmailStatus, len(chunk))
				for k, i := range chunk {
					sent[k] = sts[i]
				}
				err = b.s.EmailSent(ctx, sent)
			}
			if err != nil {
				for _, i := range chunk {
					errs[i] = fmt.Errorf("setting the email subscription of %d addresses in Braze: %w", len(emails), err)
				}
			}
		}
	}
	return errs
}

// deletes deletes users; one error per deletion.
func (b *BrazeSink) deletes(ctx context.Context, dels []*proto.BrazeUserDelete) []error {
	errs := make([]error, len(dels))
	for chunk := range slices.Chunk(seq(len(dels)), braze.MaxDeletePerCall) {
		var exts, bids []string
		var aliases []braze.UserAlias
		for _, i := range chunk {
			d := dels[i]
			switch {
			case d.ExternalID != "":
				exts = append(exts, d.ExternalID)
			case d.BrazeID != "":
				bids = append(bids, d.BrazeID)
			case d.AliasName != "":
				aliases = append(aliases, braze.UserAlias{Name: d.AliasName, Label: d.AliasLabel})
			}
		}
		if _, err := b.bz.DeleteUsers(ctx, exts, aliases, bids); err != nil {
			for _, i := range chunk {
				errs[i] = fmt.Errorf("deleting %d users in Braze: %w", len(chunk), err)
			}
		}
	}
	return errs
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
