package gateway

import (
	"embed"
	"net/http"
)

// The status page: plain HTML, CSS and JS, served from the binary. The
// page itself holds no data and is served to anyone; its script asks for
// an API key once, keeps it in the tab's sessionStorage and sends it as
// "Authorization: Bearer" to GET /v1/connectors/braze/status, so the
// figures are behind the API keys like every other call (a key never
// travels in a URL, where access logs and histories would keep it).
//
//go:embed statuspage/index.html statuspage/status.js statuspage/status.css
var pageFiles embed.FS

// pageAssets are the page's files under /ui/, with their content types.
var pageAssets = map[string]string{
	"status.js":  "text/javascript; charset=utf-8",
	"status.css": "text/css; charset=utf-8",
}

// pageCSP lets the page load its own script and style and call its own
// origin, nothing else: no inline script, no third party, no framing.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// pageRoutes registers the status page: GET / and its assets.
func (s *Server) pageRoutes() {
	s.mux.Handle("GET /{$}", s.wrap(authNone, func(w http.ResponseWriter, r *http.Request) {
		servePage(w, "statuspage/index.html", "text/html; charset=utf-8")
	}))
	s.mux.Handle("GET /ui/{file}", s.wrap(authNone, func(w http.ResponseWriter, r *http.Request) {
		file := r.PathValue("file")
		ctype, ok := pageAssets[file]
		if !ok {
			writeError(w, http.StatusNotFound, "not_found", "no such file of the status page")
			return
		}
		servePage(w, "statuspage/"+file, ctype)
	}))
}

func servePage(w http.ResponseWriter, name, ctype string) {
	b, err := pageFiles.ReadFile(name)
	if err != nil { // embedded at build time: cannot happen
		writeError(w, http.StatusInternalServerError, "internal", "the status page is missing from this build")
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}
