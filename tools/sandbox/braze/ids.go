package braze

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

type userAlias struct {
	AliasName  string `json:"alias_name"`
	AliasLabel string `json:"alias_label"`
}

type exportIDsRequest struct {
	ExternalIDs    []string    `json:"external_ids"`
	UserAliases    []userAlias `json:"user_aliases"`
	DeviceID       string      `json:"device_id"`
	BrazeID        string      `json:"braze_id"`
	EmailAddress   string      `json:"email_address"`
	Phone          string      `json:"phone"`
	FieldsToExport []string    `json:"fields_to_export"`
}

// exportIDs serves POST /users/export/ids: up to 50 external_ids and
// user_aliases together, or exactly one braze_id, email_address, phone or
// device_id. fields_to_export is required (Braze's docs; the community spec
// still calls it optional). Only the requested fields are returned.
// invalid_user_ids lists what matched nobody and is left out when empty.
func (s *Server) exportIDs(w http.ResponseWriter, r *http.Request) {
	var req exportIDsRequest
	if !decodeBody(w, r, &req) {
		return
	}
	single := 0
	for _, v := range []string{req.DeviceID, req.BrazeID, req.EmailAddress, req.Phone} {
		if v != "" {
			single++
		}
	}
	many := len(req.ExternalIDs) + len(req.UserAliases)
	switch {
	case many == 0 && single == 0:
		writeError(w, http.StatusBadRequest, "No user identifier given",
			"provide external_ids, user_aliases, device_id, braze_id, email_address or phone")
		return
	case many > maxExportIDsPerLookup:
		writeError(w, http.StatusBadRequest, "Max Input Length Exceeded",
			"at most "+strconv.Itoa(maxExportIDsPerLookup)+" external_ids and user_aliases per request, got "+strconv.Itoa(many))
		return
	case single > 1 || (single == 1 && many > 0):
		writeError(w, http.StatusBadRequest, "Only one identifier may be given with device_id, braze_id, email_address or phone")
		return
	case len(req.FieldsToExport) == 0:
		writeError(w, http.StatusBadRequest, "Missing fields_to_export", "fields_to_export is required")
		return
	}
	g := s.cfg.Gen
	var (
		found   []int
		invalid = []string{}
		seen    = map[int]bool{}
	)
	add := func(id string, idx []int) {
		if len(idx) == 0 {
			invalid = append(invalid, id)
		}
		for _, i := range idx {
			if !seen[i] {
				seen[i] = true
				found = append(found, i)
			}
		}
	}
	one := func(i int, ok bool) []int {
		if !ok {
			return nil
		}
		return []int{i}
	}
	f := &gen.Filter{Fields: make(map[string]bool, len(req.FieldsToExport))}
	for _, k := range req.FieldsToExport {
		f.Fields[k] = true
	}
	s.mu.Lock()
	for _, id := range req.ExternalIDs {
		add(id, one(s.findUser(identity{externalID: id})))
	}
	for _, a := range req.UserAliases {
		add(a.AliasName, one(s.findUser(identity{alias: &a})))
	}
	switch {
	case req.BrazeID != "":
		add(req.BrazeID, one(s.findUser(identity{brazeID: req.BrazeID})))
	case req.EmailAddress != "":
		add(req.EmailAddress, s.usersWithEmail(req.EmailAddress))
	case req.Phone != "":
		var live []int
		for _, i := range g.IndicesOfPhone(req.Phone) {
			if !s.deleted(i) {
				live = append(live, i)
			}
		}
		add(req.Phone, live)
	case req.DeviceID != "":
		add(req.DeviceID, nil) // the simulator keeps no device index
	}
	type snap struct {
		c  gen.Change
		p  *profile
		cr *created
	}
	snaps := make([]snap, len(found))
	for k, i := range found {
		snaps[k] = snap{s.changes[i], s.profiles[i], s.createdOf(i)}
	}
	s.mu.Unlock()
	users := make([]json.RawMessage, len(found))
	for k, i := range found {
		users[k] = s.userLine(nil, i, snaps[k].c, snaps[k].p, snaps[k].cr, f, false)
	}
	body := map[string]any{"message": "success", "users": users}
	if len(invalid) > 0 {
		body["invalid_user_ids"] = invalid
	}
	writeJSON(w, http.StatusCreated, body)
}
