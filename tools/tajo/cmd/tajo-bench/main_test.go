package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/tajo-sync/tajo/tools/tajo/internal/bench"
)

// What -scale is given reaches each size's run: the phases switched off
// stay off, and the shape's profiles go into a directory per size.
func TestScaleArgsPassTheOptionsOn(t *testing.T) {
	o := bench.Options{NATSServer: "bin/nats-server", NATSMemLimit: "1GiB", Events: 0, ShapeProfiles: "/tmp/p"}
	args := scaleArgs(o, 0, 1000000, 1000000, "/tmp/out.json")
	for _, want := range [][]string{
		{"-scale="}, {"-users", "1000000"}, {"-shape-users", "1000000"}, {"-events", "0"},
		{"-segment-members", "0"}, {"-tracing-users", "0"}, {"-limits=false"}, {"-json", "/tmp/out.json"},
		{"-shape-profiles", filepath.Join("/tmp/p", "1000000")}, {"-nats-memlimit", "1GiB"},
	} {
		i := slices.Index(args, want[0])
		if i < 0 || (len(want) == 2 && (i+1 >= len(args) || args[i+1] != want[1])) {
			t.Errorf("a size's run is not given %v: %v", want, args)
		}
	}
	o.Events, o.ShapeProfiles = 20000, ""
	args = scaleArgs(o, 1000000, 100000, 100000, "/tmp/out.json")
	if i := slices.Index(args, "-events"); i < 0 || args[i+1] != "20000" {
		t.Errorf("-events 20000 not passed on: %v", args)
	}
	if slices.Contains(args, "-shape-profiles") {
		t.Errorf("shape profiles asked for though none were: %v", args)
	}
}
