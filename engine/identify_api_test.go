package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

// downIdentifier is a rule source that cannot be asked.
type downIdentifier struct{}

func (downIdentifier) Identify(context.Context, *codec.Code) (string, error) {
	return "", engine.ErrIdentifyUnavailable
}

func TestIdentify(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		name, code string
		wallet     string
		rc         codec.ResultCode
	}{
		{"connected", "281001020000000000000101", "w1", codec.Success},
		{"not connected", "281003020000000000000101", "", codec.NoPayOptions},
		{"no issuer", "281999020000000000000101", "", codec.InvalidPaymentCode},
		{"wechat shape", "134567890123456789", "", codec.InvalidPaymentCode},
		{"zero", "", "", codec.InvalidPaymentCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c codec.Code
			if tt.code != "" {
				c = codec.MustParseCode(tt.code)
			}
			w, rc, msg := r.e.Identify(t.Context(), &c)
			if w != tt.wallet || rc != tt.rc {
				t.Fatalf("got %q %v %q, want %q %v", w, rc, msg, tt.wallet, tt.rc)
			}
			if (rc == codec.Success) != (msg == "") {
				t.Fatalf("message %q with %v", msg, rc)
			}
			if tt.code != "" && strings.Contains(msg, tt.code) {
				t.Fatal("the message holds the code")
			}
		})
	}
	// Identify records nothing: the code can still be paid.
	c := code(7, 1)
	if _, rc, _ := r.e.Identify(t.Context(), &c); rc != codec.Success {
		t.Fatal(rc)
	}
	var out codec.PaymentView
	r.e.Pay(t.Context(), client, payReq("after-identify", c, 100), &out)
	if out.ResultCode != codec.Success {
		t.Fatalf("pay after Identify: %v %s", out.ResultCode, out.ResultMessage)
	}
	if n := r.e.Stats().Pays.Load(); n != 1 {
		t.Fatalf("Identify counted as a pay: %d", n)
	}
}

func TestIdentifyUnavailable(t *testing.T) {
	e, err := engine.New(engine.Config{
		Wallets:    map[string]engine.Wallet{"w1": newFakeWallet()},
		Identifier: downIdentifier{},
		Journal:    journal.NewMem(),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := code(1, 1)
	if w, rc, _ := e.Identify(t.Context(), &c); w != "" || rc != codec.UnknownException {
		t.Fatalf("got %q %v", w, rc)
	}
}
