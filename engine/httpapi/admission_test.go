package httpapi

import (
	"sync/atomic"
	"testing"
	"time"
)

var gateT0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// gateStep is one interval of traffic: hold pays in flight at once, then
// finish them all with delay; the interval's last finish ends the window.
type gateStep struct {
	hold  int
	delay time.Duration
	// want is the limit after the step; admitted how many of hold got in.
	want, admitted int64
}

// TestPayGate drives the limiter through intervals on a fake clock.
func TestPayGate(t *testing.T) {
	const target, interval, ceiling = 5 * time.Millisecond, 100 * time.Millisecond, 1000
	cases := []struct {
		name  string
		steps []gateStep
	}{
		{"quick pays keep the limit open", []gateStep{
			{hold: 50, delay: time.Millisecond, want: ceiling, admitted: 50},
			{hold: 900, delay: 4 * time.Millisecond, want: ceiling, admitted: 900},
		}},
		{"slow pays cut below the concurrency that made them slow", []gateStep{
			// one slow interval is not yet a standing queue: hold
			{hold: 200, delay: 10 * time.Millisecond, want: ceiling, admitted: 200},
			// the second: mean 10 ms, ×0.5 of the 200 in flight
			{hold: 200, delay: 10 * time.Millisecond, want: 100, admitted: 200},
			// mean 5.5 ms: ×0.9 of the 100 admitted (the limit held the rest)
			{hold: 150, delay: 5500 * time.Microsecond, want: 90, admitted: 100},
			// quick again, and the limit was reached: +√90
			{hold: 150, delay: time.Millisecond, want: 99, admitted: 90},
			// quick, limit not reached: hold
			{hold: 20, delay: time.Millisecond, want: 99, admitted: 20},
		}},
		{"single stalls between quick intervals shed nothing", []gateStep{
			{hold: 200, delay: 50 * time.Millisecond, want: ceiling, admitted: 200},
			{hold: 200, delay: time.Millisecond, want: ceiling, admitted: 200},
			{hold: 200, delay: 50 * time.Millisecond, want: ceiling, admitted: 200},
			{hold: 200, delay: time.Millisecond, want: ceiling, admitted: 200},
		}},
		{"never below the floor", []gateStep{
			{hold: minPayLimit + 8, delay: time.Second, want: ceiling, admitted: minPayLimit + 8},
			{hold: minPayLimit + 8, delay: time.Second, want: minPayLimit, admitted: minPayLimit + 8},
			{hold: minPayLimit + 8, delay: time.Second, want: minPayLimit, admitted: minPayLimit},
		}},
		{"never above the ceiling", []gateStep{
			{hold: 1000, delay: 5100 * time.Microsecond, want: ceiling, admitted: 1000},
			{hold: 1000, delay: 5100 * time.Microsecond, want: 900, admitted: 1000},
			{hold: 1000, delay: 0, want: 930, admitted: 900},
			{hold: 1000, delay: 0, want: 960, admitted: 930},
			{hold: 1000, delay: 0, want: 990, admitted: 960},
			{hold: 1000, delay: 0, want: ceiling, admitted: 990},
			{hold: 1000, delay: 0, want: ceiling, admitted: ceiling},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newPayGate(target, interval, ceiling, gateT0)
			now := gateT0
			for i, s := range tc.steps {
				var admitted int64
				for range s.hold {
					if g.acquire() {
						admitted++
					}
				}
				if admitted != s.admitted {
					t.Fatalf("step %d: admitted %d of %d, want %d", i, admitted, s.hold, s.admitted)
				}
				for j := range admitted {
					at := now.Add(interval * time.Duration(j+1) / time.Duration(admitted))
					g.done(s.delay, at)
				}
				now = now.Add(interval)
				if l := g.limit.Load(); l != s.want {
					t.Fatalf("step %d: limit %d, want %d", i, l, s.want)
				}
				if n := g.inFlight.Load(); n != 0 {
					t.Fatalf("step %d: %d still in flight", i, n)
				}
			}
		})
	}
}

// TestPayGateWindow: nothing moves before an interval has passed, a
// window with a minority of slow pays is healthy, and a window without a
// finished pay changes nothing.
func TestPayGateWindow(t *testing.T) {
	g := newPayGate(5*time.Millisecond, 100*time.Millisecond, 64, gateT0)
	for range 10 {
		if !g.acquire() {
			t.Fatal("refused under the ceiling")
		}
	}
	for i := range 9 {
		g.done(time.Second, gateT0.Add(time.Duration(i)*time.Millisecond))
	}
	if l := g.limit.Load(); l != 64 {
		t.Fatalf("limit moved within the interval: %d", l)
	}
	// 9 slow, then 10 quick: the median is quick.
	for range 10 {
		g.acquire()
	}
	for range 10 {
		g.done(time.Millisecond, gateT0.Add(50*time.Millisecond))
	}
	g.done(time.Millisecond, gateT0.Add(100*time.Millisecond))
	if l, a := g.limit.Load(), g.adjustments.Load(); l != 64 || a != 0 {
		t.Fatalf("a minority of slow pays moved the limit: %d (%d adjustments)", l, a)
	}
	if s := g.start.Load(); s != int64(100*time.Millisecond) {
		t.Fatalf("window not restarted: %v", time.Duration(s))
	}
}

// TestPayGateConcurrent: acquire never admits above the limit, whatever
// the interleaving (run with -race).
func TestPayGateConcurrent(t *testing.T) {
	g := newPayGate(5*time.Millisecond, 100*time.Millisecond, 16, gateT0)
	done := make(chan struct{})
	var over atomic.Bool
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 2000 {
				if g.acquire() {
					if g.inFlight.Load() > 16 {
						over.Store(true)
					}
					g.done(0, gateT0)
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	if p := g.peak.Load(); over.Load() || p > 16 || g.inFlight.Load() != 0 {
		t.Fatalf("over the limit: %v, peak %d, in flight %d", over.Load(), p, g.inFlight.Load())
	}
}

func TestSecurityAdmissionDefaults(t *testing.T) {
	var c Security
	c.EnsureDefaults()
	if c.PayDelayTarget != DefaultPayDelayTarget || c.PayDelayInterval != DefaultPayDelayInterval {
		t.Fatalf("defaults: %v %v", c.PayDelayTarget, c.PayDelayInterval)
	}
	for _, tc := range []struct {
		target, interval time.Duration
		ok               bool
	}{
		{5 * time.Millisecond, 100 * time.Millisecond, true},
		{-1, 100 * time.Millisecond, true},
		{100 * time.Millisecond, 100 * time.Millisecond, false},
		{5 * time.Millisecond, -time.Second, false},
	} {
		c := Security{PayDelayTarget: tc.target, PayDelayInterval: tc.interval}
		c.EnsureDefaults()
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("target %v interval %v: %v", tc.target, tc.interval, err)
		}
	}
}
