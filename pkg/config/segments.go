package config

import (
	"fmt"
	"strings"
	"time"
)

// DefaultSegmentsFolder is the Brevo folder mirror_all creates lists in.
const DefaultSegmentsFolder = "Braze segments"

// SegmentsSync configures segment mirroring
// (connectors.braze.sync.segments): true, false or {enabled, interval,
// mirror_all, folder}. Each segment in Braze.Lists is mirrored into its
// list: members who joined since the last run are added, those who left
// removed.
type SegmentsSync struct {
	Enabled bool `yaml:"enabled"` // default false
	// Interval is the time between mirroring runs; default 15m.
	Interval time.Duration `yaml:"interval"`
	// MirrorAll mirrors every Braze segment that has no list in lists as
	// well, each into a list of its name created in Folder (and recorded,
	// so it is created once).
	MirrorAll bool `yaml:"mirror_all"`
	// Folder is the Brevo folder (by name: found, else created) mirror_all
	// creates lists in; default "Braze segments".
	Folder string `yaml:"folder"`
}

// defaultSegmentsInterval is SegmentsSync.Interval when the file says none.
const defaultSegmentsInterval = 15 * time.Minute

// fillSegments gives segment mirroring its defaults.
func (c *Config) fillSegments() {
	s := &c.Connectors.Braze.Sync.Segments
	if s.Interval == 0 {
		s.Interval = defaultSegmentsInterval
	}
	if strings.TrimSpace(s.Folder) == "" {
		s.Folder = DefaultSegmentsFolder
	}
}

// SegmentsMirrored reports whether segments are mirrored into lists with
// this configuration: the Braze connector and sync.segments are on.
func (c *Config) SegmentsMirrored() bool {
	b := c.Connectors.Braze
	return b.Enabled && b.Sync.Segments.Enabled
}

// SegmentLists is connectors.braze.lists as the mirror takes it.
func (c *Config) SegmentLists() map[string]int64 {
	out := make(map[string]int64, len(c.Connectors.Braze.Lists))
	for seg, id := range c.Connectors.Braze.Lists {
		out[seg] = int64(id)
	}
	return out
}

// checkSegments reports what makes segment mirroring impossible.
func (c *Config) checkSegments(report func(path, msg string)) {
	const sp = "connectors.braze.sync.segments"
	s := c.Connectors.Braze.Sync.Segments
	if s.Interval < 0 {
		report(sp+".interval", fmt.Sprintf("must not be negative (got %s)", s.Interval))
	}
	if s.Enabled && len(c.Connectors.Braze.Lists) == 0 && !s.MirrorAll {
		report(sp, "segments are mirrored into the lists of connectors.braze.lists, which is empty: map segments to lists "+
			"(lists: {engaged_users: 10}), or set mirror_all: true to give every segment a list")
	}
}

// segmentsNotices names lists that are set but not mirrored.
func (c *Config) segmentsNotices(report func(path, msg string)) {
	if len(c.Connectors.Braze.Lists) > 0 && !c.Connectors.Braze.Sync.Segments.Enabled {
		report("connectors.braze.lists", notYet+": sync.segments is off, so these segments are not mirrored; set sync.segments: true")
	}
}
