package mpp_test

import (
	"context"
	"errors"
	"testing"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/mpp"
	"github.com/paycode/paycode/engine/sign/signtest"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// TestSignedAnswers: a signed connector against a signed simulated
// wallet pays, inquires, cancels and refunds; an answer signed with a key
// the connector does not hold is a bad answer (outcome unknown), never a
// result; a connector that does not sign is refused by the wallet.
func TestSignedAnswers(t *testing.T) {
	paycode, wallet := signtest.Paycode, signtest.Wallet
	sim, _ := startSim(t,
		mppsim.WalletConfig{Name: "A", Verifier: paycode.Verifier("1"), Signer: wallet.Signer("1")},
		mppsim.WalletConfig{Name: "B", Verifier: paycode.Verifier("1"), Signer: signtest.Other.Signer("1")},
	)
	ctx := context.Background()
	good := newClient(t, mpp.Config{Name: "A", BaseURL: sim.URL("A"), Signer: paycode.Signer("1"), Verifier: wallet.Verifier("1"), ClientID: "PAYCODE"})
	res, err := good.Pay(ctx, walletPay("p1", code(1, 1), 100))
	if err != nil || res.Outcome != engine.OutcomeSuccess {
		t.Fatalf("signed pay: %+v %v", res, err)
	}
	if res, err := good.Inquire(ctx, "p1"); err != nil || res.Outcome != engine.OutcomeSuccess {
		t.Fatalf("signed inquiry: %+v %v", res, err)
	}
	if res, err := good.Refund(ctx, &engine.WalletRefund{PaymentID: "p1", RefundID: "r1", Amount: walletPay("", code(1, 1), 40).Amount}); err != nil || res.Outcome != engine.OutcomeSuccess {
		t.Fatalf("signed refund: %+v %v", res, err)
	}
	if res, err := good.Cancel(ctx, "p2"); err != nil || res.Outcome != engine.OutcomeSuccess {
		t.Fatalf("signed cancel: %+v %v", res, err)
	}

	forged := newClient(t, mpp.Config{Name: "B", BaseURL: sim.URL("B"), Signer: paycode.Signer("1"), Verifier: wallet.Verifier("1"), ClientID: "PAYCODE"})
	_, err = forged.Pay(ctx, walletPay("p3", code(3, 1), 100))
	var me *mpp.Error
	if !errors.As(err, &me) || me.Kind != mpp.ErrBadAnswer || me.NotSent {
		t.Fatalf("answer with a foreign signature: %v", err)
	}
	if l := sim.Ledger("B"); l.Payments["p3"].Charged != 100 {
		t.Fatalf("the wallet did charge; the connector must report unknown, not fail: %+v", l.Payments["p3"])
	}

	unsigned := newClient(t, mpp.Config{Name: "A2", BaseURL: sim.URL("A")})
	res, err = unsigned.Pay(ctx, walletPay("p4", code(4, 1), 100))
	if err != nil || res.Outcome != engine.OutcomeFail || res.Code.String() != "INVALID_SIGNATURE" {
		t.Fatalf("unsigned request: %+v %v", res, err)
	}
	if _, ok := sim.Ledger("A").Payments["p4"]; ok {
		t.Fatal("an unsigned request reached the ledger")
	}
}

func TestSigningConfig(t *testing.T) {
	_, err := mpp.New(mpp.Config{Name: "A", BaseURL: "http://127.0.0.1:1", AcquirerID: "a", PSPID: "b", Signer: signtest.Paycode.Signer("1")})
	if err == nil {
		t.Fatal("a signer without the wallet's key was accepted")
	}
	_, err = mpp.New(mpp.Config{Name: "A", BaseURL: "http://127.0.0.1:1", AcquirerID: "a", PSPID: "b", Signer: signtest.Paycode.Signer("1"), Verifier: signtest.Wallet.Verifier("1")})
	if err == nil {
		t.Fatal("signing without a client id was accepted")
	}
}
