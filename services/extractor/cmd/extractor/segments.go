package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/services/extractor"
)

// segmentMirror builds the segment mirror when connectors.braze.sync.segments
// is on, and returns what runs it (nil when off). Mirroring every segment
// creates Brevo lists: it needs the Brevo key too.
func segmentMirror(ctx context.Context, cfg *config.Config, bus *bootstrap.Bus, bz *braze.Client, m *mapping.Mapper,
	creds config.Credentials, instance string, log *slog.Logger) (func(context.Context) error, error) {
	if !cfg.SegmentsMirrored() {
		return nil, nil
	}
	s := cfg.Connectors.Braze.Sync.Segments
	var lists extractor.ListMaker
	if s.MirrorAll {
		if creds.BrevoAPIKey == "" {
			return nil, errors.New("sync.segments.mirror_all creates Brevo lists: the extractor needs the Brevo key too (export " +
				config.EnvBrevoAPIKey + ")")
		}
		bc := bootstrap.BrevoConfig(cfg, creds.BrevoAPIKey)
		if _, err := bootstrap.GuardBrevo(cfg.Resilience, &bc, log); err != nil {
			return nil, err
		}
		bv, err := brevo.New(bc)
		if err != nil {
			return nil, err
		}
		lists = bv
	}
	fields, custom := m.IdentityFields()
	mirror, err := extractor.NewMirror(ctx, bus.JS, bz, lists, bus.State, extractor.MirrorConfig{
		Lists: cfg.SegmentLists(), MirrorAll: s.MirrorAll, Folder: s.Folder,
		Identity: m.Identity, IdentityFields: fields, IdentityCustomAttributes: custom,
		TempDir: os.Getenv("TMPDIR"), Replicas: cfg.NATS.Replicas, Logger: log, Instance: instance,
	})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return mirror.Run(ctx, bus.NC, s.Interval) }, nil
}
