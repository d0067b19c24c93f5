package transformer

import "github.com/tajo-sync/tajo/pkg/config"

// FromConfig is the transformer's settings from the loaded configuration
// file: the one translation the transformer binary and `tajo run` share.
// Of the pipeline section it reads concurrency, and batch_size as its
// backlog: the upserts it lets wait for the loader beyond those the loader
// holds are one loader batch, so the next import is always ready.
// batch_wait, import_threshold and max_import_bytes shape the loader's
// batches towards Brevo (the transformer's own batches keep their
// defaults). The caller adds Instance, Logger and Instruments; the field
// mapping is config.MappingOptions.
func FromConfig(c *config.Config) Config {
	return Config{Concurrency: c.Pipeline.Concurrency, Backlog: c.Pipeline.BatchSize}
}

// EventsFromConfig is the events worker's settings from the configuration
// file (event_mapping); the caller adds Logger.
func EventsFromConfig(c *config.Config) EventsConfig {
	return EventsConfig{Mapping: c.Connectors.Braze.EventMapping}
}
