package ledger

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// casAttempts bounds the compare-and-set rounds of one shard write.
const casAttempts = 50

// Ledger reads and writes the ledgers of runs in one bucket. It is safe for
// concurrent use, from any number of processes.
type Ledger struct {
	js     jetstream.JetStream
	kv     jetstream.KeyValue
	bucket string
}

// Open opens bucket (it must have been provisioned).
func Open(ctx context.Context, js jetstream.JetStream, bucket string) (*Ledger, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("opening the run ledger %s: %w", bucket, err)
	}
	return &Ledger{js: js, kv: kv, bucket: bucket}, nil
}

// Mark records marks for run as seen by stage. It returns once the server
// has stored them. Marking a line again is harmless.
func (l *Ledger) Mark(ctx context.Context, run, stage string, marks []Mark) error {
	if run == "" || len(marks) == 0 {
		return nil
	}
	byShard := map[int64][]Mark{}
	for _, m := range marks {
		if m.Line < 0 || m.Outcome == None {
			continue
		}
		s := m.Line / ShardLines
		byShard[s] = append(byShard[s], m)
	}
	for s, ms := range byShard {
		if err := l.markShard(ctx, key(run, stage, s), s, ms); err != nil {
			return fmt.Errorf("recording %d outcomes of run %s: %w", len(marks), run, err)
		}
	}
	return nil
}

func (l *Ledger) markShard(ctx context.Context, k string, shard int64, marks []Mark) error {
	for attempt := range casAttempts {
		var data []byte
		var rev uint64
		e, err := l.kv.Get(ctx, k)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return err
		default:
			data, rev = e.Value(), e.Revision()
		}
		out := append([]byte(nil), data...)
		changed := false
		for _, m := range marks {
			i := int(m.Line - shard*ShardLines)
			if i >= len(out) {
				out = append(out, make([]byte, i+1-len(out))...)
			}
			if c := merge(out[i], cell(m.Outcome, m.Flags)); c != out[i] {
				out[i], changed = c, true
			}
		}
		if !changed {
			return nil
		}
		if rev == 0 {
			_, err = l.kv.Create(ctx, k, out)
		} else {
			_, err = l.kv.Update(ctx, k, out, rev)
		}
		if err == nil {
			return nil
		}
		if !conflict(err) {
			return err
		}
		// Another writer won the shard: step aside a little, at random, so
		// that writers racing for it do not collide again in lockstep.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(rand.Int64N(int64(min(attempt+1, 20)) * int64(time.Millisecond)))):
		}
	}
	return fmt.Errorf("shard %s still conflicting after %d attempts", k, casAttempts)
}

func conflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence)
}

// Tally counts what became of the lines of a run.
type Tally struct {
	Lines     int64              // lines in the export
	ByOutcome [Created + 1]int64 // final outcome of each line (None: never marked)
	// Missing counts the lines no stage settled: neither written,
	// unchanged, stale, merged nor dead-lettered. MissingLines lists the
	// first of them.
	Missing      int64
	MissingLines []int64
	WithoutEmail int64
	WithoutSMS   int64
	Refused      int64
}

// maxMissingLines bounds Tally.MissingLines.
const maxMissingLines = 20

// Tally reads the ledger of run for an export of lines lines, as marked by
// stages, shard by shard (memory stays at one shard).
func (l *Ledger) Tally(ctx context.Context, run string, lines int64, stages ...string) (Tally, error) {
	t := Tally{Lines: lines}
	shards := (lines + ShardLines - 1) / ShardLines
	merged := make([]byte, ShardLines)
	for s := range shards {
		if err := l.readShard(ctx, run, stages, s, merged); err != nil {
			return t, err
		}
		n := min(ShardLines, lines-s*ShardLines)
		for i := range n {
			o, f := unpack(merged[i])
			t.ByOutcome[o]++
			if !o.Final() {
				t.Missing++
				if len(t.MissingLines) < maxMissingLines {
					t.MissingLines = append(t.MissingLines, s*ShardLines+i)
				}
			}
			if f&WithoutEmail != 0 {
				t.WithoutEmail++
			}
			if f&WithoutSMS != 0 {
				t.WithoutSMS++
			}
			if f&Refused != 0 {
				t.Refused++
			}
		}
	}
	return t, nil
}

// readShard merges the cells of shard s of run's stages into merged.
func (l *Ledger) readShard(ctx context.Context, run string, stages []string, s int64, merged []byte) error {
	clear(merged)
	for _, stage := range stages {
		e, err := l.kv.Get(ctx, key(run, stage, s))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the ledger of run %s: %w", run, err)
		}
		for i, b := range e.Value() {
			if i < len(merged) {
				merged[i] = merge(merged[i], b)
			}
		}
	}
	return nil
}

// Cursor reads the outcomes of a run's lines in increasing line order,
// holding one shard at a time.
type Cursor struct {
	l      *Ledger
	run    string
	stages []string
	shard  int64
	cells  []byte
}

// Cursor reads the ledger of run as marked by stages.
func (l *Ledger) Cursor(run string, stages ...string) *Cursor {
	return &Cursor{l: l, run: run, stages: stages, shard: -1, cells: make([]byte, ShardLines)}
}

// At returns the outcome of line. Lines are best asked in increasing
// order: each shard is read once then.
func (c *Cursor) At(ctx context.Context, line int64) (Outcome, Flags, error) {
	if line < 0 {
		return None, 0, fmt.Errorf("ledger line %d: lines are numbered from 0", line)
	}
	if s := line / ShardLines; s != c.shard {
		if err := c.l.readShard(ctx, c.run, c.stages, s, c.cells); err != nil {
			c.shard = -1
			return None, 0, err
		}
		c.shard = s
	}
	o, f := unpack(c.cells[line%ShardLines])
	return o, f, nil
}

// Reached counts the lines whose outcome is o or further.
func (t Tally) Reached(o Outcome) int64 {
	var n int64
	for i := o; i <= Created; i++ {
		n += t.ByOutcome[i]
	}
	return n
}

// keys lists the bucket's keys matching filter.
func (l *Ledger) keys(ctx context.Context, filter string) ([]string, error) {
	lister, err := l.kv.ListKeysFiltered(ctx, filter)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range lister.Keys() {
		out = append(out, k)
	}
	return out, nil
}

// Prune removes the ledgers of every run but those in keep. It purges
// the bucket's stream by subject, leaving no delete markers behind.
func (l *Ledger) Prune(ctx context.Context, keep ...string) error {
	keys, err := l.keys(ctx, ">")
	if err != nil {
		return fmt.Errorf("listing run ledgers: %w", err)
	}
	kept := map[string]bool{}
	for _, r := range keep {
		kept[token(r)] = true
	}
	runs := map[string]bool{}
	for _, k := range keys {
		if r, _, ok := strings.Cut(k, "."); ok && !kept[r] {
			runs[r] = true
		}
	}
	if len(runs) == 0 {
		return nil
	}
	s, err := l.js.Stream(ctx, "KV_"+l.bucket)
	if err != nil {
		return fmt.Errorf("pruning run ledgers: %w", err)
	}
	names := make([]string, 0, len(runs))
	for r := range runs {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		if err := s.Purge(ctx, jetstream.WithPurgeSubject("$KV."+l.bucket+"."+r+".>")); err != nil {
			return fmt.Errorf("pruning the ledger of run %s: %w", r, err)
		}
	}
	return nil
}
