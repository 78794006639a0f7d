package engine_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal/journaltest"
	"github.com/paycode/paycode/engine/notify"
)

// payNotified pays successfully with notify URL url.
func (r *rig) payNotified(t *testing.T, id string, c codec.Code, url string) {
	t.Helper()
	req := payReq(id, c, 500)
	req.NotifyURL = []byte(url)
	if v := r.pay(req); v.Status != codec.StatusSuccess {
		t.Fatalf("pay %s: %v", id, v.ResultCode)
	}
}

// TestNotificationOutboxInJournal: a payment whose merchant endpoint never
// acknowledges leaves memory at the next lease ticks while its
// notification stays pending in the journal's outbox; the outbox retries
// it by due time on the schedule, from any node, then abandons it
// (counted, its journal record deleted).
func TestNotificationOutboxInJournal(t *testing.T) {
	bg := context.Background()
	c := newCluster()
	n := &flakyNotifier{failures: 1 << 30}
	schedule := []time.Duration{0, time.Minute, time.Hour}
	a := c.node(t, 1, func(cfg *engine.Config) {
		cfg.Notifier = n
		cfg.NotifySchedule = schedule
	})
	b := c.node(t, 2, func(cfg *engine.Config) {
		cfg.Notifier = n
		cfg.NotifySchedule = schedule
	})
	a.payNotified(t, "p1", code(1, 1), "https://merchant.test/notify")
	for range 2 {
		a.e.LeaseTick(bg)
	}
	if r := a.e.Resident(); r != 0 {
		t.Fatalf("%d payments resident with only a notification pending, want 0", r)
	}
	if p := a.e.PendingNotifications(); p != 1 {
		t.Fatalf("pending notifications %d, want 1 (in the journal)", p)
	}
	attempts := func(want int) {
		t.Helper()
		if got := len(n.bodies); got != want {
			t.Fatalf("delivery attempts %d, want %d", got, want)
		}
	}
	a.e.DeliverNotifications(bg)
	attempts(1)
	a.e.DeliverNotifications(bg) // the retry is not due yet
	b.e.DeliverNotifications(bg)
	attempts(1)
	c.clock.Advance(time.Minute - time.Second)
	b.e.DeliverNotifications(bg)
	attempts(1)
	c.clock.Advance(time.Second)
	b.e.DeliverNotifications(bg) // any node delivers
	attempts(2)
	if r := a.e.Resident() + b.e.Resident(); r != 0 {
		t.Fatalf("%d payments resident while the notification is retried, want 0", r)
	}
	c.clock.Advance(time.Hour)
	a.e.DeliverNotifications(bg)
	attempts(3)
	if got := a.e.Stats().NotificationsAbandoned.Load(); got != 1 {
		t.Fatalf("abandoned %d, want 1", got)
	}
	if p := a.e.PendingNotifications(); p != 0 {
		t.Fatalf("pending notifications %d after abandoning, want 0", p)
	}
	if l := journaltest.Load(t, c.db.Node("check", leaseTTL)); len(l.Notes) != 0 {
		t.Fatalf("journal still holds %d notifications", len(l.Notes))
	}
	c.clock.Advance(24 * time.Hour)
	a.e.DeliverNotifications(bg)
	b.e.DeliverNotifications(bg)
	attempts(3)
}

// TestNotificationAckedOnce: an acknowledged notification leaves the
// journal and is not sent again.
func TestNotificationAckedOnce(t *testing.T) {
	bg := context.Background()
	c := newCluster()
	n := &flakyNotifier{}
	a := c.node(t, 1, func(cfg *engine.Config) { cfg.Notifier = n })
	a.payNotified(t, "p1", code(1, 1), "https://merchant.test/notify")
	if got := a.e.DeliverNotifications(bg); got != 1 {
		t.Fatalf("delivered %d, want 1", got)
	}
	if p := a.e.PendingNotifications(); p != 0 {
		t.Fatalf("pending %d after the acknowledgement, want 0", p)
	}
	if got := a.e.DeliverNotifications(bg); got != 0 {
		t.Fatalf("delivered %d again, want 0", got)
	}
}

// TestNotificationsFlowPastHungMerchant: a merchant whose notify endpoint
// accepts connections and never answers holds only its own deliveries;
// another merchant's notifications keep being delivered meanwhile (the
// hung ones' timeout is far beyond the test's wait).
func TestNotificationsFlowPastHungMerchant(t *testing.T) {
	const hung, healthy = 4, 20
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, hung)
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			accepted <- c // read nothing, answer nothing
		}
	}()
	got := make(chan string, healthy)
	ok := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		got <- string(ctx.Request.Body())
		ctx.SetBodyString(`{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}`)
	}}
	okLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ok.Serve(okLn)
	defer ok.Shutdown()

	n, err := notify.New(notify.Config{AllowHTTP: true, Allow: []string{"127.0.0.1"}, Timeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster()
	a := c.node(t, 1, func(cfg *engine.Config) {
		cfg.Notifier = n
		cfg.WalletCallTimeout = 10 * time.Minute
	})
	ctx, cancel := context.WithCancel(context.Background())
	a.e.Start(ctx)
	var conns []net.Conn
	defer func() {
		hole.Close()
		for _, c := range conns {
			c.Close() // ends the hung deliveries
		}
		cancel()
		a.e.Wait()
	}()
	guard := time.After(time.Minute) // fails the test, never paces it
	for i := range hung {
		a.payNotified(t, fmt.Sprintf("p%d", i), code(i, 1), "http://"+hole.Addr().String()+"/notify")
	}
	for range hung {
		select {
		case c := <-accepted:
			conns = append(conns, c)
		case <-guard:
			t.Fatalf("the hung merchant got %d connections, want %d", len(conns), hung)
		}
	}
	for i := range healthy {
		a.payNotified(t, fmt.Sprintf("p%d", hung+i), code(hung+i, 1), "http://"+okLn.Addr().String()+"/notify")
	}
	seen := map[string]bool{}
	for len(seen) < healthy {
		select {
		case body := <-got:
			seen[body] = true
		case <-guard:
			t.Fatalf("the healthy merchant got %d of %d notifications while another merchant hangs", len(seen), healthy)
		}
	}
}

// busyNotifier reports ErrNotifierBusy for its first busy calls, then
// acknowledges.
type busyNotifier struct {
	mu    sync.Mutex
	busy  int
	calls int
}

func (n *busyNotifier) Notify(context.Context, string, string, []byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	if n.busy > 0 {
		n.busy--
		return fmt.Errorf("wrapped: %w", engine.ErrNotifierBusy)
	}
	return nil
}

// TestNotifierBusyIsNoAttempt: a notifier with no free slot sent
// nothing, so a one-attempt schedule is not used up by it: the
// notification is due again at the next poll and delivered.
func TestNotifierBusyIsNoAttempt(t *testing.T) {
	bg := context.Background()
	c := newCluster()
	n := &busyNotifier{busy: 2}
	a := c.node(t, 1, func(cfg *engine.Config) {
		cfg.Notifier = n
		cfg.NotifySchedule = []time.Duration{0}
	})
	a.payNotified(t, "p1", code(1, 1), "https://merchant.test/notify")
	for range 3 {
		a.e.DeliverNotifications(bg)
		c.clock.Advance(time.Second)
	}
	if n.calls != 3 || n.busy != 0 {
		t.Fatalf("notifier called %d times, want 3 (2 busy, 1 acknowledged)", n.calls)
	}
	if got := a.e.Stats().NotificationsAbandoned.Load(); got != 0 {
		t.Fatalf("abandoned %d, want 0: a busy notifier made no attempt", got)
	}
	if got := a.e.Stats().Notifications.Load(); got != 1 {
		t.Fatalf("attempts counted %d, want 1", got)
	}
	if p := a.e.PendingNotifications(); p != 0 {
		t.Fatalf("pending %d after the acknowledgement, want 0", p)
	}
}

// gateNotifier acknowledges each notification once gate is closed,
// announcing its body on started first.
type gateNotifier struct {
	started chan string
	gate    chan struct{}
	mu      sync.Mutex
	bodies  []string
}

func (n *gateNotifier) Notify(_ context.Context, _, _ string, body []byte) error {
	n.mu.Lock()
	n.bodies = append(n.bodies, string(body))
	n.mu.Unlock()
	n.started <- string(body)
	<-n.gate
	return nil
}

// TestNotificationsOfOnePaymentInOrder: while a payment's notification is
// being sent, a newer one of the same payment (a cancel after success)
// is not sent beside it by a freed slot; it follows once the first is
// done, so the merchant's last acknowledgement is the latest status.
func TestNotificationsOfOnePaymentInOrder(t *testing.T) {
	bg := context.Background()
	c := newCluster()
	n := &gateNotifier{started: make(chan string, 4), gate: make(chan struct{})}
	a := c.node(t, 1, func(cfg *engine.Config) {
		cfg.Notifier = n
		cfg.NotifySchedule = []time.Duration{0}
	})
	a.payNotified(t, "p1", code(1, 1), "https://merchant.test/notify")
	first := make(chan int)
	go func() { first <- a.e.DeliverNotifications(bg) }()
	if b := <-n.started; !strings.Contains(b, `"SUCCESS"`) {
		t.Fatalf("first notification %s, want the success", b)
	}
	if res := a.e.Cancel(bg, client, &codec.IDRequest{PaymentRequestID: []byte("p1")}); res.Result != codec.Success {
		t.Fatalf("cancel: %v", res.Result)
	}
	second := make(chan int)
	go func() { second <- a.e.DeliverNotifications(bg) }()
	select {
	case b := <-n.started:
		t.Fatalf("a second notification of p1 was sent while the first was: %s", b)
	case <-second:
	}
	close(n.gate)
	<-first
	c.clock.Advance(time.Second)
	a.e.DeliverNotifications(bg)
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.bodies) != 2 || !strings.Contains(n.bodies[1], `"ORDER_IS_CANCELED"`) {
		t.Fatalf("notifications sent %q, want the success then the cancellation", n.bodies)
	}
}

// stopNotifier waits, at its first call, for the delivery's context to
// end and answers busy, as notify.Notifier does when the stop ends its
// wait for a slot; it acknowledges every later call.
type stopNotifier struct {
	started chan struct{}
	mu      sync.Mutex
	calls   int
}

func (n *stopNotifier) Notify(ctx context.Context, _, _ string, _ []byte) error {
	n.mu.Lock()
	n.calls++
	first := n.calls == 1
	n.mu.Unlock()
	if !first {
		return nil
	}
	close(n.started)
	<-ctx.Done()
	return notify.ErrBusy
}

// TestNotifierBusyAtStopKeepsClaim: a delivery that the stop ended while
// it waited for a slot (busy) writes nothing to the journal as the node
// stops: like any delivery the stop ends, it keeps its claim and is sent
// when that runs out (docs/operations.md, shutdown), not a poll later.
func TestNotifierBusyAtStopKeepsClaim(t *testing.T) {
	bg := context.Background()
	c := newCluster()
	n := &stopNotifier{started: make(chan struct{})}
	a := c.node(t, 1, func(cfg *engine.Config) {
		cfg.Notifier = n
		cfg.NotifySchedule = []time.Duration{0}
	})
	a.payNotified(t, "p1", code(1, 1), "https://merchant.test/notify")
	ctx, cancel := context.WithCancel(bg)
	done := make(chan int)
	go func() { done <- a.e.DeliverNotifications(ctx) }()
	<-n.started
	cancel()
	<-done
	c.clock.Advance(time.Second) // the outbox's poll
	a.e.DeliverNotifications(bg)
	n.mu.Lock()
	calls := n.calls
	n.mu.Unlock()
	if calls != 1 {
		t.Fatalf("notifier called %d times a poll after the stop, want 1: the stopped delivery's claim was given up", calls)
	}
	c.clock.Advance(a.e.Config().WalletCallTimeout + 5*time.Second) // the claim runs out
	a.e.DeliverNotifications(bg)
	if n.calls != 2 || a.e.PendingNotifications() != 0 {
		t.Fatalf("after the claim: notifier called %d times, %d pending; want 2 and 0", n.calls, a.e.PendingNotifications())
	}
}
