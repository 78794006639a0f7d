package httpapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"

	"github.com/paycode/paycode/engine/sign/signtest"
)

// TestRefusalSignsBoundedWhateverTheClients: the refusal budget does not
// grow with the configuration. Whether one or a thousand client ids are
// configured, a flood of ever-new refusals of every one of them and of
// made-up ids gets at most DefaultClientsRefusalSigns +
// DefaultRefusalSigns signatures a second (plus, with more ids than
// that, one each at once); and a flood of the other configured ids never
// spends a merchant's own share.
func TestRefusalSignsBoundedWhateverTheClients(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	for _, n := range []int{1, 3, 10, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			cfg := Security{Clients: map[string]*Client{}}
			ids := make([][]byte, n)
			for i := range ids {
				ids[i] = fmt.Appendf(nil, "M%04d", i)
				cfg.Clients[string(ids[i])] = &Client{Policy: PolicyNone}
			}
			g := newGuard(cfg, &guardState{refusalSigns: rate.NewLimiter(DefaultRefusalSigns, DefaultRefusalSigns)}, nil)
			// flood asks, at now, for 50 new signatures of each of ids
			// and of 500 made-up ids, and returns how many it got.
			flood := func(now time.Time, ids [][]byte) int {
				signed := 0
				for range 50 {
					for _, id := range ids {
						if g.allowRefusalSign(id, now) {
							signed++
						}
					}
				}
				for i := range 500 {
					if g.allowRefusalSign(fmt.Appendf(nil, "FLOOD-%d", i), now) {
						signed++
					}
				}
				return signed
			}
			burst := DefaultClientsRefusalSigns + DefaultRefusalSigns + max(0, n-DefaultClientsRefusalSigns)
			if got := flood(t0, ids); got > burst {
				t.Fatalf("%d configured ids: %d refusals signed at once; want at most %d", n, got, burst)
			}
			// Ten seconds of flood, one round each 100 ms: the rate.
			signed := 0
			for i := 1; i <= 100; i++ {
				signed += flood(t0.Add(time.Duration(i)*100*time.Millisecond), ids)
			}
			if want := 10*(DefaultClientsRefusalSigns+DefaultRefusalSigns) + 1; signed > want {
				t.Fatalf("%d configured ids: %d refusals signed in 10 s of flood; want at most %d", n, signed, want)
			}
			// The first merchant, idle while all the others flood, has its
			// share again within one share's period (1/50 s per configured
			// id).
			later := t0.Add(11 * time.Second)
			flood(later, ids[1:])
			if !g.allowRefusalSign(ids[0], later.Add(time.Duration(n)*time.Second/DefaultClientsRefusalSigns)) {
				t.Fatalf("%d configured ids: a merchant's refusal went unsigned while the other ids flooded", n)
			}
		})
	}
}

// TestShedOfRefusedIDsWithinRefusalBudget: a shed answer costs a
// signature when none is cached; to a client id no lane key lists (which
// would be refused anyway) it is signed within the refusal budget, so a
// flood of made-up ids while paycode sheds buys no more signatures than
// their refusals would: of 200 such sheds at once, the refusal budget's
// are signed and the rest dropped unanswered. A
// configured merchant's shed answer is still signed.
func TestShedOfRefusedIDsWithinRefusalBudget(t *testing.T) {
	g := newGuard(Security{
		Clients:        map[string]*Client{"M": {Policy: PolicyNone}},
		Signer:         signtest.Paycode.Signer("1"),
		ReuseSignedFor: DefaultReuseSignedFor,
	}, &guardState{refusalSigns: rate.NewLimiter(DefaultRefusalSigns, DefaultRefusalSigns), shedSign: make(chan struct{}, 1)}, nil)
	g.answers.init()
	body := []byte(`{"result":{"resultCode":"REQUEST_TRAFFIC_EXCEED_LIMIT"}}`)
	shed := func(clientID string) (signed, dropped bool) {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI("/ams/api/v1/payments/pay")
		ctx.Response.Header.Set(HeaderResponseTime, "2026-12-07T13:00:00Z")
		g.signAnswer(&ctx, body, []byte(clientID), ctx.URI().PathOriginal(), signShed)
		return len(ctx.Response.Header.Peek(HeaderSignature)) > 0, ctx.Hijacked()
	}
	signed, start := 0, time.Now()
	for i := range 200 {
		s, d := shed(fmt.Sprint("FLOOD-", i))
		if s == d {
			t.Fatalf("shed %d: signed %v, dropped %v; want one of them", i, s, d)
		}
		if s {
			signed++
		}
	}
	// The budget refills while the signatures are made (~0.7 ms each).
	if budget := DefaultRefusalSigns + int(time.Since(start).Seconds()*DefaultRefusalSigns) + 1; signed > budget {
		t.Fatalf("%d of 200 sheds of unregistered ids signed; want at most %d", signed, budget)
	}
	if s, _ := shed("M"); !s {
		t.Fatal("a registered merchant's shed answer was not signed")
	}
}
