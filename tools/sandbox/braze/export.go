package braze

import (
	"archive/zip"
	"bufio"
	"bytes"

	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// export is one requested segment export. It keeps the changes users had
// when it was requested, so a download shows that moment, as Braze's does.
type export struct {
	id        string
	prefix    string
	segment   *segment
	requested time.Time
	ready     time.Time
	changes   map[int]gen.Change
	moved     map[int]bool     // the segment's moved users when requested
	profiles  map[int]*profile // what the API wrote, as of the request
	created   []created        // users the API created, as of the request
	filter    *gen.Filter
	// file is the archive, made as soon as the export is requested (Braze
	// prepares the file before it is ready: its download is a transfer,
	// not the making of it) into an unlinked temporary file, and kept
	// until its first download whole; made is closed once it is (file
	// nil: making it failed). A later download makes it again, as it
	// streams.
	file    *os.File
	size    int64
	made    chan struct{}
	readers int  // downloads reading file
	done    bool // downloaded whole once
}

type exportSegmentRequest struct {
	SegmentID                string   `json:"segment_id"`
	FieldsToExport           []string `json:"fields_to_export"`
	CustomAttributesToExport []string `json:"custom_attributes_to_export"`
	CallbackEndpoint         string   `json:"callback_endpoint"`
	OutputFormat             string   `json:"output_format"`
}

// exportSegment serves POST /users/export/segment: it answers at once with
// the URL the ZIP will be served at once ready.
func (s *Server) exportSegment(w http.ResponseWriter, r *http.Request) {
	var req exportSegmentRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.SegmentID == "" {
		writeError(w, http.StatusBadRequest, "Missing segment_id", "segment_id is required")
		return
	}
	if len(req.FieldsToExport) == 0 {
		// Required since December 2021, when Braze dropped the default of
		// exporting every field (the spec's description says so).
		writeError(w, http.StatusBadRequest, "Missing fields_to_export", "fields_to_export is required")
		return
	}
	k, ok := s.segIndex[req.SegmentID]
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid segment_id: "+req.SegmentID, "no segment with this id")
		return
	}
	switch req.OutputFormat {
	case "", "zip":
	case "gzip": // Braze only honours it with the customer's own S3 bucket
	default:
		writeError(w, http.StatusBadRequest, "Invalid output_format: "+req.OutputFormat, "output_format must be zip or gzip")
		return
	}
	if req.CallbackEndpoint != "" {
		u, err := url.Parse(req.CallbackEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			writeError(w, http.StatusBadRequest, "Invalid callback_endpoint", "callback_endpoint must be an http(s) URL")
			return
		}
	}
	now := s.cfg.Now()
	id := randomHex(16)
	ex := &export{
		id:        id,
		prefix:    fmt.Sprintf("%s-%s-%s-%s-%s-%d", id[:8], id[8:12], id[12:16], id[16:20], id[20:], now.Unix()),
		segment:   &s.segments[k],
		requested: now,
		ready:     now.Add(s.cfg.ExportDelay),
		filter:    exportFilter(req.FieldsToExport, req.CustomAttributesToExport),
	}
	base := s.base(r)
	s.mu.Lock()
	running := 0
	for eid, other := range s.exports {
		switch {
		case now.Sub(other.requested) > exportLifetime:
			if other.readers == 0 {
				other.release()
			}
			delete(s.exports, eid) // memory stays bounded by the live exports
		case now.Before(other.ready):
			running++
			if other.segment == ex.segment {
				s.mu.Unlock()
				writeError(w, http.StatusTooManyRequests, "An export of this segment is already in progress",
					"wait for export "+other.prefix+" to complete before retrying")
				return
			}
		}
	}
	if running >= maxConcurrentExports {
		s.mu.Unlock()
		writeError(w, http.StatusTooManyRequests, "Too many concurrent exports", strconv.Itoa(maxConcurrentExports)+" exports are already running")
		return
	}
	ex.changes = maps.Clone(s.changes)
	ex.moved = maps.Clone(s.moved[k])
	ex.profiles = maps.Clone(s.profiles) // profiles are replaced, never changed: a shallow copy is a snapshot
	ex.created = slices.Clone(s.created)
	s.exports[id] = ex
	s.exportsStarted++
	ex.made = make(chan struct{})
	s.wg.Add(1)
	go s.prepare(ex)
	s.mu.Unlock()

	downloadURL := base + "/_exports/" + id + ".zip"
	if req.CallbackEndpoint != "" {
		s.scheduleCallback(req.CallbackEndpoint, downloadURL)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"message": "success", "object_prefix": ex.prefix, "url": downloadURL})
}

// exportFilter turns Braze's request fields into a gen.Filter: only the
// fields_to_export and braze_id; custom_attributes among them means every
// custom attribute, else custom_attributes_to_export picks some.
func exportFilter(fields, customAttrs []string) *gen.Filter {
	f := &gen.Filter{Fields: map[string]bool{"braze_id": true}}
	for _, k := range fields {
		f.Fields[k] = true
	}
	if customAttrs != nil {
		f.CustomAttributes = make(map[string]bool, len(customAttrs))
		for _, k := range customAttrs {
			f.CustomAttributes[k] = true
		}
	}
	return f
}

// scheduleCallback posts {"success":true,"url":...} once the export is
// ready, as Braze does for callback_endpoint. Failures are Braze's to ignore.
func (s *Server) scheduleCallback(endpoint, downloadURL string) {
	body, _ := json.Marshal(map[string]any{"success": true, "url": downloadURL})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(s.cfg.ExportDelay, func() {
		defer s.wg.Done()
		s.mu.Lock()
		delete(s.timers, t)
		s.mu.Unlock()
		resp, err := s.callback.Post(endpoint, "application/json", bytes.NewReader(body))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	s.timers[t] = true
}

// download serves an export URL the way S3 serves a presigned object:
// AccessDenied until ready, NoSuchKey once expired or never made.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	id, _ := strings.CutSuffix(r.PathValue("file"), ".zip")
	now := s.cfg.Now()
	s.mu.Lock()
	ex := s.exports[id]
	s.mu.Unlock()
	switch {
	case ex == nil || now.Sub(ex.requested) > exportLifetime:
		writeS3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	case now.Before(ex.ready):
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	select {
	case <-ex.made:
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+ex.prefix+`.zip"`)
	s.mu.Lock()
	f := ex.file
	if f != nil {
		ex.readers++
	}
	s.mu.Unlock()
	if f != nil {
		w.Header().Set("Content-Length", strconv.FormatInt(ex.size, 10))
		_, err := io.Copy(w, io.NewSectionReader(f, 0, ex.size))
		s.mu.Lock()
		ex.readers--
		ex.done = ex.done || err == nil
		if ex.done && ex.readers == 0 {
			ex.release() // the disk it took is given back
		}
		s.mu.Unlock()
		return
	}
	if err := s.writeZip(r.Context(), w, ex); err != nil {
		// Headers are gone: breaking the connection is how a client learns
		// the body is incomplete (it also sees a bad ZIP).
		panic(http.ErrAbortHandler)
	}
}

// prepare makes ex's archive, as Braze does between the request and the
// file being ready, until the server closes.
func (s *Server) prepare(ex *export) {
	defer s.wg.Done()
	defer close(ex.made)
	f, err := os.CreateTemp("", "braze-sim-export-*.zip")
	if err != nil {
		return // a download makes it as it streams
	}
	_ = os.Remove(f.Name()) // unlinked: its disk is given back when closed, whatever happens
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := s.writeZip(s.closing, bw, ex); err != nil || bw.Flush() != nil {
		f.Close()
		return
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		f.Close()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		f.Close()
		return
	}
	ex.file, ex.size = f, size
}

// release closes ex's file (s.mu held).
func (ex *export) release() {
	if ex.file != nil {
		ex.file.Close()
		ex.file = nil
	}
}

// writeZip streams the export: users are generated as the ZIP is written, so
// memory does not grow with the segment.
func (s *Server) writeZip(ctx context.Context, w io.Writer, ex *export) error {
	zw := zip.NewWriter(w)
	method := zip.Deflate
	if s.cfg.StoreExports {
		method = zip.Store
	}
	// klauspost's deflate: the simulator's compression, twice as fast as the
	// standard library's, is not what a sync is measured on.
	var fw *flate.Writer // entries are written one after the other: one compressor serves all
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		if fw == nil {
			var err error
			fw, err = flate.NewWriter(out, flate.BestSpeed)
			return fw, err
		}
		fw.Reset(out)
		return fw, nil
	})
	var (
		entry   io.Writer
		inEntry int
		files   int
		line    = make([]byte, 0, 4096)
		gn      = s.cfg.Gen
		mod     = ex.requested.UTC()
	)
	for i := range gn.N() + len(ex.created) {
		if i%4096 == 0 { // a gone client shows as a write error, but only once buffers fill
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("streaming export %s: %w", ex.id, err)
			}
		}
		if !inSegment(ex.segment, ex.moved, i) {
			continue
		}
		if entry == nil || inEntry == s.cfg.UsersPerFile {
			var err error
			entry, err = zw.CreateHeader(&zip.FileHeader{
				Name: ex.prefix + "/" + strconv.Itoa(files) + ".txt", Method: method, Modified: mod,
			})
			if err != nil {
				return fmt.Errorf("starting file %d of export %s: %w", files, ex.id, err)
			}
			files++
			inEntry = 0
		}
		p := ex.profiles[i]
		if p != nil && p.deleted {
			continue
		}
		var cr *created
		if k := i - gn.N(); k >= 0 {
			cr = &ex.created[k]
		}
		line = s.userLine(line[:0], i, ex.changes[i], p, cr, ex.filter, true)
		line = append(line, '\n')
		if _, err := entry.Write(line); err != nil {
			return fmt.Errorf("writing user %d of export %s: %w", i, ex.id, err)
		}
		inEntry++
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("finishing export %s: %w", ex.id, err)
	}
	return nil
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>",
		code, msg, strings.ToUpper(randomHex(8)))
}

// decodeBody reads a JSON request body, answering 400 when it is not one.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid request body", err.Error())
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid JSON in request body", err.Error())
		return false
	}
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func (s *Server) base(r *http.Request) string {
	if s.cfg.BaseURL != nil {
		return strings.TrimRight(s.cfg.BaseURL(), "/")
	}
	s.mu.Lock()
	base := s.baseURL
	s.mu.Unlock()
	if base != "" {
		return base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
