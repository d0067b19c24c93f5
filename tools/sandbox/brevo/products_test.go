package brevo

import (
	"fmt"
	"testing"
)

func init() {
	for _, p := range []string{"/products", "/products/batch", "/categories", "/categories/batch", "/emailCampaigns"} {
		servedPaths[p] = true
	}
}

func products(n int, prefix string) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"id": fmt.Sprintf("%s%d", prefix, i), "name": "Product", "price": 9.5,
			"categories": []string{"Shoes"}, "metaInfo": map[string]any{"brand": "Acme"}, "isDeleted": false}
	}
	return out
}

// TestProductsContract checks the eCommerce routes against Brevo's spec:
// batches of products and categories (at most 100, ids once each, a name
// on every product), the product list, and email campaigns with their
// statistics.
func TestProductsContract(t *testing.T) {
	h := newHarness(t, Config{})
	_, router := loadSpec(t, h.url)
	checkContract(t, h.url, router, []contractCase{
		{"create categories", "POST", "/categories/batch", map[string]any{"categories": []map[string]any{{"id": "Shoes", "name": "Shoes"}},
			"updateEnabled": true}, true, 201},
		{"category without name", "POST", "/categories/batch", map[string]any{"categories": []map[string]any{{"id": "Hats"}}}, true, 400},
		{"create products", "POST", "/products/batch", map[string]any{"products": products(3, "p"), "updateEnabled": true}, true, 201},
		{"update and delete", "POST", "/products/batch", map[string]any{"updateEnabled": true, "products": []map[string]any{
			{"id": "p0", "name": "Product", "price": 10}, {"id": "p1", "name": "Product", "isDeleted": true},
			{"id": "p2", "name": "Product", "deletedAt": "2026-03-02T10:00:00.000Z"}}}, true, 201},
		{"101 products", "POST", "/products/batch", map[string]any{"products": products(101, "q"), "updateEnabled": true}, true, 400},
		{"an id twice", "POST", "/products/batch", map[string]any{"products": append(products(1, "r"), products(1, "r")...)}, true, 400},
		{"no name", "POST", "/products/batch", map[string]any{"products": []map[string]any{{"id": "s"}}}, false, 400},
		{"price not a number", "POST", "/products/batch", map[string]any{"products": []map[string]any{{"id": "s", "name": "S", "price": "ten"}}}, false, 400},
		{"11 metaInfo keys", "POST", "/products/batch", map[string]any{"products": []map[string]any{{"id": "s", "name": "S",
			"metaInfo": map[string]any{"a": "1", "b": "1", "c": "1", "d": "1", "e": "1", "f": "1", "g": "1", "h": "1", "i": "1", "j": "1", "k": "1"}}}}, true, 400},
		{"list products", "GET", "/products?limit=2&offset=0&sort=asc", nil, true, 200},
		{"product limit above 1000", "GET", "/products?limit=1001", nil, false, 400},
		{"list categories", "GET", "/categories?limit=10", nil, true, 200},
		// The spec types excludeHtmlContent as a boolean whose enum holds the
		// strings "true" and "false", which no value matches: the client's
		// excludeHtmlContent=true is checked by the Go client's tests instead.
		{"sent email campaigns with statistics", "GET", "/emailCampaigns?status=sent&statistics=globalStats&limit=100&offset=0", nil, true, 200},
		{"email campaigns status outside the enum", "GET", "/emailCampaigns?status=gone", nil, false, 400},
		{"email campaigns limit above 100", "GET", "/emailCampaigns?limit=101", nil, false, 400},
	})
	shop := h.srv.Shop()
	if shop.Products != 3 || shop.DeletedProducts != 2 || shop.Categories != 1 || shop.UnknownCategoryRefs != 0 ||
		shop.ProductBatches != 2 || shop.ProductsReceived != 6 || shop.ProductsChanged != 6 {
		t.Errorf("shop after the session: %+v", shop)
	}
	p := h.srv.Products()
	if *p[0].Price != 10 || !p[1].IsDeleted || !p[2].IsDeleted || p[0].IsDeleted {
		t.Errorf("products after the session: %+v", p)
	}
}

// TestProductsWithoutUpdateEnabled: without updateEnabled, a product that
// exists is left as it is.
func TestProductsWithoutUpdateEnabled(t *testing.T) {
	h := newHarness(t, Config{})
	h.do("POST", "/v3/products/batch", map[string]any{"products": []map[string]any{{"id": "a", "name": "A"}}}).expect(t, 201, "")
	r := h.do("POST", "/v3/products/batch", map[string]any{"products": []map[string]any{{"id": "a", "name": "B"}}}).expect(t, 201, "")
	if r.body["createdCount"] != 0.0 || r.body["updatedCount"] != 0.0 || h.srv.Products()[0].Name != "A" {
		t.Errorf("answer %v, product %+v", r.body, h.srv.Products()[0])
	}
	h.do("POST", "/v3/products/batch", map[string]any{"updateEnabled": true, "products": []map[string]any{{"id": "a", "name": "B"}}}).expect(t, 201, "")
	if h.srv.Products()[0].Name != "B" {
		t.Errorf("with updateEnabled: %+v", h.srv.Products()[0])
	}
}

// TestBatchRefusals: POST /products/batch and /categories/batch refuse a
// malformed batch alike (readBatch, elementBody, duplicateID), each naming
// its own kind; the shop is left as it was.
func TestBatchRefusals(t *testing.T) {
	h := newHarness(t, Config{})
	many := func(n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"id": fmt.Sprintf("x%d", i), "name": "X"}
		}
		return out
	}
	for _, k := range []struct{ key, single string }{{"products", "product"}, {"categories", "category"}} {
		for _, c := range []struct {
			name string
			body map[string]any
			code string
			msg  string
		}{
			{"no array", map[string]any{"updateEnabled": true}, "missing_parameter", k.key + " is mandatory"},
			{"not an array", map[string]any{k.key: "x"}, "invalid_parameter", k.key + " should be of type array of " + k.single + " objects"},
			{"empty", map[string]any{k.key: []any{}}, "missing_parameter", k.key + " must hold at least one " + k.single},
			{"101", map[string]any{k.key: many(101)}, "invalid_parameter", k.key + " holds 101 " + k.key + ", over the limit of 100 a request"},
			{"not an object", map[string]any{k.key: []any{7}}, "invalid_parameter", "each " + k.single + " should be an object"},
			{"an id twice", map[string]any{k.key: append(many(1), many(1)...)}, "duplicate_parameter", k.single + " id x0 is given more than once in the payload"},
			{"updateEnabled not a boolean", map[string]any{k.key: many(1), "updateEnabled": "yes"}, "invalid_parameter", "updateEnabled should be of type boolean"},
		} {
			t.Run(k.key+"/"+c.name, func(t *testing.T) {
				r := h.do("POST", "/v3/"+k.key+"/batch", c.body).expect(t, 400, c.code)
				if r.body["message"] != c.msg {
					t.Errorf("message %q, want %q", r.body["message"], c.msg)
				}
			})
		}
	}
	if s := h.srv.Shop(); s.Products != 0 || s.Categories != 0 || s.ProductBatches != 0 || s.CategoryBatches != 0 {
		t.Errorf("shop after refusals: %+v", s)
	}
}
