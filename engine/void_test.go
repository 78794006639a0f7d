package engine_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

func cancelReq(reqID string) *codec.IDRequest {
	return &codec.IDRequest{PaymentRequestID: []byte(reqID)}
}

// TestVoidBeforePay: a cancel of a request id no pay has used yet voids
// it; the pay that arrives later is refused without dispatch, on the same
// node and on another one of the shared journal.
func TestVoidBeforePay(t *testing.T) {
	bg := context.Background()
	t.Run("one node", func(t *testing.T) {
		r := newRig(t)
		if res := r.e.Cancel(bg, client, cancelReq("v1")); res.Result != codec.Success || res.PaymentID != "" {
			t.Fatalf("cancel of an unknown request: %+v", res)
		}
		if v := r.pay(payReq("v1", code(1, 1), 500)); v.ResultCode != codec.OrderIsCanceled || v.Status != codec.StatusFail || v.PaymentID != "" {
			t.Fatalf("pay after the cancel: %v %v %q", v.ResultCode, v.Status, v.PaymentID)
		}
		if n := r.w.count("pay"); n != 0 {
			t.Fatalf("wallet pay calls %d, want 0", n)
		}
		if v := r.pay(payReq("v2", code(1, 1), 500)); v.Status != codec.StatusSuccess {
			t.Fatalf("the refused pay's code under a new id: %v", v.ResultCode)
		}
		if res := r.e.Cancel(bg, client, &codec.IDRequest{PaymentID: []byte("unknown")}); res.Result != codec.OrderNotExist {
			t.Fatalf("cancel of an unknown paymentId: %v", res.Result)
		}
	})
	t.Run("two nodes", func(t *testing.T) {
		c := newCluster()
		a, b := c.node(t, 1, nil), c.node(t, 2, nil)
		if res := a.e.Cancel(bg, client, cancelReq("v1")); res.Result != codec.Success {
			t.Fatalf("cancel of an unknown request: %+v", res)
		}
		for _, n := range []*rig{a, b} {
			if v := n.pay(payReq("v1", code(1, 1), 500)); v.ResultCode != codec.OrderIsCanceled || v.PaymentID != "" {
				t.Fatalf("pay after the cancel: %v %q", v.ResultCode, v.PaymentID)
			}
			if res := n.e.Cancel(bg, client, cancelReq("v1")); res.Result != codec.Success {
				t.Fatalf("repeat cancel: %+v", res)
			}
			var iv codec.PaymentView
			if rc := n.e.Inquire(bg, client, cancelReq("v1"), &iv); rc != codec.Success || iv.Status != codec.StatusCancelled {
				t.Fatalf("inquiry: %v %v", rc, iv.Status)
			}
		}
		if n := c.w.count("pay"); n != 0 {
			t.Fatalf("wallet pay calls %d, want 0", n)
		}
		// A pay first, then its cancel: cancelled as any payment is.
		v := b.pay(payReq("p1", code(2, 1), 500))
		if res := a.e.Cancel(bg, client, cancelReq("p1")); res.Result != codec.Success || res.PaymentID != v.PaymentID {
			t.Fatalf("cancel of a paid request: %+v", res)
		}
		c.settle(t, a, b)
		if w := c.w.pay(v.PaymentID); w.charged != 0 {
			t.Fatalf("the cancelled payment is still charged: %+v", w)
		}
	})
}

// TestCancelHandedToDeadOwner: a lane cancels, on node B, a payment node A
// is following up, and A dies before carrying the cancel out. B answers
// U while it cannot act; once A's lease expires B takes the payment over
// with the cancel and carries it out, so the wallet keeps no charge even
// though the user confirmed; a repeat of the cancel gets SUCCESS.
func TestCancelHandedToDeadOwner(t *testing.T) {
	bg := context.Background()
	c := newCluster()
	short := func(cfg *engine.Config) { cfg.PayTimeout = 100 * time.Millisecond }
	a, b := c.node(t, 1, short), c.node(t, 2, short)
	v := a.pay(payReq("p1", code(1, 80), 500)) // waits for the user's password
	if v.ResultCode != codec.PaymentInProcess {
		t.Fatalf("pay: %v", v.ResultCode)
	}
	// A dies now (no more lease ticks or follow-ups).
	if res := b.e.Cancel(bg, client, cancelReq("p1")); res.Result != codec.UnknownException {
		t.Fatalf("cancel handed to a live-leased owner: %v, want UNKNOWN_EXCEPTION while it cannot be carried out", res.Result)
	}
	c.w.approve(v.PaymentID) // the user confirms on the phone meanwhile
	c.clock.Advance(leaseTTL + time.Second)
	c.settle(t, b)
	if w := c.w.pay(v.PaymentID); w.charged != 0 {
		t.Fatalf("wallet keeps %d after the lane's cancel (state %s)", w.charged, w.state)
	}
	if res := b.e.Cancel(bg, client, cancelReq("p1")); res.Result != codec.Success {
		t.Fatalf("repeat cancel: %v", res.Result)
	}
	if _, iv := b.inquire(v.PaymentID); iv.Status != codec.StatusCancelled {
		t.Fatalf("status %v, want CANCELLED", iv.Status)
	}
}

// refundRaceJournal runs hook once, right after the first GetPayment by
// request id: a refund on another node lands between the cancel's read
// and its attempt to take the payment.
type refundRaceJournal struct {
	engine.SharedJournal
	hook func()
}

func (j *refundRaceJournal) GetPayment(ctx context.Context, clientID, requestID, paymentID string) (*engine.PaymentRecord, []*engine.RefundRecord, error) {
	rec, refs, err := j.SharedJournal.GetPayment(ctx, clientID, requestID, paymentID)
	if h := j.hook; h != nil && requestID != "" {
		j.hook = nil
		h()
	}
	return rec, refs, err
}

// TestCancelLosesToRefund: a cancel on node B that loses the race to a
// refund on node A answers ORDER_STATUS_INVALID (F) at once, not U.
func TestCancelLosesToRefund(t *testing.T) {
	bg := context.Background()
	c := newCluster()
	a := c.node(t, 1, nil)
	rj := &refundRaceJournal{}
	b := c.node(t, 2, func(cfg *engine.Config) {
		rj.SharedJournal = cfg.Journal.(engine.SharedJournal)
		cfg.Journal = rj
	})
	v := a.pay(payReq("p1", code(1, 1), 500))
	if v.Status != codec.StatusSuccess {
		t.Fatalf("pay: %v", v.ResultCode)
	}
	rj.hook = func() {
		c.w.errCalls["refund"] = 1 // the refund's answer is lost: A keeps it in process
		var rv codec.RefundView
		a.e.Refund(bg, client, &codec.RefundRequest{RefundRequestID: []byte("r1"), PaymentID: []byte(v.PaymentID),
			Amount: codec.Amount{Value: 100, Currency: hkd}}, &rv)
		if rv.ResultCode != codec.RefundInProcess {
			t.Errorf("refund: %v", rv.ResultCode)
		}
	}
	start := time.Now()
	res := b.e.Cancel(bg, client, cancelReq("p1"))
	if res.Result != codec.OrderStatusInvalid {
		t.Fatalf("cancel after a refund won: %v %q, want ORDER_STATUS_INVALID", res.Result, res.Message)
	}
	if d := time.Since(start); d >= b.e.Config().PayTimeout {
		t.Fatalf("answered after %v: it waited the pay timeout out", d)
	}
}

// TestVoidBudget: a client's tombstones are bounded per clock hour
// (Config.MaxVoidsPerHour): past the bound a cancel of an unseen request
// is refused REQUEST_TRAFFIC_EXCEED_LIMIT (U) with nothing recorded;
// repeats of a recorded void, other clients and the next hour are not
// refused, and a void the journal did not record costs nothing.
func TestVoidBudget(t *testing.T) {
	bg := context.Background()
	c := newCluster()
	n := c.node(t, 1, func(cfg *engine.Config) { cfg.MaxVoidsPerHour = 2 })
	for _, id := range []string{"v1", "v2"} {
		if res := n.e.Cancel(bg, client, cancelReq(id)); res.Result != codec.Success {
			t.Fatalf("void %s inside the budget: %+v", id, res)
		}
	}
	res := n.e.Cancel(bg, client, cancelReq("v3"))
	if res.Result != codec.RequestTrafficExceedLimit || !strings.Contains(res.Message, "maxVoidsPerHour") {
		t.Fatalf("void past the budget: %+v, want REQUEST_TRAFFIC_EXCEED_LIMIT naming engine.maxVoidsPerHour", res)
	}
	var iv codec.PaymentView
	if rc := n.e.Inquire(bg, client, cancelReq("v3"), &iv); rc != codec.OrderNotExist {
		t.Fatalf("inquiry of the refused void: %v, want ORDER_NOT_EXIST (nothing recorded)", rc)
	}
	if res := n.e.Cancel(bg, client, cancelReq("v1")); res.Result != codec.Success {
		t.Fatalf("repeat of a recorded void past the budget: %+v", res)
	}
	if res := n.e.Cancel(bg, []byte("other-client"), cancelReq("v3")); res.Result != codec.Success {
		t.Fatalf("another client's void: %+v", res)
	}
	// A pay of a request takes no budget, and a cancel that finds it is
	// not a void.
	if v := n.pay(payReq("p1", code(1, 0), 500)); v.Status != codec.StatusSuccess {
		t.Fatalf("pay: %v", v.ResultCode)
	}
	if res := n.e.Cancel(bg, client, cancelReq("p1")); res.Result != codec.Success || res.PaymentID == "" {
		t.Fatalf("cancel of a paid request past the void budget: %+v", res)
	}
	c.clock.Advance(time.Hour)
	if res := n.e.Cancel(bg, client, cancelReq("v3")); res.Result != codec.Success {
		t.Fatalf("void in the next hour: %+v", res)
	}
	// Client ids nobody configured cost nothing to invent: rotating them
	// gets no new budget, however many are tried.
	unknown := engine.UnknownClient(bg)
	voided := 0
	for i := range 10 {
		res := n.e.Cancel(unknown, []byte("rot-"+strconv.Itoa(i)), cancelReq("u"+strconv.Itoa(i)))
		switch {
		case res.Result == codec.Success:
			voided++
		case res.Result != codec.RequestTrafficExceedLimit || !strings.Contains(res.Message, "share one budget"):
			t.Fatalf("void %d by a rotated unknown client id: %+v", i, res)
		}
	}
	if voided != 2 {
		t.Fatalf("rotated unknown client ids voided %d requests in an hour, want the one budget's 2", voided)
	}
	if res := n.e.Cancel(bg, client, cancelReq("v4")); res.Result != codec.Success {
		t.Fatalf("a configured client's budget after the unknown ones spent theirs: %+v", res)
	}
	bad := engine.Config{MaxVoidsPerHour: -1}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "max voids per hour") {
		t.Fatalf("Validate with a negative MaxVoidsPerHour: %v", err)
	}
}

// TestVoidBudgetBounded: the budget map is bounded however many client
// ids a caller vouches for: past engine.MaxVoidClients ids in an hour,
// new ones share one budget, and a refusal says so.
func TestVoidBudgetBounded(t *testing.T) {
	bg := context.Background()
	c := newCluster()
	n := c.node(t, 1, func(cfg *engine.Config) { cfg.MaxVoidsPerHour = 1 })
	for i := range engine.MaxVoidClients {
		if res := n.e.Cancel(bg, []byte("c"+strconv.Itoa(i)), cancelReq("v")); res.Result != codec.Success {
			t.Fatalf("client %d's first void: %+v", i, res)
		}
	}
	ok := 0
	for i := range 5 {
		res := n.e.Cancel(bg, []byte("late"+strconv.Itoa(i)), cancelReq("v"))
		switch {
		case res.Result == codec.Success:
			ok++
		case strings.Contains(res.Message, "no lane key lists") || !strings.Contains(res.Message, "past "+strconv.Itoa(engine.MaxVoidClients)+" client ids"):
			// A configured client is not told it is an unknown id: it is
			// told the table of budgets is full.
			t.Fatalf("late client %d refused with %q, want the full table named", i, res.Message)
		}
	}
	if ok != 1 {
		t.Fatalf("%d clients past the map's bound voided, want 1 (one shared budget)", ok)
	}
	c.clock.Advance(time.Hour)
	if res := n.e.Cancel(bg, []byte("late4"), cancelReq("w")); res.Result != codec.Success {
		t.Fatalf("the next hour: %+v", res)
	}
}
