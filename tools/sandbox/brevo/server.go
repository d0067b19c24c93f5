package brevo

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultImportDelay is how long an import process takes when Config.ImportDelay is zero.
const DefaultImportDelay = 200 * time.Millisecond

// The sandbox's "realistic" import timing: a fixed 5 s in Brevo's queue, then
// 500 rows a second (100,000 contacts take about 3.5 minutes). These are
// assumptions in the range of what users report of Brevo imports, not
// measurements; Brevo publishes no figure. Set them in Config (or
// sandbox.Options) to see how a client paces itself against slow imports.
const (
	RealisticImportDelay         = 5 * time.Second
	RealisticImportRowsPerSecond = 500
)

// Config configures a Server.
type Config struct {
	// APIKey is accepted in the api-key header. Empty: no key is accepted until AddKey.
	APIKey string `yaml:"api_key"`
	// RateLimit enforces Brevo's General-plan limits and sends the x-sib-ratelimit-*
	// headers. Off by default so functional tests are not throttled.
	RateLimit bool `yaml:"rate_limit"`
	// Now is the clock for timestamps, rate-limit windows and import progress.
	// Default time.Now.
	Now func() time.Time `yaml:"-"`
	// ImportDelay is how long an import process stays queued/in_process once it is
	// at the head of the queue, before its rows' share (ImportRowsPerSecond).
	// Default DefaultImportDelay.
	ImportDelay time.Duration `yaml:"import_delay"`
	// ImportRowsPerSecond, when positive, makes an import take ImportDelay plus
	// one second per that many rows, as Brevo's imports take longer the bigger
	// they are. Zero (the default) keeps every import at ImportDelay, which is
	// what tests want; see RealisticImportRowsPerSecond.
	ImportRowsPerSecond float64 `yaml:"import_rows_per_second"`
	// NotifyTimeout bounds each POST to an import's notifyUrl. Default 5s.
	NotifyTimeout time.Duration `yaml:"notify_timeout"`
	// APIKeyName is the name of APIKey, which webhooks report as
	// api_key_name for the changes made with it. Default "sandbox".
	APIKeyName string `yaml:"api_key_name"`
	// WebhookBatchWait is how long a batched webhook gathers events before
	// a delivery (Brevo: up to 5 minutes). Default 200ms.
	WebhookBatchWait time.Duration `yaml:"webhook_batch_wait"`
	// WebhookTimeout bounds each webhook delivery. Default 5s.
	WebhookTimeout time.Duration `yaml:"webhook_timeout"`
	// Middleware, when set, wraps every /v3 request before authentication
	// (the sandbox's fault injection). Requests are counted outside it; a
	// writer's RecordFault(status) replaces the status counted.
	Middleware func(http.Handler) http.Handler `yaml:"-"`
}

// Server simulates the Brevo API v3. It is an http.Handler serving /v3/... and
// /_admin/...; all methods are safe for concurrent use.
type Server struct {
	cfg     Config
	api     *http.ServeMux
	v3      http.Handler // serveV3 behind Config.Middleware
	admin   *http.ServeMux
	mu      sync.Mutex
	keys    map[string]string // API key -> its name
	actor   string            // name of the key the change being made came through ("": none)
	hooks   hookState
	out     *outbox
	attrs   []attribute
	attrIdx map[string]uint16
	st      *store
	imports importQueue
	stats   counters
	limits  map[string]*bucket // by pool (poolOf)
	cat     catalog            // folders and lists
	events  eventStore
	shop    shop // products.go
	// listCalls logs list add/remove calls (listcalls.go).
	listCalls listCallLog

	notifier *http.Client   // calls imports' notifyUrl
	notifies sync.WaitGroup // calls in flight, for Close
	closed   bool           // Close was called: no more calls
}

// counters are what the admin state reports beyond the contacts themselves.
type counters struct {
	requests          map[string]int
	unknownAttributes map[string]int
	unknownFields     map[string]int
	blacklistSent     BlacklistFlagsSent
	merged            int // contacts deleted by forceMerge
	notified          int // notifyUrl calls answered 2xx
	notifyFailed      int // notifyUrl calls that failed or answered otherwise
}

// New returns a simulator with a fresh account: default attributes, no contacts.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ImportDelay <= 0 {
		cfg.ImportDelay = DefaultImportDelay
	}
	if cfg.ImportRowsPerSecond < 0 {
		cfg.ImportRowsPerSecond = 0
	}
	if cfg.NotifyTimeout <= 0 {
		cfg.NotifyTimeout = 5 * time.Second
	}
	if cfg.APIKeyName == "" {
		cfg.APIKeyName = "sandbox"
	}
	if cfg.WebhookBatchWait <= 0 {
		cfg.WebhookBatchWait = 200 * time.Millisecond
	}
	if cfg.WebhookTimeout <= 0 {
		cfg.WebhookTimeout = 5 * time.Second
	}
	s := &Server{cfg: cfg, keys: map[string]string{}, notifier: &http.Client{Timeout: cfg.NotifyTimeout},
		out: newOutbox(cfg.WebhookBatchWait, cfg.WebhookTimeout)}
	if cfg.APIKey != "" {
		s.keys[cfg.APIKey] = cfg.APIKeyName
	}
	s.reset()
	s.routes()
	s.v3 = http.HandlerFunc(s.serveV3)
	if cfg.Middleware != nil {
		s.v3 = cfg.Middleware(s.v3)
	}
	return s
}

// AddKey makes key a valid api-key as well, named "".
func (s *Server) AddKey(key string) { s.AddNamedKey(key, "") }

// AddNamedKey makes key a valid api-key named name: webhooks report the
// changes made with it with that api_key_name.
func (s *Server) AddNamedKey(key, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = name
}

// Reset forgets every contact, import, custom attribute, folder, list, counter
// and rate-limit window, as if the account were new. API keys are kept.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset()
}

func (s *Server) reset() {
	s.attrs = defaultAttributes()
	s.attrIdx = map[string]uint16{}
	for i, a := range s.attrs {
		s.attrIdx[a.name] = uint16(i)
	}
	s.st = newStore()
	s.st.onChange, s.st.onRemove = s.contactChanged, s.contactRemoved
	s.hooks = hookState{}
	s.imports = importQueue{}
	s.stats = counters{requests: map[string]int{}, unknownAttributes: map[string]int{}, unknownFields: map[string]int{}}
	s.limits = newPools()
	s.cat = newCatalog(s.cfg.Now())
	s.events = eventStore{byContact: map[int][]Event{}}
	s.shop = newShop()
	s.listCalls = listCallLog{}
}

func (s *Server) routes() {
	s.api = http.NewServeMux()
	s.api.HandleFunc("GET /v3/contacts/attributes", s.listAttributes)
	s.api.HandleFunc("POST /v3/contacts/attributes/{attributeCategory}/{attributeName}", s.createAttribute)
	s.api.HandleFunc("GET /v3/contacts", s.listContacts)
	s.api.HandleFunc("POST /v3/contacts", s.createContact)
	s.api.HandleFunc("GET /v3/contacts/{identifier}", s.getContact)
	s.api.HandleFunc("PUT /v3/contacts/{identifier}", s.updateContact)
	s.api.HandleFunc("POST /v3/contacts/import", s.importContacts)
	s.api.HandleFunc("GET /v3/contacts/folders", s.listFolders)
	s.api.HandleFunc("POST /v3/contacts/folders", s.createFolder)
	s.api.HandleFunc("GET /v3/contacts/folders/{folderId}", s.getFolder)
	s.api.HandleFunc("GET /v3/contacts/folders/{folderId}/lists", s.getFolderLists)
	s.api.HandleFunc("GET /v3/contacts/lists", s.listLists)
	s.api.HandleFunc("POST /v3/contacts/lists", s.createList)
	s.api.HandleFunc("GET /v3/contacts/lists/{listId}", s.getList)
	s.api.HandleFunc("GET /v3/contacts/lists/{listId}/contacts", s.listMembers)
	s.api.HandleFunc("POST /v3/contacts/lists/{listId}/contacts/add", s.addToList)
	s.api.HandleFunc("POST /v3/contacts/lists/{listId}/contacts/remove", s.removeFromList)
	s.api.HandleFunc("GET /v3/processes", s.listProcesses)
	s.api.HandleFunc("GET /v3/processes/{processId}", s.getProcess)
	s.api.HandleFunc("GET /v3/account", s.getAccount)
	s.api.HandleFunc("POST /v3/events", s.createEvent)
	s.api.HandleFunc("POST /v3/events/batch", s.createBatchEvents)
	s.api.HandleFunc("DELETE /v3/contacts/{identifier}", s.deleteContact)
	s.api.HandleFunc("POST /v3/webhooks", s.createWebhook)
	s.api.HandleFunc("GET /v3/webhooks", s.listWebhooks)
	s.api.HandleFunc("GET /v3/webhooks/{webhookId}", s.getWebhook)
	s.api.HandleFunc("DELETE /v3/webhooks/{webhookId}", s.deleteWebhook)

	s.admin = http.NewServeMux()
	s.admin.HandleFunc("GET /_admin/state", s.adminState)
	s.admin.HandleFunc("GET /_admin/contacts", s.adminContacts)
	s.admin.HandleFunc("GET /_admin/contacts/{id}/events", s.adminContactEvents)
	s.admin.HandleFunc("POST /_admin/reset", s.adminReset)
	s.routeProducts()
	s.admin.HandleFunc("GET /_admin/lists/calls", s.adminListCalls)
	s.admin.HandleFunc("POST /_admin/contacts/{id}", s.adminEditContact)
	s.admin.HandleFunc("DELETE /_admin/contacts/{id}", s.adminDeleteContact)
}

// statusWriter remembers the status for the request counters.
type statusWriter struct {
	http.ResponseWriter
	status int
	fault  string // pseudo-status of a fault that left none ("reset")
}

// RecordFault is how the fault middleware reports an answer it cut.
func (w *statusWriter) RecordFault(status string) { w.fault = status }

// Unwrap lets http.ResponseController reach the connection (to hijack it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP counts every /v3 request by route and status, and serves it
// (serveV3) behind Config.Middleware.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_admin/") {
		s.admin.ServeHTTP(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	_, pattern := s.api.Handler(r)
	defer func() {
		key := pattern
		if key == "" {
			key = r.Method + " <unmatched>"
		}
		status := strconv.Itoa(sw.status)
		if sw.fault != "" {
			status = sw.fault
		}
		s.mu.Lock()
		s.stats.requests[key+" "+status]++
		s.mu.Unlock()
	}()
	s.v3.ServeHTTP(sw, r)
}

// serveV3 authenticates and rate-limits a /v3 request, then routes it.
func (s *Server) serveV3(w http.ResponseWriter, r *http.Request) {
	_, pattern := s.api.Handler(r)
	if pattern == "" {
		writeError(w, s.unrouted(r))
		return
	}
	name, ok := s.keyName(r.Header.Get("api-key"))
	if !ok {
		writeError(w, &apiError{Status: http.StatusUnauthorized, Code: codeUnauthorized, Message: "Key not found"})
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), actorKey{}, name))
	if s.cfg.RateLimit {
		_, path, _ := strings.Cut(pattern, " ")
		s.mu.Lock()
		q, ok := s.limits[poolOf(path)].take(s.cfg.Now())
		s.mu.Unlock()
		q.setHeaders(w.Header())
		if !ok {
			writeError(w, &apiError{Status: http.StatusTooManyRequests, Code: codeTooManyRequests,
				Message: "The expected rate limit is exceeded."})
			return
		}
	}
	s.api.ServeHTTP(w, r)
}

// unrouted answers a path no route serves: 405 when another method would match.
func (s *Server) unrouted(r *http.Request) *apiError {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.api.Handler(probe); p != "" {
			return &apiError{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed,
				Message: r.Method + " Method is not allowed on this path"}
		}
	}
	return notFound("Invalid route: " + r.URL.Path)
}

// keyName is the name of an accepted key; ok is false for any other.
func (s *Server) keyName(key string) (name string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, ok = s.keys[key]
	return name, ok && key != ""
}

type actorKey struct{}

// lockAs is lock for a request that changes contacts: the changes it makes
// are reported to webhooks as made through its key.
func (s *Server) lockAs(r *http.Request) time.Time {
	now := s.lock()
	s.actor, _ = r.Context().Value(actorKey{}).(string)
	return now
}

// lock takes the state lock and brings import processes up to the current time;
// every handler starts with it so progress never depends on who is polling.
func (s *Server) lock() time.Time {
	s.mu.Lock()
	now := s.cfg.Now()
	s.advanceImports(now)
	s.actor = ""
	return now
}
