package extractor

import (
	"fmt"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/mapping"
)

// FromConfig is the extractor's settings from the loaded configuration
// file: the one translation the extractor binary and `tajo run` share, so
// that the two cannot drift. It sets what the file decides: the segment,
// full_every, and what the field mapping and the lists decide (ForMapping).
// The caller adds what the process decides (Logger, Tracer, Instance, Retry
// from the Braze guard) and passes connectors.braze.sync.users.interval to
// Run (`tajo run` schedules its syncs itself, on the same key).
func FromConfig(c *config.Config) (Config, error) {
	m, err := mapping.New(c.MappingOptions())
	if err != nil {
		return Config{}, fmt.Errorf("field mapping: %w", err)
	}
	users := c.Connectors.Braze.Sync.Users
	cfg := Config{Segment: users.SegmentID, FullEvery: users.FullEvery}
	cfg.ForMapping(m, bootstrap.ListIDs(c), "")
	return cfg, nil
}

// ForMapping sets what the field mapping m decides: the fields the export
// must include, and Digest, with the lists contacts join (ids, or the list
// found by name when there are none).
func (c *Config) ForMapping(m *mapping.Mapper, listIDs []int64, listName string) {
	c.FieldsToExport, c.CustomAttributesToExport = m.ExportFields()
	c.Digest = bootstrap.LinesDigest(m, listIDs, listName)
}
