package bootstrap

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/resilience"
)

// Replicas learn how many of them share the Brevo budget: a second joins,
// each limiter takes half; it leaves, the first takes it all again.
func TestPresenceSplitsTheBudget(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	var lims [2]*resilience.Limiter
	var stops [2]func()
	for i := range lims {
		l, err := resilience.NewLimiter(resilience.VendorBrevo, resilience.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		lims[i] = l
		stop, err := Presence(ctx, js, 1, "brevo", "loader", log, l.SetReplicas)
		if err != nil {
			t.Fatal(err)
		}
		stops[i] = stop
	}
	var other atomic.Int64
	stopOther, err := Presence(ctx, js, 1, "braze", "extractor", log, func(n int) { other.Store(int64(n)) })
	if err != nil {
		t.Fatal(err)
	}
	defer stopOther()
	until := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(2 * presenceEvery); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: limiters assume %d and %d replicas", what, lims[0].Replicas(), lims[1].Replicas())
			}
		}
	}
	until("both see two", func() bool { return lims[0].Replicas() == 2 && lims[1].Replicas() == 2 })
	if other.Load() != 1 {
		t.Errorf("another group counts %d members; groups must not mix", other.Load())
	}
	stops[1]()
	until("the first alone again", func() bool { return lims[0].Replicas() == 1 })
	stops[0]()
}
