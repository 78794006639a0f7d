package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

// flakyJournal is a shared journal whose database can be taken away:
// while down every call fails with ErrJournalUnavailable, and the next
// claim or write can be made to commit (or not) and lose its answer.
type flakyJournal struct {
	engine.SharedJournal
	mu   sync.Mutex
	down bool
	// lose: the next ClaimPayment or Append's answer is lost
	// (ErrOutcomeUnknown); commit says whether it committed first.
	lose, commit bool
}

var errDown = fmt.Errorf("flaky: %w", engine.ErrJournalUnavailable)

func (f *flakyJournal) set(down, lose, commit bool) {
	f.mu.Lock()
	f.down, f.lose, f.commit = down, lose, commit
	f.mu.Unlock()
}

// fault reports the error to return instead of (or, with commit, after)
// calling the database.
func (f *flakyJournal) fault(write bool) (err error, commit bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.down:
		return errDown, false
	case write && f.lose:
		f.lose = false
		return fmt.Errorf("flaky: %w: %w", engine.ErrJournalUnavailable, engine.ErrOutcomeUnknown), f.commit
	}
	return nil, false
}

func (f *flakyJournal) Ping(context.Context) error {
	err, _ := f.fault(false)
	return err
}

func (f *flakyJournal) ClaimPayment(ctx context.Context, rec *engine.PaymentRecord) (*engine.PaymentRecord, error) {
	err, commit := f.fault(true)
	if err == nil || commit {
		existing, cerr := f.SharedJournal.ClaimPayment(ctx, rec)
		if err == nil {
			return existing, cerr
		}
	}
	return nil, err
}

func (f *flakyJournal) Append(ctx context.Context, b *engine.Batch, sync bool) error {
	err, commit := f.fault(true)
	if err == nil || commit {
		aerr := f.SharedJournal.Append(ctx, b, sync)
		if err == nil {
			return aerr
		}
	}
	return err
}

func (f *flakyJournal) Renew(ctx context.Context) ([]string, error) {
	if err, _ := f.fault(false); err != nil {
		return nil, err
	}
	return f.SharedJournal.Renew(ctx)
}

func (f *flakyJournal) TakeOver(ctx context.Context, limit int) ([]*engine.Leased, error) {
	if err, _ := f.fault(false); err != nil {
		return nil, err
	}
	return f.SharedJournal.TakeOver(ctx, limit)
}

func (f *flakyJournal) GetPayment(ctx context.Context, clientID, requestID, paymentID string) (*engine.PaymentRecord, []*engine.RefundRecord, error) {
	if err, _ := f.fault(false); err != nil {
		return nil, nil, err
	}
	return f.SharedJournal.GetPayment(ctx, clientID, requestID, paymentID)
}

// flakyNode is one node on a flaky shared journal.
func flakyNode(t *testing.T) (*cluster, *rig, *flakyJournal) {
	t.Helper()
	c := newCluster()
	var f *flakyJournal
	n := c.node(t, 1, func(cfg *engine.Config) {
		f = &flakyJournal{SharedJournal: cfg.Journal.(engine.SharedJournal)}
		cfg.Journal = f
	})
	return c, n, f
}

func TestJournalUnavailableRefusesPays(t *testing.T) {
	c, n, f := flakyNode(t)
	if v := n.pay(payReq("p1", code(1, 0), 500)); v.Status != codec.StatusSuccess {
		t.Fatalf("pay before the outage: %v", v.ResultCode)
	}
	f.set(true, false, false)
	for i, id := range []string{"p2", "p3"} {
		v := n.pay(payReq(id, code(2+i, 0), 500))
		if v.ResultCode != codec.RequestTrafficExceedLimit || v.Status != codec.StatusNone {
			t.Fatalf("pay %s with the journal down: %v %v, want REQUEST_TRAFFIC_EXCEED_LIMIT, nothing recorded", id, v.ResultCode, v.Status)
		}
	}
	if h := n.e.JournalHealth(); h.OK || h.Failed || h.Outages != 1 {
		t.Fatalf("health with the journal down: %+v", h)
	}
	if n.e.Failed() {
		t.Fatal("the engine failed stop on an unavailable journal")
	}
	n.e.LeaseTick(context.Background()) // the ping fails: still down
	if n.e.JournalHealth().OK {
		t.Fatal("healthy while the journal is down")
	}
	f.set(false, false, false)
	n.e.LeaseTick(context.Background())
	if h := n.e.JournalHealth(); !h.OK {
		t.Fatalf("not healthy after the journal came back: %+v", h)
	}
	if v := n.pay(payReq("p2", code(2, 0), 500)); v.Status != codec.StatusSuccess {
		t.Fatalf("the refused request retried after the outage: %v", v.ResultCode)
	}
	if got := c.w.count("pay"); got != 2 {
		t.Fatalf("wallet pays %d, want 2", got)
	}
}

// TestJournalOutcomeKeptInMemory: the intent is stored, the wallet
// charges, the outcome's write fails: the lane hears U, and the outcome
// is written once the journal is back, without a second dispatch.
func TestJournalOutcomeKeptInMemory(t *testing.T) {
	c, n, f := flakyNode(t)
	// The claim goes through; the journal goes away while the wallet
	// works.
	w := c.w
	w.payHook = func(string) { f.set(true, false, false) }
	v := n.pay(payReq("p1", code(1, 0), 500))
	w.payHook = nil
	if v.ResultCode != codec.UnknownException {
		t.Fatalf("pay whose outcome could not be written: %v, want UNKNOWN_EXCEPTION", v.ResultCode)
	}
	// Answered from memory meanwhile.
	if rc, iv := n.inquire(v.PaymentID); rc != codec.Success || iv.Status != codec.StatusSuccess {
		t.Fatalf("inquiry from memory during the outage: %v %v", rc, iv.Status)
	}
	f.set(false, false, false)
	n.e.LeaseTick(context.Background())
	rec, _, err := c.db.Node("x", leaseTTL).GetPayment(context.Background(), "", "", v.PaymentID)
	if err != nil || rec == nil || rec.Status != codec.StatusSuccess {
		t.Fatalf("stored after the outage: %+v, %v; want SUCCESS", rec, err)
	}
	if got := w.count("pay"); got != 1 {
		t.Fatalf("wallet pays %d, want 1", got)
	}
}

// TestJournalClaimUnknown: a claim whose answer is lost is held, never
// dispatched, and settled when the journal is back: claimed again, and
// closed FAIL without a wallet call.
func TestJournalClaimUnknown(t *testing.T) {
	for _, committed := range []bool{true, false} {
		t.Run(fmt.Sprint("committed=", committed), func(t *testing.T) {
			c, n, f := flakyNode(t)
			f.set(false, true, committed)
			v := n.pay(payReq("p1", code(1, 0), 500))
			if v.ResultCode != codec.UnknownException {
				t.Fatalf("pay whose claim's answer was lost: %v, want UNKNOWN_EXCEPTION", v.ResultCode)
			}
			if v := n.pay(payReq("p1", code(1, 0), 500)); v.ResultCode.Status() != codec.StatusU {
				t.Fatalf("its repeat before the journal answers: %v, want U", v.ResultCode)
			}
			n.e.LeaseTick(context.Background())
			if !n.e.JournalHealth().OK {
				t.Fatal("not healthy after the settling tick")
			}
			// Stored then or by the settling claim, never sent: closed
			// without a charge, and a repeat reads that.
			v = n.pay(payReq("p1", code(1, 0), 500))
			if v.Status != codec.StatusFail || v.ResultCode != codec.ProcessFail {
				t.Fatalf("repeat after the journal answered: %v %v, want FAIL PROCESS_FAIL", v.Status, v.ResultCode)
			}
			if rec, _, _ := c.db.Node("x", leaseTTL).GetPayment(context.Background(), "", "", v.PaymentID); rec == nil || rec.Status != codec.StatusFail || rec.Held {
				t.Fatalf("stored: %+v, want FAIL and released", rec)
			}
			if pays := c.w.count("pay"); pays != 0 {
				t.Fatalf("wallet pays %d, want 0", pays)
			}
		})
	}
}

// TestJournalClaimUnknownShowsNoID: while a claim's outcome is unknown
// its payment id is not the lane's to see: the claim may yet lose to a
// payment of the same request stored before (by another node, or by this
// one and since forgotten), whose id is the real one. Repeats,
// inquiries and cancels answer U without an id (a cancel does nothing:
// the payment was never sent) until the journal answers; then the id is
// the settled payment's, and a cancel answers S.
func TestJournalClaimUnknownShowsNoID(t *testing.T) {
	_, n, f := flakyNode(t)
	f.set(false, true, false)
	if v := n.pay(payReq("p1", code(1, 0), 500)); v.ResultCode != codec.UnknownException || v.PaymentID != "" {
		t.Fatalf("pay whose claim's answer was lost: %v %q, want UNKNOWN_EXCEPTION without an id", v.ResultCode, v.PaymentID)
	}
	f.set(true, false, false)
	if v := n.pay(payReq("p1", code(1, 0), 500)); v.ResultCode.Status() != codec.StatusU || v.PaymentID != "" {
		t.Fatalf("repeat: %v %q, want U without an id", v.ResultCode, v.PaymentID)
	}
	var v codec.PaymentView
	if rc := n.e.Inquire(context.Background(), client, &codec.IDRequest{PaymentRequestID: []byte("p1")}, &v); rc.Status() != codec.StatusU || v.PaymentID != "" {
		t.Fatalf("inquiry: %v %q, want U without an id", rc, v.PaymentID)
	}
	if res := n.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentRequestID: []byte("p1")}); res.Result.Status() != codec.StatusU || res.PaymentID != "" {
		t.Fatalf("cancel: %v %q, want U without an id", res.Result, res.PaymentID)
	}
	f.set(false, false, false)
	n.e.LeaseTick(context.Background())
	v = n.pay(payReq("p1", code(1, 0), 500))
	if v.Status != codec.StatusFail || v.PaymentID == "" {
		t.Fatalf("repeat after the journal answered: %v %q, want FAIL with the id", v.Status, v.PaymentID)
	}
	// A cancel now has its definitive answer: nothing is or will be charged.
	if res := n.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentRequestID: []byte("p1")}); res.Result != codec.Success || res.PaymentID != v.PaymentID {
		t.Fatalf("cancel after the journal answered: %v %q, want S for %s", res.Result, res.PaymentID, v.PaymentID)
	}
}

// TestRenewAnswerLostKeepsCancels: a lane's cancel handed to the owner
// (RequestCancel at another node) is cleared by the owner's Renew; when
// that Renew commits and its answer is lost, the owner's next Renew
// hands the cancel over again, so the owner carries it out without the
// lane repeating it.
func TestRenewAnswerLostKeepsCancels(t *testing.T) {
	c := newCluster()
	var j *journal.Mem
	a := c.node(t, 1, func(cfg *engine.Config) { j = cfg.Journal.(*journal.Mem) })
	// B waits for no answer: the cancel is handed over and answered U.
	b := c.node(t, 2, func(cfg *engine.Config) { cfg.PayTimeout = time.Millisecond })
	v := a.pay(payReq("p1", code(4, 80), 500))
	if v.Status != codec.StatusProcessing {
		t.Fatalf("pay: %v %v, want PROCESSING", v.Status, v.ResultCode)
	}
	res := b.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentRequestID: []byte("p1")})
	if res.Result != codec.UnknownException {
		t.Fatalf("cancel at B: %v %s, want U (handed over)", res.Result, res.Message)
	}
	j.LoseNextRenew()
	a.e.LeaseTick(context.Background()) // the Renew that cleared the request: answer lost
	if a.e.JournalHealth().OK {
		t.Fatal("healthy after a Renew whose answer was lost")
	}
	c.settle(t, a)
	if _, iv := a.inquire(v.PaymentID); iv.Status != codec.StatusCancelled {
		t.Fatalf("status after the owner's next ticks: %v, want CANCELLED (the handed-over cancel lost with Renew's answer)", iv.Status)
	}
	if p := c.w.pay(v.PaymentID); p.state != "closed" {
		t.Fatalf("wallet state %q, want closed", p.state)
	}
}
