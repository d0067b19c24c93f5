package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/mapping"
)

func init() { registerUnder("connectors", newConnectorsTestCmd) }

type checkFlags struct {
	configPath, instanceURL, brevoURL string
}

func newConnectorsTestCmd() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "test braze",
		Short: "Check the keys, permissions and endpoints the connector needs",
		Long: `Check that the connector can do its work, one line per check (✓ or ✗, with
the likely cause and the fix). The Braze key is checked for exactly the
permissions the product page tells you to give it:

  ✓ API connection successful     the instance answers and knows the key
  ✓ User export accessible        users.export.ids, users.export.segment
  ✓ Campaign data readable        campaigns.list, campaigns.data_series
  ✓ Segment list accessible       segments.list, segments.data_series
  ✓ Event tracking operational    users.track
    Canvas data readable          canvas.list, canvas.data_series
    Email subscriptions settable  email.status
    Subscription groups settable  subscription.status.set
    Catalog items readable        catalogs.list_items
    Brevo: API key, contacts writable, contact attributes of the field mapping

A ✗ for a missing permission names it. Keys, instance and mapping are found
as "tajo run" finds them: BRAZE_API_KEY and BREVO_API_KEY, else the keys
stored by "tajo connectors install"; the config file from --config,
$TAJO_CONFIG or $TAJO_HOME/config.yaml.

Nothing is created or changed at either vendor: reads ask for ids that do
not exist, and each write is one the vendor refuses after checking the key
(a /users/track object naming no user, a subscription change with no
address, a Brevo update of a contact that does not exist).
The exit status is 0 only when every check passes.`,
		Example: `  tajo connectors test braze
  tajo connectors test braze --config ./tajo.yaml
  BRAZE_API_KEY=... tajo connectors test braze --instance-url rest.iad-02.braze.com`,
		Args:      connectorArg,
		ValidArgs: []string{bootstrap.StoredConnector},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runChecks(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.configPath, "config", "", "config file (default $TAJO_CONFIG, else $TAJO_HOME/config.yaml)")
	fl.StringVar(&f.instanceURL, "instance-url", "", "Braze REST endpoint to check instead of the configured one")
	fl.StringVar(&f.brevoURL, "brevo-url", "", "Brevo API base URL to check instead of connectors.brevo.api_url")
	return cmd
}

// checkTarget is what the checks run against.
type checkTarget struct {
	brazeURL, brazeKey string
	brevoURL, brevoKey string
	attrs              []mapping.Attribute
}

func resolveTarget(f checkFlags, errOut io.Writer) (checkTarget, error) {
	home := config.Home()
	cfg, err := bootstrap.LoadConfig(bootstrap.ConfigPath(f.configPath))
	if err != nil {
		return checkTarget{}, err
	}
	if err := bootstrap.UseStoredInstance(cfg, home); err != nil {
		return checkTarget{}, err
	}
	creds, err := bootstrap.Credentials(home)
	if err != nil {
		return checkTarget{}, err
	}
	t := checkTarget{brazeKey: creds.BrazeAPIKey, brevoKey: creds.BrevoAPIKey}
	raw, from := f.instanceURL, "--instance-url"
	if raw == "" {
		raw, from = cfg.Connectors.Braze.InstanceURL, "connectors.braze.instance_url"
	}
	if raw == "" {
		return t, errors.New("no Braze instance: run `tajo connectors install braze`, set connectors.braze.instance_url or pass --instance-url")
	}
	inst, err := parseInstance(raw, from)
	if err != nil {
		return t, err
	}
	for _, w := range inst.warnings {
		fmt.Fprintln(errOut, "warning:", w)
	}
	t.brazeURL = inst.url
	if f.brevoURL != "" {
		if t.brevoURL, err = config.BrevoAPIURL(f.brevoURL); err != nil {
			return t, fmt.Errorf("--brevo-url: %w", err)
		}
	} else {
		t.brevoURL = cfg.Connectors.Brevo.APIURL // checked by the same rule when the config loaded
	}
	if t.brazeKey == "" {
		return t, fmt.Errorf("no Braze API key: run `tajo connectors install braze --api-key KEY` or export %s", config.EnvBrazeAPIKey)
	}
	m, err := mapping.New(cfg.MappingOptions())
	if err != nil {
		return t, fmt.Errorf("the field mapping is invalid (tajo config validate): %w", err)
	}
	t.attrs = m.Attributes()
	return t, nil
}

// checkResult is one line of the report, with its explanation when failed
// (or a note when passed).
type checkResult struct {
	name   string
	passed bool
	detail []string
}

func runChecks(ctx context.Context, out, errOut io.Writer, f checkFlags) error {
	t, err := resolveTarget(f, errOut)
	if err != nil {
		return err
	}
	rec := openCLIAudit(config.Home(), errOut)
	defer rec.close()
	pr := newProber(nil, rec)
	failed, total := 0, 0
	// The product page's lines come first, word for word, without a header:
	// what a user compares with the page.
	report := func(results []checkResult) {
		for _, r := range results {
			total++
			mark := "✓"
			if !r.passed {
				mark = "✗"
				failed++
			}
			fmt.Fprintf(out, "%s %s\n", mark, r.name)
			for _, d := range r.detail {
				fmt.Fprintf(out, "    %s\n", d)
			}
		}
	}
	report(brazeChecks(ctx, pr, t))
	report(brevoChecks(ctx, pr, t))
	fmt.Fprintf(out, "Checked Braze at %s and Brevo at %s.\n", t.brazeURL, t.brevoURL)
	if failed > 0 {
		fmt.Fprintf(out, "%d of %d checks failed.\n", failed, total)
		return fmt.Errorf("%d of %d connection checks failed: see the ✗ lines above for the cause and the fix", failed, total)
	}
	fmt.Fprintf(out, "All %d checks passed.\n", total)
	return nil
}

// noSuchUser is an external id no workspace has: looking it up reads, and
// finds nothing.
const noSuchUser = "tajo-connection-check-no-such-user-7f3c9a1e"

// noSuchID names a campaign, Canvas, segment or catalog no workspace has:
// asking for it proves the key may ask, and reads nothing.
const noSuchID = "tajo-connection-check-no-such-id-7f3c9a1e"

// permProbe is one permission a check needs and the request that shows the
// key holds it.
type permProbe struct {
	perm string
	p    probe
	// passes says the answer shows the permission: a 2xx for a real read;
	// for a request Braze must refuse (an id that does not exist, an object
	// naming no user), also its 400 or 404, given after the key and the
	// permission were accepted.
	passes func(probe) bool
}

func answered(p probe) bool { return p.ok() }

func refusedAfterAuth(p probe) bool {
	return p.ok() || (p.err == nil && (p.status == http.StatusBadRequest || p.status == http.StatusNotFound))
}

// brazeLines are the Braze checks: the product page's five lines first, in
// its order and words, then the rest of the page's permissions.
var brazeLines = []string{
	"API connection successful", "User export accessible", "Campaign data readable", "Segment list accessible",
	"Event tracking operational", "Canvas data readable", "Email subscriptions settable", "Subscription groups settable",
	"Catalog items readable",
}

func brazeChecks(ctx context.Context, pr prober, t checkTarget) []checkResult {
	call := func(method, path string, body any) probe {
		return pr.braze(ctx, t.brazeURL, t.brazeKey, method, path, body)
	}
	get := func(path string) probe { return call(http.MethodGet, path, nil) }
	segments := get("/segments/list?page=0")
	// A 403 proves the key and the instance are right: only the permission
	// is missing, and the segment check below says which.
	connected := segments.err == nil && (segments.ok() || segments.status == http.StatusForbidden)
	results := []checkResult{{name: brazeLines[0], passed: connected}}
	if !connected {
		results[0].detail = []string{brazeRemedy(segments, "segments.list")}
		for _, name := range brazeLines[1:] {
			results = append(results, checkResult{name: name, detail: []string{"not checked: no connection to Braze"}})
		}
		return results
	}
	q := url.QueryEscape(noSuchID)
	checks := [][]permProbe{
		{ // User export accessible: the look-up of one user, and the segment export the sync runs.
			{"users.export.ids", call(http.MethodPost, "/users/export/ids", map[string]any{
				"external_ids": []string{noSuchUser}, "fields_to_export": []string{"external_id"}}), answered},
			{"users.export.segment", call(http.MethodPost, "/users/export/segment", map[string]any{
				"segment_id": noSuchID, "fields_to_export": []string{"external_id"}}), refusedAfterAuth},
		},
		{
			{"campaigns.list", get("/campaigns/list?page=0"), answered},
			{"campaigns.data_series", get("/campaigns/data_series?length=1&campaign_id=" + q), refusedAfterAuth},
		},
		{
			{"segments.list", segments, answered},
			{"segments.data_series", get("/segments/data_series?length=1&segment_id=" + q), refusedAfterAuth},
		},
		{ // An attribute object that names no user: Braze refuses it (400) after the key.
			{"users.track", call(http.MethodPost, "/users/track", map[string]any{
				"attributes": []map[string]any{{"tajo_connection_check": true}}}), refusedAfterAuth},
		},
		{
			{"canvas.list", get("/canvas/list?page=0"), answered},
			{"canvas.data_series", get("/canvas/data_series?length=1&canvas_id=" + q), refusedAfterAuth},
		},
		{ // No address and no valid state: nothing to change.
			{"email.status", call(http.MethodPost, "/email/status", map[string]any{
				"email": []string{}, "subscription_state": "tajo-connection-check"}), refusedAfterAuth},
		},
		{
			{"subscription.status.set", call(http.MethodPost, "/subscription/status/set", map[string]any{
				"subscription_group_id": "", "subscription_state": "tajo-connection-check", "external_id": []string{}}), refusedAfterAuth},
		},
		{
			{"catalogs.list_items", get("/catalogs/" + url.PathEscape(noSuchID) + "/items"), refusedAfterAuth},
		},
	}
	for k, probes := range checks {
		results = append(results, judge(brazeLines[k+1], probes))
	}
	return results
}

// judge makes one line of its probes: passed when each shows its
// permission; else the line names the permissions the key lacks (403s) and
// explains any other failure.
func judge(name string, probes []permProbe) checkResult {
	var lacking, other []string
	var denied probe
	for _, pp := range probes {
		switch {
		case pp.passes(pp.p):
		case pp.p.err == nil && pp.p.status == http.StatusForbidden:
			lacking = append(lacking, pp.perm)
			denied = pp.p
		default:
			other = append(other, brazeRemedy(pp.p, pp.perm))
		}
	}
	r := checkResult{name: name, passed: len(lacking) == 0 && len(other) == 0}
	if len(lacking) > 0 {
		perms := strings.Join(lacking, " and ")
		noun := "permission"
		if len(lacking) > 1 {
			noun = "permissions"
		}
		r.name += fmt.Sprintf(": the key lacks the %s %s", perms, noun)
		r.detail = append(r.detail, fmt.Sprintf("403 %s: edit the key in Braze > Settings > API Keys and tick %s (a 403 can also mean the Braze plan is inactive)",
			denied.message(), perms))
	}
	r.detail = append(r.detail, other...)
	return r
}

func brevoChecks(ctx context.Context, pr prober, t checkTarget) []checkResult {
	names := []string{"Brevo API key valid", "Brevo contacts writable", "Brevo attributes present"}
	if t.brevoKey == "" {
		results := []checkResult{{name: names[0], detail: []string{
			"no Brevo key: run `tajo connectors install braze --brevo-api-key KEY` or export " + config.EnvBrevoAPIKey}}}
		for _, n := range names[1:] {
			results = append(results, checkResult{name: n, detail: []string{"not checked: no Brevo key"}})
		}
		return results
	}
	account := pr.brevo(ctx, t.brevoURL, t.brevoKey, http.MethodGet, "/account", nil)
	results := []checkResult{{name: names[0], passed: account.ok()}}
	if !account.ok() {
		results[0].detail = []string{brevoRemedy(account)}
		if account.err != nil || account.status == http.StatusUnauthorized {
			for _, n := range names[1:] {
				results = append(results, checkResult{name: n, detail: []string{"not checked: the Brevo key was not accepted"}})
			}
			return results
		}
	}

	// An update of a contact that cannot exist, with nothing in it: 404
	// means the key may write contacts, and nothing was written.
	write := pr.brevo(ctx, t.brevoURL, t.brevoKey, http.MethodPut, "/contacts/"+noSuchUser+"?identifierType=ext_id", map[string]any{})
	writable := checkResult{name: names[1], passed: write.status == http.StatusNotFound || write.ok()}
	if !writable.passed {
		writable.detail = []string{brevoRemedy(write)}
	}
	results = append(results, writable, attributesCheck(ctx, pr, t, names[2]))
	return results
}

// attributesCheck compares the account's contact attributes with those the
// field mapping writes. Missing ones pass with a note, as `tajo run` creates
// them; one of another type fails, as Brevo would silently drop its values.
func attributesCheck(ctx context.Context, pr prober, t checkTarget, name string) checkResult {
	p := pr.brevo(ctx, t.brevoURL, t.brevoKey, http.MethodGet, "/contacts/attributes", nil)
	if !p.ok() {
		return checkResult{name: name, detail: []string{brevoRemedy(p)}}
	}
	var body struct {
		Attributes []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"attributes"`
	}
	if err := json.Unmarshal(p.body, &body); err != nil {
		return checkResult{name: name, detail: []string{fmt.Sprintf("unreadable answer from GET /contacts/attributes (%v): is --brevo-url / api_url Brevo's API (https://api.brevo.com/v3)?", err)}}
	}
	have := make(map[string]string, len(body.Attributes))
	for _, a := range body.Attributes {
		have[a.Name] = a.Type
	}
	var missing, mismatched []string
	for _, a := range t.attrs {
		typ, ok := have[a.Name]
		switch {
		case !ok:
			missing = append(missing, a.Name)
		case typ != "" && !sameBrevoType(typ, a.Type):
			mismatched = append(mismatched, fmt.Sprintf("%s is %s in Brevo, the mapping writes %s", a.Name, typ, a.Type))
		}
	}
	sort.Strings(missing)
	sort.Strings(mismatched)
	r := checkResult{name: name, passed: len(mismatched) == 0}
	if len(mismatched) > 0 {
		r.detail = append(r.detail, "type mismatch (Brevo would silently drop these values): "+strings.Join(mismatched, "; "),
			"fix: set connectors.braze.field_types to the Brevo type, or change the attribute in Brevo > Contacts > Settings")
	}
	if len(missing) > 0 {
		r.detail = append(r.detail, fmt.Sprintf("%d of %d not in Brevo yet: %s; `tajo run` creates them", len(missing), len(t.attrs), strings.Join(missing, ", ")))
	}
	return r
}

// sameBrevoType compares a Brevo attribute type with the mapping's; Brevo
// reports some types under another name.
func sameBrevoType(brevoType, want string) bool {
	switch {
	case brevoType == want:
		return true
	case want == "float":
		return brevoType == "number"
	case want == "text":
		return brevoType == "string"
	}
	return false
}
