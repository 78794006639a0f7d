package load

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"

	"github.com/paycode/paycode/loadtest/stack"
)

// MinAchievedRatio is the least achieved/requested rate a run may have:
// below it the generator, not the server, set the pace, and latency
// figures hide coordinated omission.
const MinAchievedRatio = 0.98

// Output file names inside Options.OutDir.
const (
	ResultsFile = "results.bin"  // vegeta's binary (gob) results: vegeta report / plot read it
	SummaryFile = "summary.json" // Summary as JSON
	ReportFile  = "report.html"  // self-contained HTML: latency over time, percentile spectrum
)

// maxOverrun bounds how long past the scenario's duration a generator
// that fell behind may keep sending (the achieved-rate gate fails it).
const maxOverrun = 0.25

// Options configure Run.
type Options struct {
	Scenario *Scenario // validated, defaults filled
	BaseURL  string    // paycode's lane API, e.g. http://127.0.0.1:8080
	// Targets, when set, spread the lanes over several paycodes' lane
	// APIs (BaseURL is then ignored); see TargeterConfig.BaseURLs. One
	// correctness check covers them all, each payment read back from the
	// paycode its lane talked to.
	Targets []string
	// Viewer reads paycode's view of each payment after the run; an
	// HTTPViewer on each target when nil.
	Viewer Viewer
	// Ledgers are the simulated wallets' books for the correctness check.
	// Nil requires NoCheck.
	Ledgers LedgerSource
	// LedgerFilter picks the ledger entries of this run (for orphan
	// charges); nil means RunFilter of the run's request-id prefix.
	LedgerFilter LedgerFilter
	NoCheck      bool
	// Settled, when set, reports whether paycode has no follow-up left
	// (embedded mode reads the engine's queue); the drain waits for it.
	Settled func() bool
	Budgets []Budget
	// OutDir receives ResultsFile, SummaryFile and ReportFile; "" writes
	// nothing.
	OutDir string
	// Live receives a line per second (nil: none); Progress draws a bar
	// and rewrites one line instead (for a terminal).
	Live     io.Writer
	Progress bool
	// Embedded says paycode runs in this process, so the process CPU
	// includes it.
	Embedded bool
	// Journal describes the journal and sync mode paycode ran with, for
	// the report's header ("" when unknown).
	Journal   string
	TargetPID int // a separate paycode process whose CPU to read (0: none)
	RunID     int // see TargeterConfig
	// KeepBodies keeps response bodies in the results file (they are
	// dropped by default: vegeta report does not need them).
	KeepBodies bool
	// NetHTTP sends with vegeta's own net/http transport instead of
	// FastTransport (to compare the generator's cost, or for a target
	// fasthttp cannot talk to).
	NetHTTP bool
	// Vegeta sends with vegeta's own Attacker (over FastTransport, or
	// net/http with NetHTTP) instead of Sender: to compare the
	// generator's cost. NetHTTP implies it.
	Vegeta bool
	// Discard sends on the schedule and counts the requests, and records
	// nothing else: no observation, latency, results file, check or
	// budgets. It is the generator's floor (bench/loadgen.sh -floor):
	// pacing and the HTTP exchange alone, what recording adds to it.
	// Not with Vegeta or NetHTTP.
	Discard bool
	// MinAchieved is the least achieved/requested rate the run may have
	// (0: MinAchievedRatio; negative: no such gate). Below it the
	// generator set the pace and latency figures hide coordinated
	// omission; a run whose subject is correctness on a shared machine
	// (a test) may turn the gate off, the figures still say what ran.
	MinAchieved float64
}

// Run attacks paycode with o.Scenario, checks the outcome and returns the
// summary. It returns an error only when the run could not be made or
// its outputs not written; a run that was made but broke a gate has
// Passed false and Failures saying why.
func Run(ctx context.Context, o Options) (*Summary, error) {
	sc := o.Scenario
	if sc == nil {
		return nil, errors.New("load: no scenario")
	}
	if o.Discard {
		if o.Vegeta || o.NetHTTP {
			return nil, errors.New("load: Discard is for the paced sender, not vegeta's Attacker")
		}
		o.NoCheck = true
	}
	if o.Ledgers == nil && !o.NoCheck {
		return nil, errors.New("load: no ledgers for the correctness check (give the simulated wallets' URLs, or disable the check)")
	}
	targets := o.Targets
	if len(targets) == 0 {
		targets = []string{o.BaseURL}
	}
	budgets := o.Budgets
	for _, b := range sc.Budgets {
		bs, err := ParseBudgets(b)
		if err != nil {
			return nil, err
		}
		budgets = append(budgets, bs...)
	}
	tr, err := NewTargeter(sc, TargeterConfig{BaseURLs: targets, RunID: o.RunID})
	if err != nil {
		return nil, err
	}
	if o.Viewer == nil {
		rv := &RoutedViewer{Targeter: tr}
		for _, u := range targets {
			rv.Viewers = append(rv.Viewers, &HTTPViewer{BaseURL: u})
		}
		o.Viewer = rv
	}
	var enc vegeta.Encoder
	var resultsBuf *bufio.Writer
	var outputs []string
	if o.OutDir != "" {
		if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
			return nil, err
		}
		f, err := os.Create(filepath.Join(o.OutDir, ResultsFile))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		resultsBuf = bufio.NewWriterSize(f, 1<<20)
		enc = vegeta.NewEncoder(resultsBuf)
		outputs = append(outputs, f.Name())
	}
	l := sc.Limits
	pacer := NewStagePacer(sc.Stages)
	planned := sc.Duration()
	rec := NewRecorder()
	pl := newPlot(sc.Name)
	until := time.Duration(float64(planned)*(1+maxOverrun)) + time.Second

	var mu sync.Mutex // col and the live line: the sender's workers emit concurrently
	col := &collector{tr: tr, rec: rec}
	if o.OutDir != "" && !o.Discard {
		col.out = newOutputWriter(pl, enc, o.KeepBodies)
	}

	cpu0, err := processCPU()
	if err != nil {
		return nil, err
	}
	var tcpu0 cpuTime
	if o.TargetPID > 0 {
		if tcpu0, err = pidCPU(o.TargetPID); err != nil {
			return nil, err
		}
	}
	began := time.Now()
	var stop func()
	var snd *Sender
	finished := make(chan struct{})
	if o.Vegeta || o.NetHTTP {
		opts := []func(*vegeta.Attacker){
			vegeta.Workers(l.Workers), vegeta.MaxWorkers(l.MaxWorkers),
			vegeta.Connections(l.Connections), vegeta.MaxConnections(l.MaxConnections),
			vegeta.Timeout(l.Timeout), vegeta.KeepAlive(true), vegeta.Redirects(vegeta.NoFollow),
		}
		if !o.NetHTTP {
			// FastTransport holds the connection limit and the timeout;
			// the options that reach into a *http.Transport must not run.
			opts = []func(*vegeta.Attacker){
				vegeta.Client(&http.Client{Transport: NewFastTransport(l.MaxConnections, l.Timeout)}),
				vegeta.Workers(l.Workers), vegeta.MaxWorkers(l.MaxWorkers), vegeta.Redirects(vegeta.NoFollow),
			}
		}
		atk := vegeta.NewAttacker(opts...)
		stop = func() { atk.Stop() }
		results := atk.Attack(tr.Func(), pacer, until, sc.Name)
		go func() {
			defer close(finished)
			for r := range results {
				obs := tr.Observe(r)
				mu.Lock()
				if !col.add(r, &obs) {
					atk.Stop()
				}
				mu.Unlock()
			}
		}()
	} else {
		snd = &Sender{Targeter: tr, Pacer: pacer, Client: NewFastTransport(l.MaxConnections, l.Timeout).Client,
			Timeout: l.Timeout, Workers: int(min(l.Workers, senderWorkers)), MaxWorkers: int(min(l.MaxWorkers, 1<<20)), Name: sc.Name}
		stop = snd.Stop
		emit := func(r *vegeta.Result) {
			obs := tr.Observe(r) // its own lock: the run's is held for the copy only
			mu.Lock()
			ok := col.add(r, &obs)
			mu.Unlock()
			if !ok {
				snd.Stop()
			}
		}
		if o.Discard {
			emit = func(r *vegeta.Result) {
				mu.Lock()
				col.sent(r)
				mu.Unlock()
			}
		}
		go func() {
			defer close(finished)
			snd.Attack(until, emit)
		}()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastTick := began
	done := ctx.Done()
loop:
	for {
		select {
		case <-finished:
			break loop
		case now := <-tick.C:
			if o.Live != nil {
				el := now.Sub(began)
				mu.Lock()
				line := rec.Live(el, now.Sub(lastTick), pacer.Rate(el))
				mu.Unlock()
				if o.Progress {
					fmt.Fprintf(o.Live, "\r%s %s\x1b[K", bar(el, planned), line)
				} else {
					fmt.Fprintln(o.Live, line)
				}
			}
			lastTick = now
		case <-done:
			stop()
			done = nil // drain what is in flight
		}
	}
	if col.out != nil {
		// Before reading the CPU time: the writer's work is the
		// generator's.
		if err := col.out.close(); err != nil {
			return nil, err
		}
	}
	if o.Progress && o.Live != nil {
		fmt.Fprintln(o.Live)
	}
	cpu1, err := processCPU()
	if err != nil {
		return nil, err
	}
	s := &Summary{Scenario: sc.String(), Target: strings.Join(targets, ","), Embedded: o.Embedded, Journal: o.Journal, Started: began.UTC(),
		Run: tr.RequestIDPrefix(), Discarded: o.Discard}
	if snd != nil && snd.LastSent().After(col.lastSend) {
		// Results carry their due times; the achieved rate is over the
		// sends.
		col.lastSend = snd.LastSent()
	}
	span := col.lastSend.Sub(began)
	count := col.count
	s.Duration = span.Seconds()
	if !rec.last.IsZero() && !col.lastSend.IsZero() {
		s.Wait = rec.last.Sub(col.lastSend).Seconds()
	}
	s.Requested.Requests = float64(pacer.Hits())
	s.Requested.Rate = s.Requested.Requests / planned.Seconds()
	s.Achieved.Requests = count
	s.Achieved.Rate = float64(count) / max(span, planned).Seconds()
	if s.Requested.Rate > 0 {
		s.Achieved.Ratio = s.Achieved.Rate / s.Requested.Rate
	}
	total := s.Duration + s.Wait
	if total > 0 {
		s.Throughput = float64(rec.Count()) / total
	}
	if rec.Count() > 0 {
		s.Success = float64(rec.all.ok) / float64(rec.Count())
	}
	s.Kinds, s.Results, s.Classes = rec.Rows(max(span, planned).Seconds())
	s.CPU.Scope = "load generator"
	if o.Embedded {
		s.CPU.Scope = "load generator + embedded paycode + wallets (one process)"
	}
	cpu := cpu1.sub(cpu0)
	s.CPU.ProcessSecs = cpu.total.Seconds()
	if count > 0 {
		s.CPU.PerRequestUS = float64(cpu.total.Microseconds()) / float64(count)
		s.CPU.SystemPerRequestUS = float64(cpu.system.Microseconds()) / float64(count)
	}
	if o.TargetPID > 0 {
		if tcpu1, err := pidCPU(o.TargetPID); err == nil {
			t := tcpu1.sub(tcpu0)
			s.CPU.TargetSecs = t.total.Seconds()
			if count > 0 {
				s.CPU.TargetPerRequestUS = float64(t.total.Microseconds()) / float64(count)
				s.CPU.TargetSystemPerRequestUS = float64(t.system.Microseconds()) / float64(count)
			}
		}
	}
	s.FollowUpsNotSent = tr.Pending()
	if snd != nil {
		s.SendLag = percentiles(snd.Lag())
	}

	minAchieved := o.MinAchieved
	if minAchieved == 0 {
		minAchieved = MinAchievedRatio
	}
	if minAchieved > 0 && s.Achieved.Ratio < minAchieved {
		s.Failures = append(s.Failures, fmt.Sprintf("achieved rate %.1f/s is %.2f%% of the requested %.1f/s (minimum %.0f%%): the generator could not keep the schedule, so latency figures would hide coordinated omission; lower the rate or raise the worker/connection caps",
			s.Achieved.Rate, 100*s.Achieved.Ratio, s.Requested.Rate, 100*minAchieved))
	}
	if ctx.Err() != nil {
		s.Failures = append(s.Failures, "interrupted before the end of the scenario")
	}
	if !o.NoCheck {
		filter := o.LedgerFilter
		if filter == nil {
			filter = RunFilter(tr.RequestIDPrefix())
		}
		c, err := drainAndCheck(context.WithoutCancel(ctx), tr, o, filter)
		if err != nil {
			s.Failures = append(s.Failures, "correctness check could not run: "+err.Error())
		} else {
			s.Check = c
			if !c.OK() {
				s.Failures = append(s.Failures, c.failure())
			}
		}
	}
	if o.Discard {
		budgets = nil // nothing was recorded to hold them to
	}
	s.Budgets = EvalBudgets(budgets, s)
	for _, b := range s.Budgets {
		if !b.OK {
			s.Failures = append(s.Failures, "budget "+b.Message)
		}
	}
	s.Passed = len(s.Failures) == 0

	if o.OutDir != "" {
		if err := resultsBuf.Flush(); err != nil {
			return nil, err
		}
		pl.Close()
		s.Outputs = append(outputs, filepath.Join(o.OutDir, SummaryFile), filepath.Join(o.OutDir, ReportFile))
		js, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(s.Outputs[1], append(js, '\n'), 0o644); err != nil {
			return nil, err
		}
		if err := WriteHTML(s.Outputs[2], pl, s, rec); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// senderWorkers caps the paced Sender's initial workers (limits.workers
// is vegeta's Attacker's). The Sender adds a worker whenever none is
// left waiting for the next hit, up to limits.maxWorkers, so it sizes its
// own pool: about the requests in flight plus one, a handful at
// 3,000/s. Started with the scenario's 64, each idle worker claims a hit
// and sleeps until it is due, so the workers take turns and each wakes
// every 64 hits (20 ms at 3,000/s) to state — its request, response and
// buffers — that the other processes on the box have pushed out of the
// caches in between; with a few, each is back within a millisecond or
// two. Measured at 3,000/s against the bare server, six pairs on the
// shared box (load average 4–11): the generator 1.40, 1.45, 1.29, 1.54,
// 1.30 and 1.42× the bare server's CPU per request with 2, against 1.55,
// 1.58, 1.34, 1.59, 1.25 and 1.40× with 64 (paired median 0.05 less,
// about 3 %); the send lag's median the same (0.55–0.61 ms).
const senderWorkers = 2

// collector takes every result of a run, observed (Targeter.Observe,
// which schedules follow-ups, runs before): the recorder and, with an
// output directory, the output writer. Its caller serializes add.
type collector struct {
	tr  *Targeter
	rec *Recorder
	out *outputWriter // nil: no outputs

	count    uint64
	lastSend time.Time
}

// sent counts r and its send time, all a Discard run keeps of it.
func (c *collector) sent(r *vegeta.Result) {
	c.count++
	if r.Timestamp.After(c.lastSend) {
		c.lastSend = r.Timestamp
	}
}

// add records r; false means the results file could not be written and
// the attack should stop.
func (c *collector) add(r *vegeta.Result, obs *Observation) bool {
	c.sent(r)
	c.rec.Add(*obs, r.Timestamp)
	if c.out == nil {
		return true
	}
	c.out.put(r, obs)
	return !c.out.failed.Load()
}

// newPlot is vegeta's latency-over-time plot with a series per kind, and
// one per kind for the requests that got no answer.
func newPlot(name string) *plot.Plot {
	return plot.New(plot.Title("paycode load: "+name), plot.Downsample(4000), plot.Label(plotLabel))
}

func plotLabel(r *vegeta.Result) string {
	if k, _, ok := ParseURL(r.URL); ok {
		if r.Error != "" {
			return k.String() + errorSuffix
		}
		return k.String()
	}
	return "other"
}

// errorSuffix marks a kind's series of requests without an answer.
const errorSuffix = " error"

func bar(el, planned time.Duration) string {
	const width = 20
	f := min(el.Seconds()/max(planned.Seconds(), 1e-9), 1)
	n := int(f * width)
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]" + fmt.Sprintf("%4.0f%%", 100*f)
}

// drainAndCheck waits for the follow-ups to settle and compares paycode's
// view of every payment with the ledgers, retrying while something is
// unsettled or mismatched and the drain time lasts (a reversal or a
// password confirmation may still be under way).
func drainAndCheck(ctx context.Context, tr *Targeter, o Options, filter LedgerFilter) (*CheckResult, error) {
	sc := o.Scenario
	deadline := time.Now().Add(sc.Drain)
	n := tr.Minted()
	exps := make([]Expect, 0, n)
	ids := make([]string, 0, n)
	for i := range n {
		p := tr.Payment(i)
		id := tr.RequestID(i)
		exps = append(exps, Expect{RequestID: id, Amount: p.Amount, MustNotExist: p.Kind == KindInvalid, AnsweredID: p.PaymentID, ReplayID: p.ReplayID})
		ids = append(ids, id)
	}
	for {
		if o.Settled != nil {
			for !o.Settled() && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
		}
		views, err := FetchViews(ctx, o.Viewer, sc.ClientID, ids, 32)
		if err != nil {
			return nil, err
		}
		// Ask again, for the unsettled ones only, until none is left.
		for time.Now().Before(deadline) {
			var again []int
			for i, v := range views {
				if v.Found && v.Status == "PROCESSING" {
					again = append(again, i)
				}
			}
			if len(again) == 0 {
				break
			}
			time.Sleep(500 * time.Millisecond)
			sub := make([]string, len(again))
			for j, i := range again {
				sub[j] = ids[i]
			}
			vs, err := FetchViews(ctx, o.Viewer, sc.ClientID, sub, 32)
			if err != nil {
				return nil, err
			}
			for j, i := range again {
				views[i] = vs[j]
			}
		}
		ledgers, err := o.Ledgers(ctx)
		if err != nil {
			return nil, err
		}
		c := Check(exps, views, ledgers, filter)
		if c.OK() || !time.Now().Add(time.Second).Before(deadline) {
			return c, nil
		}
		time.Sleep(time.Second)
	}
}

// Embed starts a whole paycode with the default simulated wallets in
// this process (stack.Start with cfg; its logger defaults to errors only,
// since a load run's expected wallet failures would flood the log) and
// points o at it: BaseURL, an EngineViewer, the Sim's ledgers and the
// engine's follow-up queue as Settled. The caller closes the stack.
func Embed(o *Options, cfg stack.Config) (*stack.Stack, error) {
	if cfg.Node.Logger == nil {
		cfg.Node.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	st, err := stack.Start(cfg)
	if err != nil {
		return nil, err
	}
	if st.Sim == nil {
		st.Close()
		return nil, errors.New("load: embedded mode needs the simulated wallets (no Wallets in the stack config)")
	}
	o.BaseURL = st.URL()
	o.Viewer = EngineViewer{Engine: st.Engine}
	o.Ledgers = SimLedgers(st.Sim)
	o.LedgerFilter = nil
	o.Settled = func() bool { return st.Engine.FollowUps() == 0 }
	o.Embedded = true
	return st, nil
}
