package load_test

import (
	"math"
	"testing"
	"time"

	"github.com/paycode/paycode/loadtest/load"
)

func f64(v float64) *float64 { return &v }

func TestStagePacer(t *testing.T) {
	p := load.NewStagePacer([]load.Stage{
		{Duration: 2 * time.Second, Rate: 100},               // 200 hits
		{Duration: 2 * time.Second, Rate: 100, To: f64(300)}, // 400 hits
		{Duration: time.Second, Rate: 300, To: f64(100)},     // 200 hits
	})
	if p.Hits() != 800 {
		t.Fatalf("hits %d", p.Hits())
	}
	for _, tt := range []struct {
		el   time.Duration
		want float64
	}{{0, 0}, {time.Second, 100}, {2 * time.Second, 200}, {3 * time.Second, 200 + 150}, {4 * time.Second, 600}, {5 * time.Second, 800}, {time.Hour, 800}} {
		if got := p.Expected(tt.el); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("Expected(%v) = %v, want %v", tt.el, got, tt.want)
		}
	}
	// Hit n is due when Expected reaches n: simulate an on-time attacker.
	var el time.Duration
	for hits := uint64(0); ; hits++ {
		wait, stop := p.Pace(el, hits)
		if stop {
			if hits != 800 {
				t.Fatalf("stopped after %d hits", hits)
			}
			break
		}
		if wait < 0 {
			t.Fatalf("on time yet behind at hit %d", hits)
		}
		el += wait
		if got := p.Expected(el); math.Abs(got-float64(hits+1)) > 1e-3 {
			t.Fatalf("hit %d sent at %v when %v are due", hits+1, el, got)
		}
	}
	if el > 5*time.Second || el < 5*time.Second-10*time.Millisecond {
		t.Fatalf("last hit at %v", el)
	}
	// Behind schedule: send at once.
	if wait, _ := p.Pace(3*time.Second, 10); wait > 0 {
		t.Fatalf("behind but told to wait %v", wait)
	}
	if r := p.Rate(3 * time.Second); math.Abs(r-200) > 1e-6 {
		t.Fatalf("Rate %v", r)
	}
}
