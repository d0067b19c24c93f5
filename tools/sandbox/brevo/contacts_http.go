package brevo

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// contactBody reads the fields POST and PUT /contacts share into a change; call
// before taking the lock (pure parsing), then finish with addAttributes under it.
func contactBody(b *body, c *change) (map[string]any, *apiError) {
	if email, ok := b.str("email"); ok {
		norm, valid := normalizeEmail(email)
		if !valid {
			return nil, badRequest("Invalid email address")
		}
		c.email = norm
	}
	c.extID, _ = b.str("ext_id")
	attrs := b.object("attributes")
	c.lists = b.listIDs("listIds")
	c.emailBlacklisted = b.boolean("emailBlacklisted")
	c.smsBlacklisted = b.boolean("smsBlacklisted")
	b.take("smtpBlacklistSender", "array of strings", new([]string))
	return attrs, b.err
}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request) {
	b, e := readBody(w, r, maxBody)
	if e != nil {
		writeError(w, e)
		return
	}
	var c change
	attrs, e := contactBody(b, &c)
	update := b.boolean("updateEnabled")
	force, getID := b.boolean("forceMerge"), b.boolean("getId")
	if e == nil {
		e = b.err
	}
	if e != nil {
		writeError(w, e)
		return
	}
	now := s.lockAs(r)
	defer s.mu.Unlock()
	s.countUnknownFields(r, b)
	s.countBlacklist(&c)
	if e := s.cat.checkLists("listIds", c.lists); e != nil {
		writeError(w, e)
		return
	}
	if e := s.addAttributes(&c, attrs, changeOpts{emptyErases: true}); e != nil {
		writeError(w, e)
		return
	}
	if !c.hasIdentifier() {
		writeError(w, missing("email, ext_id or attributes.SMS is mandatory to create a contact"))
		return
	}
	var (
		id      int64
		created bool
	)
	if isTrue(force) {
		id, created = s.forceMerge(&c, now)
	} else if id, created, e = s.upsert(&c, isTrue(update), now); e != nil {
		writeError(w, e)
		return
	}
	switch {
	case created:
		writeJSON(w, http.StatusCreated, map[string]int64{"id": id})
	case isTrue(getID):
		// getId asks for the surviving contact's id. The only status Brevo
		// declares with a body here is 201, so an update answers that too.
		writeJSON(w, http.StatusCreated, map[string]int64{"id": id})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) updateContact(w http.ResponseWriter, r *http.Request) {
	b, e := readBody(w, r, maxBody)
	if e != nil {
		writeError(w, e)
		return
	}
	var c change
	attrs, e := contactBody(b, &c)
	c.unlink = b.listIDs("unlinkListIds")
	if e == nil {
		e = b.err
	}
	if e != nil {
		writeError(w, e)
		return
	}
	now := s.lockAs(r)
	defer s.mu.Unlock()
	s.countUnknownFields(r, b)
	idx, e := s.find(r)
	if e != nil {
		writeError(w, e)
		return
	}
	s.countBlacklist(&c)
	e = s.cat.checkLists("listIds", c.lists)
	if e == nil {
		e = s.cat.checkLists("unlinkListIds", c.unlink)
	}
	if e == nil {
		e = s.addAttributes(&c, attrs, changeOpts{emptyErases: true})
	}
	if e != nil {
		writeError(w, e)
		return
	}
	c.contactID = int64(idx) + 1
	if _, _, e := s.upsert(&c, true, now); e != nil {
		writeError(w, e)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) countBlacklist(c *change) {
	if c.emailBlacklisted != nil {
		s.stats.blacklistSent.EmailBlacklisted++
	}
	if c.smsBlacklisted != nil {
		s.stats.blacklistSent.SMSBlacklisted++
	}
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request) {
	s.lock()
	idx, e := s.find(r)
	var c Contact
	if e == nil {
		c = s.export(idx)
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	v := c.view()
	v.Statistics = &struct{}{}
	writeJSON(w, http.StatusOK, v)
}

// find locates the contact named by the {identifier} path value and the optional
// identifierType; call with the lock held. Without identifierType Brevo reads an
// integer as a contact id, an address with @ as an email and, for GET, anything
// else as an SMS number.
func (s *Server) find(r *http.Request) (int, *apiError) {
	ident := r.PathValue("identifier")
	typ := r.URL.Query().Get("identifierType")
	if typ == "" {
		switch {
		case isDigits(ident):
			typ = "contact_id"
		case strings.Contains(ident, "@"):
			typ = "email_id"
		case r.Method == http.MethodGet:
			typ = "phone_id"
		default:
			return 0, notFound("Contact does not exist")
		}
	}
	var (
		idx int
		ok  bool
	)
	switch typ {
	case "contact_id":
		id, err := strconv.ParseInt(ident, 10, 64)
		idx = int(id - 1)
		ok = err == nil && id > 0 && s.st.live(idx)
	case "email_id":
		if email, valid := normalizeEmail(ident); valid {
			idx, ok = s.st.lookup(s.st.byEmail, email)
		}
	case "ext_id":
		idx, ok = s.st.lookup(s.st.byExtID, ident)
	case "phone_id":
		if phone, valid := normalizePhone(ident); valid {
			idx, ok = s.st.lookup(s.st.bySMS, phone)
		}
	case "whatsapp_id", "landline_number_id":
		// The sandbox account has no WHATSAPP or LANDLINE_NUMBER attribute.
	default:
		return 0, badRequest("identifierType is invalid: %s", typ)
	}
	if !ok {
		return 0, notFound("Contact does not exist")
	}
	return idx, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// listContacts pages contacts in creation order, optionally only those modified
// (or created) at or after a date-time, in some lists, or among some ids. count
// is the number of matching contacts, not the page size.
func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) {
	limit, e := queryInt(r, "limit", 50, 0, 1000)
	var offset int64
	if e == nil {
		offset, e = queryInt(r, "offset", 0, 0, 1<<62)
	}
	var asc bool
	if e == nil {
		asc, e = querySort(r)
	}
	var modifiedSince, createdSince int64
	if e == nil {
		modifiedSince, e = queryTime(r, "modifiedSince")
	}
	if e == nil {
		createdSince, e = queryTime(r, "createdSince")
	}
	var lists []int32
	if e == nil {
		lists, e = queryLists(r)
	}
	var ids map[int64]bool
	if e == nil {
		ids, e = queryIDs(r)
	}
	if e == nil && (r.URL.Query().Has("segmentId") || r.URL.Query().Has("filter")) {
		e = badRequest("segmentId and filter are not simulated by the sandbox")
	}
	if e != nil {
		writeError(w, e)
		return
	}
	s.lock()
	n := len(s.st.contacts)
	match := func(i int, ct *contact) bool {
		if ct.flags&flagDeleted != 0 || ct.modified < modifiedSince || ct.created < createdSince || ids != nil && !ids[int64(i)+1] {
			return false
		}
		for _, l := range lists {
			if !containsInt32(ct.lists, l) {
				return false
			}
		}
		return true
	}
	page := make([]Contact, 0, min(limit, int64(n)))
	count := 0
	if modifiedSince == 0 && createdSince == 0 && len(lists) == 0 && ids == nil && s.st.deleted == 0 {
		// Unfiltered pages index the slice directly: paging a million contacts
		// must not scan them all for every page.
		for k := offset; k < int64(n) && k < offset+limit; k++ {
			i := int64(n) - 1 - k
			if asc {
				i = k
			}
			page = append(page, s.export(int(i)))
		}
		count, n = n, 0
	}
	for k := range n {
		i := n - 1 - k
		if asc {
			i = k
		}
		if !match(i, &s.st.contacts[i]) {
			continue
		}
		if int64(count) >= offset && int64(len(page)) < limit {
			page = append(page, s.export(i))
		}
		count++
	}
	s.mu.Unlock()
	views := make([]contactView, len(page))
	for i, c := range page {
		views[i] = c.view()
	}
	writeJSON(w, http.StatusOK, map[string]any{"contacts": views, "count": count})
}

// queryTime parses a date-time filter as Brevo documents it
// (YYYY-MM-DDTHH:mm:ss.SSSZ, "prefer to pass your timezone"); without a zone it
// is UTC. The result is unix milliseconds, 0 when absent.
func queryTime(r *http.Request, name string) (int64, *apiError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, badRequest("%s is not a valid date-time (YYYY-MM-DDTHH:mm:ss.SSSZ, urlencoded): %q", name, v)
}

// queryLists reads listIds as repeated parameters or a comma-separated list.
func queryLists(r *http.Request) ([]int32, *apiError) {
	var out []int32
	for _, v := range r.URL.Query()["listIds"] {
		for _, part := range strings.Split(v, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 32)
			if err != nil || id <= 0 {
				return nil, badRequest("listIds should be an array of integers")
			}
			out = append(out, int32(id))
		}
	}
	return out, nil
}

// maxContactIDs is how many ids GET /contacts?ids= takes ("a maximum of 20
// IDs", Brevo's current reference).
const maxContactIDs = 20

// queryIDs reads the ids filter of GET /contacts, repeated or comma-separated;
// nil when absent. Ids naming no contact simply match nothing.
func queryIDs(r *http.Request) (map[int64]bool, *apiError) {
	vals, ok := r.URL.Query()["ids"]
	if !ok {
		return nil, nil
	}
	out := map[int64]bool{}
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil || id <= 0 {
				return nil, badRequest("ids should be an array of integers")
			}
			out[id] = true
		}
	}
	if len(out) > maxContactIDs {
		return nil, badRequest("ids: pass at most %d contact ids, not %d", maxContactIDs, len(out))
	}
	return out, nil
}

func containsInt32(l []int32, v int32) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}
