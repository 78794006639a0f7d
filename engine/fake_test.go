package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// fakeWallet is an in-memory wallet with a ledger. Behaviour per payment
// comes from the code's last two digits, like the simulated wallets:
// 00-79 success, 80-84 processing (then success when approve is called),
// 87-89 balance, 92-93 charged but the answer is lost (error).
type fakeWallet struct {
	mu       sync.Mutex
	pays     map[string]*fakePay // by paymentId
	refunds  map[string]int64    // refundId → amount
	calls    map[string]int      // method → count
	payHook  func(id string)     // runs inside Pay before answering, if set
	errCalls map[string]int      // method → remaining forced errors
	// ignoreTombstones makes Pay charge even after a cancel closed the id:
	// a wallet whose late success the engine must reverse.
	ignoreTombstones bool
	// notSent makes Pay fail as if the request never left the process.
	notSent bool
	// inquiryAmount, when set, is the amount Inquire's answers name.
	inquiryAmount codec.Amount
}

type fakePay struct {
	code     codec.Code
	amount   int64
	state    string // processing, success, fail, closed, reversed
	charged  int64
	refunded int64
	payCalls int
}

func newFakeWallet() *fakeWallet {
	return &fakeWallet{pays: map[string]*fakePay{}, refunds: map[string]int64{}, calls: map[string]int{}, errCalls: map[string]int{}}
}

var errLost = errors.New("fake: answer lost")

func (w *fakeWallet) forced(method string) bool {
	if w.errCalls[method] > 0 {
		w.errCalls[method]--
		return true
	}
	return false
}

func (w *fakeWallet) Pay(ctx context.Context, req *engine.WalletPay) (engine.WalletResult, error) {
	if w.payHook != nil {
		w.payHook(req.PaymentID)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls["pay"]++
	if w.notSent {
		return engine.WalletResult{}, fmt.Errorf("fake: no connection: %w", engine.ErrNotSent)
	}
	p, ok := w.pays[req.PaymentID]
	if ok && p.state == "closed" && !w.ignoreTombstones {
		return engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.OrderIsClosed}, nil
	}
	if !ok {
		p = &fakePay{}
		w.pays[req.PaymentID] = p
	}
	p.code, p.amount = req.Code, req.Amount.Value
	p.payCalls++
	switch d := req.Code.LastTwo(); {
	case d < 80:
		p.state, p.charged = "success", p.amount
	case d < 85:
		p.state = "processing"
		return engine.WalletResult{Outcome: engine.OutcomeProcessing, Code: codec.PaymentInProcess}, nil
	case d >= 87 && d <= 89:
		p.state = "fail"
		return engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.UserBalanceNotEnough}, nil
	case d == 92 || d == 93:
		p.state, p.charged = "success", p.amount
		return engine.WalletResult{}, errLost
	}
	if w.forced("pay") {
		return engine.WalletResult{}, errLost
	}
	return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success, CustomerID: "u1", WalletBrand: "Fake"}, nil
}

// approve completes a processing payment (the user typed the password).
func (w *fakeWallet) approve(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p := w.pays[id]; p != nil && p.state == "processing" {
		p.state, p.charged = "success", p.amount
	}
}

func (w *fakeWallet) Inquire(ctx context.Context, id string) (engine.WalletResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls["inquire"]++
	if w.forced("inquire") {
		return engine.WalletResult{}, errLost
	}
	p := w.pays[id]
	if p == nil {
		return engine.WalletResult{Outcome: engine.OutcomeNotFound, Code: codec.OrderNotExist}, nil
	}
	switch p.state {
	case "success":
		return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success, Amount: w.inquiryAmount}, nil
	case "processing":
		return engine.WalletResult{Outcome: engine.OutcomeProcessing, Code: codec.PaymentInProcess}, nil
	case "closed", "reversed":
		return engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.OrderIsClosed, Cancelled: true}, nil
	}
	return engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.UserBalanceNotEnough}, nil
}

func (w *fakeWallet) Cancel(ctx context.Context, id string) (engine.WalletResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls["cancel"]++
	if w.forced("cancel") {
		return engine.WalletResult{}, errLost
	}
	p := w.pays[id]
	if p == nil {
		w.pays[id] = &fakePay{state: "closed"}
		return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success}, nil
	}
	if p.state == "success" {
		p.state, p.charged = "reversed", 0
	} else if p.state == "processing" {
		p.state = "closed"
	}
	return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success}, nil
}

func (w *fakeWallet) Refund(ctx context.Context, req *engine.WalletRefund) (engine.WalletResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls["refund"]++
	if w.forced("refund") {
		return engine.WalletResult{}, errLost
	}
	if _, ok := w.refunds[req.RefundID]; ok {
		return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success, At: time.Time{}}, nil
	}
	p := w.pays[req.PaymentID]
	if p == nil || p.state != "success" || p.refunded+req.Amount.Value > p.charged {
		return engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.RefundAmountExceed}, nil
	}
	p.refunded += req.Amount.Value
	w.refunds[req.RefundID] = req.Amount.Value
	return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success}, nil
}

func (w *fakeWallet) count(method string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[method]
}

func (w *fakeWallet) pay(id string) fakePay {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p := w.pays[id]; p != nil {
		return *p
	}
	return fakePay{}
}
