package admin_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/admin"
)

// fakeClock is the collector's read clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func finished(wallet string, rc codec.ResultCode, at time.Time, d time.Duration, n int) *engine.FinishedPayment {
	st := codec.StatusSuccess
	if rc != codec.Success {
		st = codec.StatusFail
	}
	return &engine.FinishedPayment{PaymentID: fmt.Sprintf("P%06d", n), Wallet: wallet, Code: "281001******0000",
		Result: rc, Status: st, Created: at.Add(-d), Finished: at}
}

func TestCollectorWindow(t *testing.T) {
	clk := &fakeClock{t: t0}
	c := admin.NewCollector(admin.CollectorConfig{Now: clk.Now, Window: 10 * time.Second, Recent: 5})
	clk.Add(30 * time.Second) // the collector has run longer than the window
	now := clk.Now()
	// 100 outcomes for A over the last 10 s: 1..100 ms, every tenth a failure.
	for i := 1; i <= 100; i++ {
		rc := codec.Success
		if i%10 == 0 {
			rc = codec.UserBalanceNotEnough
		}
		at := now.Add(-time.Duration(i%10) * time.Second)
		c.Outcome(finished("A", rc, at, time.Duration(i)*time.Millisecond, i))
	}
	// B: 20 outcomes, 15 of them older than the window.
	for i := range 20 {
		at := now.Add(-time.Duration(5+i*2) * time.Second)
		c.Outcome(finished("B", codec.Success, at, time.Second, 1000+i))
	}
	c.Outcome(finished("", codec.ProcessFail, now, time.Millisecond, 2000))
	ws, recent, win := c.Window()
	if win != 10*time.Second {
		t.Fatalf("window %v", win)
	}
	if len(ws) != 3 || ws[0].Name != "A" || ws[1].Name != "B" || ws[2].Name != admin.NoWallet {
		t.Fatalf("wallets %+v", ws)
	}
	a := ws[0]
	if a.Finished != 100 || a.Total != 100 || a.PaysPerSec != 10 {
		t.Errorf("A: finished %d total %d rate %v", a.Finished, a.Total, a.PaysPerSec)
	}
	if a.Results["SUCCESS"] != 90 || a.Results["USER_BALANCE_NOT_ENOUGH"] != 10 || a.ErrorRate != 0.1 {
		t.Errorf("A results %v error rate %v", a.Results, a.ErrorRate)
	}
	near := func(got, want float64) bool { return got > want*0.97 && got < want*1.03 }
	if !near(a.P50MS, 50) || !near(a.P90MS, 90) || !near(a.P99MS, 99) {
		t.Errorf("A percentiles %v %v %v, want ~50 90 99", a.P50MS, a.P90MS, a.P99MS)
	}
	// B's outcomes at -5, -7, -9 s are in the window; the rest only in the total.
	if b := ws[1]; b.Finished != 3 || b.Total != 20 || !near(b.P50MS, 1000) {
		t.Errorf("B: %+v", b)
	}
	if len(recent) != 5 || recent[0].PaymentID != "P002000" || recent[0].Wallet != "" || recent[1].PaymentID != "P001019" {
		t.Fatalf("recent %+v", recent)
	}
	for _, r := range recent {
		if r.Code != "281001******0000" {
			t.Errorf("recent code %q", r.Code)
		}
	}

	// Ten seconds on, the window is empty; totals stay.
	clk.Add(10 * time.Second)
	ws, _, _ = c.Window()
	if ws[0].Finished != 0 || ws[0].PaysPerSec != 0 || ws[0].Total != 100 {
		t.Errorf("A after the window: %+v", ws[0])
	}
}

// TestCollectorBounded: wallets beyond MaxWallets share one row.
func TestCollectorBounded(t *testing.T) {
	c := admin.NewCollector(admin.CollectorConfig{})
	for i := range admin.MaxWallets + 10 {
		c.Outcome(finished(fmt.Sprintf("w%03d", i), codec.Success, time.Now(), time.Millisecond, i))
	}
	ws, _, _ := c.Window()
	if len(ws) != admin.MaxWallets+1 {
		t.Fatalf("%d rows, want %d", len(ws), admin.MaxWallets+1)
	}
	for _, w := range ws {
		if w.Name == admin.OtherWallet && w.Total != 10 {
			t.Fatalf("other: %+v", w)
		}
	}
}

// TestOutcomeCheap: recording allocates nothing once a wallet is known,
// and is safe against concurrent reads.
func TestOutcomeCheap(t *testing.T) {
	c := admin.NewCollector(admin.CollectorConfig{})
	o := finished("A", codec.Success, time.Now(), 3*time.Millisecond, 1)
	c.Outcome(o)
	if !raceEnabled {
		if n := testing.AllocsPerRun(1000, func() { c.Outcome(o) }); n != 0 {
			t.Fatalf("Outcome allocates %v times", n)
		}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				c.Outcome(finished(fmt.Sprint("w", g), codec.Success, time.Now(), time.Millisecond, i))
			}
		}()
	}
	for range 50 {
		c.Window()
	}
	wg.Wait()
	ws, _, _ := c.Window()
	if len(ws) != 5 {
		t.Fatalf("%d wallets", len(ws))
	}
}

type fakeEngine struct{ due time.Time }

func (fakeEngine) FollowUps() int                    { return 7 }
func (f fakeEngine) NextFollowUp() (time.Time, bool) { return f.due, true }
func (fakeEngine) PendingNotifications() int         { return 3 }
func (fakeEngine) Failed() bool                      { return false }
func (fakeEngine) JournalDownReason() string         { return "journal unavailable: test" }

func TestHandler(t *testing.T) {
	clk := &fakeClock{t: t0}
	c := admin.NewCollector(admin.CollectorConfig{Now: clk.Now})
	clk.Add(20 * time.Second)
	c.Outcome(finished("A", codec.Success, clk.Now(), 20*time.Millisecond, 1))
	h := admin.NewPage(c, fakeEngine{due: clk.Now().Add(-1500 * time.Millisecond)}, nil)
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/status.json")
	if !h.Handle(&ctx) || ctx.Response.StatusCode() != 200 {
		t.Fatalf("status.json: %d", ctx.Response.StatusCode())
	}
	var s admin.Snapshot
	if err := json.Unmarshal(ctx.Response.Body(), &s); err != nil {
		t.Fatal(err)
	}
	if s.FollowUps != 7 || s.NotificationsPending != 3 || s.FollowUpOverdueMS != 1500 || len(s.Wallets) != 1 ||
		s.Wallets[0].Finished != 1 || s.Wallets[0].Breaker != "-" || len(s.Recent) != 1 || s.PaysPerSec != 0.1 ||
		s.JournalDown != "journal unavailable: test" {
		t.Fatalf("snapshot %+v", s)
	}
	ctx.Request.SetRequestURI("/status")
	ctx.Response.Reset()
	if !h.Handle(&ctx) || !strings.HasPrefix(string(ctx.Response.Header.ContentType()), "text/html") {
		t.Fatal("/status is not HTML")
	}
	page := string(ctx.Response.Body())
	// Self-contained: no external script, style, image or font.
	for _, ext := range []string{"src=", "href=", "@import", "url("} {
		if strings.Contains(page, ext) {
			t.Errorf("page references an external asset (%s)", ext)
		}
	}
	ctx.Request.SetRequestURI("/other")
	if h.Handle(&ctx) {
		t.Fatal("served /other")
	}
}

// BenchmarkOutcome is the cost the engine pays per finished payment.
func BenchmarkOutcome(b *testing.B) {
	c := admin.NewCollector(admin.CollectorConfig{})
	o := finished("A", codec.Success, time.Now(), 12*time.Millisecond, 1)
	b.ReportAllocs()
	for b.Loop() {
		c.Outcome(o)
	}
}

// BenchmarkWindow is one page refresh's read of four busy wallets: how
// long Outcome may wait for the Collector's mutex.
func BenchmarkWindow(b *testing.B) {
	c := admin.NewCollector(admin.CollectorConfig{})
	now := time.Now()
	for i := range 40000 {
		at := now.Add(-time.Duration(i%10) * time.Second)
		c.Outcome(finished(fmt.Sprint("mpp-", i%4), codec.Success, at, time.Duration(1+i%5000)*100*time.Microsecond, i))
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Window()
	}
}
