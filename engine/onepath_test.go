package engine_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
)

// TestJournalReads: what the node does not hold it reads from the
// journal (a final payment is released after its outcome is written), on
// one node as on several. When the journal cannot be read, every lane
// operation answers UNKNOWN_EXCEPTION (U: retry) and changes nothing; a
// request without a client id finds nothing.
func TestJournalReads(t *testing.T) {
	bg := context.Background()
	j, w := newMemJournal(), newFakeWallet()
	r := newDurableRig(t, j, w, enginetest.NewManualClock(t0), nil)
	v := r.pay(payReq("p1", code(1, 1), 500))
	var rv codec.RefundView
	r.e.Refund(bg, client, &codec.RefundRequest{RefundRequestID: []byte("r1"), PaymentID: []byte(v.PaymentID), Amount: codec.Amount{Value: 100, Currency: hkd}}, &rv)
	if v.ResultCode != codec.Success || rv.ResultCode != codec.Success {
		t.Fatalf("pay %v, refund %v", v.ResultCode, rv.ResultCode)
	}
	refund := func(cid []byte, reqID string) codec.ResultCode {
		var out codec.RefundView
		r.e.Refund(bg, cid, &codec.RefundRequest{RefundRequestID: []byte(reqID), PaymentID: []byte(v.PaymentID), Amount: codec.Amount{Value: 100, Currency: hkd}}, &out)
		return out.ResultCode
	}
	inquireRefund := func(cid []byte) codec.ResultCode {
		var out codec.RefundView
		return r.e.InquireRefund(bg, cid, &codec.InquiryRefundRequest{RefundRequestID: []byte("r1")}, &out)
	}
	inquire := func(cid []byte) codec.ResultCode {
		var out codec.PaymentView
		return r.e.Inquire(bg, cid, &codec.IDRequest{PaymentID: []byte(v.PaymentID)}, &out)
	}
	cancel := func(cid []byte) codec.ResultCode {
		return r.e.Cancel(bg, cid, &codec.IDRequest{PaymentID: []byte(v.PaymentID)}).Result
	}
	ops := []struct {
		name string
		do   func(cid []byte) codec.ResultCode
		ok   codec.ResultCode // the answer once the journal reads again
	}{
		{"inquiry", inquire, codec.Success},
		{"refund inquiry", inquireRefund, codec.Success},
		{"refund", func(cid []byte) codec.ResultCode { return refund(cid, "r2") }, codec.Success},
		{"cancel", cancel, codec.OrderStatusInvalid}, // it has refunds
	}
	for _, op := range ops {
		if rc := op.do(nil); rc != codec.OrderNotExist {
			t.Errorf("%s without a client id: %v, want ORDER_NOT_EXIST", op.name, rc)
		}
	}
	j.mu.Lock()
	j.failReads = errors.New("connection reset")
	j.mu.Unlock()
	for _, op := range ops {
		if rc := op.do(client); rc != codec.UnknownException {
			t.Errorf("%s, journal unreadable: %v, want UNKNOWN_EXCEPTION", op.name, rc)
		}
	}
	if n := w.count("refund"); n != 1 {
		t.Fatalf("wallet refund calls %d while the journal was unreadable, want 1", n)
	}
	j.mu.Lock()
	j.failReads = nil
	j.mu.Unlock()
	for _, op := range ops {
		if rc := op.do(client); rc != op.ok {
			t.Errorf("%s, journal readable again: %v, want %v", op.name, rc, op.ok)
		}
	}
}

// TestDuplicateOfAFailedClaim: a repeat of a pay whose intent is being
// claimed waits for the claim; when the journal fails it, the repeat is
// answered UNKNOWN_EXCEPTION too, and nothing is dispatched.
func TestDuplicateOfAFailedClaim(t *testing.T) {
	j, w := newMemJournal(), newFakeWallet()
	r := newDurableRig(t, j, w, enginetest.NewManualClock(t0), func(c *engine.Config) { c.OnFatal = func(error) {} })
	release := make(chan struct{})
	j.mu.Lock()
	j.claiming = release
	j.mu.Unlock()
	first := make(chan codec.PaymentView)
	go func() { first <- r.pay(payReq("p1", code(1, 1), 500)) }()
	// The repeat waits on the first's dispatch; fail the claim once the
	// repeat is in (its Duplicates count), then let the claim go on.
	second := make(chan codec.PaymentView)
	go func() { second <- r.pay(payReq("p1", code(1, 1), 500)) }()
	deadline := time.Now().Add(10 * time.Second)
	for r.e.Stats().Duplicates.Load() == 0 {
		select {
		case v := <-second:
			t.Fatalf("repeat answered before the claim: %v", v.ResultCode)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the repeat never arrived")
		}
		runtime.Gosched()
	}
	j.setFail(errors.New("no space left on device"))
	close(release)
	for _, v := range []codec.PaymentView{<-first, <-second} {
		if v.ResultCode != codec.UnknownException {
			t.Fatalf("answer %v, want UNKNOWN_EXCEPTION", v.ResultCode)
		}
	}
	if n := w.count("pay"); n != 0 {
		t.Fatalf("pay calls %d, want 0", n)
	}
}

// TestRefundFollowUp: a refund whose wallet answer is lost stays in
// process, holds its payment (the lease is not released), and the
// follow-up settles it at the wallet; the inquiry then reads SUCCESS.
func TestRefundFollowUp(t *testing.T) {
	bg := context.Background()
	clock := enginetest.NewManualClock(t0)
	j, w := newMemJournal(), newFakeWallet()
	r := newDurableRig(t, j, w, clock, nil)
	v := r.pay(payReq("p1", code(1, 1), 500))
	w.errCalls["refund"] = 1
	var rv codec.RefundView
	r.e.Refund(bg, client, &codec.RefundRequest{RefundRequestID: []byte("r1"), PaymentID: []byte(v.PaymentID), Amount: codec.Amount{Value: 200, Currency: hkd}}, &rv)
	if rv.ResultCode != codec.RefundInProcess {
		t.Fatalf("refund with its answer lost: %v", rv.ResultCode)
	}
	if rec := j.payment(v.PaymentID); !rec.Held || rec.Refunded != 200 {
		t.Fatalf("payment record %+v: want held, 200 reserved", rec)
	}
	r.e.LeaseTick(bg) // an idle tick must not forget a payment with a refund in process
	for i := 0; i < 10 && r.e.FollowUps() > 0; i++ {
		clock.Advance(time.Second)
		r.e.ProcessDue(bg)
	}
	var iv codec.RefundView
	if rc := r.e.InquireRefund(bg, client, &codec.InquiryRefundRequest{RefundID: []byte(rv.RefundID)}, &iv); rc != codec.Success || iv.ResultCode != codec.Success {
		t.Fatalf("refund inquiry %v %v, want SUCCESS", rc, iv.ResultCode)
	}
	if n := w.count("refund"); n != 2 {
		t.Fatalf("wallet refund calls %d, want 2 (the lost answer, the follow-up)", n)
	}
	if rec := j.payment(v.PaymentID); rec.Held {
		t.Fatalf("payment still held after its refund settled: %+v", rec)
	}
}
