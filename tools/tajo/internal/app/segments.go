package app

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/segmentexport"
	"github.com/tajo-sync/tajo/pkg/status"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
)

// SegmentsOptions turn segment mirroring on: the extractor's Mirror, the
// transformer's segments worker and the loader's lists worker.
type SegmentsOptions struct {
	// Mirror configures the mirror; its Identity, IdentityFields, Logger
	// and Replicas are filled in from the App's options.
	Mirror extractor.MirrorConfig
	// Interval between scheduled runs; 0: runs only when asked (SyncSegments,
	// the control subject), as tajo run does after each users sync.
	Interval    time.Duration
	Transformer transformer.SegmentsConfig
	Loader      loader.ListsConfig
}

type segmentWorkers struct {
	transformer *transformer.Segments
	loader      *loader.Lists
	interval    time.Duration
}

// newSegments gives the App its one-off segment export and, with
// o.Segments, segment mirroring.
func (a *App) newSegments(ctx context.Context, o Options, bz *braze.Client, bv *brevo.Client, m *mapping.Mapper, vg *resilience.Guard) error {
	a.exportSegment = func(ctx context.Context, req segmentexport.Request) (segmentexport.Result, error) {
		return segmentexport.Run(ctx, bz, bv, req, segmentexport.Options{
			Mapping: o.Mapping, TempDir: o.Extractor.TempDir, Poll: o.Extractor.Poll, ProcessPoll: brevo.Backoff{Initial: o.Loader.FirstPoll},
			MaxImportBytes: o.Loader.MaxImportBytes, Lock: ImportLock(a.State, "segment-export"), Logger: o.Logger,
		})
	}
	if o.Segments == nil {
		return nil
	}
	so := *o.Segments
	mc := so.Mirror
	mc.Identity = m.Identity
	mc.IdentityFields, mc.IdentityCustomAttributes = m.IdentityFields()
	mc.Logger, mc.Replicas = o.Logger, o.Replicas
	if mc.TempDir == "" {
		mc.TempDir = o.Extractor.TempDir
	}
	if mc.Poll == (braze.Backoff{}) {
		mc.Poll = o.Extractor.Poll
	}
	var lists extractor.ListMaker
	if mc.MirrorAll {
		lists = bv
	}
	mirror, err := extractor.NewMirror(ctx, a.JS, bz, lists, a.State, mc)
	if err != nil {
		return err
	}
	so.Transformer.Logger, so.Transformer.Replicas = o.Logger, o.Replicas
	tr, err := transformer.NewSegments(ctx, a.JS, so.Transformer)
	if err != nil {
		return err
	}
	so.Loader.Logger, so.Loader.Replicas = o.Logger, o.Replicas
	if so.Loader.Paused == nil {
		so.Loader.Paused = vg.Open
	}
	ld, err := loader.NewLists(ctx, a.JS, bv, so.Loader)
	if err != nil {
		return err
	}
	a.Mirror = mirror
	a.segments = &segmentWorkers{transformer: tr, loader: ld, interval: so.Interval}
	return nil
}

// runSegments starts the mirroring workers with run (RunWorkers' starter).
func (a *App) runSegments(run func(name string, fn func(context.Context) error)) {
	if a.segments == nil {
		return
	}
	run("segments transformer", a.segments.transformer.Run)
	run("lists loader", a.segments.loader.Run)
	run("segment mirror", func(ctx context.Context) error { return a.Mirror.Run(ctx, a.nc, a.segments.interval) })
}

// SegmentsSummary is the outcome of a segments run (status.SegmentsSummary).
type SegmentsSummary = status.SegmentsSummary

// SyncSegments runs the segment mirror once, to the end: every change
// applied or dead-lettered.
func (a *App) SyncSegments(ctx context.Context) (SegmentsSummary, error) {
	if a.Mirror == nil {
		return SegmentsSummary{}, fmt.Errorf("segment mirroring is off: set connectors.braze.sync.segments")
	}
	run, err := a.Mirror.Sync(ctx)
	if err != nil && run == nil {
		return SegmentsSummary{}, err
	}
	s, derr := DescribeSegments(ctx, a.JS, run)
	if err == nil {
		err = derr
	}
	return s, err
}

// DescribeSegments is the summary of a segments run (status.DescribeSegments).
func DescribeSegments(ctx context.Context, js jetstream.JetStream, run *proto.SyncRun) (SegmentsSummary, error) {
	return status.DescribeSegments(ctx, js, run)
}
