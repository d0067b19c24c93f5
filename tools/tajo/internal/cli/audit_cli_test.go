package cli

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
)

// The CLI's own vendor calls (install, test, status, sync --dry-run --diff)
// are on record: every call the simulators answered has its entry, kept
// in the spool until a recorder with a bus ships it to AUDIT.
func TestCLIVendorCallsAreAudited(t *testing.T) {
	e := newConnectorsEnv(t, 40)
	e.mustTajo(t, "connectors", "install", "braze", "--instance-url", e.sb.BrazeURL)
	e.mustTajo(t, "connectors", "test", "braze", "--brevo-url", e.sb.BrevoURL)
	_, _ = e.tajo(t, "connectors", "status", "braze") // its exit says whether both keys work; the calls are what count
	e.mustTajo(t, "connectors", "sync", "braze", "--dry-run", "--diff")

	served := 0
	for _, n := range e.sb.Braze.Requests() {
		served += n
	}
	for _, n := range e.sb.Brevo.Requests() {
		served += n
	}
	if served == 0 {
		t.Fatal("the commands made no vendor call")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, js := natsxtest.Start(t)
	rec := audit.New(js, audit.Options{Spool: bootstrap.AuditSpool(e.home)})
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var entries []audit.Entry
	if err := audit.Tail(ctx, js, 10000, false, func(en audit.Entry) { entries = append(entries, en) }); err != nil {
		t.Fatal(err)
	}
	if len(entries) != served {
		t.Fatalf("AUDIT holds %d entries; the simulators answered %d calls: %v / %v", len(entries), served,
			e.sb.Braze.Requests(), e.sb.Brevo.Requests())
	}
	services := map[string]int{}
	for _, en := range entries {
		services[en.Service]++
	}
	if services[cliService] == 0 || services[proto.StageExtractor] == 0 {
		t.Errorf("entries by service %v: want the CLI's checks and the dry run's export", services)
	}
	if left, _ := filepath.Glob(filepath.Join(bootstrap.AuditSpool(e.home), "*")); len(left) != 0 {
		t.Errorf("spool files left after shipping: %v", left)
	}
}
