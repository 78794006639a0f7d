package admin

import (
	_ "embed"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/mpp"
)

//go:embed page.html
var page []byte

// Engine is what the page reads of the engine (*engine.Engine has it).
type Engine interface {
	FollowUps() int
	NextFollowUp() (time.Time, bool)
	PendingNotifications() int
	Failed() bool
	// JournalDownReason says why the node cannot record a new payment
	// (journal unavailable or failed); "" when it can.
	JournalDownReason() string
}

// Wallet is what the page reads of a wallet connector (*mpp.Client).
type Wallet interface {
	Name() string
	BreakerState() mpp.BreakerState
	InFlight() int
}

// pendingEvery bounds how often PendingNotifications, which walks every
// payment, runs however many pages are open.
const pendingEvery = time.Second

// Page serves the status page, /status and /status.json, and the test codes.
type Page struct {
	c       *Collector
	eng     Engine // may be nil
	wallets []Wallet
	now     func() time.Time
	// testCodes, when set, adds the test-code table (SetTestCodes).
	testCodes TestCodes

	mu          sync.Mutex
	pending     int
	pendingAt   time.Time
	pendingDone bool
}

// NewPage serves c's figures with eng's backlog and the wallets'
// breakers. eng may be nil (no engine figures).
func NewPage(c *Collector, eng Engine, wallets map[string]*mpp.Client) *Page {
	h := &Page{c: c, eng: eng, now: c.now}
	for _, w := range wallets {
		h.wallets = append(h.wallets, w)
	}
	slices.SortFunc(h.wallets, func(a, b Wallet) int {
		if a.Name() < b.Name() {
			return -1
		}
		if a.Name() > b.Name() {
			return 1
		}
		return 0
	})
	return h
}

// Snapshot is /status.json.
type Snapshot struct {
	Now           time.Time    `json:"now"`
	WindowSeconds float64      `json:"windowSeconds"`
	PaysPerSec    float64      `json:"paysPerSec"`
	Wallets       []WalletView `json:"wallets"`
	// FollowUps is the follow-up queue's length; FollowUpOverdueMS how
	// long ago its earliest item fell due (0 when none is due).
	FollowUps            int     `json:"followUps"`
	FollowUpOverdueMS    float64 `json:"followUpOverdueMs"`
	NotificationsPending int     `json:"notificationsPending"`
	JournalFailed        bool    `json:"journalFailed"`
	// JournalDown says why the node cannot record a new payment now
	// (journal unavailable or failed); empty when it can.
	JournalDown string   `json:"journalDown,omitempty"`
	Recent      []Recent `json:"recent"`
	// TestCodes are the simulated wallets' outcome rows, each with a
	// fresh code at TestCodePath (absent against real wallets).
	TestCodes []TestCodeRow `json:"testCodes,omitempty"`
}

// WalletView is a wallet's row: the window's figures and the connector's.
type WalletView struct {
	WalletStats
	Breaker  string `json:"breaker"`
	InFlight int    `json:"inFlight"`
}

// Snapshot gathers the page's figures now.
func (h *Page) Snapshot() Snapshot {
	stats, recent, win := h.c.Window()
	now := h.now()
	s := Snapshot{Now: now, WindowSeconds: win.Seconds(), Recent: recent}
	if h.testCodes != nil {
		s.TestCodes = h.testCodes.Rows()
	}
	byName := map[string]WalletStats{}
	for _, ws := range stats {
		byName[ws.Name] = ws
	}
	for _, w := range h.wallets {
		ws, ok := byName[w.Name()]
		if !ok {
			ws = WalletStats{Name: w.Name(), Results: map[string]int{}}
		}
		delete(byName, w.Name())
		s.Wallets = append(s.Wallets, WalletView{WalletStats: ws, Breaker: w.BreakerState().String(), InFlight: w.InFlight()})
	}
	for _, ws := range stats { // outcomes of wallets without a connector: none, other
		if _, left := byName[ws.Name]; left {
			s.Wallets = append(s.Wallets, WalletView{WalletStats: ws, Breaker: "-"})
		}
	}
	for _, w := range s.Wallets {
		s.PaysPerSec += w.PaysPerSec
	}
	if h.eng != nil {
		s.FollowUps = h.eng.FollowUps()
		if due, ok := h.eng.NextFollowUp(); ok && now.After(due) {
			s.FollowUpOverdueMS = float64(now.Sub(due)) / float64(time.Millisecond)
		}
		s.JournalFailed = h.eng.Failed()
		s.JournalDown = h.eng.JournalDownReason()
		s.NotificationsPending = h.pendingNotifications(now)
	}
	return s
}

func (h *Page) pendingNotifications(now time.Time) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.pendingDone || now.Sub(h.pendingAt) >= pendingEvery {
		h.pending, h.pendingAt, h.pendingDone = h.eng.PendingNotifications(), now, true
	}
	return h.pending
}

// Handle serves path if it is /status or /status.json and reports whether
// it did.
func (h *Page) Handle(ctx *fasthttp.RequestCtx) bool {
	switch string(ctx.Path()) {
	case "/status":
		ctx.SetContentType("text/html; charset=utf-8")
		ctx.Response.Header.Set("Cache-Control", "no-store")
		ctx.Response.Header.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'")
		ctx.SetBody(page)
	case "/status.json":
		b, err := json.Marshal(h.Snapshot())
		if err != nil {
			ctx.Error("status: "+err.Error(), fasthttp.StatusInternalServerError)
			return true
		}
		ctx.SetContentType("application/json")
		ctx.Response.Header.Set("Cache-Control", "no-store")
		ctx.SetBody(b)
	case TestCodePath:
		h.serveTestCode(ctx)
	default:
		return false
	}
	return true
}
