package brevo

import (
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// importProcess is one background process: a POST /contacts/import, parsed at
// once and applied when done, or the removal of every contact from a list
// (unlinkList set). Brevo runs both kinds through one queue.
type importProcess struct {
	id          int64
	name        string // as GET /processes reports it
	unlinkList  int32
	submitted   time.Time
	start, done time.Time // set when the process reaches the head of the queue
	notifyURL   string    // POSTed when the process completes
	actor       string    // name of the key that submitted it (webhooks' api_key_name)
	rows        []importRow
	opts        importOptions
	completed   bool
	result      ImportResult
}

type importRow struct {
	email string
	attrs map[string]any
}

type importOptions struct {
	lists          []int32
	updateExisting bool
	emptyErases    bool
	emailBlacklist bool
	smsBlacklist   bool
	fromText       bool
}

// ImportResult counts what an import did with its rows.
type ImportResult struct {
	Rows    int `json:"rows"`
	Created int `json:"created"`
	Updated int `json:"updated"`
	// Skipped rows matched an existing contact with updateExistingContacts false.
	Skipped int `json:"skipped"`
	// Invalid rows (bad email or SMS, no identifier, an identifier owned by
	// another contact) were dropped without failing the import.
	Invalid int `json:"invalid"`
}

// isImport tells a contact import from a remove-all-from-list process (both
// are named IMPORTUSER).
func (p *importProcess) isImport() bool { return p.unlinkList == 0 }

// importQueue runs processes strictly one after another, as Brevo requires of imports.
type importQueue struct {
	all        []*importProcess // id = index + 1
	pending    []*importProcess // FIFO, head is queued or in_process
	lastDone   time.Time
	violations int // imports submitted while another was not completed
}

// advanceImports completes every import whose time has come; call with the lock
// held. Rows are applied at the process's completion instant, not at the time of
// the request that happens to observe it, so results do not depend on polling.
func (s *Server) advanceImports(now time.Time) {
	q := &s.imports
	for len(q.pending) > 0 {
		p := q.pending[0]
		if p.start.IsZero() {
			p.start = p.submitted
			if q.lastDone.After(p.start) {
				p.start = q.lastDone
			}
			p.done = p.start.Add(s.importDuration(len(p.rows)))
			// With the real clock nobody may poll: wake up to complete on time.
			// With a fake clock the nudge finds nothing to do.
			time.AfterFunc(max(p.done.Sub(now), 0)+time.Millisecond, s.nudge)
		}
		if now.Before(p.done) {
			return
		}
		s.runImport(p)
		if p.notifyURL != "" {
			s.notify(p)
		}
		q.lastDone = p.done
		q.pending[0] = nil
		q.pending = q.pending[1:]
	}
}

// importDuration is how long a process of n rows takes once at the head of
// the queue: ImportDelay, plus n / ImportRowsPerSecond when that is set.
func (s *Server) importDuration(n int) time.Duration {
	d := s.cfg.ImportDelay
	if r := s.cfg.ImportRowsPerSecond; r > 0 {
		d += time.Duration(float64(n) / r * float64(time.Second))
	}
	return d
}

func (s *Server) nudge() {
	s.lock()
	s.mu.Unlock()
}

func (s *Server) runImport(p *importProcess) {
	s.actor = p.actor
	if p.unlinkList != 0 {
		s.unlinkAll(p)
		return
	}
	yes := true
	opts := changeOpts{
		coerceOpts:  coerceOpts{fromText: p.opts.fromText, lenientDates: true},
		emptyErases: p.opts.emptyErases,
		contactID:   true,
	}
	for _, row := range p.rows {
		c := change{lists: p.opts.lists}
		if p.opts.emailBlacklist {
			c.emailBlacklisted = &yes
		}
		if p.opts.smsBlacklist {
			c.smsBlacklisted = &yes
		}
		if row.email != "" {
			email, ok := normalizeEmail(row.email)
			if !ok {
				p.result.Invalid++
				continue
			}
			c.email = email
		}
		if e := s.addAttributes(&c, row.attrs, opts); e != nil || !c.hasIdentifier() {
			p.result.Invalid++
			continue
		}
		res := s.st.resolve(&c)
		switch {
		case res.missing || len(res.conflicts) > 0:
			p.result.Invalid++
		case res.idx >= 0 && !p.opts.updateExisting:
			p.result.Skipped++
		case res.idx >= 0:
			s.st.apply(res.idx, &c, p.done)
			p.result.Updated++
		default:
			s.st.apply(-1, &c, p.done)
			p.result.Created++
		}
	}
	p.rows = nil // the rows are not needed any more; a million of them are heavy
	p.completed = true
}

// status is the process status as GET /processes reports it: queued until it has
// been at the head of the queue for a quarter of its duration, then in_process.
func (p *importProcess) status(now time.Time) string {
	switch {
	case p.completed:
		return "completed"
	case p.start.IsZero() || now.Before(p.start.Add(p.done.Sub(p.start)/4)):
		return "queued"
	}
	return "in_process"
}

func (s *Server) importContacts(w http.ResponseWriter, r *http.Request) {
	b, e := readBody(w, r, maxImportBody)
	if e != nil {
		writeError(w, e)
		return
	}
	p, nl, e := parseImport(b)
	if e != nil {
		writeError(w, e)
		return
	}
	now := s.lockAs(r)
	defer s.mu.Unlock()
	p.actor = s.actor
	s.countUnknownFields(r, b)
	if _, ok := b.fields["emailBlacklist"]; ok {
		s.stats.blacklistSent.ImportEmailBlacklist++
	}
	if _, ok := b.fields["smsBlacklist"]; ok {
		s.stats.blacklistSent.ImportSMSBlacklist++
	}
	if e := s.cat.checkLists("listIds", p.opts.lists); e != nil {
		writeError(w, e)
		return
	}
	if nl != nil {
		if _, ok := s.cat.folder(nl.FolderID); !ok {
			writeError(w, badRequest("newList.folderId: folder ID %d does not exist", nl.FolderID))
			return
		}
		p.opts.lists = append(p.opts.lists, s.cat.addList(nl.ListName, nl.FolderID, now))
	}
	q := &s.imports
	if slices.ContainsFunc(q.pending, (*importProcess).isImport) {
		q.violations++
	}
	p.name = importProcessName
	p.id = int64(len(q.all)) + 1
	p.submitted = now
	p.result.Rows = len(p.rows)
	q.all = append(q.all, p)
	q.pending = append(q.pending, p)
	s.advanceImports(now)
	writeJSON(w, http.StatusAccepted, map[string]int64{"processId": p.id})
}

// newList is an import's request for a list created for its contacts.
type newList struct {
	ListName string `json:"listName"`
	FolderID int64  `json:"folderId"`
}

// parseImport validates an import request; nl is set when the contacts go to a
// list created for them.
func parseImport(b *body) (p *importProcess, nl *newList, e *apiError) {
	_, hasURL := b.str("fileUrl")
	fileBody, hasFile := b.str("fileBody")
	var items []struct {
		Email      *string        `json:"email"`
		Attributes map[string]any `json:"attributes"`
	}
	hasJSON := b.take("jsonBody", "array of objects {email: string, attributes: object}", &items)
	p = &importProcess{}
	p.opts.lists = b.listIDs("listIds")
	var req newList
	b.take("newList", "object {listName: string, folderId: integer}", &req)
	if u, ok := b.str("notifyUrl"); ok && u != "" {
		if parsed, err := url.Parse(u); err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			b.err = badRequest("notifyUrl should be an http(s) URL")
		}
		p.notifyURL = u
	}
	b.boolean("disableNotification")
	p.opts.emailBlacklist = isTrue(b.boolean("emailBlacklist"))
	p.opts.smsBlacklist = isTrue(b.boolean("smsBlacklist"))
	upd := b.boolean("updateExistingContacts")
	p.opts.updateExisting = upd == nil || *upd
	p.opts.emptyErases = isTrue(b.boolean("emptyContactsAttributes"))
	if b.err != nil {
		return nil, nil, b.err
	}
	switch n := count(hasURL, hasFile, hasJSON); {
	case n == 0:
		return nil, nil, missing("fileUrl, fileBody or jsonBody is mandatory")
	case n > 1:
		return nil, nil, badRequest("Pass only one of fileUrl, fileBody or jsonBody")
	case hasURL:
		return nil, nil, badRequest("fileUrl imports are not simulated by the sandbox (it fetches nothing): send jsonBody or fileBody")
	}
	if req.ListName != "" {
		nl = &req
	}
	switch {
	case len(p.opts.lists) == 0 && nl == nil:
		return nil, nil, missing("listIds or newList is mandatory")
	case nl != nil && nl.FolderID <= 0:
		return nil, nil, missing("newList.folderId is mandatory when newList.listName is given")
	}
	if hasJSON {
		p.rows = make([]importRow, len(items))
		for i, it := range items {
			if it.Email != nil {
				p.rows[i].email = *it.Email
			}
			p.rows[i].attrs = it.Attributes
		}
	} else {
		p.opts.fromText = true
		if p.rows, e = parseCSV(fileBody); e != nil {
			return nil, nil, e
		}
	}
	if len(p.rows) == 0 {
		return nil, nil, badRequest("The import contains no contacts")
	}
	return p, nl, nil
}

// parseCSV reads Brevo's fileBody: semicolon-separated, a header row of attribute
// names, EMAIL naming the email column.
func parseCSV(text string) ([]importRow, *apiError) {
	rd := csv.NewReader(strings.NewReader(text))
	rd.Comma = ';'
	rd.FieldsPerRecord = -1
	rd.LazyQuotes = true
	header, err := rd.Read()
	if err != nil {
		return nil, badRequest("fileBody has no header row")
	}
	for i := range header {
		header[i] = strings.ToUpper(strings.TrimSpace(header[i]))
	}
	var rows []importRow
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, badRequest("fileBody is not valid CSV: %v", err)
		}
		row := importRow{attrs: map[string]any{}}
		for i, cell := range rec {
			switch {
			case i >= len(header):
			case header[i] == attrEmail:
				row.email = strings.TrimSpace(cell)
			default:
				row.attrs[header[i]] = cell
			}
		}
		rows = append(rows, row)
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

func count(flags ...bool) int {
	n := 0
	for _, f := range flags {
		if f {
			n++
		}
	}
	return n
}
