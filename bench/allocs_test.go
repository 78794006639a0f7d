package bench

import "testing"

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
	h := newHandlerPayer(newAPI(t, instantWallet{}))
	for i := 0; i < 100; i++ {
		h.pay()
	}
	got := testing.AllocsPerRun(1000, h.pay)
	if !h.succeeded() {
		t.Fatalf("pay answered %s", h.ctx.Response.Body())
	}
	if got > payAllocBudget {
		t.Fatalf("a pay allocates %.1f times, budget %d", got, payAllocBudget)
	}
	t.Logf("a pay allocates %.1f times (budget %d)", got, payAllocBudget)
}
