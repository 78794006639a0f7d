package codec_test

import (
	"strings"
	"testing"

	"github.com/paycode/paycode/codec"
)

// allResults lists every ResultCode of the table (ResultNone excluded):
// the table ends where String becomes empty.
func allResults() []codec.ResultCode {
	var rs []codec.ResultCode
	for r := codec.ResultCode(1); r.String() != ""; r++ {
		rs = append(rs, r)
	}
	return rs
}

func TestResultTable(t *testing.T) {
	rs := allResults()
	if len(rs) < 37 {
		t.Fatalf("only %d result codes", len(rs))
	}
	seen := map[string]bool{}
	for _, r := range rs {
		name := r.String()
		if strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" || len(name) > 64 {
			t.Errorf("%d: name %q is not an upper-case wire name of at most 64 bytes", r, name)
		}
		if seen[name] {
			t.Errorf("%s listed twice", name)
		}
		seen[name] = true
		if s := r.Status(); s != codec.StatusS && s != codec.StatusF && s != codec.StatusU {
			t.Errorf("%s: status %q", name, s)
		}
		if m := r.Message(); m == "" || len(m) > 256 {
			t.Errorf("%s: message %q", name, m)
		}
		back, ok := codec.LookupResult([]byte(name))
		if !ok || back != r {
			t.Errorf("LookupResult(%s) = %v, %v; want %d", name, back, ok, r)
		}
	}
}

// Statuses that decide what a lane does with the money (spec §3).
func TestResultStatuses(t *testing.T) {
	cases := []struct {
		r      codec.ResultCode
		name   string
		status byte
	}{
		{codec.Success, "SUCCESS", codec.StatusS},
		{codec.PaymentInProcess, "PAYMENT_IN_PROCESS", codec.StatusU},
		{codec.UnknownException, "UNKNOWN_EXCEPTION", codec.StatusU},
		{codec.RequestTrafficExceedLimit, "REQUEST_TRAFFIC_EXCEED_LIMIT", codec.StatusU},
		{codec.RefundInProcess, "REFUND_IN_PROCESS", codec.StatusU},
		{codec.InvalidPaymentCode, "INVALID_PAYMENT_CODE", codec.StatusF},
		{codec.UserBalanceNotEnough, "USER_BALANCE_NOT_ENOUGH", codec.StatusF},
		{codec.ParamIllegal, "PARAM_ILLEGAL", codec.StatusF},
		{codec.OrderIsClosed, "ORDER_IS_CLOSED", codec.StatusF},
		{codec.CancelWindowExceed, "CANCEL_WINDOW_EXCEED", codec.StatusF},
		{codec.RefundAmountExceed, "REFUND_AMOUNT_EXCEED", codec.StatusF},
		{codec.InvalidSignature, "INVALID_SIGNATURE", codec.StatusF},
	}
	for _, c := range cases {
		if c.r.String() != c.name || c.r.Status() != c.status {
			t.Errorf("%d = %s/%c, want %s/%c", c.r, c.r.String(), c.r.Status(), c.name, c.status)
		}
	}
}

func TestLookupResultAliasesAndUnknown(t *testing.T) {
	cases := []struct {
		name string
		want codec.ResultCode
		ok   bool
	}{
		{"SIGNATURE_INVALID", codec.InvalidSignature, true}, // 2019 spelling (spec §3.2)
		{"NO_PAY_OPTION", codec.NoPayOptions, true},
		{"NO_INTERFACE_DEF", codec.InvalidAPI, true},
		{"USER_PAYING", 0, false}, // WeChat vocabulary, not Antom's
		{"success", 0, false},     // case matters
		{"", 0, false},
		{"INVALID_CODE", 0, false}, // removed from UPM in 2021
	}
	for _, c := range cases {
		got, ok := codec.LookupResult([]byte(c.name))
		if got != c.want || ok != c.ok {
			t.Errorf("LookupResult(%q) = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestResultOutOfRange(t *testing.T) {
	for _, r := range []codec.ResultCode{codec.ResultNone, codec.ResultCode(len(allResults()) + 1), 255} {
		if r.String() != "" || r.Status() != 0 || r.Message() != "" {
			t.Errorf("ResultCode(%d) = %q %q %q, want empty", r, r.String(), r.Status(), r.Message())
		}
	}
}

func TestPaymentStatusAndTransactionTypeNames(t *testing.T) {
	statuses := map[codec.PaymentStatus]string{
		codec.StatusNone: "", codec.StatusProcessing: "PROCESSING", codec.StatusSuccess: "SUCCESS",
		codec.StatusFail: "FAIL", codec.StatusCancelled: "CANCELLED", codec.PaymentStatus(99): "",
	}
	for s, want := range statuses {
		if s.String() != want {
			t.Errorf("PaymentStatus(%d) = %q, want %q", s, s.String(), want)
		}
	}
	types := map[codec.TransactionType]string{codec.TxnRefund: "REFUND", codec.TxnCancel: "CANCEL", 0: "", 9: ""}
	for ty, want := range types {
		if ty.String() != want {
			t.Errorf("TransactionType(%d) = %q, want %q", ty, ty.String(), want)
		}
	}
}

// TestAsFailure: a failure always carries an F code: its own when it has
// one, PROCESS_FAIL for none, an unknown one, or an S or U code.
func TestAsFailure(t *testing.T) {
	for _, tc := range []struct{ in, want codec.ResultCode }{
		{codec.ResultNone, codec.ProcessFail},
		{codec.Success, codec.ProcessFail},
		{codec.UnknownException, codec.ProcessFail},
		{codec.PaymentInProcess, codec.ProcessFail},
		{codec.ResultCode(250), codec.ProcessFail},
		{codec.ProcessFail, codec.ProcessFail},
		{codec.UserBalanceNotEnough, codec.UserBalanceNotEnough},
		{codec.OrderIsClosed, codec.OrderIsClosed},
	} {
		if got := tc.in.AsFailure(); got != tc.want {
			t.Errorf("%v.AsFailure() = %v, want %v", tc.in, got, tc.want)
		}
	}
}
