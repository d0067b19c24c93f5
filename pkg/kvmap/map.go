package kvmap

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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
	// chunkKeys bounds the keys whose shards one read or write of many
	// holds at once: a loader batch of 27,000 keys touches as many shards,
	// 15 entries each at a million users, and holding them all at once made
	// the loader's memory grow with the users. Measured at 200,000 and
	// 1,000,000 users: 1,024 as fast as 4,096 or faster (0.38 and 0.33 of
	// the baseline, against 0.37 and 0.26-0.32), 16,384 slower (0.34).
	chunkKeys = 1024
)

// Map is a batched, sharded view of one key-value bucket.
type Map struct {
	bucket     string
	prefix     string // "$KV.<bucket>."
	js         jetstream.JetStream
	kv         jetstream.KeyValue
	ackTimeout time.Duration
	baseHex    int // hex digits of the base shard token: 4, 65,536 base shards
	splitAt    int // a shard written with more entries than this is sealed
	// sealed caches, per base shard, which nodes of its first cachedDepths
	// levels are sealed (bit i: the node of heap index i). A sealed node is
	// never written again, so the cache is never wrong, only behind.
	sealed []atomic.Uint64
	// written counts the entries of the shards written, for the tests.
	written atomic.Int64
	// widest is the most addresses whose shards one read held, for the tests.
	widest atomic.Int64
}

const (
	// baseHexDigits names the 65,536 base shards, as they always were.
	baseHexDigits = 4
	// defaultSplitAt bounds a shard's entries: a shard written with more is
	// sealed and its entries move, lazily, to its two children. Each write
	// of a key rewrites its shard, so this bounds what one key costs to
	// write (about 24 entries, 1 to 2 KB) whatever the number of keys.
	defaultSplitAt = 24
	// maxDepth bounds the levels below a base shard (the id has 96 bits).
	maxDepth = 40
	// cachedDepths are the levels whose seals are cached: 63 nodes per base
	// shard, one word; deeper seals are found by reading.
	cachedDepths = 6
	// sealKey marks a sealed shard's map; no entry id is empty.
	sealKey = ""
)

// Open opens bucket (it must have been provisioned).
func Open(ctx context.Context, js jetstream.JetStream, bucket string) (*Map, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("opening bucket %s: %w", bucket, err)
	}
	m := &Map{bucket: bucket, prefix: "$KV." + bucket + ".", js: js, kv: kv, ackTimeout: ackTimeout}
	m.setShape(baseHexDigits, defaultSplitAt)
	return m, nil
}

func (m *Map) setShape(baseHex, splitAt int) {
	m.baseHex, m.splitAt = baseHex, splitAt
	m.sealed = make([]atomic.Uint64, 1<<(4*baseHex))
}

// addr is where a key lives: its base shard and its entry id, whose bits
// also choose the key's path below the base shard.
type addr struct {
	key  string
	base int
	id   string
}

// Order is where key's entry lies among the shards: keys in ascending
// Order share base shards, then children, one after the other. Writing or
// reading many keys in that order (a full sync's users, published sorted)
// touches each shard once for all its keys and the stream's blocks in
// turn, where keys in no order touch a shard each and every block.
func Order(key string) uint64 {
	h := sha256.Sum256([]byte(key))
	return binary.BigEndian.Uint64(h[:8])
}

func (m *Map) locate(key string) addr {
	h := sha256.Sum256([]byte(key))
	base := int(h[0])<<8 | int(h[1])
	return addr{key: key, base: base >> (16 - 4*m.baseHex), id: string(h[2:14])}
}

// bit is the id's bit that chooses the child below depth d.
func bit(id string, d int) byte { return id[d/8] >> (7 - d%8) & 1 }

// subject is the shard subject of a's node at depth d: the base shard's
// hex token, then a token of d bits ("$KV.b.3fa0", "$KV.b.3fa0.01").
func (m *Map) subject(a addr, d int) string {
	b := make([]byte, 0, len(m.prefix)+m.baseHex+1+d)
	b = append(b, m.prefix...)
	const digits = "0123456789abcdef"
	for i := m.baseHex - 1; i >= 0; i-- {
		b = append(b, digits[a.base>>(4*i)&0xf])
	}
	if d > 0 {
		b = append(b, '.')
		for i := range d {
			b = append(b, '0'+bit(a.id, i))
		}
	}
	return string(b)
}

// heap is the index of a's node at depth d (< cachedDepths) in its base
// shard's seal cache.
func heap(a addr, d int) uint {
	i := uint(1)
	for j := range d {
		i = i<<1 | uint(bit(a.id, j))
	}
	return i
}

// startDepth is the depth of the first node on a's path not known sealed.
func (m *Map) startDepth(a addr) int {
	mask := m.sealed[a.base].Load()
	d := 0
	for d < cachedDepths && mask&(1<<heap(a, d)) != 0 {
		d++
	}
	return d
}

func (m *Map) markSealed(a addr, d int) {
	if d < cachedDepths {
		m.sealed[a.base].Or(1 << heap(a, d))
	}
}

// node is one shard: a map from entry id to value. A shard's entries live
// in the first node of their path (base shard, then one child per bit of
// the id) that is not sealed. A node written with more than splitAt
// entries is written sealed instead: it keeps its entries, frozen, and is
// never written again; its children start as the halves of them and are
// stored at their first write. So a shard never grows past splitAt by much,
// and every decision stays a compare-and-set on one subject: a writer that
// read a node before it was sealed fails its write and reads again.
type node struct {
	subject string
	depth   int
	seq     uint64 // the sequence it was read at; 0: not stored yet
	stored  bool
	sealed  bool
	entries entries
	known   bool  // entries are known: stored, or derived from a sealed parent
	parent  *node // not stored yet: the sealed parent its entries came from
}

// child is the unstored child of sealed node p on a's path: its share of
// p's entries.
func child(p *node, a addr, subject string) *node {
	d := p.depth
	c := &node{subject: subject, depth: d + 1, known: true, parent: p}
	want := bit(a.id, d)
	for _, e := range p.entries {
		if bit(e.id, d) == want {
			c.entries = append(c.entries, e)
		}
	}
	return c
}

// leaves finds the node holding each address: leaves[i] holds addrs[i].
// Nodes are read level by level, one batched read per level, starting
// below the seals already known; addresses in one node share its *node.
func (m *Map) leaves(ctx context.Context, addrs []addr) ([]*node, error) {
	for n := int64(len(addrs)); ; {
		w := m.widest.Load()
		if n <= w || m.widest.CompareAndSwap(w, n) {
			break
		}
	}
	out := make([]*node, len(addrs))
	depth := make([]int, len(addrs))
	for i, a := range addrs {
		depth[i] = m.startDepth(a)
	}
	nodes := map[string]*node{}
	todo := make([]int, len(addrs))
	for i := range todo {
		todo[i] = i
	}
	cur := make([]string, len(addrs)) // the subject of each address's node this round
	for round := 0; len(todo) > 0; round++ {
		if round > 2*maxDepth+2 {
			return nil, fmt.Errorf("reading %s: no unsealed shard within %d levels", m.bucket, maxDepth)
		}
		want := map[string]int{} // subject -> depth
		for _, i := range todo {
			a, d := addrs[i], depth[i]
			s := m.subject(a, d)
			cur[i] = s
			n, ok := nodes[s]
			switch {
			case !ok:
				want[s] = d
			case !n.known && d > 0:
				// Not stored and its parent, known sealed, not read yet.
				if ps := m.subject(a, d-1); nodes[ps] == nil {
					want[ps] = d - 1
				}
			}
		}
		if err := m.readNodes(ctx, want, nodes); err != nil {
			return nil, err
		}
		next := todo[:0]
		for _, i := range todo {
			a, d, s := addrs[i], depth[i], cur[i]
			n := nodes[s]
			switch {
			case n == nil: // read again next round (below)
				next = append(next, i)
			case n.sealed:
				m.markSealed(a, d)
				if d+1 > maxDepth {
					return nil, fmt.Errorf("reading %s: shard %s is sealed at the deepest level", m.bucket, s)
				}
				depth[i]++
				next = append(next, i)
			case n.known:
				out[i] = n
			case d == 0:
				n.known = true
				out[i] = n
			default:
				p := nodes[m.subject(a, d-1)]
				switch {
				case p == nil: // read next round
					next = append(next, i)
				case p.sealed && len(p.entries) == 0:
					// Emptied: both children were stored since this one
					// was read missing. Read it again.
					delete(nodes, s)
					next = append(next, i)
				case p.sealed:
					c := child(p, a, s)
					nodes[s] = c
					out[i] = c
				default:
					// The cache said sealed, the store says not: the
					// bucket was purged. Start again from the base.
					m.sealed[a.base].Store(0)
					depth[i] = 0
					next = append(next, i)
				}
			}
		}
		todo = next
	}
	return out, nil
}

// GetMany returns the stored value of each key that has one.
func (m *Map) GetMany(ctx context.Context, keys []string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	addrs := make([]addr, len(keys))
	for i, k := range keys {
		addrs[i] = m.locate(k)
	}
	for _, chunk := range chunks(addrs) {
		leaves, err := m.leaves(ctx, chunk)
		if err != nil {
			return nil, err
		}
		for i, a := range chunk {
			if v, ok := leaves[i].entries.get(a.id); ok {
				out[a.key] = strings.Clone(v) // not the whole shard's bytes
			}
		}
	}
	return out, nil
}

// chunks sorts addrs by base shard and cuts them into runs of about
// chunkKeys, each base shard in one run (a shard is read and written once
// for all its keys, as without chunks).
func chunks(addrs []addr) [][]addr {
	if len(addrs) <= chunkKeys {
		return [][]addr{addrs}
	}
	slices.SortFunc(addrs, func(a, b addr) int { return cmp.Compare(a.base, b.base) })
	var out [][]addr
	for len(addrs) > 0 {
		n := min(chunkKeys, len(addrs))
		for n < len(addrs) && addrs[n].base == addrs[n-1].base {
			n++
		}
		out = append(out, addrs[:n:n])
		addrs = addrs[n:]
	}
	return out
}

// PutMany stores entries and returns once the server has stored every one.
func (m *Map) PutMany(ctx context.Context, entries map[string]string) error {
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	return m.write(ctx, "writing", keys, func(k, cur string, ok bool) (string, bool, bool) {
		return entries[k], true, false
	}, nil)
}

// Delete removes key.
func (m *Map) Delete(ctx context.Context, key string) error {
	return m.write(ctx, "deleting", []string{key}, func(string, string, bool) (string, bool, bool) {
		return "", false, true
	}, nil)
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
	err := m.write(ctx, "modifying", keys, fn, func(k, v string) { out[k] = v })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// write applies fn to each key, one compare-and-set per shard, rereading
// and deciding again the shards another writer changed in between. held,
// if set, is told the value each key holds once its shard is settled.
func (m *Map) write(ctx context.Context, doing string, keys []string, fn ModifyFunc, held func(key, val string)) error {
	if len(keys) == 0 {
		return nil
	}
	type place struct {
		base int
		id   string
	}
	all := make([]addr, 0, len(keys))
	seen := make(map[place]bool, len(keys))
	for _, k := range keys {
		a := m.locate(k)
		if seen[place{a.base, a.id}] {
			continue
		}
		seen[place{a.base, a.id}] = true
		all = append(all, a)
	}
	for _, chunk := range chunks(all) {
		if err := m.writeChunk(ctx, doing, len(keys), chunk, fn, held); err != nil {
			return err
		}
	}
	return nil
}

// writeChunk is write for the addresses of some of its keys (nkeys in
// all, for errors).
func (m *Map) writeChunk(ctx context.Context, doing string, nkeys int, pending []addr, fn ModifyFunc, held func(key, val string)) error {
	for attempt := 1; len(pending) > 0; attempt++ {
		if attempt > casAttempts {
			return fmt.Errorf("%s %d entries of %s: %d still conflicting after %d attempts", doing, nkeys, m.bucket, len(pending), casAttempts)
		}
		leaves, err := m.leaves(ctx, pending)
		if err != nil {
			return fmt.Errorf("%s %d entries of %s: %w", doing, nkeys, m.bucket, err)
		}
		type group struct {
			n     *node
			addrs []addr
		}
		groups := map[*node]*group{}
		order := []*group{}
		for i, a := range pending {
			g := groups[leaves[i]]
			if g == nil {
				g = &group{n: leaves[i]}
				groups[leaves[i]] = g
				order = append(order, g)
			}
			g.addrs = append(g.addrs, a)
		}
		var retry []addr
		var created []*node // stored for the first time, from a sealed parent
		settled := func(w shardWrite) {
			if n := w.n; n != nil && n.parent != nil && len(n.parent.entries) > 0 {
				created = append(created, n)
			}
			if held != nil {
				for _, r := range w.result {
					held(r.id, r.val)
				}
			}
		}
		settle := func(writes []shardWrite) error {
			return m.await(ctx, writes, settled, func(w shardWrite) { retry = append(retry, groups[w.n].addrs...) })
		}
		writes := make([]shardWrite, 0, min(len(order), maxInflight))
		for _, g := range order {
			n := g.n
			changed := false
			var result entries // only for held (key, value): a PutMany reads none back
			if held != nil {
				result = make(entries, 0, len(g.addrs))
			}
			for _, a := range g.addrs {
				cur, ok := n.entries.get(a.id)
				val, w, del := fn(a.key, cur, ok)
				switch {
				case del && ok:
					n.entries.del(a.id)
					changed = true
				case del:
				case w && (!ok || val != cur):
					n.entries.set(a.id, val)
					changed = true
				}
				if v, ok := n.entries.get(a.id); ok && held != nil {
					result = append(result, entry{a.key, strings.Clone(v)}) // not the whole shard's bytes
				}
			}
			if !changed {
				settled(shardWrite{result: result})
				continue
			}
			f, err := m.store(n)
			if err != nil {
				return fmt.Errorf("%s %d entries of %s: %w", doing, nkeys, m.bucket, err)
			}
			writes = append(writes, shardWrite{subject: n.subject, future: f, result: result, n: n})
			if len(writes) == maxInflight {
				if err := settle(writes); err != nil {
					return err
				}
				writes = writes[:0]
			}
		}
		if err := settle(writes); err != nil {
			return err
		}
		if err := m.empty(ctx, created); err != nil {
			return fmt.Errorf("%s %d entries of %s: %w", doing, nkeys, m.bucket, err)
		}
		pending = retry
	}
	return nil
}

// empty drops the frozen entries of the sealed parents of the children
// just created whose sibling is stored too: with both children stored, no
// read comes down to the parent's entries again, and the store need not
// keep a second copy of them. Another writer emptying the same parent
// first is as good.
func (m *Map) empty(ctx context.Context, created []*node) error {
	if len(created) == 0 {
		return nil
	}
	parents := map[string]*node{} // sibling subject -> parent
	siblings := map[string]int{}  // sibling subject -> depth
	for _, c := range created {
		b := []byte(c.subject)
		b[len(b)-1] ^= 1 // '0' <-> '1'
		parents[string(b)] = c.parent
		siblings[string(b)] = c.depth
	}
	nodes := map[string]*node{}
	if err := m.readNodes(ctx, siblings, nodes); err != nil {
		return err
	}
	done := map[*node]bool{}
	var writes []shardWrite
	for s, p := range parents {
		if !nodes[s].stored || done[p] {
			continue
		}
		done[p] = true
		msg := nats.NewMsg(p.subject)
		msg.Data = encodeShard(nil, true)
		msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(p.seq, 10))
		f, err := m.js.PublishMsgAsync(msg)
		if err != nil {
			return fmt.Errorf("emptying sealed shard %s: %w", p.subject, err)
		}
		writes = append(writes, shardWrite{subject: p.subject, future: f})
		if len(writes) == maxInflight {
			if err := m.await(ctx, writes, func(shardWrite) {}, func(shardWrite) {}); err != nil {
				return err
			}
			writes = writes[:0]
		}
	}
	return m.await(ctx, writes, func(shardWrite) {}, func(shardWrite) {})
}

// store writes n's entries with compare-and-set on the sequence it was read
// at; sealed if they are more than splitAt.
func (m *Map) store(n *node) (jetstream.PubAckFuture, error) {
	m.written.Add(int64(len(n.entries)))
	msg := nats.NewMsg(n.subject)
	msg.Data = encodeShard(n.entries, len(n.entries) > m.splitAt && n.depth < maxDepth)
	msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(n.seq, 10))
	f, err := m.js.PublishMsgAsync(msg)
	if err != nil {
		return nil, fmt.Errorf("writing shard %s: %w", n.subject, err)
	}
	return f, nil
}

// readNodes reads the given subjects (subject -> depth), batchKeys at a
// time, into nodes; a subject with no stored shard is recorded as such.
func (m *Map) readNodes(ctx context.Context, want map[string]int, nodes map[string]*node) error {
	batch := make([]string, 0, min(batchKeys, len(want)))
	flush := func() error {
		if err := m.getBatch(ctx, batch, nodes); err != nil {
			return err
		}
		for _, s := range batch {
			if n, ok := nodes[s]; ok {
				n.depth = want[s]
			} else {
				nodes[s] = &node{subject: s, depth: want[s]}
			}
		}
		batch = batch[:0]
		return nil
	}
	for s := range want {
		batch = append(batch, s)
		if len(batch) == batchKeys {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(batch) > 0 {
		return flush()
	}
	return nil
}

// getBatch reads the last message of each subject with one multi-subject
// direct get: the server answers with one message per subject that has
// one, then an empty message with status 204 (end of batch), or only a 404
// when none has.
func (m *Map) getBatch(ctx context.Context, subjects []string, out map[string]*node) error {
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
			n := &node{subject: subject, seq: seq, stored: true, known: true}
			switch msg.Header.Get("KV-Operation") {
			case "DEL", "PURGE":
			default:
				if n.entries, n.sealed, err = decodeShard(msg.Data); err != nil {
					return fmt.Errorf("reading %s: shard %s is corrupt: %w", m.bucket, subject, err)
				}
			}
			out[subject] = n
		}
	}
}

// shardWrite is one shard's compare-and-set write awaiting its
// acknowledgement.
type shardWrite struct {
	subject string
	future  jetstream.PubAckFuture
	n       *node
	result  entries // the shard's entries of its keys after the write, by key (not id)
}

// await waits for writes in order and calls stored for each one the stream
// acknowledged and beaten for each one another writer beat (wrong last
// sequence), to be read and decided again. A write not acknowledged within
// ackTimeout fails the call: a server losing its stream leader may never
// answer it, and only a fresh read tells whether it was stored.
func (m *Map) await(ctx context.Context, writes []shardWrite, stored, beaten func(shardWrite)) error {
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
				beaten(w)
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
