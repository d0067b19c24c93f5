package chaos

import (
	"reflect"
	"testing"
)

func TestPlanIsSeededAndInsideWindows(t *testing.T) {
	a, b := plan(7, 2, 1), plan(7, 2, 1)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed planned different events")
	}
	if reflect.DeepEqual(a, plan(8, 2, 1)) {
		t.Error("another seed planned the same moments")
	}
	count := map[string]int{}
	for _, e := range a {
		count[e.Target]++
		w := window[e.Target]
		if e.Target == TargetExtractor && count[e.Target] == 1 {
			if e.At != 0 {
				t.Errorf("the first extractor kill is at %.3f, want 0 (during the export)", e.At)
			}
			continue
		}
		if e.At < w[0] || e.At >= w[1] {
			t.Errorf("%s at %.3f, outside its window %v", e.Target, e.At, w)
		}
	}
	for _, e := range plan(7, 1, 0) {
		if w := window[e.Target]; e.At < w[0] || e.At >= w[1] {
			t.Errorf("%s at %.3f, outside its window %v", e.Target, e.At, w)
		}
	}
	want := map[string]int{TargetExtractor: 2, TargetTransformer: 2, TargetLoader: 2, TargetNATS: 1}
	if !reflect.DeepEqual(count, want) {
		t.Errorf("planned %v, want %v", count, want)
	}
}

func TestEventDue(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    Event
		p    progress
		want bool
	}{
		{"extractor at the start fires before anything is exported", Event{Target: TargetExtractor, At: 0}, progress{}, true},
		{"extractor waits for the export", Event{Target: TargetExtractor, At: 0.5}, progress{Exported: 49, Transformed: 100}, false},
		{"extractor past its point", Event{Target: TargetExtractor, At: 0.5}, progress{Exported: 50}, true},
		{"loader triggers on the transformer", Event{Target: TargetLoader, At: 0.3}, progress{Exported: 100, Loaded: 100, Transformed: 29}, false},
		{"server restart past its point", Event{Target: TargetNATS, At: 0.3}, progress{Transformed: 30}, true},
		{"fired once only", Event{Target: TargetLoader, At: 0.3, Fired: true}, progress{Transformed: 100}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.due(tc.p, 100); got != tc.want {
				t.Errorf("due = %v, want %v", got, tc.want)
			}
		})
	}
}
