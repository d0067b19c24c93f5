package brevo

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
)

const (
	maxBody       = 1 << 20  // ordinary requests
	maxImportBody = 10 << 20 // "Maximum allowed json body size is 10MB"
)

// body reads a JSON object field by field, so that a field of the wrong type gets
// Brevo's invalid_parameter answer naming it, and fields nobody asked for can be
// counted as unknown.
type body struct {
	fields map[string]json.RawMessage
	used   map[string]bool
	err    *apiError
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) (*body, *apiError) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		if limit < 1<<20 {
			return nil, badRequest("Maximum allowed body size is %dKB", limit>>10)
		}
		return nil, badRequest("Maximum allowed body size is %dMB", limit>>20)
	case err != nil:
		return nil, badRequest("Could not read the request body: %v", err)
	case len(bytes.TrimSpace(raw)) == 0:
		return nil, missing("Request body is missing")
	}
	b := &body{used: map[string]bool{}}
	if err := json.Unmarshal(raw, &b.fields); err != nil || b.fields == nil {
		return nil, badRequest("Invalid JSON in the request body: expected an object")
	}
	return b, nil
}

// take decodes a field into dst; absent and null leave dst alone and report false.
func (b *body) take(name, typ string, dst any) bool {
	b.used[name] = true
	raw, ok := b.fields[name]
	if !ok || b.err != nil || string(raw) == "null" {
		return false
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		b.err = badRequest("%s should be of type %s", name, typ)
		return false
	}
	return true
}

func (b *body) str(name string) (string, bool) {
	var s string
	ok := b.take(name, "string", &s)
	return s, ok
}

func (b *body) boolean(name string) *bool {
	var v bool
	if !b.take(name, "boolean", &v) {
		return nil
	}
	return &v
}

// listIDs reads an array of list ids, which must be positive.
func (b *body) listIDs(name string) []int32 {
	var ids []int64
	b.take(name, "array of integers", &ids)
	out := make([]int32, 0, len(ids))
	for _, id := range ids {
		if id <= 0 || id > 1<<31-1 {
			if b.err == nil {
				b.err = badRequest("%s contains an invalid list id: %d", name, id)
			}
			return nil
		}
		out = append(out, int32(id))
	}
	return out
}

// object reads a JSON object with its values decoded generically (numbers as float64).
func (b *body) object(name string) map[string]any {
	var m map[string]any
	b.take(name, "object", &m)
	return m
}

// unknown lists the fields the handler never looked at, sorted.
func (b *body) unknown() []string {
	var out []string
	for k := range b.fields {
		if !b.used[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// queryInt reads an optional integer query parameter within [lo, hi].
func queryInt(r *http.Request, name string, def, lo, hi int64) (int64, *apiError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s should be an integer between %d and %d", name, lo, hi)
	}
	return n, nil
}

func querySort(r *http.Request) (asc bool, e *apiError) {
	switch r.URL.Query().Get("sort") {
	case "", "desc":
		return false, nil
	case "asc":
		return true, nil
	}
	return false, badRequest("sort should be asc or desc")
}
