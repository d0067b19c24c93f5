package braze

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// segmentsPageSize is how many segments Braze returns per page; a shorter
// page is the last one.
const segmentsPageSize = 100

// maxSegmentPages stops a server that always answers full pages from
// keeping Segments in a loop forever.
const maxSegmentPages = 10_000

// Segment is one entry of GET /segments/list.
type Segment struct {
	ID                       string   `json:"id"`
	Name                     string   `json:"name"`
	AnalyticsTrackingEnabled bool     `json:"analytics_tracking_enabled"`
	Tags                     []string `json:"tags"`
}

// ListSegments returns one page (0-based) of non-archived segments, oldest
// first.
func (c *Client) ListSegments(ctx context.Context, page int) ([]Segment, error) {
	if page < 0 {
		return nil, fmt.Errorf("braze: listing segments: page %d is negative", page)
	}
	var out struct {
		Segments []Segment `json:"segments"`
	}
	err := c.do(ctx, apiCall{
		method: http.MethodGet,
		path:   "/segments/list",
		query:  url.Values{"page": {strconv.Itoa(page)}},
		bucket: bucketDefault,
	}, &out)
	if err != nil {
		return nil, err
	}
	return out.Segments, nil
}

// Segments returns every non-archived segment, reading pages until a short one.
func (c *Client) Segments(ctx context.Context) ([]Segment, error) {
	var all []Segment
	for page := range maxSegmentPages {
		segs, err := c.ListSegments(ctx, page)
		if err != nil {
			return nil, fmt.Errorf("listing segments page %d: %w", page, err)
		}
		all = append(all, segs...)
		if len(segs) < segmentsPageSize {
			return all, nil
		}
	}
	return nil, fmt.Errorf("braze: listing segments: still full pages after %d pages", maxSegmentPages)
}

// FindSegment returns the segment whose ID is nameOrID or, failing that, the
// only segment named nameOrID. Names are not unique in Braze: two segments
// with that name are an error rather than a guess.
func (c *Client) FindSegment(ctx context.Context, nameOrID string) (Segment, error) {
	segs, err := c.Segments(ctx)
	if err != nil {
		return Segment{}, fmt.Errorf("finding segment %q: %w", nameOrID, err)
	}
	var named []Segment
	for _, s := range segs {
		if s.ID == nameOrID {
			return s, nil
		}
		if s.Name == nameOrID {
			named = append(named, s)
		}
	}
	switch len(named) {
	case 0:
		return Segment{}, fmt.Errorf("finding segment %q: %w", nameOrID, ErrSegmentNotFound)
	case 1:
		return named[0], nil
	default:
		return Segment{}, fmt.Errorf("finding segment %q: %d segments have that name (ids %s, %s, ...): use the id",
			nameOrID, len(named), named[0].ID, named[1].ID)
	}
}
