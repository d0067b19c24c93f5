package brevo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Attribute is a contact attribute defined in the account.
type Attribute struct {
	Name     string `json:"name"`     // upper case, e.g. FIRSTNAME
	Category string `json:"category"` // normal, transactional, category, calculated, global
	Type     string `json:"type"`     // text, date, float, boolean, id, ...; empty for some categories
}

// Attributes lists the account's contact attributes. Brevo silently drops
// values of attributes that do not exist, so callers check before writing.
func (c *Client) Attributes(ctx context.Context) ([]Attribute, error) {
	var out struct {
		Attributes []Attribute `json:"attributes"`
	}
	if _, err := c.do(ctx, apiCall{method: http.MethodGet, path: "/contacts/attributes"}, &out); err != nil {
		return nil, err
	}
	return out.Attributes, nil
}

// CreateAttribute defines attribute name in category ("normal" for the
// attributes the connector maps) with type typ (text, date, float, boolean,
// multiple-choice). An existing name is refused by Brevo with a 400.
func (c *Client) CreateAttribute(ctx context.Context, category, name, typ string) error {
	switch {
	case category == "":
		return errors.New("brevo: creating attribute: category is empty")
	case name == "":
		return errors.New("brevo: creating attribute: name is empty")
	case category == "normal" && typ == "":
		return fmt.Errorf("brevo: creating attribute %s: a normal attribute needs a type", name)
	}
	var body any
	if typ != "" {
		body = struct {
			Type string `json:"type"`
		}{typ}
	} else {
		body = struct{}{}
	}
	_, err := c.do(ctx, apiCall{
		method: http.MethodPost,
		path:   "/contacts/attributes/" + url.PathEscape(category) + "/" + url.PathEscape(name),
		body:   body,
	}, nil)
	return err
}
