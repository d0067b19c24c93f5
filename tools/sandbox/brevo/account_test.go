package brevo

import (
	"net/http"
	"testing"
)

func TestAccount(t *testing.T) {
	h := newHarness(t, Config{RateLimit: true})
	r := h.do("GET", "/v3/account", nil).expect(t, 200, "")
	if r.body["email"] != accountEmail || r.body["companyName"] != accountCompany {
		t.Errorf("account %v", r.body)
	}
	plan, _ := r.body["plan"].([]any)
	if len(plan) != 1 || plan[0].(map[string]any)["type"] != "free" {
		t.Errorf("plan %v: want one free plan", r.body["plan"])
	}
	if limit, remaining, _ := rateHeaders(t, r); limit != 100 || remaining != 99 {
		t.Errorf("GET /account counted against limit %d (remaining %d), want the 100/hour pool", limit, remaining)
	}
	h.doKey("xkeysib-wrong", "GET", "/v3/account", nil).expect(t, http.StatusUnauthorized, "unauthorized")
	if n := h.srv.Requests()["GET /v3/account 200"]; n != 1 {
		t.Errorf("request log: %d successful account reads, want 1 (%v)", n, h.srv.Requests())
	}
}
