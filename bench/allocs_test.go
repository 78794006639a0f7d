package bench

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// payAllocBudget is the allocation budget of one pay through the lane
// handler with an instant wallet: the payment record, its index key and
// its paymentId. Everything else (parse, identification hit, write) is
// pooled or on the stack.
const payAllocBudget = 3

// TestPayHandlerAllocs guards payAllocBudget (skipped under -race, which
// allocates on its own).
func TestPayHandlerAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	api := newAPI(t, instantWallet{})
	g := newBodyGen()
	var ctx fasthttp.RequestCtx
	var n uint64
	pay := func() {
		n++
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI("/ams/api/v1/payments/pay")
		ctx.Request.Header.Set("client-id", "BENCH_CLIENT")
		ctx.Request.SetBody(g.next(n))
		api.Handle(&ctx)
	}
	for i := 0; i < 100; i++ {
		pay()
	}
	got := testing.AllocsPerRun(1000, pay)
	if body := ctx.Response.Body(); len(body) < 40 || string(body[:40]) != `{"result":{"resultCode":"SUCCESS","resul` {
		t.Fatalf("pay answered %s", body)
	}
	if got > payAllocBudget {
		t.Fatalf("a pay allocates %.1f times, budget %d", got, payAllocBudget)
	}
	t.Logf("a pay allocates %.1f times (budget %d)", got, payAllocBudget)
}
