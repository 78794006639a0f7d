package killtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// These test the harness's own parts, quickly (they run under -race).

func TestParseLines(t *testing.T) {
	w, ok := ParseWalletLine(`  - {name: mpp-281003, url: "http://127.0.0.1:40123"}`)
	if !ok || w.Name != "mpp-281003" || w.URL != "http://127.0.0.1:40123" || w.Prefix != "281003" {
		t.Fatalf("wallet line: %+v %v", w, ok)
	}
	for _, l := range []string{"wallets:", "# simulated wallets; paste…", `identification:`, `  serviceURL: "http://127.0.0.1:7000"`} {
		if _, ok := ParseWalletLine(l); ok {
			t.Errorf("%q parsed as a wallet", l)
		}
	}
	u, ok := ParseServingLine(`time=2026-11-26T17:12:00.000Z level=INFO msg="paycode serving" version=dev lane=http://127.0.0.1:39999 engine="wallets=[a] node=00"`)
	if !ok || u != "http://127.0.0.1:39999" {
		t.Fatalf("serving line: %q %v", u, ok)
	}
	if _, ok := ParseServingLine(`level=INFO msg="journal open" lane=http://127.0.0.1:1`); ok {
		t.Error("another message parsed as serving")
	}
	cfg := ServeConfig([]Wallet{{Name: "mpp-281001", URL: "http://127.0.0.1:1"}}, engineTimes)
	for _, want := range []string{`- {name: mpp-281001, url: "http://127.0.0.1:1", timeout: 5s}`, "followUpDeadline: 5s", "pollSchedule: [200ms, 500ms, 1s]", "notifySchedule: [0s, 200ms, 500ms, 1s, 1s, 2s"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
}

func TestLast2AndCodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[mppsim.Outcome]int{}
	for range 10000 {
		seen[mppsim.OutcomeOf(Last2(rng))]++
	}
	if seen[mppsim.OutcomeSuccess] < 5000 {
		t.Errorf("successes are not the bulk: %v", seen)
	}
	for _, o := range []mppsim.Outcome{mppsim.OutcomePassword, mppsim.OutcomeBalance, mppsim.OutcomeLostResponse, mppsim.OutcomeSystemError} {
		if seen[o] < 200 {
			t.Errorf("outcome %s drawn %d times in 10000", o, seen[o])
		}
	}
	d := &Driver{Wallets: []Wallet{{Prefix: "281001"}, {Prefix: "281011"}}, Seed: 12345678}
	codes := map[string]bool{}
	for range 1000 {
		c := d.newCode(rng, 42)
		if len(c) != 24 || codes[c] || !strings.HasSuffix(c, "42") {
			t.Fatalf("code %s: bad or repeated", codec.Mask(c))
		}
		if code, err := codec.ParseCode([]byte(c)); err != nil || !code.Class().Routable() {
			t.Fatalf("code %s: %v", codec.Mask(c), err)
		}
		codes[c] = true
	}
}

// scenario builds evidence for one request and its ledger entry, in a
// state where every promise holds; tests then break one thing.
type scenario struct {
	p      *PayReq
	entry  mppsim.Entry
	view   PaymentView
	refund *RefundReq
	rview  RefundView
	notes  []Delivery
}

func goodScenario() *scenario {
	p := &PayReq{ReqID: "q1", Client: "C", Code: "281001020000000000000105", Amount: 1000, Notify: true,
		PIDs: map[string]bool{"P1": true}, Answered: true, SawSuccess: true}
	return &scenario{
		p:      p,
		entry:  mppsim.Entry{PaymentRequestID: "P1", State: mppsim.StateSuccess, Charged: 1000, Refunded: 300},
		view:   PaymentView{Found: true, Status: "SUCCESS", ReqID: "q1", Client: "C"},
		refund: &RefundReq{ReqID: "rf1", Client: "C", PaymentID: "P1", PayReqID: "q1", Amount: 300, Answered: true, SawSuccess: true},
		rview:  RefundView{Found: true, Status: "SUCCESS", RefundID: "R1"},
		notes:  []Delivery{{Status: "F", RequestID: "q1", ClientID: "C"}, {Status: "S", RequestID: "q1", ClientID: "C", Acked: true}},
	}
}

func (s *scenario) check() Report {
	return Check(&Evidence{
		Pays:        []*PayReq{s.p},
		Refunds:     []*RefundReq{s.refund},
		Ledgers:     []mppsim.Ledger{{Wallet: "w", Payments: map[string]mppsim.Entry{"P1": s.entry}}},
		Payments:    map[string]PaymentView{"P1": s.view},
		RefundViews: map[string]RefundView{"rf1": s.rview},
		Notified:    func(string) []Delivery { return s.notes },
	})
}

func TestCheck(t *testing.T) {
	if rep := goodScenario().check(); len(rep.Violations) != 0 {
		t.Fatalf("a clean scenario has violations:\n%s", rep.String(10))
	}
	tests := []struct {
		name   string
		mutate func(s *scenario)
		kind   string
	}{
		{"charge held, paycode FAIL", func(s *scenario) { s.view.Status = "FAIL"; s.p.SawSuccess = false; s.notes = nil }, KindLost},
		{"lane success now cancelled without a cancel", func(s *scenario) {
			s.view.Status = "CANCELLED"
			s.entry.State = mppsim.StateReversed
		}, KindLost},
		{"paycode forgot the payment", func(s *scenario) { s.view = PaymentView{} }, KindLost},
		{"two paymentIds for one request", func(s *scenario) { s.p.PIDs["P2"] = true }, KindDuplicate},
		{"not final", func(s *scenario) { s.view.Status = "PROCESSING"; s.p.SawSuccess = false }, KindNotFinal},
		{"refund over the charge", func(s *scenario) { s.entry.Refunded = 1300 }, KindRefund},
		{"refund lost", func(s *scenario) { s.rview = RefundView{} }, KindLost},
		{"paycode success, wallet reversed", func(s *scenario) { s.entry.State = mppsim.StateReversed }, KindAgree},
		{"lane saw fail, now success", func(s *scenario) { s.p.SawFail = true }, KindAgree},
		{"cancel answered success, still success", func(s *scenario) { s.p.CancelOK, s.p.CancelSent = true, true }, KindAgree},
		{"reused code dispatched", func(s *scenario) { s.p.ReuseOf = "q0" }, KindSingleUse},
		{"merchant never acked", func(s *scenario) { s.notes = s.notes[:1] }, KindNotify},
		{"merchant's last ack disagrees", func(s *scenario) {
			s.notes = append(s.notes, Delivery{Status: "F", RequestID: "q1", ClientID: "C", Acked: true})
		}, KindNotify},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := goodScenario()
			tt.mutate(s)
			rep := s.check()
			if rep.Count(tt.kind) == 0 {
				t.Fatalf("no %s violation; got:\n%s", tt.kind, rep.String(10))
			}
			if strings.Contains(rep.String(100), s.p.Code) {
				t.Fatal("a report shows a full code")
			}
		})
	}
	// A ledger entry paycode does not know, holding money: lost.
	s := goodScenario()
	rep := Check(&Evidence{
		Pays:     []*PayReq{s.p},
		Ledgers:  []mppsim.Ledger{{Wallet: "w", Payments: map[string]mppsim.Entry{"P1": {State: mppsim.StateSuccess, Charged: 1000}, "PX": {State: mppsim.StateSuccess, Charged: 5}}}},
		Payments: map[string]PaymentView{"P1": s.view, "PX": {}},
	})
	if rep.Count(KindLost) != 1 || !strings.Contains(rep.String(10), "PX") {
		t.Fatalf("unknown charge not reported as lost:\n%s", rep.String(10))
	}
}

func TestModelConcurrent(t *testing.T) {
	m := NewModel()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 0))
			for i := range 200 {
				p := &PayReq{ReqID: fmt.Sprintf("g%d-%d", g, i), Amount: 100}
				m.AddPay(p)
				m.RecordPay(p, &Answer{Status: "S", Code: "SUCCESS", PaymentID: p.ReqID + "-P"})
				if q := m.PickPay(rng, func(p *PayReq) bool { return p.SawSuccess }); q != nil {
					m.MarkCancel(q)
					m.RecordCancel(q, &Answer{Status: "F", Code: "ORDER_NOT_EXIST"})
					m.AddRefund(&RefundReq{ReqID: q.ReqID + "-R", PaymentID: q.PID(), Amount: 1})
				}
				m.RecordPay(p, nil)
			}
		}()
	}
	wg.Wait()
	pays, _ := m.Unanswered()
	if len(pays) != 0 || len(m.Pays()) != 1600 {
		t.Fatalf("%d unanswered of %d", len(pays), len(m.Pays()))
	}
	for _, p := range m.Pays() {
		if p.CancelSent || p.Unknown != 1 || m.ByPID(p.ReqID+"-P") != p {
			t.Fatalf("%s: %+v", p.ReqID, p)
		}
	}
}

func TestMerchant(t *testing.T) {
	m, err := StartMerchant()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	post := func(pid string) (int, error) {
		body := fmt.Sprintf(`{"notifyType":"PAYMENT_RESULT","result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"ok"},"paymentRequestId":"q","paymentId":%q}`, pid)
		req, _ := http.NewRequestWithContext(context.Background(), "POST", m.URL(), strings.NewReader(body))
		req.Header.Set("client-id", "C")
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for _, pid := range []string{"a", "b", "c", "d", "e"} {
		for i := 0; i <= FailFirst(pid); i++ {
			if _, err := post(pid); err != nil {
				t.Fatal(err)
			}
			if i == 0 && pid == "c" {
				// Down and back on the same address between deliveries.
				if err := m.Restart(); err != nil {
					t.Fatal(err)
				}
			}
		}
		ds := m.Deliveries(pid)
		if len(ds) != FailFirst(pid)+1 {
			t.Fatalf("%s: %d deliveries", pid, len(ds))
		}
		for i, d := range ds {
			if d.Acked != (i == len(ds)-1) || d.Status != "S" || d.ClientID != "C" {
				t.Fatalf("%s: delivery %d: %+v", pid, i, d)
			}
		}
		if _, ok := m.LastAcked(pid); !ok {
			t.Fatalf("%s: not acknowledged", pid)
		}
	}
	m.Stop()
	if _, err := post("z"); err == nil {
		t.Fatal("a stopped merchant answered")
	}
}
