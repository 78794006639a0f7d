package journaltest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// Void returns the tombstone of request "req-"+id (engine.PaymentRecord
// Voided): what the engine stores when a lane cancels a request id before
// any pay of it arrived. Final, not held.
func Void(id string) *engine.PaymentRecord {
	v := &engine.PaymentRecord{
		PaymentID:   id,
		ClientID:    client,
		RequestID:   "req-" + id,
		CodeHash:    engine.VoidCodeHash(client, "req-"+id),
		Created:     t0,
		Deadline:    t0,
		Status:      codec.StatusCancelled,
		Result:      codec.OrderIsCanceled,
		Message:     "cancelled before its pay arrived",
		CancelledAt: t0,
		Voided:      true,
		Updated:     t0,
		Version:     1,
	}
	return v
}

// RunVoid checks, on one node, how a journal keeps tombstones: a pay
// claimed on a voided request id gets the tombstone back and stores
// nothing (its code stays free); reads and Load return it with Voided
// set; it is never handed back as work; Compact removes it after the
// retention like any final payment, which frees the request id. Every
// SharedJournal runs it: the conformance suite (RunShared) and Pebble's
// one-node journal.
func RunVoid(t *testing.T, j engine.SharedJournal) {
	t.Helper()
	v := Void("v1")
	claim(t, j, v)
	pay := Payment("p-late", "c-late")
	pay.RequestID = v.RequestID
	if got, err := j.ClaimPayment(bg, pay); err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("ClaimPayment(voided request) = %+v, %v; want the tombstone", got, err)
	}
	if got, _, err := j.GetPayment(bg, client, v.RequestID, ""); err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("GetPayment(voided request) = %+v, %v; want the tombstone", got, err)
	}
	// The refused pay's code was not consumed.
	other := Payment("p-other", "c-late")
	claim(t, j, other)
	if l := Load(t, j); l.Payments["v1"] == nil || !l.Payments["v1"].Voided || l.Payments["p-late"] != nil {
		t.Fatalf("Load: tombstone %+v, refused pay %+v", l.Payments["v1"], l.Payments["p-late"])
	}
	if err := j.Release(bg); err != nil {
		t.Fatal(err)
	}
	ls, err := j.TakeOver(bg, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.Payment.PaymentID == "v1" {
			t.Fatal("a tombstone was handed back as work")
		}
	}
	if n, err := j.Compact(bg, t0.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("Compact past the tombstone = %d, %v; want 1 (the tombstone), nil", n, err)
	}
	if got, _, err := j.GetPayment(bg, client, v.RequestID, ""); err != nil || got != nil {
		t.Fatalf("GetPayment after compaction = %+v, %v; want none", got, err)
	}
}

// testVoidRacesPay: a tombstone and pays of one request id claimed at the
// same moment on two nodes: exactly one is stored, and every other claim
// gets it back (a pay that loses to the tombstone is refused; a tombstone
// that loses to a pay means the cancel cancels that payment).
func testVoidRacesPay(t *testing.T, open OpenFunc) {
	nodes := []engine.SharedJournal{open(t, "a", Long), open(t, "b", Long)}
	voidWon := 0
	for round := range 6 {
		req := fmt.Sprintf("round-%d", round)
		won, got := race(t, nodes, 4, func(i int) *engine.PaymentRecord {
			if i == round%8 {
				v := Void(fmt.Sprintf("r%d-v", round))
				v.RequestID, v.CodeHash = req, engine.VoidCodeHash(client, req)
				return v
			}
			p := Payment(fmt.Sprintf("r%d-p%d", round, i), fmt.Sprintf("r%d-c%d", round, i))
			p.RequestID = req
			return p
		})
		if len(won) != 1 || len(got) != 7 {
			t.Fatalf("round %d: %d claims stored (%v), %d returned; want 1 and 7", round, len(won), won, len(got))
		}
		for _, g := range got {
			if g.PaymentID != won[0] {
				t.Fatalf("round %d: a loser got %s, the stored one is %s", round, g.PaymentID, won[0])
			}
		}
		if got[0].Voided {
			voidWon++
		}
	}
	t.Logf("the tombstone won %d of 6 rounds", voidWon)
}

// testVoidNotLeased: a tombstone is stored released (final, nothing to
// do): no node takes it over, however long it waits.
func testVoidNotLeased(t *testing.T, open OpenFunc) {
	a, b := open(t, "a", Short), open(t, "b", Long)
	claim(t, a, Void("v0"))
	p := Payment("p1", "c1")
	claim(t, a, p)
	takeOverOne(t, b, "p1") // a's lease on p1 expired, so a's tombstone would have too
	if ls, err := b.TakeOver(bg, 100); err != nil || len(ls) != 0 {
		t.Fatalf("TakeOver = %d payments, %v; want none (the tombstone is not leased)", len(ls), err)
	}
}

// testTakeOverCarriesCancel: a cancel handed to a node that dies before
// its next Renew is not lost: TakeOver and Acquire report it with the
// payment (Leased.CancelRequested), and it stays recorded until the new
// owner's Renew reports it, so a taker that dies at once loses nothing.
func testTakeOverCarriesCancel(t *testing.T, open OpenFunc) {
	dead, b := open(t, "dead", Short), open(t, "b", Long)
	for _, id := range []string{"p1", "p2", "p3"} {
		claim(t, dead, Payment(id, "c-"+id))
	}
	for _, id := range []string{"p1", "p3"} {
		if err := b.RequestCancel(bg, id); err != nil {
			t.Fatal(err)
		}
	}
	var l3 *engine.Leased
	eventually(t, "the dead node's lease on p3 expires", func() bool {
		l, ok, err := b.Acquire(bg, "p3")
		if err != nil {
			t.Fatal(err)
		}
		l3 = l
		return ok
	})
	if !l3.CancelRequested {
		t.Fatal("Acquire did not report the cancel handed to the dead owner")
	}
	got := map[string]bool{}
	eventually(t, "TakeOver of p1 and p2", func() bool {
		ls, err := b.TakeOver(bg, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			got[l.Payment.PaymentID] = l.CancelRequested
		}
		_, ok1 := got["p1"]
		_, ok2 := got["p2"]
		return ok1 && ok2
	})
	if !got["p1"] || got["p2"] {
		t.Fatalf("TakeOver's cancel requests = %v; want p1 only", got)
	}
	cancels, err := b.Renew(bg)
	slices.Sort(cancels)
	if err != nil || !slices.Equal(cancels, []string{"p1", "p3"}) {
		t.Fatalf("the new owner's Renew = %v, %v; want [p1 p3]", cancels, err)
	}
}

// testTakeOverCarriesRenewedCancel: a cancel the owner's Renew returned
// stays recorded until the owner's next Renew (by then it is carried
// out), so an owner that dies between the two loses nothing: the taker
// is handed it.
func testTakeOverCarriesRenewedCancel(t *testing.T, open OpenFunc) {
	dead, b := open(t, "dead", Short), open(t, "b", Long)
	claim(t, dead, Payment("p1", "c-p1"))
	if err := b.RequestCancel(bg, "p1"); err != nil {
		t.Fatal(err)
	}
	if cancels, err := dead.Renew(bg); err != nil || !slices.Equal(cancels, []string{"p1"}) {
		t.Fatalf("the owner's Renew = %v, %v; want [p1]", cancels, err)
	}
	var l *engine.Leased
	eventually(t, "the dead node's lease on p1 expires", func() bool {
		var ok bool
		var err error
		l, ok, err = b.Acquire(bg, "p1")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
	if !l.CancelRequested {
		t.Fatal("Acquire did not report a cancel the dead owner's Renew returned and it never carried out")
	}
	if cancels, err := b.Renew(bg); err != nil || !slices.Equal(cancels, []string{"p1"}) {
		t.Fatalf("the new owner's Renew = %v, %v; want [p1]", cancels, err)
	}
	if cancels, err := b.Renew(bg); err != nil || len(cancels) != 0 {
		t.Fatalf("the new owner's second Renew = %v, %v; want none (carried out)", cancels, err)
	}
}
