package load_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/loadtest/load"
	"github.com/paycode/paycode/loadtest/mppsim"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func scenario(t testing.TB, yaml string) *load.Scenario {
	t.Helper()
	s, err := load.ParseScenario([]byte("stages: [{duration: 1s, rate: 10}]\n" + yaml))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTargeter(t testing.TB, sc *load.Scenario, clock *fakeClock) *load.Targeter {
	t.Helper()
	if clock == nil {
		clock = &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	}
	tr, err := load.NewTargeter(sc, load.TargeterConfig{BaseURL: "http://127.0.0.1:1", RunID: 4242, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

type payJSON struct {
	PaymentRequestID string `json:"paymentRequestId"`
	PaymentMethod    struct {
		ID string `json:"paymentMethodId"`
	} `json:"paymentMethod"`
	PaymentAmount struct {
		Value string `json:"value"`
	} `json:"paymentAmount"`
}

func decodePay(t testing.TB, tgt *vegeta.Target) payJSON {
	t.Helper()
	var p payJSON
	if err := json.Unmarshal(tgt.Body, &p); err != nil {
		t.Fatalf("body %q: %v", tgt.Body, err)
	}
	return p
}

// TestTargeterFreshCodes: every pay carries a new, valid code and
// paymentRequestId, routed and ending as its record says.
func TestTargeterFreshCodes(t *testing.T) {
	tr := newTargeter(t, scenario(t, ""), nil)
	codes, ids := map[string]bool{}, map[string]bool{}
	for range 20000 {
		var tgt vegeta.Target
		if err := tr.Next(&tgt); err != nil {
			t.Fatal(err)
		}
		k, n, ok := load.ParseURL(tgt.URL)
		if !ok || k != load.KindPay || !strings.HasSuffix(strings.Split(tgt.URL, "?")[0], load.APIPath+"pay") {
			t.Fatalf("URL %s", tgt.URL)
		}
		if tgt.Method != http.MethodPost || tgt.Header["client-id"][0] != load.DefaultClientID {
			t.Fatalf("target %+v", tgt)
		}
		p := decodePay(t, &tgt)
		if codes[p.PaymentMethod.ID] || ids[p.PaymentRequestID] {
			t.Fatalf("hit %d reuses a code or request id", n)
		}
		codes[p.PaymentMethod.ID], ids[p.PaymentRequestID] = true, true
		c, err := codec.ParseCode([]byte(p.PaymentMethod.ID))
		if err != nil || c.Len() != 24 {
			t.Fatalf("code %s: %v", codec.Mask(p.PaymentMethod.ID), err)
		}
		rec := tr.Payment(n)
		if mppsim.OutcomeOfCode(&c) != rec.Class || string(c.Prefix(6)) != tr.Prefixes[rec.Wallet] {
			t.Fatalf("code %s: class %v, record says %v", c, mppsim.OutcomeOfCode(&c), rec.Class)
		}
		if p.PaymentRequestID != tr.RequestID(n) || p.PaymentAmount.Value != fmt.Sprint(rec.Amount) {
			t.Fatalf("body %+v, record %+v", p, rec)
		}
	}
}

// TestTargeterMix: wallets, outcomes and invalid codes follow the
// scenario's weights.
func TestTargeterMix(t *testing.T) {
	sc := scenario(t, `
wallets: {"281001": 3, "281003": 1}
outcomes: {success: 70, password: 20, risk: 10}
invalid: 0.05
`)
	tr := newTargeter(t, sc, nil)
	const n = 40000
	wallets, classes := map[string]int{}, map[mppsim.Outcome]int{}
	invalid := 0
	for range n {
		var tgt vegeta.Target
		tr.Next(&tgt)
		k, i, _ := load.ParseURL(tgt.URL)
		rec := tr.Payment(i)
		if k == load.KindInvalid {
			invalid++
			continue
		}
		wallets[tr.Prefixes[rec.Wallet]]++
		classes[rec.Class]++
	}
	near := func(name string, got int, total int, want float64) {
		t.Helper()
		if f := float64(got) / float64(total); math.Abs(f-want) > 0.015 {
			t.Errorf("%s: %.4f, want %.2f", name, f, want)
		}
	}
	valid := n - invalid
	near("invalid", invalid, n, 0.05)
	near("281001", wallets["281001"], valid, 0.75)
	near("281003", wallets["281003"], valid, 0.25)
	near("success", classes[mppsim.OutcomeSuccess], valid, 0.70)
	near("password", classes[mppsim.OutcomePassword], valid, 0.20)
	near("risk", classes[mppsim.OutcomeRisk], valid, 0.10)
	if len(classes) != 3 {
		t.Errorf("classes %v", classes)
	}
}

// TestTargeterDeterministic: the same seed mints the same requests.
func TestTargeterDeterministic(t *testing.T) {
	yaml := "invalid: 0.1\nfollowUp: {replay: 0.1, cancel: 0.1}\n"
	run := func(seed uint64) []string {
		sc := scenario(t, yaml)
		sc.Seed = seed
		tr := newTargeter(t, sc, nil)
		var out []string
		for range 3000 {
			var tgt vegeta.Target
			tr.Next(&tgt)
			out = append(out, tgt.URL+" "+string(tgt.Body))
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("hit %d differs with the same seed", i)
		}
	}
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same > len(a)/10 {
		t.Fatalf("another seed gives %d identical hits of %d", same, len(a))
	}
}

func result(tgt *vegeta.Target, body string) *vegeta.Result {
	return &vegeta.Result{URL: tgt.URL, Code: 200, Body: []byte(body), Latency: time.Millisecond,
		Headers: http.Header{"Paycode-Engine-Us": {"120"}}}
}

// TestTargeterFollowUps: polls after a U, refund after a SUCCESS, a
// replay of the same request, each when due on the targeter's clock.
func TestTargeterFollowUps(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	sc := scenario(t, "outcomes: {password: 1}\nfollowUp: {poll: 1, polls: 2, pollEvery: 3s, refund: 1}\n")
	tr := newTargeter(t, sc, clock)
	var first vegeta.Target
	tr.Next(&first)
	o := tr.Observe(result(&first, `{"result":{"resultCode":"PAYMENT_IN_PROCESS","resultStatus":"U"},"paymentId":"P0"}`))
	if !o.OK || o.Kind != load.KindPay || o.Result != "PAYMENT_IN_PROCESS" || o.EngineUS != 120 {
		t.Fatalf("observation %+v", o)
	}
	next := func() (load.Kind, uint64) {
		var tgt vegeta.Target
		tr.Next(&tgt)
		k, n, _ := load.ParseURL(tgt.URL)
		return k, n
	}
	if k, _ := next(); k != load.KindPay {
		t.Fatalf("nothing due yet, got %v", k)
	}
	clock.Advance(3 * time.Second)
	if k, n := next(); k != load.KindInquiry || n != 0 {
		t.Fatalf("poll due: got %v %d", k, n)
	}
	if k, _ := next(); k != load.KindPay {
		t.Fatalf("second poll not due yet, got %v", k)
	}
	clock.Advance(3 * time.Second)
	if k, n := next(); k != load.KindInquiry || n != 0 {
		t.Fatalf("second poll: %v %d", k, n)
	}
	if tr.Pending() != 0 {
		t.Fatalf("pending %d: a U answer must not be refunded", tr.Pending())
	}
	// A SUCCESS answer: refund after RefundAfter, naming the paymentId.
	sc2 := scenario(t, "outcomes: {success: 1}\nfollowUp: {refund: 1}\n")
	tr = newTargeter(t, sc2, clock)
	tr.Next(&first)
	tr.Observe(result(&first, `{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentId":"PAY-1"}`))
	clock.Advance(load.DefaultRefundAfter)
	var tgt vegeta.Target
	tr.Next(&tgt)
	if k, _, _ := load.ParseURL(tgt.URL); k != load.KindRefund || !strings.Contains(string(tgt.Body), `"paymentId":"PAY-1"`) {
		t.Fatalf("refund: %s %s", tgt.URL, tgt.Body)
	}
	// Replays are sent ReplayAfter after the first, with the same body.
	sc3 := scenario(t, "followUp: {replay: 1}\n")
	tr = newTargeter(t, sc3, clock)
	tr.Next(&first)
	clock.Advance(load.DefaultReplayAfter)
	tr.Next(&tgt)
	if k, n, _ := load.ParseURL(tgt.URL); k != load.KindReplay || n != 0 || string(tgt.Body) != string(first.Body) {
		t.Fatalf("replay: %s", tgt.URL)
	}
	// An unexpected answer is not OK, a transport error neither.
	if o := tr.Observe(result(&tgt, `{"result":{"resultCode":"REPEAT_REQ_INCONSISTENT","resultStatus":"F"}}`)); o.OK {
		t.Fatal("REPEAT_REQ_INCONSISTENT counted as expected for a replay")
	}
	if o := tr.Observe(&vegeta.Result{URL: tgt.URL, Error: "connection refused"}); o.OK || !o.Err {
		t.Fatalf("error result: %+v", o)
	}
}

// TestTargeterConcurrent: vegeta's workers call Next and Observe at once
// (run with -race).
func TestTargeterConcurrent(t *testing.T) {
	tr := newTargeter(t, scenario(t, "invalid: 0.2\nfollowUp: {replay: 0.2, cancel: 0.1, poll: 1}\n"), nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[string]int{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				var tgt vegeta.Target
				tr.Next(&tgt)
				k, _, _ := load.ParseURL(tgt.URL)
				if k == load.KindPay {
					mu.Lock()
					ids[decodePay(t, &tgt).PaymentRequestID]++
					mu.Unlock()
				}
				tr.Observe(result(&tgt, `{"result":{"resultCode":"PAYMENT_IN_PROCESS","resultStatus":"U"},"paymentId":"X"}`))
			}
		}()
	}
	wg.Wait()
	for id, c := range ids {
		if c != 1 {
			t.Fatalf("%s sent %d times as a fresh pay", id, c)
		}
	}
	if tr.Minted() != 8000 {
		t.Fatalf("minted %d", tr.Minted())
	}
}

func TestTargeterAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	tr := newTargeter(t, scenario(t, ""), nil)
	var tgt vegeta.Target
	allocs := testing.AllocsPerRun(2000, func() { tr.Next(&tgt) })
	// The URL buffer, the URL string and the body: vegeta keeps both.
	if allocs > 3.1 {
		t.Fatalf("Next allocates %.1f times per hit, want ≤ 3", allocs)
	}
}

func BenchmarkTargeterNext(b *testing.B) {
	tr := newTargeter(b, scenario(b, "followUp: {replay: 0.01}\n"), nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var tgt vegeta.Target
		for pb.Next() {
			tr.Next(&tgt)
		}
	})
}

func BenchmarkTargeterImage(b *testing.B) {
	tr := newTargeter(b, scenario(b, "image: 1\n"), nil)
	b.ReportAllocs()
	var tgt vegeta.Target
	for b.Loop() {
		tr.Next(&tgt)
	}
}
