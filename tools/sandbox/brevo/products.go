package brevo

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// maxBatchProducts is the most products (or categories) one batch takes on
// the general plan (API notes; 1,000 with updateEnabled on raised plans).
const maxBatchProducts = 100

// maxMetaInfo is the most metaInfo keys a product may have.
const maxMetaInfo = 10

// Product is a product of the simulated shop, as GET /products shows it.
type Product struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	URL        string         `json:"url,omitempty"`
	ImageURL   string         `json:"imageUrl,omitempty"`
	SKU        string         `json:"sku,omitempty"`
	Price      *float64       `json:"price,omitempty"`
	Categories []string       `json:"categories,omitempty"`
	ParentID   string         `json:"parentId,omitempty"`
	MetaInfo   map[string]any `json:"metaInfo,omitempty"`
	IsDeleted  bool           `json:"isDeleted,omitempty"`
	DeletedAt  string         `json:"deletedAt,omitempty"`
	CreatedAt  string         `json:"createdAt"`
	ModifiedAt string         `json:"modifiedAt"`
	// S3 thumbnails are required in getProductDetails; the simulator
	// derives them from the id.
	S3ThumbAnalytics string `json:"s3ThumbAnalytics"`
	S3ThumbEditor    string `json:"s3ThumbEditor"`
}

// Category is a category of the simulated shop.
type Category struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	URL        string `json:"url,omitempty"`
	IsDeleted  bool   `json:"isDeleted,omitempty"`
	CreatedAt  string `json:"createdAt"`
	ModifiedAt string `json:"modifiedAt"`
}

// ShopState sums the eCommerce side of the account (GET /_admin/state).
type ShopState struct {
	Products        int `json:"products"`
	DeletedProducts int `json:"deletedProducts"`
	Categories      int `json:"categories"`
	// ProductBatches counts accepted POST /products/batch calls, and
	// ProductsReceived the product objects they carried: a connector that
	// sends only what changed sends none on a re-sync of an unchanged
	// catalog.
	ProductBatches   int `json:"productBatches"`
	ProductsReceived int `json:"productsReceived"`
	// ProductsChanged counts product objects that changed what the shop
	// held (created, or a field set to another value).
	ProductsChanged    int `json:"productsChanged"`
	CategoryBatches    int `json:"categoryBatches"`
	CategoriesReceived int `json:"categoriesReceived"`
	// UnknownCategoryRefs counts product writes naming a category the shop
	// did not have (Brevo accepts them; a connector should create
	// categories first).
	UnknownCategoryRefs int `json:"unknownCategoryRefs"`
}

// shop is the account's eCommerce data.
type shop struct {
	products   map[string]*Product
	order      []string // product ids in creation order
	categories map[string]*Category
	catOrder   []string
	stats      ShopState
}

func newShop() shop {
	return shop{products: map[string]*Product{}, categories: map[string]*Category{}}
}

func (s *Server) routeProducts() {
	s.api.HandleFunc("POST /v3/products/batch", s.batchProducts)
	s.api.HandleFunc("GET /v3/products", s.listProducts)
	s.api.HandleFunc("POST /v3/categories/batch", s.batchCategories)
	s.api.HandleFunc("GET /v3/categories", s.listCategories)
	s.api.HandleFunc("GET /v3/emailCampaigns", s.listEmailCampaigns) // emailcampaigns.go
	s.admin.HandleFunc("GET /_admin/products", s.adminProducts)
}

// Products returns a copy of every product, in creation order.
func (s *Server) Products() []Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Product, 0, len(s.shop.order))
	for _, id := range s.shop.order {
		out = append(out, cloneProduct(s.shop.products[id]))
	}
	return out
}

// Categories returns a copy of every category, in creation order.
func (s *Server) Categories() []Category {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Category, 0, len(s.shop.catOrder))
	for _, id := range s.shop.catOrder {
		out = append(out, *s.shop.categories[id])
	}
	return out
}

// Shop returns the eCommerce counters.
func (s *Server) Shop() ShopState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shopState()
}

func (s *Server) shopState() ShopState {
	st := s.shop.stats
	st.Products, st.Categories, st.DeletedProducts = len(s.shop.products), len(s.shop.categories), 0
	for _, p := range s.shop.products {
		if p.IsDeleted {
			st.DeletedProducts++
		}
	}
	return st
}

func cloneProduct(p *Product) Product {
	out := *p
	out.Categories = slices.Clone(p.Categories)
	if p.MetaInfo != nil {
		out.MetaInfo = make(map[string]any, len(p.MetaInfo))
		for k, v := range p.MetaInfo {
			out.MetaInfo[k] = v
		}
	}
	if p.Price != nil {
		v := *p.Price
		out.Price = &v
	}
	return out
}

// productIn is one product of a batch, checked.
type productIn struct {
	p                 Product
	hasURL, hasImage  bool
	hasSKU, hasPrice  bool
	hasCats, hasMeta  bool
	hasParent, hasDel bool
	hasDeletedAt      bool
}

// readProduct checks one product object against createUpdateProducts.
func readProduct(raw json.RawMessage, unknown func(string)) (productIn, *apiError) {
	var in productIn
	b, e := elementBody(raw, "product")
	if e != nil {
		return in, e
	}
	p := &in.p
	var ok bool
	p.ID, ok = b.str("id")
	if b.err != nil {
		return in, b.err
	}
	if !ok || p.ID == "" {
		return in, missing("id is mandatory for every product")
	}
	p.Name, ok = b.str("name")
	if b.err != nil {
		return in, b.err
	}
	if !ok || strings.TrimSpace(p.Name) == "" {
		return in, missing("name is mandatory for product %s", p.ID)
	}
	p.URL, in.hasURL = b.str("url")
	p.ImageURL, in.hasImage = b.str("imageUrl")
	p.SKU, in.hasSKU = b.str("sku")
	p.ParentID, in.hasParent = b.str("parentId")
	var price float64
	if in.hasPrice = b.take("price", "number", &price); in.hasPrice {
		if math.IsNaN(price) || math.IsInf(price, 0) {
			return in, badRequest("price should be a number")
		}
		p.Price = &price
	}
	in.hasCats = b.take("categories", "array of strings", &p.Categories)
	var meta map[string]json.RawMessage
	if in.hasMeta = b.take("metaInfo", "object", &meta); in.hasMeta {
		if len(meta) > maxMetaInfo {
			return in, badRequest("metaInfo of product %s has %d keys; the maximum is %d", p.ID, len(meta), maxMetaInfo)
		}
		p.MetaInfo = map[string]any{}
		for k, v := range meta {
			var str string
			var num json.Number
			switch {
			case json.Unmarshal(v, &str) == nil:
				p.MetaInfo[k] = str
			case json.Unmarshal(v, &num) == nil:
				p.MetaInfo[k] = num
			default:
				return in, badRequest("metaInfo.%s of product %s should be a string or an integer", k, p.ID)
			}
		}
	}
	var del bool
	if in.hasDel = b.take("isDeleted", "boolean", &del); in.hasDel {
		p.IsDeleted = del
	}
	if p.DeletedAt, in.hasDeletedAt = b.str("deletedAt"); in.hasDeletedAt {
		if _, err := time.Parse(time.RFC3339Nano, p.DeletedAt); err != nil {
			if _, err := time.Parse("2006-01-02T15:04:05.000-0700", p.DeletedAt); err != nil {
				return in, badRequest("deletedAt of product %s should be a UTC date-time (YYYY-MM-DDTHH:mm:ss.SSSZ)", p.ID)
			}
		}
		p.IsDeleted = true
	}
	if b.err != nil {
		return in, b.err
	}
	for _, f := range b.unknown() {
		unknown(f)
	}
	return in, nil
}

// batchProducts serves POST /products/batch: every product is checked
// first and the batch refused whole (400) if one is invalid or an id comes
// twice; then each is created, or updated when updateEnabled is true (an
// existing product is left alone otherwise). 201 {createdCount,
// updatedCount}.
func (s *Server) batchProducts(w http.ResponseWriter, r *http.Request) {
	b, raws, update, ok := readBatch(w, r, "products", "product")
	if !ok {
		return
	}
	var unknown []string
	ins := make([]productIn, 0, len(raws))
	seen := map[string]bool{}
	for _, raw := range raws {
		in, e := readProduct(raw, func(f string) { unknown = append(unknown, f) })
		if e != nil {
			writeError(w, e)
			return
		}
		if seen[in.p.ID] {
			writeError(w, duplicateID("product", in.p.ID))
			return
		}
		seen[in.p.ID] = true
		ins = append(ins, in)
	}
	now := s.lock()
	defer s.mu.Unlock()
	s.countUnknownFields(r, b)
	for _, f := range unknown {
		s.stats.unknownFields[r.Pattern+" products[]."+f]++
	}
	ts := now.UTC().Format("2006-01-02T15:04:05.000Z")
	var res struct {
		Created int `json:"createdCount"`
		Updated int `json:"updatedCount"`
	}
	sh := &s.shop
	sh.stats.ProductBatches++
	sh.stats.ProductsReceived += len(ins)
	for _, in := range ins {
		for _, c := range in.p.Categories {
			if _, ok := sh.categories[c]; !ok {
				sh.stats.UnknownCategoryRefs++
			}
		}
		cur, exists := sh.products[in.p.ID]
		if !exists {
			p := in.p
			p.CreatedAt, p.ModifiedAt = ts, ts
			p.S3ThumbAnalytics = "https://img-ecom.example.invalid/analytics/" + p.ID + ".jpg"
			p.S3ThumbEditor = "https://img-ecom.example.invalid/editor/" + p.ID + ".jpg"
			sh.products[p.ID] = &p
			sh.order = append(sh.order, p.ID)
			sh.stats.ProductsChanged++
			res.Created++
			continue
		}
		if update == nil || !*update {
			continue
		}
		before := cloneProduct(cur)
		if in.p.Name != "" {
			cur.Name = in.p.Name
		}
		if in.hasURL {
			cur.URL = in.p.URL
		}
		if in.hasImage {
			cur.ImageURL = in.p.ImageURL
		}
		if in.hasSKU {
			cur.SKU = in.p.SKU
		}
		if in.hasPrice {
			cur.Price = in.p.Price
		}
		if in.hasCats {
			cur.Categories = slices.Clone(in.p.Categories)
		}
		if in.hasMeta {
			cur.MetaInfo = in.p.MetaInfo
		}
		if in.hasParent {
			cur.ParentID = in.p.ParentID
		}
		if in.hasDel {
			cur.IsDeleted = in.p.IsDeleted
			if !cur.IsDeleted {
				cur.DeletedAt = ""
			}
		}
		if in.hasDeletedAt {
			cur.DeletedAt, cur.IsDeleted = in.p.DeletedAt, true
		}
		if changed(before, *cur) {
			cur.ModifiedAt = ts
			sh.stats.ProductsChanged++
		}
		res.Updated++
	}
	writeJSON(w, http.StatusCreated, res)
}

// readBatch reads what POST /products/batch and /categories/batch share:
// the array under key (1 to maxBatchProducts objects, each one a single
// element) and updateEnabled. ok false: the refusal is written.
func readBatch(w http.ResponseWriter, r *http.Request, key, single string) (b *body, raws []json.RawMessage, update *bool, ok bool) {
	b, e := readBody(w, r, maxBody)
	if e == nil {
		if !b.take(key, "array of "+single+" objects", &raws) && b.err == nil {
			b.err = missing("%s is mandatory", key)
		}
		update = b.boolean("updateEnabled")
		switch {
		case b.err != nil:
			e = b.err
		case len(raws) == 0:
			e = missing("%s must hold at least one %s", key, single)
		case len(raws) > maxBatchProducts:
			e = badRequest("%s holds %d %s, over the limit of %d a request", key, len(raws), key, maxBatchProducts)
		}
	}
	if e != nil {
		writeError(w, e)
		return nil, nil, nil, false
	}
	return b, raws, update, true
}

// elementBody reads one element of a batch, which must be an object.
func elementBody(raw json.RawMessage, single string) (*body, *apiError) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, badRequest("each %s should be an object", single)
	}
	return &body{fields: fields, used: map[string]bool{}}, nil
}

// duplicateID refuses a batch that names one id twice.
func duplicateID(single, id string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeDuplicateParameter,
		Message: single + " id " + id + " is given more than once in the payload"}
}

func changed(a, b Product) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) != string(jb)
}

// batchCategories serves POST /categories/batch, as batchProducts.
func (s *Server) batchCategories(w http.ResponseWriter, r *http.Request) {
	b, raws, update, ok := readBatch(w, r, "categories", "category")
	if !ok {
		return
	}
	type catIn struct {
		c      Category
		hasURL bool
		hasDel bool
	}
	ins := make([]catIn, 0, len(raws))
	seen := map[string]bool{}
	for _, raw := range raws {
		cb, e := elementBody(raw, "category")
		if e != nil {
			writeError(w, e)
			return
		}
		var in catIn
		var ok bool
		if in.c.ID, ok = cb.str("id"); (!ok || in.c.ID == "") && cb.err == nil {
			cb.err = missing("id is mandatory for every category")
		}
		in.c.Name, _ = cb.str("name")
		in.c.URL, in.hasURL = cb.str("url")
		var del bool
		if in.hasDel = cb.take("isDeleted", "boolean", &del); in.hasDel {
			in.c.IsDeleted = del
		}
		if _, has := cb.str("deletedAt"); has {
			in.c.IsDeleted, in.hasDel = true, true
		}
		if cb.err != nil {
			writeError(w, cb.err)
			return
		}
		if seen[in.c.ID] {
			writeError(w, duplicateID("category", in.c.ID))
			return
		}
		seen[in.c.ID] = true
		ins = append(ins, in)
	}
	now := s.lock()
	defer s.mu.Unlock()
	s.countUnknownFields(r, b)
	ts := now.UTC().Format("2006-01-02T15:04:05.000Z")
	sh := &s.shop
	var res struct {
		Created int `json:"createdCount"`
		Updated int `json:"updatedCount"`
	}
	for _, in := range ins {
		if cur, ok := sh.categories[in.c.ID]; ok {
			if update == nil || !*update {
				continue
			}
			if in.c.Name != "" {
				cur.Name = in.c.Name
			}
			if in.hasURL {
				cur.URL = in.c.URL
			}
			if in.hasDel {
				cur.IsDeleted = in.c.IsDeleted
			}
			cur.ModifiedAt = ts
			res.Updated++
			continue
		}
		if in.c.Name == "" {
			// Mandatory in case of creation; the batch was checked, so the
			// categories before this one are in.
			writeError(w, missing("name is mandatory to create category %s", in.c.ID))
			return
		}
		c := in.c
		c.CreatedAt, c.ModifiedAt = ts, ts
		sh.categories[c.ID] = &c
		sh.catOrder = append(sh.catOrder, c.ID)
		res.Created++
	}
	sh.stats.CategoryBatches++
	sh.stats.CategoriesReceived += len(ins)
	writeJSON(w, http.StatusCreated, res)
}

// listProducts serves GET /products?limit (≤ 1000, default 50)&offset
// &sort=asc|desc (by creation; default desc)&ids=a,b.
func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) {
	limit, e := queryInt(r, "limit", 50, 0, 1000)
	if e == nil {
		var off int64
		off, e = queryInt(r, "offset", 0, 0, math.MaxInt32)
		if e == nil {
			asc, e2 := querySort(r)
			if e2 != nil {
				writeError(w, e2)
				return
			}
			var ids map[string]bool
			if v := r.URL.Query().Get("ids"); v != "" {
				ids = map[string]bool{}
				for _, id := range strings.Split(v, ",") {
					ids[id] = true
				}
			}
			s.mu.Lock()
			order := slices.Clone(s.shop.order)
			if !asc {
				slices.Reverse(order)
			}
			var page []Product
			n := 0
			for _, id := range order {
				if ids != nil && !ids[id] {
					continue
				}
				if int64(n) >= off && int64(len(page)) < limit {
					page = append(page, cloneProduct(s.shop.products[id]))
				}
				n++
			}
			s.mu.Unlock()
			if page == nil {
				page = []Product{}
			}
			writeJSON(w, http.StatusOK, map[string]any{"products": page, "count": n})
			return
		}
	}
	writeError(w, e)
}

// listCategories serves GET /categories?limit (≤ 100)&offset.
func (s *Server) listCategories(w http.ResponseWriter, r *http.Request) {
	limit, e := queryInt(r, "limit", 50, 0, 100)
	if e != nil {
		writeError(w, e)
		return
	}
	off, e := queryInt(r, "offset", 0, 0, math.MaxInt32)
	if e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	ids := slices.Clone(s.shop.catOrder)
	sort.Strings(ids)
	page := []Category{}
	for i := int(off); i < len(ids) && len(page) < int(limit); i++ {
		page = append(page, *s.shop.categories[ids[i]])
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"categories": page, "count": len(ids)})
}

// adminProducts serves GET /_admin/products: every product, its
// categories and the shop's counters.
func (s *Server) adminProducts(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"products": s.Products(), "categories": s.Categories(), "state": s.Shop()})
}
