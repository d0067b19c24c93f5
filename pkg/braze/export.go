package braze

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// ExportSegmentRequest is the body of POST /users/export/segment.
type ExportSegmentRequest struct {
	SegmentID string `json:"segment_id"`
	// FieldsToExport is required by Braze since 2021.
	FieldsToExport []string `json:"fields_to_export"`
	// CustomAttributesToExport limits custom attributes (up to 500) when
	// "custom_attributes" is not among FieldsToExport.
	CustomAttributesToExport []string `json:"custom_attributes_to_export,omitempty"`
	// CallbackEndpoint receives a POST once the export is ready.
	CallbackEndpoint string `json:"callback_endpoint,omitempty"`
	// OutputFormat "zip" (default) or "gzip"; gzip applies only to exports
	// written to the company's own bucket.
	OutputFormat string `json:"output_format,omitempty"`
}

// ExportSegmentResult is Braze's immediate answer to an export request.
type ExportSegmentResult struct {
	// URL is where the ZIP will be served once ready. Empty when the company
	// has its own cloud storage configured: the files land there instead.
	URL          string `json:"url"`
	ObjectPrefix string `json:"object_prefix"`
}

// ExportSegment starts an asynchronous export of every user in a segment.
// A second export of a segment while one runs is refused with an *APIError
// of status 429 (Retryable; RetryAfter is usually zero because the wait is
// for the export, not for a rate-limit window).
func (c *Client) ExportSegment(ctx context.Context, req ExportSegmentRequest) (ExportSegmentResult, error) {
	if req.SegmentID == "" {
		return ExportSegmentResult{}, errors.New("braze: exporting segment: SegmentID is empty")
	}
	if len(req.FieldsToExport) == 0 {
		return ExportSegmentResult{}, fmt.Errorf("braze: exporting segment %s: FieldsToExport is empty (Braze requires it)", req.SegmentID)
	}
	var out ExportSegmentResult
	err := c.do(ctx, apiCall{
		method: http.MethodPost,
		path:   "/users/export/segment",
		body:   req,
		bucket: bucketDefault,
	}, &out)
	if err != nil {
		return ExportSegmentResult{}, err
	}
	return out, nil
}

// DownloadExport streams the export at exportURL into w and returns the
// number of bytes written. Until the export is ready the URL answers 403 or
// 404, reported as ErrExportNotReady with nothing written. No Authorization
// header is sent: the URL is pre-signed. The URL must be https (plain http
// only to a loopback address, a local sandbox); a redirect is not followed;
// an export over Config.MaxExportBytes fails with ErrExportTooLarge. On any
// other error some bytes may already be in w; WaitExport handles that by
// opening a fresh writer.
func (c *Client) DownloadExport(ctx context.Context, exportURL string, w io.Writer) (int64, error) {
	return c.download(ctx, exportURL, func() (io.WriteCloser, error) { return nopCloser{w}, nil })
}

// ErrExportTooLarge is wrapped by the error of an export larger than the
// client's limits (Config.MaxExportBytes, MaxExportUncompressedBytes).
var ErrExportTooLarge = errors.New("braze: export too large")

// ErrExportURL is wrapped by the error of an export URL the client refuses
// to fetch. It is not retryable.
var ErrExportURL = errors.New("braze: export URL refused")

// checkExportURL accepts an absolute https URL, or http to a loopback
// address: the export is every user's e-mail and phone, and must not cross
// the network in clear. The URL is not echoed: its query is a signature.
func checkExportURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: downloading export: the export URL is not an absolute https URL", ErrExportURL)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && restcall.Loopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("%w: downloading export from %s: plain http is allowed only to a loopback address; the export must be served over https",
			ErrExportURL, u.Host)
	default:
		return nil, fmt.Errorf("%w: downloading export: the export URL is not an absolute https URL", ErrExportURL)
	}
	return u, nil
}

// download opens the destination only once the export answered 200, so a
// not-ready poll leaves no trace.
func (c *Client) download(ctx context.Context, exportURL string, open func() (io.WriteCloser, error)) (int64, error) {
	u, err := checkExportURL(exportURL)
	if err != nil {
		return 0, err
	}
	const method = http.MethodGet
	path := u.Path
	req, err := http.NewRequestWithContext(ctx, method, exportURL, nil)
	if err != nil {
		return 0, fmt.Errorf("braze: GET %s: building request: %w", path, restcall.StripURL(err))
	}
	req.Header.Set("User-Agent", c.userAgent)

	start := c.calls.Clock.Now()
	resp, err := c.calls.HTTP.Do(req)
	if err != nil {
		err = restcall.NewTransportError(ctx, Vendor, method, path, "sending request", err)
		c.calls.Observe(ctx, method, path, 0, start, err)
		return 0, err
	}
	defer restcall.CloseBody(resp.Body)

	var n int64
	switch code := resp.StatusCode; {
	case code == http.StatusOK && resp.ContentLength > c.maxExport:
		err = fmt.Errorf("braze: GET %s: %w: %d bytes announced, the limit is %d (Config.MaxExportBytes)",
			path, ErrExportTooLarge, resp.ContentLength, c.maxExport)
	case code == http.StatusOK:
		n, err = copyExport(ctx, path, resp.Body, c.maxExport, open)
	case code == http.StatusForbidden, code == http.StatusNotFound:
		err = fmt.Errorf("braze: GET %s: %w (status %d)", path, ErrExportNotReady, code)
	case restcall.IsRedirect(code):
		err = fmt.Errorf("braze: GET %s: %w", path, restcall.RedirectError(resp))
	default:
		rl, _ := restcall.BrazeHeaders.Read(resp.Header, c.calls.Clock.Now())
		err = newAPIError(method, path, resp, rl.Reset)
	}
	c.calls.Observe(ctx, method, path, resp.StatusCode, start, err)
	return n, err
}

// copyExport copies at most limit bytes of body into a destination open
// gives; a longer body is an ErrExportTooLarge.
func copyExport(ctx context.Context, path string, body io.Reader, limit int64, open func() (io.WriteCloser, error)) (int64, error) {
	w, err := open()
	if err != nil {
		return 0, fmt.Errorf("braze: downloading export %s: opening destination: %w", path, err)
	}
	src := &restcall.ReadErr{R: io.LimitReader(body, limit+1)}
	n, err := io.Copy(w, src)
	closeErr := w.Close()
	switch {
	case src.Err != nil:
		return n, restcall.NewTransportError(ctx, Vendor, http.MethodGet, path, fmt.Sprintf("reading export after %d bytes", n), src.Err)
	case err != nil:
		return n, fmt.Errorf("braze: downloading export %s: writing after %d bytes: %w", path, n, err)
	case n > limit:
		return n, fmt.Errorf("braze: downloading export %s: %w: over %d bytes (Config.MaxExportBytes)", path, ErrExportTooLarge, limit)
	case closeErr != nil:
		return n, fmt.Errorf("braze: downloading export %s: closing destination: %w", path, closeErr)
	}
	return n, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
