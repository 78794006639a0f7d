package httpapi

import (
	"testing"
	"time"
)

// TestSecondText: the cached response-time text is what AppendFormat
// writes for every time, across seconds, locations and going back.
func TestSecondText(t *testing.T) {
	hk := time.FixedZone("HKT", 8*3600)
	base := time.Date(2026, 12, 7, 10, 4, 5, 0, time.UTC)
	var c secondText
	for i, tt := range []time.Time{
		base, base.Add(999 * time.Millisecond), base.Add(time.Second), base.In(hk), base.Add(time.Second).In(hk),
		base.Add(-time.Hour), base.Local(), base.Add(1500 * time.Millisecond),
	} {
		want := tt.Format(time.RFC3339)
		if got := string(c.text(tt)); got != want {
			t.Fatalf("%d: %s, want %s", i, got, want)
		}
	}
	a := c.text(base)
	if b := c.text(base.Add(time.Millisecond)); &a[0] != &b[0] {
		t.Fatal("the same second was formatted again")
	}
	if n := testing.AllocsPerRun(100, func() { c.text(base) }); n != 0 {
		t.Fatalf("a cached second allocates %.0f times", n)
	}
}
