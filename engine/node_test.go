package engine_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
	"github.com/paycode/paycode/engine/journal"
)

// Several nodes over one shared journal (journal.MemDB: the
// PostgreSQL semantics in memory; engine/journal/postgres runs the same
// scenarios against a real server). Every node talks to the same wallet,
// so the wallet's ledger shows any double charge.

const leaseTTL = 10 * time.Second

type cluster struct {
	db    *journal.MemDB
	w     *fakeWallet
	clock *enginetest.ManualClock
}

func newCluster() *cluster {
	clock := enginetest.NewManualClock(t0)
	return &cluster{db: journal.NewMemDB(clock.Now), w: newFakeWallet(), clock: clock}
}

// node starts node n (recovering its own work first, as a restart does).
func (c *cluster) node(t *testing.T, n int, tweak func(*engine.Config)) *rig {
	t.Helper()
	cfg := engine.Config{
		Wallets:    map[string]engine.Wallet{"w1": c.w},
		Identifier: enginetest.StaticIdentifier{"281001": "w1"},
		Clock:      c.clock,
		Node:       n,
		Journal:    c.db.Node(string(rune('0'+n)), leaseTTL),
		CodeKey:    codeKey,
		PayTimeout: 2 * time.Second,
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
	return &rig{e: e, w: c.w, clock: c.clock}
}

// settle runs the nodes' lease ticks and follow-ups until none is queued.
func (c *cluster) settle(t *testing.T, nodes ...*rig) {
	t.Helper()
	for i := 0; i < 200; i++ {
		busy := false
		for _, n := range nodes {
			n.e.LeaseTick(context.Background())
			n.e.ProcessDue(context.Background())
			if n.e.FollowUps() > 0 {
				busy = true
			}
		}
		if !busy {
			return
		}
		var next time.Time
		for _, n := range nodes {
			if d, ok := n.e.NextFollowUp(); ok && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
		if d := next.Sub(c.clock.Now()); d > 0 {
			c.clock.Advance(d)
		}
	}
	t.Fatal("follow-ups did not settle")
}

func TestNodesSameRequestDispatchOnce(t *testing.T) {
	c := newCluster()
	a, b := c.node(t, 1, nil), c.node(t, 2, nil)
	req := payReq("p1", code(1, 1), 500)
	var wg sync.WaitGroup
	views := make([]codec.PaymentView, 40)
	for i := range views {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n := a
			if i%2 == 1 {
				n = b
			}
			n.e.Pay(context.Background(), client, req, &views[i])
		}(i)
	}
	wg.Wait()
	for i, v := range views {
		if v.Status != codec.StatusSuccess || v.PaymentID != views[0].PaymentID {
			t.Fatalf("answer %d: %v %v id %s, want SUCCESS with id %s", i, v.Status, v.ResultCode, v.PaymentID, views[0].PaymentID)
		}
	}
	if n := c.w.count("pay"); n != 1 {
		t.Fatalf("wallet got %d pay calls for one request, want 1", n)
	}
	// A changed repeat is refused on either node.
	changed := payReq("p1", code(1, 1), 501)
	if v := b.pay(changed); v.ResultCode != codec.RepeatReqInconsistent {
		t.Fatalf("changed repeat: %v", v.ResultCode)
	}
}

func TestNodesCodeSingleUse(t *testing.T) {
	c := newCluster()
	a, b := c.node(t, 1, nil), c.node(t, 2, nil)
	if v := a.pay(payReq("p1", code(7, 1), 500)); v.Status != codec.StatusSuccess {
		t.Fatalf("first use: %v", v.ResultCode)
	}
	if v := b.pay(payReq("p2", code(7, 1), 500)); v.ResultCode != codec.InvalidPaymentCode {
		t.Fatalf("second use on the other node: %v, want INVALID_PAYMENT_CODE", v.ResultCode)
	}
	if n := c.w.count("pay"); n != 1 {
		t.Fatalf("pay calls %d", n)
	}
}

func TestNodesInquireAnywhere(t *testing.T) {
	c := newCluster()
	a, b := c.node(t, 1, nil), c.node(t, 2, nil)
	v := a.pay(payReq("p1", code(1, 1), 500))
	for _, n := range []*rig{a, b} {
		rc, iv := n.inquire(v.PaymentID)
		if rc != codec.Success || iv.Status != codec.StatusSuccess || iv.PaymentID != v.PaymentID {
			t.Fatalf("inquiry: %v %v", rc, iv.Status)
		}
	}
	if rc, _ := b.inquire("nope"); rc != codec.OrderNotExist {
		t.Fatalf("unknown id: %v", rc)
	}
	var iv codec.PaymentView
	if rc := b.e.Inquire(context.Background(), []byte("other-client"), &codec.IDRequest{PaymentID: []byte(v.PaymentID)}, &iv); rc != codec.OrderNotExist {
		t.Fatalf("another client's payment: %v", rc)
	}
}

// TestNodeDiesOtherFinishes: node A starts a payment the user has to
// confirm and dies; node B takes it over when A's lease expires and
// settles it by inquiry, never by paying again.
func TestNodeDiesOtherFinishes(t *testing.T) {
	c := newCluster()
	a, b := c.node(t, 1, nil), c.node(t, 2, nil)
	var ids []string
	for i := 0; i < 5; i++ {
		v := a.pay(payReq("pending-"+string(rune('a'+i)), code(10+i, 80), 500))
		if v.ResultCode != codec.PaymentInProcess {
			t.Fatalf("pay: %v", v.ResultCode)
		}
		ids = append(ids, v.PaymentID)
	}
	c.w.approve(ids[0])
	c.w.approve(ids[1])
	// A is gone: no more lease ticks or follow-ups. Before its lease ends
	// B takes nothing.
	b.e.LeaseTick(context.Background())
	if b.e.FollowUps() != 0 {
		t.Fatalf("B took over live leases: %d follow-ups", b.e.FollowUps())
	}
	c.clock.Advance(leaseTTL + time.Second)
	c.settle(t, b)
	for i, id := range ids {
		_, v := b.inquire(id)
		want := codec.StatusFail // not confirmed: closed at the deadline
		if i < 2 {
			want = codec.StatusSuccess
		}
		if v.Status != want {
			t.Fatalf("payment %d: %v, want %v", i, v.Status, want)
		}
	}
	if n := c.w.count("pay"); n != 5 {
		t.Fatalf("pay calls %d, want 5 (the takeover never pays)", n)
	}
	// A comes back to life with its stale queue: its writes are refused
	// and change nothing.
	a.e.ProcessDue(context.Background())
	for i, id := range ids {
		_, v := b.inquire(id)
		if (i < 2) != (v.Status == codec.StatusSuccess) {
			t.Fatalf("payment %d changed after the old owner woke: %v", i, v.Status)
		}
	}
}

// TestNodeRestartTakesBackItsWork: a node restarted with the same number
// resumes its pending payments at once (no lease wait).
func TestNodeRestartTakesBackItsWork(t *testing.T) {
	c := newCluster()
	a := c.node(t, 1, nil)
	v := a.pay(payReq("p1", code(3, 80), 500))
	c.w.approve(v.PaymentID)
	a2 := c.node(t, 1, nil)
	if a2.e.FollowUps() != 1 {
		t.Fatalf("restart took back %d follow-ups, want 1", a2.e.FollowUps())
	}
	c.settle(t, a2)
	if _, iv := a2.inquire(v.PaymentID); iv.Status != codec.StatusSuccess {
		t.Fatalf("status %v", iv.Status)
	}
}

// TestNodesCancelHandedOver: a lane cancels at B a payment A is still
// following up; A carries it out on its next lease tick.
func TestNodesCancelHandedOver(t *testing.T) {
	c := newCluster()
	a, b := c.node(t, 1, nil), c.node(t, 2, nil)
	v := a.pay(payReq("p1", code(4, 80), 500))
	done := make(chan engine.CancelResult, 1)
	go func() {
		done <- b.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentRequestID: []byte("p1")})
	}()
	var res engine.CancelResult
	for res.Result == codec.ResultNone {
		select {
		case res = <-done:
		default:
			a.e.LeaseTick(context.Background())
			a.e.ProcessDue(context.Background())
			runtime.Gosched() // let the cancelling lane run between ticks
		}
	}
	if res.Result != codec.Success {
		t.Fatalf("cancel at B: %v %s", res.Result, res.Message)
	}
	if _, iv := b.inquire(v.PaymentID); iv.Status != codec.StatusCancelled {
		t.Fatalf("status %v", iv.Status)
	}
	if p := c.w.pay(v.PaymentID); p.state != "closed" {
		t.Fatalf("wallet state %q", p.state)
	}
}

// TestNodesCancelFinalAnywhere: a final payment is not leased, so any
// node cancels it itself.
func TestNodesCancelFinalAnywhere(t *testing.T) {
	c := newCluster()
	a, b := c.node(t, 1, nil), c.node(t, 2, nil)
	v := a.pay(payReq("p1", code(5, 1), 500))
	a.e.LeaseTick(context.Background())
	res := b.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentID: []byte(v.PaymentID)})
	if res.Result != codec.Success {
		t.Fatalf("cancel: %v", res.Result)
	}
	if _, iv := a.inquire(v.PaymentID); iv.Status != codec.StatusCancelled {
		t.Fatalf("status seen from A: %v", iv.Status)
	}
	if p := c.w.pay(v.PaymentID); p.state != "reversed" || p.charged != 0 {
		t.Fatalf("wallet %+v", p)
	}
}

// TestNodesRefundsNeverExceedPaid: refunds of one payment sent to both
// nodes at once never add up to more than was paid, and a repeated
// refund request on the other node answers the first refund.
func TestNodesRefundsNeverExceedPaid(t *testing.T) {
	c := newCluster()
	a, b := c.node(t, 1, nil), c.node(t, 2, nil)
	v := a.pay(payReq("p1", code(6, 1), 1000))
	var wg sync.WaitGroup
	views := make([]codec.RefundView, 20)
	for i := range views {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n := a
			if i%2 == 1 {
				n = b
			}
			req := &codec.RefundRequest{PaymentID: []byte(v.PaymentID), RefundRequestID: []byte("r" + string(rune('a'+i))),
				Amount: codec.Amount{Value: 300, Currency: hkd}}
			n.e.Refund(context.Background(), client, req, &views[i])
		}(i)
	}
	wg.Wait()
	var ok int64
	for _, rv := range views {
		if rv.ResultCode == codec.Success {
			ok += rv.Amount.Value
		}
	}
	if ok > 1000 {
		t.Fatalf("refunded %d of 1000", ok)
	}
	if p := c.w.pay(v.PaymentID); p.refunded != ok {
		t.Fatalf("wallet refunded %d, lanes were told %d", p.refunded, ok)
	}
	// Sequentially now: the rest of the amount can be refunded, no more.
	rest := 1000 - ok
	var rv codec.RefundView
	first := &codec.RefundRequest{PaymentID: []byte(v.PaymentID), RefundRequestID: []byte("rest"), Amount: codec.Amount{Value: rest, Currency: hkd}}
	if rest > 0 {
		b.e.Refund(context.Background(), client, first, &rv)
		if rv.ResultCode != codec.Success {
			t.Fatalf("refund of the rest: %v", rv.ResultCode)
		}
		id := rv.RefundID
		a.e.Refund(context.Background(), client, first, &rv) // the same request on the other node
		if rv.ResultCode != codec.Success || rv.RefundID != id {
			t.Fatalf("repeat on the other node: %v %s, want the first refund %s", rv.ResultCode, rv.RefundID, id)
		}
	}
	more := &codec.RefundRequest{PaymentID: []byte(v.PaymentID), RefundRequestID: []byte("more"), Amount: codec.Amount{Value: 1, Currency: hkd}}
	a.e.Refund(context.Background(), client, more, &rv)
	if rv.ResultCode != codec.RefundAmountExceed {
		t.Fatalf("over-refund: %v", rv.ResultCode)
	}
	var irv codec.RefundView
	if rc := b.e.InquireRefund(context.Background(), client, &codec.InquiryRefundRequest{RefundRequestID: []byte("rest")}, &irv); rest > 0 && (rc != codec.Success || irv.Status != codec.StatusSuccess) {
		t.Fatalf("inquiryRefund on the other node: %v %v", rc, irv.Status)
	}
}
