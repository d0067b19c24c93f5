package membership

import (
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// Store keeps memberships in the JetStream object store
// proto.ObjectStoreSegments, deflated (a million members take about 20 MB).
// Objects are written and read as streams: neither side holds a membership
// in memory.
type Store struct {
	obs jetstream.ObjectStore
}

// Provision creates (or updates) what segment mirroring keeps on the bus:
// the memberships' object store and the runs' ledger bucket
// (proto.BucketSegmentsLedger), with replicas replicas (default 1). It is
// idempotent; every stage of the mirroring calls it at start.
func Provision(ctx context.Context, js jetstream.JetStream, replicas int) error {
	if replicas <= 0 {
		replicas = 1
	}
	if _, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: proto.ObjectStoreSegments, Description: "last membership of each mirrored Braze segment",
		Storage: jetstream.FileStorage, Replicas: replicas, Compression: false,
	}); err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
		return fmt.Errorf("provisioning object store %s: %w", proto.ObjectStoreSegments, err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: proto.BucketSegmentsLedger, Description: "what became of each change of a segments run", History: 1,
		Storage: jetstream.FileStorage, Replicas: replicas,
	}); err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
		return fmt.Errorf("provisioning key-value bucket %s: %w", proto.BucketSegmentsLedger, err)
	}
	return nil
}

// OpenStore opens the object store (Provision must have created it).
func OpenStore(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	obs, err := js.ObjectStore(ctx, proto.ObjectStoreSegments)
	if err != nil {
		return nil, fmt.Errorf("opening the memberships' object store %s: %w", proto.ObjectStoreSegments, err)
	}
	return &Store{obs: obs}, nil
}

// ErrNotFound is returned by Open for a membership never stored.
var ErrNotFound = errors.New("membership: not stored")

// Put stores the membership read from r under name, replacing any.
func (s *Store) Put(ctx context.Context, name string, r io.Reader) error {
	pr, pw := io.Pipe()
	go func() {
		zw, err := flate.NewWriter(pw, flate.BestSpeed)
		if err == nil {
			if _, err = io.Copy(zw, r); err == nil {
				err = zw.Close()
			}
		}
		pw.CloseWithError(err)
	}()
	_, err := s.obs.Put(ctx, jetstream.ObjectMeta{Name: name, Description: "segment membership (deflate)"}, pr)
	pr.CloseWithError(err) // stops the compressor if the store gave up
	if err != nil {
		return fmt.Errorf("storing membership %s: %w", name, err)
	}
	return nil
}

// Open reads the membership stored under name; ErrNotFound when there is
// none. Close the reader.
func (s *Store) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	res, err := s.obs.Get(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("reading membership %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading membership %s: %w", name, err)
	}
	return &inflated{Reader: flate.NewReader(res), res: res}, nil
}

type inflated struct {
	io.Reader
	res jetstream.ObjectResult
}

func (r *inflated) Close() error { return r.res.Close() }

// Delete removes the membership stored under name; a missing one is no error.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := s.obs.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("deleting membership %s: %w", name, err)
	}
	return nil
}
