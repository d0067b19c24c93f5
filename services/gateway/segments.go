package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SegmentExportRequest is POST /segments/export's body.
type SegmentExportRequest struct {
	SegmentID string `json:"segmentId"`
	// TargetList is the Brevo list id: a number, or a string of digits.
	TargetList        json.RawMessage `json:"targetList"`
	IncludeAttributes []string        `json:"includeAttributes"`
}

// SegmentExport is a checked segment export request.
type SegmentExport struct {
	SegmentID         string
	ListID            int64
	IncludeAttributes []string
}

// SegmentExporter is a Control that exports a Braze segment into a Brevo
// list once (tajo run's does). The answer holds count: the contacts created
// or updated in the list.
type SegmentExporter interface {
	ExportSegment(ctx context.Context, req SegmentExport) (map[string]any, error)
}

// exportWriteTimeout bounds the answer of a segment export, which runs
// while the caller waits: a large segment takes a while to export and
// import.
const exportWriteTimeout = 2 * time.Hour

// exportSegment serves POST /segments/export: the export runs while the
// caller waits, and the answer says how many contacts joined the list.
func (s *Server) exportSegment(w http.ResponseWriter, r *http.Request) {
	var req SegmentExportRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	exp, msg := checkSegmentExport(req)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "bad_request", msg)
		return
	}
	if !s.needControl(w) {
		return
	}
	ex, ok := s.cfg.Control.(SegmentExporter)
	if !ok {
		writeError(w, http.StatusNotImplemented, "not_implemented",
			"this process does not export segments (run the gateway inside `tajo run`); nothing was exported")
		return
	}
	// The server's write timeout is for quick answers; this one waits for
	// the whole export.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	out, err := ex.ExportSegment(r.Context(), exp)
	if err != nil {
		s.controlError(w, "exporting segment "+exp.SegmentID, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// checkSegmentExport reads a request, or says what is wrong with it.
func checkSegmentExport(req SegmentExportRequest) (SegmentExport, string) {
	out := SegmentExport{SegmentID: strings.TrimSpace(req.SegmentID), IncludeAttributes: req.IncludeAttributes}
	if out.SegmentID == "" {
		return out, "segmentId is required"
	}
	raw := strings.TrimSpace(string(req.TargetList))
	if raw == "" || raw == "null" {
		return out, "targetList is required: the id of the Brevo list the segment's users join"
	}
	var s string
	if json.Unmarshal(req.TargetList, &s) == nil {
		raw = strings.TrimSpace(s)
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return out, "targetList must be a Brevo list id: a positive integer (Brevo > Contacts > Lists)"
	}
	out.ListID = id
	for _, a := range req.IncludeAttributes {
		if strings.TrimSpace(a) == "" {
			return out, "includeAttributes holds an empty name"
		}
	}
	return out, ""
}
