package ident_test

import (
	"context"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/ident"
	"github.com/paycode/paycode/engine/journal"
)

type noWallet struct{ engine.Wallet }

// TestEngineRefusesByClassHere: the identifier owns the class check, so a
// code the engine refuses as not routable (a WeChat Pay code) is counted
// here (paycode_ident_unroutable_total) and looked up nowhere, and the
// engine answers as before.
func TestEngineRefusesByClassHere(t *testing.T) {
	id, err := ident.New(ident.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	e, err := engine.New(engine.Config{Wallets: map[string]engine.Wallet{"mpp-281001": noWallet{}}, Identifier: id, Journal: journal.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	wechat := codec.MustParseCode("134567890123456789")
	w, rc, msg := e.Identify(context.Background(), &wechat)
	if w != "" || rc != codec.InvalidPaymentCode || msg != "the payment code is not a supported wallet code" {
		t.Fatalf("Identify = %q, %v, %q", w, rc, msg)
	}
	if s := id.Stats(); s.Unroutable != 1 || s.Misses != 0 {
		t.Fatalf("stats %+v: want one unroutable, no lookup", s)
	}
}
