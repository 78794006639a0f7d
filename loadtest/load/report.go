package load

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/paycode/paycode/loadtest/mppsim"
)

// Histogram range: 1 µs to 10 min at 3 significant digits.
const (
	histMinUS  = 1
	histMaxUS  = int64(10 * time.Minute / time.Microsecond)
	histDigits = 3
)

// stats is one group of requests: counts and three HDR histograms (µs)
// of the total latency, paycode's time (the paycode-engine-us header)
// and the rest (total minus paycode's: network, HTTP client, generator).
type stats struct {
	count, ok, errs, withEngine uint64
	total, engine, rest         *hdrhistogram.Histogram
}

func newStats() *stats {
	return &stats{
		total:  hdrhistogram.New(histMinUS, histMaxUS, histDigits),
		engine: hdrhistogram.New(histMinUS, histMaxUS, histDigits),
		rest:   hdrhistogram.New(histMinUS, histMaxUS, histDigits),
	}
}

func clampUS(us int64) int64 { return min(max(us, histMinUS), histMaxUS) }

// tally counts o without recording its latencies.
func (s *stats) tally(o *Observation) {
	s.count++
	if o.OK {
		s.ok++
	}
	if o.Err {
		s.errs++
	}
	if o.EngineUS >= 0 {
		s.withEngine++
	}
}

func (s *stats) add(o *Observation) {
	s.tally(o)
	us := o.Latency.Microseconds()
	s.total.RecordValue(clampUS(us))
	if o.EngineUS >= 0 {
		s.engine.RecordValue(clampUS(o.EngineUS))
		s.rest.RecordValue(clampUS(us - o.EngineUS))
	}
}

type rowKey struct {
	kind   Kind
	result string
}

// Recorder aggregates observations. It is not safe for concurrent use:
// Run feeds it from the one goroutine that reads vegeta's results.
//
// Latencies are recorded in the finest groups only: the kind ×
// resultCode rows, the test-code rows (fresh pays by row, reported
// beside them) and the observations that are not a request of this run
// (invalid). The "all" and per-kind groups, unions of the first and the
// last, keep counts only; their histograms are merged when read
// (mergedAll, mergedKinds), which gives the same figures as recording
// into them (a merge adds bucket counts) with 6 records a result instead
// of 12. Each record into a histogram of this range (172 KB of counts)
// touches a cache line of its own: RecordValues was 2 % of the
// generator's CPU at 3,000/s, its largest function of its own.
type Recorder struct {
	all     *stats            // counts only
	kinds   [kindCount]*stats // counts only
	results map[rowKey]*stats
	classes map[mppsim.Outcome]*stats // fresh pays by test-code row
	invalid *stats                    // observations that are no request of the run
	first   time.Time
	last    time.Time // latest answer
	// the live line's previous totals
	liveCount, liveOK, liveErr uint64
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	r := &Recorder{all: newStats(), results: map[rowKey]*stats{}, classes: map[mppsim.Outcome]*stats{}}
	return r
}

// Add records one observation; start is the request's send time.
func (r *Recorder) Add(o Observation, start time.Time) {
	if r.first.IsZero() || start.Before(r.first) {
		r.first = start
	}
	if end := start.Add(o.Latency); end.After(r.last) {
		r.last = end
	}
	r.all.tally(&o)
	if !o.Valid {
		if r.invalid == nil {
			r.invalid = newStats()
		}
		r.invalid.add(&o)
		return
	}
	if r.kinds[o.Kind] == nil {
		r.kinds[o.Kind] = &stats{}
	}
	r.kinds[o.Kind].tally(&o)
	res := o.Result
	if o.Err {
		res = "ERROR"
	} else if res == "" {
		res = "NO_RESULT"
	}
	k := rowKey{o.Kind, res}
	s := r.results[k]
	if s == nil {
		s = newStats()
		r.results[k] = s
	}
	s.add(&o)
	if o.Kind == KindPay || o.Kind == KindImage {
		c := r.classes[o.Class]
		if c == nil {
			c = newStats()
			r.classes[o.Class] = c
		}
		c.add(&o)
	}
}

// merged returns counts' counts with the histograms of parts merged.
func merged(counts *stats, parts []*stats) *stats {
	m := newStats()
	m.count, m.ok, m.errs, m.withEngine = counts.count, counts.ok, counts.errs, counts.withEngine
	for _, p := range parts {
		m.total.Merge(p.total)
		m.engine.Merge(p.engine)
		m.rest.Merge(p.rest)
	}
	return m
}

// parts returns the groups recorded with histograms whose union is kind
// k (all: every kind and the invalid observations).
func (r *Recorder) parts(all bool, k Kind) []*stats {
	var ps []*stats
	for key, s := range r.results {
		if all || key.kind == k {
			ps = append(ps, s)
		}
	}
	if all && r.invalid != nil {
		ps = append(ps, r.invalid)
	}
	return ps
}

// mergedAll is the "all" group with its histograms.
func (r *Recorder) mergedAll() *stats { return merged(r.all, r.parts(true, 0)) }

// mergedKinds is each kind's group with its histograms (nil for a kind
// never seen).
func (r *Recorder) mergedKinds() [kindCount]*stats {
	var out [kindCount]*stats
	for k, s := range r.kinds {
		if s != nil {
			out[k] = merged(s, r.parts(false, Kind(k)))
		}
	}
	return out
}

// Count is how many results were recorded.
func (r *Recorder) Count() uint64 { return r.all.count }

// Live returns the live line: answers per second since the previous
// call, cumulative successes and errors, p50/p99 so far.
func (r *Recorder) Live(elapsed time.Duration, sinceLast time.Duration, requested float64) string {
	d := sinceLast.Seconds()
	if d <= 0 {
		d = 1
	}
	rate := float64(r.all.count-r.liveCount) / d
	r.liveCount, r.liveOK, r.liveErr = r.all.count, r.all.ok, r.all.errs
	total := hdrhistogram.New(histMinUS, histMaxUS, histDigits)
	for _, p := range r.parts(true, 0) {
		total.Merge(p.total)
	}
	return fmt.Sprintf("%6.1fs  req %7.0f/s  rate %7.1f/s  ok %d  errors %d  p50 %s  p99 %s",
		elapsed.Seconds(), requested, rate, r.all.ok, r.all.errs,
		fmtUS(total.ValueAtQuantile(50)), fmtUS(total.ValueAtQuantile(99)))
}

func fmtUS(us int64) string {
	switch {
	case us >= 1_000_000:
		return fmt.Sprintf("%.2fs", float64(us)/1e6)
	case us >= 1000:
		return fmt.Sprintf("%.2fms", float64(us)/1e3)
	}
	return fmt.Sprintf("%dµs", us)
}

// Percentiles are latencies in milliseconds.
type Percentiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func percentiles(h *hdrhistogram.Histogram) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Percentiles{
		P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()), Mean: h.Mean() / 1000,
	}
}

// Row is the statistics of one group: a kind, a kind and a resultCode
// (Result), or fresh pays of one test-code row (Class).
type Row struct {
	Kind     string  `json:"kind"`
	Result   string  `json:"result,omitempty"`
	Class    string  `json:"class,omitempty"`
	Requests uint64  `json:"requests"`
	OK       uint64  `json:"ok"`
	Errors   uint64  `json:"errors"`
	Rate     float64 `json:"rate"`    // answers/s over the run
	Success  float64 `json:"success"` // OK / Requests
	// Latency is the total as the lane sees it; Engine is the time paycode
	// reports in the paycode-engine-us header and Rest the total minus it
	// (the network, the HTTP client, the generator), over the requests
	// that carried the header. The header is meant to exclude the wallet
	// calls' wait; where paycode includes it, Engine holds the wallets'
	// time too.
	Latency Percentiles `json:"latency_ms"`
	Engine  Percentiles `json:"engine_ms"`
	Rest    Percentiles `json:"rest_ms"`
}

func (s *stats) row(kind, result, class string, secs float64) Row {
	r := Row{Kind: kind, Result: result, Class: class, Requests: s.count, OK: s.ok, Errors: s.errs,
		Latency: percentiles(s.total), Engine: percentiles(s.engine), Rest: percentiles(s.rest)}
	if secs > 0 {
		r.Rate = float64(s.count) / secs
	}
	if s.count > 0 {
		r.Success = float64(s.ok) / float64(s.count)
	}
	return r
}

// Rows returns the rows: everything ("all"), each kind, each kind ×
// resultCode, and fresh pays by test-code row; secs is the run's length
// for the rates.
func (r *Recorder) Rows(secs float64) (kinds, results, classes []Row) {
	kinds = append(kinds, r.mergedAll().row("all", "", "", secs))
	for k, s := range r.mergedKinds() {
		if s != nil {
			kinds = append(kinds, s.row(Kind(k).String(), "", "", secs))
		}
	}
	keys := make([]rowKey, 0, len(r.results))
	for k := range r.results {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b rowKey) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(r.results[b].count, r.results[a].count), strings.Compare(a.result, b.result))
	})
	for _, k := range keys {
		results = append(results, r.results[k].row(k.kind.String(), k.result, "", secs))
	}
	for _, o := range mppsim.Outcomes() {
		if s := r.classes[o]; s != nil {
			classes = append(classes, s.row("pay", "", o.String(), secs))
		}
	}
	return kinds, results, classes
}

// Summary is a run's report, written as summary.json.
type Summary struct {
	Scenario string `json:"scenario"`
	Target   string `json:"target"`
	Embedded bool   `json:"embedded"`
	// Journal is Options.Journal: the journal and sync mode paycode ran.
	Journal string `json:"journal,omitempty"`
	// Run is the run's paymentRequestId prefix (random per run).
	Run     string    `json:"run"`
	Started time.Time `json:"started"`
	// Duration is the attack's length (seconds): first request to last
	// request sent; Wait adds the time until the last answer.
	Duration float64 `json:"duration_s"`
	Wait     float64 `json:"wait_s"`
	// Requested is what the pacer asked for over Duration; Achieved what
	// was sent. Ratio below MinAchievedRatio fails the run.
	Requested struct {
		Requests float64 `json:"requests"`
		Rate     float64 `json:"rate"`
	} `json:"requested"`
	Achieved struct {
		Requests uint64  `json:"requests"`
		Rate     float64 `json:"rate"`
		Ratio    float64 `json:"ratio"`
	} `json:"achieved"`
	// Throughput is answers per second over Duration+Wait.
	Throughput float64 `json:"throughput"`
	Success    float64 `json:"success"`
	Kinds      []Row   `json:"kinds"`
	Results    []Row   `json:"results"`
	Classes    []Row   `json:"classes"`
	CPU        CPU     `json:"cpu"`
	// SendLag is how late the paced sender's hits left after they were
	// due (Sender.Lag); latencies run from the due time, so it is in
	// them. Zero with vegeta's Attacker, whose latencies run from the
	// send.
	SendLag Percentiles `json:"send_lag_ms"`
	// FollowUpsNotSent were scheduled but fell after the last stage.
	FollowUpsNotSent int            `json:"follow_ups_not_sent"`
	Check            *CheckResult   `json:"check,omitempty"`
	Budgets          []BudgetResult `json:"budgets,omitempty"`
	Failures         []string       `json:"failures,omitempty"`
	Passed           bool           `json:"passed"`
	Outputs          []string       `json:"outputs,omitempty"`
	// Discarded: the run sent and counted only (Options.Discard): no
	// rows, no results file, no check or budgets.
	Discarded bool `json:"discarded,omitempty"`
}

// CPU is CPU time used during the attack and per request sent.
type CPU struct {
	// Scope says whose CPU Process is: the load generator alone, or, in
	// embedded mode, the generator with paycode and the wallets.
	Scope        string  `json:"scope"`
	ProcessSecs  float64 `json:"process_s"`
	PerRequestUS float64 `json:"per_request_us"`
	// SystemPerRequestUS is the kernel's part of PerRequestUS (system
	// calls, the network stack, wake-ups).
	SystemPerRequestUS float64 `json:"system_per_request_us"`
	// Target is a separate paycode process's CPU (-target-pid), if read.
	TargetSecs               float64 `json:"target_s,omitempty"`
	TargetPerRequestUS       float64 `json:"target_per_request_us,omitempty"`
	TargetSystemPerRequestUS float64 `json:"target_system_per_request_us,omitempty"`
}

// Row finds a row by selector: a kind ("pay", or "all"), kind/RESULT
// ("pay/SUCCESS") or kind/class ("pay/lost_response").
func (s *Summary) Row(sel string) (Row, bool) {
	kind, sub, _ := strings.Cut(sel, "/")
	if sub == "" {
		for _, r := range s.Kinds {
			if r.Kind == kind {
				return r, true
			}
		}
		return Row{}, false
	}
	for _, r := range s.Results {
		if r.Kind == kind && r.Result == sub {
			return r, true
		}
	}
	for _, r := range s.Classes {
		if r.Kind == kind && r.Class == sub {
			return r, true
		}
	}
	return Row{}, false
}

// VegetaSuccessNote says which success figure counts. vegeta report's
// "Success" is the share of HTTP 200 answers, and every Antom answer is
// HTTP 200, failures included.
const VegetaSuccessNote = "vegeta report / vegeta plot read results.bin, but vegeta's \"Success\" counts HTTP 200 answers and every Antom answer, failures included, is HTTP 200: the success figures here (the answer the test-code table predicts) are the ones that count."

const latencyNote = "(latency in ms; paycode = the time paycode reports in the paycode-engine-us header; rest = total − paycode: loopback network, HTTP client, generator)"

// WriteText writes the human report.
func (s *Summary) WriteText(w io.Writer) error {
	verdict := "PASSED"
	if !s.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "\n%s — %s\n", s.Scenario, verdict)
	s.writeHead(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "\trequests\trate/s\tsuccess\terrors\tp50\tp90\tp99\tp99.9\tmax\tpaycode p50\tp99\tp99.9\trest p50\tp99\t\n"
	line := func(name string, r Row) {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f%%\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, r.Requests, r.Rate, 100*r.Success, r.Errors,
			ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.P999), ms(r.Latency.Max),
			ms(r.Engine.P50), ms(r.Engine.P99), ms(r.Engine.P999), ms(r.Rest.P50), ms(r.Rest.P99))
	}
	fmt.Fprint(tw, "\nby kind"+head)
	for _, r := range s.Kinds {
		line(r.Kind, r)
	}
	fmt.Fprint(tw, "\nby kind and resultCode"+head)
	for _, r := range s.Results {
		line(r.Kind+"/"+r.Result, r)
	}
	if len(s.Classes) > 0 {
		fmt.Fprint(tw, "\npays by test code"+head)
		for _, r := range s.Classes {
			line("pay/"+r.Class, r)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\n"+latencyNote)
	if s.FollowUpsNotSent > 0 {
		fmt.Fprintf(w, "follow-ups scheduled after the last stage, not sent: %d\n", s.FollowUpsNotSent)
	}
	if c := s.Check; c != nil {
		fmt.Fprintf(w, "\ncorrectness: %s\n", c)
		for _, e := range c.Examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if len(s.Budgets) > 0 {
		fmt.Fprintln(w, "\nbudgets:")
		for _, b := range s.Budgets {
			mark := "ok    "
			if !b.OK {
				mark = "BROKEN"
			}
			fmt.Fprintf(w, "  %s %s\n", mark, b.Message)
		}
	}
	for _, f := range s.Failures {
		fmt.Fprintf(w, "FAIL: %s\n", f)
	}
	for _, o := range s.Outputs {
		fmt.Fprintf(w, "wrote %s\n", o)
	}
	return nil
}

// writeHead writes the run's lines under the headline: target, rates,
// CPU.
func (s *Summary) writeHead(w io.Writer) {
	fmt.Fprintf(w, "target %s (embedded %v), run %s, %.1fs + %.1fs wait\n", s.Target, s.Embedded, s.Run, s.Duration, s.Wait)
	if s.Journal != "" {
		fmt.Fprintf(w, "journal %s\n", s.Journal)
	}
	fmt.Fprintf(w, "requested %.0f req (%.1f/s)  achieved %d req (%.1f/s) = %.2f%%  throughput %.1f answers/s  success %.3f%%\n",
		s.Requested.Requests, s.Requested.Rate, s.Achieved.Requests, s.Achieved.Rate, 100*s.Achieved.Ratio, s.Throughput, 100*s.Success)
	if s.SendLag.Max > 0 {
		fmt.Fprintf(w, "send lag (due to sent, in every latency): p50 %s  p99 %s  p99.9 %s  max %s ms\n", ms(s.SendLag.P50), ms(s.SendLag.P99), ms(s.SendLag.P999), ms(s.SendLag.Max))
	}
	fmt.Fprintf(w, "CPU %s: %.2fs, %.1f µs/request (system %.1f)", s.CPU.Scope, s.CPU.ProcessSecs, s.CPU.PerRequestUS, s.CPU.SystemPerRequestUS)
	if s.CPU.TargetSecs > 0 {
		fmt.Fprintf(w, "; paycode process: %.2fs, %.1f µs/request (system %.1f)", s.CPU.TargetSecs, s.CPU.TargetPerRequestUS, s.CPU.TargetSystemPerRequestUS)
	}
	fmt.Fprintln(w)
}

func ms(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
