package mppsim_test

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/settle"
	"github.com/paycode/paycode/loadtest/mppsim"
)

const settleHeader = "customerId,acquirerReferenceNo,transactionId,originalTransactionId,transactionRequestId,transactionType,transactionStatus,transactionTime,transactionAmountValue,transactionCurrency,paymentMethodType,pspName,productCode\n"

// walletDay runs a day of a wallet's business: charges, failures, a
// cancel before and one after the charge, refunds, a tombstone, and
// business on the next day.
func walletDay(t *testing.T) *harness {
	h := newHarness(t, mppsim.WalletConfig{Name: "w1"}, nil)
	h.pay("p-ok", code(1, 0), 1000)                           // 12:00:00 charged
	h.pay("p-fail", code(2, 87), 1000)                        // not charged
	h.pay("p-closed", code(3, 80), 1000)                      // password…
	if rc := h.cancel("p-closed"); rc.String() != "SUCCESS" { // …cancelled before it: CLOSED
		t.Fatalf("cancel: %v", rc)
	}
	h.pay("p-rev", code(4, 1), 700) // charged…
	h.clk.Add(time.Minute)
	h.cancel("p-rev")               // …reversed at 12:01
	h.cancel("p-never")             // a tombstone
	h.pay("p-pw", code(5, 81), 400) // 12:01, the user confirms 2 s later
	h.pay("p-ref", code(6, 2), 900) // 12:01
	h.clk.Add(time.Minute)          // 12:02
	h.refund("p-ref", "r-1", 300)   // refunded
	h.refund("p-ref", "r-big", 700) // REFUND_AMOUNT_EXCEED: not listed
	h.clk.Add(12 * time.Hour)       // 00:02 the next day
	h.refund("p-ref", "r-2", 100)   // next day
	h.pay("p-next", code(7, 3), 50) // next day
	if e := h.entry("p-pw"); e.State != mppsim.StateSuccess {
		t.Fatalf("p-pw is %v", e.State)
	}
	return h
}

// TestLedgerRows: the wallet lists charges, reversals and refunds of the
// day, by the rules of engine/settle.
func TestLedgerRows(t *testing.T) {
	h := walletDay(t)
	day, _ := settle.ParseDay("2024-05-01", nil)
	var b bytes.Buffer
	if err := mppsim.WriteSettlement(&b, day, h.w); err != nil {
		t.Fatal(err)
	}
	l := h.w.Ledger()
	id := func(pid string) string { return l.Payments[pid].PaymentID }
	want := settleHeader +
		"," + id("p-ok") + ",p-ok,,,PAYMENT,SUCCESS,2024-05-01T12:00:00Z,1000,HKD,,w1,IN_STORE_PAYMENT\n" +
		"," + id("p-rev") + ",p-rev,,,PAYMENT,SUCCESS,2024-05-01T12:00:00Z,700,HKD,,w1,IN_STORE_PAYMENT\n" +
		"," + id("p-ref") + ",p-ref,,,PAYMENT,SUCCESS,2024-05-01T12:01:00Z,900,HKD,,w1,IN_STORE_PAYMENT\n" +
		"," + id("p-rev") + ",p-rev,p-rev,,CANCEL,SUCCESS,2024-05-01T12:01:00Z,700,HKD,,w1,IN_STORE_PAYMENT\n" +
		"," + id("p-pw") + ",p-pw,,,PAYMENT,SUCCESS,2024-05-01T12:01:02Z,400,HKD,,w1,IN_STORE_PAYMENT\n" +
		"," + l.Payments["p-ref"].Refunds["r-1"].RefundID + ",r-1,p-ref,,REFUND,SUCCESS,2024-05-01T12:02:00Z,300,HKD,,w1,IN_STORE_PAYMENT\n" +
		"<END>\n"
	if b.String() != want {
		t.Errorf("file:\n%s\nwant:\n%s", b.String(), want)
	}
	next, _ := settle.ParseDay("2024-05-02", nil)
	rows := mppsim.LedgerRows(&l, next)
	if len(rows) != 2 || rows[0].TransactionID != "p-next" || rows[1].TransactionID != "r-2" { // same time: by id
		t.Errorf("next day: %+v", rows)
	}
	// The same ledger over JSON (masked codes) gives the same rows.
	pl, err := mppsim.ParseLedger(l.AppendJSON(nil))
	if err != nil {
		t.Fatal(err)
	}
	if ms := settle.Reconcile(mppsim.LedgerRows(&pl, day), mppsim.LedgerRows(&l, day)); len(ms) != 0 {
		t.Errorf("ledger over JSON: %v", ms)
	}
}

// TestSettlementHandler: GET /sim/settlement serves the file over HTTP,
// and FetchSettlement reads it.
func TestSettlementHandler(t *testing.T) {
	h := walletDay(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: mppsim.SettlementHandler(h.w)}
	go srv.Serve(ln)
	defer srv.Shutdown()
	base := "http://" + ln.Addr().String()
	b, err := mppsim.FetchSettlement(base, "2024-05-01", "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	day, _ := settle.ParseDay("2024-05-01", nil)
	var want bytes.Buffer
	if err := mppsim.WriteSettlement(&want, day, h.w); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want.Bytes()) {
		t.Errorf("served:\n%s\nwant:\n%s", b, want.Bytes())
	}
	// In UTC+12 the 2nd starts at 12:00 UTC on the 1st: everything falls in it.
	b, err = mppsim.FetchSettlement(base, "2024-05-02", "+12:00", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := settle.Parse(bytes.NewReader(b))
	if err != nil || len(rows) != 8 || !strings.Contains(string(b), "2024-05-02T00:00:00+12:00") {
		t.Errorf("+12:00: %v, %d rows\n%s", err, len(rows), b)
	}
	for _, q := range []string{"date=2024-13-01", "date=", "date=2024-05-01&tz=Nowhere/Else"} {
		_, err := mppsim.FetchSettlement(base+"/x?"+q+"#", "", "", 5*time.Second) // wrong path first
		if err == nil || !strings.Contains(err.Error(), "404") {
			t.Errorf("wrong path: %v", err)
		}
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI(mppsim.SettlementPath + "?" + q)
		mppsim.SettlementHandler(h.w)(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusBadRequest {
			t.Errorf("%s: HTTP %d", q, ctx.Response.StatusCode())
		}
	}
}

// TestSimSettlement: a running sim writes one file for all its wallets.
func TestSimSettlement(t *testing.T) {
	clk := newClock()
	s, err := mppsim.Start(mppsim.Config{Wallets: []mppsim.WalletConfig{{Name: "a"}, {Name: "b"}}, Sleep: noSleep, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, name := range s.Names() {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI(s.URL(name) + codec.MPPPayPath)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetBody(payBody("p-"+name, code(i, 0), int64(100*(i+1))))
		if err := fasthttp.DoTimeout(req, resp, 5*time.Second); err != nil || resp.StatusCode() != 200 {
			t.Fatalf("pay at %s: %v %d", name, err, resp.StatusCode())
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
	var b bytes.Buffer
	if err := s.Settlement(&b, settle.DayOf(clk.Now(), nil)); err != nil {
		t.Fatal(err)
	}
	rows, err := settle.Parse(&b)
	if err != nil || len(rows) != 2 || rows[0].TransactionID != "p-a" || rows[0].PSPName != "a" ||
		rows[1].TransactionID != "p-b" || rows[1].PSPName != "b" || rows[1].Amount.Value != 200 {
		t.Errorf("%v %+v", err, rows)
	}
}
