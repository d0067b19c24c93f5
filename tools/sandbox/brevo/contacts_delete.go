package brevo

import (
	"maps"
	"net/http"
	"strconv"
)

// deleteContact serves DELETE /v3/contacts/{identifier}: an email or a
// contact id (Brevo's reference). The contact's identifiers are freed and
// contact_deleted fires.
func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request) {
	s.lockAs(r)
	defer s.mu.Unlock()
	idx, e := s.find(r)
	if e != nil {
		writeError(w, e)
		return
	}
	s.st.remove(idx)
	w.WriteHeader(http.StatusNoContent)
}

// EditContact changes a contact as a person does in Brevo's interface (no
// API key: webhooks report api_key_name ""): attributes by name (nil
// erases; EMAIL, SMS and EXT_ID change identifiers), and the email
// blocklist when emailBlacklisted is non-nil. It is how tests make changes
// on the Brevo side of a two-way sync.
func (s *Server) EditContact(id int64, attrs map[string]any, emailBlacklisted *bool) error {
	s.lock()
	defer s.mu.Unlock()
	idx := int(id - 1)
	if !s.st.live(idx) {
		return notFound("Contact does not exist")
	}
	c := change{contactID: id, emailBlacklisted: emailBlacklisted}
	attrs = maps.Clone(attrs)
	for k, v := range attrs {
		if v == nil && k != attrEmail && k != attrSMS && k != attrExtID {
			attrs[k] = "" // the interface's way to erase
		}
	}
	if e := s.addAttributes(&c, attrs, changeOpts{emptyErases: true}); e != nil {
		return e
	}
	if _, _, e := s.upsert(&c, true, s.cfg.Now()); e != nil {
		return e
	}
	return nil
}

// DeleteContact deletes a contact as a person does in Brevo's interface.
func (s *Server) DeleteContact(id int64) error {
	s.lock()
	defer s.mu.Unlock()
	if !s.st.live(int(id - 1)) {
		return notFound("Contact does not exist")
	}
	s.st.remove(int(id - 1))
	return nil
}

// adminEditContact serves POST /_admin/contacts/{id}
// {"attributes":{...},"emailBlacklisted":true}: EditContact.
func (s *Server) adminEditContact(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, badRequest("id should be an integer"))
		return
	}
	b, e := readBody(w, r, maxBody)
	if e != nil {
		writeError(w, e)
		return
	}
	attrs := b.object("attributes")
	bl := b.boolean("emailBlacklisted")
	if b.err != nil {
		writeError(w, b.err)
		return
	}
	if err := s.EditContact(id, attrs, bl); err != nil {
		writeError(w, err.(*apiError))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// adminDeleteContact serves DELETE /_admin/contacts/{id}: DeleteContact.
func (s *Server) adminDeleteContact(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, badRequest("id should be an integer"))
		return
	}
	if err := s.DeleteContact(id); err != nil {
		writeError(w, err.(*apiError))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
