package httpapi

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/metrics"
)

// Admission by queueing delay: defaults.
const (
	// DefaultPayDelayTarget is the pay delay paycode keeps new pays under
	// by shedding. A pay's delay is its time in paycode minus its wallet's
	// answer time (the paycode-engine-us header): on an idle node about
	// two journal fsyncs and some CPU, well under a millisecond; above a
	// few milliseconds it is mostly waiting (for a core, for a commit), so
	// admitting more pays would only make every pay slower.
	DefaultPayDelayTarget = 5 * time.Millisecond
	// DefaultPayDelayInterval is how often the pay limit is adjusted, and
	// so how long a delay above the target lasts before pays are shed:
	// CoDel's interval, long enough that a burst which drains within it
	// sheds nothing, short enough to act before a lane's timeout.
	DefaultPayDelayInterval = 100 * time.Millisecond
	// minPayLimit is the floor of the adaptive pay limit: however slow pays
	// are, this many may always be in flight. Below a few dozen pays in
	// flight there is no standing queue worth shedding: a delay above the
	// target then comes from the machine (a slow disk, cores taken by other
	// processes, a race-instrumented build), and shedding the lanes'
	// ordinary working set would refuse pays without making any faster.
	// A slow node is thus capped at this concurrency instead of shedding
	// everything; a real overload (hundreds of pays waiting) still is.
	minPayLimit = 32
)

// payGate is the adaptive limit on new pays in flight, driven by their
// queueing delay (CoDel's target and interval, with the limit moved as
// in gradient/AIMD concurrency limiters): once per interval, if the
// median pay of the interval waited longer than the target, and of the
// interval before it too (a standing queue, not one stall), the limit
// falls below the concurrency that produced that wait, in proportion
// target/mean delay (between ×0.5 and ×0.9); if pays were quick and the
// limit was reached, it rises by √limit. Pays beyond the limit are shed
// at once. The median, not CoDel's minimum, is the signal: the minimum
// lets the typical pay wait several targets before it acts, and the aim is
// the admitted pays' tail.
//
// Only pays are gated: inquiries, cancels and refunds are work on
// payments that exist and keep the in-flight limiter's reserve. The
// statistics are approximate (samples racing a window's reset may land
// in either window), which a controller acting every interval tolerates.
type payGate struct {
	target   time.Duration
	interval time.Duration
	ceiling  int64 // the in-flight limiter's room for new admissions

	inFlight atomic.Int64
	limit    atomic.Int64

	// The current window: pays finished in it, how many waited longer
	// than target, their summed delay, and the most pays in flight.
	n, over, sum, peak atomic.Int64
	start              atomic.Int64 // window start, ns since base
	base               time.Time
	mu                 sync.Mutex // one adjustment at a time
	// slow says the window before the one being closed was slow too:
	// the limit falls only when the median pay waited longer than the
	// target for two windows running (a standing queue, as CoDel's
	// "above target for an interval"), so a single stall — one slow
	// fsync, a GC pause, a burst that drains — sheds nothing. Under mu.
	slow bool
	// Adjustments counts limit changes (tests, stats).
	adjustments atomic.Int64
}

func newPayGate(target, interval time.Duration, ceiling int64, now time.Time) *payGate {
	g := &payGate{target: target, interval: interval, ceiling: max(ceiling, minPayLimit), base: now}
	g.limit.Store(g.ceiling)
	return g
}

// acquire admits a pay unless the limit is reached.
func (g *payGate) acquire() bool {
	lim := g.limit.Load()
	for {
		n := g.inFlight.Load()
		if n >= lim {
			return false
		}
		if g.inFlight.CompareAndSwap(n, n+1) {
			for p := g.peak.Load(); n+1 > p && !g.peak.CompareAndSwap(p, n+1); p = g.peak.Load() {
			}
			return true
		}
	}
}

// done releases an admitted pay that waited delay, and adjusts the limit
// when the window is over.
func (g *payGate) done(delay time.Duration, now time.Time) {
	g.inFlight.Add(-1)
	g.n.Add(1)
	g.sum.Add(int64(delay))
	if delay > g.target {
		g.over.Add(1)
	}
	t := int64(now.Sub(g.base))
	if t-g.start.Load() < int64(g.interval) || !g.mu.TryLock() {
		return
	}
	defer g.mu.Unlock()
	if t-g.start.Load() < int64(g.interval) {
		return // another done adjusted meanwhile
	}
	g.adjust(t)
}

// adjust closes the window ending at t (ns since base); mu is held.
func (g *payGate) adjust(t int64) {
	n, over, sum := g.n.Swap(0), g.over.Swap(0), g.sum.Swap(0)
	peak := g.peak.Swap(g.inFlight.Load())
	g.start.Store(t)
	if n == 0 {
		return
	}
	lim := g.limit.Load()
	next := lim
	slow := 2*over > n // the median pay waited longer than the target
	wasSlow := g.slow
	g.slow = slow
	switch {
	case slow && wasSlow:
		f := min(0.9, max(0.5, float64(g.target)/(float64(sum)/float64(n))))
		next = max(minPayLimit, int64(f*float64(min(lim, peak))))
	case slow: // the first slow window: hold, and watch the next
	case peak >= lim && lim < g.ceiling:
		next = min(g.ceiling, lim+max(1, int64(math.Sqrt(float64(lim)))))
	}
	if next != lim {
		g.limit.Store(next)
		g.adjustments.Add(1)
	}
}

func (c *Security) ensureAdmissionDefaults() {
	if c.PayDelayTarget == 0 {
		c.PayDelayTarget = DefaultPayDelayTarget
	}
	if c.PayDelayInterval == 0 {
		c.PayDelayInterval = DefaultPayDelayInterval
	}
}

func (c *Security) validateAdmission() error {
	if c.PayDelayInterval <= 0 {
		return errors.New("httpapi: PayDelayInterval must be positive")
	}
	if c.PayDelayTarget > 0 && c.PayDelayTarget >= c.PayDelayInterval {
		return errors.New("httpapi: PayDelayTarget must be below PayDelayInterval")
	}
	return nil
}

// shed answers REQUEST_TRAFFIC_EXCEED_LIMIT (U: nothing was recorded, the
// lane retries the same request) and counts it under why.
func (s *Server) shed(ctx *fasthttp.RequestCtx, g *guard, dst, clientID, path []byte, signs bool, why metrics.ShedReason) ([]byte, codec.ResultCode) {
	g.Shed.Add(1)
	s.lane.Load().Shed(why)
	return g.constant(ctx, dst, clientID, path, codec.RequestTrafficExceedLimit, "paycode is at capacity: retry the same request shortly", signs, signShed)
}

// payDone releases an admitted pay that started at start; its delay is
// its time here minus its wallet's answer time.
func (s *Server) payDone(p *payGate, st *reqState, start time.Time) {
	now := s.clock.Now()
	p.done(now.Sub(start)-st.walletWait, now)
}

// PayLimit reports the adaptive pay limit and the pays in flight under it
// (0, 0 when admission by delay is off).
func (s *Server) PayLimit() (limit, inFlight int64) {
	g := s.sec.Load()
	if g == nil || g.pays == nil {
		return 0, 0
	}
	return g.pays.limit.Load(), g.pays.inFlight.Load()
}
