package gen

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestDefaultLinesAreBrazes: without options every line is a JSON object with
// a braze_id, as Braze always sends (issue 15, item 8); WithMalformedLines
// brings back one broken line per 2,000 and changes nothing else.
func TestDefaultLinesAreBrazes(t *testing.T) {
	const n = 6000
	plain, broken := New(9, n), New(9, n, WithMalformedLines())
	if plain.MalformedCount() != 0 || broken.MalformedCount() != n/malformedEvery {
		t.Fatalf("MalformedCount: %d without the option, %d with it; want 0 and %d", plain.MalformedCount(), broken.MalformedCount(), n/malformedEvery)
	}
	seenBroken := 0
	for i := range n {
		line := plain.Line(i, 0)
		var u map[string]any
		if err := json.Unmarshal(line, &u); err != nil || u["braze_id"] != plain.BrazeID(i) {
			t.Fatalf("user %d: not an object with its braze_id (%v): %s", i, err, line)
		}
		if plain.Malformed(i, 0) {
			t.Fatalf("user %d reported malformed without the option", i)
		}
		if broken.Malformed(i, 0) {
			seenBroken++
			continue
		}
		if !bytes.Equal(line, broken.Line(i, 0)) {
			t.Fatalf("user %d differs between the generators although its line is not broken", i)
		}
	}
	if seenBroken != n/malformedEvery {
		t.Errorf("%d broken lines with the option, want %d", seenBroken, n/malformedEvery)
	}
}

// TestFieldsSelectEverything: asking for every field of Fields gives the
// whole line, so a client that must name its fields (fields_to_export) can
// still have all of them.
func TestFieldsSelectEverything(t *testing.T) {
	g := New(4, 500)
	all := &Filter{Fields: map[string]bool{}}
	for _, f := range Fields() {
		all.Fields[f] = true
	}
	for i := range g.N() {
		for v := range 3 {
			if got, want := g.AppendLine(nil, i, v, all), g.Line(i, v); !bytes.Equal(got, want) {
				t.Fatalf("user %d v%d with every field of Fields:\n%s\nwant\n%s", i, v, got, want)
			}
		}
	}
}
