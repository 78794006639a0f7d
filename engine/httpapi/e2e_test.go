package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/paycode/paycode/loadtest/stack"
)

// These tests run a whole paycode over real HTTP on loopback: the lane
// API server, the engine, the wallet connectors and four simulated wallets
// as real servers. Business time (follow-up schedule, password delays) is
// a manual clock shared by the engine and the wallets, so waits take no
// real time; network timeouts are real but short.

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// lockedBuffer collects log output from concurrent goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type e2e struct {
	t     *testing.T
	st    *stack.Stack
	clock *enginetest.ManualClock
	logs  *lockedBuffer
	http  *http.Client
	codes []string // every code used, to scan the logs for
	mu    sync.Mutex
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	clock := enginetest.NewManualClock(t0)
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	wallets := stack.DefaultSimWallets()
	for i := range wallets {
		wallets[i].Latency = mppsim.Latency{} // answer at once
		wallets[i].HangFor = 5 * time.Second  // codes 92-93: longer than the pay timeout
	}
	st, err := stack.Start(stack.Config{
		Sim: mppsim.Config{Wallets: wallets, Seed: 1, Now: clock.Now},
		Node: server.Config{
			Engine: engine.Config{Clock: clock, PayTimeout: 300 * time.Millisecond, WalletCallTimeout: 2 * time.Second},
			Logger: log,
		},
		Options: []server.Option{server.ManualFollowUps()},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &e2e{t: t, st: st, clock: clock, logs: logs, http: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(func() {
		st.Close()
		e.checkLogsMasked()
	})
	return e
}

// checkLogsMasked fails if any code used in the test appears whole in the
// captured logs.
func (e *e2e) checkLogsMasked() {
	logs := e.logs.String()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.codes {
		if strings.Contains(logs, c) {
			e.t.Errorf("a full payment code is in the logs: %s", codec.Mask(c))
		}
	}
	if m := regexp.MustCompile(`\d{16,32}`).FindAllString(logs, -1); len(m) > 0 {
		// Payment ids are 32 digits too; only codes are secrets.
		for _, s := range m {
			for _, c := range e.codes {
				if s == c {
					e.t.Errorf("code in logs")
				}
			}
		}
	}
}

type result struct {
	Code    string `json:"resultCode"`
	Status  string `json:"resultStatus"`
	Message string `json:"resultMessage"`
}

type answer struct {
	Result           result          `json:"result"`
	PaymentID        string          `json:"paymentId"`
	PaymentRequestID string          `json:"paymentRequestId"`
	PaymentStatus    string          `json:"paymentStatus"`
	PaymentResult    string          `json:"paymentResultCode"`
	PaymentAmount    json.RawMessage `json:"paymentAmount"`
	PaymentTime      string          `json:"paymentTime"`
	CancelTime       string          `json:"cancelTime"`
	RefundID         string          `json:"refundId"`
	RefundStatus     string          `json:"refundStatus"`
	Transactions     []struct {
		Type   string `json:"transactionType"`
		Status string `json:"transactionStatus"`
	} `json:"transactions"`
}

func (e *e2e) post(api, clientID, body string) answer {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.st.URL()+"/ams/api/v1/payments/"+api, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	if clientID != "" {
		req.Header.Set("client-id", clientID)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s: %v", api, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("%s: HTTP %d %s", api, resp.StatusCode, b)
	}
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		e.t.Fatalf("%s: %v in %s", api, err, b)
	}
	if a.Result.Code == "" || a.Result.Status == "" {
		e.t.Fatalf("%s: no result in %s", api, b)
	}
	return a
}

// testCode is a 24-digit code of the wallet with routing prefix pfx, with
// middle n and the given last two digits (the simulated outcome).
func (e *e2e) testCode(pfx string, n, last2 int) string {
	c := fmt.Sprintf("%s02%014d%02d", pfx, n, last2)
	e.mu.Lock()
	e.codes = append(e.codes, c)
	e.mu.Unlock()
	return c
}

func payBody(reqID, code string, amount int64) string {
	return fmt.Sprintf(`{"productCode":"IN_STORE_PAYMENT","paymentRequestId":%q,"order":{"orderDescription":"2 x coffee","orderAmount":{"currency":"HKD","value":"%d"},"merchant":{"referenceMerchantId":"M0001","merchantMCC":"5814","merchantName":"Demo Cafe","store":{"referenceStoreId":"S01","storeName":"Central","storeMCC":"5814"}},"env":{"storeTerminalId":"LANE-07","storeTerminalRequestTime":"2026-11-26T10:40:00+08:00"}},"paymentAmount":{"currency":"HKD","value":"%d"},"paymentMethod":{"paymentMethodType":"CONNECT_WALLET","paymentMethodId":%q},"paymentFactor":{"inStorePaymentScenario":"PaymentCode"}}`,
		reqID, amount, amount, code)
}

// settle drives the follow-up on the manual clock until nothing is queued.
func (e *e2e) settle() {
	e.t.Helper()
	for i := 0; i < 200; i++ {
		next, ok := e.st.Engine.NextFollowUp()
		if !ok {
			return
		}
		if d := next.Sub(e.clock.Now()); d > 0 {
			e.clock.Advance(d)
		}
		e.st.Engine.ProcessDue(e.t.Context())
	}
	e.t.Fatal("follow-up did not settle")
}

// entry finds a payment in the wallets' ledgers.
func (e *e2e) entry(paymentID string) (mppsim.Entry, bool) {
	for _, n := range e.st.Sim.Names() {
		if en, ok := e.st.Sim.Ledger(n).Payments[paymentID]; ok {
			return en, true
		}
	}
	return mppsim.Entry{}, false
}

// agree checks paycode's final view of a payment against the ledger (see
// agreeStatus).
func (e *e2e) agree(clientID, paymentID string, amount int64) answer {
	e.t.Helper()
	a := e.post("inquiryPayment", clientID, fmt.Sprintf(`{"paymentId":%q}`, paymentID))
	e.agreeStatus(paymentID, a.PaymentStatus, amount)
	return a
}

// agreeStatus checks status, paycode's final view of a payment, against
// the ledger: a SUCCESS holds exactly the amount at its wallet, anything
// else holds nothing.
func (e *e2e) agreeStatus(paymentID, status string, amount int64) {
	e.t.Helper()
	en, ok := e.entry(paymentID)
	switch status {
	case "SUCCESS":
		if !ok || en.State != mppsim.StateSuccess || en.Charged != amount {
			e.t.Errorf("payment %s: paycode SUCCESS, ledger %v charged %d", paymentID, en.State, en.Charged)
		}
	case "FAIL", "CANCELLED":
		if ok && en.Held() != 0 {
			e.t.Errorf("payment %s: paycode %s, but the wallet holds %d", paymentID, status, en.Held())
		}
	default:
		e.t.Errorf("payment %s: not final: %s", paymentID, status)
	}
}

func TestTestCodeTable(t *testing.T) {
	e := newE2E(t)
	rows := []struct {
		last2            int
		payCode, pay     string // first answer
		final, finalCode string
	}{
		{0, "SUCCESS", "S", "SUCCESS", "SUCCESS"},
		{79, "SUCCESS", "S", "SUCCESS", "SUCCESS"},
		{80, "PAYMENT_IN_PROCESS", "U", "SUCCESS", "SUCCESS"},
		{84, "PAYMENT_IN_PROCESS", "U", "SUCCESS", "SUCCESS"},
		{85, "PAYMENT_IN_PROCESS", "U", "FAIL", "USER_PAYMENT_VERIFICATION_FAILED"},
		{87, "USER_BALANCE_NOT_ENOUGH", "F", "FAIL", "USER_BALANCE_NOT_ENOUGH"},
		{90, "PAYMENT_AMOUNT_EXCEED_LIMIT", "F", "FAIL", "PAYMENT_AMOUNT_EXCEED_LIMIT"},
		{92, "PAYMENT_IN_PROCESS", "U", "SUCCESS", "SUCCESS"},
		{94, "PAYMENT_IN_PROCESS", "U", "FAIL", "SYSTEM_ERROR"},
		{96, "INVALID_PAYMENT_CODE", "F", "FAIL", "INVALID_PAYMENT_CODE"},
		{98, "RISK_REJECT", "F", "FAIL", "RISK_REJECT"},
	}
	prefixes := []string{"281001", "281003", "281010", "281011"}
	type sent struct {
		id, reqID string
		row       int
	}
	var all []sent
	for i, r := range rows {
		for j, pfx := range prefixes {
			reqID := fmt.Sprintf("row%d-%s", i, pfx)
			a := e.post("pay", "C1", payBody(reqID, e.testCode(pfx, i*10+j, r.last2), 1000))
			if a.Result.Code != r.payCode || a.Result.Status != r.pay {
				t.Errorf("%02d at %s: pay answered %s/%s, want %s/%s", r.last2, pfx, a.Result.Code, a.Result.Status, r.payCode, r.pay)
			}
			if a.PaymentID == "" {
				t.Fatalf("%02d at %s: no paymentId", r.last2, pfx)
			}
			if r.pay == "U" {
				// Inquiry while processing: answered from paycode's state.
				if q := e.post("inquiryPayment", "C1", fmt.Sprintf(`{"paymentRequestId":%q}`, reqID)); q.PaymentStatus != "PROCESSING" {
					t.Errorf("%02d: inquiry while processing: %s", r.last2, q.PaymentStatus)
				}
			}
			all = append(all, sent{a.PaymentID, reqID, i})
		}
	}
	e.settle()
	for _, s := range all {
		r := rows[s.row]
		a := e.agree("C1", s.id, 1000)
		if a.PaymentStatus != r.final || a.PaymentResult != r.finalCode {
			t.Errorf("%02d (%s): final %s/%s, want %s/%s", r.last2, s.reqID, a.PaymentStatus, a.PaymentResult, r.final, r.finalCode)
		}
	}
}

func TestReplaysAndReuse(t *testing.T) {
	e := newE2E(t)
	code := e.testCode("281001", 1, 10)
	first := e.post("pay", "C1", payBody("r1", code, 500))
	again := e.post("pay", "C1", payBody("r1", code, 500))
	if again.Result.Code != "SUCCESS" || again.PaymentID != first.PaymentID {
		t.Fatalf("replay: %+v", again)
	}
	if a := e.post("pay", "C1", payBody("r1", code, 501)); a.Result.Code != "REPEAT_REQ_INCONSISTENT" || a.Result.Status != "F" {
		t.Fatalf("inconsistent: %+v", a.Result)
	}
	if a := e.post("pay", "C1", payBody("r2", code, 500)); a.Result.Code != "INVALID_PAYMENT_CODE" {
		t.Fatalf("reuse: %+v", a.Result)
	}
	if a := e.post("pay", "C1", payBody("r3", "281999020000000000000001", 500)); a.Result.Code != "INVALID_PAYMENT_CODE" {
		t.Fatalf("unknown prefix: %+v", a.Result)
	}
	en, _ := e.entry(first.PaymentID)
	if en.Charged != 500 {
		t.Fatalf("ledger charged %d", en.Charged)
	}
	if n := e.st.Engine.Stats().Dispatched.Load(); n != 1 {
		t.Fatalf("dispatched %d", n)
	}
}

func TestCancel(t *testing.T) {
	e := newE2E(t)
	// Before success: the user has not confirmed yet.
	p := e.post("pay", "C1", payBody("c1", e.testCode("281003", 1, 81), 700))
	c := e.post("cancel", "C1", `{"paymentRequestId":"c1"}`)
	if c.Result.Code != "SUCCESS" || c.CancelTime == "" || c.PaymentID != p.PaymentID {
		t.Fatalf("cancel before success: %+v", c)
	}
	e.clock.Advance(5 * time.Second) // the password would have completed now
	e.settle()
	if a := e.agree("C1", p.PaymentID, 700); a.PaymentStatus != "CANCELLED" {
		t.Fatalf("status %s", a.PaymentStatus)
	}
	if en, _ := e.entry(p.PaymentID); en.State != mppsim.StateClosed {
		t.Fatalf("ledger %v", en.State)
	}
	// After success: reversed at the wallet.
	s := e.post("pay", "C1", payBody("c2", e.testCode("281010", 2, 1), 900))
	if c := e.post("cancel", "C1", fmt.Sprintf(`{"paymentId":%q}`, s.PaymentID)); c.Result.Code != "SUCCESS" {
		t.Fatalf("cancel after success: %+v", c.Result)
	}
	a := e.agree("C1", s.PaymentID, 900)
	if a.PaymentStatus != "CANCELLED" || len(a.Transactions) != 1 || a.Transactions[0].Type != "CANCEL" {
		t.Fatalf("after cancel: %+v", a)
	}
	if en, _ := e.entry(s.PaymentID); en.State != mppsim.StateReversed {
		t.Fatalf("ledger %v", en.State)
	}
	// Again: idempotent. Unknown paymentId: ORDER_NOT_EXIST (an unknown
	// paymentRequestId is voided: void_test.go).
	if c := e.post("cancel", "C1", `{"paymentRequestId":"c2"}`); c.Result.Code != "SUCCESS" {
		t.Fatalf("repeat cancel: %+v", c.Result)
	}
	if c := e.post("cancel", "C1", `{"paymentId":"nope"}`); c.Result.Code != "ORDER_NOT_EXIST" {
		t.Fatalf("unknown: %+v", c.Result)
	}
	// Another client cannot see or cancel it.
	if c := e.post("cancel", "C2", fmt.Sprintf(`{"paymentId":%q}`, s.PaymentID)); c.Result.Code != "ORDER_NOT_EXIST" {
		t.Fatalf("other client: %+v", c.Result)
	}
}

func TestRefunds(t *testing.T) {
	e := newE2E(t)
	p := e.post("pay", "C1", payBody("f1", e.testCode("281011", 1, 5), 1000))
	refund := func(id string, amount int64) answer {
		return e.post("refund", "C1", fmt.Sprintf(`{"refundRequestId":%q,"paymentId":%q,"refundAmount":{"currency":"HKD","value":"%d"}}`, id, p.PaymentID, amount))
	}
	r1 := refund("rf1", 400)
	if r1.Result.Code != "SUCCESS" || r1.RefundID == "" {
		t.Fatalf("partial: %+v", r1)
	}
	if r := refund("rf1", 400); r.Result.Code != "SUCCESS" || r.RefundID != r1.RefundID {
		t.Fatalf("replay: %+v", r)
	}
	if r := refund("rf1", 300); r.Result.Code != "REPEAT_REQ_INCONSISTENT" {
		t.Fatalf("inconsistent: %+v", r.Result)
	}
	if r := refund("rf2", 601); r.Result.Code != "REFUND_AMOUNT_EXCEED" || r.Result.Status != "F" {
		t.Fatalf("over-refund: %+v", r.Result)
	}
	if r := refund("rf3", 600); r.Result.Code != "SUCCESS" {
		t.Fatalf("the rest: %+v", r.Result)
	}
	q := e.post("inquiryRefund", "C1", `{"refundRequestId":"rf3"}`)
	if q.Result.Code != "SUCCESS" || q.RefundStatus != "SUCCESS" {
		t.Fatalf("inquiryRefund: %+v", q)
	}
	if q := e.post("inquiryRefund", "C1", `{"refundRequestId":"nope"}`); q.Result.Code != "ORDER_NOT_EXIST" {
		t.Fatalf("unknown refund: %+v", q.Result)
	}
	en, _ := e.entry(p.PaymentID)
	if en.Refunded != 1000 || en.Held() != 0 {
		t.Fatalf("ledger refunded %d held %d", en.Refunded, en.Held())
	}
	a := e.post("inquiryPayment", "C1", `{"paymentRequestId":"f1"}`)
	if len(a.Transactions) != 2 {
		t.Fatalf("transactions: %+v", a.Transactions)
	}
}

// TestConcurrentPaysWithDuplicates: 1,000 distinct payments sent from 100
// goroutines, each request sent twice or three times at once. Every
// paymentRequestId must be charged exactly once at its wallet and every
// answer must agree with the ledger.
func TestConcurrentPaysWithDuplicates(t *testing.T) {
	e := newE2E(t)
	const payments, workers = 1000, 100
	prefixes := []string{"281001", "281003", "281010", "281011"}
	type job struct {
		reqID, code string
	}
	jobs := make(chan job)
	var mu sync.Mutex
	ids := map[string]map[string]bool{} // reqID → paymentIds seen
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				a := e.post("pay", "C1", payBody(j.reqID, j.code, 100))
				// U is allowed: on a loaded machine (-race) a wallet answer can
				// miss the test's short pay timeout; the follow-up settles it.
				// So is F PROCESS_FAIL: a pay that found its wallet's
				// connector full past its wait was not sent. Either way the
				// checks below hold paycode's answer to the wallet's ledger.
				if a.Result.Code != "SUCCESS" && a.Result.Code != "PAYMENT_IN_PROCESS" && a.Result.Code != "PROCESS_FAIL" {
					t.Errorf("%s: %s", j.reqID, a.Result.Code)
				}
				mu.Lock()
				if ids[j.reqID] == nil {
					ids[j.reqID] = map[string]bool{}
				}
				ids[j.reqID][a.PaymentID] = true
				mu.Unlock()
			}
		}()
	}
	sent := 0
	for i := 0; i < payments; i++ {
		j := job{fmt.Sprintf("cc-%d", i), e.testCode(prefixes[i%4], i, i%80)}
		for d := 0; d <= i%3; d++ { // 1, 2 or 3 copies
			jobs <- j
			sent++
		}
	}
	close(jobs)
	wg.Wait()
	e.settle()
	if len(ids) != payments {
		t.Fatalf("%d request ids answered", len(ids))
	}
	charged := map[string]int{}
	for _, n := range e.st.Sim.Names() {
		for id, en := range e.st.Sim.Ledger(n).Payments {
			if en.State == mppsim.StateSuccess {
				charged[id]++
			}
		}
	}
	for reqID, pids := range ids {
		if len(pids) != 1 {
			t.Fatalf("%s got %d payment ids", reqID, len(pids))
		}
		for pid := range pids {
			if charged[pid] > 1 {
				t.Errorf("%s charged %d times", reqID, charged[pid])
			}
			e.agree("C1", pid, 100) // SUCCESS exactly when charged
		}
	}
	// Every code is a success code, so all but the few a loaded machine
	// timed out or could not send are charged; none twice (above), and no
	// duplicate request dispatched a second pay.
	if len(charged) < payments*95/100 {
		t.Fatalf("wallets charged %d payments, want at least 95%% of %d", len(charged), payments)
	}
	if n := e.st.Engine.Stats().Dispatched.Load(); n > payments || n < int64(len(charged)) {
		t.Fatalf("dispatched %d, want between %d charged and %d (sent %d requests)", n, len(charged), payments, sent)
	}
}

// TestBadInput: every malformed request gets HTTP 200 with an Antom result
// and nothing is dispatched.
func TestBadInput(t *testing.T) {
	e := newE2E(t)
	valid := payBody("b1", e.testCode("281001", 1, 1), 100)
	tests := []struct {
		name, api, client, body, want string
	}{
		{"malformed json", "pay", "C1", `{"productCode":`, "PARAM_ILLEGAL"},
		{"not an object", "pay", "C1", `[1,2]`, "PARAM_ILLEGAL"},
		{"empty body", "pay", "C1", ``, "PARAM_ILLEGAL"},
		{"missing request id", "pay", "C1", strings.Replace(valid, `"paymentRequestId":"b1",`, "", 1), "PARAM_ILLEGAL"},
		{"amount as fraction", "pay", "C1", strings.Replace(valid, `"paymentAmount":{"currency":"HKD","value":"100"}`, `"paymentAmount":{"currency":"HKD","value":100.0}`, 1), "PARAM_ILLEGAL"},
		{"amount with decimals", "pay", "C1", strings.Replace(valid, `"paymentAmount":{"currency":"HKD","value":"100"}`, `"paymentAmount":{"currency":"HKD","value":"1.00"}`, 1), "PARAM_ILLEGAL"},
		{"amount overflow", "pay", "C1", strings.Replace(valid, `"paymentAmount":{"currency":"HKD","value":"100"}`, `"paymentAmount":{"currency":"HKD","value":"99999999999999999999"}`, 1), "PARAM_ILLEGAL"},
		{"unknown currency", "pay", "C1", strings.Replace(valid, `"paymentAmount":{"currency":"HKD"`, `"paymentAmount":{"currency":"XXX"`, 1), "PARAM_ILLEGAL"},
		{"duplicate key", "pay", "C1", strings.Replace(valid, `"productCode":"IN_STORE_PAYMENT",`, `"productCode":"IN_STORE_PAYMENT","productCode":"IN_STORE_PAYMENT",`, 1), "PARAM_ILLEGAL"},
		{"code with letters", "pay", "C1", strings.Replace(valid, `"paymentMethodId":"`, `"paymentMethodId":"ab`, 1), "INVALID_PAYMENT_CODE"},
		{"no client id", "pay", "", valid, "PARAM_ILLEGAL"},
		{"unknown api", "payy", "C1", valid, "INVALID_API"},
		{"inquiry without ids", "inquiryPayment", "C1", `{}`, "PARAM_ILLEGAL"},
		{"inquiry unknown", "inquiryPayment", "C1", `{"paymentId":"123"}`, "ORDER_NOT_EXIST"},
		{"cancel unknown", "cancel", "C1", `{"paymentId":"zz"}`, "ORDER_NOT_EXIST"},
		{"refund unknown payment", "refund", "C1", `{"refundRequestId":"x","paymentId":"1","refundAmount":{"currency":"HKD","value":"1"}}`, "ORDER_NOT_EXIST"},
		{"refund missing amount", "refund", "C1", `{"refundRequestId":"x","paymentId":"1"}`, "PARAM_ILLEGAL"},
		{"inquiryRefund unknown", "inquiryRefund", "C1", `{"refundId":"1"}`, "ORDER_NOT_EXIST"},
		{"oversized body", "pay", "C1", `{"pad":"` + strings.Repeat("a", 70<<10) + `"}`, "PARAM_ILLEGAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.post(tt.api, tt.client, tt.body)
			if a.Result.Code != tt.want || a.Result.Status != "F" {
				t.Fatalf("got %s/%s (%s), want %s/F", a.Result.Code, a.Result.Status, a.Result.Message, tt.want)
			}
		})
	}
	// A GET is refused too, with a result.
	resp, err := e.http.Get(e.st.URL() + "/ams/api/v1/payments/pay")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	if n := e.st.Engine.Stats().Dispatched.Load(); n != 0 {
		t.Fatalf("bad input dispatched %d payments", n)
	}
}

// TestSandboxPath: the SDKs send SANDBOX_ clients to /ams/sandbox/api.
func TestSandboxPath(t *testing.T) {
	e := newE2E(t)
	req, _ := http.NewRequest("POST", e.st.URL()+"/ams/sandbox/api/v1/payments/pay", strings.NewReader(payBody("s1", e.testCode("281001", 7, 7), 100)))
	req.Header.Set("client-id", "SANDBOX_C1")
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	json.NewDecoder(resp.Body).Decode(&a)
	if a.Result.Code != "SUCCESS" {
		t.Fatalf("%+v", a.Result)
	}
	// Lower-case response headers, as the Python SDK reads them.
	raw := resp.Header
	if _, ok := raw["client-id"]; !ok {
		if _, ok := raw["Client-Id"]; ok {
			// net/http canonicalises what it reads; check the value instead.
			if raw.Get("client-id") != "SANDBOX_C1" {
				t.Fatal("client-id not echoed")
			}
		}
	}
}
