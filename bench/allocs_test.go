package bench

import (
	"testing"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

// The allocation budgets of one pay through the lane handler with an
// instant wallet, metrics on, on the path production runs: the payment
// record, its index key, its paymentId and its masked code as a string
// (the journal record's), plus the journal's own.
//
//   - Pebble (serve's default): nothing more; its batches and encoding
//     buffers are pooled.
//   - Mem (serve -memory): the encoded intent and outcome, the stored
//     record and its request key.
//
// Everything else (parse, identification hit, write) is pooled or on the
// stack.
const (
	payAllocBudgetPebble = 4
	payAllocBudgetMem    = 8
)

// TestPayHandlerAllocs guards the budgets (skipped under -race, which
// allocates on its own).
func TestPayHandlerAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	for _, tc := range []struct {
		name   string
		budget int
		open   func(t *testing.T) engine.SharedJournal
	}{
		{"Pebble", payAllocBudgetPebble, func(t *testing.T) engine.SharedJournal {
			j, err := journal.Open(t.TempDir(), journal.Options{Logger: quietLog})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { j.Close() })
			return j
		}},
		{"Mem", payAllocBudgetMem, func(*testing.T) engine.SharedJournal { return journal.NewMem() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := tc.open(t)
			key := j.(interface{ CodeKey() []byte }).CodeKey()
			h := newHandlerPayer(newEngineAPI(t, engine.Config{Wallets: map[string]engine.Wallet{"mpp-281001": instantWallet{}},
				Logger: quietLog, Journal: j, CodeKey: key}, true))
			for i := 0; i < 1000; i++ {
				h.pay()
			}
			// The least of three rounds: Pebble's background work (a
			// memtable's rotation, say) allocates on its own schedule and
			// now and then lifts one round's average; the pay's own
			// allocations are in every round.
			got := testing.AllocsPerRun(500, h.pay)
			for range 2 {
				got = min(got, testing.AllocsPerRun(500, h.pay))
			}
			if !h.succeeded() {
				t.Fatalf("pay answered %s", h.ctx.Response.Body())
			}
			if got > float64(tc.budget) {
				t.Fatalf("a pay allocates %.1f times, budget %d", got, tc.budget)
			}
			t.Logf("a pay allocates %.1f times (budget %d)", got, tc.budget)
		})
	}
}
