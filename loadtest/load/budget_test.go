package load_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/paycode/paycode/loadtest/load"
)

func TestParseBudgets(t *testing.T) {
	tests := []struct {
		in      string
		want    []load.Budget // Selector, Metric, Op, Value only
		wantErr string
	}{
		{"", nil, ""},
		{"pay.p99<=50ms", []load.Budget{{Selector: "pay", Metric: "p99", Op: "<=", Value: 50}}, ""},
		{" pay.p99.9 < 1s , inquiry.p99<=5ms ", []load.Budget{{Selector: "pay", Metric: "p99.9", Op: "<", Value: 1000}, {Selector: "inquiry", Metric: "p99", Op: "<=", Value: 5}}, ""},
		{"pay.success>=99.9%", []load.Budget{{Selector: "pay", Metric: "success", Op: ">=", Value: 0.999}}, ""},
		{"all.errors<=0.001", []load.Budget{{Selector: "all", Metric: "errors", Op: "<=", Value: 0.001}}, ""},
		{"pay.engine.p99<=1ms", []load.Budget{{Selector: "pay", Metric: "engine.p99", Op: "<=", Value: 1}}, ""},
		{"pay/SUCCESS.max<=250µs", []load.Budget{{Selector: "pay/SUCCESS", Metric: "max", Op: "<=", Value: 0.25}}, ""},
		{"pay/lost_response.p50>4s", []load.Budget{{Selector: "pay/lost_response", Metric: "p50", Op: ">", Value: 4000}}, ""},
		{"pay.rate>=1000/s", []load.Budget{{Selector: "pay", Metric: "rate", Op: ">=", Value: 1000}}, ""},
		{"pay.p99=50ms", nil, "want selector.metric<=value"},
		{"p99<=50ms", nil, "selector.metric"},
		{"pays.p99<=50ms", nil, `unknown kind "pays"`},
		{"pay.p98<=50ms", nil, `unknown metric "p98"`},
		{"pay.p99<=50", nil, "needs a duration"},
		{"pay.success>=120%", nil, "needs a share"},
		{"pay.p99<=50ms,pay.p98<=1ms,cancel.p99<=x", nil, "p98"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := load.ParseBudgets(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, load.ErrBudget) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d budgets, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Selector != w.Selector || g.Metric != w.Metric || g.Op != w.Op || g.Value < w.Value*0.999999 || g.Value > w.Value*1.000001 {
					t.Errorf("budget %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestEvalBudgets(t *testing.T) {
	s := &load.Summary{
		Kinds: []load.Row{
			{Kind: "all", Requests: 1000, OK: 990, Errors: 2, Success: 0.99},
			{Kind: "pay", Requests: 1000, OK: 999, Success: 0.999, Rate: 450,
				Latency: load.Percentiles{P50: 2, P99: 40, P999: 80, Max: 90}, Engine: load.Percentiles{P99: 0.8}},
		},
		Results: []load.Row{{Kind: "pay", Result: "SUCCESS", Requests: 850, Latency: load.Percentiles{P99: 30}}},
		Classes: []load.Row{{Kind: "pay", Class: "lost_response", Requests: 5, Latency: load.Percentiles{P50: 5000}}},
	}
	tests := []struct {
		budget string
		ok     bool
		msg    string
	}{
		{"pay.p99<=50ms", true, "pay.p99<=50ms: 40.0ms"},
		{"pay.p99<=30ms", false, "pay.p99<=30ms broken: pay.p99 is 40.0ms"},
		{"pay.p99.9<80ms", false, "broken"},
		{"pay.engine.p99<=1ms", true, ""},
		{"pay.success>=99.9%", true, ""},
		{"all.success>=99.9%", false, "all.success is 99.000%"},
		{"all.errors<=0.1%", false, "all.errors is 0.200%"},
		{"pay/SUCCESS.p99<=35ms", true, ""},
		{"pay/lost_response.p50>=4s", true, ""},
		{"pay.rate>=500", false, "pay.rate is 450.0"},
		{"refund.p99<=1s", false, "no refund requests were measured"},
		{"pay/RISK_REJECT.p99<=1s", false, "no pay/RISK_REJECT requests"},
	}
	for _, tt := range tests {
		bs, err := load.ParseBudgets(tt.budget)
		if err != nil {
			t.Fatal(err)
		}
		r := load.EvalBudgets(bs, s)[0]
		if r.OK != tt.ok || !strings.Contains(r.Message, tt.msg) {
			t.Errorf("%s: ok=%v %q, want ok=%v containing %q", tt.budget, r.OK, r.Message, tt.ok, tt.msg)
		}
	}
}
