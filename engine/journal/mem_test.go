package journal_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/journal/journaltest"
)

// TestSharedMem runs the shared-journal conformance suite (the one the
// PostgreSQL store passes) on the in-memory MemDB the engine's
// several-node tests use, so both keep one meaning. Nodes opened by one
// test share one MemDB.
func TestSharedMem(t *testing.T) {
	var dbs sync.Map // *testing.T → *journal.MemDB
	journaltest.RunShared(t, func(t *testing.T, node string, ttl time.Duration) engine.SharedJournal {
		v, _ := dbs.LoadOrStore(t, journal.NewMemDB(nil))
		n := v.(*journal.MemDB).Node(node, ttl)
		t.Cleanup(func() { n.Close() })
		return n
	})
}

func TestSharedMemOutbox(t *testing.T) {
	var dbs sync.Map // *testing.T → *journal.MemDB
	journaltest.RunOutbox(t, func(t *testing.T, node string) journaltest.OutboxJournal {
		v, _ := dbs.LoadOrStore(t, journal.NewMemDB(nil))
		n := v.(*journal.MemDB).Node(node, journaltest.Long)
		t.Cleanup(func() { n.Close() })
		return n
	})
}

// TestMemOneNode: NewMem, the journal of `serve -memory`, is one node, as
// Pebble is: writes are never fenced, a released payment is written again
// without an Acquire, and a Release hands every held payment back.
func TestMemOneNode(t *testing.T) {
	journaltest.RunVoid(t, journal.NewMem())
	j := journal.NewMem()
	ctx := context.Background()
	p := journaltest.Payment("one", "code-one")
	if ex, err := j.ClaimPayment(ctx, p); err != nil || ex != nil {
		t.Fatalf("claim: %v %v", ex, err)
	}
	released := *p
	released.Version, released.Held = 2, false
	held := released
	held.Version, held.Held = 3, true
	for _, r := range []*engine.PaymentRecord{&released, &held} {
		if err := j.Append(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{r}}, true); err != nil {
			t.Fatalf("append version %d: %v", r.Version, err)
		}
	}
	if ls, err := j.TakeOver(ctx, 10); err != nil || len(ls) != 0 {
		t.Fatalf("TakeOver before Release: %d, %v; want none (the lease never expires)", len(ls), err)
	}
	if err := j.Release(ctx); err != nil {
		t.Fatal(err)
	}
	ls, err := j.TakeOver(ctx, 10)
	if err != nil || len(ls) != 1 || ls[0].Payment.Version != 3 {
		t.Fatalf("TakeOver after Release: %v, %v; want version 3 of %q", ls, err, p.PaymentID)
	}
}
