package mpp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/mpp"
)

// FuzzWalletAnswer: a hostile or broken wallet answers each of the four
// calls with any HTTP status and body. The connector must never panic,
// and must never believe more than the answer says: an error leaves the
// outcome unknown (the zero WalletResult); a non-200 status is an error;
// a success is only read from a body that encoding/json also reads as
// JSON with resultStatus S (the inquiry's paymentResult too) and, for a
// pay or an inquiry, names no other paymentRequestId; a failure carries
// an F code, a processing answer never SUCCESS.
//
//	go test -run '^$' -fuzz '^FuzzWalletAnswer$' -fuzztime 3m -parallel 1 ./engine/mpp/
func FuzzWalletAnswer(f *testing.F) {
	seeds := []string{
		`{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"pspId":"PSP-A","paymentRequestId":"p1","paymentId":"w1","paymentTime":"2024-05-01T12:00:01+08:00","paymentAmount":{"currency":"HKD","value":"100"},"customerId":"c1","walletBrandName":"AlipayHK"}`,
		`{"result":{"resultCode":"USER_BALANCE_NOT_ENOUGH","resultStatus":"F","resultMessage":"no"}}`,
		`{"result":{"resultCode":"PAYMENT_IN_PROCESS","resultStatus":"U","resultMessage":"wait"}}`,
		`{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentRequestId":"p1","paymentId":"w1","paymentTime":"2024-05-01T12:00:01Z","paymentAmount":{"currency":"HKD","value":"100"}}`,
		`{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentResult":{"resultCode":"ORDER_IS_CLOSED","resultStatus":"F"}}`,
		`{"result":{"resultCode":"ORDER_NOT_EXIST","resultStatus":"F"}}`,
		`{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"refundId":"wr1","refundTime":"2024-05-01T12:00:02+08:00","refundAmount":{"currency":"HKD","value":"100"}}`,
		`{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"result":{"resultCode":"PROCESS_FAIL","resultStatus":"F"}}`,
		`{"result":{"resultCode":"NEW_CODE","resultStatus":"S"},"paymentRequestId":"other","paymentId":"w1","paymentTime":"2024-05-01T12:00:01Z"}`,
		`{"result":{"resultStatus":"S"}}`, `{}`, `null`, ``, `{"result":`,
	}
	for op := range 4 {
		for _, s := range seeds {
			f.Add(uint8(op), 200, []byte(s))
		}
	}
	f.Add(uint8(0), 500, []byte(seeds[0]))
	f.Add(uint8(0), 302, []byte(``))

	var answerStatus int
	var answerBody []byte
	c := newClient(f, mpp.Config{BaseURL: "http://w", Timeout: 2 * time.Second, Breaker: mpp.BreakerConfig{Disabled: true},
		Dial: serve(f, func(ctx *fasthttp.RequestCtx) {
			ctx.SetStatusCode(answerStatus)
			ctx.SetContentType("application/json; charset=UTF-8")
			ctx.SetBody(answerBody)
		})})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, op uint8, status int, body []byte) {
		if status < 200 || status > 599 {
			status = 200 + (status%400+400)%400
		}
		answerStatus, answerBody = status, body
		var r engine.WalletResult
		var err error
		amount := codec.Amount{Value: 100, Currency: hkd}
		switch op % 4 {
		case 0:
			r, err = c.Pay(ctx, walletPay("p1", code(1, 0), 100))
		case 1:
			r, err = c.Inquire(ctx, "p1")
		case 2:
			r, err = c.Cancel(ctx, "p1")
		case 3:
			r, err = c.Refund(ctx, &engine.WalletRefund{RefundID: "r1", PaymentID: "p1", Amount: amount})
		}
		if err != nil {
			if r != (engine.WalletResult{}) {
				t.Fatalf("an error (%v) came with a result %+v", err, r)
			}
			if errors.Is(err, mpp.ErrTransport) || errors.Is(err, mpp.ErrTimeout) {
				t.Fatalf("the in-memory wallet's answer was lost: %v", err)
			}
			return
		}
		if status != fasthttp.StatusOK {
			t.Fatalf("HTTP %d was believed: %+v", status, r)
		}
		var o oracleAnswer
		jerr := json.Unmarshal(body, &o)
		if jerr != nil {
			// What only fastjson's leniency accepts is read made strict.
			if strict, ok := lenient(body); ok {
				jerr = json.Unmarshal(strict, &o)
			}
		}
		switch r.Outcome {
		case engine.OutcomeSuccess:
			if jerr != nil && !numberLeniency(body) {
				t.Fatalf("success read from a body encoding/json refuses (%v): %q", jerr, body)
			}
			if jerr != nil {
				break // no oracle for NaN or leading zeros
			}
			st := o.Result.Status
			if op%4 == 1 {
				if st != "S" {
					t.Fatalf("an inquiry whose query did not succeed (%q) settled the payment: %q", st, body)
				}
				st = o.PaymentResult.Status
			}
			if st != "S" {
				t.Fatalf("success from resultStatus %q: %q", st, body)
			}
			if r.Code != codec.Success {
				t.Fatalf("success with code %v", r.Code)
			}
			if op%4 != 2 && (r.WalletTxnID == "" || r.At.IsZero()) {
				t.Fatalf("success without the wallet's id or time: %+v from %q", r, body)
			}
		case engine.OutcomeFail:
			if r.Code.Status() != codec.StatusF {
				t.Fatalf("a failure with code %v (%v)", r.Code, r.Code.Status())
			}
		case engine.OutcomeProcessing:
			if r.Code == codec.Success {
				t.Fatalf("processing with SUCCESS: %q", body)
			}
		case engine.OutcomeNotFound:
			if op%4 == 0 || op%4 == 3 {
				t.Fatalf("not found from a %d call: %q", op%4, body)
			}
		default:
			t.Fatalf("outcome %v without an error: %q", r.Outcome, body)
		}
		if (op%4 == 0 || op%4 == 1) && jerr == nil && o.PaymentRequestID != nil && *o.PaymentRequestID != "" && *o.PaymentRequestID != "p1" {
			t.Fatalf("an answer for paymentRequestId %q was believed: %+v", *o.PaymentRequestID, r)
		}
	})
}

// lenient returns body with what only fastjson's leniency accepts inside
// strings made strict, and whether encoding/json then reads it. The wallet
// reader checks structure, UTF-8 and duplicate keys but not what strict
// JSON also refuses inside strings and numbers (raw control characters,
// unknown or cut escapes, leading zeros, NaN): a strict pass like the
// lane's (codec's laneStrict) would cost each pay about 3,400
// instructions more (callgrind, BenchmarkParseMPPPayResponse), and such a
// body's meaning is not ambiguous.
func lenient(body []byte) ([]byte, bool) {
	b := bytes.Clone(body)
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\' && i+1 < len(b):
			switch e := b[i+1]; {
			case e == 'u' && (i+6 > len(b) || !hex4.Match(b[i+2:i+6])):
				b[i], b[i+1] = ' ', ' '
			case e != 'u' && !strings.ContainsRune(`"\\/bfnrt`, rune(e)):
				b[i], b[i+1] = ' ', ' '
			}
			i++
		case c == '"':
			inString = !inString
		case inString && c < 0x20:
			b[i] = ' '
		}
	}
	return b, json.Valid(b)
}

// numberLeniency reports whether body may hold a number only fastjson
// reads (NaN, a leading zero).
func numberLeniency(body []byte) bool {
	return bytes.Contains(body, []byte("NaN")) || leadingZero.Match(body)
}

var (
	leadingZero = regexp.MustCompile(`[:\[,]\s*-?0[0-9]`)
	hex4        = regexp.MustCompile(`^[0-9a-fA-F]{4}$`)
)

// oracleAnswer is what encoding/json reads of a wallet answer, with keys
// matched exactly (JSON is case-sensitive; encoding/json's struct fields
// are not) and the last of duplicate keys winning, as most readers do.
type oracleAnswer struct {
	Result, PaymentResult struct{ Status string }
	PaymentRequestID      *string
}

func (o *oracleAnswer) UnmarshalJSON(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	status := func(raw json.RawMessage) string {
		var r map[string]json.RawMessage
		var s string
		if json.Unmarshal(raw, &r) == nil {
			_ = json.Unmarshal(r["resultStatus"], &s)
		}
		return s
	}
	o.Result.Status, o.PaymentResult.Status = status(top["result"]), status(top["paymentResult"])
	if raw, ok := top["paymentRequestId"]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			o.PaymentRequestID = &s
		}
	}
	return nil
}
