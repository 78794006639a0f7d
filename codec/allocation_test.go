package codec_test

import (
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
)

// The lane hot path must not allocate once its values and buffers are
// warm (fasthttp's allocation_test discipline). The race detector
// allocates on its own, so these run without -race only.
func checkNoAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	f() // warm the values, the buffers and the parser pool
	if n := testing.AllocsPerRun(500, f); n != 0 {
		t.Errorf("%s: %v allocs/op, want 0", name, n)
	}
}

func TestAllocsParse(t *testing.T) {
	payBody := []byte(fullPayBody)
	mccNumbers := replaceOnce(t, fullPayBody, `"merchantMCC":"5812"`, `"merchantMCC":742`)
	amountNumbers := replaceOnce(t, fullPayBody, `"value":"11800"}`, `"value":11800}`)
	escaped := replaceOnce(t, fullPayBody, `"Cafe Lumiere"`, `"Caf\u00e9 \"L\" \ud83d\ude00"`)
	badCode := replaceOnce(t, fullPayBody, testCode, "not-a-code")
	idBody := []byte(`{"paymentRequestId":"pay-1","paymentId":"2024050112","merchantAccountId":"a"}`)
	refund := []byte(refundBody)
	inqRefund := []byte(`{"refundRequestId":"rr-1","refundId":"rf-1"}`)

	var pay codec.PayRequest
	var id codec.IDRequest
	var rf codec.RefundRequest
	var irf codec.InquiryRefundRequest
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkNoAllocs(t, "ParsePay", func() { must(codec.ParsePay(payBody, &pay)) })
	checkNoAllocs(t, "ParsePay, MCC numbers", func() { must(codec.ParsePay(mccNumbers, &pay)) })
	checkNoAllocs(t, "ParsePay, amount numbers", func() { must(codec.ParsePay(amountNumbers, &pay)) })
	checkNoAllocs(t, "ParsePay, escapes", func() { must(codec.ParsePay(escaped, &pay)) })
	checkNoAllocs(t, "ParsePay, malformed code", func() {
		must(codec.ParsePay(badCode, &pay))
		if pay.CodeErr == nil {
			t.Fatal("CodeErr not set")
		}
	})
	checkNoAllocs(t, "ParseIDRequest", func() { must(codec.ParseIDRequest(idBody, &id)) })
	checkNoAllocs(t, "ParseRefund", func() { must(codec.ParseRefund(refund, &rf)) })
	checkNoAllocs(t, "ParseInquiryRefund", func() { must(codec.ParseInquiryRefund(inqRefund, &irf)) })
}

func TestAllocsWrite(t *testing.T) {
	pv := paidView()
	pv.Transactions = []codec.TransactionView{{Type: codec.TxnRefund, Status: codec.StatusSuccess, Result: codec.Success,
		ID: "rf-1", RequestID: "rr-1", Amount: pv.Amount, Time: paidAt}}
	rv := refundView()
	at := time.Date(2024, 5, 1, 4, 1, 0, 0, time.UTC)
	dst := make([]byte, 0, 4096)
	checkNoAllocs(t, "AppendPayResponse", func() { dst = codec.AppendPayResponse(dst[:0], pv) })
	checkNoAllocs(t, "AppendInquiryPaymentResponse", func() { dst = codec.AppendInquiryPaymentResponse(dst[:0], pv) })
	checkNoAllocs(t, "AppendNotifyPayment", func() { dst = codec.AppendNotifyPayment(dst[:0], pv) })
	checkNoAllocs(t, "AppendCancelResponse", func() {
		dst = codec.AppendCancelResponse(dst[:0], codec.Success, "", "p", "r", at)
	})
	checkNoAllocs(t, "AppendRefundResponse", func() { dst = codec.AppendRefundResponse(dst[:0], rv) })
	checkNoAllocs(t, "AppendInquiryRefundResponse", func() { dst = codec.AppendInquiryRefundResponse(dst[:0], rv) })
	checkNoAllocs(t, "AppendErrorResponse", func() { dst = codec.AppendErrorResponse(dst[:0], codec.ParamIllegal, "bad") })
	nasty := []byte("caf\xc3\xa9 \xff <\u2028> \"\\\x01")
	checkNoAllocs(t, "AppendJSONString []byte", func() { dst = codec.AppendJSONString(dst[:0], nasty) })
	checkNoAllocs(t, "AppendJSONString string", func() { dst = codec.AppendJSONString(dst[:0], string(nasty)) })
}

func TestAllocsParseAndWrite(t *testing.T) {
	body := []byte(fullPayBody)
	var r codec.PayRequest
	v := paidView()
	dst := make([]byte, 0, 1024)
	checkNoAllocs(t, "parse+write", func() {
		var err error
		if dst, err = parseAndWrite(body, &r, v, dst[:0]); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAllocsVocabulary(t *testing.T) {
	code := []byte("2810 0102 0123 4567 8901 4567")
	cur := []byte("HKD")
	val := []byte("9223372036854775807")
	name := []byte("USER_BALANCE_NOT_ENOUGH")
	checkNoAllocs(t, "ParseCode+Class", func() {
		c, err := codec.ParseCode(code)
		if err != nil || !c.Class().Routable() {
			t.Fatal(err)
		}
	})
	checkNoAllocs(t, "ParseCurrency", func() {
		if _, err := codec.ParseCurrency(cur); err != nil {
			t.Fatal(err)
		}
	})
	checkNoAllocs(t, "ParseAmountValue", func() {
		if _, err := codec.ParseAmountValue(val); err != nil {
			t.Fatal(err)
		}
	})
	checkNoAllocs(t, "LookupResult", func() {
		if _, ok := codec.LookupResult(name); !ok {
			t.Fatal("not found")
		}
	})
}
