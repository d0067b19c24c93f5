package analytics

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tajo-sync/tajo/proto"
)

// Day is one campaign's or Canvas's figures of one day, as last read.
type Day struct {
	Kind    string    `msgpack:"k"`
	ID      string    `msgpack:"id"`
	Date    string    `msgpack:"d"` // YYYY-MM-DD
	Figures Figures   `msgpack:"f"`
	ReadAt  time.Time `msgpack:"at"`
	// Steps and Variants break a Canvas's day down, by step and variant id.
	Steps    map[string]Breakdown `msgpack:"steps,omitempty"`
	Variants map[string]Breakdown `msgpack:"variants,omitempty"`
}

// Meta is what is known of a tracked campaign or Canvas.
type Meta struct {
	Kind       string   `msgpack:"k" json:"kind"`
	ID         string   `msgpack:"id" json:"id"`
	Name       string   `msgpack:"name" json:"name"`
	CreatedAt  string   `msgpack:"created,omitempty" json:"createdAt,omitempty"`
	LastEdited string   `msgpack:"edited,omitempty" json:"lastEdited,omitempty"`
	Archived   bool     `msgpack:"archived,omitempty" json:"archived,omitempty"`
	Draft      bool     `msgpack:"draft,omitempty" json:"draft,omitempty"`
	Channels   []string `msgpack:"channels,omitempty" json:"channels,omitempty"`
	// FirstSent and LastSent (first and last entry for a Canvas) bound
	// the days worth reading (YYYY-MM-DD, "" unknown).
	FirstSent string `msgpack:"first,omitempty" json:"firstSent,omitempty"`
	LastSent  string `msgpack:"last,omitempty" json:"lastSent,omitempty"`
	// ReadThrough is the last day read (YYYY-MM-DD): the next read starts
	// the trailing window before it.
	ReadThrough string `msgpack:"through,omitempty" json:"readThrough,omitempty"`
}

// BrevoCampaign is a Brevo email campaign's statistics, as last read.
type BrevoCampaign struct {
	ID       int64     `msgpack:"id" json:"id"`
	Name     string    `msgpack:"name" json:"name"`
	Subject  string    `msgpack:"subject,omitempty" json:"subject,omitempty"`
	SentDate string    `msgpack:"sent,omitempty" json:"sentDate,omitempty"`
	Figures  Figures   `msgpack:"f" json:"figures"`
	ReadAt   time.Time `msgpack:"at" json:"-"`
}

// Store reads and writes the tajo_analytics bucket.
type Store struct {
	kv jetstream.KeyValue
}

// Open opens the bucket (it must have been provisioned).
func Open(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	kv, err := js.KeyValue(ctx, proto.BucketAnalytics)
	if err != nil {
		return nil, fmt.Errorf("opening bucket %s: %w", proto.BucketAnalytics, err)
	}
	return &Store{kv: kv}, nil
}

var plain = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// token is an id as a key token: as is when it can be, else hex after "x".
func token(id string) string {
	if plain.MatchString(id) && !strings.HasPrefix(id, "x") {
		return id
	}
	return "x" + hex.EncodeToString([]byte(id))
}

func dayKey(kind, id, date string) string {
	return "day." + kind + "." + token(id) + "." + strings.ReplaceAll(date, "-", "")
}

func metaKey(kind, id string) string { return "meta." + kind + "." + token(id) }

func brevoKey(id int64) string { return fmt.Sprintf("brevo.%d", id) }

// PutDay stores d, replacing what was stored for its (kind, id, day).
func (s *Store) PutDay(ctx context.Context, d Day) error {
	if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
		return fmt.Errorf("storing %s %s: day %q is not YYYY-MM-DD", d.Kind, d.ID, d.Date)
	}
	return s.put(ctx, dayKey(d.Kind, d.ID, d.Date), d)
}

// GetDay reads one stored day; ok false when none is.
func (s *Store) GetDay(ctx context.Context, kind, id, date string) (d Day, ok bool, err error) {
	ok, err = s.get(ctx, dayKey(kind, id, date), &d)
	return d, ok, err
}

// PutMeta stores m.
func (s *Store) PutMeta(ctx context.Context, m Meta) error {
	return s.put(ctx, metaKey(m.Kind, m.ID), m)
}

// GetMeta reads what is known of a campaign or Canvas.
func (s *Store) GetMeta(ctx context.Context, kind, id string) (m Meta, ok bool, err error) {
	ok, err = s.get(ctx, metaKey(kind, id), &m)
	return m, ok, err
}

// Metas returns every tracked campaign or Canvas of kind ("" both).
func (s *Store) Metas(ctx context.Context, kind string) ([]Meta, error) {
	filter := "meta.>"
	if kind != "" {
		filter = "meta." + kind + ".*"
	}
	var out []Meta
	err := s.each(ctx, filter, func(v []byte) error {
		var m Meta
		if err := msgpack.Unmarshal(v, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// PutBrevo stores a Brevo campaign's statistics.
func (s *Store) PutBrevo(ctx context.Context, c BrevoCampaign) error {
	return s.put(ctx, brevoKey(c.ID), c)
}

// Tracked counts the campaigns and Canvases tracked (status's
// campaignsTracked).
func (s *Store) Tracked(ctx context.Context) (int, error) {
	l, err := s.kv.ListKeysFiltered(ctx, "meta.>")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return 0, nil
		}
		return 0, fmt.Errorf("counting what analytics track: %w", err)
	}
	n := 0
	for range l.Keys() {
		n++
	}
	return n, nil
}

func (s *Store) put(ctx context.Context, key string, v any) error {
	b, err := msgpack.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	if _, err := s.kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("storing %s: %w", key, err)
	}
	return nil
}

func (s *Store) get(ctx context.Context, key string, v any) (bool, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", key, err)
	}
	if err := msgpack.Unmarshal(e.Value(), v); err != nil {
		return false, fmt.Errorf("reading %s: corrupt value: %w", key, err)
	}
	return true, nil
}

// each calls fn with the value of every key matching filter, streaming the
// bucket (memory holds one value at a time).
func (s *Store) each(ctx context.Context, filter string, fn func([]byte) error) error {
	w, err := s.kv.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("reading %s %s: %w", proto.BucketAnalytics, filter, err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("reading %s %s: the watch ended early", proto.BucketAnalytics, filter)
			}
			if e == nil {
				return nil // every current value delivered
			}
			if err := fn(e.Value()); err != nil {
				return fmt.Errorf("reading %s %s: %w", proto.BucketAnalytics, e.Key(), err)
			}
		}
	}
}
