package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/tajo-sync/tajo/proto"
)

// NewID returns a time-sortable run id such as 20261128T130501Z-ab12cd.
func NewID() string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// PutRun stores r under proto.RunKey(r.ID), stamping the schema version.
func (s *Store) PutRun(ctx context.Context, r *proto.SyncRun) error {
	if r.ID == "" {
		return errors.New("storing run: empty id")
	}
	if r.V == 0 {
		r.V = proto.SchemaVersion
	}
	b, err := proto.Encode(r)
	if err != nil {
		return fmt.Errorf("storing run %s: %w", r.ID, err)
	}
	return s.put(ctx, proto.RunKey(r.ID), b)
}

// GetRun reads a run; ErrNotFound when there is none with that id.
func (s *Store) GetRun(ctx context.Context, id string) (*proto.SyncRun, error) {
	b, err := s.get(ctx, proto.RunKey(id))
	if err != nil {
		return nil, fmt.Errorf("getting run %s: %w", id, err)
	}
	var r proto.SyncRun
	if err := proto.Decode(b, &r); err != nil {
		return nil, fmt.Errorf("getting run %s: %w", id, err)
	}
	return &r, nil
}

// SetLastRun records id as the latest run of resource.
func (s *Store) SetLastRun(ctx context.Context, resource, id string) error {
	return s.put(ctx, proto.LastRunKey(resource), []byte(id))
}

// LastRun reads the latest run of resource; ErrNotFound when there is none.
func (s *Store) LastRun(ctx context.Context, resource string) (*proto.SyncRun, error) {
	id, err := s.get(ctx, proto.LastRunKey(resource))
	if err != nil {
		return nil, fmt.Errorf("last run of %s: %w", resource, err)
	}
	return s.GetRun(ctx, string(id))
}

// cursorKey is the key of a named cursor.
func cursorKey(name string) string { return "cursor." + proto.Token(name) }

// GetCursor reads a named cursor (e.g. a modifiedSince timestamp); "" when
// it was never set.
func (s *Store) GetCursor(ctx context.Context, name string) (string, error) {
	b, err := s.get(ctx, cursorKey(name))
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("getting cursor %s: %w", name, err)
	}
	return string(b), nil
}

// PutCursor stores a named cursor.
func (s *Store) PutCursor(ctx context.Context, name, value string) error {
	return s.put(ctx, cursorKey(name), []byte(value))
}
