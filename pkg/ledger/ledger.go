// Package ledger records, for every line of a run's export, what became of
// it: published, written (created or updated), unchanged, dead-lettered,
// ... once, whatever the redeliveries, kills and restarts on the way.
//
// A run's summary is counted from the ledger, not from counters that each
// stage adds to: a worker killed between counting and acknowledging counts
// a redelivered message twice, and one killed between acknowledging and
// counting not at all. Here every stage marks the lines it settled before it
// acknowledges them, and a mark is idempotent (marks merge by taking the
// furthest outcome and the union of flags), so a redelivery marks the same
// line again with no effect. The extractor numbers the lines of the export
// (a resumed run reads the same export in the same order), so a line read
// twice is still one line.
//
// Storage: one byte per line, in shards of ShardLines lines, one key per
// (run, stage, shard) in the tajo_ledger bucket, written with
// compare-and-set. A million-user run takes about 1 MB per stage; Prune
// removes the ledgers of runs no longer wanted.
package ledger

import (
	"fmt"
	"strings"
)

// Outcome is what became of a line. Outcomes are ordered: a line's outcome
// is the furthest any mark gave it.
type Outcome byte

// Outcomes, in order.
const (
	None         Outcome = iota // not seen
	Exported                    // published to the RAW stream by the extractor
	Passed                      // mapped and passed downstream by the transformer
	DeadLettered                // in the DLQ (malformed, unmappable, refused by the vendor)
	Stale                       // older than what the vendor already holds: skipped
	Merged                      // superseded by a newer record of the same key in the same batch
	Unchanged                   // the vendor already holds this content
	Updated                     // written over an existing contact
	Created                     // written as a new contact
)

var outcomeNames = [...]string{"none", "exported", "passed", "dead-lettered", "stale", "merged", "unchanged", "updated", "created"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", o)
}

// Final reports whether the line needs nothing more from any stage.
func (o Outcome) Final() bool { return o >= DeadLettered }

// Flags qualify an outcome; they accumulate.
type Flags byte

// Flags.
const (
	WithoutEmail Flags = 1 << iota // written without its email (invalid, or another contact's)
	WithoutSMS                     // written without its SMS (another contact's)
	Refused                        // dead-lettered because the vendor refused the write
	// Contested: dead-lettered for an identifier another user holds; it
	// may go through once that user lets it go, so the line is handled
	// again next run even unchanged.
	Contested
)

// Mark is one line's outcome.
type Mark struct {
	Line    int64
	Outcome Outcome
	Flags   Flags
}

// cell packs a mark into the byte stored: outcome in the low nibble, flags
// in the high one.
func cell(o Outcome, f Flags) byte { return byte(o)&0x0f | byte(f)<<4 }

func unpack(b byte) (Outcome, Flags) { return Outcome(b & 0x0f), Flags(b >> 4) }

// Cell packs an outcome and its flags into one byte, as the ledger stores
// them; a stage that keeps an outcome with its own state (the loader's
// applied record) keeps it in this form.
func Cell(o Outcome, f Flags) byte { return cell(o, f) }

// Unpack reads a Cell.
func Unpack(b byte) (Outcome, Flags) { return unpack(b) }

// merge combines two cells: the furthest outcome, every flag.
func merge(a, b byte) byte {
	oa, fa := unpack(a)
	ob, fb := unpack(b)
	return cell(max(oa, ob), fa|fb)
}

// ShardLines is how many lines one stored shard covers.
const ShardLines = 4096

// key is the bucket key of one shard of a run's stage.
func key(run, stage string, shard int64) string {
	return token(run) + "." + token(stage) + "." + fmt.Sprint(shard)
}

// token keeps a key segment within what KV keys allow.
func token(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
