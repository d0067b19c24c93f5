package braze

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// bucketDataSeries is the client's record of /campaigns/data_series's
// budget (50,000 a minute).
const bucketDataSeries = "campaigns.data_series"

// ListPageSize is how many campaigns or Canvases a list page holds; a
// shorter page is the last.
const ListPageSize = 100

// MaxCampaignSeriesDays and MaxCanvasSeriesDays bound the length of one
// data_series read.
const (
	MaxCampaignSeriesDays = 100
	MaxCanvasSeriesDays   = 14
)

// Listed is one entry of GET /campaigns/list or GET /canvas/list.
type Listed struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	LastEdited    string   `json:"last_edited"`
	IsAPICampaign bool     `json:"is_api_campaign"`
	Tags          []string `json:"tags"`
}

// ListQuery is what a list page asks for.
type ListQuery struct {
	Page int
	// EditedAfter, when set, lists only what was edited after it
	// (last_edit.time[gt]).
	EditedAfter time.Time
	// IncludeArchived lists archived ones too.
	IncludeArchived bool
}

func (q ListQuery) values() url.Values {
	v := url.Values{"page": {strconv.Itoa(q.Page)}, "sort_direction": {"asc"}}
	if q.IncludeArchived {
		v.Set("include_archived", "true")
	}
	if !q.EditedAfter.IsZero() {
		v.Set("last_edit.time[gt]", q.EditedAfter.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return v
}

// ListCampaigns reads one page of campaigns, oldest first.
func (c *Client) ListCampaigns(ctx context.Context, q ListQuery) ([]Listed, error) {
	var out struct {
		Campaigns []Listed `json:"campaigns"`
	}
	if err := c.do(ctx, apiCall{method: http.MethodGet, path: "/campaigns/list", query: q.values(), bucket: bucketDefault}, &out); err != nil {
		return nil, fmt.Errorf("listing campaigns page %d: %w", q.Page, err)
	}
	return out.Campaigns, nil
}

// ListCanvases reads one page of Canvases, oldest first.
func (c *Client) ListCanvases(ctx context.Context, q ListQuery) ([]Listed, error) {
	var out struct {
		Canvases []Listed `json:"canvases"`
	}
	if err := c.do(ctx, apiCall{method: http.MethodGet, path: "/canvas/list", query: q.values(), bucket: bucketDefault}, &out); err != nil {
		return nil, fmt.Errorf("listing Canvases page %d: %w", q.Page, err)
	}
	return out.Canvases, nil
}

// CampaignDetails is GET /campaigns/details's answer (the fields kept).
type CampaignDetails struct {
	Name      string   `json:"name"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
	Archived  bool     `json:"archived"`
	Draft     bool     `json:"draft"`
	Channels  []string `json:"channels"`
	FirstSent string   `json:"first_sent"`
	LastSent  string   `json:"last_sent"`
	Tags      []string `json:"tags"`
}

// CampaignDetails reads a campaign's details.
func (c *Client) CampaignDetails(ctx context.Context, id string) (CampaignDetails, error) {
	var out CampaignDetails
	err := c.do(ctx, apiCall{method: http.MethodGet, path: "/campaigns/details",
		query: url.Values{"campaign_id": {id}}, bucket: bucketDefault}, &out)
	if err != nil {
		return out, fmt.Errorf("reading campaign %s: %w", id, err)
	}
	return out, nil
}

// CanvasDetails is GET /canvas/details's answer (the fields kept).
type CanvasDetails struct {
	Name       string          `json:"name"`
	CreatedAt  string          `json:"created_at"`
	UpdatedAt  string          `json:"updated_at"`
	Archived   bool            `json:"archived"`
	Draft      bool            `json:"draft"`
	FirstEntry string          `json:"first_entry"`
	LastEntry  string          `json:"last_entry"`
	Channels   []string        `json:"channels"`
	Tags       []string        `json:"tags"`
	Variants   []CanvasVariant `json:"variants"`
	Steps      []CanvasStep    `json:"steps"`
}

// CanvasVariant is one variant of a Canvas.
type CanvasVariant struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	FirstStepIDs []string `json:"first_step_ids"`
}

// CanvasStep is one step of a Canvas.
type CanvasStep struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	NextStepIDs []string `json:"next_step_ids"`
	Channels    []string `json:"channels"`
}

// CanvasDetails reads a Canvas's details.
func (c *Client) CanvasDetails(ctx context.Context, id string) (CanvasDetails, error) {
	var out CanvasDetails
	err := c.do(ctx, apiCall{method: http.MethodGet, path: "/canvas/details",
		query: url.Values{"canvas_id": {id}}, bucket: bucketDefault}, &out)
	if err != nil {
		return out, fmt.Errorf("reading Canvas %s: %w", id, err)
	}
	return out, nil
}

// Stats is one set of message statistics, as Braze names them ("sent",
// "unique_opens", "direct_opens", "body_clicks", ...): numbers only.
type Stats map[string]float64

// UnmarshalJSON keeps the numeric fields of a statistics object (names,
// such as variation_name, are left out).
func (s *Stats) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Stats, len(raw))
	for k, v := range raw {
		var f float64
		if json.Unmarshal(v, &f) == nil {
			out[k] = f
		}
	}
	*s = out
	return nil
}

// Messages are a day's statistics per channel ("email", "ios_push", ...),
// one entry per message variation.
type Messages map[string][]Stats

// CampaignDay is one day of GET /campaigns/data_series.
type CampaignDay struct {
	Time             string   `json:"time"`
	Messages         Messages `json:"messages"`
	Conversions      float64  `json:"conversions"`
	Revenue          float64  `json:"revenue"`
	UniqueRecipients float64  `json:"unique_recipients"`
}

// CampaignDataSeries reads length days (1 to 100) of a campaign's daily
// statistics, ending on the day of endingAt.
func (c *Client) CampaignDataSeries(ctx context.Context, id string, endingAt time.Time, length int) ([]CampaignDay, error) {
	if length < 1 || length > MaxCampaignSeriesDays {
		return nil, fmt.Errorf("reading campaign %s statistics: length %d, want 1 to %d", id, length, MaxCampaignSeriesDays)
	}
	var out struct {
		Data []CampaignDay `json:"data"`
	}
	err := c.do(ctx, apiCall{method: http.MethodGet, path: "/campaigns/data_series", bucket: bucketDataSeries,
		query: url.Values{"campaign_id": {id}, "length": {strconv.Itoa(length)}, "ending_at": {endOfDay(endingAt)}}}, &out)
	if err != nil {
		return nil, fmt.Errorf("reading campaign %s statistics: %w", id, err)
	}
	return out.Data, nil
}

// CanvasTotals are a Canvas's (or a variant's) figures of a day.
type CanvasTotals struct {
	Name                   string  `json:"name"`
	Revenue                float64 `json:"revenue"`
	Conversions            float64 `json:"conversions"`
	ConversionsByEntryTime float64 `json:"conversions_by_entry_time"`
	Entries                float64 `json:"entries"`
}

// CanvasStepStats are a step's figures of a day.
type CanvasStepStats struct {
	Name                   string   `json:"name"`
	Revenue                float64  `json:"revenue"`
	Conversions            float64  `json:"conversions"`
	ConversionsByEntryTime float64  `json:"conversions_by_entry_time"`
	Messages               Messages `json:"messages"`
}

// CanvasDay is one day of GET /canvas/data_series.
type CanvasDay struct {
	Time         string                     `json:"time"`
	TotalStats   CanvasTotals               `json:"total_stats"`
	VariantStats map[string]CanvasTotals    `json:"variant_stats"`
	StepStats    map[string]CanvasStepStats `json:"step_stats"`
}

// CanvasDataSeries reads length days (1 to 14) of a Canvas's daily
// statistics ending on the day of endingAt, with the step and variant
// breakdowns.
func (c *Client) CanvasDataSeries(ctx context.Context, id string, endingAt time.Time, length int) ([]CanvasDay, error) {
	if length < 1 || length > MaxCanvasSeriesDays {
		return nil, fmt.Errorf("reading Canvas %s statistics: length %d, want 1 to %d", id, length, MaxCanvasSeriesDays)
	}
	var out struct {
		Data struct {
			Name  string      `json:"name"`
			Stats []CanvasDay `json:"stats"`
		} `json:"data"`
	}
	err := c.do(ctx, apiCall{method: http.MethodGet, path: "/canvas/data_series", bucket: bucketDefault,
		query: url.Values{"canvas_id": {id}, "length": {strconv.Itoa(length)}, "ending_at": {endOfDay(endingAt)},
			"include_variant_breakdown": {"true"}, "include_step_breakdown": {"true"}}}, &out)
	if err != nil {
		return nil, fmt.Errorf("reading Canvas %s statistics: %w", id, err)
	}
	return out.Data.Stats, nil
}

// endOfDay is the last second of t's day (UTC), as ending_at.
func endOfDay(t time.Time) string {
	d := t.UTC().Truncate(24 * time.Hour)
	return d.Add(24*time.Hour - time.Second).Format("2006-01-02T15:04:05Z")
}
