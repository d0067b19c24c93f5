// Package catalogmap turns a Braze catalog item into a Brevo product, after
// a configurable mapping of the item's fields (name, price, url, image,
// sku, categories and metaInfo keys), and fingerprints the result so that
// only changed products are written.
package catalogmap

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tajo-sync/tajo/proto"
)

// MaxMetadata is the most metaInfo keys Brevo takes on a product.
const MaxMetadata = 10

// Config says which item field becomes which product field. An empty
// field name maps nothing. A field an item lacks leaves the product field
// out (but for Name: Brevo requires a name).
type Config struct {
	// Name is the field holding the product's name; default "name".
	Name string `yaml:"name"`
	// Price holds the price, a number or a numeric string; default "price".
	Price string `yaml:"price"`
	// URL holds the product page's URL; default "url".
	URL string `yaml:"url"`
	// Image holds the image's URL (imageUrl); default "image_url".
	Image string `yaml:"image"`
	// SKU holds the shop's product identifier; default "sku".
	SKU string `yaml:"sku"`
	// Categories holds a category (a string) or several (an array of
	// strings); each becomes a Brevo category whose id and name are that
	// string. Default "category".
	Categories string `yaml:"categories"`
	// Metadata are fields copied into metaInfo under their own names, as
	// strings; at most 10. Default none.
	Metadata []string `yaml:"metadata"`
}

// DefaultConfig is the mapping when the configuration says nothing.
func DefaultConfig() Config {
	return Config{Name: "name", Price: "price", URL: "url", Image: "image_url", SKU: "sku", Categories: "category", Metadata: []string{}}
}

// FieldError is one invalid setting: Key is the Config field's yaml name
// (metadata[2] for an entry of Metadata).
type FieldError struct{ Key, Msg string }

func (e FieldError) Error() string { return e.Key + ": " + e.Msg }

// Validate reports every invalid setting as FieldErrors.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Name) == "" {
		errs = append(errs, FieldError{"name", "required: the item field holding the product's name (Brevo requires one)"})
	}
	used := map[string]string{}
	for _, f := range []struct{ key, v string }{{"name", c.Name}, {"price", c.Price}, {"url", c.URL},
		{"image", c.Image}, {"sku", c.SKU}, {"categories", c.Categories}} {
		if f.v != strings.TrimSpace(f.v) {
			errs = append(errs, FieldError{f.key, fmt.Sprintf("%q has spaces around it", f.v)})
		}
		if f.v == "id" {
			errs = append(errs, FieldError{f.key, `"id" is the item's id, which is the product's id already`})
		}
		if prev, ok := used[f.v]; ok && f.v != "" {
			errs = append(errs, FieldError{f.key, fmt.Sprintf("field %q is mapped to %s already", f.v, prev)})
		}
		used[f.v] = f.key
	}
	if len(c.Metadata) > MaxMetadata {
		errs = append(errs, FieldError{"metadata", fmt.Sprintf("%d fields, but a Brevo product takes at most %d metaInfo keys", len(c.Metadata), MaxMetadata)})
	}
	seen := map[string]bool{}
	for i, m := range c.Metadata {
		key := fmt.Sprintf("metadata[%d]", i)
		switch {
		case strings.TrimSpace(m) == "":
			errs = append(errs, FieldError{key, "empty field name"})
		case seen[m]:
			errs = append(errs, FieldError{key, fmt.Sprintf("field %q is listed twice", m)})
		}
		seen[m] = true
	}
	return errors.Join(errs...)
}

// Fields are the item fields the mapping reads, for checking against a
// catalog's schema.
func (c Config) Fields() []string {
	var out []string
	for _, f := range append([]string{c.Name, c.Price, c.URL, c.Image, c.SKU, c.Categories}, c.Metadata...) {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// RecordError is an item that cannot become a product; Reason is the
// dead-letter reason.
type RecordError struct{ Reason, Msg string }

func (e *RecordError) Error() string { return e.Msg }

// Mapper maps items with one Config.
type Mapper struct{ cfg Config }

// New validates cfg and returns its Mapper.
func New(cfg Config) (*Mapper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("catalog mapping: %w", err)
	}
	return &Mapper{cfg: cfg}, nil
}

// Map turns the JSON object item (whose "id" is id) into a product.
func (m *Mapper) Map(id string, item []byte) (proto.Product, error) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(item))
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return proto.Product{}, &RecordError{"malformed_item", fmt.Sprintf("item %s is not a JSON object", id)}
	}
	p := proto.Product{ID: id}
	name, err := text(fields, m.cfg.Name)
	if err != nil {
		return p, &RecordError{"invalid_name", fmt.Sprintf("item %s: %s %v", id, m.cfg.Name, err)}
	}
	if strings.TrimSpace(name) == "" {
		return p, &RecordError{"no_name", fmt.Sprintf("item %s has no %s: Brevo requires a product name", id, m.cfg.Name)}
	}
	p.Name = name
	if p.Price, err = price(fields, m.cfg.Price); err != nil {
		return p, &RecordError{"invalid_price", fmt.Sprintf("item %s: %s %v", id, m.cfg.Price, err)}
	}
	for _, f := range []struct {
		dst  *string
		name string
	}{{&p.URL, m.cfg.URL}, {&p.ImageURL, m.cfg.Image}, {&p.SKU, m.cfg.SKU}} {
		if *f.dst, err = text(fields, f.name); err != nil {
			return p, &RecordError{"invalid_field", fmt.Sprintf("item %s: %s %v", id, f.name, err)}
		}
	}
	if p.Categories, err = categories(fields, m.cfg.Categories); err != nil {
		return p, &RecordError{"invalid_categories", fmt.Sprintf("item %s: %s %v", id, m.cfg.Categories, err)}
	}
	for _, k := range m.cfg.Metadata {
		raw, ok := fields[k]
		if !ok || string(raw) == "null" {
			continue
		}
		if p.Meta == nil {
			p.Meta = map[string]string{}
		}
		p.Meta[k] = metaValue(raw)
	}
	return p, nil
}

// text reads a string field; a number reads as its JSON text. Absent or
// null: "".
func text(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := fields[name]
	if name == "" || !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("is %s, not a string", kind(raw))
}

// price reads a number, or a string holding one.
func price(fields map[string]json.RawMessage, name string) (*float64, error) {
	raw, ok := fields[name]
	if name == "" || !ok || string(raw) == "null" {
		return nil, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		return &f, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return &f, nil
		}
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return nil, fmt.Errorf("is %s, not a number", kind(raw))
}

// categories reads a string or an array of strings, dropping empty ones
// and repeats, in order.
func categories(fields map[string]json.RawMessage, name string) ([]string, error) {
	raw, ok := fields[name]
	if name == "" || !ok || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		list = []string{one}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("is %s, not a string or an array of strings", kind(raw))
	}
	var out []string
	for _, c := range list {
		c = strings.TrimSpace(c)
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// metaValue is a field as a metaInfo string: a string as is, anything else
// as its JSON text.
func metaValue(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var v any
	if err := json.Unmarshal(raw, &v); err == nil {
		if b, err := json.Marshal(v); err == nil {
			return string(b)
		}
	}
	if utf8.Valid(raw) {
		return string(raw)
	}
	return ""
}

func kind(raw json.RawMessage) string {
	switch t := bytes.TrimSpace(raw); {
	case len(t) == 0:
		return "empty"
	case t[0] == '{':
		return "an object"
	case t[0] == '[':
		return "an array"
	case t[0] == 't' || t[0] == 'f':
		return "a boolean"
	case t[0] == '"':
		return "a string"
	}
	return "a number"
}

// DeletedFingerprint is the fingerprint of a deleted product.
const DeletedFingerprint = "deleted"

// Fingerprint identifies p's content: equal products, equal fingerprints
// (metaInfo keys are encoded sorted).
func Fingerprint(p proto.Product) string {
	if p.Deleted {
		return DeletedFingerprint
	}
	b, _ := json.Marshal(p) // a struct of strings, numbers and string maps: cannot fail
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}
