package httpapi

import (
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/decode"
)

// The image budget's shares: taken up to the budget, refused past it,
// returned by release, replaced by the next request on the same
// connection, and lapsed after the read timeout unless a handler claimed
// them (the paths where fasthttp calls no code of paycode's).
func TestImageBudgetShares(t *testing.T) {
	const lapse = 10 * time.Second
	t0 := time.Unix(1_800_000_000, 0)
	var a, b, c fasthttp.RequestHeader // three connections
	type step struct {
		do       string // take, claim, release
		h        *fasthttp.RequestHeader
		n        int64
		at       time.Duration
		ok       bool  // take: granted; release: refused
		wantUsed int64 // after the step
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"take and release", []step{
			{"take", &a, 60, 0, true, 60},
			{"claim", &a, 0, 0, false, 60},
			{"release", &a, 0, 0, false, 0},
		}},
		{"refused past the budget, answered as shed", []step{
			{"take", &a, 60, 0, true, 60},
			{"take", &b, 50, 0, false, 60},
			{"release", &b, 0, 0, true, 60},
			{"take", &b, 40, 0, true, 100},
		}},
		{"an unclaimed share lapses", []step{
			{"take", &a, 60, 0, true, 60},
			{"take", &b, 50, lapse, false, 60}, // not yet
			{"take", &c, 50, lapse + time.Nanosecond, true, 50},
			{"release", &a, 0, lapse, false, 50}, // already gone
		}},
		{"a claimed share never lapses", []step{
			{"take", &a, 60, 0, true, 60},
			{"claim", &a, 0, 0, false, 60},
			{"take", &b, 50, time.Hour, false, 60},
			{"release", &a, 0, time.Hour, false, 0},
		}},
		{"a lapse after a claim made the earliest lapse stale", []step{
			{"take", &a, 60, 0, true, 60},
			{"claim", &a, 0, 0, false, 60},
			{"take", &b, 30, 5 * time.Second, true, 90},
			{"take", &c, 40, lapse + 2*time.Second, false, 90}, // b's share lives until 15 s
			{"take", &c, 40, lapse + 5*time.Second + time.Nanosecond, true, 100},
		}},
		{"the connection's next request replaces its share", []step{
			{"take", &a, 90, 0, true, 90},
			{"take", &a, 30, 0, true, 30},
			{"release", &a, 0, 0, false, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bg := imageBudget{max: 100}
			for i, s := range tc.steps {
				switch s.do {
				case "take":
					if got := bg.take(s.h, s.n, t0.Add(s.at), lapse); got != s.ok {
						t.Fatalf("step %d: take %d = %v, want %v", i, s.n, got, s.ok)
					}
				case "claim":
					bg.claim(s.h)
				case "release":
					if got := bg.release(s.h); got != s.ok {
						t.Fatalf("step %d: release refused = %v, want %v", i, got, s.ok)
					}
				}
				if bg.used != s.wantUsed {
					t.Fatalf("step %d (%s): used %d, want %d", i, s.do, bg.used, s.wantUsed)
				}
			}
		})
	}
}

// BenchmarkBodyConfig: the listener's HeaderReceived on a JSON pay, which
// every lane request pays (a decoder set, as serve runs by default).
//
//	go test -run '^$' -bench BodyConfig -benchmem ./engine/httpapi/
func BenchmarkBodyConfig(b *testing.B) {
	s := &Server{}
	s.img.dec = new(decode.Decoder) // only tested for nil here
	s.img.maxBytes = decode.DefaultMaxBytes
	srv := &fasthttp.Server{ReadTimeout: time.Second}
	hr := s.bodyConfig(srv)
	var h fasthttp.RequestHeader
	h.SetMethod("POST")
	h.SetRequestURI("/ams/api/v1/payments/pay")
	h.SetContentType("application/json; charset=UTF-8")
	h.SetContentLength(900)
	b.ReportAllocs()
	for b.Loop() {
		if hr(&h).MaxRequestBodySize != 0 {
			b.Fatal("a JSON pay got another body limit")
		}
	}
}
