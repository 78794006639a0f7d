package metrics

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/mpp"
)

// walletBuckets cover a fast wallet on loopback (sub-millisecond) to a
// call that ran into its timeout (mpp.DefaultTimeout and beyond).
var walletBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Wallets holds the per-wallet connector metrics: dispatch latency,
// errors by kind and calls in flight per wallet and operation, and the
// breaker state per wallet. Labels are bounded: wallet names come from
// configuration, op is mpp.Op (four values), kind is mpp.Kind.
type Wallets struct {
	dur      *prometheus.HistogramVec
	errs     *prometheus.CounterVec
	inFlight *prometheus.GaugeVec
	reg      prometheus.Registerer
}

// NewWallets registers the wallet metric families on reg.
func NewWallets(reg prometheus.Registerer) *Wallets {
	w := &Wallets{
		reg: reg,
		dur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "paycode", Subsystem: "wallet", Name: "request_duration_seconds",
			Help:    "Wallet call time, in-flight slot wait included, of calls that reached the network.",
			Buckets: walletBuckets,
		}, []string{"wallet", "op"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paycode", Subsystem: "wallet", Name: "errors_total",
			Help: "Wallet calls that ended in an error, by kind (timeout, transport, connect, busy, breaker_open, not_sent, http, bad_answer, refused). Business failures are answers, not errors.",
		}, []string{"wallet", "op", "kind"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "paycode", Subsystem: "wallet", Name: "requests_in_flight",
			Help: "Wallet calls in progress.",
		}, []string{"wallet", "op"}),
	}
	reg.MustRegister(w.dur, w.errs, w.inFlight)
	return w
}

// Add pre-resolves c's series, makes c report to them, and registers its
// breaker state gauge. Call it once per wallet.
func (w *Wallets) Add(c *mpp.Client) {
	name := c.Name()
	o := &walletObserver{}
	for op := mpp.Op(0); op < mpp.NumOps; op++ {
		o.dur[op] = w.dur.WithLabelValues(name, op.String())
		o.inFlight[op] = w.inFlight.WithLabelValues(name, op.String())
		for k := mpp.KindNone + 1; k < mpp.NumKinds; k++ {
			o.errs[op][k] = w.errs.WithLabelValues(name, op.String(), k.String())
		}
	}
	w.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "paycode", Subsystem: "wallet", Name: "breaker_state",
		Help:        "Wallet circuit breaker: 0 closed, 1 half-open (probing), 2 open (calls not sent).",
		ConstLabels: prometheus.Labels{"wallet": name},
	}, func() float64 { return float64(c.BreakerState()) }))
	c.SetObserver(o)
}

// RegisterWallets adds every client of wallets, in name order.
func RegisterWallets(reg prometheus.Registerer, wallets map[string]*mpp.Client) *Wallets {
	w := NewWallets(reg)
	names := make([]string, 0, len(wallets))
	for n := range wallets {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w.Add(wallets[n])
	}
	return w
}

// walletObserver is one wallet's pre-resolved series: a call costs an
// Inc, a Dec, an Observe and on error an Inc, without allocation.
type walletObserver struct {
	dur      [mpp.NumOps]prometheus.Observer
	inFlight [mpp.NumOps]prometheus.Gauge
	errs     [mpp.NumOps][mpp.NumKinds]prometheus.Counter
}

func (o *walletObserver) CallStarted(op mpp.Op) {
	if op < mpp.NumOps {
		o.inFlight[op].Inc()
	}
}

func (o *walletObserver) CallFinished(op mpp.Op, d time.Duration, k mpp.Kind) {
	if op >= mpp.NumOps {
		return
	}
	o.inFlight[op].Dec()
	if k.Sent() {
		o.dur[op].Observe(d.Seconds())
	}
	if k != mpp.KindNone && k < mpp.NumKinds {
		o.errs[op][k].Inc()
	}
}

var _ mpp.Observer = (*walletObserver)(nil)

// RegisterDecoder registers the image decoder's metrics: decode time,
// pool slots in use and capacity, calls refused with decode.ErrBusy, and
// images the wall-time safety net stopped.
func RegisterDecoder(reg prometheus.Registerer, d *decode.Decoder) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "paycode", Subsystem: "decode", Name: "duration_seconds",
		Help:    "Image decode time of admitted images, queueing included.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	reg.MustRegister(h,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "paycode", Subsystem: "decode", Name: "pool_in_use",
			Help: "Decoder slots taken (images decoding or queued)."}, func() float64 { return float64(d.InUse()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "paycode", Subsystem: "decode", Name: "pool_capacity",
			Help: "Decoder slots (workers plus queue)."}, func() float64 { return float64(d.Capacity()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "paycode", Subsystem: "decode", Name: "rejected_total",
			Help: "Images refused at once because every slot was taken (decode.ErrBusy)."}, func() float64 { return float64(d.Rejected()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "paycode", Subsystem: "decode", Name: "safety_net_total",
			Help: "Images stopped by the decoder's wall-time safety net (decode.ErrBudget): their verdict depended on the machine's load; should stay 0."}, func() float64 { return float64(d.SafetyNetFired()) }),
	)
	d.OnDecoded(func(elapsed time.Duration, _ error) { h.Observe(elapsed.Seconds()) })
}

// RegisterFollowUpOverdue registers how late the follow-up queue runs:
// how long ago the earliest queued follow-up fell due (0 when none is
// due). A value growing past the poll interval means the follow-up workers
// cannot keep up.
func RegisterFollowUpOverdue(reg prometheus.Registerer, eng *engine.Engine, now func() time.Time) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "paycode", Subsystem: "engine", Name: "followup_overdue_seconds",
		Help: "How long ago the earliest queued follow-up fell due; 0 when none is due.",
	}, func() float64 {
		due, ok := eng.NextFollowUp()
		if !ok {
			return 0
		}
		if late := now().Sub(due); late > 0 {
			return late.Seconds()
		}
		return 0
	}))
}
