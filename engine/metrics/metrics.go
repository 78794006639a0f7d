// Package metrics defines paycode's Prometheus metrics: the lane
// requests', and collectors over the engine, identification, the wallet
// connectors and the decoder. engine/admin serves them at /metrics.
//
// Lane metrics are pre-resolved at construction: a request costs one
// Counter.Inc and one Histogram.Observe, without allocation. Engine and
// identification counters are read at scrape time (CounterFunc/GaugeFunc),
// so they cost nothing on the hot path. Labels are bounded: endpoint (a
// fixed set) and result (the Antom resultCode table); never codes or ids.
//
// wallet.go adds the connectors' metrics (per wallet and operation,
// pre-resolved, wallet names from configuration), the decoder's and the
// follow-up queue's lateness.
//
// It reads the core and the adapters it observes (engine, codec, decode,
// engine/ident, engine/mpp) and must not import the lane side, the admin
// listener (engine/admin serves /metrics from its registry) or the tools.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/ident"
)

// Endpoint is the lane endpoint label.
type Endpoint uint8

// Lane endpoints.
const (
	EndpointOther Endpoint = iota
	EndpointPay
	EndpointInquiryPayment
	EndpointCancel
	EndpointRefund
	EndpointInquiryRefund
	EndpointDecode
	numEndpoints
)

var endpointNames = [numEndpoints]string{"other", "pay", "inquiryPayment", "cancel", "refund", "inquiryRefund", "decode"}

func (e Endpoint) String() string {
	if e >= numEndpoints {
		e = EndpointOther
	}
	return endpointNames[e]
}

// resultNoneLabel is the result label for responses without a readable
// resultCode (ResultNone, or a body that is not an Antom result).
const resultNoneLabel = "NONE"

// Lane holds the lane request metrics, pre-resolved per endpoint and
// result.
type Lane struct {
	reqs [numEndpoints][256]prometheus.Counter
	dur  [numEndpoints]prometheus.Observer
	shed [numShedReasons]prometheus.Counter
}

// ShedReason is why a lane request was shed (the reason label of
// paycode_lane_shed_total).
type ShedReason uint8

// Shed reasons.
const (
	// ShedInFlight: the in-flight limit (keys.maxInFlight) was reached.
	ShedInFlight ShedReason = iota
	// ShedPayDelay: a new pay above the adaptive pay limit, which falls
	// while pays wait longer than keys.payDelayTarget.
	ShedPayDelay
	numShedReasons
)

var shedNames = [numShedReasons]string{"in_flight", "pay_delay"}

// NewLane registers the lane metrics on reg.
func NewLane(reg prometheus.Registerer) *Lane {
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "paycode", Subsystem: "lane", Name: "requests_total",
		Help: "Lane API requests by endpoint and Antom resultCode.",
	}, []string{"endpoint", "result"})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "paycode", Subsystem: "lane", Name: "request_duration_seconds",
		Help:    "Lane API request handling time, wallet wait included.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"endpoint"})
	shed := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "paycode", Subsystem: "lane", Name: "shed_total",
		Help: "Lane requests shed with REQUEST_TRAFFIC_EXCEED_LIMIT before any work, by reason: in_flight (the in-flight limit) or pay_delay (new pays above the limit that queueing delay sets).",
	}, []string{"reason"})
	reg.MustRegister(reqs, dur, shed)
	l := &Lane{}
	for r := range numShedReasons {
		l.shed[r] = shed.WithLabelValues(shedNames[r])
	}
	for e := Endpoint(0); e < numEndpoints; e++ {
		l.dur[e] = dur.WithLabelValues(e.String())
		none := reqs.WithLabelValues(e.String(), resultNoneLabel)
		for i := range l.reqs[e] {
			rc := codec.ResultCode(i)
			if rc == codec.ResultNone || rc.String() == "" {
				l.reqs[e][i] = none
				continue
			}
			l.reqs[e][i] = reqs.WithLabelValues(e.String(), rc.String())
		}
	}
	return l
}

// Observe records one lane request. It does not allocate. A nil Lane
// records nothing.
func (l *Lane) Observe(e Endpoint, rc codec.ResultCode, d time.Duration) {
	if l == nil {
		return
	}
	if e >= numEndpoints {
		e = EndpointOther
	}
	l.reqs[e][rc].Inc()
	l.dur[e].Observe(d.Seconds())
}

// Requests is the series Observe counts requests of e answered rc on
// (paycode_lane_requests_total): for tests, read with
// prometheus/testutil.ToFloat64.
func (l *Lane) Requests(e Endpoint, rc codec.ResultCode) prometheus.Counter {
	if e >= numEndpoints {
		e = EndpointOther
	}
	return l.reqs[e][rc]
}

// Shed counts one request shed for r. A nil Lane records nothing.
func (l *Lane) Shed(r ShedReason) {
	if l == nil || r >= numShedReasons {
		return
	}
	l.shed[r].Inc()
}

// RegisterEngine registers engine and identification gauges and counters
// on reg, read at scrape time. id may be nil.
func RegisterEngine(reg prometheus.Registerer, eng *engine.Engine, id *ident.Identifier) {
	st := eng.Stats()
	counter := func(sub, name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "paycode", Subsystem: sub, Name: name, Help: help}, f)
	}
	gauge := func(sub, name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "paycode", Subsystem: sub, Name: name, Help: help}, f)
	}
	reg.MustRegister(
		counter("engine", "pays_total", "Pay requests that reached the engine.", func() float64 { return float64(st.Pays.Load()) }),
		counter("engine", "dispatched_total", "Pay calls sent to wallets.", func() float64 { return float64(st.Dispatched.Load()) }),
		counter("engine", "duplicates_total", "Pays answered from an existing payment.", func() float64 { return float64(st.Duplicates.Load()) }),
		counter("engine", "followups_total", "Follow-up wallet calls made.", func() float64 { return float64(st.FollowUps.Load()) }),
		counter("engine", "reversals_total", "Late successes reversed at the wallet.", func() float64 { return float64(st.Reversals.Load()) }),
		counter("engine", "wallet_errors_total", "Wallet calls with an unknown outcome.", func() float64 { return float64(st.WalletError.Load()) }),
		counter("engine", "notification_attempts_total", "Notification delivery attempts.", func() float64 { return float64(st.Notifications.Load()) }),
		counter("engine", "notifications_abandoned_total", "Notifications given up after the whole retry schedule went unacknowledged.", func() float64 { return float64(st.NotificationsAbandoned.Load()) }),
		gauge("engine", "followups_queued", "Follow-ups queued (payments and refunds awaiting a wallet outcome, notifications).", func() float64 { return float64(eng.FollowUps()) }),
		gauge("engine", "notifications_pending", "Payment notifications not yet delivered.", func() float64 { return float64(eng.PendingNotifications()) }),
		gauge("engine", "payments_resident", "Payments held in memory (the working set; the rest is read from the journal).", func() float64 { return float64(eng.Resident()) }),
		gauge("engine", "journal_failed", "1 when the journal has failed and the engine refuses new work.", func() float64 {
			if eng.Failed() {
				return 1
			}
			return 0
		}),
		counter("engine", "journal_outages_total", "Times the journal became unavailable (new pays refused until it answered again).", func() float64 {
			return float64(eng.JournalHealth().Outages)
		}),
		journalHealthy{eng},
	)
	if id == nil {
		return
	}
	identCounter := func(name, help string, f func(ident.Stats) uint64) prometheus.Collector {
		return counter("ident", name, help, func() float64 { return float64(f(id.Stats())) })
	}
	reg.MustRegister(
		identCounter("cache_hits_total", "Routes answered from the identification cache.", func(s ident.Stats) uint64 { return s.Hits }),
		identCounter("cache_negative_hits_total", "No-rule answers from the identification cache.", func(s ident.Stats) uint64 { return s.NegativeHits }),
		identCounter("cache_misses_total", "Lookups the identification cache could not answer.", func(s ident.Stats) uint64 { return s.Misses }),
		identCounter("source_calls_total", "Asks of the identification source.", func(s ident.Stats) uint64 { return s.SourceCalls }),
		identCounter("source_errors_total", "Identification source asks that failed.", func(s ident.Stats) uint64 { return s.SourceErrors }),
		identCounter("refreshes_total", "Background identification refreshes started.", func(s ident.Stats) uint64 { return s.Refreshes }),
		identCounter("unroutable_total", "Codes refused by class without a lookup.", func(s ident.Stats) uint64 { return s.Unroutable }),
		identCounter("reloads_total", "Successful routing rule reloads.", func(s ident.Stats) uint64 { return s.Reloads }),
	)
}

// NewRegistry returns a registry with the Go runtime and process
// collectors, the engine metrics and a Lane.
func NewRegistry(eng *engine.Engine, id *ident.Identifier) (*prometheus.Registry, *Lane) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	RegisterEngine(reg, eng, id)
	return reg, NewLane(reg)
}

// journalHealthy is paycode_journal_healthy: 1 while the node can record
// a new payment, else 0 with the reason label saying why: "unavailable"
// (a network journal did not answer within its call timeout; the node
// resumes by itself) or "failed" (fail-stop: a restart is needed).
type journalHealthy struct{ eng *engine.Engine }

var journalHealthyDesc = prometheus.NewDesc("paycode_journal_healthy",
	"1 when the node can record a new payment; 0 with reason unavailable (the database did not answer in time) or failed (fail-stop).",
	[]string{"reason"}, nil)

func (j journalHealthy) Describe(ch chan<- *prometheus.Desc) { ch <- journalHealthyDesc }

func (j journalHealthy) Collect(ch chan<- prometheus.Metric) {
	h := j.eng.JournalHealth()
	v, reason := 1.0, ""
	switch {
	case h.Failed:
		v, reason = 0, "failed"
	case !h.OK:
		v, reason = 0, "unavailable"
	}
	ch <- prometheus.MustNewConstMetric(journalHealthyDesc, prometheus.GaugeValue, v, reason)
}
