package progress

import (
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	cases := []struct {
		name string
		in   Snapshot
		want string
	}{
		{"total unknown", Snapshot{Stage: "exporting", Exported: 1200, Elapsed: 3 * time.Second},
			"[                        ]   ?% exported 1,200 transformed 0 loaded 0 0/s 00:03 exporting"},
		{"half way", Snapshot{Stage: "loading", Exported: 10000, Transformed: 8000, Loaded: 5000, Total: 10000, Elapsed: 2 * time.Second},
			"[############------------]  50% exported 10,000/10,000 transformed 8,000 loaded 5,000 2,500/s 00:02 loading"},
		{"done", Snapshot{Exported: 10, Transformed: 10, Loaded: 10, Total: 10, Elapsed: time.Hour + 2*time.Minute + 3*time.Second},
			"[########################] 100% exported 10/10 transformed 10 loaded 10 0/s 1:02:03"},
		{"loaded over total is clamped", Snapshot{Loaded: 12, Total: 10, Elapsed: time.Second},
			"[########################] 100% exported 0/10 transformed 0 loaded 12 12/s 00:01"},
		{"no rate before the first millisecond", Snapshot{Loaded: 5, Total: 10},
			"[############------------]  50% exported 0/10 transformed 0 loaded 5 0/s 00:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Render(c.in); got != c.want {
				t.Errorf("Render:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestCount(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 12345: "12,345",
		123456: "123,456", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := Count(in); got != want {
			t.Errorf("Count(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestClock(t *testing.T) {
	for in, want := range map[time.Duration]string{0: "00:00", 1499 * time.Millisecond: "00:01",
		61 * time.Second: "01:01", 10*time.Hour + 5*time.Second: "10:00:05"} {
		if got := Clock(in); got != want {
			t.Errorf("Clock(%v) = %q, want %q", in, got, want)
		}
	}
}
