package cli

import (
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/status"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// vendorReads are the status's vendor checks with the configured keys
// (status.KeyReads); both calls are recorded in the audit trail (rec).
func vendorReads(s *connectorSettings, rec *cliAudit) app.VendorReads {
	return status.KeyReads(
		braze.Config{BaseURL: s.cfg.Connectors.Braze.InstanceURL, APIKey: s.creds.BrazeAPIKey, Observer: rec.Observer(cliService)},
		brevo.Config{BaseURL: s.cfg.Connectors.Brevo.APIURL, APIKey: s.creds.BrevoAPIKey, Observer: rec.Observer(cliService)})
}
