package load_test

import (
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/paycode/paycode/loadtest/load"
)

// payAnswer is a lane API answer to a successful pay, as paycode sends it.
const payAnswer = `{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentId":"P1","paymentTime":"2026-11-26T12:00:00+08:00"}`

// memServer serves h on an in-memory listener; the client dials it.
func memServer(t testing.TB, h fasthttp.RequestHandler) *fasthttp.Client {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: h}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	c := load.NewFastTransport(64, 5*time.Second).Client
	c.Dial = func(string) (net.Conn, error) { return ln.Dial() }
	t.Cleanup(func() {
		c.CloseIdleConnections()
		_ = ln.Close()
		<-done
	})
	return c
}

func answerPay(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set("paycode-engine-us", "42")
	ctx.SetContentType("application/json")
	ctx.SetBodyString(payAnswer)
}

func capacityTargeter(t testing.TB, stages string) (*load.Targeter, *load.StagePacer) {
	t.Helper()
	sc, err := load.ParseScenario([]byte("stages: " + stages + "\noutcomes: {success: 1}\nfollowUp: {poll: 0, cancel: 0, refund: 0, replay: 0}\n"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := load.NewTargeter(sc, load.TargeterConfig{BaseURL: "http://paycode", RunID: 1})
	if err != nil {
		t.Fatal(err)
	}
	return tr, load.NewStagePacer(sc.Stages)
}

// TestSender: every hit the pacer plans is sent once, on its schedule
// (never early), and comes back as a vegeta.Result with what the report
// reads: sequence, URL, status, paycode's engine-time header, body.
func TestSender(t *testing.T) {
	var bodies atomic.Int64
	c := memServer(t, func(ctx *fasthttp.RequestCtx) {
		if len(ctx.PostBody()) > 0 && string(ctx.Request.Header.Peek("client-id")) != "" {
			bodies.Add(1)
		}
		answerPay(ctx)
	})
	tr, pacer := capacityTargeter(t, "[{duration: 500ms, rate: 200}]")
	s := &load.Sender{Targeter: tr, Pacer: pacer, Client: c, Workers: 4, MaxWorkers: 16, Name: "t"}
	var mu sync.Mutex
	seqs := map[uint64]bool{}
	var last time.Duration
	var bad []string
	s.Attack(10*time.Second, func(r *vegeta.Result) {
		mu.Lock()
		defer mu.Unlock()
		seqs[r.Seq] = true
		// Hit n is due when the pacer's count reaches n+1: not before.
		due, _ := pacer.Pace(0, r.Seq)
		if at := r.Timestamp.Sub(s.Began()); at < due-time.Millisecond {
			bad = append(bad, "hit "+strconv.FormatUint(r.Seq, 10)+" sent at "+at.String()+", due "+due.String())
		}
		last = max(last, r.Timestamp.Sub(s.Began()))
		k, _, ok := load.ParseURL(r.URL)
		if !ok || k != load.KindPay || r.Method != "POST" || r.Code != 200 || r.Error != "" || string(r.Body) != payAnswer ||
			r.Headers.Get("Paycode-Engine-Us") != "42" || r.BytesOut == 0 || r.BytesIn != uint64(len(payAnswer)) || r.Attack != "t" {
			bad = append(bad, "result "+strconv.FormatUint(r.Seq, 10)+": "+r.URL+" "+strconv.Itoa(int(r.Code))+" "+r.Error+" "+string(r.Body))
		}
		obs := tr.Observe(r)
		if !obs.OK || obs.EngineUS != 42 {
			bad = append(bad, "observation of "+r.URL+" not OK")
		}
	})
	if len(bad) > 0 {
		t.Fatal(bad[:min(len(bad), 5)])
	}
	if uint64(len(seqs)) != pacer.Hits() || pacer.Hits() != 100 || bodies.Load() != 100 || tr.Minted() != 100 {
		t.Fatalf("%d distinct results, %d bodies, %d minted; the pacer planned %d", len(seqs), bodies.Load(), tr.Minted(), pacer.Hits())
	}
	if last < 490*time.Millisecond {
		t.Fatalf("the last hit left at %v, before the schedule's end", last)
	}
}

// TestSenderStop: Stop ends the attack; requests in flight finish and
// nothing more is sent.
func TestSenderStop(t *testing.T) {
	c := memServer(t, answerPay)
	tr, pacer := capacityTargeter(t, "[{duration: 60s, rate: 100}]")
	s := &load.Sender{Targeter: tr, Pacer: pacer, Client: c, Workers: 8, MaxWorkers: 8}
	var n atomic.Int64
	returned := make(chan struct{})
	go func() {
		s.Attack(time.Minute, func(*vegeta.Result) {
			if n.Add(1) == 5 {
				s.Stop()
			}
		})
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("Attack did not return after Stop")
	}
	if got := n.Load(); got < 5 || got > 5+8 || uint64(got) != tr.Minted() {
		t.Fatalf("%d results, %d minted: want 5 plus at most the 8 workers' in flight", got, tr.Minted())
	}
}

// TestSenderMaxWorkers: a server that holds every request makes the
// generator fall behind; it adds workers up to MaxWorkers and never has
// more requests in flight.
func TestSenderMaxWorkers(t *testing.T) {
	release := make(chan struct{})
	var inFlight, peak atomic.Int64
	c := memServer(t, func(ctx *fasthttp.RequestCtx) {
		v := inFlight.Add(1)
		for p := peak.Load(); v > p && !peak.CompareAndSwap(p, v); p = peak.Load() {
		}
		<-release
		inFlight.Add(-1)
		answerPay(ctx)
	})
	tr, pacer := capacityTargeter(t, "[{duration: 100ms, rate: 1000}]")
	s := &load.Sender{Targeter: tr, Pacer: pacer, Client: c, Workers: 2, MaxWorkers: 6}
	var n atomic.Int64
	returned := make(chan struct{})
	go func() {
		s.Attack(time.Minute, func(r *vegeta.Result) {
			if r.Error == "" {
				n.Add(1)
			}
		})
		close(returned)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for inFlight.Load() < 6 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := inFlight.Load(); got != 6 {
		t.Fatalf("%d requests in flight behind schedule, want MaxWorkers (6)", got)
	}
	close(release)
	<-returned
	if peak.Load() != 6 || n.Load() != 100 {
		t.Fatalf("peak in flight %d (want 6), %d answered (want 100)", peak.Load(), n.Load())
	}
}

// TestSenderLostAnswer: a connection closed without an answer is a
// result with an error and no status, worded as net/http's client words it.
func TestSenderLostAnswer(t *testing.T) {
	c := memServer(t, func(ctx *fasthttp.RequestCtx) {
		ctx.HijackSetNoResponse(true)
		ctx.Hijack(func(net.Conn) {})
	})
	tr, pacer := capacityTargeter(t, "[{duration: 50ms, rate: 100}]")
	s := &load.Sender{Targeter: tr, Pacer: pacer, Client: c, Workers: 1, MaxWorkers: 1}
	var errs []string
	s.Attack(time.Minute, func(r *vegeta.Result) { errs = append(errs, r.Error) })
	if len(errs) != 5 {
		t.Fatalf("%d results, want 5", len(errs))
	}
	for _, e := range errs {
		if len(e) < 6 || e[:6] != `Post "` {
			t.Fatalf("error %q", e)
		}
	}
}

// burst is a pacer whose n hits are all due at once: the Sender sends
// them back to back, so its time per hit is the per-hit path alone.
func burst(n int) *load.StagePacer {
	return load.NewStagePacer([]load.Stage{{Duration: time.Millisecond, Rate: float64(n) * 1000}})
}

// hitPath sends n pays through one Sender worker to an in-memory fasthttp
// server answering as paycode does, each result observed and recorded as
// a run does (Targeter.Observe, Recorder.Add).
func hitPath(tb testing.TB, c *fasthttp.Client, n int) {
	tr, _ := capacityTargeter(tb, "[{duration: 1s, rate: 1}]")
	rec := load.NewRecorder()
	s := &load.Sender{Targeter: tr, Pacer: burst(n), Client: c, Workers: 1, MaxWorkers: 1}
	var bad int
	s.Attack(time.Hour, func(r *vegeta.Result) {
		o := tr.Observe(r)
		if !o.OK {
			bad++
		}
		rec.Add(o, r.Timestamp)
	})
	if bad > 0 || rec.Count() != uint64(n) {
		tb.Fatalf("%d of %d results, %d not OK", rec.Count(), n, bad)
	}
}

// BenchmarkSenderHit is the generator's per-hit path: mint the pay,
// build its request, send it, read the answer, make and observe the
// result (the in-memory server's cost is included; it is small).
func BenchmarkSenderHit(b *testing.B) {
	c := memServer(b, answerPay)
	hitPath(b, c, 100) // connect, warm the pools
	b.ReportAllocs()
	b.ResetTimer()
	hitPath(b, c, b.N)
}

// TestSenderHitAllocs holds the per-hit path's allocations (generator and
// in-memory server together): the request URL, the pay body's strings
// kept for the correctness check, the result's header value.
func TestSenderHitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	c := memServer(t, answerPay)
	hitPath(t, c, 100)
	const n = 2000
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	hitPath(t, c, n)
	runtime.ReadMemStats(&m1)
	per := float64(m1.Mallocs-m0.Mallocs) / n
	const budget = 6
	if per > budget {
		t.Fatalf("%.1f allocations per hit, budget %d", per, budget)
	}
	t.Logf("%.2f allocations per hit", per)
}

// TestSenderStopFirst: a Stop before Attack (an interrupt as the run
// starts) ends the attack before anything is sent.
func TestSenderStopFirst(t *testing.T) {
	c := memServer(t, answerPay)
	tr, pacer := capacityTargeter(t, "[{duration: 1s, rate: 100}]")
	s := &load.Sender{Targeter: tr, Pacer: pacer, Client: c, Workers: 4, MaxWorkers: 4}
	s.Stop()
	var n int
	s.Attack(time.Minute, func(*vegeta.Result) { n++ })
	if n != 0 || tr.Minted() != 0 {
		t.Fatalf("%d results, %d minted after Stop", n, tr.Minted())
	}
}

// TestSenderTimesFromDue: one worker against a server slower than the
// schedule falls behind; each result is stamped with its hit's due time
// and its latency runs from there, so the lateness shows as latency (no
// coordinated omission), and Lag and LastSent say how late hits left.
func TestSenderTimesFromDue(t *testing.T) {
	c := memServer(t, func(ctx *fasthttp.RequestCtx) {
		time.Sleep(10 * time.Millisecond) // a server slower than 5 ms a hit
		answerPay(ctx)
	})
	tr, pacer := capacityTargeter(t, "[{duration: 100ms, rate: 200}]")
	s := &load.Sender{Targeter: tr, Pacer: pacer, Client: c, Workers: 1, MaxWorkers: 1}
	var rs []vegeta.Result
	s.Attack(time.Minute, func(r *vegeta.Result) { rs = append(rs, *r) })
	if len(rs) != 20 {
		t.Fatalf("%d results, want 20", len(rs))
	}
	for _, r := range rs {
		at, _ := pacer.Pace(0, r.Seq)
		if due := s.Began().Add(at); !r.Timestamp.Equal(due) {
			t.Fatalf("hit %d stamped %v, due %v", r.Seq, r.Timestamp.Sub(s.Began()), at)
		}
	}
	// Hit 19 is due at 100 ms and leaves after 19 answers of 10 ms or more.
	last := rs[len(rs)-1]
	if last.Latency < 100*time.Millisecond {
		t.Fatalf("the last hit's latency %v does not hold its lateness", last.Latency)
	}
	if lag := time.Duration(s.Lag().Max()) * time.Microsecond; lag < 90*time.Millisecond || lag > last.Latency {
		t.Fatalf("max lag %v (last latency %v)", lag, last.Latency)
	}
	if s.Lag().TotalCount() != 20 || !s.LastSent().After(last.Timestamp) {
		t.Fatalf("lag count %d, last sent %v after the last due time", s.Lag().TotalCount(), s.LastSent().Sub(last.Timestamp))
	}
}
