package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/paycode/paycode/codec"
)

const codeMember = `,"paymentMethodId":"` + testCode + `"`

func TestParsePayWithoutCode(t *testing.T) {
	noCode := string(replaceOnce(t, fullPayBody, codeMember, ""))
	tests := []struct {
		name string
		body []byte
		want error // nil: accepted
	}{
		{"absent", []byte(noCode), nil},
		{"empty", replaceOnce(t, fullPayBody, codeMember, `,"paymentMethodId":""`), nil},
		{"null", replaceOnce(t, fullPayBody, codeMember, `,"paymentMethodId":null`), nil},
		{"code given", []byte(fullPayBody), codec.ErrCodeAndImage},
		{"malformed code given", replaceOnce(t, fullPayBody, codeMember, `,"paymentMethodId":"12ab"`), codec.ErrCodeAndImage},
		{"a space", replaceOnce(t, fullPayBody, codeMember, `,"paymentMethodId":" "`), codec.ErrCodeAndImage},
		{"number", replaceOnce(t, fullPayBody, codeMember, `,"paymentMethodId":281001`), codec.ErrType},
		{"no method type", replaceOnce(t, noCode, `"paymentMethodType":"CONNECT_WALLET"`, `"x":1`), codec.ErrMissing},
		{"wrong product", replaceOnce(t, noCode, `"IN_STORE_PAYMENT"`, `"ONLINE"`), codec.ErrValue},
		{"duplicate in method", replaceOnce(t, noCode, `"paymentMethodType":"CONNECT_WALLET"`, `"paymentMethodType":"CONNECT_WALLET","paymentMethodType":"X"`), codec.ErrDuplicateKey},
		{"not json", []byte(`{"productCode":`), codec.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r codec.PayRequest
			err := codec.ParsePayWithoutCode(tt.body, &r)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !r.Code.IsZero() || r.CodeErr != nil {
					t.Fatal("a code was set")
				}
				var full codec.PayRequest
				if err := codec.ParsePay([]byte(fullPayBody), &full); err != nil {
					t.Fatal(err)
				}
				if string(r.PaymentRequestID) != string(full.PaymentRequestID) || r.Amount != full.Amount ||
					string(r.PaymentMethodType) != "CONNECT_WALLET" || string(r.TerminalID) != string(full.TerminalID) ||
					r.SettlementCurrency != full.SettlementCurrency {
					t.Fatalf("fields differ from ParsePay's")
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var fe *codec.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("%T is not a *FieldError", err)
			}
			if strings.Contains(err.Error(), testCode) {
				t.Fatal("the error holds the code")
			}
			if r.PaymentRequestID != nil {
				t.Fatal("request not reset after an error")
			}
		})
	}
	var r codec.PayRequest
	err := codec.ParsePayWithoutCode([]byte(fullPayBody), &r)
	if err == nil || err.Error() != "codec: paymentMethod.paymentMethodId: give the code or an image, not both" {
		t.Fatalf("message: %v", err)
	}
	// ParsePay still requires the code.
	if err := codec.ParsePay([]byte(noCode), &r); !errors.Is(err, codec.ErrMissing) {
		t.Fatalf("ParsePay without a code: %v", err)
	}
}

func TestAllocsParsePayWithoutCode(t *testing.T) {
	body := replaceOnce(t, fullPayBody, codeMember, "")
	var r codec.PayRequest
	checkNoAllocs(t, "ParsePayWithoutCode", func() {
		if err := codec.ParsePayWithoutCode(body, &r); err != nil {
			t.Fatal(err)
		}
	})
}
