// Package segmentexport copies one Braze segment into one Brevo list, once:
// `tajo connectors export-segment`, the control API's
// POST /v1/connectors/braze/segments/export and the SDK's exportSegment.
//
// It exports the segment from Braze, maps each member with the configured
// field mapping restricted to the attributes asked for, and imports them
// into the list (POST /contacts/import with the list, updating existing
// contacts): contacts are created or updated with those attributes, and
// an attribute not asked for is left as it is. Contacts are identified by
// ext_id (external_id), else by email; a member with neither is skipped
// and counted. The export streams from a temporary file and the import is
// cut into bodies of at most MaxImportBytes, one import at a time: memory
// stays flat in the segment's size.
//
// Unlike segment mirroring, nothing is remembered and nothing is removed
// from the list.
package segmentexport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/resilience"
)

// Braze is what an export needs from a Braze client.
type Braze interface {
	FindSegment(ctx context.Context, nameOrID string) (braze.Segment, error)
	ExportSegment(ctx context.Context, req braze.ExportSegmentRequest) (braze.ExportSegmentResult, error)
	WaitExport(ctx context.Context, url string, open func() (io.WriteCloser, error), p braze.Backoff) (int64, error)
}

// Brevo is what an export needs from a Brevo client.
type Brevo interface {
	Attributes(ctx context.Context) ([]brevo.Attribute, error)
	CreateAttribute(ctx context.Context, category, name, typ string) error
	ImportFromBatch(ctx context.Context, b *brevo.ImportBatch, opts brevo.ImportOptions) (int64, error)
	WaitProcess(ctx context.Context, id int64, policy brevo.Backoff) (brevo.Process, error)
}

var (
	_ Braze = (*braze.Client)(nil)
	_ Brevo = (*brevo.Client)(nil)
)

// Request is one export.
type Request struct {
	// Segment is the Braze segment's id (or a name only one segment has).
	Segment string
	// ListID is the Brevo list the members join.
	ListID int64
	// IncludeAttributes are the Braze fields written to the contacts (keys
	// of the field mapping: email, first_name, total_revenue, ...); empty:
	// every mapped field. The email is always the contact's identifier
	// when the member has no external_id.
	IncludeAttributes []string
}

// Options are what every export shares.
type Options struct {
	// Mapping is the connector's field mapping (connectors.braze.field_mapping,
	// field_types, default_phone_region); Fields nil is the default mapping.
	Mapping mapping.Options
	// TempDir holds the downloaded export; default os.TempDir().
	TempDir string
	// Poll polls the export URL; ProcessPoll each import's process.
	Poll        braze.Backoff
	ProcessPoll brevo.Backoff
	// Retry retries each Braze step on a retryable error.
	Retry resilience.Policy
	// MaxImportBytes bounds an import body; default brevo.DefaultImportMaxBytes.
	MaxImportBytes int
	// Lock, when set, is held around each import: the loader's import
	// lease, so that this import never runs beside a loader's (Brevo runs
	// one import at a time).
	Lock   func(ctx context.Context) (release func(), err error)
	Logger *slog.Logger
}

// Result is what an export did.
type Result struct {
	SegmentID   string `json:"segmentId"`
	SegmentName string `json:"segmentName"`
	ListID      int64  `json:"listId"`
	// Count is the contacts created or updated in the list: the members
	// imported.
	Count int64 `json:"count"`
	// Skipped are members no contact can be made of (neither external_id
	// nor a valid email, or not a user).
	Skipped int64 `json:"skipped"`
	Imports int   `json:"imports"`
}

// ErrBadRequest is wrapped by the errors a caller can fix: an empty
// segment, a list id that is not positive, an attribute the mapping does
// not know.
var ErrBadRequest = errors.New("bad segment export request")

// Fields resolves the attributes asked for into the mapping that writes
// them; unknown names are an ErrBadRequest naming the known ones.
func Fields(all map[string]string, include []string) (map[string]string, error) {
	if all == nil {
		all = mapping.DefaultFieldMapping()
	}
	if len(include) == 0 {
		return all, nil
	}
	out := map[string]string{}
	var unknown []string
	for _, f := range include {
		f = strings.TrimSpace(f)
		switch target, ok := all[f]; {
		case f == "":
		case f == "email" && !ok:
			out[f] = mapping.TargetEmail
		case !ok:
			unknown = append(unknown, f)
		default:
			out[f] = target
		}
	}
	if len(unknown) > 0 {
		known := make([]string, 0, len(all))
		for k := range all {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("%w: include attributes %s: not in the field mapping (connectors.braze.field_mapping); known: %s",
			ErrBadRequest, strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	// The email identifies members without an external_id.
	for src, target := range all {
		if target == mapping.TargetEmail {
			out[src] = target
		}
	}
	return out, nil
}

// Run exports req.Segment into list req.ListID.
func Run(ctx context.Context, bz Braze, bv Brevo, req Request, o Options) (Result, error) {
	res := Result{ListID: req.ListID}
	switch {
	case strings.TrimSpace(req.Segment) == "":
		return res, fmt.Errorf("%w: a segment id is required", ErrBadRequest)
	case req.ListID <= 0:
		return res, fmt.Errorf("%w: the target list must be a positive Brevo list id (got %d)", ErrBadRequest, req.ListID)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	fields, err := Fields(o.Mapping.Fields, req.IncludeAttributes)
	if err != nil {
		return res, err
	}
	mo := o.Mapping
	mo.Fields = fields
	m, err := mapping.New(mo)
	if err != nil {
		return res, fmt.Errorf("%w: the field mapping of the attributes asked for: %v", ErrBadRequest, err)
	}
	var seg braze.Segment
	err = o.Retry.Do(ctx, func(ctx context.Context) (err error) {
		seg, err = bz.FindSegment(ctx, req.Segment)
		return err
	})
	if errors.Is(err, braze.ErrSegmentNotFound) {
		return res, fmt.Errorf("%w: no Braze segment %q (give its id: Braze > Segments, or GET /segments/list)", ErrBadRequest, req.Segment)
	}
	if err != nil {
		return res, fmt.Errorf("finding Braze segment %q: %w", req.Segment, err)
	}
	res.SegmentID, res.SegmentName = seg.ID, seg.Name
	if err := ensureAttributes(ctx, bv, m.Attributes()); err != nil {
		return res, err
	}
	fieldsToExport, custom := m.ExportFields()
	var exp braze.ExportSegmentResult
	err = o.Retry.Do(ctx, func(ctx context.Context) (err error) {
		exp, err = bz.ExportSegment(ctx, braze.ExportSegmentRequest{SegmentID: seg.ID, FieldsToExport: fieldsToExport,
			CustomAttributesToExport: custom})
		return err
	})
	if err != nil {
		return res, fmt.Errorf("requesting the export of segment %s: %w", seg.ID, err)
	}
	if exp.URL == "" {
		return res, errors.New("Braze answered the export without a URL (the workspace exports to its own cloud storage, which tajo cannot read)")
	}
	f, err := os.CreateTemp(o.TempDir, "tajo-segment-export-*.zip") // 0600: every member's email
	if err != nil {
		return res, fmt.Errorf("creating a file for the export: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	// A wait only polls: its next poll is the retry, no policy wraps it.
	size, err := bz.WaitExport(ctx, exp.URL, braze.RewoundFile(f), o.Poll)
	if err != nil {
		return res, fmt.Errorf("downloading the export of segment %s: %w", seg.ID, err)
	}
	batch := brevo.NewImportBatch(o.MaxImportBytes)
	flush := func() error {
		if batch.Len() == 0 {
			return nil
		}
		if err := importBatch(ctx, bv, batch, req.ListID, o); err != nil {
			return err
		}
		res.Count += int64(batch.Len())
		res.Imports++
		batch.Reset()
		return nil
	}
	err = braze.ReadExport(f, size, func(l braze.Line) error {
		if l.Err != nil {
			res.Skipped++
			return nil
		}
		c, err := m.Map(l.Data)
		if err != nil {
			res.Skipped++
			return nil
		}
		ic := brevo.ImportContact{Email: c.Email, ExtID: c.ExtID, Attributes: c.Attributes}
		ok, err := batch.Add(ic)
		if err != nil {
			res.Skipped++
			o.Logger.Warn("member not exported", "braze_id", c.BrazeID, "err", err)
			return nil
		}
		if !ok {
			if err := flush(); err != nil {
				return err
			}
			if _, err := batch.Add(ic); err != nil {
				res.Skipped++
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return res, fmt.Errorf("exporting segment %s into list %d (%d imported so far): %w", seg.ID, req.ListID, res.Count, err)
	}
	o.Logger.Info("segment exported", "segment", seg.ID, "list", req.ListID, "count", res.Count, "skipped", res.Skipped)
	return res, nil
}

// importBatch imports one batch into the list and waits for it, holding
// the lock when there is one.
func importBatch(ctx context.Context, bv Brevo, batch *brevo.ImportBatch, list int64, o Options) error {
	if o.Lock != nil {
		release, err := o.Lock(ctx)
		if err != nil {
			return fmt.Errorf("waiting for the Brevo import lease: %w", err)
		}
		defer release()
	}
	id, err := bv.ImportFromBatch(ctx, batch, brevo.ImportOptions{ListIDs: []int64{list}, UpdateExistingContacts: true,
		DisableNotification: true})
	if err != nil {
		return err
	}
	if _, err := bv.WaitProcess(ctx, id, o.ProcessPoll); err != nil {
		return fmt.Errorf("waiting for import %d: %w", id, err)
	}
	return nil
}

// ensureAttributes creates the attributes written that Brevo lacks (an
// import drops unknown attributes without a word).
func ensureAttributes(ctx context.Context, bv Brevo, want []mapping.Attribute) error {
	have, err := bv.Attributes(ctx)
	if err != nil {
		return fmt.Errorf("listing Brevo contact attributes: %w", err)
	}
	names := make([]string, len(have))
	for i, a := range have {
		names[i] = a.Name
	}
	for _, a := range want {
		if slices.Contains(names, a.Name) {
			continue
		}
		if err := bv.CreateAttribute(ctx, "normal", a.Name, a.Type); err != nil {
			return fmt.Errorf("creating Brevo attribute %s (%s): %w", a.Name, a.Type, err)
		}
	}
	return nil
}
