package loader_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/plan"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/loader"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// A dry run plans every upsert a real run would send, refuses what a real
// run would refuse (an email another record holds, even one claimed by an
// earlier batch of the same run), and sends Brevo nothing but reads.
func TestDryRunPlansInsteadOfWriting(t *testing.T) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	p := plan.New()
	l := newLoader(t, sim, loader.Config{DryRun: true, Planner: p, ImportThreshold: 1})
	ctx := context.Background()

	sameEmail := func(extID string) *pipeline.Msg {
		data, err := proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: "r",
			Key: extID, ExtID: extID, Email: "shared@example.com", Attributes: map[string]any{"FIRSTNAME": extID}, SourceVersion: 1})
		if err != nil {
			t.Fatal(err)
		}
		return &pipeline.Msg{Subject: proto.SubjectOpsBrevoContactsUpsert, Header: nats.Header{}, Data: data}
	}
	errs := handle(l).HandleBatch(ctx, []*pipeline.Msg{
		upsert(t, "u1", 1, map[string]any{"FIRSTNAME": "Ann"}),
		sameEmail("u2"),
		upsert(t, "u3", 1, map[string]any{"FIRSTNAME": "Cy"}),
	})
	if errs[0] != nil || errs[1] != nil || errs[2] != nil {
		t.Fatalf("first batch: %v", errs)
	}
	// The claim of u2's email by the batch above holds: another record with
	// an ext_id is planned without the email (and a side letter says so);
	// one keyed by the email alone is refused, as for real.
	byEmail := func() *pipeline.Msg {
		data, err := proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: "r",
			Key: "shared@example.com", Email: "shared@example.com", Attributes: map[string]any{"FIRSTNAME": "Di"}, SourceVersion: 1})
		if err != nil {
			t.Fatal(err)
		}
		return &pipeline.Msg{Subject: proto.SubjectOpsBrevoContactsUpsert, Header: nats.Header{}, Data: data}
	}
	errs = handle(l).HandleBatch(ctx, []*pipeline.Msg{sameEmail("u4"), byEmail()})
	if errs[0] != nil {
		t.Fatalf("a record with an ext_id and a claimed email: %v, want it planned without the email", errs[0])
	}
	var pe *pipeline.PermanentError
	if !errors.As(errs[1], &pe) || pe.Reason != "duplicate_email" {
		t.Fatalf("a record keyed by a claimed email: %v, want a duplicate_email dead letter", errs[1])
	}
	for _, c := range p.Creates() {
		if c.Key == "u4" && c.Email != "" {
			t.Errorf("u4 planned with email %q, want none", c.Email)
		}
	}

	var keys []string
	for _, c := range p.Creates() {
		keys = append(keys, c.Key)
	}
	if got := strings.Join(keys, ","); got != "u1,u2,u3,u4" {
		t.Errorf("planned creates %s, want u1,u2,u3,u4", got)
	}
	for req := range sim.Requests() {
		if !strings.HasPrefix(req, "GET ") {
			t.Errorf("the dry run sent Brevo %s", req)
		}
	}
	if n := len(sim.Contacts()); n != 0 {
		t.Errorf("Brevo holds %d contacts after a dry run", n)
	}
}
