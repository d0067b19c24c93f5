package loader

import (
	"context"
	"fmt"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/pipeline"
)

// Upserter is what single upserts need from a Brevo client.
type Upserter interface {
	UpsertContact(ctx context.Context, c brevo.Contact) (created bool, err error)
}

// upsertSink writes rows one by one through POST /contacts (updateEnabled),
// each joining the lists an import would put it in. Brevo's 201 or 204 is
// not read: created or updated is the loader's fact (a contact created by
// an attempt whose answer was lost would count as updated).
type upsertSink struct {
	brevo Upserter
	lists []int64
}

var _ Sink = upsertSink{}

func (s upsertSink) Write(ctx context.Context, rows *Rows) []Result {
	out := make([]Result, rows.Len())
	for i := range rows.Len() {
		out[i] = s.write(ctx, rows, i)
	}
	return out
}

func (s upsertSink) write(ctx context.Context, rows *Rows, i int) Result {
	key := rows.Meta(i).Key
	ic, err := rows.Contact(i)
	if err != nil {
		return Result{Err: pipeline.Permanent("bad_row", err)}
	}
	c := brevo.Contact{Email: ic.Email, ExtID: ic.ExtID, Attributes: ic.Attributes, ListIDs: s.lists}
	_, err = s.brevo.UpsertContact(ctx, c)
	var res Result
	if err != nil && hasSMS(c) && isDuplicate(err, smsAttr) {
		// The phone number belongs to a Brevo contact the connector did
		// not write (or wrote without recording it): keep the rest of the
		// profile in sync and report the conflict.
		c.Attributes = withoutSMS(c.Attributes)
		res.WithoutSMS = true
		_, err = s.brevo.UpsertContact(ctx, c)
	}
	if err != nil {
		return Result{Err: classify(fmt.Errorf("upserting contact %s: %w", key, err))}
	}
	return res
}
