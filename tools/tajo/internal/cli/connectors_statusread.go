package cli

import (
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// vendorReads are the status's vendor checks with the configured keys;
// both calls are recorded in the audit trail (rec). A key that is not set,
// or a client that cannot be configured, is a failed check that says how
// to fix it.
func vendorReads(s *connectorSettings, rec *cliAudit) app.VendorReads {
	const store = " is not set: export it, or store it with `tajo connectors install braze`"
	var r app.VendorReads
	if s.creds.BrazeAPIKey == "" {
		r.BrazeMissing = "BRAZE_API_KEY" + store
	} else if c, err := braze.New(braze.Config{BaseURL: s.cfg.Connectors.Braze.InstanceURL, APIKey: s.creds.BrazeAPIKey,
		Observer: rec.Observer(cliService)}); err != nil {
		r.BrazeMissing = "configuring the Braze client (check connectors.braze.instance_url): " + err.Error()
	} else {
		r.Braze = app.Reads(c, nil).Braze
	}
	if s.creds.BrevoAPIKey == "" {
		r.BrevoMissing = "BREVO_API_KEY" + store
	} else if c, err := brevo.New(brevo.Config{BaseURL: s.cfg.Connectors.Brevo.APIURL, APIKey: s.creds.BrevoAPIKey,
		Observer: rec.Observer(cliService)}); err != nil {
		r.BrevoMissing = "configuring the Brevo client (check connectors.brevo.api_url): " + err.Error()
	} else {
		r.Brevo = app.Reads(nil, c).Brevo
	}
	return r
}
