package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/paycode/paycode/codec"
)

// TestLaneRacesRefunds: the races of a lane's refunds that TestLaneRaces
// leaves out, over the same journals: one refundRequestId sent twice at
// once with different amounts (one refund, the other
// REPEAT_REQ_INCONSISTENT, and the winner's amount is what the wallet
// returned), and a cancel racing a refund of the same payment (the
// customer never gets back more than was charged).
func TestLaneRacesRefunds(t *testing.T) {
	for _, j := range raceJournals {
		t.Run(j.name+"/refund-same-id-different-amounts", func(t *testing.T) { raceRefundAmounts(t, j.make) })
		t.Run(j.name+"/cancel-refund", func(t *testing.T) { raceCancelRefund(t, j.make) })
	}
}

// raceJournals are TestLaneRaces' journals.
var raceJournals = [...]struct {
	name string
	make raceNodes
}{{"pebble", pebbleNodes}, {"shared", sharedNodes}, {"postgres", postgresNodes}}

// refundRaceRounds is how often each race runs.
const refundRaceRounds = 40

func raceRefundAmounts(t *testing.T, nodes raceNodes) {
	bg := context.Background()
	a, b, c := nodes(t)
	for i := range refundRaceRounds {
		p := a.pay(payReq(fmt.Sprint("rs", i), code(5000+i, 1), 100))
		rid := fmt.Sprint("rs", i, "-r")
		refund := func(n *rig, amount int64, out *codec.RefundView) {
			n.e.Refund(bg, client, &codec.RefundRequest{RefundRequestID: []byte(rid), PaymentID: []byte(p.PaymentID), Amount: codec.Amount{Value: amount, Currency: hkd}}, out)
		}
		var ra, rb codec.RefundView
		race(func() { refund(a, 30, &ra) }, func() { refund(b, 50, &rb) })
		c.settle(t, a, b)
		won, amount := ra, int64(30)
		if rb.ResultCode == codec.Success {
			won, amount = rb, 50
		}
		for _, r := range []codec.RefundView{ra, rb} {
			if r.ResultCode != codec.Success && r.ResultCode != codec.RepeatReqInconsistent && r.ResultCode.Status() != codec.StatusU {
				t.Fatalf("%s: refund answered %v %s", rid, r.ResultCode, r.ResultMessage)
			}
		}
		if ra.ResultCode == codec.Success && rb.ResultCode == codec.Success {
			t.Fatalf("%s: both amounts of one refundRequestId succeeded", rid)
		}
		// The request again with the winner's amount, once settled:
		// the stored refund, whichever node answers.
		var again codec.RefundView
		b.e.Refund(bg, client, &codec.RefundRequest{RefundRequestID: []byte(rid), PaymentID: []byte(p.PaymentID), Amount: codec.Amount{Value: amount, Currency: hkd}}, &again)
		if won.ResultCode == codec.Success && (again.ResultCode != codec.Success || again.RefundID != won.RefundID) {
			t.Fatalf("%s: the winner's request again: %v %q, want SUCCESS %q", rid, again.ResultCode, again.RefundID, won.RefundID)
		}
		h := c.w.held(p.PaymentID)
		if won.ResultCode == codec.Success && h != 100-amount {
			t.Fatalf("%s: refund of %d answered SUCCESS, the wallet holds %d of 100", rid, amount, h)
		}
		if h != 100 && h != 70 && h != 50 {
			t.Fatalf("%s: the wallet holds %d of 100: more than one refund of 30 or 50", rid, h)
		}
	}
}

func raceCancelRefund(t *testing.T, nodes raceNodes) {
	bg := context.Background()
	a, b, c := nodes(t)
	for i := range refundRaceRounds {
		p := a.pay(payReq(fmt.Sprint("cr", i), code(6000+i, 1), 100))
		var rv codec.RefundView
		var cancelled codec.ResultCode
		race(func() {
			cancelled = a.e.Cancel(bg, client, &codec.IDRequest{PaymentRequestID: []byte(fmt.Sprint("cr", i))}).Result
		}, func() {
			b.e.Refund(bg, client, &codec.RefundRequest{RefundRequestID: []byte(fmt.Sprint("cr", i, "-r")), PaymentID: []byte(p.PaymentID), Amount: codec.Amount{Value: 60, Currency: hkd}}, &rv)
		})
		c.settle(t, a, b)
		if cancelled == codec.Success && rv.ResultCode == codec.Success {
			t.Fatalf("cr%d: both the cancel and a refund of 60 succeeded", i)
		}
		if h := c.w.held(p.PaymentID); h < 0 {
			t.Fatalf("cr%d: the wallet returned %d more than it charged (cancel %v, refund %v)", i, -h, cancelled, rv.ResultCode)
		}
	}
}
