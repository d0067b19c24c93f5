package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/restcall"
)

// A Lease is a named lock in the state bucket: replicas of a worker take
// turns at what a vendor allows only once at a time (Brevo runs one contact
// import at a time; concurrent imports hang).
//
// The key's value names the holder and this acquisition (a random token:
// two replicas configured with the same name still hold it apart); the
// entry's creation time is its heartbeat. A holder that died stops refreshing, and once its lease is
// older than the ttl another replica deletes it (compare-and-delete on its
// revision, so two replicas cannot both take over) and acquires it.
type Lease struct {
	kv    jetstream.KeyValue
	key   string
	value string // holder and token: whose the lease is
	rev   uint64
}

// leasePoll is how often a waiting replica looks at a held lease again.
const leasePoll = 100 * time.Millisecond

// clock paces the waits.
var clock restcall.SystemClock

// AcquireLease waits until name is free (or held longer than ttl without a
// refresh) and takes it for holder. A server slow to answer (a timeout, a
// leader being elected) is waited out, not returned: a worker must not stop
// because the lease's bucket answered late.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (*Lease, error) {
	key := "lease." + name
	var token [6]byte
	_, _ = rand.Read(token[:])
	value := holder + "#" + hex.EncodeToString(token[:])
	for {
		rev, err := s.kv.Create(ctx, key, []byte(value))
		if err == nil {
			return &Lease{kv: s.kv, key: key, value: value, rev: rev}, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			if !slowServer(ctx, err) {
				return nil, fmt.Errorf("acquiring lease %s: %w", name, err)
			}
			if err := clock.Sleep(ctx, leasePoll); err != nil {
				return nil, fmt.Errorf("acquiring lease %s: %w", name, err)
			}
			continue
		}
		e, err := s.kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			continue // released in between
		case err != nil && slowServer(ctx, err):
			if err := clock.Sleep(ctx, leasePoll); err != nil {
				return nil, fmt.Errorf("acquiring lease %s: %w", name, err)
			}
			continue
		case err != nil:
			return nil, fmt.Errorf("acquiring lease %s: %w", name, err)
		case string(e.Value()) == value:
			// A create whose answer was lost was stored: the lease is ours.
			return &Lease{kv: s.kv, key: key, value: value, rev: e.Revision()}, nil
		case time.Since(e.Created()) > ttl:
			// Expired: its holder stopped refreshing. Only one waiter's
			// delete matches the revision.
			_ = s.kv.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
			continue
		}
		if err := clock.Sleep(ctx, leasePoll); err != nil {
			return nil, fmt.Errorf("waiting for lease %s held by %s: %w", name, e.Value(), err)
		}
	}
}

// slowServer reports whether err is the server answering too late or not
// at all for now (natsx.Transient, or a request's own deadline) while ctx
// is still live: worth another try.
func slowServer(ctx context.Context, err error) bool {
	return ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || natsx.Transient(err))
}

// Refresh renews the lease; call it more often than the ttl while working.
// It fails when the lease was taken over (the holder was too slow).
//
// A refresh whose answer was lost (a timeout on a busy server) may have
// been stored all the same: the next one then finds a newer revision. When
// that revision still holds this acquisition's value, it is this holder's
// own refresh, and the lease is still held.
func (l *Lease) Refresh(ctx context.Context) error {
	rev, err := l.kv.Update(ctx, l.key, []byte(l.value), l.rev)
	if err != nil && errors.Is(err, jetstream.ErrKeyExists) {
		e, gerr := l.kv.Get(ctx, l.key)
		if gerr != nil {
			return fmt.Errorf("refreshing lease %s: %w", l.key, gerr)
		}
		if string(e.Value()) != l.value {
			return fmt.Errorf("refreshing lease %s: taken over: %w", l.key, err)
		}
		rev, err = l.kv.Update(ctx, l.key, []byte(l.value), e.Revision())
	}
	if err != nil {
		return fmt.Errorf("refreshing lease %s: %w", l.key, err)
	}
	l.rev = rev
	return nil
}

// Release frees the lease if this holder still has it.
func (l *Lease) Release(ctx context.Context) error {
	if err := l.kv.Delete(ctx, l.key, jetstream.LastRevision(l.rev)); err != nil {
		return fmt.Errorf("releasing lease %s: %w", l.key, err)
	}
	return nil
}
