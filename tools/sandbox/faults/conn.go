package faults

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
)

// drop ends a request without an answer by hijacking its connection and
// closing it: with rst, abortively (SO_LINGER 0), so the client reads
// "connection reset by peer" instead of an orderly end of stream. Whatever the
// handler wrote before is flushed first (that is how truncate cuts a body).
func drop(w http.ResponseWriter, rst bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not HTTP/1.x, or a writer that hides the connection: aborting the
		// handler is the only other way to cut the answer.
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok && rst {
		_ = tcp.SetLinger(0) // best effort: a plain close still fails the request
	}
	_ = conn.Close()
}

// maxBuffered is how much of an answer truncate holds to learn its length.
// Longer answers (export downloads) are cut after this much instead.
const maxBuffered = 1 << 20

// errCut is what truncate's writer returns once it has cut the answer, so a
// streaming handler stops producing what nobody will read.
var errCut = errors.New("faults: the answer was truncated on purpose")

// truncate runs next, then sends its status and headers with a correct
// Content-Length, only half the body, and closes the connection: the client
// reads an unexpected EOF. An answer with no body loses half its status line
// instead, and one over maxBuffered goes out chunked and stops after
// maxBuffered bytes.
func truncate(w http.ResponseWriter, r *http.Request, next http.Handler) {
	tw := &truncWriter{real: w, header: http.Header{}, status: http.StatusOK}
	func() {
		defer func() {
			// A streaming handler aborts when its write fails: expected here.
			if v := recover(); v != nil && (v != http.ErrAbortHandler || !tw.cut) {
				panic(v)
			}
		}()
		next.ServeHTTP(tw, r)
	}()
	if !tw.cut {
		body := tw.buf.Bytes()
		if len(body) == 0 {
			cutStatusLine(w, tw.status)
			return
		}
		tw.commit()
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(tw.status)
		_, _ = w.Write(body[:len(body)/2])
	}
	_ = http.NewResponseController(w).Flush() // Hijack flushes only what reached the connection's buffer
	drop(w, false)
}

// cutStatusLine writes half a status line on the raw connection and closes it.
func cutStatusLine(w http.ResponseWriter, status int) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	line := fmt.Sprintf("HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	_, _ = conn.Write([]byte(line[:len(line)/2]))
	_ = conn.Close()
}

// truncWriter holds the handler's answer for truncate, up to maxBuffered.
type truncWriter struct {
	real   http.ResponseWriter
	header http.Header
	status int
	wrote  bool // the status is set
	buf    bytes.Buffer
	cut    bool // the answer went out cut at maxBuffered
}

func (t *truncWriter) Header() http.Header { return t.header }

func (t *truncWriter) WriteHeader(status int) {
	if !t.wrote {
		t.status, t.wrote = status, true
	}
}

func (t *truncWriter) Write(p []byte) (int, error) {
	if t.cut {
		return 0, errCut
	}
	t.wrote = true
	room := maxBuffered - t.buf.Len()
	if len(p) <= room {
		return t.buf.Write(p)
	}
	t.buf.Write(p[:room])
	t.commit()
	t.real.WriteHeader(t.status)
	_, _ = t.real.Write(t.buf.Bytes())
	t.cut = true
	return room, errCut
}

// commit copies the handler's headers to the real writer.
func (t *truncWriter) commit() {
	h := t.real.Header()
	for k, v := range t.header {
		h[k] = v
	}
}

// discardWriter swallows an answer: for lost, the handler's work happens but
// its answer never leaves.
type discardWriter struct{ header http.Header }

func newDiscardWriter() *discardWriter { return &discardWriter{header: http.Header{}} }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
