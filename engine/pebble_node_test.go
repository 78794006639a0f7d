package engine_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
	"github.com/paycode/paycode/engine/journal"
)

// TestPebbleWorkingSet: with the Pebble journal the engine keeps in
// memory only the payments it is working on; finished ones are answered
// from the journal — replays, code reuse, inquiries, refunds, cancels —
// before and after a restart.
func TestPebbleWorkingSet(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w := newFakeWallet()
	clock := enginetest.NewManualClock(t0)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func() (*rig, *journal.Pebble) {
		j, err := journal.Open(dir, journal.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.New(engine.Config{
			Wallets:    map[string]engine.Wallet{"w1": w},
			Identifier: enginetest.StaticIdentifier{"281001": "w1"},
			Clock:      clock, Journal: j, CodeKey: j.CodeKey(), Logger: quiet,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		// A second "process" in the same clock second: ids must not repeat.
		clock.Advance(1e6)
		return &rig{e: e, w: w, clock: clock}, j
	}
	r, j := start()
	var paid []codec.PaymentView
	for i := 0; i < 5; i++ {
		paid = append(paid, r.pay(payReq("ok-"+string(rune('a'+i)), code(100+i, 1), 1000)))
	}
	pending := r.pay(payReq("pw", code(200, 80), 700))
	if pending.ResultCode != codec.PaymentInProcess {
		t.Fatalf("password payment: %v", pending.ResultCode)
	}
	r.e.LeaseTick(ctx)
	if n := r.e.Resident(); n != 1 {
		t.Fatalf("%d payments in memory after the sweep, want 1 (the one in process)", n)
	}
	if v := r.pay(payReq("ok-a", code(100, 1), 1000)); v.Status != codec.StatusSuccess || v.PaymentID != paid[0].PaymentID {
		t.Fatalf("replay of a swept payment: %v %s", v.Status, v.PaymentID)
	}
	if v := r.pay(payReq("reuse", code(101, 1), 1000)); v.ResultCode != codec.InvalidPaymentCode {
		t.Fatalf("code reuse: %v", v.ResultCode)
	}
	if rc, v := r.inquire(paid[1].PaymentID); rc != codec.Success || v.Status != codec.StatusSuccess {
		t.Fatalf("inquiry of a swept payment: %v %v", rc, v.Status)
	}
	refund := func(r *rig, reqID string, amount int64) codec.RefundView {
		var v codec.RefundView
		r.e.Refund(ctx, client, &codec.RefundRequest{PaymentID: []byte(paid[2].PaymentID), RefundRequestID: []byte(reqID),
			Amount: codec.Amount{Value: amount, Currency: hkd}}, &v)
		return v
	}
	if v := refund(r, "rf1", 600); v.ResultCode != codec.Success {
		t.Fatalf("refund of a swept payment: %v", v.ResultCode)
	}
	r.e.LeaseTick(ctx)
	r.e.LeaseTick(ctx)
	if v := refund(r, "rf2", 500); v.ResultCode != codec.RefundAmountExceed {
		t.Fatalf("over-refund after the sweep: %v", v.ResultCode)
	}
	if res := r.e.Cancel(ctx, client, &codec.IDRequest{PaymentRequestID: []byte("ok-d")}); res.Result != codec.Success {
		t.Fatalf("cancel of a swept payment: %v", res.Result)
	}
	if p := w.pay(paid[3].PaymentID); p.state != "reversed" {
		t.Fatalf("wallet after the cancel: %+v", p)
	}

	// Restart: only the payment in process comes back into memory.
	j.Close()
	r2, j2 := start()
	defer j2.Close()
	if n := r2.e.Resident(); n != 1 {
		t.Fatalf("%d payments in memory after a restart, want 1", n)
	}
	if v := refund(r2, "rf1", 600); v.ResultCode != codec.Success {
		t.Fatalf("repeated refund after a restart: %v", v.ResultCode)
	}
	if v := r2.pay(payReq("ok-e", code(104, 1), 1000)); v.PaymentID != paid[4].PaymentID {
		t.Fatalf("replay after a restart: %s, want %s", v.PaymentID, paid[4].PaymentID)
	}
	fresh := r2.pay(payReq("new", code(300, 1), 100))
	if fresh.Status != codec.StatusSuccess {
		t.Fatalf("new pay after a restart: %v", fresh.ResultCode)
	}
	for _, v := range paid {
		if v.PaymentID == fresh.PaymentID {
			t.Fatalf("id %s reused after a restart", fresh.PaymentID)
		}
	}
	w.approve(pending.PaymentID)
	for i := 0; i < 20 && r2.e.FollowUps() > 0; i++ {
		r2.e.ProcessDue(ctx)
		if next, ok := r2.e.NextFollowUp(); ok && next.After(clock.Now()) {
			clock.Advance(next.Sub(clock.Now()))
		}
	}
	if _, v := r2.inquire(pending.PaymentID); v.Status != codec.StatusSuccess {
		t.Fatalf("the payment in process after the restart: %v", v.Status)
	}
	if n := w.count("pay"); n != 7 {
		t.Fatalf("%d pay calls, want 7 (replays, reuse and recovery never pay)", n)
	}
}
