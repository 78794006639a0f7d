package load

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
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
// Each worker owns its connection (one per target host), written and
// read with fasthttp's Request.Write and Response.Read over the worker's
// own buffers, rather than fasthttp's Client and its pool: see
// hitter.do.
//
// Open loop, as vegeta: a hit's due time is the pacer's whatever earlier
// answers did. A worker that sends while no other waits for the next hit
// starts another (up to MaxWorkers, and the Client's MaxConnsPerHost),
// which claims the next hit and sends it on its own connection: a hit
// due while every connection is busy goes out on a new one rather than
// wait, so a stalled server or connection does not stall the schedule.
// Requests in flight are bounded by the worker cap and the pace is kept
// while it lasts; past it, hits leave late and their lateness is in
// their latency.
type Sender struct {
	Targeter *Targeter
	Pacer    vegeta.Pacer
	// Client gives the dialer (Dial; fasthttp's TCP dialer when nil),
	// the buffer sizes and the connection cap (MaxConnsPerHost), and
	// sends the requests to https targets.
	Client *fasthttp.Client
	// Timeout bounds each request (DefaultTimeout when 0).
	Timeout time.Duration
	// Workers start at once; MaxWorkers bounds how many may run (and so
	// the requests in flight).
	Workers, MaxWorkers int
	// Name is each result's Attack (vegeta's attack name).
	Name string
	// MaxIdle is how long a worker's connection may stay idle and
	// still be used: one idle longer is closed and dialled again before
	// its next request (DefaultMaxIdle when 0).
	MaxIdle time.Duration

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
	for range min(max(s.Workers, 1), s.maxWorkers()) {
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

// maxWorkers is how many workers may run: MaxWorkers, and no more than
// the Client's MaxConnsPerHost, since each worker owns a connection to
// each host it sends to.
func (s *Sender) maxWorkers() int {
	n := max(s.MaxWorkers, s.Workers, 1)
	if c := s.Client.MaxConnsPerHost; c > 0 {
		n = min(n, c)
	}
	return n
}

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
	maxWorkers := int64(s.maxWorkers())
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

// DefaultMaxIdle is Sender.MaxIdle's default: half of paycode's idle
// timeout (httpapi.DefaultIdleTimeout, 60 s), as fasthttp's Client
// closed connections idle for a minute.
const DefaultMaxIdle = 30 * time.Second

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
	// hdrVal is hdr's one value slice, reused (the Result is valid only
	// during emit).
	hdrVal []string
	// reqHdr is the Target header map whose headers req carries;
	// reqMethod and reqHost are req's method and Host header (set only
	// when they change: fasthttp scans each value it sets for newlines).
	reqHdr             http.Header
	reqMethod, reqHost string
	// conns are the worker's own connections, one per target host it
	// has sent to (one, unless the lanes are spread over several).
	conns []*workerConn
}

// workerConn is a kept-alive connection one worker owns, with its buffers.
type workerConn struct {
	host string // the URL's host, as the request carries it
	c    net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	// deadline is the connection's read and write deadline; it is
	// pushed forward only when less than the request timeout is left.
	deadline time.Time
	used     time.Time // when the last request was sent on it
}

// engineTimeKey is HeaderEngineTime as net/http (and vegeta's results)
// spell it.
var engineTimeKey = http.CanonicalHeaderKey(httpapi.HeaderEngineTime)

func newHitter(s *Sender) *hitter {
	h := &hitter{s: s, req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse(), hdr: make(http.Header, 1), hdrVal: make([]string, 1)}
	h.tgt.Body = make([]byte, 0, 1024)
	h.resp.Header.DisableNormalizing()
	return h
}

func (h *hitter) release() {
	for _, wc := range h.conns {
		wc.close()
	}
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
		h.reqHdr, h.reqMethod, h.reqHost = tgt.Header, "", ""
	}
	if tgt.Method != h.reqMethod {
		req.Header.SetMethod(tgt.Method)
		h.reqMethod = tgt.Method
	}
	req.SetBodyRaw(tgt.Body)
	res.BytesOut = uint64(len(tgt.Body))
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	err := h.do(req, resp, tgt.URL, now, timeout)
	end := time.Now()
	res.Latency = end.Sub(res.Timestamp)
	if err == nil && end.Sub(now) > timeout {
		// Answered, but after the timeout (the connection's deadline
		// leaves it up to an eighth more): a timeout, as fasthttp's
		// DoTimeout would have made it.
		err = fasthttp.ErrTimeout
	}
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
	// The client keeps header names as sent: paycode sends this one in
	// lower case, other fasthttp servers canonical.
	v := resp.Header.Peek(httpapi.HeaderEngineTime)
	if v == nil {
		v = resp.Header.Peek(engineTimeKey)
	}
	if v != nil {
		h.hdrVal[0] = string(v)
		h.hdr[engineTimeKey] = h.hdrVal
	} else {
		delete(h.hdr, engineTimeKey)
	}
	res.Headers = h.hdr
	s.emit(res)
}

// do sends req to rawURL on the worker's own connection to its host,
// dialled when there is none, and reads the answer into resp; now is
// about when it starts. fasthttp's Client would take a connection from
// its pool under a lock and hand it back, fetch pooled buffers, read the
// clock four times and set a write and a read deadline (two timer updates
// in the runtime) per request; here the connection and its buffers stay
// the worker's, warm, and the deadline moves only when less than timeout
// is left of it, to timeout and an eighth ahead: a request that gets no
// answer is cut between timeout and 9/8 timeout after it left (hit
// reports any answer later than timeout as a timeout). A connection that
// failed, timed out or was closed by the server is closed; the worker's
// next hit to that host dials a new one. https targets (the Client's
// TLS) and URLs with user info go through the Client.
func (h *hitter) do(req *fasthttp.Request, resp *fasthttp.Response, rawURL string, now time.Time, timeout time.Duration) error {
	host, uri, ok := splitHTTP(rawURL)
	if !ok {
		req.SetRequestURI(rawURL)
		h.reqHost = "" // the Client sets it from the URL
		return h.s.Client.DoTimeout(req, resp, timeout)
	}
	// The request line's URI and the Host header as they are written:
	// given the whole URL, fasthttp would parse it into its URI and
	// normalize the path and query again on every hit.
	req.SetRequestURI(uri)
	if host != h.reqHost {
		req.Header.SetHost(host)
		h.reqHost = host
	}
	wc, err := h.conn(host, now, timeout)
	if err != nil {
		return err
	}
	wc.used = now
	if wc.deadline.Sub(now) < timeout {
		wc.deadline = now.Add(timeout + timeout/8)
		if err := wc.c.SetDeadline(wc.deadline); err != nil {
			wc.close()
			return err
		}
	}
	err = req.Write(wc.bw)
	if err == nil {
		err = wc.bw.Flush()
	}
	if err == nil {
		err = resp.Read(wc.br)
		if err == io.EOF {
			err = fasthttp.ErrConnectionClosed // as the Client says it
		}
	}
	if err != nil {
		wc.close()
		var te interface{ Timeout() bool }
		if errors.As(err, &te) && te.Timeout() {
			return fasthttp.ErrTimeout
		}
		return err
	}
	if resp.ConnectionClose() {
		wc.close()
	}
	return nil
}

// splitHTTP splits an http:// URL into its host and its request URI
// (path and query); ok is false for another scheme or user info.
func splitHTTP(u string) (host, uri string, ok bool) {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		return "", "", false
	}
	host, uri = rest, "/"
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, uri = rest[:i], rest[i:]
	}
	if host == "" || strings.IndexByte(host, '@') >= 0 {
		return "", "", false
	}
	return host, uri, true
}

// conn is the worker's connection to host, dialled if it has none or
// it has been idle longer than MaxIdle at now: servers close idle
// keep-alive connections (paycode after 60 s), and a request written on
// one the server has closed would fail without having been seen.
func (h *hitter) conn(host string, now time.Time, timeout time.Duration) (*workerConn, error) {
	var wc *workerConn
	for _, c := range h.conns {
		if c.host == host {
			wc = c
			break
		}
	}
	if wc == nil {
		wc = &workerConn{host: strings.Clone(host)} // not the hit's URL
		h.conns = append(h.conns, wc)
	}
	if wc.c != nil {
		maxIdle := h.s.MaxIdle
		if maxIdle <= 0 {
			maxIdle = DefaultMaxIdle
		}
		if now.Sub(wc.used) <= maxIdle {
			return wc, nil
		}
		wc.close()
	}
	addr := host
	if i := strings.LastIndexByte(addr, ':'); i < 0 || strings.HasSuffix(addr, "]") {
		addr += ":80"
	}
	var c net.Conn
	var err error
	if d := h.s.Client.Dial; d != nil {
		c, err = d(addr)
	} else {
		c, err = fasthttp.DialTimeout(addr, timeout)
	}
	if err != nil {
		return nil, err
	}
	rb, wb := h.s.Client.ReadBufferSize, h.s.Client.WriteBufferSize
	if wc.br == nil {
		wc.br = bufio.NewReaderSize(c, max(rb, 4096))
		wc.bw = bufio.NewWriterSize(c, max(wb, 4096))
	} else {
		wc.br.Reset(c)
		wc.bw.Reset(c)
	}
	wc.c, wc.deadline = c, time.Time{}
	return wc, nil
}

func (wc *workerConn) close() {
	if wc.c != nil {
		_ = wc.c.Close()
		wc.c = nil
	}
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
