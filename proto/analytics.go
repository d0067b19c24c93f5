package proto

// Campaign and Canvas analytics: the extractor reads Braze's daily series
// and stores them in BucketAnalytics, one key per (campaign or Canvas,
// day), so that re-reading a day Braze restated replaces its figures
// (pkg/analytics).
const (
	// ResourceCampaigns and ResourceCanvases name analytics runs.
	ResourceCampaigns = "campaigns"
	ResourceCanvases  = "canvases"

	// BucketAnalytics holds the statistics (see pkg/analytics for keys).
	BucketAnalytics = "tajo_analytics"
)
