package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/journal/postgres"
	"github.com/paycode/paycode/engine/journal/postgres/pgtest"
)

// A hostile or confused lane races its own requests for one
// paymentRequestId. TestLaneRaces runs each race many times over the
// journals production runs — Pebble (one node), and two nodes of a
// shared journal, in memory (journal.MemDB, PostgreSQL's semantics) and,
// with PAYCODE_TEST_POSTGRES set, on PostgreSQL (the lane's two requests
// reach different nodes) — and checks what must hold whatever
// the interleaving: one dispatch per request id, no refund beyond the
// amount, a cancelled payment never charged, answers that agree.

// raceNodes returns the engines a lane's two racing requests go to.
type raceNodes func(t *testing.T) (a, b *rig, c *cluster)

func pebbleNodes(t *testing.T) (a, b *rig, c *cluster) {
	c = newCluster()
	j, err := journal.Open(t.TempDir(), journal.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	e, err := engine.New(engine.Config{
		Wallets:    map[string]engine.Wallet{"w1": c.w},
		Identifier: enginetest.StaticIdentifier{"281001": "w1"},
		Clock:      c.clock, Journal: j, CodeKey: j.CodeKey(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{e: e, w: c.w, clock: c.clock}
	return r, r, c
}

func sharedNodes(t *testing.T) (a, b *rig, c *cluster) {
	c = newCluster()
	return c.node(t, 1, nil), c.node(t, 2, nil), c
}

// postgresNodes is two nodes on PostgreSQL, in the test's own schema.
func postgresNodes(t *testing.T) (a, b *rig, c *cluster) {
	c = newCluster()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	node := func(n int) *rig {
		st := pgtest.Open(t, postgres.Options{Node: fmt.Sprint(n), LeaseTTL: time.Minute, Logger: quiet})
		return c.node(t, n, func(cfg *engine.Config) {
			cfg.Journal, cfg.CodeKey, cfg.Logger = st, st.CodeKey(), quiet
			// A cancel handed to the other node waits this long for it
			// (it acts on its next lease tick, after the race): U sooner.
			cfg.PayTimeout = 200 * time.Millisecond
		})
	}
	return node(1), node(2), c
}

// race runs f and g at once, released together.
func race(f, g func()) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, fn := range []func(){f, g} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn()
		}()
	}
	close(start)
	wg.Wait()
}

// charged is what the wallet holds of a payment: charged minus refunded.
func (w *fakeWallet) held(id string) int64 {
	p := w.pay(id)
	return p.charged - p.refunded
}

func TestLaneRaces(t *testing.T) {
	const rounds = 40
	bg := context.Background()
	for _, nodes := range []struct {
		name string
		make raceNodes
	}{{"pebble", pebbleNodes}, {"shared", sharedNodes}, {"postgres", postgresNodes}} {
		t.Run(nodes.name+"/pay-pay-different-bodies", func(t *testing.T) {
			a, b, c := nodes.make(t)
			for i := range rounds {
				id := fmt.Sprint("pp", i)
				var va, vb codec.PaymentView
				race(func() { a.e.Pay(bg, client, payReq(id, code(1000+i, 1), 100), &va) },
					func() { b.e.Pay(bg, client, payReq(id, code(2000+i, 1), 200), &vb) })
				won, lost := va, vb
				if vb.PaymentID != "" && vb.ResultCode == codec.Success {
					won, lost = vb, va
				}
				if won.ResultCode != codec.Success || won.PaymentID == "" {
					t.Fatalf("%s: neither pay won: %v %q / %v %q", id, va.ResultCode, va.PaymentID, vb.ResultCode, vb.PaymentID)
				}
				if lost.ResultCode != codec.RepeatReqInconsistent || lost.PaymentID != "" {
					t.Fatalf("%s: the other body answered %v %q, want REPEAT_REQ_INCONSISTENT without an id", id, lost.ResultCode, lost.PaymentID)
				}
				// The loser's code was not consumed: it pays under a new id.
				loser := code(2000+i, 1)
				if won.Amount.Value == 200 {
					loser = code(1000+i, 1)
				}
				if v := a.pay(payReq(id+"-again", loser, 300)); v.Status != codec.StatusSuccess {
					t.Fatalf("%s: the losing body's code under a new id: %v (consumed by a refused pay)", id, v.ResultCode)
				}
			}
			if n := c.w.count("pay"); n != 2*rounds {
				t.Fatalf("wallet pays %d, want %d (one per request id)", n, 2*rounds)
			}
		})
		t.Run(nodes.name+"/pay-cancel", func(t *testing.T) {
			a, b, c := nodes.make(t)
			for i := range rounds {
				id := fmt.Sprint("pc", i)
				var v codec.PaymentView
				var res engine.CancelResult
				race(func() { a.e.Pay(bg, client, payReq(id, code(3000+i, 1), 100), &v) },
					func() { res = b.e.Cancel(bg, client, cancelReq(id)) })
				for k := 0; res.Result != codec.Success; k++ {
					if k == 5 || res.Result.Status() != codec.StatusU {
						t.Fatalf("%s: cancel: %v %s", id, res.Result, res.Message)
					}
					c.settle(t, a, b)
					res = b.e.Cancel(bg, client, cancelReq(id)) // the lane repeats a U
				}
				c.settle(t, a, b)
				var iv codec.PaymentView
				if rc := b.e.Inquire(bg, client, cancelReq(id), &iv); rc != codec.Success || iv.Status != codec.StatusCancelled {
					t.Fatalf("%s: after pay ∥ cancel: %v %v, want CANCELLED (pay answered %v)", id, rc, iv.Status, v.ResultCode)
				}
				if v.PaymentID != "" && c.w.held(v.PaymentID) != 0 {
					t.Fatalf("%s: a cancelled payment holds %d at the wallet", id, c.w.held(v.PaymentID))
				}
				if v.PaymentID == "" && v.ResultCode != codec.OrderIsCanceled {
					t.Fatalf("%s: a pay without an id answered %v, want ORDER_IS_CANCELED", id, v.ResultCode)
				}
			}
		})
		t.Run(nodes.name+"/refund-refund-beyond", func(t *testing.T) {
			a, b, c := nodes.make(t)
			for i := range rounds {
				p := a.pay(payReq(fmt.Sprint("rr", i), code(4000+i, 1), 100))
				var ra, rb codec.RefundView
				refund := func(n *rig, rid string, out *codec.RefundView) {
					n.e.Refund(bg, client, &codec.RefundRequest{RefundRequestID: []byte(rid), PaymentID: []byte(p.PaymentID), Amount: codec.Amount{Value: 60, Currency: hkd}}, out)
				}
				race(func() { refund(a, fmt.Sprint("rr", i, "a"), &ra) }, func() { refund(b, fmt.Sprint("rr", i, "b"), &rb) })
				ok := 0
				for _, r := range []codec.RefundView{ra, rb} {
					switch {
					case r.ResultCode == codec.Success:
						ok++
					case r.ResultCode == codec.RefundAmountExceed, r.ResultCode.Status() == codec.StatusU:
					default:
						t.Fatalf("rr%d: refund answered %v %s", i, r.ResultCode, r.ResultMessage)
					}
				}
				c.settle(t, a, b)
				if ok > 1 {
					t.Fatalf("rr%d: both refunds of 60 on 100 succeeded", i)
				}
				if h := c.w.held(p.PaymentID); h < 40 {
					t.Fatalf("rr%d: the wallet refunded %d of 100", i, 100-h)
				}
			}
		})
		t.Run(nodes.name+"/cancel-inquiry", func(t *testing.T) {
			a, b, c := nodes.make(t)
			for i := range rounds {
				id := fmt.Sprint("ci", i)
				p := a.pay(payReq(id, code(5000+i, 80), 100)) // in process: the customer types a password
				if p.ResultCode != codec.PaymentInProcess {
					t.Fatalf("%s: pay %v", id, p.ResultCode)
				}
				var res engine.CancelResult
				var iv codec.PaymentView
				var rc codec.ResultCode
				race(func() { res = a.e.Cancel(bg, client, cancelReq(id)) },
					func() { rc = b.e.Inquire(bg, client, cancelReq(id), &iv) })
				if rc != codec.Success || (iv.Status != codec.StatusProcessing && iv.Status != codec.StatusCancelled) || iv.PaymentID != p.PaymentID {
					t.Fatalf("%s: inquiry during the cancel: %v %v %q", id, rc, iv.Status, iv.PaymentID)
				}
				c.settle(t, a, b)
				if res.Result.Status() == codec.StatusU {
					res = a.e.Cancel(bg, client, cancelReq(id))
				}
				if res.Result != codec.Success {
					t.Fatalf("%s: cancel %v %s", id, res.Result, res.Message)
				}
				if rc := b.e.Inquire(bg, client, cancelReq(id), &iv); rc != codec.Success || iv.Status != codec.StatusCancelled {
					t.Fatalf("%s: inquiry after the cancel: %v %v", id, rc, iv.Status)
				}
				c.w.approve(p.PaymentID) // the customer confirms too late: nothing is charged
				c.settle(t, a, b)
				if h := c.w.held(p.PaymentID); h != 0 {
					t.Fatalf("%s: a cancelled payment holds %d", id, h)
				}
			}
		})
	}
}
