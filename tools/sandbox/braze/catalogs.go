package braze

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PermCatalogsGet is the permission of GET /catalogs (Braze's name).
const PermCatalogsGet = "catalogs.get"

// DefaultCatalog is the catalog Config.CatalogItems fills.
const DefaultCatalog = "products"

// catalogPageSize is how many items GET /catalogs/{name}/items returns.
const catalogPageSize = 50

// CatalogItem is one item of a simulated catalog: "id" and the fields.
type CatalogItem map[string]any

// catalogData is one catalog of the workspace.
type catalogData struct {
	name, description string
	fields            []catalogFieldJSON
	items             []CatalogItem // in creation order
	index             map[string]int
	updated           time.Time
}

type catalogFieldJSON struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// productFields is the schema of the catalogs GenerateCatalog makes.
var productFields = []catalogFieldJSON{
	{"id", "string"}, {"name", "string"}, {"price", "number"}, {"url", "string"}, {"image_url", "string"},
	{"sku", "string"}, {"category", "string"}, {"brand", "string"}, {"color", "string"},
	{"in_stock", "boolean"}, {"released_at", "time"},
}

var (
	productCategories = []string{"Shoes", "Shirts", "Trousers", "Jackets", "Accessories", "Bags", "Hats"}
	productBrands     = []string{"Acme", "Northwind", "Globex", "Initech", "Umbrella", "Hooli"}
	productColors     = []string{"black", "white", "red", "blue", "green", "grey", "navy", "beige"}
)

// GenerateItems returns n deterministic product items, ids
// "<prefix>-000001" onward (prefix defaults to "sku").
func GenerateItems(prefix string, n int, seed int64) []CatalogItem {
	if prefix == "" {
		prefix = "sku"
	}
	out := make([]CatalogItem, n)
	base := time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)
	for i := range n {
		h := mix(uint64(seed)*0x9e37 + uint64(i) + 0xca7a)
		id := fmt.Sprintf("%s-%06d", prefix, i+1)
		cat := productCategories[h%uint64(len(productCategories))]
		brand := productBrands[(h>>8)%uint64(len(productBrands))]
		color := productColors[(h>>16)%uint64(len(productColors))]
		price := math.Round(float64(500+(h>>24)%49500)) / 100
		it := CatalogItem{
			"id":          id,
			"name":        fmt.Sprintf("%s %s %s", brand, color, strings.TrimSuffix(cat, "s")),
			"price":       price,
			"url":         "https://shop.example.com/p/" + id,
			"image_url":   "https://img.example.com/" + id + ".jpg",
			"sku":         strings.ToUpper(id),
			"category":    cat,
			"brand":       brand,
			"color":       color,
			"in_stock":    (h>>40)%5 != 0,
			"released_at": base.Add(time.Duration(h%(365*24)) * time.Hour).Format(time.RFC3339),
		}
		out[i] = it
	}
	return out
}

// PutCatalog creates (or replaces) catalog name holding items, with the
// fields of GenerateItems' products.
func (s *Server) PutCatalog(name string, items []CatalogItem) error {
	if !validCatalogName(name) {
		return fmt.Errorf("catalog name %q: letters, digits, - and _ only", name)
	}
	c := &catalogData{name: name, description: "Simulated catalog " + name, fields: productFields,
		index: make(map[string]int, len(items)), updated: s.cfg.Now().UTC()}
	for _, it := range items {
		id, _ := it["id"].(string)
		if id == "" {
			return fmt.Errorf("catalog %s: an item has no string id", name)
		}
		if _, dup := c.index[id]; dup {
			return fmt.Errorf("catalog %s: item %s given twice", name, id)
		}
		c.index[id] = len(c.items)
		c.items = append(c.items, cloneItem(it))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.catalogs == nil {
		s.catalogs = map[string]*catalogData{}
	}
	s.catalogs[name] = c
	return nil
}

// CatalogChange is what MutateCatalog does to a catalog.
type CatalogChange struct {
	// Delete removes these items.
	Delete []string `json:"delete"`
	// Set changes fields of existing items (a nil value removes the field).
	Set map[string]map[string]any `json:"set"`
	// Add appends new items.
	Add []CatalogItem `json:"add"`
}

// MutateCatalog changes catalog name as someone editing it in Braze would.
func (s *Server) MutateCatalog(name string, ch CatalogChange) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.catalogs[name]
	if !ok {
		return fmt.Errorf("no catalog %s", name)
	}
	for id, fields := range ch.Set {
		i, ok := c.index[id]
		if !ok {
			return fmt.Errorf("catalog %s has no item %s", name, id)
		}
		for k, v := range fields {
			if k == "id" {
				return fmt.Errorf("catalog %s item %s: the id cannot change", name, id)
			}
			if v == nil {
				delete(c.items[i], k)
			} else {
				c.items[i][k] = v
			}
		}
	}
	if len(ch.Delete) > 0 {
		gone := map[string]bool{}
		for _, id := range ch.Delete {
			if _, ok := c.index[id]; !ok {
				return fmt.Errorf("catalog %s has no item %s", name, id)
			}
			gone[id] = true
		}
		c.items = slices.DeleteFunc(c.items, func(it CatalogItem) bool { return gone[it["id"].(string)] })
	}
	for _, it := range ch.Add {
		id, _ := it["id"].(string)
		if _, dup := c.index[id]; dup || id == "" {
			return fmt.Errorf("catalog %s: cannot add item %q (no id, or taken)", name, id)
		}
		c.index[id] = -1
		c.items = append(c.items, cloneItem(it))
	}
	c.index = make(map[string]int, len(c.items))
	for i, it := range c.items {
		c.index[it["id"].(string)] = i
	}
	c.updated = s.cfg.Now().UTC()
	return nil
}

// CatalogItems returns a copy of catalog name's items, in order.
func (s *Server) CatalogItems(name string) []CatalogItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.catalogs[name]
	if !ok {
		return nil
	}
	out := make([]CatalogItem, len(c.items))
	for i, it := range c.items {
		out[i] = cloneItem(it)
	}
	return out
}

func cloneItem(it CatalogItem) CatalogItem {
	out := make(CatalogItem, len(it))
	for k, v := range it {
		out[k] = v
	}
	return out
}

func validCatalogName(name string) bool {
	if name == "" || len(name) > 250 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// routeCatalogs registers GET /catalogs, GET /catalogs/{catalog_name}/items
// (cursor paging through the Link header, 50 a page) and the admin routes
// that shape the catalogs. Both reads share the synchronous catalog
// endpoints' budget of 50 requests a minute.
func (s *Server) routeCatalogs() {
	s.buckets[bucketCatalogSync] = &bucket{limit: s.cfg.Limits.CatalogSyncPerMinute, window: time.Minute}
	s.mux.Handle("GET /catalogs", s.api(PermCatalogsGet, bucketCatalogSync, s.listCatalogs))
	s.mux.Handle("GET /catalogs/{catalog_name}/items", s.api(PermCatalogsListItems, bucketCatalogSync, s.listCatalogItems))
	s.mux.Handle("POST /_admin/catalogs/{catalog_name}", loopbackOnly(s.adminPutCatalog))
	s.mux.Handle("POST /_admin/catalogs/{catalog_name}/mutate", loopbackOnly(s.adminMutateCatalog))
}

func (s *Server) listCatalogs(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	names := make([]string, 0, len(s.catalogs))
	for n := range s.catalogs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]map[string]any, 0, len(names))
	for _, n := range names {
		c := s.catalogs[n]
		out = append(out, map[string]any{"name": c.name, "description": c.description, "fields": c.fields,
			"num_items": len(c.items), "updated_at": c.updated.Format("2006-01-02T15:04:05.000-07:00")})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"catalogs": out, "message": "success"})
}

// catalogError is the error shape of the catalog endpoints.
func catalogError(w http.ResponseWriter, status int, id, msg, param, value string) {
	writeJSON(w, status, map[string]any{"message": "Invalid Request", "errors": []map[string]any{{
		"id": id, "message": msg, "parameters": []string{param}, "parameter_values": []string{value},
	}}})
}

// listCatalogItems serves one page: the cursor is base64("skip:N"), as in
// Braze's own example. The Link header names the previous page (unless
// this is the first) and the next one (unless this is the last); a catalog
// of 50 items or fewer gets no Link header at all.
func (s *Server) listCatalogItems(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("catalog_name")
	skip := 0
	if cur := r.URL.Query().Get("cursor"); cur != "" || r.URL.Query().Has("cursor") {
		n, ok := decodeCursor(cur)
		if !ok {
			catalogError(w, http.StatusBadRequest, "invalid-cursor", "'cursor' is not valid", "cursor", cur)
			return
		}
		skip = n
	}
	s.mu.Lock()
	c, ok := s.catalogs[name]
	if !ok {
		s.mu.Unlock()
		catalogError(w, http.StatusNotFound, "catalog-not-found", "Could not find catalog", "catalog_name", name)
		return
	}
	total := len(c.items)
	page := []CatalogItem{}
	for i := skip; i < total && i < skip+catalogPageSize; i++ {
		page = append(page, cloneItem(c.items[i]))
	}
	s.mu.Unlock()
	if skip > total {
		catalogError(w, http.StatusBadRequest, "invalid-cursor", "'cursor' is not valid", "cursor", r.URL.Query().Get("cursor"))
		return
	}
	var links []string
	base := "/catalogs/" + name + "/items?cursor="
	if skip > 0 {
		links = append(links, "<"+base+encodeCursor(max(skip-catalogPageSize, 0))+`>; rel="prev"`)
	}
	if skip+catalogPageSize < total {
		links = append(links, "<"+base+encodeCursor(skip+catalogPageSize)+`>; rel="next"`)
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ","))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": page, "message": "success"})
}

func encodeCursor(skip int) string {
	return base64.StdEncoding.EncodeToString([]byte("skip:" + strconv.Itoa(skip)))
}

func decodeCursor(c string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "skip:"))
	if err != nil || n < 0 || !strings.HasPrefix(string(b), "skip:") {
		return 0, false
	}
	return n, true
}

// adminPutCatalog serves POST /_admin/catalogs/{name} {"items": N, "seed":
// S, "prefix": "sku"}: the catalog holds N generated products.
func (s *Server) adminPutCatalog(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Items  int    `json:"items"`
		Seed   int64  `json:"seed"`
		Prefix string `json:"prefix"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Items < 0 || req.Items > 1_000_000 {
		writeError(w, http.StatusBadRequest, "want {\"items\": N (0..1000000), \"seed\": S, \"prefix\": \"sku\"}")
		return
	}
	if err := s.PutCatalog(r.PathValue("catalog_name"), GenerateItems(req.Prefix, req.Items, req.Seed)); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": req.Items})
}

// adminMutateCatalog serves POST /_admin/catalogs/{name}/mutate with a
// CatalogChange.
func (s *Server) adminMutateCatalog(w http.ResponseWriter, r *http.Request) {
	var ch CatalogChange
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ch); err != nil {
		writeError(w, http.StatusBadRequest, "want {\"delete\": [ids], \"set\": {id: {field: value}}, \"add\": [items]}: "+err.Error())
		return
	}
	if err := s.MutateCatalog(r.PathValue("catalog_name"), ch); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": len(s.CatalogItems(r.PathValue("catalog_name")))})
}
