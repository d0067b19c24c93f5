package kvmap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tajo-sync/tajo/proto"
)

const (
	// batchKeys bounds the shards of one batched read.
	batchKeys = 1000
	// directGetTimeout bounds the wait for one batched read.
	directGetTimeout = 30 * time.Second
	// casAttempts bounds the rounds of compare-and-set of one PutMany.
	casAttempts = 20
	// maxInflight bounds the shard writes awaiting their acknowledgement:
	// the connection stalls past 4,000 asynchronous publishes in flight,
	// shared by every writer on it.
	maxInflight = 256
	// ackTimeout bounds the wait for a shard write's acknowledgement.
	ackTimeout = 30 * time.Second
)

// Map is a batched, sharded view of one key-value bucket.
type Map struct {
	bucket     string
	js         jetstream.JetStream
	kv         jetstream.KeyValue
	ackTimeout time.Duration
}

// Open opens bucket (it must have been provisioned).
func Open(ctx context.Context, js jetstream.JetStream, bucket string) (*Map, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("opening bucket %s: %w", bucket, err)
	}
	return &Map{bucket: bucket, js: js, kv: kv, ackTimeout: ackTimeout}, nil
}

// address locates a key: the shard's subject and the entry's id inside it.
func (m *Map) address(key string) (subject, id string) {
	h := sha256.Sum256([]byte(key))
	return "$KV." + m.bucket + "." + hex.EncodeToString(h[:2]), string(h[2:14])
}

// shard is one stored shard: its entries and the stream sequence it was
// read at (0: it does not exist yet).
type shard struct {
	seq     uint64
	entries map[string]string
}

// GetMany returns the stored value of each key that has one.
func (m *Map) GetMany(ctx context.Context, keys []string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	subjects := make(map[string]bool, len(keys))
	for _, k := range keys {
		s, _ := m.address(k)
		subjects[s] = true
	}
	shards, err := m.readShards(ctx, subjects)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		s, id := m.address(k)
		if v, ok := shards[s].entries[id]; ok {
			out[k] = v
		}
	}
	return out, nil
}

// PutMany stores entries and returns once the server has stored every one.
func (m *Map) PutMany(ctx context.Context, entries map[string]string) error {
	return m.update(ctx, len(entries), func(apply func(key string, value *string)) {
		for k, v := range entries {
			apply(k, &v)
		}
	})
}

// Delete removes key.
func (m *Map) Delete(ctx context.Context, key string) error {
	return m.update(ctx, 1, func(apply func(string, *string)) { apply(key, nil) })
}

// ModifyFunc decides the new value of key from its current one (ok false:
// none). It returns the value to store and whether to store it at all;
// del true removes the key. It is called again, with the newer value, when
// another writer changed the key's shard in between, so it must not keep
// state across calls.
type ModifyFunc func(key, cur string, ok bool) (val string, write, del bool)

// Modify applies fn to each key as one compare-and-set per shard and
// returns the value each key holds afterwards (absent: none). Use it where
// two writers may race for the same key, as for an identifier claim: the
// decision is made on the value the write replaces.
func (m *Map) Modify(ctx context.Context, keys []string, fn ModifyFunc) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	byID := make(map[string]string, len(keys)) // subject+id -> key
	bySubject := map[string][]string{}
	for _, k := range keys {
		s, id := m.address(k)
		if _, dup := byID[s+id]; dup {
			continue
		}
		byID[s+id] = k
		bySubject[s] = append(bySubject[s], k)
	}
	pending := make(map[string]bool, len(bySubject))
	for s := range bySubject {
		pending[s] = true
	}
	for attempt := 1; len(pending) > 0; attempt++ {
		if attempt > casAttempts {
			return nil, fmt.Errorf("modifying %d entries of %s: %d shards still conflicting after %d attempts", len(keys), m.bucket, len(pending), casAttempts)
		}
		shards, err := m.readShards(ctx, pending)
		if err != nil {
			return nil, fmt.Errorf("modifying %d entries of %s: %w", len(keys), m.bucket, err)
		}
		// settle waits for writes: a shard another writer changed stays
		// pending, to be decided again on its new value.
		settle := func(writes []shardWrite) error {
			return m.await(ctx, writes, func(w shardWrite) {
				delete(pending, w.subject)
				for k, v := range w.result {
					out[k] = v
				}
			})
		}
		writes := make([]shardWrite, 0, min(len(pending), maxInflight))
		for s := range pending {
			sh := shards[s]
			if sh.entries == nil {
				sh.entries = map[string]string{}
			}
			changed := false
			result := make(map[string]string, len(bySubject[s]))
			for _, k := range bySubject[s] {
				_, id := m.address(k)
				cur, ok := sh.entries[id]
				val, w, del := fn(k, cur, ok)
				switch {
				case del && ok:
					delete(sh.entries, id)
					changed = true
				case del:
				case w && (!ok || val != cur):
					sh.entries[id] = val
					changed = true
				}
				if v, ok := sh.entries[id]; ok {
					result[k] = v
				}
			}
			if !changed {
				delete(pending, s)
				for k, v := range result {
					out[k] = v
				}
				continue
			}
			data, err := proto.Marshal(sh.entries)
			if err != nil {
				return nil, fmt.Errorf("encoding a shard of %s: %w", m.bucket, err)
			}
			msg := nats.NewMsg(s)
			msg.Data = data
			msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(sh.seq, 10))
			f, err := m.js.PublishMsgAsync(msg)
			if err != nil {
				return nil, fmt.Errorf("writing a shard of %s: %w", m.bucket, err)
			}
			writes = append(writes, shardWrite{s, f, result})
			if len(writes) == maxInflight {
				if err := settle(writes); err != nil {
					return nil, err
				}
				writes = writes[:0]
			}
		}
		if err := settle(writes); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// update applies changes (value nil: delete) shard by shard with
// compare-and-set, rereading and reapplying the shards another writer
// changed in between.
func (m *Map) update(ctx context.Context, n int, changes func(apply func(key string, value *string))) error {
	if n == 0 {
		return nil
	}
	type change struct {
		id    string
		value *string
	}
	bySubject := map[string][]change{}
	changes(func(k string, v *string) {
		s, id := m.address(k)
		bySubject[s] = append(bySubject[s], change{id, v})
	})
	pending := make(map[string]bool, len(bySubject))
	for s := range bySubject {
		pending[s] = true
	}
	for attempt := 1; len(pending) > 0; attempt++ {
		if attempt > casAttempts {
			return fmt.Errorf("writing %d entries of %s: %d shards still conflicting after %d attempts", n, m.bucket, len(pending), casAttempts)
		}
		shards, err := m.readShards(ctx, pending)
		if err != nil {
			return fmt.Errorf("writing %d entries of %s: %w", n, m.bucket, err)
		}
		// wait waits for writes: a shard another writer changed stays
		// pending, to be read again.
		wait := func(writes []shardWrite) error {
			return m.await(ctx, writes, func(w shardWrite) { delete(pending, w.subject) })
		}
		writes := make([]shardWrite, 0, min(len(pending), maxInflight))
		for s := range pending {
			sh := shards[s]
			if sh.entries == nil {
				sh.entries = map[string]string{}
			}
			for _, c := range bySubject[s] {
				if c.value == nil {
					delete(sh.entries, c.id)
				} else {
					sh.entries[c.id] = *c.value
				}
			}
			data, err := proto.Marshal(sh.entries)
			if err != nil {
				return fmt.Errorf("encoding a shard of %s: %w", m.bucket, err)
			}
			msg := nats.NewMsg(s)
			msg.Data = data
			msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(sh.seq, 10))
			f, err := m.js.PublishMsgAsync(msg)
			if err != nil {
				return fmt.Errorf("writing a shard of %s: %w", m.bucket, err)
			}
			writes = append(writes, shardWrite{subject: s, future: f})
			if len(writes) < maxInflight {
				continue
			}
			if err := wait(writes); err != nil {
				return err
			}
			writes = writes[:0]
		}
		if err := wait(writes); err != nil {
			return err
		}
	}
	return nil
}

// readShards reads the given shard subjects, batchKeys at a time.
func (m *Map) readShards(ctx context.Context, subjects map[string]bool) (map[string]shard, error) {
	out := make(map[string]shard, len(subjects))
	batch := make([]string, 0, min(batchKeys, len(subjects)))
	for s := range subjects {
		batch = append(batch, s)
		if len(batch) == batchKeys {
			if err := m.getBatch(ctx, batch, out); err != nil {
				return nil, err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := m.getBatch(ctx, batch, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// getBatch reads the last message of each subject with one multi-subject
// direct get: the server answers with one message per subject that has
// one, then an empty message with status 204 (end of batch), or only a 404
// when none has.
func (m *Map) getBatch(ctx context.Context, subjects []string, out map[string]shard) error {
	req, err := json.Marshal(struct {
		MultiLast []string `json:"multi_last"`
		Batch     int      `json:"batch"`
	}{subjects, len(subjects)})
	if err != nil {
		return err
	}
	nc := m.js.Conn()
	inbox := nc.NewRespInbox()
	msgs := make(chan *nats.Msg, len(subjects)+1) // room for the whole answer: a full channel drops messages
	sub, err := nc.ChanSubscribe(inbox, msgs)
	if err != nil {
		return fmt.Errorf("reading %s: %w", m.bucket, err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest("$JS.API.DIRECT.GET.KV_"+m.bucket, inbox, req); err != nil {
		return fmt.Errorf("reading %s: %w", m.bucket, err)
	}
	timeout := time.NewTimer(directGetTimeout)
	defer timeout.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout.C:
			return fmt.Errorf("reading %s: no end of batch from the server within %s", m.bucket, directGetTimeout)
		case msg := <-msgs:
			if len(msg.Data) == 0 {
				switch status := msg.Header.Get("Status"); status {
				case "204", "404": // end of batch; nothing found
					return nil
				case "":
				default:
					return fmt.Errorf("reading %s: direct get answered %s %s", m.bucket, status, msg.Header.Get("Description"))
				}
			}
			subject := msg.Header.Get(jetstream.SubjectHeader)
			seq, err := strconv.ParseUint(msg.Header.Get(jetstream.SequenceHeader), 10, 64)
			if err != nil {
				return fmt.Errorf("reading %s: a direct get answer without a sequence", m.bucket)
			}
			sh := shard{seq: seq}
			switch msg.Header.Get("KV-Operation") {
			case "DEL", "PURGE":
			default:
				if err := msgpack.Unmarshal(msg.Data, &sh.entries); err != nil {
					return fmt.Errorf("reading %s: shard %s is corrupt: %w", m.bucket, subject, err)
				}
			}
			out[subject] = sh
		}
	}
}

// shardWrite is one shard's compare-and-set write awaiting its
// acknowledgement.
type shardWrite struct {
	subject string
	future  jetstream.PubAckFuture
	result  map[string]string // Modify: the shard's entries of its keys after the write
}

// await waits for writes in order and calls stored for each one the stream
// acknowledged. A write another writer beat (wrong last sequence) is left
// to the caller, to be read and decided again. A write not acknowledged
// within ackTimeout fails the call: a server losing its stream leader may
// never answer it, and only a fresh read tells whether it was stored.
func (m *Map) await(ctx context.Context, writes []shardWrite, stored func(shardWrite)) error {
	if len(writes) == 0 {
		return nil
	}
	timer := time.NewTimer(m.ackTimeout)
	defer timer.Stop()
	for _, w := range writes {
		select {
		case <-w.future.Ok():
			stored(w)
		case err := <-w.future.Err():
			var apiErr *jetstream.APIError
			if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
				continue
			}
			return fmt.Errorf("writing shard %s of %s: %w", w.subject, m.bucket, err)
		case <-timer.C:
			return fmt.Errorf("writing shard %s of %s: no acknowledgement within %s: %w", w.subject, m.bucket, m.ackTimeout, jetstream.ErrAsyncPublishTimeout)
		case <-ctx.Done():
			return fmt.Errorf("writing shard %s of %s: %w", w.subject, m.bucket, ctx.Err())
		}
	}
	return nil
}
