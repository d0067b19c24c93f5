package brevo

import (
	"context"
	"fmt"
	"net/http"
)

// MaxBatchProducts is the most products (and categories) one
// POST /products/batch (/categories/batch) takes on the general plan.
const MaxBatchProducts = 100

// MaxProductMeta is the most metaInfo keys a product may have.
const MaxProductMeta = 10

// Product is one eCommerce product (createUpdateProducts in the spec).
type Product struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	URL        string            `json:"url,omitempty"`
	ImageURL   string            `json:"imageUrl,omitempty"`
	SKU        string            `json:"sku,omitempty"`
	Price      *float64          `json:"price,omitempty"`
	Categories []string          `json:"categories,omitempty"` // category ids
	MetaInfo   map[string]string `json:"metaInfo,omitempty"`
	// IsDeleted marks the product deleted from the shop. It is always
	// sent, so that a product that comes back is no longer deleted.
	IsDeleted bool `json:"isDeleted"`
}

// Category is one eCommerce category (createUpdateCategories).
type Category struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// BatchResult is Brevo's answer to a batch of products or categories.
type BatchResult struct {
	Created int64 `json:"createdCount"`
	Updated int64 `json:"updatedCount"`
}

// UpsertProducts creates or updates up to MaxBatchProducts products with
// POST /products/batch and updateEnabled: 201 {createdCount,
// updatedCount}. Brevo refuses a batch that names one id twice; an error
// means nothing can be said written.
func (c *Client) UpsertProducts(ctx context.Context, products []Product) (BatchResult, error) {
	if err := checkBatch("products", len(products)); err != nil {
		return BatchResult{}, err
	}
	seen := make(map[string]bool, len(products))
	for _, p := range products {
		if p.ID == "" || p.Name == "" {
			return BatchResult{}, fmt.Errorf("brevo: writing %d products: product %q has no id or no name", len(products), p.ID)
		}
		if seen[p.ID] {
			return BatchResult{}, fmt.Errorf("brevo: writing %d products: product %q given twice", len(products), p.ID)
		}
		if len(p.MetaInfo) > MaxProductMeta {
			return BatchResult{}, fmt.Errorf("brevo: writing product %q: %d metaInfo keys, at most %d", p.ID, len(p.MetaInfo), MaxProductMeta)
		}
		seen[p.ID] = true
	}
	var out BatchResult
	_, err := c.do(ctx, apiCall{method: http.MethodPost, path: "/products/batch",
		body: map[string]any{"products": products, "updateEnabled": true}}, &out)
	return out, err
}

// UpsertCategories creates or updates up to MaxBatchProducts categories
// with POST /categories/batch and updateEnabled.
func (c *Client) UpsertCategories(ctx context.Context, cats []Category) (BatchResult, error) {
	if err := checkBatch("categories", len(cats)); err != nil {
		return BatchResult{}, err
	}
	var out BatchResult
	_, err := c.do(ctx, apiCall{method: http.MethodPost, path: "/categories/batch",
		body: map[string]any{"categories": cats, "updateEnabled": true}}, &out)
	return out, err
}

func checkBatch(what string, n int) error {
	if n < 1 || n > MaxBatchProducts {
		return fmt.Errorf("brevo: writing %d %s: 1 to %d a batch", n, what, MaxBatchProducts)
	}
	return nil
}
