package pipeline

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tajo-sync/tajo/proto"
)

// packBodies are pack bodies as the publisher writes them, of every
// length encoding msgpack has for the array, the maps, the strings and
// the bytes: a pack of 1 and of 128 items, no headers, empty and nil
// bytes, a header value of 300 bytes, an item of 70,000.
func packBodies(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, items := range packSets() {
		b, err := msgpack.Marshal(items)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = b
	}
	return out
}

// packSets are the packs of packBodies, as items.
func packSets() map[string][]packItem {
	item := func(i int, d []byte) packItem {
		return packItem{H: map[string][]string{
			proto.HeaderRunID: {"run-1"}, proto.HeaderLine: {strconv.Itoa(i)},
			proto.HeaderMsgID: {"u:" + strconv.Itoa(i)},
			traceparent:       {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		}, D: d}
	}
	full := make([]packItem, 128)
	for i := range full {
		full[i] = item(i, []byte(`{"external_id":"u`+strconv.Itoa(i)+`","email":"u@example.com"}`))
	}
	sets := map[string][]packItem{
		"one":           {item(0, []byte("x"))},
		"full":          full,
		"no headers":    {{D: []byte("a")}, {D: []byte("b")}},
		"empty and nil": {{H: map[string][]string{"X-Empty": {}}, D: []byte{}}, {D: nil}},
		"long values": {{H: map[string][]string{"X-Long": {strings.Repeat("v", 300), "second"}},
			D: bytes.Repeat([]byte("d"), 70_000)}},
		"one header": {{H: map[string][]string{proto.HeaderLine: {"7"}}, D: bytes.Repeat([]byte("d"), 300)}, {H: map[string][]string{"X-Nil": nil}, D: []byte("e")}},
	}
	return sets
}

// The publisher writes a pack as msgpack does: byte for byte where an
// item has at most one header (msgpack writes a map in no fixed order),
// and read back the same by msgpack and by the pack reader.
func TestPackWriterWritesAsMsgpack(t *testing.T) {
	for name, items := range packSets() {
		t.Run(name, func(t *testing.T) {
			got := appendPack(nil, items)
			want, err := msgpack.Marshal(items)
			if err != nil {
				t.Fatal(err)
			}
			ordered := true
			for _, it := range items {
				ordered = ordered && len(it.H) <= 1
			}
			if ordered && !bytes.Equal(got, want) {
				t.Fatalf("written as\n%.200x\nmsgpack writes\n%.200x", got, want)
			}
			var viaMsgpack []packItem
			if err := msgpack.Unmarshal(got, &viaMsgpack); err != nil {
				t.Fatal(err)
			}
			same(t, viaMsgpack, items)
			viaReader, err := decodePack(got)
			if err != nil {
				t.Fatal(err)
			}
			same(t, viaReader, items)
		})
	}
}

// The pack reader reads what msgpack reads, each item alone as well as all
// of them, an item's bytes as a slice of the body that cannot grow into
// the next item.
func TestPackReaderReadsWhatMsgpackReads(t *testing.T) {
	for name, body := range packBodies(t) {
		t.Run(name, func(t *testing.T) {
			var want []packItem
			if err := msgpack.Unmarshal(body, &want); err != nil {
				t.Fatal(err)
			}
			r := packReader{MsgpackReader: proto.MsgpackReader{B: body}}
			if _, err := r.ArrayLen(); err != nil {
				t.Fatalf("not read by the pack reader: %v", err)
			}
			got, err := decodePack(body)
			if err != nil {
				t.Fatal(err)
			}
			same(t, got, want)
			for i := range want {
				it, ok, err := decodePackItem(body, i)
				if err != nil || !ok {
					t.Fatalf("item %d: ok %v, %v", i, ok, err)
				}
				same(t, []packItem{it}, want[i:i+1])
				if len(it.D) > 0 && cap(it.D) != len(it.D) {
					t.Fatalf("item %d's bytes can grow into what follows (len %d, cap %d)", i, len(it.D), cap(it.D))
				}
			}
			if _, ok, err := decodePackItem(body, len(want)); ok || err != nil {
				t.Fatalf("item %d of %d: ok %v, %v; want none", len(want), len(want), ok, err)
			}
		})
	}
}

func same(t *testing.T, got, want []packItem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d items, want %d", len(got), len(want))
	}
	for i := range want {
		// nil and empty are the same to a reader of a Msg.
		if len(got[i].H) != len(want[i].H) || !bytes.Equal(got[i].D, want[i].D) || (got[i].D == nil) != (want[i].D == nil) {
			t.Fatalf("item %d: got %+v, want %+v", i, got[i], want[i])
		}
		for k, v := range want[i].H {
			if len(v) == 0 && len(got[i].H[k]) == 0 {
				continue
			}
			if !reflect.DeepEqual(got[i].H[k], v) {
				t.Fatalf("item %d header %s: %q, want %q", i, k, got[i].H[k], v)
			}
		}
	}
}

// A body in another shape (an item with a field this version does not
// know) is read by msgpack; a cut one is an error, never a panic.
func TestPackReaderOtherShapes(t *testing.T) {
	type future struct {
		H map[string][]string `msgpack:"h,omitempty"`
		D []byte              `msgpack:"d"`
		P int                 `msgpack:"p"`
	}
	body, err := proto.Marshal([]future{{D: []byte("a"), P: 1}, {D: []byte("b"), P: 2}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodePack(body)
	if err != nil || len(got) != 2 || string(got[1].D) != "b" {
		t.Fatalf("a future field: %+v, %v", got, err)
	}
	if it, ok, err := decodePackItem(body, 1); err != nil || !ok || string(it.D) != "b" {
		t.Fatalf("item 1 with a future field: %+v %v %v", it, ok, err)
	}
	full := packBodies(t)["full"]
	for _, n := range []int{0, 1, 2, 3, 10, len(full) / 2, len(full) - 1} {
		if _, err := decodePack(full[:n]); err == nil {
			t.Errorf("a body cut to %d of %d bytes read without an error", n, len(full))
		}
	}
}

// FuzzPackReader: whatever the body, the reader does not panic, and what
// it reads is what msgpack reads.
func FuzzPackReader(f *testing.F) {
	for _, b := range packBodies(f) {
		if len(b) < 4096 {
			f.Add(b)
		}
	}
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x91, 0x81, 0xa1, 'd', 0xc6, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodePack(body)
		if err != nil {
			return // not a pack: refused, not read wrong
		}
		// Read by the pack reader: its lengths are within the body, and
		// msgpack (which allocates what a length says) can read it too.
		var want []packItem
		if err := msgpack.Unmarshal(body, &want); err != nil {
			t.Fatalf("the pack reader reads what msgpack refuses (%v): %+v", err, got)
		}
		same(t, got, want)
		for i := range got {
			if _, ok, err := decodePackItem(body, i); !ok || err != nil {
				t.Fatalf("item %d: ok %v, %v", i, ok, err)
			}
		}
	})
}

// BenchmarkUnpack compares reading a full pack of 128 users, and one item
// of it (a side letter), with msgpack's reflection.
func BenchmarkUnpack(b *testing.B) {
	body := packBodies(b)["full"]
	b.Run("msgpack", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var items []packItem
			if err := msgpack.Unmarshal(body, &items); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reader", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodePack(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reader-item-100", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := decodePackItem(body, 100); err != nil {
				b.Fatal(err)
			}
		}
	})
}
