package braze

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxTrackLog bounds the request logs kept for tests and the admin API.
const maxTrackLog = 10000

// TrackCall is one POST /users/track the simulator answered, for tests
// asserting on batch sizes and on what a client sent again.
type TrackCall struct {
	At         time.Time `json:"at"`
	Attributes int       `json:"attributes"`
	Events     int       `json:"events"`
	Purchases  int       `json:"purchases"`
	// Users names the user of each attributes object, in order: the
	// external_id, else "alias:<label>:<name>", "braze_id:<id>",
	// "email:<address>" or "phone:<number>".
	Users  []string     `json:"users"`
	Errors []TrackError `json:"errors,omitempty"`
	Status int          `json:"status"`
}

// Objects is the number of objects of the request, all arrays together.
func (c TrackCall) Objects() int { return c.Attributes + c.Events + c.Purchases }

// TrackError is one refused object of a /users/track request, as Braze
// reports it in errors[].
type TrackError struct {
	Type       string `json:"type"`
	InputArray string `json:"input_array"`
	Index      int    `json:"index"`
}

// EmailStatusCall is one accepted POST /email/status.
type EmailStatusCall struct {
	Emails []string `json:"emails"`
	State  string   `json:"subscription_state"`
}

// SubscriptionCall is one accepted POST /subscription/status/set.
type SubscriptionCall struct {
	GroupID     string   `json:"subscription_group_id"`
	State       string   `json:"subscription_state"`
	ExternalIDs []string `json:"external_id,omitempty"`
	Emails      []string `json:"email,omitempty"`
	Phones      []string `json:"phone,omitempty"`
}

// identity is how a /users/track object names its user.
type identity struct {
	externalID, brazeID, email, phone string
	alias                             *userAlias
}

func (id identity) String() string {
	switch {
	case id.externalID != "":
		return id.externalID
	case id.alias != nil:
		return "alias:" + id.alias.AliasLabel + ":" + id.alias.AliasName
	case id.brazeID != "":
		return "braze_id:" + id.brazeID
	case id.email != "":
		return "email:" + id.email
	case id.phone != "":
		return "phone:" + id.phone
	}
	return ""
}

// identityOf reads the identifier of an object; problem says what is wrong
// when it has none usable.
func identityOf(o map[string]any) (id identity, problem string) {
	str := func(k string) (string, bool) {
		v, ok := o[k]
		if !ok || v == nil {
			return "", true
		}
		s, isStr := v.(string)
		return strings.TrimSpace(s), isStr
	}
	var ok bool
	if id.externalID, ok = str("external_id"); !ok {
		return id, "'external_id' must be a string"
	}
	if id.brazeID, ok = str("braze_id"); !ok {
		return id, "'braze_id' must be a string"
	}
	if id.email, ok = str("email"); !ok {
		return id, "'email' must be a string"
	}
	if id.phone, ok = str("phone"); !ok {
		return id, "'phone' must be a string"
	}
	if v, present := o["user_alias"]; present && v != nil {
		m, isObj := v.(map[string]any)
		name, _ := m["alias_name"].(string)
		label, _ := m["alias_label"].(string)
		if !isObj || name == "" || label == "" {
			return id, "'user_alias' must be an object with alias_name and alias_label"
		}
		id.alias = &userAlias{AliasName: name, AliasLabel: label}
	}
	if id.String() == "" {
		return id, "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required"
	}
	return id, ""
}

var (
	trackEmailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	trackDateRE  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// attributeProblem says why Braze refuses an attributes object's values,
// or "".
func attributeProblem(o map[string]any) string {
	for _, k := range []string{"email_subscribe", "push_subscribe"} {
		if v, ok := o[k]; ok && v != nil {
			s, _ := v.(string)
			if !slices.Contains(subscribeStates, s) {
				return "'" + k + "' must be one of opted_in, subscribed or unsubscribed"
			}
		}
	}
	if v, ok := o["email"]; ok && v != nil {
		if s, _ := v.(string); !trackEmailRE.MatchString(strings.TrimSpace(s)) {
			return "'email' is not a valid email address"
		}
	}
	if v, ok := o["dob"]; ok && v != nil {
		if s, _ := v.(string); !trackDateRE.MatchString(s) {
			return "'dob' must be a date as YYYY-MM-DD"
		}
	}
	return ""
}

// eventProblem and purchaseProblem check the fields Braze requires.
func eventProblem(o map[string]any) string {
	if s, _ := o["name"].(string); s == "" {
		return "'name' is required"
	}
	if !isTime(o["time"]) {
		return "'time' must be an ISO 8601 date-time"
	}
	return ""
}

func purchaseProblem(o map[string]any) string {
	if s, _ := o["product_id"].(string); s == "" {
		return "'product_id' is required"
	}
	if s, _ := o["currency"].(string); len(s) != 3 {
		return "'currency' must be an ISO 4217 code"
	}
	if _, ok := o["price"].(float64); !ok {
		return "'price' must be a number"
	}
	if !isTime(o["time"]) {
		return "'time' must be an ISO 8601 date-time"
	}
	return ""
}

func isTime(v any) bool {
	s, _ := v.(string)
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

// usersTrack serves POST /users/track: at most 75 objects in the three
// arrays together; each names its user by external_id, user_alias,
// braze_id, email or phone. Valid objects are applied (attributes to the
// user's profile, which exports then show; events and purchases counted);
// the others are listed in errors[] by array and index, Braze's partial
// success. A request with no valid object is refused (400) and changes
// nothing.
func (s *Server) usersTrack(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Attributes []map[string]any `json:"attributes"`
		Events     []map[string]any `json:"events"`
		Purchases  []map[string]any `json:"purchases"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	call := TrackCall{At: s.cfg.Now(), Attributes: len(req.Attributes), Events: len(req.Events), Purchases: len(req.Purchases)}
	if call.Objects() > maxTrackObjects {
		call.Status = http.StatusBadRequest
		s.logTrack(call)
		writeError(w, http.StatusBadRequest, "Max Input Length Exceeded", "at most 75 objects in attributes, events and purchases together")
		return
	}
	type applied struct {
		array string
		index int
		id    identity
		obj   map[string]any
	}
	var (
		errs  []TrackError
		valid []applied
	)
	s.mu.Lock()
	for _, arr := range []struct {
		name  string
		objs  []map[string]any
		check func(map[string]any) string
	}{{"attributes", req.Attributes, attributeProblem}, {"events", req.Events, eventProblem}, {"purchases", req.Purchases, purchaseProblem}} {
		for k, o := range arr.objs {
			id, problem := identityOf(o)
			if arr.name == "attributes" {
				call.Users = append(call.Users, id.String())
			}
			if problem == "" {
				problem = arr.check(o)
			}
			if problem == "" && s.trackFail[id.String()] > 0 {
				s.trackFail[id.String()]--
				problem = "simulated failure (sandbox: POST /_admin/track/fail)"
			}
			if problem != "" {
				errs = append(errs, TrackError{Type: problem, InputArray: arr.name, Index: k})
				continue
			}
			valid = append(valid, applied{arr.name, k, id, o})
		}
	}
	if len(valid) == 0 {
		call.Status, call.Errors = http.StatusBadRequest, errs
		s.mu.Unlock()
		s.logTrack(call)
		if errs == nil {
			errs = []TrackError{}
		}
		writeJSON(w, http.StatusBadRequest, struct {
			Message string       `json:"message"`
			Errors  []TrackError `json:"errors"`
		}{"Valid data must be provided in the 'attributes', 'events', or 'purchases' fields.", errs})
		return
	}
	counts := map[string]int{}
	now := call.At.Unix()
	for _, a := range valid {
		i, ok := s.findUser(a.id)
		if !ok {
			only, _ := a.obj["_update_existing_only"].(bool)
			_, explicit := a.obj["_update_existing_only"]
			switch {
			case a.id.brazeID != "" || a.id.phone != "",
				a.id.alias != nil && (!explicit || only), // alias-only users need _update_existing_only: false
				a.id.externalID != "" && only:
				errs = append(errs, TrackError{Type: "no user matches the identifier", InputArray: a.array, Index: a.index})
				continue
			}
			i = s.createUser(a.id, now)
		}
		counts[a.array]++
		switch a.array {
		case "attributes":
			p := s.profiles[i].clone()
			for k, v := range a.obj {
				switch k {
				case "external_id", "braze_id", "user_alias", "_update_existing_only":
					continue
				}
				if standardTrackFields[k] {
					p.top[k] = v
				} else {
					p.custom[k] = v
				}
			}
			s.profiles[i] = p
		case "events":
			s.trackedEvents++
		case "purchases":
			s.trackedPurchases++
		}
	}
	call.Status, call.Errors = http.StatusCreated, errs
	s.mu.Unlock()
	s.logTrack(call)
	body := map[string]any{"message": "success"}
	for _, name := range []string{"attributes", "events", "purchases"} {
		if counts[name] > 0 {
			body[name+"_processed"] = counts[name]
		}
	}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, http.StatusCreated, body)
}

func (s *Server) logTrack(c TrackCall) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.trackLog) >= maxTrackLog {
		s.trackLog = slices.Delete(s.trackLog, 0, len(s.trackLog)-maxTrackLog+1)
	}
	s.trackLog = append(s.trackLog, c)
}

// emailStatus serves POST /email/status: email (one address or up to 50)
// and subscription_state subscribed, unsubscribed or opted_in. Every user
// with the address takes the state as email_subscribe, which exports show.
func (s *Server) emailStatus(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email             any    `json:"email"`
		SubscriptionState string `json:"subscription_state"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	var emails []string
	switch e := req.Email.(type) {
	case string:
		if e != "" {
			emails = []string{e}
		}
	case []any:
		for _, x := range e {
			str, ok := x.(string)
			if !ok || str == "" {
				writeError(w, http.StatusBadRequest, "Invalid email", "email must be an address or a list of addresses")
				return
			}
			emails = append(emails, str)
		}
	}
	switch {
	case len(emails) == 0:
		writeError(w, http.StatusBadRequest, "Missing email", "email is required: an address or a list of up to 50")
		return
	case len(emails) > 50:
		writeError(w, http.StatusBadRequest, "Max Input Length Exceeded", "at most 50 email addresses")
		return
	case !slices.Contains(subscribeStates, req.SubscriptionState):
		writeError(w, http.StatusBadRequest, "Invalid subscription_state: "+req.SubscriptionState, "subscription_state must be subscribed, unsubscribed or opted_in")
		return
	}
	s.mu.Lock()
	for _, e := range emails {
		for _, i := range s.usersWithEmail(e) {
			p := s.profiles[i].clone()
			p.top["email_subscribe"] = req.SubscriptionState
			s.profiles[i] = p
		}
	}
	s.emailLog = appendBounded(s.emailLog, EmailStatusCall{Emails: emails, State: req.SubscriptionState})
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"message": "success"})
}

// subscriptionStatusSet serves POST /subscription/status/set: a
// subscription group, subscribed or unsubscribed, and external_id, email
// or phone (email or phone, not both), 50 at most. The group's states are
// kept per identifier (SubscriptionStates).
func (s *Server) subscriptionStatusSet(w http.ResponseWriter, r *http.Request) {
	var req struct {
		GroupID    string   `json:"subscription_group_id"`
		State      string   `json:"subscription_state"`
		ExternalID []string `json:"external_id"`
		Email      []string `json:"email"`
		Phone      []string `json:"phone"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	switch {
	case req.GroupID == "":
		writeError(w, http.StatusBadRequest, "Missing subscription_group_id", "subscription_group_id is required")
		return
	case req.State != "subscribed" && req.State != "unsubscribed":
		writeError(w, http.StatusBadRequest, "Invalid subscription_state: "+req.State, "subscription_state must be subscribed or unsubscribed")
		return
	case len(req.Email) > 0 && len(req.Phone) > 0:
		writeError(w, http.StatusBadRequest, "Invalid request", "give email or phone, not both")
		return
	case len(req.ExternalID)+len(req.Email)+len(req.Phone) == 0:
		writeError(w, http.StatusBadRequest, "Missing users", "external_id, email or phone is required")
		return
	case len(req.ExternalID) > 50 || len(req.Email) > 50 || len(req.Phone) > 50:
		writeError(w, http.StatusBadRequest, "Max Input Length Exceeded", "at most 50 users")
		return
	}
	s.mu.Lock()
	g := s.groups[req.GroupID]
	if g == nil {
		g = map[string]string{}
		s.groups[req.GroupID] = g
	}
	for _, ids := range []struct {
		prefix string
		list   []string
	}{{"external_id:", req.ExternalID}, {"email:", req.Email}, {"phone:", req.Phone}} {
		for _, id := range ids.list {
			g[ids.prefix+strings.TrimSpace(id)] = req.State
		}
	}
	s.subLog = appendBounded(s.subLog, SubscriptionCall{GroupID: req.GroupID, State: req.State,
		ExternalIDs: req.ExternalID, Emails: req.Email, Phones: req.Phone})
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"message": "success"})
}

// usersDelete serves POST /users/delete: up to 50 external_ids,
// user_aliases or braze_ids. Deleted users leave exports and look-ups.
func (s *Server) usersDelete(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ExternalIDs []string    `json:"external_ids"`
		UserAliases []userAlias `json:"user_aliases"`
		BrazeIDs    []string    `json:"braze_ids"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	n := len(req.ExternalIDs) + len(req.UserAliases) + len(req.BrazeIDs)
	switch {
	case n == 0:
		writeError(w, http.StatusBadRequest, "No user identifier given", "provide external_ids, user_aliases or braze_ids")
		return
	case n > 50:
		writeError(w, http.StatusBadRequest, "Max Input Length Exceeded", "at most 50 users per request, got "+strconv.Itoa(n))
		return
	}
	var ids []identity
	for _, e := range req.ExternalIDs {
		ids = append(ids, identity{externalID: e})
	}
	for _, a := range req.UserAliases {
		ids = append(ids, identity{alias: &a})
	}
	for _, b := range req.BrazeIDs {
		ids = append(ids, identity{brazeID: b})
	}
	deleted := 0
	s.mu.Lock()
	for _, id := range ids {
		if i, ok := s.findUser(id); ok {
			p := s.profiles[i].clone()
			p.deleted = true
			s.profiles[i] = p
			deleted++
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"message": "success", "deleted": deleted})
}

func appendBounded[T any](l []T, v T) []T {
	if len(l) >= maxTrackLog {
		l = slices.Delete(l, 0, len(l)-maxTrackLog+1)
	}
	return append(l, v)
}
