package codec_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/paycode/paycode/codec"
)

// TestMPPDuplicateKeys: a wallet message with a key twice is refused with
// ErrDuplicateKey, at the top level and inside the objects read: paycode
// must not read {"result":S,"result":F} as success while other JSON
// readers read it as failure (found by engine/mpp's FuzzWalletAnswer).
func TestMPPDuplicateKeys(t *testing.T) {
	pay := `{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentId":"w1","paymentTime":"2024-05-01T12:00:01Z","paymentAmount":{"currency":"HKD","value":"100"}}`
	inq := `{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentId":"w1","paymentTime":"2024-05-01T12:00:01Z"}`
	cancel := `{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}`
	refund := `{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"refundId":"r1","refundTime":"2024-05-01T12:00:01Z"}`
	parsers := map[string]func([]byte) error{
		"pay":     func(b []byte) error { var r codec.MPPPayResponse; return codec.ParseMPPPayResponse(b, &r) },
		"inquiry": func(b []byte) error { var r codec.MPPInquiryResponse; return codec.ParseMPPInquiryResponse(b, &r) },
		"cancel":  func(b []byte) error { var r codec.MPPCancelResponse; return codec.ParseMPPCancelResponse(b, &r) },
		"refund":  func(b []byte) error { var r codec.MPPRefundResponse; return codec.ParseMPPRefundResponse(b, &r) },
	}
	tests := []struct {
		name, parser, body string
		wantErr            error
	}{
		{"pay as sent", "pay", pay, nil},
		{"inquiry as sent", "inquiry", inq, nil},
		{"cancel as sent", "cancel", cancel, nil},
		{"refund as sent", "refund", refund, nil},
		{"second result says F", "cancel", strings.TrimSuffix(cancel, "}") + `,"result":{"resultCode":"PROCESS_FAIL","resultStatus":"F"}}`, codec.ErrDuplicateKey},
		{"status twice inside result", "pay", strings.Replace(pay, `"resultStatus":"S"`, `"resultStatus":"S","resultStatus":"F"`, 1), codec.ErrDuplicateKey},
		{"paymentResult twice", "inquiry", strings.TrimSuffix(inq, "}") + `,"paymentResult":{"resultCode":"ORDER_IS_CLOSED","resultStatus":"F"}}`, codec.ErrDuplicateKey},
		{"key spelled with an escape", "refund", strings.TrimSuffix(refund, "}") + `,"\u0072esult":{"resultCode":"PROCESS_FAIL","resultStatus":"F"}}`, codec.ErrDuplicateKey},
		{"amount value twice", "pay", strings.Replace(pay, `"value":"100"`, `"value":"100","value":"1"`, 1), codec.ErrDuplicateKey},
		{"unknown key twice", "pay", strings.TrimSuffix(pay, "}") + `,"x":1,"x":2}`, codec.ErrDuplicateKey},
		{"paymentId twice", "pay", strings.TrimSuffix(pay, "}") + `,"paymentId":"w2"}`, codec.ErrDuplicateKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := parsers[tc.parser]([]byte(tc.body))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// FuzzMPPResponses: the four wallet-answer parsers (the bytes a wallet,
// or whatever sits in front of it, sends paycode) never panic, fail only
// with a *FieldError, and what they accept writes back to a body that
// parses to the same value.
//
//	go test -run '^$' -fuzz '^FuzzMPPResponses$' -fuzztime 3m -parallel 1 ./codec/
func FuzzMPPResponses(f *testing.F) {
	res := func(rc codec.ResultCode) codec.MPPResult { return mppResult(rc, "") }
	pay := codec.MPPPayResponse{Result: res(codec.Success), PSPID: mppBytes("PSP-A"), PaymentRequestID: mppBytes("p1"), PaymentID: mppBytes("W-1"),
		PaymentTime: mppPayTime, Amount: codec.Amount{Value: 11800, Currency: mppHKD}, CustomerID: mppBytes("C-9"), WalletBrandName: mppBytes("Wallet A")}
	inq := codec.MPPInquiryResponse{Result: res(codec.Success), PaymentResult: res(codec.Success), PaymentRequestID: mppBytes("p1"), PaymentID: mppBytes("W-1"),
		PaymentTime: mppPayTime, Amount: codec.Amount{Value: 11800, Currency: mppHKD}}
	refund := codec.MPPRefundResponse{Result: res(codec.Success), RefundID: mppBytes("R-1"), RefundTime: mppPayTime, Amount: codec.Amount{Value: 100, Currency: mppHKD}}
	cancel := codec.MPPCancelResponse{Result: res(codec.Success)}
	for op := range 4 {
		f.Add(uint8(op), codec.AppendMPPPayResponse(nil, &pay))
		f.Add(uint8(op), codec.AppendMPPInquiryResponse(nil, &inq))
		f.Add(uint8(op), codec.AppendMPPRefundResponse(nil, &refund))
		f.Add(uint8(op), codec.AppendMPPCancelResponse(nil, &cancel))
		f.Add(uint8(op), []byte(`{"result":{"resultCode":"NEW_CODE","resultStatus":"U","resultMessage":"\u00e9\"\\"}}`))
	}
	type parser struct {
		parse  func([]byte) (any, error)
		append func(any) []byte
	}
	parsers := []parser{
		{func(b []byte) (any, error) {
			var r codec.MPPPayResponse
			err := codec.ParseMPPPayResponse(b, &r)
			return &r, err
		},
			func(v any) []byte { return codec.AppendMPPPayResponse(nil, v.(*codec.MPPPayResponse)) }},
		{func(b []byte) (any, error) {
			var r codec.MPPInquiryResponse
			err := codec.ParseMPPInquiryResponse(b, &r)
			return &r, err
		}, func(v any) []byte { return codec.AppendMPPInquiryResponse(nil, v.(*codec.MPPInquiryResponse)) }},
		{func(b []byte) (any, error) {
			var r codec.MPPCancelResponse
			err := codec.ParseMPPCancelResponse(b, &r)
			return &r, err
		},
			func(v any) []byte { return codec.AppendMPPCancelResponse(nil, v.(*codec.MPPCancelResponse)) }},
		{func(b []byte) (any, error) {
			var r codec.MPPRefundResponse
			err := codec.ParseMPPRefundResponse(b, &r)
			return &r, err
		},
			func(v any) []byte { return codec.AppendMPPRefundResponse(nil, v.(*codec.MPPRefundResponse)) }},
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		p := parsers[op%4]
		a, err := p.parse(body)
		if err != nil {
			var fe *codec.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a FieldError: %v", err)
			}
			return
		}
		out := p.append(a)
		b, err := p.parse(out)
		if err != nil {
			t.Fatalf("reparse: %v\n%s\nfrom %q", err, out, body)
		}
		defaultMessages(a) // the writer fills an empty resultMessage with the code's text
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip differs\n%+v\n%+v\nfrom %q", a, b, body)
		}
	})
}

// defaultMessages sets each empty result message of the struct v points to
// to its code's default text, as AppendMPPResult writes it.
func defaultMessages(v any) {
	e := reflect.ValueOf(v).Elem()
	for i := range e.NumField() {
		if r, ok := e.Field(i).Addr().Interface().(*codec.MPPResult); ok && len(r.Message) == 0 {
			if m := r.Code.Message(); m != "" {
				r.Message = []byte(m)
			}
		}
	}
}
