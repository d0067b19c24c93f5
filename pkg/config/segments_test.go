package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSegmentsSync(t *testing.T) {
	for _, tc := range []struct {
		name    string
		yaml    string
		want    SegmentsSync
		lists   map[string]int64
		notices []string // paths
	}{
		{"off by default", "", SegmentsSync{Interval: 15 * time.Minute, Folder: "Braze segments"}, map[string]int64{}, nil},
		{"true with lists", "    sync: {segments: true}\n    lists: {engaged_users: 10, \"3c1f\": \"11\"}\n",
			SegmentsSync{Enabled: true, Interval: 15 * time.Minute, Folder: "Braze segments"}, map[string]int64{"engaged_users": 10, "3c1f": 11}, nil},
		{"mapping, mirror_all without lists", "    sync:\n      segments: {enabled: true, interval: 1h, mirror_all: true, folder: Mirrors}\n",
			SegmentsSync{Enabled: true, Interval: time.Hour, MirrorAll: true, Folder: "Mirrors"}, map[string]int64{}, nil},
		{"lists while off are said not acted on", "    lists: {vip: 3}\n",
			SegmentsSync{Interval: 15 * time.Minute, Folder: "Braze segments"}, map[string]int64{"vip": 3}, []string{"connectors.braze.lists"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse("t.yaml", []byte(minimal+tc.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Connectors.Braze.Sync.Segments; got != tc.want || cfg.SegmentsMirrored() != tc.want.Enabled {
				t.Errorf("segments = %+v (mirrored %v), want %+v", got, cfg.SegmentsMirrored(), tc.want)
			}
			if got := cfg.SegmentLists(); !reflect.DeepEqual(got, tc.lists) {
				t.Errorf("lists = %v, want %v", got, tc.lists)
			}
			var paths []string
			for _, n := range cfg.Notices() {
				paths = append(paths, n.Path)
				if !strings.Contains(n.Msg, "sync.segments is off") {
					t.Errorf("notice %q does not say why", n.Msg)
				}
			}
			if !reflect.DeepEqual(paths, tc.notices) {
				t.Errorf("notices on %v, want %v", paths, tc.notices)
			}
		})
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"on with nothing to mirror", "    sync: {segments: true}\n",
			"t.yaml:4: connectors.braze.sync.segments: segments are mirrored into the lists of connectors.braze.lists, which is empty"},
		{"negative interval", "    sync: {segments: {enabled: false, interval: -1m}}\n",
			"connectors.braze.sync.segments.interval: must not be negative (got -1m0s)"},
		{"unknown key", "    sync: {segments: {mirror: true}}\n", `connectors.braze.sync.segments.mirror: unknown key; valid keys here: enabled, folder, interval, mirror_all`},
		{"list id", "    sync: {segments: true}\n    lists: {vip: 0}\n", "connectors.braze.lists.vip: list id must be a positive integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse("t.yaml", []byte(minimal+tc.yaml), env(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
