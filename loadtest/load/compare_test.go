package load_test

import (
	"strings"
	"testing"

	"github.com/paycode/paycode/loadtest/load"
)

func summaryWith(p99 float64, success float64) *load.Summary {
	return &load.Summary{Kinds: []load.Row{{Kind: "pay", Requests: 100, Success: success, Latency: load.Percentiles{P50: 1, P99: p99}}}}
}

func TestLimits(t *testing.T) {
	base := summaryWith(10, 1)
	for _, tt := range []struct {
		limit string
		cur   *load.Summary
		ok    bool
	}{
		{"pay.p99 +20 %", summaryWith(11.9, 1), true},
		{"pay.p99 +20%", summaryWith(12.1, 1), false},
		{"pay.p99+20%", summaryWith(5, 1), true},
		{"pay.success -0.1%", summaryWith(10, 0.9995), true},
		{"pay.success -0.1%", summaryWith(10, 0.998), false},
		{"inquiry.p99 +20%", summaryWith(10, 1), false}, // not measured: broken
	} {
		ls, err := load.ParseLimits(tt.limit)
		if err != nil || len(ls) != 1 {
			t.Fatalf("%s: %v", tt.limit, err)
		}
		if r := ls[0].Check(base, tt.cur); r.OK != tt.ok {
			t.Errorf("%s: ok %v, want %v (%s)", tt.limit, r.OK, tt.ok, r.Message)
		}
	}
	for _, bad := range []string{"pay.p99 20%", "pay.p99 +x%", "nope.p99 +1%", "pay.soon +1%", "pay +1%"} {
		if _, err := load.ParseLimits(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	cs := load.Compare(base, summaryWith(15, 1))
	var b strings.Builder
	load.WriteComparison(&b, base, summaryWith(15, 1), cs, false)
	if !strings.Contains(b.String(), "+50.0%") || !strings.Contains(b.String(), "pay") {
		t.Errorf("comparison:\n%s", b.String())
	}
}
