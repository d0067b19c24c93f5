package proto

import "testing"

// TestDecodeEventsEitherForm reads a batch message and a single-event
// message (published before batches, or a replayed dead letter) alike.
func TestDecodeEventsEitherForm(t *testing.T) {
	one := RawEvent{V: SchemaVersion, Source: EventSourceCurrents, ID: "a", JSON: []byte(`{}`)}
	two := RawEvent{V: SchemaVersion, Source: EventSourceCurrents, ID: "b", JSON: []byte(`{}`)}
	for name, v := range map[string]Versioned{"single": &one, "batch": &RawEvents{V: SchemaVersion, Events: []RawEvent{one, two}}} {
		data, err := Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := DecodeRawEvents(data)
		if err != nil || len(evs) == 0 || evs[0].ID != "a" || (name == "batch") != (len(evs) == 2) {
			t.Fatalf("%s: %v %v", name, evs, err)
		}
		if n := CountRawEvents(data); n != len(evs) {
			t.Fatalf("%s: CountRawEvents = %d, the message holds %d", name, n, len(evs))
		}
	}
	many := RawEvents{V: SchemaVersion}
	for range 100 {
		many.Events = append(many.Events, one)
	}
	if data, err := Encode(&many); err != nil || CountRawEvents(data) != 100 {
		t.Fatalf("CountRawEvents of 100 events: %d (%v)", CountRawEvents(data), err)
	}
	if n := CountRawEvents([]byte("not msgpack")); n != 1 {
		t.Fatalf("CountRawEvents of garbage = %d, want 1 (the handler says why)", n)
	}
	b := BrevoEvent{V: SchemaVersion, ID: "currents:a", Name: "n"}
	for name, v := range map[string]Versioned{"single": &b, "batch": &BrevoEvents{V: SchemaVersion, Events: []BrevoEvent{b, b}}} {
		data, err := Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := DecodeBrevoEvents(data)
		if err != nil || len(evs) == 0 || evs[0].ID != "currents:a" || (name == "batch") != (len(evs) == 2) {
			t.Fatalf("%s: %v %v", name, evs, err)
		}
	}
	// Neither form: refused, not read as an empty batch.
	data, err := Encode(&RawEvents{V: SchemaVersion})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeRawEvents(data); err == nil {
		t.Fatal("an empty batch decoded")
	}
	if _, err := DecodeBrevoEvents(data); err == nil {
		t.Fatal("an empty batch decoded")
	}
}

func TestEventsMsgIDIgnoresOrder(t *testing.T) {
	if EventsMsgID("p:", []string{"a", "b"}) != EventsMsgID("p:", []string{"b", "a"}) {
		t.Fatal("the same events in another order have another id")
	}
	if EventsMsgID("p:", []string{"a", "b"}) == EventsMsgID("p:", []string{"a", "bc"}) ||
		EventsMsgID("p:", []string{"ab"}) == EventsMsgID("p:", []string{"a", "b"}) {
		t.Fatal("different events share an id")
	}
}
