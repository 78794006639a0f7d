package engine_test

import (
	"context"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// flakyPair is two nodes on one shared journal, each behind its own
// flaky connection, so a database outage can be ended for one node
// before the other.
func flakyPair(t *testing.T) (c *cluster, a, b *rig, fa, fb *flakyJournal) {
	t.Helper()
	c = newCluster()
	wrap := func(f **flakyJournal) func(*engine.Config) {
		return func(cfg *engine.Config) {
			*f = &flakyJournal{SharedJournal: cfg.Journal.(engine.SharedJournal)}
			cfg.Journal = *f
		}
	}
	a, b = c.node(t, 1, wrap(&fa)), c.node(t, 2, wrap(&fb))
	return c, a, b, fa, fb
}

// TestOutageCancelAnswersHold: a payment in process on node A, a lane's
// cancel of it around a database outage, lanes asking A about it while
// the database is down, and the database back for both nodes, A's
// settling write or B's takeover of A's expired lease landing first.
// Every final answer a lane saw (an inquiry's status, a replayed pay's)
// must be the payment's final status: a node may answer from memory only
// what any node settling from the journal reaches too. A lane's cancel
// the journal did not take (answered U) is not carried out at the wallet
// until the journal holds it: if B, which never heard of it, took the
// payment over while A had already closed it at the wallet, B's inquiry
// would read the wallet's ORDER_IS_CLOSED as FAIL while A had told lanes
// CANCELLED (TestTwoNodesDatabaseRestart, seed 602690271).
func TestOutageCancelAnswersHold(t *testing.T) {
	tests := []struct {
		name string
		// durable: the cancel reached the journal before the outage
		// (its wallet call's answer lost), so only its outcome's write
		// falls in the outage; otherwise the cancel itself came during it.
		durable    bool
		ownerFirst bool // A's tick runs before B's once the database is back
		want       codec.PaymentStatus
	}{
		{"cancel during the outage, takeover first", false, false, codec.StatusFail},
		{"cancel during the outage, owner first", false, true, codec.StatusCancelled},
		{"cancel before the outage, takeover first", true, false, codec.StatusCancelled},
		{"cancel before the outage, owner first", true, true, codec.StatusCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c, a, b, fa, fb := flakyPair(t)
			req := payReq("p1", code(1, 80), 500) // the user never confirms
			v := a.pay(req)
			if v.ResultCode != codec.PaymentInProcess {
				t.Fatalf("pay: %v, want PAYMENT_IN_PROCESS", v.ResultCode)
			}
			id := v.PaymentID
			cancel := func() engine.CancelResult {
				return a.e.Cancel(ctx, client, &codec.IDRequest{PaymentRequestID: []byte("p1")})
			}
			if tt.durable {
				c.w.errCalls["cancel"] = 1
				if res := cancel(); res.Result != codec.UnknownException {
					t.Fatalf("cancel whose wallet answer was lost: %v, want U", res.Result)
				}
			}
			fa.set(true, false, false)
			fb.set(true, false, false)
			if !tt.durable {
				if res := cancel(); res.Result != codec.UnknownException {
					t.Fatalf("cancel with the journal down: %v, want U", res.Result)
				}
			}
			// A's follow-up runs during the outage, and lanes ask A.
			var seen []codec.PaymentView
			ask := func() {
				if rc, iv := a.inquire(id); rc == codec.Success {
					seen = append(seen, iv)
				}
				seen = append(seen, a.pay(req))
			}
			ask()
			if d, ok := a.e.NextFollowUp(); ok {
				c.clock.Advance(d.Sub(c.clock.Now()))
			}
			a.e.ProcessDue(ctx)
			ask()
			// A's lease runs out while the database is away.
			c.clock.Advance(leaseTTL + 1)
			fa.set(false, false, false)
			fb.set(false, false, false)
			first, second := b, a
			if tt.ownerFirst {
				first, second = a, b
			}
			first.e.LeaseTick(ctx)
			second.e.LeaseTick(ctx)
			c.settle(t, a, b)
			ask()

			_, final := b.inquire(id)
			if final.Status != tt.want {
				t.Errorf("final status %v (%v), want %v", final.Status, final.ResultCode, tt.want)
			}
			for _, s := range seen {
				answered := s.PaymentID != "" && s.Status >= codec.StatusSuccess // a final answer naming the payment
				if answered && s.Status != final.Status {
					t.Errorf("a lane was answered %v (%v) for %s, the payment ended %v (%v)", s.Status, s.ResultCode, id, final.Status, final.ResultCode)
				}
			}
			if p := c.w.pay(id); p.charged != 0 {
				t.Errorf("wallet charged %d", p.charged)
			}
			// The lane's cancel, repeated, now has its definitive answer.
			if res := b.e.Cancel(ctx, client, &codec.IDRequest{PaymentRequestID: []byte("p1")}); res.Result != codec.Success {
				t.Errorf("cancel repeated after the outage: %v %s, want SUCCESS", res.Result, res.Message)
			}
		})
	}
}
