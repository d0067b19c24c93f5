package brevo

import (
	"net/http"
	"strings"
)

type attributeView struct {
	Name                 string   `json:"name"`
	Category             string   `json:"category"`
	Type                 string   `json:"type"`
	MultiCategoryOptions []string `json:"multiCategoryOptions,omitempty"`
}

func (s *Server) listAttributes(w http.ResponseWriter, r *http.Request) {
	s.lock()
	out := make([]attributeView, len(s.attrs))
	for i, a := range s.attrs {
		out[i] = attributeView{Name: a.name, Category: a.category, Type: typeNames[a.typ], MultiCategoryOptions: a.options}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"attributes": out})
}

// createAttribute supports the "normal" category, the only one a contact sync
// writes; the others (transactional, category, calculated, global) carry
// behaviour the sandbox does not simulate and are refused explicitly.
func (s *Server) createAttribute(w http.ResponseWriter, r *http.Request) {
	category := r.PathValue("attributeCategory")
	name := strings.ToUpper(r.PathValue("attributeName"))
	switch category {
	case "normal":
	case "transactional", "category", "calculated", "global":
		writeError(w, badRequest("attribute category %s is not simulated by the sandbox; use normal", category))
		return
	default:
		writeError(w, badRequest("attributeCategory is invalid: %s", category))
		return
	}
	if !attrNameRe.MatchString(name) {
		writeError(w, badRequest("Invalid attribute name: %s", r.PathValue("attributeName")))
		return
	}
	b, e := readBody(w, r, maxBody)
	if e != nil {
		writeError(w, e)
		return
	}
	typeName, hasType := b.str("type")
	var options []string
	b.take("multiCategoryOptions", "array of strings", &options)
	b.take("enumeration", "array", new([]any))
	b.str("value")
	b.boolean("isRecurring")
	if b.err != nil {
		writeError(w, b.err)
		return
	}
	if !hasType {
		typeName = "text"
	}
	a := attribute{name: name, category: category, typ: typeText}
	found := false
	for t, n := range typeNames {
		if n == typeName {
			a.typ, found = t, true
		}
	}
	if !found {
		writeError(w, badRequest("Invalid type %q for a normal attribute: use text, date, float, boolean or multiple-choice", typeName))
		return
	}
	if a.typ == typeMultipleChoice {
		if len(options) == 0 {
			writeError(w, missing("multiCategoryOptions is mandatory for a multiple-choice attribute"))
			return
		}
		a.options = options
	}

	s.lock()
	defer s.mu.Unlock()
	s.countUnknownFields(r, b)
	if _, exists := s.attrIdx[name]; exists {
		writeError(w, &apiError{Status: http.StatusBadRequest, Code: codeDuplicateParameter, Message: "Attribute name already exists"})
		return
	}
	if len(s.attrs) >= 1<<16 {
		writeError(w, badRequest("Too many attributes"))
		return
	}
	s.attrIdx[name] = uint16(len(s.attrs))
	s.attrs = append(s.attrs, a)
	w.WriteHeader(http.StatusCreated)
}

// countUnknownFields records body fields the handler ignored; call with the lock held.
func (s *Server) countUnknownFields(r *http.Request, b *body) {
	for _, f := range b.unknown() {
		s.stats.unknownFields[r.Pattern+" "+f]++
	}
}
