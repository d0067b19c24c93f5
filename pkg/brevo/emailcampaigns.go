package brevo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// MaxEmailCampaignsPage is the most campaigns one GET /emailCampaigns
// page holds.
const MaxEmailCampaignsPage = 100

// EmailCampaign is one sent email campaign with its global statistics.
type EmailCampaign struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Subject  string `json:"subject"`
	Status   string `json:"status"`
	SentDate string `json:"sentDate"`
	Stats    EmailCampaignStats
}

// EmailCampaignStats are Brevo's globalStats of a campaign.
type EmailCampaignStats struct {
	Sent            int64 `json:"sent"`
	Delivered       int64 `json:"delivered"`
	UniqueViews     int64 `json:"uniqueViews"`
	Viewed          int64 `json:"viewed"`
	UniqueClicks    int64 `json:"uniqueClicks"`
	Clickers        int64 `json:"clickers"`
	Unsubscriptions int64 `json:"unsubscriptions"`
	HardBounces     int64 `json:"hardBounces"`
	SoftBounces     int64 `json:"softBounces"`
	Complaints      int64 `json:"complaints"`
}

// EmailCampaigns reads one page of sent email campaigns (newest first)
// with their global statistics; count is how many there are in all.
func (c *Client) EmailCampaigns(ctx context.Context, offset, limit int) (campaigns []EmailCampaign, count int64, err error) {
	if limit < 1 || limit > MaxEmailCampaignsPage || offset < 0 {
		return nil, 0, fmt.Errorf("brevo: listing email campaigns: limit %d (1 to %d), offset %d", limit, MaxEmailCampaignsPage, offset)
	}
	var out struct {
		Campaigns []struct {
			EmailCampaign
			Statistics struct {
				GlobalStats EmailCampaignStats `json:"globalStats"`
			} `json:"statistics"`
		} `json:"campaigns"`
		Count int64 `json:"count"`
	}
	q := url.Values{"status": {"sent"}, "statistics": {"globalStats"}, "excludeHtmlContent": {"true"},
		"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
	if _, err := c.do(ctx, apiCall{method: http.MethodGet, path: "/emailCampaigns", query: q}, &out); err != nil {
		return nil, 0, fmt.Errorf("listing email campaigns: %w", err)
	}
	campaigns = make([]EmailCampaign, len(out.Campaigns))
	for i, ec := range out.Campaigns {
		campaigns[i] = ec.EmailCampaign
		campaigns[i].Stats = ec.Statistics.GlobalStats
	}
	return campaigns, out.Count, nil
}
