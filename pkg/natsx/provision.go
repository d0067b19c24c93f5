package natsx

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// ProvisionOptions tune the streams and buckets Provision creates.
type ProvisionOptions struct {
	// Replicas of every stream and bucket; default 1 (3 in a cluster).
	Replicas int `yaml:"replicas"`
	// DedupWindow is how long a Nats-Msg-Id is remembered; default 30s.
	// It covers publish retries; the server keeps every id of the window in
	// memory, so at 10,000 messages a second a 2m window would hold 1.2M ids
	// per stream.
	DedupWindow time.Duration `yaml:"dedup_window"`
	// DLQMaxAge is how long dead letters are kept; default 30 days.
	DLQMaxAge time.Duration `yaml:"dlq_max_age"`
	// AuditMaxAge is how long audit entries are kept; default 7 days.
	AuditMaxAge time.Duration `yaml:"audit_max_age"`
}

func (o ProvisionOptions) withDefaults() ProvisionOptions {
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.DedupWindow <= 0 {
		o.DedupWindow = 30 * time.Second
	}
	if o.DLQMaxAge <= 0 {
		o.DLQMaxAge = 30 * 24 * time.Hour
	}
	if o.AuditMaxAge <= 0 {
		o.AuditMaxAge = 7 * 24 * time.Hour
	}
	return o
}

// Streams returns the stream configurations Provision applies.
func Streams(o ProvisionOptions) []jetstream.StreamConfig {
	o = o.withDefaults()
	return []jetstream.StreamConfig{
		{
			Name:        proto.StreamRaw,
			Description: "raw records read from the vendors, one consumer per subject",
			Subjects:    []string{proto.SubjectsRaw},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
			Duplicates:  o.DedupWindow,
			// A worker reads back a message it let go of once prepared
			// (pipeline: a compacted one, a side letter's pack): a direct
			// get answers the stored message as it is, where the stream
			// API answers JSON with the body in base64 (a pack of users,
			// ~100 KB, for one of them).
			AllowDirect: true,
		},
		{
			Name:        proto.StreamOps,
			Description: "operations the loader must apply at the vendors",
			Subjects:    []string{proto.SubjectsOps},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
			Duplicates:  o.DedupWindow,
			AllowDirect: true, // as RAW
		},
		{
			Name:        proto.StreamDLQ,
			Description: "messages no stage could handle, with the reason",
			Subjects:    []string{proto.SubjectsDLQ},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
			MaxAge:      o.DLQMaxAge,
			// Dead letters are few: a long window costs little memory and
			// keeps a record dead-lettered again (after a restart or a
			// resumed export) from showing twice.
			Duplicates: 24 * time.Hour,
		},
		{
			Name:        proto.StreamAudit,
			Description: "one entry per vendor API call",
			Subjects:    []string{proto.SubjectsAudit},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
			MaxAge:      o.AuditMaxAge,
		},
	}
}

// Buckets returns the key-value configurations Provision applies.
func Buckets(o ProvisionOptions) []jetstream.KeyValueConfig {
	o = o.withDefaults()
	return []jetstream.KeyValueConfig{
		{Bucket: proto.BucketState, Description: "sync runs, cursors and counters", History: 1,
			Storage: jetstream.FileStorage, Replicas: o.Replicas},
		{Bucket: proto.BucketFingerprints, Description: "hash of the last mapped record per key", History: 1,
			Storage: jetstream.FileStorage, Replicas: o.Replicas},
		{Bucket: proto.BucketClaims, Description: "record key owning each unique vendor identifier", History: 1,
			Storage: jetstream.FileStorage, Replicas: o.Replicas},
		{Bucket: proto.BucketLedger, Description: "what became of each line of a run's export", History: 1,
			Storage: jetstream.FileStorage, Replicas: o.Replicas},
		{Bucket: proto.BucketCatalogs, Description: "what was last applied per catalog item, sharded per catalog", History: 1,
			Storage: jetstream.FileStorage, Replicas: o.Replicas},
		{Bucket: proto.BucketCatalogLedger, Description: "what became of each line of a catalog run", History: 1,
			Storage: jetstream.FileStorage, Replicas: o.Replicas},
		{Bucket: proto.BucketAnalytics, Description: "campaign and Canvas statistics per (id, day), replaced on re-read", History: 1,
			Storage: jetstream.FileStorage, Replicas: o.Replicas},
		{Bucket: proto.BucketTwoWay, Description: "what Braze and Brevo last agreed on, per contact (two-way sync)", History: 1,
			Storage: jetstream.FileStorage, Replicas: o.Replicas},
	}
}

// provisionAttempts bounds retries of a create that raced another process.
const provisionAttempts = 5

// Provision creates or updates the RAW, OPS, DLQ and AUDIT streams and the
// state and fingerprint buckets. It is idempotent and safe to call from
// several processes at once.
func Provision(ctx context.Context, js jetstream.JetStream, o ProvisionOptions) error {
	for _, cfg := range Streams(o) {
		err := retryRace(ctx, func() error {
			_, err := js.CreateOrUpdateStream(ctx, cfg)
			return err
		})
		if err != nil {
			return fmt.Errorf("provisioning stream %s (%v): %w", cfg.Name, cfg.Subjects, err)
		}
	}
	for _, cfg := range Buckets(o) {
		err := retryRace(ctx, func() error {
			_, err := js.CreateOrUpdateKeyValue(ctx, cfg)
			return err
		})
		if err != nil {
			return fmt.Errorf("provisioning key-value bucket %s: %w", cfg.Bucket, err)
		}
	}
	for _, cfg := range ObjectStores(o) {
		err := retryRace(ctx, func() error {
			_, err := js.CreateOrUpdateObjectStore(ctx, cfg)
			return err
		})
		if err != nil {
			return fmt.Errorf("provisioning object store %s: %w", cfg.Bucket, err)
		}
	}
	return nil
}

// ObjectStores returns the object store configurations Provision applies.
func ObjectStores(o ProvisionOptions) []jetstream.ObjectStoreConfig {
	o = o.withDefaults()
	return []jetstream.ObjectStoreConfig{
		{Bucket: proto.BucketLines, Description: "each run's export lines as (user, line hash) entries",
			Storage: jetstream.FileStorage, Replicas: o.Replicas},
	}
}

// retryRace retries fn when it lost a create race against another process:
// the update path then finds the resource the other process created.
func retryRace(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 1; attempt <= provisionAttempts; attempt++ {
		err = fn()
		if err == nil || !lostRace(err) {
			return err
		}
		t := time.NewTimer(time.Duration(attempt) * 50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
	return err
}

func lostRace(err error) bool {
	return errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) ||
		errors.Is(err, jetstream.ErrBucketExists) ||
		errors.Is(err, jetstream.ErrStreamNotFound)
}
