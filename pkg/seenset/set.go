package seenset

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config configures a Set. Zero values take the documented defaults.
type Config struct {
	// Stream and Subject hold the persisted ids. Required.
	Stream  string
	Subject string
	// Window is how long an id is remembered; default 5 days and 1 hour
	// (Braze re-sends Currents batches for 5 days).
	Window time.Duration
	// Bucket is the time slice ids are grouped and forgotten by; default 1h.
	Bucket time.Duration
	// MaxIDs bounds the ids held (8 bytes each); default 50,000,000
	// (400 MB). Past it the oldest bucket is forgotten early.
	MaxIDs int
	// Replicas of the stream; default 1.
	Replicas int
	// Logger; default discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = 5*24*time.Hour + time.Hour
	}
	if c.Bucket <= 0 {
		c.Bucket = time.Hour
	}
	if c.MaxIDs <= 0 {
		c.MaxIDs = 50_000_000
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// bucket is the ids of one time slice: a hash set while current, a sorted
// slice once sealed.
type bucket struct {
	start  int64 // unix nanos, a multiple of Config.Bucket
	live   map[uint64]struct{}
	sealed []uint64
}

func (b *bucket) has(h uint64) bool {
	if b.live != nil {
		_, ok := b.live[h]
		return ok
	}
	_, ok := slices.BinarySearch(b.sealed, h)
	return ok
}

func (b *bucket) len() int { return len(b.live) + len(b.sealed) }

func (b *bucket) seal() {
	if b.live == nil {
		return
	}
	s := make([]uint64, 0, len(b.live))
	for h := range b.live {
		s = append(s, h)
	}
	slices.Sort(s)
	b.sealed, b.live = s, nil
}

// Set is a time-bounded set of ids, persisted on a stream.
type Set struct {
	cfg Config
	js  jetstream.JetStream

	mu      sync.RWMutex
	buckets []*bucket // oldest first
	n       int

	cc jetstream.ConsumeContext
}

// Open creates (or updates) the stream, replays it and follows it until
// Close.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Set, error) {
	if cfg.Stream == "" || cfg.Subject == "" {
		return nil, errors.New("seenset: stream and subject are required")
	}
	cfg = cfg.withDefaults()
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "ids seen recently, in batches of 8-byte hashes (pkg/seenset)",
		Subjects:    []string{cfg.Subject},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		MaxAge:      cfg.Window,
		Discard:     jetstream.DiscardOld,
	})
	if err != nil {
		return nil, fmt.Errorf("seenset: provisioning stream %s: %w", cfg.Stream, err)
	}
	s := &Set{cfg: cfg, js: js}
	last := st.CachedInfo().State.LastSeq
	cons, err := js.OrderedConsumer(ctx, cfg.Stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{cfg.Subject}})
	if err != nil {
		return nil, fmt.Errorf("seenset: following stream %s: %w", cfg.Stream, err)
	}
	caught := make(chan struct{})
	var once sync.Once
	if last == 0 {
		once.Do(func() { close(caught) })
	}
	s.cc, err = cons.Consume(func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			return
		}
		s.load(m.Data(), md.Timestamp)
		if md.Sequence.Stream >= last {
			once.Do(func() { close(caught) })
		}
	})
	if err != nil {
		return nil, fmt.Errorf("seenset: following stream %s: %w", cfg.Stream, err)
	}
	select {
	case <-caught:
	case <-ctx.Done():
		s.cc.Stop()
		return nil, fmt.Errorf("seenset: replaying stream %s (%d batches): %w", cfg.Stream, last, ctx.Err())
	}
	cfg.Logger.Info("seen-set loaded", "stream", cfg.Stream, "ids", s.Len(), "buckets", len(s.buckets))
	return s, nil
}

// Close stops following the stream.
func (s *Set) Close() { s.cc.Stop() }

// Hash is the 8 bytes of id a Set keeps.
func Hash(id string) uint64 {
	h := sha256.Sum256([]byte(id))
	return binary.BigEndian.Uint64(h[:8])
}

// Contains reports whether id was added within the window.
func (s *Set) Contains(id string) bool {
	h := Hash(id)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := len(s.buckets) - 1; i >= 0; i-- {
		if s.buckets[i].has(h) {
			return true
		}
	}
	return false
}

// Len is the number of ids held.
func (s *Set) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n
}

// Add remembers ids, returning once the stream has stored them.
func (s *Set) Add(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	data := make([]byte, 8*len(ids))
	for i, id := range ids {
		binary.BigEndian.PutUint64(data[8*i:], Hash(id))
	}
	if _, err := s.js.PublishMsg(ctx, &nats.Msg{Subject: s.cfg.Subject, Data: data}); err != nil {
		return fmt.Errorf("seenset: storing %d ids: %w", len(ids), err)
	}
	s.load(data, s.cfg.Now())
	return nil
}

// load inserts a batch of hashes stamped at t.
func (s *Set) load(data []byte, t time.Time) {
	now := s.cfg.Now()
	if t.Before(now.Add(-s.cfg.Window)) {
		return
	}
	start := t.Truncate(s.cfg.Bucket).UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bucketFor(start)
	for i := 0; i+8 <= len(data); i += 8 {
		h := binary.BigEndian.Uint64(data[i:])
		if b.has(h) {
			continue
		}
		b.live[h] = struct{}{}
		s.n++
	}
	s.expire(now)
}

// bucketFor returns the live bucket ids stamped at start go to: the
// current one, or a new one when start is later. Late ids (a sealed
// bucket's time) join the newest bucket, which only makes them live
// longer. Call with mu held.
func (s *Set) bucketFor(start int64) *bucket {
	if k := len(s.buckets); k > 0 && s.buckets[k-1].start >= start {
		return s.buckets[k-1]
	}
	if k := len(s.buckets); k > 0 {
		s.buckets[k-1].seal()
	}
	b := &bucket{start: start, live: map[uint64]struct{}{}}
	s.buckets = append(s.buckets, b)
	return b
}

// expire drops buckets past the window, and the oldest while over MaxIDs.
// Call with mu held.
func (s *Set) expire(now time.Time) {
	cut := now.Add(-s.cfg.Window).UnixNano()
	drop := 0
	for drop < len(s.buckets)-1 && (s.buckets[drop].start+int64(s.cfg.Bucket) <= cut || s.n > s.cfg.MaxIDs) {
		if s.n > s.cfg.MaxIDs && s.buckets[drop].start+int64(s.cfg.Bucket) > cut {
			s.cfg.Logger.Warn("seen-set over max ids: forgetting the oldest bucket before its time; re-sends of its ids will not be recognised",
				"max_ids", s.cfg.MaxIDs, "bucket", time.Unix(0, s.buckets[drop].start).UTC())
		}
		s.n -= s.buckets[drop].len()
		drop++
	}
	if drop > 0 {
		s.buckets = slices.Delete(s.buckets, 0, drop)
	}
}
