package load

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/httpapi"
)

// Sender paces a scenario's requests and sends them over fasthttp,
// producing vegeta.Results for the same recorder, plot and encoder as
// vegeta's Attacker. vegeta's Attacker hands every hit from its pacing
// goroutine to a worker over a channel, wraps it in an http.Request, and
// hands the result back over another channel: at thousands of requests
// per second those hand-offs, their wake-ups and the net/http wrapping
// cost the generator more CPU than the server it measures spends on the
// request. Here each worker claims the next hit number itself, sleeps
// until the pacer says it is due, sends it on the same goroutine (its
// request, response and body buffers reused) and calls the emit function
// there: one timer wake-up and one network wait per hit.
//
// Open loop, as vegeta: a hit's due time is the pacer's whatever earlier
// answers did. A worker that sends while no other waits for the next hit
// starts another (up to MaxWorkers), so a stalled server does not stall
// the schedule: requests in flight are bounded by MaxWorkers and the
// pace is kept while they last. Connections are the Client's (MaxConnsPerHost), kept alive
// between requests.
type Sender struct {
	Targeter *Targeter
	Pacer    vegeta.Pacer
	Client   *fasthttp.Client
	// Timeout bounds each request (DefaultTimeout when 0).
	Timeout time.Duration
	// Workers start at once; MaxWorkers bounds how many may run (and so
	// the requests in flight).
	Workers, MaxWorkers int
	// Name is each result's Attack (vegeta's attack name).
	Name string

	began   time.Time
	until   time.Duration
	lagMu   sync.Mutex
	lag     *hdrhistogram.Histogram // µs each hit left after it was due
	last    time.Time               // the latest hit's send time
	emit    func(*vegeta.Result)
	next    atomic.Uint64 // the next hit number to claim
	running atomic.Int64  // workers started
	idle    atomic.Int64  // workers not sending: waiting for a hit's time
	stop    chan struct{} // closed by Stop
	init    sync.Once     // makes stop
	once    sync.Once     // closes stop
	wg      sync.WaitGroup
}

// Attack sends the pacer's hits until it stops, du has passed or Stop is
// called, and returns when every request sent has its result. emit is
// called once per request, from the workers' goroutines concurrently;
// the Result and its Body are valid only during the call (the buffers are
// reused), so emit must copy what it keeps.
func (s *Sender) Attack(du time.Duration, emit func(*vegeta.Result)) {
	s.init.Do(s.makeStop)
	s.began, s.until, s.emit = time.Now(), du, emit
	s.lag = hdrhistogram.New(histMinUS, histMaxUS, histDigits)
	for range max(s.Workers, 1) {
		s.spawn()
	}
	s.wg.Wait()
}

// Stop ends the attack: no new request is sent; those in flight finish.
// It may be called before Attack returns, any number of times.
func (s *Sender) Stop() {
	s.init.Do(s.makeStop)
	s.once.Do(func() { close(s.stop) })
}

func (s *Sender) makeStop() { s.stop = make(chan struct{}) }

// Began is when Attack started.
func (s *Sender) Began() time.Time { return s.began }

// Lag is how late the hits left after they were due (µs), once Attack
// has returned: the timer's and the scheduler's lateness, and the
// workers' when they fell behind. Each result's Timestamp is its hit's
// due time and its Latency runs from there, so lag is in every latency.
func (s *Sender) Lag() *hdrhistogram.Histogram { return s.lag }

// LastSent is when the last hit left, once Attack has returned (zero
// when none did): with a generator behind its schedule, later than the
// last hit's due time.
func (s *Sender) LastSent() time.Time { return s.last }

func (s *Sender) spawn() {
	s.running.Add(1)
	s.idle.Add(1)
	s.wg.Add(1)
	go s.worker()
}

// spawnBelow starts a worker unless limit are running.
func (s *Sender) spawnBelow(limit int64) {
	for {
		r := s.running.Load()
		if r >= limit {
			return
		}
		if s.running.CompareAndSwap(r, r+1) {
			s.idle.Add(1)
			s.wg.Add(1)
			go s.worker()
			return
		}
	}
}

func (s *Sender) stopped() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

func (s *Sender) worker() {
	defer s.wg.Done()
	defer s.idle.Add(-1)
	h := newHitter(s)
	defer h.release()
	maxWorkers := int64(max(s.MaxWorkers, s.Workers, 1))
	for !s.stopped() {
		n := s.next.Add(1) - 1
		el := time.Since(s.began)
		wait, stop := s.Pacer.Pace(el, n)
		if stop || el+wait > s.until {
			return
		}
		due := s.began.Add(el + wait)
		if !s.sleep(wait) {
			return
		}
		if s.idle.Add(-1) == 0 {
			s.spawnBelow(maxWorkers) // someone must keep the schedule
		}
		h.hit(n, due)
		s.idle.Add(1)
	}
}

// maxSleep bounds one pacing sleep, so a worker waiting for a hit far
// ahead (a slow ramp) sees Stop within it.
const maxSleep = 50 * time.Millisecond

// sleep waits d, or less if Stop is called, and reports whether the
// attack goes on. time.Sleep parks the goroutine on its own timer; a
// time.Timer's channel and a select on it and stop cost the hit a
// channel send, a select and their locks more (measured with
// bench/loadgen.sh), for a Stop that is rare.
func (s *Sender) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	if d <= maxSleep {
		time.Sleep(d)
		return !s.stopped()
	}
	end := time.Now().Add(d)
	for d > 0 {
		time.Sleep(min(d, maxSleep))
		if s.stopped() {
			return false
		}
		d = time.Until(end)
	}
	return true
}

// hitter is one worker's reusable request state.
type hitter struct {
	s    *Sender
	req  *fasthttp.Request
	resp *fasthttp.Response
	tgt  vegeta.Target
	res  vegeta.Result
	hdr  http.Header // the result's headers: paycode's engine time only
	// reqHdr is the Target header map whose headers req carries.
	reqHdr http.Header
}

// engineTimeKey is HeaderEngineTime as net/http (and vegeta's results)
// spell it.
var engineTimeKey = http.CanonicalHeaderKey(httpapi.HeaderEngineTime)

func newHitter(s *Sender) *hitter {
	h := &hitter{s: s, req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse(), hdr: make(http.Header, 1)}
	h.tgt.Body = make([]byte, 0, 1024)
	return h
}

func (h *hitter) release() {
	fasthttp.ReleaseRequest(h.req)
	fasthttp.ReleaseResponse(h.resp)
}

// hit sends hit n, due at due, and emits its result: timed from due, so
// a hit that left late (a late timer, a busy worker, a generator behind
// its schedule) counts its lateness as latency, never hides it (no
// coordinated omission).
func (h *hitter) hit(n uint64, due time.Time) {
	s := h.s
	tgt := &h.tgt
	tgt.Body = tgt.Body[:0]
	res := &h.res
	*res = vegeta.Result{Attack: s.Name, Seq: n, Timestamp: due}
	now := time.Now()
	s.lagMu.Lock()
	s.lag.RecordValue(clampUS(now.Sub(due).Microseconds()))
	if now.After(s.last) {
		s.last = now
	}
	s.lagMu.Unlock()
	if err := s.Targeter.Next(tgt); err != nil {
		res.Error = err.Error()
		s.emit(res)
		return
	}
	res.Method, res.URL = tgt.Method, tgt.URL
	req, resp := h.req, h.resp
	if h.reqHdr == nil || reflect.ValueOf(tgt.Header).UnsafePointer() != reflect.ValueOf(h.reqHdr).UnsafePointer() {
		// The Targeter hands out one of two header maps, shared and
		// never written (JSON and multipart): the request keeps the
		// last one's headers until the map changes, instead of a Reset
		// and the Adds per hit. The URI, the Host header (from the URI,
		// as each request is written) and the body are set per hit.
		req.Header.Reset()
		req.Header.DisableNormalizing()
		for k, vs := range tgt.Header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		h.reqHdr = tgt.Header
	}
	req.Header.SetMethod(tgt.Method)
	req.SetRequestURI(tgt.URL)
	req.SetBodyRaw(tgt.Body)
	res.BytesOut = uint64(len(tgt.Body))
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	err := s.Client.DoTimeout(req, resp, timeout)
	res.Latency = time.Since(res.Timestamp)
	if err != nil {
		if errors.Is(err, fasthttp.ErrTimeout) {
			err = errTimeout
		}
		// As net/http's client words it, so reports read the same
		// whichever sender ran.
		res.Error = (&url.Error{Op: urlOp(tgt.Method), URL: tgt.URL, Err: err}).Error()
		s.emit(res)
		return
	}
	code := resp.StatusCode()
	res.Code = uint16(code)
	if code < 200 || code >= 400 {
		res.Error = strconv.Itoa(code) + " " + http.StatusText(code)
	}
	res.Body = resp.Body()
	res.BytesIn = uint64(len(res.Body))
	clear(h.hdr)
	// The client keeps header names as sent: paycode sends this one in
	// lower case, other fasthttp servers canonical.
	v := resp.Header.Peek(httpapi.HeaderEngineTime)
	if v == nil {
		v = resp.Header.Peek(engineTimeKey)
	}
	if v != nil {
		h.hdr[engineTimeKey] = []string{string(v)}
	}
	res.Headers = h.hdr
	s.emit(res)
}

// urlOp is net/http's url.Error operation for method ("POST" → "Post").
func urlOp(method string) string {
	if method == http.MethodPost {
		return "Post"
	}
	if len(method) < 2 {
		return method
	}
	b := []byte(method)
	for i := 1; i < len(b); i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}
