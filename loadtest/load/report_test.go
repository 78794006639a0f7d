package load_test

import (
	"math/rand/v2"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/paycode/paycode/loadtest/load"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// TestRecorderRowsMerged: the "all" and per-kind rows, whose histograms
// the Recorder merges from the kind × resultCode rows and the invalid
// observations when read, give the figures of histograms recorded
// directly with every observation of the group.
func TestRecorderRowsMerged(t *testing.T) {
	const minUS, maxUS, digits = 1, int64(10 * time.Minute / time.Microsecond), 3
	type direct struct {
		count               uint64
		total, engine, rest *hdrhistogram.Histogram
	}
	newDirect := func() *direct {
		return &direct{total: hdrhistogram.New(minUS, maxUS, digits), engine: hdrhistogram.New(minUS, maxUS, digits),
			rest: hdrhistogram.New(minUS, maxUS, digits)}
	}
	want := map[string]*direct{"all": newDirect()}
	rec := load.NewRecorder()
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []load.Kind{load.KindPay, load.KindInquiry, load.KindCancel}
	results := []string{"SUCCESS", "PAYMENT_IN_PROCESS", ""}
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for i := range 20000 {
		o := load.Observation{Kind: kinds[rng.IntN(len(kinds))], Result: results[rng.IntN(len(results))], Valid: i%97 != 0,
			Class: mppsim.OutcomeSuccess, Err: rng.IntN(50) == 0, EngineUS: -1,
			Latency: time.Duration(rng.ExpFloat64()*3000+1) * time.Microsecond}
		o.OK = !o.Err && o.Result == "SUCCESS"
		if rng.IntN(4) > 0 {
			o.EngineUS = rng.Int64N(o.Latency.Microseconds() + 1)
		}
		rec.Add(o, start.Add(time.Duration(i)*time.Millisecond))
		groups := []string{"all"}
		if o.Valid {
			groups = append(groups, o.Kind.String())
		}
		for _, g := range groups {
			d := want[g]
			if d == nil {
				d = newDirect()
				want[g] = d
			}
			d.count++
			us := min(max(o.Latency.Microseconds(), minUS), maxUS)
			d.total.RecordValue(us)
			if o.EngineUS >= 0 {
				d.engine.RecordValue(min(max(o.EngineUS, minUS), maxUS))
				d.rest.RecordValue(min(max(o.Latency.Microseconds()-o.EngineUS, minUS), maxUS))
			}
		}
	}
	ms := func(h *hdrhistogram.Histogram) load.Percentiles {
		f := func(us int64) float64 { return float64(us) / 1000 }
		return load.Percentiles{P50: f(h.ValueAtQuantile(50)), P90: f(h.ValueAtQuantile(90)), P99: f(h.ValueAtQuantile(99)),
			P999: f(h.ValueAtQuantile(99.9)), Max: f(h.Max()), Mean: h.Mean() / 1000}
	}
	kindRows, _, _ := rec.Rows(20)
	if len(kindRows) != 1+len(kinds) {
		t.Fatalf("%d kind rows, want %d", len(kindRows), 1+len(kinds))
	}
	for _, row := range kindRows {
		d := want[row.Kind]
		if d == nil {
			t.Fatalf("row %q not expected", row.Kind)
		}
		if row.Requests != d.count {
			t.Errorf("%s: %d requests, want %d", row.Kind, row.Requests, d.count)
		}
		for _, c := range []struct {
			name      string
			got, want load.Percentiles
		}{{"latency", row.Latency, ms(d.total)}, {"engine", row.Engine, ms(d.engine)}, {"rest", row.Rest, ms(d.rest)}} {
			if c.got != c.want {
				t.Errorf("%s %s: %+v, want %+v", row.Kind, c.name, c.got, c.want)
			}
		}
	}
}
