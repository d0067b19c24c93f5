package linediff

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

func write(t *testing.T, es []Entry) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	w := NewWriter(&b)
	for _, e := range es {
		if err := w.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return &b
}

func readAll(t *testing.T, r io.Reader) []Entry {
	t.Helper()
	var out []Entry
	rd := NewReader(r)
	for {
		e, ok, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, e)
	}
}

func TestSortByIDSortsAcrossChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	es := make([]Entry, 10007)
	for i := range es {
		es[i] = Entry{ID: rng.Uint64N(5000), Hash: rng.Uint64(), Line: uint32(i)}
	}
	dir := t.TempDir()
	f, err := SortByID(write(t, es), dir, 1000) // eleven runs merged
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := readAll(t, f)
	want := slices.Clone(es)
	slices.SortFunc(want, compare)
	if !slices.Equal(got, want) {
		t.Fatalf("sorted %d entries, want %d in order (first got %v, want %v)", len(got), len(want), got[:3], want[:3])
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 {
		t.Fatalf("the sorted file alone should be left in the directory, found %d files", len(left))
	}
}

func TestUnchangedReportsOnlyUniqueUsersWithTheSameHash(t *testing.T) {
	base := []Entry{
		{ID: 1, Hash: 10, Line: 0}, // same in cur: unchanged
		{ID: 2, Hash: 20, Line: 1}, // changed in cur
		{ID: 3, Hash: 30, Line: 2}, // gone from cur
		{ID: 5, Hash: 50, Line: 3}, // twice in base: never unchanged
		{ID: 5, Hash: 50, Line: 4},
		{ID: 7, Hash: 70, Line: 5}, // same in cur
	}
	cur := []Entry{
		{ID: 7, Hash: 70, Line: 0},
		{ID: 1, Hash: 10, Line: 1},
		{ID: 2, Hash: 21, Line: 2},
		{ID: 4, Hash: 40, Line: 3}, // new
		{ID: 5, Hash: 50, Line: 4},
		{ID: 6, Hash: 60, Line: 5}, // twice in cur
		{ID: 6, Hash: 60, Line: 6},
	}
	sort := func(es []Entry) io.Reader {
		f, err := SortByID(write(t, es), t.TempDir(), 2)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	var got Bitmap
	if err := Unchanged(sort(cur), sort(base), got.Set); err != nil {
		t.Fatal(err)
	}
	for line := uint32(0); line < 8; line++ {
		if want := line == 0 || line == 1; got.Has(line) != want {
			t.Errorf("line %d unchanged = %v, want %v", line, got.Has(line), want)
		}
	}
	if got.Count() != 2 {
		t.Fatalf("%d lines unchanged, want 2", got.Count())
	}
}

func TestUnchangedRefusesUnsortedInput(t *testing.T) {
	cur := write(t, []Entry{{ID: 2}, {ID: 1}})
	base := write(t, []Entry{{ID: 1}, {ID: 2}})
	if err := Unchanged(cur, base, func(uint32) {}); err == nil {
		t.Fatal("unsorted entries merged without an error")
	}
}

func TestTruncatedFileIsAnError(t *testing.T) {
	b := write(t, []Entry{{ID: 1}, {ID: 2}})
	b.Truncate(b.Len() - 3)
	_, err := SortByID(b, t.TempDir(), 0)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("err = %v, want ErrTruncated", err)
	}
}

func BenchmarkSortMillion(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for i := range 1_000_000 {
		w.Add(Entry{ID: rng.Uint64(), Hash: rng.Uint64(), Line: uint32(i)})
	}
	w.Flush()
	data := buf.Bytes()
	b.ResetTimer()
	for range b.N {
		f, err := SortByID(bytes.NewReader(data), b.TempDir(), 0)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
		os.Remove(f.Name())
	}
}
