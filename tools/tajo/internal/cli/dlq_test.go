package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// dlqHome makes a $TAJO_HOME whose local store holds the dead letters
// seedLetters publishes, with no server running on it, and points the
// environment at it.
func dlqHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("TAJO_HOME", home)
	t.Setenv("TAJO_CONFIG", "")
	t.Setenv("NATS_URL", "")
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: filepath.Join(home, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nc, err := natsx.Connect(ctx, srv.ClientURL(), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		t.Fatal(err)
	}
	seedLetters(t, ctx, js)
	return home
}

// seedLetters publishes three dead letters: an export line the extractor
// refused, a raw user the transformer could not map, and a contact the
// loader could not write.
func seedLetters(t *testing.T, ctx context.Context, js jetstream.JetStream) {
	t.Helper()
	rawUser, err := proto.Encode(&proto.RawUser{V: 1, RunID: "run-1", BrazeID: "b-2", ExportedAt: 1700000000000,
		Line: []byte(`{"braze_id":"b-2","dob":"31/02/1990"}`)})
	if err != nil {
		t.Fatal(err)
	}
	upsert, err := proto.Encode(&proto.ContactUpsert{V: 1, RunID: "run-1", Key: "u-3",
		Attributes: map[string]any{"FIRSTNAME": "Ana"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		stage, reason, detail, subject string
		data                           []byte
	}{
		{"extractor", "malformed_json", "line 7: invalid JSON", proto.SubjectRawBrazeUsers, []byte(`{"braze_id": "b-1",`)},
		{"transformer", "invalid_date", "mapping braze user b-2: dob \"31/02/1990\" is not a date (want YYYY-MM-DD)",
			proto.SubjectRawBrazeUsers, rawUser},
		{"loader", "contact_too_large", "importing contact u-3: the contact is larger than Brevo accepts in one import, which is a very long detail indeed",
			proto.SubjectOpsBrevoContactsUpsert, upsert},
	} {
		hdr := nats.Header{}
		hdr.Set(proto.HeaderRunID, "run-1")
		hdr.Set(proto.HeaderMsgID, "msg-"+l.stage)
		if err := pipeline.PublishDeadLetter(ctx, js, l.stage, l.reason, l.detail, l.subject, hdr, l.data, 1); err != nil {
			t.Fatal(err)
		}
	}
}

// dlqCmd runs the command line args and returns what it printed and its
// error.
func dlqCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := NewRoot("test")
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

var timestamps = regexp.MustCompile(`\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?`)

// TestDLQCommands runs list, show, replay and purge on a local store the
// commands open themselves, and compares the transcript with a golden file.
func TestDLQCommands(t *testing.T) {
	dlqHome(t)
	var transcript strings.Builder
	step := func(wantErr bool, args ...string) {
		t.Helper()
		out, err := dlqCmd(t, args...)
		if (err != nil) != wantErr {
			t.Fatalf("tajo %s: error %v, want error %v\n%s", strings.Join(args, " "), err, wantErr, out)
		}
		fmt.Fprintf(&transcript, "$ tajo %s\n%s", strings.Join(args, " "), out)
		if err != nil {
			fmt.Fprintf(&transcript, "error: %v\n", err)
		}
		transcript.WriteString("\n")
	}
	step(false, "dlq", "list")
	step(false, "dlq", "list", "--stage", "transformer", "--json")
	step(false, "dlq", "list", "--limit", "2")
	step(false, "dlq", "list", "--reason", "no_such_reason")
	step(false, "dlq", "show", "1")
	step(false, "dlq", "show", "2")
	step(false, "dlq", "show", "3")
	step(true, "dlq", "show", "x")
	step(true, "dlq", "show", "99")
	step(true, "dlq", "replay")
	step(true, "dlq", "replay", "1", "--stage", "loader")
	step(false, "dlq", "replay", "2")
	step(true, "dlq", "replay", "2")
	step(false, "dlq", "replay", "--stage", "extractor")
	step(true, "dlq", "purge")
	step(false, "dlq", "purge", "--stage", "loader", "--yes")
	step(false, "dlq", "list")
	golden(t, "dlq_commands.golden", []byte(timestamps.ReplaceAllString(transcript.String(), "<time>")))
}

// A replayed letter really is back on its subject: read it through
// NATS_URL from a server on the same store.
func TestDLQReplayThroughNATSURL(t *testing.T) {
	home := dlqHome(t)
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: filepath.Join(home, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	t.Setenv("NATS_URL", srv.ClientURL())
	if out, err := dlqCmd(t, "dlq", "replay", "--all"); err != nil || !strings.Contains(out, "Replayed 3 dead letter(s): 1 to ops.brevo.contacts.upsert, 2 to raw.braze.users.") {
		t.Fatalf("replay --all: %v\n%s", err, out)
	}
	_, js := natsxtest.Conn(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := js.Stream(ctx, proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	m, err := raw.GetLastMsgForSubject(ctx, proto.SubjectRawBrazeUsers)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Tajo-Replay-Attempt") != "1" || m.Header.Get(proto.HeaderRunID) != "run-1" {
		t.Fatalf("replayed message headers %v", m.Header)
	}
	if out, err := dlqCmd(t, "dlq", "list"); err != nil || !strings.HasPrefix(out, "No dead letters") {
		t.Fatalf("after replay: %v\n%s", err, out)
	}
}

func TestDLQStoreInUseSaysHowToReachIt(t *testing.T) {
	home := dlqHome(t)
	lk, err := lockStore(filepath.Join(home, "nats"))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.unlock()
	if err := lk.publish("nats://127.0.0.1:4999"); err != nil {
		t.Fatal(err)
	}
	_, err = dlqCmd(t, "dlq", "list")
	if err == nil || !strings.Contains(err.Error(), "NATS_URL=nats://127.0.0.1:4999 tajo dlq list") {
		t.Fatalf("list on a busy store: %v", err)
	}
}

func TestDLQWithoutStoreSaysWhatToDo(t *testing.T) {
	t.Setenv("TAJO_HOME", t.TempDir())
	t.Setenv("TAJO_CONFIG", "")
	t.Setenv("NATS_URL", "")
	_, err := dlqCmd(t, "dlq", "list")
	if err == nil || !strings.Contains(err.Error(), "tajo run") || !strings.Contains(err.Error(), "NATS_URL") {
		t.Fatalf("list without a store: %v", err)
	}
}
