package mapping

import "testing"

func TestDigestFollowsWhatDecidesTheContact(t *testing.T) {
	digest := func(o Options) string {
		t.Helper()
		m, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		return m.Digest()
	}
	base := digest(Options{})
	if again := digest(Options{Fields: DefaultFieldMapping()}); again != base {
		t.Fatalf("the same mapping gave two digests: %s, %s", base, again)
	}
	fields := DefaultFieldMapping()
	fields["favorite_color"] = "COLOR"
	for name, o := range map[string]Options{
		"another field":  {Fields: fields},
		"another type":   {Fields: fields, Types: map[string]string{"COLOR": "date"}},
		"another region": {DefaultRegion: "FR"},
	} {
		if d := digest(o); d == base {
			t.Errorf("%s: the digest did not change", name)
		}
	}
}
