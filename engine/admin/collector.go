package admin

import (
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// Defaults.
const (
	// DefaultWindow is the throughput and percentile window.
	DefaultWindow = 10 * time.Second
	// DefaultRecent is how many finished payments the page lists.
	DefaultRecent = 50
	// MaxWallets bounds the wallets tracked; outcomes of further ones are
	// counted under OtherWallet.
	MaxWallets = 64
	// OtherWallet is the row of wallets beyond MaxWallets; NoWallet the
	// row of payments that never reached one (no routing rule).
	OtherWallet = "other"
	NoWallet    = "none"
)

// Latency range recorded, in microseconds: 1 µs to 1 hour, 2 significant
// digits. A payment settled later than that is recorded as 1 hour.
const (
	histMin    = 1
	histMax    = int64(time.Hour / time.Microsecond)
	histDigits = 2
)

// CollectorConfig is a Collector's.
type CollectorConfig struct {
	// Window is the throughput and percentile window, in whole seconds
	// (DefaultWindow when zero).
	Window time.Duration
	// Recent is how many finished payments to keep (DefaultRecent).
	Recent int
	// Now is the clock of the window's reads (time.Now); outcomes are
	// placed by their own Finished time.
	Now func() time.Time
}

// Collector gathers finished payments for the page. Its Outcome method is
// what engine.Config.OnOutcome takes. It is safe for concurrent use.
type Collector struct {
	window int // seconds
	now    func() time.Time
	start  time.Time

	mu      sync.Mutex
	wallets map[string]*walletWindow
	recent  []Recent // ring
	next    int      // next ring index
	filled  bool
	scratch *hdrhistogram.Histogram // merge target of reads, under mu
}

// second is one wallet's outcomes finished within one second.
type second struct {
	unix    int64
	n       uint32
	results [256]uint32 // by codec.ResultCode
	hist    *hdrhistogram.Histogram
}

type walletWindow struct {
	slots []second // ring by unix second
	total uint64
}

// Recent is one finished payment as the page lists it.
type Recent struct {
	Finished   time.Time `json:"finished"`
	PaymentID  string    `json:"paymentId"`
	Wallet     string    `json:"wallet"`
	Code       string    `json:"code"` // masked
	Status     string    `json:"status"`
	Result     string    `json:"result"`
	DurationMS float64   `json:"durationMs"`
	FollowUps  int       `json:"followUps"`
	Recovered  bool      `json:"recovered,omitempty"`
}

// NewCollector returns an empty Collector.
func NewCollector(cfg CollectorConfig) *Collector {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Recent <= 0 {
		cfg.Recent = DefaultRecent
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := int(cfg.Window / time.Second)
	if w < 1 {
		w = 1
	}
	return &Collector{
		window: w, now: cfg.Now, start: cfg.Now(),
		wallets: map[string]*walletWindow{},
		recent:  make([]Recent, cfg.Recent),
		scratch: hdrhistogram.New(histMin, histMax, histDigits),
	}
}

// Outcome records a finished payment. It is engine.Config.OnOutcome: the
// engine calls it with the payment's lock held, so it only takes the
// Collector's mutex for a few field writes (a wallet's first outcome
// also allocates its window, once). o is not retained.
func (c *Collector) Outcome(o *engine.FinishedPayment) {
	us := int64(o.Duration() / time.Microsecond)
	us = max(histMin, min(us, histMax))
	sec := o.Finished.Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.walletLocked(o.Wallet)
	w.total++
	s := &w.slots[int(uint64(sec)%uint64(len(w.slots)))]
	if s.unix < sec { // the slot holds an older second: reuse it
		s.unix, s.n, s.results = sec, 0, [256]uint32{}
		s.hist.Reset()
	}
	if s.unix == sec { // else older than the window: in the total only
		s.n++
		s.results[o.Result]++
		_ = s.hist.RecordValue(us) // in range by the clamp above
	}
	c.recent[c.next] = Recent{
		Finished: o.Finished, PaymentID: o.PaymentID, Wallet: o.Wallet, Code: o.Code,
		Status: o.Status.String(), Result: o.Result.String(),
		DurationMS: float64(o.Duration()) / float64(time.Millisecond), FollowUps: o.FollowUps, Recovered: o.Recovered,
	}
	c.next++
	if c.next == len(c.recent) {
		c.next, c.filled = 0, true
	}
}

func (c *Collector) walletLocked(name string) *walletWindow {
	if name == "" {
		name = NoWallet
	}
	if w := c.wallets[name]; w != nil {
		return w
	}
	if len(c.wallets) >= MaxWallets {
		name = OtherWallet
		if w := c.wallets[name]; w != nil {
			return w
		}
	}
	w := &walletWindow{slots: make([]second, c.window)}
	for i := range w.slots {
		w.slots[i].hist = hdrhistogram.New(histMin, histMax, histDigits)
	}
	c.wallets[name] = w
	return w
}

// WalletStats is one wallet's figures over the window.
type WalletStats struct {
	Name string `json:"name"`
	// PaysPerSec is finished payments per second over the window (or
	// since the Collector started, when that is shorter).
	PaysPerSec float64 `json:"paysPerSec"`
	// Finished is the count in the window; Total since start.
	Finished int    `json:"finished"`
	Total    uint64 `json:"total"`
	// Percentiles of pay request to final state, in milliseconds.
	P50MS float64 `json:"p50Ms"`
	P90MS float64 `json:"p90Ms"`
	P99MS float64 `json:"p99Ms"`
	// Results counts the window's outcomes by resultCode (SUCCESS
	// included); Errors is the share of others.
	Results   map[string]int `json:"results"`
	ErrorRate float64        `json:"errorRate"`
}

// Window is the Collector's figures now, wallets in name order, and the
// recent outcomes newest first.
func (c *Collector) Window() (wallets []WalletStats, recent []Recent, window time.Duration) {
	now := c.now()
	nowSec := now.Unix()
	span := now.Sub(c.start).Seconds()
	if span > float64(c.window) {
		span = float64(c.window)
	}
	span = max(span, 1)
	// The mutex is taken per wallet, so Outcome (under a payment's lock)
	// never waits for more than one wallet's merge (~50 µs).
	c.mu.Lock()
	names := make([]string, 0, len(c.wallets))
	for name := range c.wallets {
		names = append(names, name)
	}
	c.mu.Unlock()
	sort.Strings(names)
	for _, name := range names {
		c.mu.Lock()
		ws := c.walletStatsLocked(name, nowSec, span)
		c.mu.Unlock()
		wallets = append(wallets, ws)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.next
	if c.filled {
		n = len(c.recent)
	}
	recent = make([]Recent, 0, n)
	for i := 1; i <= n; i++ {
		recent = append(recent, c.recent[(c.next-i+len(c.recent))%len(c.recent)])
	}
	return wallets, recent, time.Duration(span * float64(time.Second))
}

// walletStatsLocked computes one wallet's figures; caller holds c.mu.
func (c *Collector) walletStatsLocked(name string, nowSec int64, span float64) WalletStats {
	w := c.wallets[name]
	ws := WalletStats{Name: name, Total: w.total, Results: map[string]int{}}
	c.scratch.Reset()
	var results [256]int
	for i := range w.slots {
		s := &w.slots[i]
		if s.n == 0 || s.unix <= nowSec-int64(c.window) || s.unix > nowSec {
			continue
		}
		ws.Finished += int(s.n)
		c.scratch.Merge(s.hist)
		for rc, n := range s.results {
			results[rc] += int(n)
		}
	}
	errs := 0
	for rc, n := range results {
		if n == 0 {
			continue
		}
		name := codec.ResultCode(rc).String()
		if name == "" {
			name = "NONE"
		}
		ws.Results[name] += n
		if codec.ResultCode(rc) != codec.Success {
			errs += n
		}
	}
	if ws.Finished > 0 {
		ws.PaysPerSec = float64(ws.Finished) / span
		ws.ErrorRate = float64(errs) / float64(ws.Finished)
		ws.P50MS = float64(c.scratch.ValueAtQuantile(50)) / 1e3
		ws.P90MS = float64(c.scratch.ValueAtQuantile(90)) / 1e3
		ws.P99MS = float64(c.scratch.ValueAtQuantile(99)) / 1e3
	}
	return ws
}
