package braze

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// bucketCatalogs is the client's own record of the synchronous catalog
// endpoints' budget (50 requests a minute, shared).
const bucketCatalogs = "catalogs"

// CatalogPageSize is how many items Braze returns per page of
// GET /catalogs/{name}/items.
const CatalogPageSize = 50

// ErrCatalogNotFound is returned (wrapped) for a catalog Braze does not
// have (404 catalog-not-found).
var ErrCatalogNotFound = errors.New("braze: catalog not found")

// Catalog is one entry of GET /catalogs.
type Catalog struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Fields      []CatalogField `json:"fields"`
	NumItems    int            `json:"num_items"`
	UpdatedAt   string         `json:"updated_at"`
}

// CatalogField is one field of a catalog's schema.
type CatalogField struct {
	Name string `json:"name"`
	Type string `json:"type"` // string, number, boolean, time, ...
}

// catalogName is what Braze allows in a catalog name: letters, digits,
// hyphens and underscores. Anything else is refused before it reaches a URL.
var catalogName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,250}$`)

// ValidCatalogName reports whether name can be a Braze catalog's.
func ValidCatalogName(name string) bool { return catalogName.MatchString(name) }

// ListCatalogs returns every catalog of the workspace (GET /catalogs).
func (c *Client) ListCatalogs(ctx context.Context) ([]Catalog, error) {
	var out struct {
		Catalogs []Catalog `json:"catalogs"`
	}
	if err := c.do(ctx, apiCall{method: http.MethodGet, path: "/catalogs", bucket: bucketCatalogs}, &out); err != nil {
		return nil, fmt.Errorf("listing catalogs: %w", err)
	}
	return out.Catalogs, nil
}

// CatalogPage is one page of a catalog's items.
type CatalogPage struct {
	// Items are the items as Braze sent them: JSON objects, each with an
	// "id" and the catalog's fields.
	Items []json.RawMessage
	// Next is the cursor of the next page, from the Link header's
	// rel="next"; "" on the last page.
	Next string
}

// CatalogItems reads one page of catalog name's items: the first page with
// cursor "", the next ones with the cursor the previous page gave.
func (c *Client) CatalogItems(ctx context.Context, name, cursor string) (CatalogPage, error) {
	if !ValidCatalogName(name) {
		return CatalogPage{}, fmt.Errorf("reading catalog %q: not a Braze catalog name (letters, digits, - and _)", name)
	}
	var q url.Values
	if cursor != "" {
		q = url.Values{"cursor": {cursor}}
	}
	var out struct {
		Items []json.RawMessage `json:"items"`
	}
	var h http.Header
	err := c.do(ctx, apiCall{method: http.MethodGet, path: "/catalogs/" + name + "/items", query: q,
		bucket: bucketCatalogs, header: &h}, &out)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return CatalogPage{}, fmt.Errorf("reading catalog %s: %w: %w", name, ErrCatalogNotFound, err)
	}
	if err != nil {
		return CatalogPage{}, fmt.Errorf("reading catalog %s: %w", name, err)
	}
	next, err := NextCursor(h.Values("Link"))
	if err != nil {
		return CatalogPage{}, fmt.Errorf("reading catalog %s: %w", name, err)
	}
	if next != "" && next == cursor {
		return CatalogPage{}, fmt.Errorf("reading catalog %s: the Link header's next page is the page just read (cursor %q)", name, cursor)
	}
	return CatalogPage{Items: out.Items, Next: next}, nil
}

// NextCursor reads the cursor of the rel="next" link of Link header values
// (`</catalogs/x/items?cursor=c2tpcDow>; rel="prev", <...?cursor=Y>;
// rel="next"`); "" when there is no next link.
func NextCursor(links []string) (string, error) {
	for _, v := range links {
		for _, part := range splitLinks(v) {
			target, params, ok := strings.Cut(part, ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			if !relIsNext(params) {
				continue
			}
			u, err := url.Parse(target[1 : len(target)-1])
			if err != nil {
				return "", fmt.Errorf("the Link header's next page %q is not a URL: %w", target, err)
			}
			cur := u.Query().Get("cursor")
			if cur == "" {
				return "", fmt.Errorf("the Link header's next page %q has no cursor", target)
			}
			return cur, nil
		}
	}
	return "", nil
}

// splitLinks splits a Link header value at the commas between links (a
// comma inside <...> is part of a URL).
func splitLinks(v string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '<':
			depth++
		case '>':
			depth = max(depth-1, 0)
		case ',':
			if depth == 0 {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

// relIsNext reports whether a link's parameters (`; rel="next"`) name it
// the next page.
func relIsNext(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
			if strings.EqualFold(rel, "next") {
				return true
			}
		}
	}
	return false
}
