package brevo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// MaxListsPage is the largest page GET /contacts/folders and /contacts/lists serve.
const MaxListsPage = 50

// MaxListMembers is how many contacts one AddToList or RemoveFromList call may name.
const MaxListMembers = 150

// DefaultFolderName is the folder EnsureList creates when the account has none.
const DefaultFolderName = "tajo"

// ErrListMembers is wrapped by the error AddToList and RemoveFromList return,
// before any call, for members that are not 1 to MaxListMembers of one kind.
var ErrListMembers = errors.New("brevo: list members must be 1 to 150 emails, ids or ext ids, of one kind")

// Folder is a folder of contact lists.
type Folder struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// UniqueSubscribers counts every contact in the folder's lists,
	// TotalBlacklisted those whose email is blacklisted, TotalSubscribers the rest.
	TotalBlacklisted  int64 `json:"totalBlacklisted"`
	TotalSubscribers  int64 `json:"totalSubscribers"`
	UniqueSubscribers int64 `json:"uniqueSubscribers"`
}

// List is a contact list.
type List struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	FolderID int64  `json:"folderId"`
	// Counts as in Folder.
	TotalBlacklisted  int64 `json:"totalBlacklisted"`
	TotalSubscribers  int64 `json:"totalSubscribers"`
	UniqueSubscribers int64 `json:"uniqueSubscribers"`
}

// Folders reads every folder, oldest first, a page at a time.
func (c *Client) Folders(ctx context.Context) ([]Folder, error) {
	return pages(ctx, c, "/contacts/folders", "folders", func(p *struct {
		Folders []Folder `json:"folders"`
		Count   int64    `json:"count"`
	}) ([]Folder, int64) {
		return p.Folders, p.Count
	})
}

// Lists reads every list, oldest first, a page at a time.
func (c *Client) Lists(ctx context.Context) ([]List, error) {
	return pages(ctx, c, "/contacts/lists", "lists", func(p *struct {
		Lists []List `json:"lists"`
		Count int64  `json:"count"`
	}) ([]List, int64) {
		return p.Lists, p.Count
	})
}

// pages reads a listing whole. Pages are asked oldest first so that an item
// created meanwhile lands at the end instead of shifting the pages read.
func pages[T, P any](ctx context.Context, c *Client, path, what string, items func(*P) ([]T, int64)) ([]T, error) {
	var all []T
	for {
		q := url.Values{"limit": {strconv.Itoa(MaxListsPage)}, "offset": {strconv.Itoa(len(all))}, "sort": {"asc"}}
		var page P
		if _, err := c.do(ctx, apiCall{method: http.MethodGet, path: path, query: q}, &page); err != nil {
			return nil, fmt.Errorf("reading %s from offset %d: %w", what, len(all), err)
		}
		got, count := items(&page)
		all = append(all, got...)
		if len(got) < MaxListsPage || int64(len(all)) >= count {
			return all, nil
		}
	}
}

// CreateFolder creates a folder and returns its id.
func (c *Client) CreateFolder(ctx context.Context, name string) (int64, error) {
	if name == "" {
		return 0, errors.New("brevo: creating folder: name is empty")
	}
	var out struct {
		ID int64 `json:"id"`
	}
	body := struct {
		Name string `json:"name"`
	}{name}
	if _, err := c.do(ctx, apiCall{method: http.MethodPost, path: "/contacts/folders", body: body}, &out); err != nil {
		return 0, fmt.Errorf("creating folder %q: %w", name, err)
	}
	return out.ID, nil
}

// CreateList creates a list in folder folderID and returns its id.
func (c *Client) CreateList(ctx context.Context, name string, folderID int64) (int64, error) {
	switch {
	case name == "":
		return 0, errors.New("brevo: creating list: name is empty")
	case folderID <= 0:
		return 0, fmt.Errorf("brevo: creating list %q: folder id %d is not positive", name, folderID)
	}
	var out struct {
		ID int64 `json:"id"`
	}
	body := struct {
		Name     string `json:"name"`
		FolderID int64  `json:"folderId"`
	}{name, folderID}
	if _, err := c.do(ctx, apiCall{method: http.MethodPost, path: "/contacts/lists", body: body}, &out); err != nil {
		return 0, fmt.Errorf("creating list %q in folder %d: %w", name, folderID, err)
	}
	return out.ID, nil
}

// EnsureList returns the list named name (exactly; the oldest when several
// are), creating it in the account's first folder, and that folder, named
// DefaultFolderName, when the account has none. Brevo does not enforce unique
// names: two callers racing on a new name can both create it, so run it once
// at start-up, not per worker.
func (c *Client) EnsureList(ctx context.Context, name string) (List, error) {
	if name == "" {
		return List{}, errors.New("brevo: ensuring list: name is empty")
	}
	lists, err := c.Lists(ctx)
	if err != nil {
		return List{}, fmt.Errorf("ensuring list %q: %w", name, err)
	}
	for _, l := range lists {
		if l.Name == name {
			return l, nil
		}
	}
	folders, err := c.Folders(ctx)
	if err != nil {
		return List{}, fmt.Errorf("ensuring list %q: %w", name, err)
	}
	var folderID int64
	if len(folders) > 0 {
		folderID = folders[0].ID
	} else if folderID, err = c.CreateFolder(ctx, DefaultFolderName); err != nil {
		return List{}, fmt.Errorf("ensuring list %q: %w", name, err)
	}
	id, err := c.CreateList(ctx, name, folderID)
	if err != nil {
		return List{}, fmt.Errorf("ensuring list %q: %w", name, err)
	}
	return List{ID: id, Name: name, FolderID: folderID}, nil
}

// ListMembers names the contacts of an AddToList or RemoveFromList call:
// exactly one of the fields, with 1 to MaxListMembers entries.
type ListMembers struct {
	Emails []string `json:"emails,omitempty"`
	IDs    []int64  `json:"ids,omitempty"`
	ExtIDs []string `json:"extIds,omitempty"`
}

func (m ListMembers) validate() error {
	kinds, n := 0, 0
	for _, l := range []int{len(m.Emails), len(m.IDs), len(m.ExtIDs)} {
		if l > 0 {
			kinds, n = kinds+1, l
		}
	}
	switch {
	case kinds == 0:
		return fmt.Errorf("no contacts given: %w", ErrListMembers)
	case kinds > 1:
		return fmt.Errorf("more than one kind of identifier given: %w", ErrListMembers)
	case n > MaxListMembers:
		return fmt.Errorf("%d contacts given: %w", n, ErrListMembers)
	}
	return nil
}

// ListResult is what an add or remove call did, contact by contact: ids
// written in decimal, emails and ext ids as sent. A contact in Failure does
// not exist, or was already in (for a removal: not in) the list.
type ListResult struct {
	Success []string
	Failure []string
}

// AddToList adds existing contacts to a list; contacts that cannot be added
// are reported in Failure. When none can be, Brevo answers the whole call
// with a 400 invalid_parameter ("Contact already in list and/or does not
// exist"), returned as an *APIError: callers that re-add idempotently treat
// that as done. For bulk loads prefer the import's listIds.
func (c *Client) AddToList(ctx context.Context, listID int64, m ListMembers) (ListResult, error) {
	return c.changeList(ctx, listID, m, "add", "adding contacts to")
}

// RemoveFromList takes contacts out of a list, reporting as AddToList does
// (a contact not in the list is a failure).
func (c *Client) RemoveFromList(ctx context.Context, listID int64, m ListMembers) (ListResult, error) {
	return c.changeList(ctx, listID, m, "remove", "removing contacts from")
}

func (c *Client) changeList(ctx context.Context, listID int64, m ListMembers, op, doing string) (ListResult, error) {
	if err := m.validate(); err != nil {
		return ListResult{}, fmt.Errorf("%s list %d: %w", doing, listID, err)
	}
	var out struct {
		Contacts struct {
			Success flexStrings `json:"success"`
			Failure flexStrings `json:"failure"`
		} `json:"contacts"`
	}
	_, err := c.do(ctx, apiCall{
		method: http.MethodPost,
		path:   "/contacts/lists/" + strconv.FormatInt(listID, 10) + "/contacts/" + op,
		route:  "/contacts/lists/{listId}/contacts/" + op,
		body:   m,
	}, &out)
	if err != nil {
		return ListResult{}, fmt.Errorf("%s list %d (%d given): %w", doing, listID, len(m.Emails)+len(m.IDs)+len(m.ExtIDs), err)
	}
	return ListResult{Success: out.Contacts.Success, Failure: out.Contacts.Failure}, nil
}

// flexStrings decodes an array of strings or numbers (Brevo answers calls by
// id with integers) into strings.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(raw []byte) error {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return err
	}
	out := make([]string, len(items))
	for i, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err == nil {
			out[i] = s
			continue
		}
		var n json.Number
		if err := json.Unmarshal(it, &n); err != nil {
			return fmt.Errorf("item %d is neither a string nor a number: %s", i, it)
		}
		out[i] = n.String()
	}
	*f = out
	return nil
}
