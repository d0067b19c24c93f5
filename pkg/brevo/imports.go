package brevo

import (
	"context"
	"fmt"
	"net/http"
)

// ImportRequest is a whole import given at once; see ImportBatch to build
// imports under the size limit incrementally.
type ImportRequest struct {
	Contacts                []ImportContact
	ListIDs                 []int64
	UpdateExistingContacts  bool
	EmptyContactsAttributes bool
	DisableNotification     bool
}

// ImportContacts starts an import of req.Contacts and returns its process
// id. Brevo imports in the background: WaitProcess tells when it is done.
// Run one import at a time per account; concurrent imports hang.
func (c *Client) ImportContacts(ctx context.Context, req ImportRequest) (processID int64, err error) {
	b := NewImportBatch(DefaultImportMaxBytes)
	for i, ct := range req.Contacts {
		ok, err := b.Add(ct)
		if err != nil {
			return 0, fmt.Errorf("importing contacts: contact %d: %w", i, err)
		}
		if !ok {
			return 0, fmt.Errorf("brevo: importing %d contacts: the body would exceed %d bytes at contact %d: split them with an ImportBatch",
				len(req.Contacts), DefaultImportMaxBytes, i)
		}
	}
	return c.ImportFromBatch(ctx, b, ImportOptions{
		ListIDs:                 req.ListIDs,
		UpdateExistingContacts:  req.UpdateExistingContacts,
		EmptyContactsAttributes: req.EmptyContactsAttributes,
		DisableNotification:     req.DisableNotification,
	})
}

// ImportFromBatch starts an import of the contacts in b and returns its
// process id. b is left as it was: Reset it for the next batch.
func (c *Client) ImportFromBatch(ctx context.Context, b *ImportBatch, opts ImportOptions) (processID int64, err error) {
	body, err := b.Body(opts)
	if err != nil {
		return 0, err
	}
	var out struct {
		ProcessID int64 `json:"processId"`
	}
	if _, err := c.do(ctx, apiCall{method: http.MethodPost, path: "/contacts/import", raw: body}, &out); err != nil {
		return 0, fmt.Errorf("importing %d contacts: %w", b.Len(), err)
	}
	return out.ProcessID, nil
}
