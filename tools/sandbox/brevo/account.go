package brevo

import "net/http"

// The simulated account's owner, as GET /account shows it. A fresh account
// on the free plan: 300 emails a day, no SMS credits.
const (
	accountOrganizationID = "5f9e0c1a2b3c4d5e6f708192"
	accountUserID         = 1000001
	accountEmail          = "owner@sandbox.example.com"
	accountCompany        = "Sandbox Shop"
	freePlanDaily         = 300
)

// getAccount serves GET /v3/account in the spec's getAccount shape, plus
// organization_id, user_id and enterprise, which Brevo's current SDK
// (@getbrevo/brevo 6) requires in GetAccountResponse. It counts
// against the 100 requests/hour pool of non-contact endpoints, as at Brevo,
// and only reads.
func (s *Server) getAccount(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"organization_id": accountOrganizationID,
		"user_id":         accountUserID,
		"enterprise":      false,
		"email":           accountEmail,
		"firstName":       "Sandy",
		"lastName":        "Box",
		"companyName":     accountCompany,
		"address": map[string]string{
			"street": "1 Loopback Lane", "city": "Localhost", "zipCode": "12700", "country": "France",
		},
		"plan": []map[string]any{
			{"type": "free", "creditsType": "sendLimit", "credits": freePlanDaily},
		},
		"relay": map[string]any{
			"enabled": true,
			"data":    map[string]any{"userName": accountEmail, "relay": "smtp-relay.brevo.com", "port": 587},
		},
		"marketingAutomation": map[string]any{"enabled": false},
	})
}
