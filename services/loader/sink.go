package loader

import (
	"bytes"
	"context"
	"fmt"

	"github.com/tajo-sync/tajo/pkg/brevo"
)

// A Sink is one way of writing contacts to Brevo: an import
// (importSink), single upserts (upsertSink), the bisection of an import
// Brevo refused (bisection), or a dry run's plan (planSink). The loader
// decides everything about a contact before a sink sees it (create or
// update, the identifiers it is written without, the attributes it clears)
// and encodes it once as a row; a sink only writes rows. Every sink leaves
// Brevo holding the same for the same rows (sink_contract_test.go): each
// row's attributes (an empty value clears one), its email, ext_id and SMS,
// membership of the sink's lists, and the blocklist flags untouched
// (emailBlacklisted and smsBlacklisted are never sent).
type Sink interface {
	// Write writes every row and returns one Result per row, in order.
	Write(ctx context.Context, rows *Rows) []Result
}

// Result is what became of one row.
type Result struct {
	// Err is nil when Brevo holds the row; else classified (classify): a
	// pipeline.PermanentError for a row Brevo refuses, anything else to be
	// retried.
	Err error
	// WithoutSMS: Brevo answered that another contact holds the row's SMS,
	// and the row was written without it.
	WithoutSMS bool
	// Import is the import process that wrote the row (0: none), and
	// Earlier says it was an earlier delivery's import, recorded by a
	// loader that stopped before it recorded the write (importlog.go).
	Import  int64
	Earlier bool
}

// Rows are contacts to write, each encoded once, as it is decided, as one
// object of an import's jsonBody (brevo.AppendImportRow): an import copies
// the bytes, a single upsert or a plan reads them back. Not safe for
// concurrent use.
type Rows struct {
	rows    [][]byte
	meta    []RowMeta
	size    int
	scratch []byte
}

// RowMeta is what the loader decided about a row beyond its content.
type RowMeta struct {
	Key     string // the connector's record key
	Create  bool   // counted as a creation: the connector never wrote the key
	Version int64  // the source version written
}

// Add encodes c as the next row.
func (r *Rows) Add(c brevo.ImportContact, m RowMeta) error {
	row, err := brevo.AppendImportRow(r.scratch[:0], c)
	r.scratch = row
	if err != nil {
		return fmt.Errorf("encoding contact %s: %w", m.Key, err)
	}
	r.addRow(bytes.Clone(row), m)
	return nil
}

// addRow appends a row already encoded; r keeps row, which must not change.
func (r *Rows) addRow(row []byte, m RowMeta) {
	r.rows = append(r.rows, row)
	r.meta = append(r.meta, m)
	r.size += len(row)
}

// Len is the number of rows.
func (r *Rows) Len() int { return len(r.rows) }

// Size is the bytes the rows take encoded.
func (r *Rows) Size() int { return r.size }

// release lets go of the rows idx names (Row answers nil for them): once
// Brevo accepted their import, which holds their bytes, the batch waits
// for it to complete, seconds to minutes, with nothing reading them.
func (r *Rows) release(idx []int) {
	for _, i := range idx {
		r.rows[i] = nil
	}
}

// Row is row i as encoded; the bytes are shared, not to be changed.
func (r *Rows) Row(i int) []byte { return r.rows[i] }

// Meta is what the loader decided about row i.
func (r *Rows) Meta(i int) RowMeta { return r.meta[i] }

// Contact reads row i back.
func (r *Rows) Contact(i int) (brevo.ImportContact, error) {
	c, err := brevo.ParseImportRow(r.Row(i))
	if err != nil {
		return c, fmt.Errorf("contact %s: %w", r.meta[i].Key, err)
	}
	return c, nil
}

// subset copies the rows idx names, in that order.
func (r *Rows) subset(idx []int) *Rows {
	out := &Rows{}
	for _, i := range idx {
		out.addRow(r.Row(i), r.meta[i])
	}
	return out
}
