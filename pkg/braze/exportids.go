package braze

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// MaxExportIDs is the most external ids one /users/export/ids call takes.
const MaxExportIDs = 50

// ExportIDsRequest selects users for POST /users/export/ids: up to
// MaxExportIDs ExternalIDs, or exactly one of BrazeID, EmailAddress, Phone.
type ExportIDsRequest struct {
	ExternalIDs  []string `json:"external_ids,omitempty"`
	BrazeID      string   `json:"braze_id,omitempty"`
	EmailAddress string   `json:"email_address,omitempty"`
	Phone        string   `json:"phone,omitempty"` // E.164
	// FieldsToExport is required by current Braze docs.
	FieldsToExport []string `json:"fields_to_export"`
}

// ExportIDsResult holds one export object per user found, as the same JSON a
// segment export line carries, and the identifiers Braze did not know.
type ExportIDsResult struct {
	Users          []json.RawMessage `json:"users"`
	InvalidUserIDs []string          `json:"invalid_user_ids"`
}

func (r ExportIDsRequest) validate() error {
	single := 0
	for _, v := range []string{r.BrazeID, r.EmailAddress, r.Phone} {
		if v != "" {
			single++
		}
	}
	switch {
	case len(r.ExternalIDs) > MaxExportIDs:
		return fmt.Errorf("%d external ids, at most %d per call", len(r.ExternalIDs), MaxExportIDs)
	case len(r.ExternalIDs) > 0 && single > 0, single > 1:
		return errors.New("give external ids or one of braze id, email address, phone, not several")
	case len(r.ExternalIDs) == 0 && single == 0:
		return errors.New("no identifier given")
	case len(r.FieldsToExport) == 0:
		return errors.New("FieldsToExport is empty (Braze requires it)")
	}
	return nil
}

// ExportIDs exports a few users by identifier. It is slow on Braze's side
// and meant for look-ups, not bulk reads: use ExportSegment for those.
func (c *Client) ExportIDs(ctx context.Context, req ExportIDsRequest) (ExportIDsResult, error) {
	if err := req.validate(); err != nil {
		return ExportIDsResult{}, fmt.Errorf("braze: exporting users by id: %w", err)
	}
	var out ExportIDsResult
	err := c.do(ctx, apiCall{
		method: http.MethodPost,
		path:   "/users/export/ids",
		body:   req,
		bucket: bucketExportIDs,
	}, &out)
	if err != nil {
		return ExportIDsResult{}, err
	}
	return out, nil
}
