// Package catalogstate remembers, per Braze catalog, what was last applied
// at Brevo for each item: the source version, the fingerprint of the
// product written, whether it was written deleted, and its name (Brevo
// wants a name even on a deletion). The transformer compares against it to
// pass on only changed items, the loader refuses an older version over a
// newer one and records what it wrote, and the extractor walks it to find
// the items Braze no longer lists.
//
// Storage is compact: the items of a catalog are spread over Shards keys
// of the tajo_catalogs bucket ("p.<catalog>.<shard>"), each a msgpack map
// from item id to its entry, written with compare-and-set on the key's
// revision so that concurrent loaders never lose each other's entries. A
// key per item would grow the server's per-subject index with the catalog;
// 256 keys hold a million items in values of ~150 KB. The categories
// written so far are one more key ("categories").
//
// A Store is safe for concurrent use.
package catalogstate

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"sort"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/proto"
)

// Shards is how many keys hold one catalog's items.
const Shards = 256

// casAttempts bounds the compare-and-set rounds of one shard write.
const casAttempts = 20

// Entry is what was last applied at Brevo for one item.
type Entry struct {
	Version     int64  // source version (unix ms of the run that read it)
	Fingerprint string // of the product written (catalogmap.Fingerprint)
	Deleted     bool   // written as deleted
	Name        string // the product's name as written
	Run         string // proto.RunTag of the run that wrote it
	Outcome     byte   // the ledger cell that run counted it as (created, updated)
}

// stored is Entry on disk, as a msgpack array.
type stored struct {
	_msgpack struct{} `msgpack:",as_array"`
	V        int64
	F        string
	D        bool
	N        string
	R        string
	O        byte
}

// Store reads and writes catalog entries in the tajo_catalogs bucket.
type Store struct {
	kv jetstream.KeyValue
}

// Open opens the bucket (it must have been provisioned).
func Open(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	kv, err := js.KeyValue(ctx, proto.BucketCatalogs)
	if err != nil {
		return nil, fmt.Errorf("opening bucket %s: %w", proto.BucketCatalogs, err)
	}
	return &Store{kv: kv}, nil
}

// OpenWithLedger opens what every stage of the catalog sync keeps: the
// items' store and the catalog runs' ledger (proto.BucketCatalogLedger).
// Both buckets must have been provisioned.
func OpenWithLedger(ctx context.Context, js jetstream.JetStream) (*Store, *ledger.Ledger, error) {
	s, err := Open(ctx, js)
	if err != nil {
		return nil, nil, err
	}
	led, err := ledger.Open(ctx, js, proto.BucketCatalogLedger)
	if err != nil {
		return nil, nil, err
	}
	return s, led, nil
}

var plainToken = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// catalogKey is a catalog name as a key token: as is when it can be, else
// hex (catalog names Braze accepts always can).
func catalogKey(catalog string) string {
	if plainToken.MatchString(catalog) {
		return catalog
	}
	return "x" + hex.EncodeToString([]byte(catalog))
}

// ShardOf is the shard of an item id.
func ShardOf(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % Shards)
}

func shardKey(catalog string, shard int) string {
	return fmt.Sprintf("p.%s.%03x", catalogKey(catalog), shard)
}

// shard is one stored shard and the revision it was read at (0: absent).
type shard struct {
	rev     uint64
	entries map[string]stored
}

func (s *Store) read(ctx context.Context, key string) (shard, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return shard{entries: map[string]stored{}}, nil
	}
	if err != nil {
		return shard{}, fmt.Errorf("reading %s %s: %w", proto.BucketCatalogs, key, err)
	}
	sh := shard{rev: e.Revision(), entries: map[string]stored{}}
	if err := msgpack.Unmarshal(e.Value(), &sh.entries); err != nil {
		return shard{}, fmt.Errorf("reading %s %s: the shard is corrupt: %w", proto.BucketCatalogs, key, err)
	}
	return sh, nil
}

// Get returns the entry of each id that has one.
func (s *Store) Get(ctx context.Context, catalog string, ids []string) (map[string]Entry, error) {
	out := make(map[string]Entry, len(ids))
	for sh, group := range byShard(ids) {
		st, err := s.read(ctx, shardKey(catalog, sh))
		if err != nil {
			return nil, err
		}
		for _, id := range group {
			if v, ok := st.entries[id]; ok {
				out[id] = fromStored(v)
			}
		}
	}
	return out, nil
}

// ModifyFunc decides an item's new entry from its current one (ok false:
// none); write false leaves it as it is. It is called again with the newer
// entry when another writer changed the shard in between, so it must keep
// no state across calls.
type ModifyFunc func(id string, cur Entry, ok bool) (next Entry, write bool)

// Modify applies fn to each id with one compare-and-set per shard touched.
func (s *Store) Modify(ctx context.Context, catalog string, ids []string, fn ModifyFunc) error {
	for sh, group := range byShard(ids) {
		if err := s.modifyShard(ctx, shardKey(catalog, sh), group, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) modifyShard(ctx context.Context, key string, ids []string, fn ModifyFunc) error {
	for range casAttempts {
		st, err := s.read(ctx, key)
		if err != nil {
			return err
		}
		changed := false
		for _, id := range ids {
			cur, ok := st.entries[id]
			next, write := fn(id, fromStored(cur), ok)
			if !write {
				continue
			}
			if n := toStored(next); !ok || n != cur {
				st.entries[id] = n
				changed = true
			}
		}
		if !changed {
			return nil
		}
		data, err := msgpack.Marshal(st.entries)
		if err != nil {
			return fmt.Errorf("encoding %s %s: %w", proto.BucketCatalogs, key, err)
		}
		if st.rev == 0 {
			_, err = s.kv.Create(ctx, key, data)
		} else {
			_, err = s.kv.Update(ctx, key, data, st.rev)
		}
		if err == nil {
			return nil
		}
		if !conflict(err) {
			return fmt.Errorf("writing %s %s: %w", proto.BucketCatalogs, key, err)
		}
	}
	return fmt.Errorf("writing %s %s: still conflicting after %d attempts", proto.BucketCatalogs, key, casAttempts)
}

// conflict tells a compare-and-set another writer won.
func conflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence)
}

// Each calls fn for every entry of catalog, a shard at a time (memory
// holds one shard), in no particular order.
func (s *Store) Each(ctx context.Context, catalog string, fn func(id string, e Entry) error) error {
	for sh := range Shards {
		st, err := s.read(ctx, shardKey(catalog, sh))
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(st.entries))
		for id := range st.entries {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if err := fn(id, fromStored(st.entries[id])); err != nil {
				return err
			}
		}
	}
	return nil
}

const categoriesKey = "categories"

// Categories returns the categories written so far: id -> name.
func (s *Store) Categories(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	e, err := s.kv.Get(ctx, categoriesKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the categories written: %w", err)
	}
	if err := msgpack.Unmarshal(e.Value(), &out); err != nil {
		return nil, fmt.Errorf("reading the categories written: corrupt value: %w", err)
	}
	return out, nil
}

// AddCategories records categories (id -> name) as written.
func (s *Store) AddCategories(ctx context.Context, cats map[string]string) error {
	for range casAttempts {
		var rev uint64
		cur := map[string]string{}
		e, err := s.kv.Get(ctx, categoriesKey)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return fmt.Errorf("recording categories: %w", err)
		default:
			rev = e.Revision()
			if err := msgpack.Unmarshal(e.Value(), &cur); err != nil {
				return fmt.Errorf("recording categories: corrupt value: %w", err)
			}
		}
		changed := false
		for id, name := range cats {
			if cur[id] != name {
				cur[id] = name
				changed = true
			}
		}
		if !changed {
			return nil
		}
		data, err := msgpack.Marshal(cur)
		if err != nil {
			return err
		}
		if rev == 0 {
			_, err = s.kv.Create(ctx, categoriesKey, data)
		} else {
			_, err = s.kv.Update(ctx, categoriesKey, data, rev)
		}
		if err == nil {
			return nil
		}
		if !conflict(err) {
			return fmt.Errorf("recording categories: %w", err)
		}
	}
	return fmt.Errorf("recording categories: still conflicting after %d attempts", casAttempts)
}

func byShard(ids []string) map[int][]string {
	out := map[int][]string{}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		sh := ShardOf(id)
		out[sh] = append(out[sh], id)
	}
	return out
}

func fromStored(v stored) Entry {
	return Entry{Version: v.V, Fingerprint: v.F, Deleted: v.D, Name: v.N, Run: v.R, Outcome: v.O}
}

func toStored(e Entry) stored {
	return stored{V: e.Version, F: e.Fingerprint, D: e.Deleted, N: e.Name, R: e.Run, O: e.Outcome}
}
