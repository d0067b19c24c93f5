package loader

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/pkg/state"
)

// A Brevo import takes minutes; a loader stopped while Brevo runs one
// (killed, or a deploy whose drain is shorter than the import) has its
// messages delivered again with nothing recorded of the write, and the next
// loader would import the same rows again: a whole import's worth of
// contacts written twice, and its time at Brevo spent twice.
//
// So once Brevo has accepted an import, the import sink records it in the
// state bucket before waiting for it (importLog): its process, when, and a
// hash of each row with its key and source version. A loader about to
// import rows first looks for them there: a row an import recorded is not
// imported again; that import is waited for (polled within the budget, as
// any import) and, once completed, counts as the row's write. A record is
// forgotten once its loader has recorded what it wrote; the record of a
// loader that stopped first stays for importRecordTTL, for its messages'
// next delivery.

// importsKey holds the index of the recorded imports; each one's row
// hashes are under importsKey.<process>.<chunk>.
const importsKey = "brevo.imports"

const (
	// importRecordTTL is how long the record of an import whose loader
	// stopped is kept: its messages come back within their ack wait.
	importRecordTTL = 24 * time.Hour
	// hashesPerChunk bounds a chunk of row hashes to 64 KB, well within a
	// server's max_payload.
	hashesPerChunk = 8192
)

// importRecord is one recorded import, in the index.
type importRecord struct {
	Process int64 `json:"process"`
	At      int64 `json:"at"` // unix ms when Brevo accepted it
	Rows    int   `json:"rows"`
	Chunks  int   `json:"chunks"`
	// Status is "" until a loader saw the process end: "done", or
	// "failed" (its rows are imported again).
	Status string `json:"status,omitempty"`
}

// importLog keeps the import records in the state bucket (nil kv: none
// are kept).
type importLog struct {
	kv  jetstream.KeyValue
	now func() time.Time

	mu     sync.Mutex
	hashes map[int64]map[uint64]bool // row hashes by process, read once
}

// newImportLog keeps the records in st's bucket (nil st: none kept).
func newImportLog(st *state.Store, clock restcall.Clock) *importLog {
	if st == nil {
		return nil
	}
	return &importLog{kv: st.KeyValue(), now: clock.Now}
}

// hashRows identifies each row of rows named by idx (every row when idx
// is nil) as written: its bytes, its key and the source version (a later
// run writing the same content is another write).
func hashRows(rows *Rows, idx []int) []uint64 {
	n := len(idx)
	if idx == nil {
		n = rows.Len()
	}
	out := make([]uint64, n)
	h := sha256.New()
	var sum [sha256.Size]byte
	for k := range out {
		i := k
		if idx != nil {
			i = idx[k]
		}
		m := rows.Meta(i)
		h.Reset()
		var v [8]byte
		binary.LittleEndian.PutUint64(v[:], uint64(m.Version))
		h.Write(v[:])
		h.Write([]byte(m.Key))
		h.Write([]byte{0})
		h.Write(rows.Row(i))
		out[k] = binary.LittleEndian.Uint64(h.Sum(sum[:0]))
	}
	return out
}

// record writes the record of process, accepted at, importing the rows
// part names.
func (g *importLog) record(ctx context.Context, process int64, at time.Time, rows *Rows, part []int) error {
	if g == nil || g.kv == nil {
		return nil
	}
	hashes := hashRows(rows, part)
	slices.Sort(hashes)
	chunks := 0
	for from := 0; from < len(hashes); from += hashesPerChunk {
		to := min(from+hashesPerChunk, len(hashes))
		b := make([]byte, 0, 8*(to-from))
		for _, h := range hashes[from:to] {
			b = binary.LittleEndian.AppendUint64(b, h)
		}
		if _, err := g.kv.Put(ctx, chunkKey(process, chunks), b); err != nil {
			return fmt.Errorf("recording import process %d: %w", process, err)
		}
		chunks++
	}
	var expired []importRecord
	err := g.update(ctx, func(recs []importRecord) []importRecord {
		expired = expired[:0]
		keep := recs[:0]
		for _, r := range recs {
			if g.now().Sub(time.UnixMilli(r.At)) > importRecordTTL {
				expired = append(expired, r)
				continue
			}
			keep = append(keep, r)
		}
		return append(keep, importRecord{Process: process, At: at.UnixMilli(), Rows: len(part), Chunks: chunks})
	})
	if err != nil {
		return fmt.Errorf("recording import process %d: %w", process, err)
	}
	g.dropChunks(ctx, expired)
	return nil
}

// forget drops the records of processes (their writes are recorded).
func (g *importLog) forget(ctx context.Context, processes []int64) error {
	if g == nil || g.kv == nil || len(processes) == 0 {
		return nil
	}
	var gone []importRecord
	err := g.update(ctx, func(recs []importRecord) []importRecord {
		gone = gone[:0]
		return slices.DeleteFunc(recs, func(r importRecord) bool {
			if slices.Contains(processes, r.Process) {
				gone = append(gone, r)
				return true
			}
			return false
		})
	})
	if err != nil {
		return fmt.Errorf("forgetting import processes %v: %w", processes, err)
	}
	g.dropChunks(ctx, gone)
	return nil
}

// dropChunks deletes the row hashes of recs; one left behind is only
// bytes (the index no longer names it).
func (g *importLog) dropChunks(ctx context.Context, recs []importRecord) {
	for _, r := range recs {
		for c := range r.Chunks {
			_ = g.kv.Purge(ctx, chunkKey(r.Process, c))
		}
		g.mu.Lock()
		delete(g.hashes, r.Process)
		g.mu.Unlock()
	}
}

func chunkKey(process int64, chunk int) string {
	return importsKey + "." + strconv.FormatInt(process, 10) + "." + strconv.Itoa(chunk)
}

// records reads the index (nil: none).
func (g *importLog) records(ctx context.Context) ([]importRecord, uint64, error) {
	e, err := g.kv.Get(ctx, importsKey)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return nil, 0, nil
	case err != nil:
		return nil, 0, fmt.Errorf("reading the import records: %w", err)
	}
	var recs []importRecord
	if err := json.Unmarshal(e.Value(), &recs); err != nil {
		return nil, e.Revision(), nil // unreadable: as if none (rows are imported again)
	}
	return recs, e.Revision(), nil
}

// update applies f to the index, compare-and-set.
func (g *importLog) update(ctx context.Context, f func([]importRecord) []importRecord) error {
	for {
		recs, rev, err := g.records(ctx)
		if err != nil {
			return err
		}
		v, err := json.Marshal(f(recs))
		if err != nil {
			return err
		}
		if rev == 0 {
			_, err = g.kv.Create(ctx, importsKey, v)
		} else {
			_, err = g.kv.Update(ctx, importsKey, v, rev)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSequence(err) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// keepOnly lets go of the row hashes read for imports no longer recorded
// (another replica forgot them).
func (g *importLog) keepOnly(recs []importRecord) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for p := range g.hashes {
		if !slices.ContainsFunc(recs, func(r importRecord) bool { return r.Process == p }) {
			delete(g.hashes, p)
		}
	}
}

// rowHashes are the row hashes of rec, read once.
func (g *importLog) rowHashes(ctx context.Context, rec importRecord) (map[uint64]bool, error) {
	g.mu.Lock()
	set, ok := g.hashes[rec.Process]
	g.mu.Unlock()
	if ok {
		return set, nil
	}
	set = make(map[uint64]bool, rec.Rows)
	for c := range rec.Chunks {
		e, err := g.kv.Get(ctx, chunkKey(rec.Process, c))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, errRecordGone
		}
		if err != nil {
			return nil, fmt.Errorf("reading the rows of import process %d: %w", rec.Process, err)
		}
		for b := e.Value(); len(b) >= 8; b = b[8:] {
			set[binary.LittleEndian.Uint64(b)] = true
		}
	}
	g.mu.Lock()
	if g.hashes == nil {
		g.hashes = map[int64]map[uint64]bool{}
	}
	g.hashes[rec.Process] = set
	g.mu.Unlock()
	return set, nil
}

// imported finds which rows an import recorded: by row, the process that
// wrote it (0: none, or its process failed), each process waited for until
// it ended. On an error the rows are not to be imported now (the import
// sink has them retried).
func (g *importLog) imported(ctx context.Context, rows *Rows, track *tracker) ([]int64, error) {
	if g == nil || g.kv == nil || rows.Len() == 0 {
		return nil, nil
	}
	recs, _, err := g.records(ctx)
	if err != nil {
		return nil, err
	}
	g.keepOnly(recs)
	if len(recs) == 0 {
		return nil, nil
	}
	var (
		out    []int64
		hashes []uint64
	)
	for _, rec := range recs {
		if rec.Status == "failed" {
			continue
		}
		set, err := g.rowHashes(ctx, rec)
		if errors.Is(err, errRecordGone) {
			continue // as if not recorded: its rows are imported
		}
		if err != nil {
			return nil, err
		}
		if hashes == nil {
			hashes = hashRows(rows, nil)
		}
		var found []int
		for i, h := range hashes {
			if set[h] && (out == nil || out[i] == 0) {
				found = append(found, i)
			}
		}
		if len(found) == 0 {
			continue
		}
		if rec.Status != "done" {
			if err := g.awaitProcess(ctx, rec, track); err != nil {
				if errors.Is(err, errImportFailed) {
					continue
				}
				return nil, err
			}
		}
		if out == nil {
			out = make([]int64, rows.Len())
		}
		for _, i := range found {
			out[i] = rec.Process
		}
	}
	return out, nil
}

// errRecordGone: a record's row hashes are not in the bucket (removed by
// hand, or by a loader that expired it): it is read as no record, rather
// than stopping every import.
var errRecordGone = errors.New("the recorded import's rows are gone")

// errImportFailed: a recorded process ended without completing.
var errImportFailed = errors.New("the recorded import did not complete")

// awaitProcess waits for a recorded import that no loader saw end, and
// records how it ended.
func (g *importLog) awaitProcess(ctx context.Context, rec importRecord, track *tracker) error {
	_, err := track.wait(ctx, &expectation{}, rec.Process, rec.Rows, time.UnixMilli(rec.At))
	status := "done"
	if err != nil {
		if !errors.Is(err, errProcessEnded) {
			return err
		}
		status = "failed"
	}
	if uerr := g.update(ctx, func(recs []importRecord) []importRecord {
		for i := range recs {
			if recs[i].Process == rec.Process {
				recs[i].Status = status
			}
		}
		return recs
	}); uerr != nil {
		return uerr
	}
	if status == "failed" {
		return errImportFailed
	}
	return nil
}
