package mapping

import (
	"encoding/json"
	"testing"
)

var scanSeeds = []string{
	`{}`, ` { "a" : 1 } `, `{"a":"b\"c","d":[1,2,{"e":null}],"f":true,"g":false,"h":-0.5e+10}`,
	`{"a\u0041":"\u00e9"}`, `{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`,
	`{"a":-}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"tab	in"}`, `{"a":[1,2}`, `{"a":{"b":1]}`,
	`{"a":tru}`, `{"a":nul}`, `{"a":1} x`, `{"a":1}{}`, `[1]`, `"str"`, ``, `{`, `{"a`, `{"a":[`,
	`{"a":[1,]}`, `{"a":{,}}`, `{1:2}`, `{"a":"\/"}`, `{"a":"` + "\xff" + `"}`,
}

func TestScanObjectAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range scanSeeds {
		checkScan(t, []byte(s))
	}
}

func FuzzScanObject(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(benchLine))
	f.Fuzz(checkScan)
}

// checkScan asserts scanObject accepts exactly the JSON objects
// encoding/json accepts, and hands back the same top-level values.
func checkScan(t *testing.T, data []byte) {
	got := map[string]json.RawMessage{}
	err := scanObject(data, func(key []byte, _ bool, val []byte) {
		// encoding/json also replaces invalid UTF-8 in keys: compare keys
		// as it decodes them.
		got[unescapeKey(key)] = val
	})
	var want map[string]json.RawMessage
	wantErr := json.Unmarshal(data, &want)
	if wantErr == nil && want == nil {
		wantErr = errSyntax // the literal null is not an object
	}
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("scanObject(%q) error = %v; encoding/json error = %v", data, err, wantErr)
	}
	if err != nil {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("scanObject(%q) found %d keys, encoding/json %d", data, len(got), len(want))
	}
	for k, w := range want {
		if string(got[k]) != string(w) {
			t.Errorf("scanObject(%q)[%q] = %s, want %s", data, k, got[k], w)
		}
	}
}
