package engine_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
	"github.com/paycode/paycode/engine/journal"
)

// memJournal is the in-memory journal (journal.Mem, one node: the path
// the engine runs on Pebble) with its writes counted and a failure that
// can be switched on and off, as a disk that fills and is emptied.
type memJournal struct {
	*journal.Mem
	mu        sync.Mutex
	fail      error         // writes fail with it
	failReads error         // GetPayment, GetRefund and Acquire fail with it
	claiming  chan struct{} // when set, a claim waits for it to be closed
	appends   int           // writes: Append, ClaimPayment, ClaimRefund
	synced    int
}

func newMemJournal() *memJournal { return &memJournal{Mem: journal.NewMem()} }

func (j *memJournal) write(sync bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail != nil {
		return j.fail
	}
	j.appends++
	if sync {
		j.synced++
	}
	return nil
}

func (j *memJournal) setFail(err error) {
	j.mu.Lock()
	j.fail = err
	j.mu.Unlock()
}

func (j *memJournal) Append(ctx context.Context, b *engine.Batch, sync bool) error {
	if err := j.write(sync); err != nil {
		return err
	}
	return j.Mem.Append(ctx, b, sync)
}

func (j *memJournal) ClaimPayment(ctx context.Context, rec *engine.PaymentRecord) (*engine.PaymentRecord, error) {
	j.mu.Lock()
	wait := j.claiming
	j.mu.Unlock()
	if wait != nil {
		<-wait
	}
	if err := j.write(true); err != nil {
		return nil, err
	}
	return j.Mem.ClaimPayment(ctx, rec)
}

func (j *memJournal) ClaimRefund(ctx context.Context, b *engine.Batch) (*engine.RefundRecord, error) {
	if err := j.write(true); err != nil {
		return nil, err
	}
	return j.Mem.ClaimRefund(ctx, b)
}

func (j *memJournal) readErr() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.failReads
}

func (j *memJournal) GetPayment(ctx context.Context, clientID, requestID, paymentID string) (*engine.PaymentRecord, []*engine.RefundRecord, error) {
	if err := j.readErr(); err != nil {
		return nil, nil, err
	}
	return j.Mem.GetPayment(ctx, clientID, requestID, paymentID)
}

func (j *memJournal) GetRefund(ctx context.Context, clientID, requestID, refundID string) (*engine.RefundRecord, error) {
	if err := j.readErr(); err != nil {
		return nil, err
	}
	return j.Mem.GetRefund(ctx, clientID, requestID, refundID)
}

func (j *memJournal) Acquire(ctx context.Context, paymentID string) (*engine.Leased, bool, error) {
	if err := j.readErr(); err != nil {
		return nil, false, err
	}
	return j.Mem.Acquire(ctx, paymentID)
}

// payment returns payment id's latest record (zero when there is none).
func (j *memJournal) payment(id string) engine.PaymentRecord {
	rec, _, err := j.Mem.GetPayment(context.Background(), "", "", id)
	if err != nil || rec == nil {
		return engine.PaymentRecord{}
	}
	return *rec
}

func (j *memJournal) notes() int {
	n, _ := j.CountNotifications(context.Background())
	return n
}

var codeKey = []byte("0123456789abcdef0123456789abcdef")

// newDurableRig builds an engine over j and w, as a restarted process
// would: recovering first.
func newDurableRig(t *testing.T, j *memJournal, w *fakeWallet, clock *enginetest.ManualClock, tweak func(*engine.Config)) *rig {
	t.Helper()
	cfg := engine.Config{
		Wallets:    map[string]engine.Wallet{"w1": w},
		Identifier: enginetest.StaticIdentifier{"281001": "w1"},
		Clock:      clock,
		Journal:    j,
		CodeKey:    codeKey,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &rig{e: e, w: w, clock: clock}
}

func TestIntentJournaledBeforeDispatch(t *testing.T) {
	j, w := newMemJournal(), newFakeWallet()
	clock := enginetest.NewManualClock(t0)
	r := newDurableRig(t, j, w, clock, nil)
	var seen engine.PaymentRecord
	w.payHook = func(id string) { seen = j.payment(id) }
	v := r.pay(payReq("p1", code(1, 1), 500))
	if seen.PaymentID != v.PaymentID || seen.Status != codec.StatusProcessing || seen.Version != 1 {
		t.Fatalf("wallet called before the intent was journaled: %+v", seen)
	}
	if got := j.payment(v.PaymentID); got.Status != codec.StatusSuccess || got.CodeMasked != code(1, 1).String() {
		t.Fatalf("final record %+v", got)
	}
	// The intent and the wallet's outcome are both synced by default.
	if j.appends != 2 || j.synced != 2 {
		t.Fatalf("writes %d synced %d, want 2 and 2", j.appends, j.synced)
	}
}

// TestAsyncOutcomesSyncWhatMust: with AsyncOutcomes only a success skips
// its fsync; the intent, a failure and a "never sent" failure are synced
// before the lane hears them (docs/design.md, "Durability").
func TestAsyncOutcomesSyncWhatMust(t *testing.T) {
	for _, tc := range []struct {
		name          string
		async         bool
		last2         int  // the fake wallet's outcome row
		notSent       bool // no byte reached the wallet
		status        codec.PaymentStatus
		appends, sync int
	}{
		{"success, synced", false, 1, false, codec.StatusSuccess, 2, 2},
		{"success, async", true, 1, false, codec.StatusSuccess, 2, 1},
		{"failure, async", true, 88, false, codec.StatusFail, 2, 2},
		{"not sent, async", true, 1, true, codec.StatusFail, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, w := newMemJournal(), newFakeWallet()
			w.notSent = tc.notSent
			r := newDurableRig(t, j, w, enginetest.NewManualClock(t0), func(c *engine.Config) { c.AsyncOutcomes = tc.async })
			v := r.pay(payReq("p1", code(1, tc.last2), 500))
			if got := j.payment(v.PaymentID); got.Status != tc.status {
				t.Fatalf("journaled %v, want %v", got.Status, tc.status)
			}
			if j.appends != tc.appends || j.synced != tc.sync {
				t.Fatalf("writes %d synced %d, want %d and %d", j.appends, j.synced, tc.appends, tc.sync)
			}
		})
	}
}

// TestJournalFailureRefusesPayments: a failed write refuses the payment
// before dispatch (U, nothing charged), reports the fatal error once and
// refuses every later payment.
func TestJournalFailureRefusesPayments(t *testing.T) {
	j, w := newMemJournal(), newFakeWallet()
	clock := enginetest.NewManualClock(t0)
	var fatals int
	r := newDurableRig(t, j, w, clock, func(c *engine.Config) { c.OnFatal = func(error) { fatals++ } })
	j.setFail(errors.New("no space left on device"))
	v := r.pay(payReq("p1", code(1, 1), 500))
	if v.ResultCode != codec.UnknownException || v.ResultCode.Status() != codec.StatusU {
		t.Fatalf("answer %v", v.ResultCode)
	}
	if v2 := r.pay(payReq("p2", code(2, 1), 500)); v2.ResultCode != codec.UnknownException {
		t.Fatalf("second %v", v2.ResultCode)
	}
	if w.count("pay") != 0 || fatals != 1 || !r.e.Failed() {
		t.Fatalf("pay calls %d fatals %d failed %v", w.count("pay"), fatals, r.e.Failed())
	}
	// After a restart with a working disk, the same request goes through.
	j.setFail(nil)
	b := newDurableRig(t, j, w, clock, nil)
	if v := b.pay(payReq("p1", code(1, 1), 500)); v.ResultCode != codec.Success {
		t.Fatalf("retry after restart %v", v.ResultCode)
	}
}

type flakyNotifier struct {
	mu       sync.Mutex
	failures int
	bodies   []string
}

func (n *flakyNotifier) Notify(_ context.Context, clientID, url string, body []byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.bodies = append(n.bodies, string(body))
	if n.failures > 0 {
		n.failures--
		return errors.New("merchant down")
	}
	return nil
}

// TestNotificationOutbox: a merchant that fails the first deliveries, with
// a restart in between, gets the final state at least once and the
// outbox empties.
func TestNotificationOutbox(t *testing.T) {
	j, w := newMemJournal(), newFakeWallet()
	clock := enginetest.NewManualClock(t0)
	n := &flakyNotifier{failures: 3}
	sched := func(c *engine.Config) {
		c.Notifier = n
		c.NotifySchedule = []time.Duration{0, time.Second, 2 * time.Second, 2 * time.Second}
	}
	// The follow-up settles the payment; the journal's outbox delivers.
	step := func(e *engine.Engine) {
		e.ProcessDue(context.Background())
		e.DeliverNotifications(context.Background())
	}
	a := newDurableRig(t, j, w, clock, sched)
	req := payReq("p1", code(1, 82), 500)
	req.NotifyURL = []byte("http://merchant.test/notify")
	v := a.pay(req)
	step(a.e) // nothing final yet: no notification
	if len(n.bodies) != 0 {
		t.Fatal("notified before final")
	}
	w.approve(v.PaymentID)
	clock.Advance(time.Second)
	step(a.e) // poll → SUCCESS → first delivery fails
	if len(n.bodies) != 1 {
		t.Fatalf("deliveries %d", len(n.bodies))
	}
	// Restart: the pending notification survives.
	b := newDurableRig(t, j, w, clock, sched)
	for i := 0; i < 20 && b.e.PendingNotifications() > 0; i++ {
		clock.Advance(time.Second)
		step(b.e)
	}
	if b.e.PendingNotifications() != 0 {
		t.Fatal("notification never acknowledged")
	}
	if len(n.bodies) != 4 {
		t.Fatalf("deliveries %d, want 4 (3 failures + 1)", len(n.bodies))
	}
	for _, body := range n.bodies {
		if want := `"paymentId":"` + v.PaymentID + `"`; !contains(body, want) || !contains(body, `"resultCode":"SUCCESS"`) || !contains(body, `"notifyType":"PAYMENT_RESULT"`) {
			t.Fatalf("body %s", body)
		}
	}
	if left := j.notes(); left != 0 {
		t.Fatalf("journal still holds %d notifications", left)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestCompaction(t *testing.T) {
	j, w := newMemJournal(), newFakeWallet()
	clock := enginetest.NewManualClock(t0)
	r := newDurableRig(t, j, w, clock, nil)
	v := r.pay(payReq("p1", code(1, 1), 500))
	clock.Advance(engine.DefaultRetention - time.Hour)
	if n, _ := r.e.Compact(context.Background()); n != 0 {
		t.Fatalf("compacted %d inside retention", n)
	}
	if v2 := r.pay(payReq("p1", code(1, 1), 500)); v2.PaymentID != v.PaymentID {
		t.Fatal("idempotency lost inside retention")
	}
	clock.Advance(2 * time.Hour)
	if n, _ := r.e.Compact(context.Background()); n != 1 {
		t.Fatalf("compacted %d", n)
	}
	if rc, _ := r.inquire(v.PaymentID); rc != codec.OrderNotExist {
		t.Fatal("still there")
	}
	if j.payment(v.PaymentID).PaymentID != "" {
		t.Fatal("journal kept it")
	}
}
