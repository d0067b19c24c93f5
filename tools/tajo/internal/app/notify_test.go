package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/services/loader"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// With gateway.public_url set, an import asks Brevo to call the gateway
// when it finishes; the gateway relays the call over NATS and the loader
// learns the import finished without a single GET /processes. When the
// call does not reach it (here the gateway refuses it: another install's
// secret), the loader polls, and the contacts are written all the same.
func TestImportCompletionIsNotified(t *testing.T) {
	for _, tc := range []struct {
		name        string
		gatewayKeys func(secret string) string // the secret the gateway holds
		grace       time.Duration              // the loader's wait for a notification past twice the expected time
		wantPolls   bool
	}{
		{"notification relayed", func(s string) string { return s }, 5 * time.Second, false},
		{"notification refused", func(string) string { return strings.Repeat("0", 64) }, 100 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			_, nc, js := natsxtest.Start(t)
			st, err := state.NewStore(ctx, js)
			if err != nil {
				t.Fatal(err)
			}
			secret, err := st.Secret(ctx, proto.SecretBrevoNotify)
			if err != nil {
				t.Fatal(err)
			}
			gw, err := gateway.New(nc, gateway.Config{NotifyToken: tc.gatewayKeys(secret)})
			if err != nil {
				t.Fatal(err)
			}
			gsrv := httptest.NewServer(gw.Handler())
			defer gsrv.Close()

			// Each import takes 300 ms: long enough that a poll would come.
			sim := brevosim.New(brevosim.Config{APIKey: "k", ImportDelay: 300 * time.Millisecond})
			defer sim.Close()
			bsrv := httptest.NewServer(sim)
			defer bsrv.Close()
			client, err := brevo.New(brevo.Config{BaseURL: bsrv.URL + "/v3", APIKey: "k"})
			if err != nil {
				t.Fatal(err)
			}
			m, err := mapping.New(mapping.Options{})
			if err != nil {
				t.Fatal(err)
			}
			l, err := loader.New(ctx, js, client, m.Attributes(), st, loader.Config{
				ImportThreshold: 2, NotifyURL: gsrv.URL, NotifyGrace: tc.grace,
				FirstPoll: 50 * time.Millisecond, OtherPerHour: 1 << 30,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := l.EnsureAttributes(ctx); err != nil {
				t.Fatal(err)
			}
			if err := l.EnsureList(ctx); err != nil {
				t.Fatal(err)
			}
			const imports, rows = 3, 20
			for k := range imports {
				batch := make([]*pipeline.Msg, rows)
				for i := range batch {
					ext := fmt.Sprintf("u%d-%d", k, i)
					data, err := proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: "r", Key: ext, ExtID: ext,
						Attributes: map[string]any{"FIRSTNAME": ext}, SourceVersion: 1, Fingerprint: ext})
					if err != nil {
						t.Fatal(err)
					}
					batch[i] = &pipeline.Msg{Subject: proto.SubjectOpsBrevoContactsUpsert, Header: nats.Header{}, Data: data}
					l.Prepare(batch[i])
				}
				for i, err := range l.HandleBatch(ctx, batch) {
					if err != nil {
						t.Fatalf("import %d, row %d: %v", k, i, err)
					}
				}
			}
			// The simulator counts a notification once its call has
			// answered, which may be after the loader, woken by it, is done.
			st2 := sim.State()
			for deadline := time.Now().Add(10 * time.Second); st2.Imports.Notified+st2.Imports.NotifyFailed < st2.Imports.Count && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
				st2 = sim.State()
			}
			polls := 0
			for k, n := range sim.Requests() {
				if strings.HasPrefix(k, "GET /v3/processes") {
					polls += n
				}
			}
			t.Logf("%d imports: %d notified, %d notifications refused, %d polls", st2.Imports.Count, st2.Imports.Notified, st2.Imports.NotifyFailed, polls)
			if n := len(sim.Contacts()); n != imports*rows {
				t.Fatalf("Brevo holds %d contacts, want %d", n, imports*rows)
			}
			if st2.Imports.Count != imports {
				t.Fatalf("%d imports, want %d", st2.Imports.Count, imports)
			}
			switch {
			case !tc.wantPolls && (polls != 0 || st2.Imports.Notified != imports):
				t.Errorf("%d polls and %d of %d imports notified: want every import notified and no poll", polls, st2.Imports.Notified, imports)
			case tc.wantPolls && (polls < imports || st2.Imports.NotifyFailed != imports):
				t.Errorf("%d polls, %d notifications refused: want each import polled for once its notification failed", polls, st2.Imports.NotifyFailed)
			}
		})
	}
}
