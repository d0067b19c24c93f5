package brevo

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxListMembers is how many contacts one add or remove call may name.
const maxListMembers = 150

type folderView struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	subscribers
}

type listView struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	subscribers
	FolderID int64 `json:"folderId"`
}

// listDetails is getExtendedList; the sandbox sends no campaigns, so no
// campaignStats, and has no dynamic lists.
type listDetails struct {
	listView
	CreatedAt   string `json:"createdAt"`
	DynamicList bool   `json:"dynamicList"`
}

// pageQuery reads limit, offset and sort for the folder and list listings.
func pageQuery(r *http.Request, def, maxLimit int64) (limit, offset int64, asc bool, e *apiError) {
	limit, e = queryInt(r, "limit", def, 0, maxLimit)
	if e == nil {
		offset, e = queryInt(r, "offset", 0, 0, 1<<62)
	}
	if e == nil {
		asc, e = querySort(r)
	}
	return limit, offset, asc, e
}

// page returns the indexes of one page of n items kept in creation order;
// Brevo's default order is newest first.
func page(n int, limit, offset int64, asc bool) []int {
	var out []int
	for k := offset; k < int64(n) && k < offset+limit; k++ {
		if asc {
			out = append(out, int(k))
		} else {
			out = append(out, n-1-int(k))
		}
	}
	return out
}

// nameField reads a mandatory, non-blank name.
func nameField(b *body, field, what string) (string, *apiError) {
	name, _ := b.str(field)
	if b.err != nil {
		return "", b.err
	}
	if strings.TrimSpace(name) == "" {
		return "", missing("%s name is missing", what)
	}
	return name, nil
}

func (s *Server) listLists(w http.ResponseWriter, r *http.Request) {
	limit, offset, asc, e := pageQuery(r, 10, 50)
	if e != nil {
		writeError(w, e)
		return
	}
	s.lock()
	counts, _ := s.counts()
	out := []listView{}
	for _, i := range page(len(s.cat.lists), limit, offset, asc) {
		out = append(out, s.listView(&s.cat.lists[i], counts))
	}
	n := len(s.cat.lists)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"lists": out, "count": n})
}

func (s *Server) listView(l *list, counts map[int32]*subscribers) listView {
	return listView{ID: int64(l.id), Name: l.name, subscribers: *counts[l.id], FolderID: l.folderID}
}

// createList makes a list in an existing folder. Brevo declares only a 400 for
// this operation, so an unknown folder is a 400 too.
func (s *Server) createList(w http.ResponseWriter, r *http.Request) {
	b, e := readBody(w, r, maxBody)
	if e != nil {
		writeError(w, e)
		return
	}
	name, e := nameField(b, "name", "List")
	var folderID int64
	if e == nil && !b.take("folderId", "integer", &folderID) {
		e = b.err
		if e == nil {
			e = missing("folderId is missing")
		}
	}
	if e != nil {
		writeError(w, e)
		return
	}
	now := s.lock()
	defer s.mu.Unlock()
	s.countUnknownFields(r, b)
	if _, ok := s.cat.folder(folderID); !ok {
		writeError(w, badRequest("Folder ID %d does not exist", folderID))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int64{"id": int64(s.cat.addList(name, folderID, now))})
}

// findList reads the {listId} path value; call with the lock held.
func (s *Server) findList(r *http.Request) (*list, *apiError) {
	id, err := strconv.ParseInt(r.PathValue("listId"), 10, 64)
	if err != nil {
		return nil, badRequest("listId should be an integer")
	}
	l, ok := s.cat.list(id)
	if !ok {
		return nil, notFound("List ID does not exist")
	}
	return l, nil
}

func (s *Server) getList(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("startDate") || r.URL.Query().Has("endDate") {
		writeError(w, badRequest("startDate and endDate (campaign statistics) are not simulated by the sandbox"))
		return
	}
	s.lock()
	l, e := s.findList(r)
	var v listDetails
	if e == nil {
		counts, _ := s.counts()
		v = listDetails{listView: s.listView(l, counts), CreatedAt: time.UnixMilli(l.created).UTC().Format(timeLayout)}
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// listMembers pages the contacts of a list as GET /contacts does, newest first
// unless sort=asc; count is the number of matching members.
func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) {
	limit, offset, asc, e := pageQuery(r, 50, 500)
	var modifiedSince int64
	if e == nil {
		modifiedSince, e = queryTime(r, "modifiedSince")
	}
	if e != nil {
		writeError(w, e)
		return
	}
	s.lock()
	l, e := s.findList(r)
	var members []Contact
	count := 0
	if e == nil {
		n := len(s.st.contacts)
		for k := range n {
			i := n - 1 - k
			if asc {
				i = k
			}
			ct := &s.st.contacts[i]
			if ct.modified < modifiedSince || !containsInt32(ct.lists, l.id) {
				continue
			}
			if int64(count) >= offset && int64(len(members)) < limit {
				members = append(members, s.export(i))
			}
			count++
		}
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	views := make([]contactView, len(members))
	for i, c := range members {
		views[i] = c.view()
	}
	writeJSON(w, http.StatusOK, map[string]any{"contacts": views, "count": count})
}

// members is the body of an add or remove call: exactly one of the arrays, or
// (remove only) all.
type members struct {
	emails []string
	ids    []int64
	extIDs []string
	all    bool
}

func parseMembers(b *body, allowAll bool) (m members, e *apiError) {
	hasEmails := b.take("emails", "array of strings", &m.emails)
	hasIDs := b.take("ids", "array of integers", &m.ids)
	hasExtIDs := b.take("extIds", "array of strings", &m.extIDs)
	var all *bool
	if allowAll {
		all = b.boolean("all")
	}
	if b.err != nil {
		return m, b.err
	}
	m.all = isTrue(all)
	kinds := "emails, ids or extIds"
	if allowAll {
		kinds = "emails, ids, extIds or all"
	}
	switch n := count(hasEmails, hasIDs, hasExtIDs, m.all); {
	case n == 0:
		return m, missing("%s is mandatory", kinds)
	case n > 1:
		return m, badRequest("Pass only one of %s", kinds)
	}
	if size := len(m.emails) + len(m.ids) + len(m.extIDs); !m.all && (size == 0 || size > maxListMembers) {
		return m, badRequest("Pass between 1 and %d contacts, not %d: use /contacts/import for bulk", maxListMembers, size)
	}
	return m, nil
}

// resolveMembers finds each contact named, in request order: its index (-1
// when there is none) and how the answer names it (ids as integers, emails and
// ext ids as given). Call with the lock held.
func (s *Server) resolveMembers(m members) (idx []int, names []any) {
	add := func(i int, ok bool, name any) {
		if !ok {
			i = -1
		}
		idx, names = append(idx, i), append(names, name)
	}
	for _, e := range m.emails {
		var i int
		norm, ok := normalizeEmail(e)
		if ok {
			i, ok = s.st.lookup(s.st.byEmail, norm)
		}
		add(i, ok, e)
	}
	for _, id := range m.ids {
		add(int(id-1), id > 0 && s.st.live(int(id-1)), id)
	}
	for _, x := range m.extIDs {
		i, ok := s.st.lookup(s.st.byExtID, x)
		add(i, ok, x)
	}
	return idx, names
}

func (s *Server) addToList(w http.ResponseWriter, r *http.Request) { s.changeMembers(w, r, true) }

func (s *Server) removeFromList(w http.ResponseWriter, r *http.Request) {
	s.changeMembers(w, r, false)
}

// changeMembers adds (add) or removes contacts one by one. A contact that does
// not exist, or is already in (out of) the list, goes to failure, as the spec
// describes it; when none succeeds Brevo answers the whole call with a 400
// "Contact already in list and/or does not exist".
func (s *Server) changeMembers(w http.ResponseWriter, r *http.Request, add bool) {
	b, e := readBody(w, r, maxBody)
	var m members
	if e == nil {
		m, e = parseMembers(b, !add)
	}
	if e != nil {
		s.mu.Lock()
		s.logListCall(r, add, m, e.Status, nil, nil)
		s.mu.Unlock()
		writeError(w, e)
		return
	}
	now := s.lockAs(r)
	defer s.mu.Unlock()
	s.countUnknownFields(r, b)
	l, e := s.findList(r)
	if e != nil {
		s.logListCall(r, add, m, e.Status, nil, nil)
		writeError(w, e)
		return
	}
	if m.all {
		s.logListCall(r, add, m, http.StatusCreated, nil, nil)
		writeJSON(w, http.StatusCreated, map[string]any{"contacts": s.startUnlinkAll(l.id, now)})
		return
	}
	success, failure := []any{}, []any{}
	idx, names := s.resolveMembers(m)
	for k, i := range idx {
		if i < 0 || containsInt32(s.st.contacts[i].lists, l.id) != !add {
			failure = append(failure, names[k])
			continue
		}
		c := change{lists: []int32{l.id}}
		if !add {
			c = change{unlink: []int32{l.id}}
		}
		s.st.apply(i, &c, now)
		success = append(success, names[k])
	}
	if len(success) == 0 {
		msg := "Contact already in list and/or does not exist"
		if !add {
			msg = "Contact already removed from list and/or does not exist"
		}
		s.logListCall(r, add, m, http.StatusBadRequest, nil, failure)
		writeError(w, badRequest("%s", msg))
		return
	}
	s.logListCall(r, add, m, http.StatusCreated, success, failure)
	writeJSON(w, http.StatusCreated, map[string]any{"contacts": map[string]any{"success": success, "failure": failure}})
}

// startUnlinkAll queues a process that takes every contact out of the list
// when it completes; call with the lock held. total counts today's members.
func (s *Server) startUnlinkAll(listID int32, now time.Time) map[string]int64 {
	total := int64(0)
	for i := range s.st.contacts {
		if containsInt32(s.st.contacts[i].lists, listID) {
			total++
		}
	}
	q := &s.imports
	p := &importProcess{id: int64(len(q.all)) + 1, name: unlinkAllProcessName, unlinkList: listID, submitted: now}
	q.all = append(q.all, p)
	q.pending = append(q.pending, p)
	s.advanceImports(now)
	return map[string]int64{"total": total, "processId": p.id}
}

// unlinkAll completes a remove-all process at its completion instant.
func (s *Server) unlinkAll(p *importProcess) {
	c := change{unlink: []int32{p.unlinkList}}
	for i := range s.st.contacts {
		if containsInt32(s.st.contacts[i].lists, p.unlinkList) {
			s.st.apply(i, &c, p.done)
		}
	}
	p.completed = true
}
