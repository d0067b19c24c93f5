package braze

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// Permissions a REST API key may hold (Braze names them after the endpoint).
const (
	PermSegmentsList      = "segments.list"
	PermUsersExportSeg    = "users.export.segment"
	PermUsersExportIDs    = "users.export.ids"
	PermCampaignsList     = "campaigns.list"
	PermUsersTrack        = "users.track"
	defaultExportDelay    = 300 * time.Millisecond
	defaultUsersPerFile   = 5000
	exportLifetime        = 4 * time.Hour
	maxConcurrentExports  = 100
	maxExportIDsPerLookup = 50
)

// Config configures a Server.
type Config struct {
	// APIKey is the key with every permission. Required.
	APIKey string `yaml:"api_key"`
	// Gen produces the workspace's users. Default: gen.New(1, 10000).
	Gen *gen.Generator `yaml:"-"`
	// ExportDelay is how long a segment export takes to become downloadable.
	// Default 300ms; negative means ready at once.
	ExportDelay time.Duration `yaml:"export_delay"`
	// RateLimit makes requests over the budget fail with 429. The
	// X-RateLimit-* headers are sent either way.
	RateLimit bool `yaml:"rate_limit"`
	// Limits overrides Braze's budgets (zero fields keep Braze's values).
	Limits Limits `yaml:"limits"`
	// UsersPerFile is how many users go in one file of an export ZIP.
	// Default 5,000, as Braze does.
	UsersPerFile int `yaml:"users_per_file"`
	// StoreExports writes ZIP entries uncompressed instead of deflated,
	// trading bandwidth for CPU in benchmarks.
	StoreExports bool `yaml:"store_exports"`
	// BaseURL returns the scheme and host export URLs point at. Default: the
	// Host of the export request (see also SetBaseURL).
	BaseURL func() string `yaml:"-"`
	// Now is the clock for rate limits and export readiness. Default time.Now.
	Now func() time.Time `yaml:"-"`
	// CatalogItems, when positive, gives the workspace a catalog named
	// "products" of that many generated items (GenerateItems).
	CatalogItems int `yaml:"catalog_items"`
	// Middleware, when set, wraps every route (the sandbox's fault
	// injection). Requests are counted outside it; a writer's
	// RecordFault(status) replaces the status counted.
	Middleware func(http.Handler) http.Handler `yaml:"-"`
}

// Server is the simulator, an http.Handler.
type Server struct {
	cfg      Config
	mux      *http.ServeMux
	handler  http.Handler // mux behind Config.Middleware
	segments []segment
	segIndex map[string]int
	callback *http.Client

	mu             sync.Mutex
	baseURL        string
	keys           map[string]map[string]bool // key -> permissions; nil: all
	changes        map[int]gen.Change         // only users that changed
	moved          map[int]map[int]bool       // segment -> users moved in (true) or out (segments_membership.go)
	exports        map[string]*export
	exportsStarted int
	requests       map[string]int
	buckets        map[string]*bucket
	catalogs       map[string]*catalogData // catalogs.go
	an             *analyticsData          // analytics.go
	closed         bool
	closing        context.Context // done once Close is called: stops the exports being made
	close          context.CancelFunc
	timers         map[*time.Timer]bool
	wg             sync.WaitGroup

	// What the write endpoints changed (profiles.go, track.go).
	profiles                       map[int]*profile
	created                        []created
	createdByExt, createdByBrazeID map[string]int
	createdByAlias                 map[string]int // label + "\x00" + name
	trackLog                       []TrackCall
	emailLog                       []EmailStatusCall
	subLog                         []SubscriptionCall
	groups                         map[string]map[string]string // group -> identifier -> state
	trackFail                      map[string]int               // identifier -> failures left
	trackedEvents                  int
	trackedPurchases               int
}

// New returns a simulator. It panics when cfg.APIKey is empty, as there would
// be no way to call it.
func New(cfg Config) *Server {
	if cfg.APIKey == "" {
		panic("braze.New: Config.APIKey is required")
	}
	if cfg.Gen == nil {
		cfg.Gen = gen.New(1, 10000)
	}
	if cfg.ExportDelay == 0 {
		cfg.ExportDelay = defaultExportDelay
	}
	if cfg.ExportDelay < 0 {
		cfg.ExportDelay = 0
	}
	if cfg.UsersPerFile <= 0 {
		cfg.UsersPerFile = defaultUsersPerFile
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Limits = cfg.Limits.withDefaults()
	s := &Server{
		cfg:      cfg,
		mux:      http.NewServeMux(),
		segments: catalog(),
		callback: &http.Client{Timeout: 5 * time.Second},
		keys:     map[string]map[string]bool{cfg.APIKey: nil},
		changes:  map[int]gen.Change{},
		moved:    map[int]map[int]bool{},
		exports:  map[string]*export{},
		requests: map[string]int{},
		timers:   map[*time.Timer]bool{},

		profiles: map[int]*profile{}, createdByExt: map[string]int{}, createdByBrazeID: map[string]int{},
		createdByAlias: map[string]int{}, groups: map[string]map[string]string{}, trackFail: map[string]int{},
		buckets: map[string]*bucket{
			bucketDefault:   {limit: cfg.Limits.DefaultPerHour, window: time.Hour},
			bucketExportIDs: {limit: cfg.Limits.ExportIDsPerMinute, window: time.Minute},
		},
	}
	s.closing, s.close = context.WithCancel(context.Background())
	s.segIndex = make(map[string]int, len(s.segments))
	for k, sg := range s.segments {
		s.segIndex[sg.id] = k
	}
	s.mux.Handle("GET /segments/list", s.api(PermSegmentsList, bucketDefault, s.listSegments))
	s.mux.Handle("POST /users/export/segment", s.api(PermUsersExportSeg, bucketDefault, s.exportSegment))
	s.mux.Handle("POST /users/export/ids", s.api(PermUsersExportIDs, bucketExportIDs, s.exportIDs))
	s.routeCampaigns()
	s.routeAnalytics()
	s.routeEvents()
	s.routePermissions()
	s.routeCatalogs()
	if cfg.CatalogItems > 0 {
		_ = s.PutCatalog(DefaultCatalog, GenerateItems("sku", cfg.CatalogItems, 1)) // generated: valid
	}
	s.mux.HandleFunc("GET /_exports/{file}", s.download)
	s.mux.Handle("GET /_admin/state", loopbackOnly(s.adminState))
	s.mux.Handle("POST /_admin/users/mutate", loopbackOnly(s.adminMutate))
	s.mux.Handle("GET /_admin/segments/{id}", loopbackOnly(s.adminSegment))
	s.mux.Handle("POST /_admin/segments/{id}/members", loopbackOnly(s.adminMembers))
	s.mux.Handle("GET /_admin/track", loopbackOnly(s.adminTrack))
	s.mux.Handle("POST /_admin/track/fail", loopbackOnly(s.adminTrackFail))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not Found: "+r.Method+" "+r.URL.Path)
	})
	s.handler = s.mux
	if cfg.Middleware != nil {
		s.handler = cfg.Middleware(s.mux)
	}
	return s
}

// AddKey adds a REST API key holding only the given permissions
// (PermSegmentsList, ...). A key without the permission an endpoint needs
// gets 403 Access Denied.
func (s *Server) AddKey(key string, permissions ...string) {
	perms := make(map[string]bool, len(permissions))
	for _, p := range permissions {
		perms[p] = true
	}
	s.mu.Lock()
	s.keys[key] = perms
	s.mu.Unlock()
}

// SetBaseURL makes export URLs start with base ("http://127.0.0.1:1234"),
// for when the Host a client uses is not the one it should download from.
func (s *Server) SetBaseURL(base string) {
	s.mu.Lock()
	s.baseURL = strings.TrimRight(base, "/")
	s.mu.Unlock()
}

// Close stops pending export callbacks and waits for those in flight.
func (s *Server) Close() {
	s.close()
	s.mu.Lock()
	s.closed = true
	for t := range s.timers {
		if t.Stop() {
			s.wg.Done()
		}
	}
	clear(s.timers)
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	for _, ex := range s.exports {
		if ex.readers == 0 {
			ex.release()
		}
	}
	s.mu.Unlock()
}

// ServeHTTP serves the API and counts each request by method, path template
// and status for Requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.handler.ServeHTTP(rec, r)
	tpl := r.Pattern
	if tpl == "" { // a middleware answered before routing
		_, tpl = s.mux.Handler(r)
	}
	if _, path, ok := strings.Cut(tpl, " "); ok {
		tpl = path
	}
	if tpl == "/" || tpl == "" {
		tpl = "unmatched"
	}
	s.mu.Lock()
	status := strconv.Itoa(rec.status)
	if rec.fault != "" {
		status = rec.fault
	}
	s.requests[r.Method+" "+tpl+" "+status]++
	s.mu.Unlock()
}

// Requests returns how many requests were served, keyed by
// "METHOD path-template status" (e.g. "GET /segments/list 200").
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.requests))
	for k, v := range s.requests {
		out[k] = v
	}
	return out
}

// api wraps an endpoint with Braze's checks, in Braze's order: the key, then
// the rate limit (whose headers every answer carries, a 401 too), then the
// key's permission.
func (s *Server) api(perm, bucketName string, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		perms, known := s.keys[strings.TrimSpace(key)]
		b := s.buckets[bucketName]
		if !ok || !known {
			// Braze sends its rate-limit headers on every answer, a 401
			// included; a request it cannot attribute to a key spends nothing.
			remaining, reset := b.peek(s.cfg.Now())
			s.mu.Unlock()
			setRateLimitHeaders(w.Header(), b.limit, remaining, reset)
			writeError(w, http.StatusUnauthorized, "Invalid API key: "+mask(key))
			return
		}
		remaining, reset, within := b.take(s.cfg.Now())
		s.mu.Unlock()
		setRateLimitHeaders(w.Header(), b.limit, remaining, reset)
		if !within && s.cfg.RateLimit {
			writeError(w, http.StatusTooManyRequests, "API rate limit exceeded: "+strconv.Itoa(b.limit)+" requests per "+b.window.String())
			return
		}
		if perms != nil && !perms[perm] {
			writeError(w, http.StatusForbidden, "Access Denied")
			return
		}
		next(w, r)
	})
}

// mask shows enough of a key to recognise it in a log, not to use it.
func mask(key string) string {
	if len(key) <= 6 {
		return strings.Repeat("*", len(key))
	}
	return key[:4] + strings.Repeat("*", len(key)-4)
}

// errorBody is Braze's error shape.
type errorBody struct {
	Message string   `json:"message"`
	Errors  []string `json:"errors"`
}

func writeError(w http.ResponseWriter, status int, msg string, details ...string) {
	if details == nil {
		details = []string{}
	}
	writeJSON(w, status, errorBody{Message: msg, Errors: details})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client hung up: nothing to do
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	fault       string // pseudo-status of a fault that left none ("reset")
}

// RecordFault is how the fault middleware reports an answer it cut.
func (r *statusRecorder) RecordFault(status string) { r.fault = status }

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	r.wroteHeader = true
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer (to flush).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// loopbackOnly guards the admin API: it takes no key, so it must not be
// reachable from another machine even when the simulator listens widely.
func loopbackOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			writeError(w, http.StatusForbidden, "Access Denied", "the admin API answers loopback clients only")
			return
		}
		h(w, r)
	})
}
