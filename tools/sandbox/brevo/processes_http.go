package brevo

import (
	"net/http"
	"strconv"
)

// Process names are Brevo's (GetProcessResponse.name in its SDK: IMPORTUSER,
// SEARCH_EXPORT_USERS, TRANS-CALC, TRANS-GLOBAL-CALC, CAMPAIGN_PROCESSING,
// LIST_EXPORT, CONTACT_EXPORT). None names the removal of every contact from
// a list, so that process is reported as IMPORTUSER too, the only contact-
// writing name among them, rather than a name no client knows.
const (
	importProcessName    = "IMPORTUSER"
	unlinkAllProcessName = importProcessName
)

type processView struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Name   string `json:"name"`
}

func (s *Server) getProcess(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("processId"), 10, 64)
	if err != nil {
		writeError(w, badRequest("processId should be an integer"))
		return
	}
	now := s.lock()
	var v *processView
	if id > 0 && id <= int64(len(s.imports.all)) {
		p := s.imports.all[id-1]
		v = &processView{ID: p.id, Status: p.status(now), Name: p.name}
	}
	s.mu.Unlock()
	if v == nil {
		// Brevo's own example of this 404 uses invalid_parameter, not document_not_found.
		writeError(w, &apiError{Status: http.StatusNotFound, Code: codeInvalidParameter, Message: "processId is invalid"})
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) listProcesses(w http.ResponseWriter, r *http.Request) {
	limit, e := queryInt(r, "limit", 10, 0, 50)
	var offset int64
	if e == nil {
		offset, e = queryInt(r, "offset", 0, 0, 1<<62)
	}
	var asc bool
	if e == nil {
		asc, e = querySort(r)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	now := s.lock()
	all := s.imports.all
	out := []processView{}
	for k := offset; k < int64(len(all)) && k < offset+limit; k++ {
		i := int64(len(all)) - 1 - k
		if asc {
			i = k
		}
		p := all[i]
		out = append(out, processView{ID: p.id, Status: p.status(now), Name: p.name})
	}
	n := len(all)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"processes": out, "count": n})
}
