package kvmap

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// Shards stay readable by a msgpack decoder (they were written by one), and
// what one wrote reads back the same here, for every header size.
func TestShardCodecMatchesMsgpack(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 300, 70000} {
		for _, vlen := range []int{0, 31, 32, 255, 256, 70000} {
			if n*vlen > 5_000_000 {
				continue
			}
			want := map[string]string{}
			for i := range n {
				want[fmt.Sprintf("id-%011d", i)] = strings.Repeat("v", vlen) + fmt.Sprint(i)
			}
			for _, sealed := range []bool{false, true} {
				var es entries
				for k, v := range want {
					es = append(es, entry{k, v})
				}
				data := encodeShard(es, sealed)
				var lib map[string]string
				if err := msgpack.Unmarshal(data, &lib); err != nil {
					t.Fatalf("%d entries of %d bytes: msgpack cannot read what we wrote: %v", n, vlen, err)
				}
				if _, ok := lib[sealKey]; ok != sealed {
					t.Fatalf("sealed %v, the seal entry present %v", sealed, ok)
				}
				delete(lib, sealKey)
				if !maps.Equal(lib, want) && !(len(lib) == 0 && len(want) == 0) {
					t.Fatalf("%d entries of %d bytes: msgpack read back something else", n, vlen)
				}
				if sealed {
					lib[sealKey] = sealedValue
				}
				libData, err := msgpack.Marshal(lib)
				if err != nil {
					t.Fatal(err)
				}
				got, gotSealed, err := decodeShard(libData)
				if err != nil {
					t.Fatalf("%d entries of %d bytes: %v", n, vlen, err)
				}
				if gotSealed != sealed || len(got) != len(want) {
					t.Fatalf("%d entries of %d bytes: read %d entries, sealed %v", n, vlen, len(got), gotSealed)
				}
				for _, e := range got {
					if want[e.id] != e.val {
						t.Fatalf("%q = %q, want %q", e.id, e.val, want[e.id])
					}
				}
			}
		}
	}
}

// A damaged shard is an error, never a panic or a silent empty shard.
func TestShardCodecRejectsDamage(t *testing.T) {
	data := encodeShard(entries{{"a", "1"}, {"bb", strings.Repeat("x", 300)}}, false)
	for cut := 1; cut < len(data); cut++ {
		if _, _, err := decodeShard(data[:cut]); err == nil {
			t.Fatalf("a shard cut to %d of %d bytes decoded", cut, len(data))
		}
	}
	for _, bad := range [][]byte{{0x01}, {0x81, 0x01, 0xa1, 'x'}, append(data, 0)} {
		if _, _, err := decodeShard(bad); err == nil {
			t.Fatalf("% x decoded", bad)
		}
	}
	if es, sealed, err := decodeShard([]byte{0xc0}); err != nil || len(es) != 0 || sealed {
		t.Fatalf("nil: %v %v %v", es, sealed, err)
	}
}

func FuzzDecodeShard(f *testing.F) {
	f.Add(encodeShard(entries{{"a", "1"}}, true))
	f.Add([]byte{0xde, 0x00, 0x01, 0xd9, 0x01, 'a', 0xc4, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		es, sealed, err := decodeShard(data)
		if err != nil {
			return
		}
		back, _, err := decodeShard(encodeShard(es, sealed))
		if err != nil || len(back) != len(es) {
			t.Fatalf("re-encoding a decoded shard: %v (%d of %d entries)", err, len(back), len(es))
		}
	})
}
