package bench

import (
	"context"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/proto"
)

// WorkStreams are the streams the pipeline passes its work through; their
// bytes should not grow from one sync to the next.
var WorkStreams = []string{proto.StreamRaw, proto.StreamOps}

// StoreSample is the JetStream store after one sync.
type StoreSample struct {
	Sync string `json:"sync"` // "full", "incremental 1", ...
	// Bytes is the account's file-store usage, every stream and bucket.
	Bytes int64 `json:"bytes"`
	// Streams holds each stream's bytes by name (buckets as KV_<bucket>).
	Streams map[string]int64 `json:"streams"`
}

// sampleStore reads the account's store usage and every stream's bytes.
func sampleStore(ctx context.Context, js jetstream.JetStream, sync string) (StoreSample, error) {
	s := StoreSample{Sync: sync, Streams: map[string]int64{}}
	ai, err := js.AccountInfo(ctx)
	if err != nil {
		return s, fmt.Errorf("reading the JetStream account's store usage: %w", err)
	}
	s.Bytes = int64(ai.Store)
	l := js.ListStreams(ctx)
	for info := range l.Info() {
		s.Streams[info.Config.Name] = int64(info.State.Bytes)
	}
	if err := l.Err(); err != nil {
		return s, fmt.Errorf("listing the streams' sizes: %w", err)
	}
	return s, nil
}

// names returns the streams of the samples, the work streams first.
func streamNames(samples []StoreSample) []string {
	seen := map[string]bool{}
	var rest []string
	for _, s := range samples {
		for n := range s.Streams {
			if !seen[n] {
				seen[n] = true
				rest = append(rest, n)
			}
		}
	}
	sort.Strings(rest)
	out := append([]string(nil), WorkStreams...)
	for _, n := range rest {
		if n != proto.StreamRaw && n != proto.StreamOps {
			out = append(out, n)
		}
	}
	return out
}
