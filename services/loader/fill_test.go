package loader_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/loader"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// bodySizes is a fake edge in front of the simulator that records the
// size of every import body.
type bodySizes struct {
	next  http.Handler
	mu    sync.Mutex
	sizes []int
}

func (b *bodySizes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/v3/contacts/import" {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.sizes = append(b.sizes, len(body))
		b.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	b.next.ServeHTTP(w, r)
}

func (b *bodySizes) get() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.sizes...)
}

// On a full sync (every upsert waiting when the loader starts) each import
// carries at least 80% of max_import_bytes: the batch is filled by the
// bytes of its rows, not by a count. Only the last import, the rest of the
// sync, may be smaller.
func TestFullSyncImportsAreFilledByBytes(t *testing.T) {
	ctx := context.Background()
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 5 * time.Millisecond})
	edge := &bodySizes{next: sim}
	srv := httptest.NewServer(edge)
	defer srv.Close()
	_, _, js := natsxtest.Start(t)
	const maxBytes, users = 30_000, 3000
	l := buildLoader(t, js, brevo.Config{BaseURL: srv.URL + "/v3", APIKey: key}, loader.Config{
		MaxImportBytes: maxBytes, ImportThreshold: 10, BatchWait: 500 * time.Millisecond,
		FirstPoll: 10 * time.Millisecond, OtherPerHour: 1 << 30,
	})
	// The whole sync waits in OPS, as after the transformer of a full sync.
	p := pipeline.NewPublisher(js, users)
	for i := range users {
		attrs := map[string]any{"FIRSTNAME": fmt.Sprintf("First%d", i), "LASTNAME": strings.Repeat("n", i%40)}
		if i%3 == 0 {
			attrs["SMS"] = fmt.Sprintf("+336%08d", i)
		}
		ext := fmt.Sprintf("cust_%06d", i)
		email := ext + "@example.com"
		if i%100 == 99 {
			email = "cust_000000@example.com" // the first user's: written without it
		}
		data, err := proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: "r", Key: ext, ExtID: ext,
			Email: email, Attributes: attrs, SourceVersion: 1, Fingerprint: ext})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Publish(ctx, proto.SubjectOpsBrevoContactsUpsert, "up-"+ext, nats.Header{proto.HeaderRunID: {"r"}}, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Run(rctx) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(60 * time.Second)
	for len(sim.Contacts()) < users {
		if time.Now().After(deadline) {
			t.Fatalf("Brevo holds %d contacts after 60s, want %d", len(sim.Contacts()), users)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Of the users sharing the first one's email, one holds it (the first
	// claimed: batches run side by side) and the others are written without
	// it, each with a side letter of the upsert as it was sent (read back
	// from the stream: the worker kept only its row).
	holders := 0
	for i := -1; i < users; i += 100 {
		i := max(i, 0)
		c, ok := sim.ContactByExtID(fmt.Sprintf("cust_%06d", i))
		if !ok || c.Attributes["FIRSTNAME"] != fmt.Sprintf("First%d", i) {
			t.Fatalf("user %d sharing an email: %+v, want it written", i, c)
		}
		if c.Email != "" {
			holders++
		}
	}
	if holders != 1 {
		t.Errorf("%d contacts hold the shared email, want 1", holders)
	}
	dlq, err := js.Stream(ctx, proto.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := dlq.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.State.Msgs; n != users/100 {
		t.Errorf("%d side letters in the DLQ, want %d (email_taken)", n, users/100)
	}
	sizes := edge.get()
	t.Logf("%d imports of %v bytes (limit %d)", len(sizes), sizes, maxBytes)
	if len(sizes) < 5 {
		t.Fatalf("%d imports: want the sync spread over several full ones", len(sizes))
	}
	for i, n := range sizes {
		if n > maxBytes {
			t.Errorf("import %d: %d bytes, over max_import_bytes %d", i, n, maxBytes)
		}
		if i < len(sizes)-1 && n < maxBytes*8/10 {
			t.Errorf("import %d: %d bytes, under 80%% of max_import_bytes %d", i, n, maxBytes)
		}
	}
}
