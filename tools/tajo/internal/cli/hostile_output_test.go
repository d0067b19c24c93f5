package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

const (
	// escapes a hostile record or vendor could carry: clear the screen,
	// retitle the window, a one-byte CSI, a bell, a bidi override, and a
	// byte that is not UTF-8.
	hostile   = "\x1b[2J\x1b]0;pwned\x07\u009b31m\u202eevil\xff"
	piiEmail  = "jörg.müller@exämple.com"
	piiPhone  = "+33612345678"
	maskEmail = "***@exämple.com"
)

// rawControls reports the first raw control character or bidi override in
// s, with its position: none may reach a terminal.
func rawControls(s string) (rune, int, bool) {
	for i, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || r == 0xfffd {
			return r, i, true
		}
	}
	return 0, 0, false
}

func assertTerminalSafe(t *testing.T, what, out string) {
	t.Helper()
	if r, i, ok := rawControls(out); ok {
		t.Errorf("%s prints %U raw at byte %d:\n%q", what, r, i, out)
	}
}

// A dead letter whose names and payload carry escape sequences and
// personal data: list and show escape the one and mask the other unless
// --show-pii.
func TestDLQOutputIsEscapedAndMasked(t *testing.T) {
	e := natsxtest.Server(t)
	t.Setenv("TAJO_HOME", t.TempDir())
	t.Setenv("TAJO_CONFIG", "")
	t.Setenv("NATS_URL", e.ClientURL())
	_, js := natsxtest.Conn(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		t.Fatal(err)
	}
	hdr := nats.Header{}
	hdr.Set(proto.HeaderRunID, "run-"+hostile)
	detail := "refused " + piiEmail + " and " + piiPhone + " " + hostile
	payload := []byte(`{"email":"` + piiEmail + `","note":"` + hostile + `"}` + "\nsecond line " + piiPhone)
	if err := pipeline.PublishDeadLetter(ctx, js, "loader", "bad_reason", detail, proto.SubjectOpsBrevoContactsUpsert, hdr, payload, 1); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{{"dlq", "list"}, {"dlq", "show", "1"}, {"dlq", "list", "--json"}} {
		out, err := dlqCmd(t, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		assertTerminalSafe(t, strings.Join(args, " "), out)
		if strings.Contains(out, "jörg") || strings.Contains(out, "612345678") {
			t.Errorf("%v shows personal data by default:\n%s", args, out)
		}
		if !strings.Contains(out, maskEmail) {
			t.Errorf("%v: want the e-mail masked as %s:\n%s", args, maskEmail, out)
		}
		if args[1] == "show" && !strings.Contains(out, `\x1b[2J`) {
			t.Errorf("show: want the escape shown escaped:\n%s", out)
		}
		out, err = dlqCmd(t, append(args, "--show-pii")...)
		if err != nil {
			t.Fatal(err)
		}
		assertTerminalSafe(t, strings.Join(args, " ")+" --show-pii", out)
		if !strings.Contains(out, piiEmail) {
			t.Errorf("%v --show-pii: want the e-mail in full:\n%s", args, out)
		}
	}
}

// audit tail and status print what the bus and the vendors said, escaped.
func TestAuditTailAndStatusAreEscaped(t *testing.T) {
	e := natsxtest.Server(t)
	auditEnv(t, e.ClientURL())
	recordAll(t, e.ClientURL(), []audit.Entry{{Time: time.Now(), Vendor: "brevo", Method: "GET",
		Path: "/contacts/" + hostile, Status: 200, Attempt: 1, RunID: hostile, Service: "loader" + hostile, ErrorClass: hostile}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, errOut, err := runTajo(ctx, "audit", "tail")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	assertTerminalSafe(t, "audit tail", out)

	st := sampleStatus()
	st.Connection.Brevo.Error = "brevo: GET /contacts: 401 " + hostile
	st.LastSync.ID = "run" + hostile
	st.Resources["users"].Error = hostile
	st.DeadLetters[0].Reason = hostile
	var b bytes.Buffer
	if err := writeStatus(&b, st); err != nil {
		t.Fatal(err)
	}
	assertTerminalSafe(t, "status", b.String())
	b.Reset()
	if err := writeStatusJSON(&b, st); err != nil {
		t.Fatal(err)
	}
	assertTerminalSafe(t, "status --json", b.String())
	out, errOut, err = runTajo(ctx, "audit", "tail", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	assertTerminalSafe(t, "audit tail --json", out)
}
