package membership

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
)

// build sorts members (id -> ident) added in a random order, spilling
// every runBytes, and returns the membership file.
func build(t testing.TB, members [][2]string, runBytes int) []byte {
	t.Helper()
	s := NewSorter(t.TempDir(), runBytes)
	defer s.Close()
	for _, m := range members {
		if err := s.Add(m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if _, err := s.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestSorterSortsAndDeduplicates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var members [][2]string
	want := map[string]string{}
	for i := range 5000 {
		id := fmt.Sprintf("%024x", rng.Uint64())
		ident := fmt.Sprintf("x:cust_%d", i)
		members = append(members, [2]string{id, ident})
		want[id] = ident
		if i%100 == 0 { // a user listed twice: the first wins
			members = append(members, [2]string{id, "e:later@example.com"})
		}
	}
	for _, runBytes := range []int{0, 4096, 100_000} { // in memory, many runs, a few
		t.Run(fmt.Sprint(runBytes), func(t *testing.T) {
			dir := t.TempDir()
			s := NewSorter(dir, runBytes)
			for _, m := range members {
				if err := s.Add(m[0], m[1]); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			n, err := s.WriteTo(&out)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("%d temporary files left behind", len(left))
			}
			if n != int64(len(want)) || s.Added() != int64(len(members)) {
				t.Fatalf("wrote %d of %d members (%d added)", n, len(want), s.Added())
			}
			r := NewReader(&out)
			for k := 0; ; k++ {
				id, ident, ok, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					if k != len(want) {
						t.Fatalf("read %d members, want %d", k, len(want))
					}
					break
				}
				if want[string(id)] != string(ident) {
					t.Fatalf("member %s: %q, want %q", id, ident, want[string(id)])
				}
			}
		})
	}
}

func TestSorterRefusesBadMembers(t *testing.T) {
	s := NewSorter(t.TempDir(), 0)
	for _, m := range [][2]string{{"", "x:a"}, {"a\tb", "x:a"}, {"a", "x:a\nb"}, {"a\n", ""}} {
		if err := s.Add(m[0], m[1]); !errors.Is(err, ErrBadMember) {
			t.Errorf("Add(%q, %q) = %v, want ErrBadMember", m[0], m[1], err)
		}
	}
}

type change struct {
	c         Change
	id, ident string
}

func diff(t *testing.T, old, new string) ([]change, Stats) {
	t.Helper()
	var got []change
	var oldR io.Reader
	if old != "-" {
		oldR = strings.NewReader(old)
	}
	st, err := Diff(oldR, strings.NewReader(new), func(c Change, id, ident []byte) error {
		got = append(got, change{c, string(id), string(ident)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, st
}

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           []change
		stats          Stats
	}{
		{"first run: everyone joins", "-", "a\tx:1\nb\te:b@x.io\n",
			[]change{{Joined, "a", "x:1"}, {Joined, "b", "e:b@x.io"}}, Stats{New: 2, Joined: 2}},
		{"nothing changed", "a\tx:1\nb\tx:2\n", "a\tx:1\nb\tx:2\n", nil, Stats{Old: 2, New: 2, Unchanged: 2}},
		{"one left, one joined, interleaved", "a\tx:1\nc\tx:3\nd\tx:4\n", "a\tx:1\nb\tx:2\nd\tx:4\ne\tx:5\n",
			[]change{{Joined, "b", "x:2"}, {Left, "c", "x:3"}, {Joined, "e", "x:5"}}, Stats{Old: 3, New: 4, Joined: 2, Left: 1, Unchanged: 2}},
		{"everyone left: removed under the old identifier", "a\te:a@x.io\nb\tx:2\n", "",
			[]change{{Left, "a", "e:a@x.io"}, {Left, "b", "x:2"}}, Stats{Old: 2, Left: 2}},
		{"an identifier changed: same contact, nothing to do", "a\te:a@x.io\n", "a\tx:1\n", nil, Stats{Old: 1, New: 1, Reidentified: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, st := diff(t, tc.old, tc.new)
			if !slices.Equal(got, tc.want) || st != tc.stats {
				t.Fatalf("changes %v %+v, want %v %+v", got, st, tc.want, tc.stats)
			}
		})
	}
}

func TestDiffRefusesUnsortedInput(t *testing.T) {
	for _, bad := range []string{"b\tx\na\tx\n", "a\tx\na\tx\n", "a\tx", "ax\n", "\tx\n"} {
		_, err := Diff(nil, strings.NewReader(bad), func(Change, []byte, []byte) error { return nil })
		if !errors.Is(err, ErrUnsorted) {
			t.Errorf("%q: %v, want ErrUnsorted", bad, err)
		}
	}
	stop := errors.New("stop")
	_, err := Diff(nil, strings.NewReader("a\tx\nb\tx\n"), func(Change, []byte, []byte) error { return stop })
	if err != stop {
		t.Errorf("fn's error: %v", err)
	}
}

func TestStoreRoundTrip(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 2 { // idempotent
		if err := Provision(ctx, js, 1); err != nil {
			t.Fatal(err)
		}
	}
	st, err := OpenStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Open(ctx, "seg-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open of nothing: %v", err)
	}
	var members [][2]string
	for i := range 20000 {
		members = append(members, [2]string{fmt.Sprintf("%08d", 20000-i), fmt.Sprintf("x:cust_%d", i)})
	}
	file := build(t, members, 64<<10)
	if err := st.Put(ctx, "seg-1", bytes.NewReader(file)); err != nil {
		t.Fatal(err)
	}
	r, err := st.Open(ctx, "seg-1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, file) {
		t.Fatalf("read back %d bytes (err %v), stored %d", len(got), err, len(file))
	}
	info, err := st.obs.GetInfo(ctx, "seg-1")
	if err != nil || info.Size >= uint64(len(file)) {
		t.Errorf("stored %d bytes for a %d-byte membership (err %v): not compressed", info.Size, len(file), err)
	}
	if err := st.Delete(ctx, "seg-1"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "seg-1"); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if _, err := st.Open(ctx, "seg-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open after Delete: %v", err)
	}
}
