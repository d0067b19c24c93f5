package kvmap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/nats-io/nats.go/jetstream"
)

// batchKeys bounds the keys of one batched read: the server answers a
// multi-subject direct get with at most this many messages.
const batchKeys = 1000

// Map is a batched view of one key-value bucket.
type Map struct {
	bucket string
	js     jetstream.JetStream
	kv     jetstream.KeyValue
}

// Open opens bucket (it must have been provisioned).
func Open(ctx context.Context, js jetstream.JetStream, bucket string) (*Map, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("opening bucket %s: %w", bucket, err)
	}
	return &Map{bucket: bucket, js: js, kv: kv}, nil
}

// HashKey is the KV key of a map key: a hex hash, always a valid subject token.
func HashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16])
}

// GetMany returns the stored value of each key that has one. It reads in
// batches with JetStream's multi-subject direct get (one request for up to
// batchKeys keys, answered as a stream of messages ending with EOB), instead
// of one round trip per key.
func (m *Map) GetMany(ctx context.Context, keys []string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	for len(keys) > 0 {
		n := min(batchKeys, len(keys))
		if err := m.getBatch(ctx, keys[:n], out); err != nil {
			return nil, fmt.Errorf("reading %d keys of %s: %w", n, m.bucket, err)
		}
		keys = keys[n:]
	}
	return out, nil
}

func (m *Map) getBatch(ctx context.Context, keys []string, out map[string]string) error {
	subjects := make([]string, len(keys))
	bySubject := make(map[string]string, len(keys))
	for i, k := range keys {
		subj := "$KV." + m.bucket + "." + HashKey(k)
		subjects[i] = subj
		bySubject[subj] = k
	}
	req, err := json.Marshal(struct {
		MultiLast []string `json:"multi_last"`
		Batch     int      `json:"batch"`
	}{subjects, len(subjects)})
	if err != nil {
		return err
	}
	nc := m.js.Conn()
	inbox := nc.NewRespInbox()
	msgs := make(chan *nats.Msg, len(keys)+1) // room for the whole answer: a full channel drops messages
	sub, err := nc.ChanSubscribe(inbox, msgs)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest("$JS.API.DIRECT.GET.KV_"+m.bucket, inbox, req); err != nil {
		return err
	}
	timeout := time.NewTimer(directGetTimeout)
	defer timeout.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout.C:
			return errors.New("no end of batch from the server within " + directGetTimeout.String())
		case msg := <-msgs:
			if len(msg.Data) == 0 {
				switch msg.Header.Get("Status") {
				case "204": // EOB: every message of the batch has arrived
					return nil
				case "404": // none of the keys exists
					return nil
				case "":
				default:
					return fmt.Errorf("direct get: %s %s", msg.Header.Get("Status"), msg.Header.Get("Description"))
				}
			}
			switch msg.Header.Get("KV-Operation") {
			case "DEL", "PURGE":
				continue
			}
			if k, ok := bySubject[msg.Header.Get(jetstream.SubjectHeader)]; ok {
				out[k] = string(msg.Data)
			}
		}
	}
}

// directGetTimeout bounds the wait for one batched read.
const directGetTimeout = 30 * time.Second

// PutMany stores entries and returns once the server has stored every one.
func (m *Map) PutMany(ctx context.Context, entries map[string]string) error {
	if len(entries) == 0 {
		return nil
	}
	futures := make([]jetstream.PubAckFuture, 0, len(entries))
	for k, v := range entries {
		f, err := m.js.PublishAsync("$KV."+m.bucket+"."+HashKey(k), []byte(v))
		if err != nil {
			return fmt.Errorf("writing %s of %q: %w", m.bucket, k, err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("writing %s: %w", m.bucket, err)
		case <-ctx.Done():
			return fmt.Errorf("writing %d entries of %s: %w", len(entries), m.bucket, ctx.Err())
		}
	}
	return nil
}

// Delete removes key.
func (m *Map) Delete(ctx context.Context, key string) error {
	if err := m.kv.Delete(ctx, HashKey(key)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("deleting %s of %q: %w", m.bucket, key, err)
	}
	return nil
}
