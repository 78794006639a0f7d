package journal

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal/journaltest"
)

func sharedPayment(id, req string, status codec.PaymentStatus, hash byte) *engine.PaymentRecord {
	t0 := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	p := &engine.PaymentRecord{PaymentID: id, ClientID: "C1", RequestID: req, CodeMasked: "281001**************0000",
		Amount: codec.Amount{Value: 500, Currency: codec.MustCurrency("HKD")}, Wallet: "w1",
		Created: t0, Deadline: t0.Add(time.Minute), Status: status, Updated: t0, Version: 1}
	p.CodeHash[0] = hash
	p.Held = !p.Final()
	return p
}

// TestPebbleLookups: the single-node SharedJournal side of the Pebble
// journal — claims by request and by code, reads, and hand-back after a
// Release — and the migration that indexes a layout-1 store.
func TestPebbleLookups(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	done := sharedPayment("p1", "r1", codec.StatusSuccess, 1)
	open := sharedPayment("p2", "r2", codec.StatusProcessing, 2)
	for _, p := range []*engine.PaymentRecord{done, open} {
		if ex, err := j.ClaimPayment(ctx, p); err != nil || ex != nil {
			t.Fatalf("claim %s: %v %v", p.PaymentID, ex, err)
		}
	}
	ref := &engine.RefundRecord{RefundID: "f1", ClientID: "C1", RequestID: "rr1", PaymentID: "p1",
		Amount: done.Amount, Status: codec.StatusSuccess, Version: 1}
	if ex, err := j.ClaimRefund(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{done}, Refunds: []*engine.RefundRecord{ref}}); err != nil || ex != nil {
		t.Fatalf("claim refund: %v %v", ex, err)
	}
	check := func(j *Pebble) {
		t.Helper()
		if ex, err := j.ClaimPayment(ctx, sharedPayment("p3", "r1", codec.StatusProcessing, 9)); err != nil || ex == nil || ex.PaymentID != "p1" {
			t.Fatalf("same request: %v %v, want p1", ex, err)
		}
		if ex, err := j.ClaimPayment(ctx, sharedPayment("p3", "r3", codec.StatusProcessing, 2)); err != nil || ex == nil || ex.PaymentID != "p2" {
			t.Fatalf("same code: %v %v, want p2", ex, err)
		}
		rec, refs, err := j.GetPayment(ctx, "C1", "r1", "")
		if err != nil || rec == nil || rec.PaymentID != "p1" || len(refs) != 1 || refs[0].RefundID != "f1" {
			t.Fatalf("GetPayment by request: %+v %v %v", rec, refs, err)
		}
		if rec, _, _ := j.GetPayment(ctx, "C2", "", "p1"); rec != nil {
			t.Fatal("another client's payment was returned")
		}
		if r, err := j.GetRefund(ctx, "C1", "rr1", ""); err != nil || r == nil || r.RefundID != "f1" {
			t.Fatalf("GetRefund: %v %v", r, err)
		}
		if ex, err := j.ClaimRefund(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{done}, Refunds: []*engine.RefundRecord{{RefundID: "f2", ClientID: "C1", RequestID: "rr1", PaymentID: "p1"}}}); err != nil || ex == nil || ex.RefundID != "f1" {
			t.Fatalf("same refund request: %v %v", ex, err)
		}
		if ls, _ := j.TakeOver(ctx, 10); len(ls) != 0 {
			t.Fatalf("TakeOver without Release: %d", len(ls))
		}
		if err := j.Release(ctx); err != nil {
			t.Fatal(err)
		}
		ls, err := j.TakeOver(ctx, 10)
		if err != nil || len(ls) != 1 || ls[0].Payment.PaymentID != "p2" || !ls[0].Payment.Held {
			t.Fatalf("TakeOver after Release: %v %v, want only p2 (held)", ls, err)
		}
		if ls, _ := j.TakeOver(ctx, 10); len(ls) != 0 {
			t.Fatalf("second TakeOver: %d", len(ls))
		}
	}
	check(j)

	// Make it a layout-1 store (no index entries), reopen: migrated.
	b := j.db.NewBatch()
	for _, prefix := range []string{prefixPayReq, prefixCodeHash, prefixRefReq, prefixHeld} {
		bounds := prefixBounds(prefix)
		_ = b.DeleteRange(bounds.LowerBound, bounds.UpperBound, nil)
	}
	_ = b.Set([]byte(keyLayout), []byte{1}, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if rec, _, _ := j.GetPayment(ctx, "C1", "r1", ""); rec != nil {
		t.Fatal("index entries still there")
	}
	j.Close()
	j, err = Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	check(j)
}

// TestPebbleVoid runs the conformance suite's one-node tombstone checks
// (journaltest.RunVoid) on the Pebble journal.
func TestPebbleVoid(t *testing.T) {
	j, err := Open(t.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	journaltest.RunVoid(t, j)
}

// TestPebbleOutbox runs the outbox conformance suite on the Pebble
// journal (one node: every node name reaches the same store).
func TestPebbleOutbox(t *testing.T) {
	var stores sync.Map // *testing.T → *Pebble
	journaltest.RunOutbox(t, func(t *testing.T, node string) journaltest.OutboxJournal {
		if v, ok := stores.Load(t); ok {
			return v.(*Pebble)
		}
		j, err := Open(t.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = j.Close() })
		stores.Store(t, j)
		return j
	})
}

// TestPebbleDueMigration: a store of layout 2 (no due index) opens as
// layout 3 with its pending notifications due as before.
func TestPebbleDueMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	n := journaltest.Notification("m1", 0)
	n.Due = t0
	if err := j.Append(ctx, &engine.Batch{Notifications: []*engine.NotificationRecord{n}}, true); err != nil {
		t.Fatal(err)
	}
	b := j.db.NewBatch()
	bounds := prefixBounds(prefixDue)
	_ = b.DeleteRange(bounds.LowerBound, bounds.UpperBound, nil)
	_ = b.Set([]byte(keyLayout), []byte{2}, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if got, _ := j.TakeNotifications(ctx, t0, t0.Add(time.Minute), 10); len(got) != 0 {
		t.Fatal("due index still there")
	}
	j.Close()
	j, err = Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if v, _ := j.get([]byte(keyLayout)); len(v) != 1 || v[0] != layoutVersion {
		t.Fatalf("layout after migration = %v, want %d", v, layoutVersion)
	}
	got, err := j.TakeNotifications(ctx, t0, t0.Add(time.Minute), 10)
	if err != nil || len(got) != 1 || got[0].PaymentID != "m1" {
		t.Fatalf("TakeNotifications after migration = %v, %v; want m1", got, err)
	}
}

// TestClaimFillsFilter: a claim adds the keys it looks up to the filter
// and its write then skips them, so every request and code key stored
// must still be in the filter (a miss there would let a second pay of
// the same request or code through), whichever way each claim went.
func TestClaimFillsFilter(t *testing.T) {
	ctx := context.Background()
	j, err := Open(t.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, tc := range []struct {
		id, req  string
		hash     byte
		existing string
	}{
		{"p1", "r1", 1, ""},
		{"p2", "r2", 2, ""},
		{"p3", "r1", 3, "p1"}, // same request
		{"p4", "r4", 2, "p2"}, // same code
		{"p5", "r5", 5, ""},
	} {
		ex, err := j.ClaimPayment(ctx, sharedPayment(tc.id, tc.req, codec.StatusProcessing, tc.hash))
		if err != nil || (ex == nil) != (tc.existing == "") || (ex != nil && ex.PaymentID != tc.existing) {
			t.Fatalf("claim %s: %v %v, want %q", tc.id, ex, err, tc.existing)
		}
	}
	n := 0
	for _, prefix := range []string{prefixPayReq, prefixCodeHash} {
		it, err := j.db.NewIter(prefixBounds(prefix))
		if err != nil {
			t.Fatal(err)
		}
		for it.First(); it.Valid(); it.Next() {
			n++
			if !j.filter.mayHave(it.Key()) {
				t.Errorf("stored index key %q is not in the filter", it.Key())
			}
		}
		_ = it.Close()
	}
	if n != 6 {
		t.Fatalf("%d request and code keys stored, want 6", n)
	}
}

// TestLevelCompression: flushed (L0) files are written uncompressed and
// every level below with Snappy, as pebbleOptions says and Pebble keeps
// once it fills in its defaults.
func TestLevelCompression(t *testing.T) {
	o := Options{}
	o.EnsureDefaults()
	po := o.pebbleOptions(newFailState(nil))
	defer po.Cache.Unref()
	po.EnsureDefaults()
	for i, l := range po.Levels {
		want := sstable.SnappyCompression
		if i == 0 {
			want = sstable.NoCompression
		}
		if got := l.Compression(); got != want {
			t.Errorf("L%d compression %s, want %s", i, got.Name, want.Name)
		}
	}
}

// TestPebbleHeldMarks: reads take a payment's Held from the in-memory set
// of held marks (heldSet), which must hold exactly the payments whose
// l/ key is stored, through every write that sets or deletes one (a
// claim, later versions, a payment held again for a refund, Compact), and
// again after a reopen, which rebuilds it from the store.
func TestPebbleHeldMarks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	version := func(p *engine.PaymentRecord, status codec.PaymentStatus, held bool) *engine.PaymentRecord {
		q := *p
		q.Version++
		q.Status, q.Held = status, held
		q.Updated = q.Updated.Add(time.Second)
		return &q
	}
	write := func(ps ...*engine.PaymentRecord) {
		t.Helper()
		if err := j.Append(ctx, &engine.Batch{Payments: ps}, false); err != nil {
			t.Fatal(err)
		}
	}
	// p1: claimed, settled (released). p2: claimed, still in flight.
	// p3: settled, then held again (a refund in process), in one batch
	// with p4's two versions (the later one wins, as in Pebble). p5:
	// settled and compacted away; p6 too, with its mark still set.
	ps := map[string]*engine.PaymentRecord{}
	for i, id := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
		ps[id] = sharedPayment(id, "r"+id, codec.StatusProcessing, byte(i+1))
		if ex, err := j.ClaimPayment(ctx, ps[id]); err != nil || ex != nil {
			t.Fatalf("claim %s: %v %v", id, ex, err)
		}
	}
	ps["p1"] = version(ps["p1"], codec.StatusSuccess, false)
	ps["p5"] = version(ps["p5"], codec.StatusFail, false)
	ps["p6"] = version(ps["p6"], codec.StatusFail, true)
	ps["p3"] = version(ps["p3"], codec.StatusSuccess, false)
	write(ps["p1"], ps["p5"], ps["p6"], ps["p3"])
	p4 := version(ps["p4"], codec.StatusSuccess, false)
	ps["p3"] = version(ps["p3"], codec.StatusSuccess, true)
	ps["p4"] = version(p4, codec.StatusSuccess, true)
	write(p4, ps["p3"], ps["p4"])
	if n, err := j.Compact(ctx, ps["p5"].Updated.Add(time.Millisecond)); err != nil || n != 3 {
		t.Fatalf("Compact: %d %v, want p1, p5 and p6 removed", n, err)
	}
	delete(ps, "p1")
	delete(ps, "p5")
	delete(ps, "p6")
	want := map[string]bool{"p2": true, "p3": true, "p4": true}

	check := func(j *Pebble, when string) {
		t.Helper()
		for _, id := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
			rec, _, err := j.GetPayment(ctx, "C1", "", id)
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := ps[id]; (rec != nil) != ok || (ok && (rec.Version != p.Version || rec.Held != want[id])) {
				t.Errorf("%s: GetPayment(%s) = %+v, want version %v held %v", when, id, rec, p, want[id])
			}
			mark, err := j.get(appendKey(nil, prefixHeld, id))
			if err != nil {
				t.Fatal(err)
			}
			if (mark != nil) != want[id] || j.held.has(id) != want[id] {
				t.Errorf("%s: %s: l/ key stored %v, in the held set %v; want %v", when, id, mark != nil, j.held.has(id), want[id])
			}
		}
		if len(j.held.ids) != len(want) {
			t.Errorf("%s: held set %v, want %v", when, slices.Sorted(maps.Keys(j.held.ids)), slices.Sorted(maps.Keys(want)))
		}
	}
	check(j, "written")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j, err = Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	check(j, "reopened")
}

// TestPebbleHeldMarksConcurrent: payments written and read from many
// goroutines (each payment's versions in order, as the engine writes
// them) leave the held set equal to the stored l/ keys.
func TestPebbleHeldMarksConcurrent(t *testing.T) {
	ctx := context.Background()
	j, err := Open(t.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				id := "g" + string(rune('a'+g)) + string(rune('a'+i/26)) + string(rune('a'+i%26))
				p := sharedPayment(id, "r"+id, codec.StatusProcessing, byte(g*50+i))
				p.CodeHash[1] = byte(g)
				if ex, err := j.ClaimPayment(ctx, p); err != nil || ex != nil {
					t.Errorf("claim %s: %v %v", id, ex, err)
					return
				}
				if i%3 != 0 { // two in three settle
					q := *p
					q.Version, q.Status, q.Held = 2, codec.StatusSuccess, false
					if err := j.Append(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{&q}}, false); err != nil {
						t.Error(err)
						return
					}
				}
				if rec, _, err := j.GetPayment(ctx, "C1", "", id); err != nil || rec == nil || rec.Held != (i%3 == 0) {
					t.Errorf("GetPayment(%s) = %+v, %v; want held %v", id, rec, err, i%3 == 0)
				}
			}
		})
	}
	wg.Wait()
	stored := map[string]bool{}
	it, err := j.db.NewIter(prefixBounds(prefixHeld))
	if err != nil {
		t.Fatal(err)
	}
	for it.First(); it.Valid(); it.Next() {
		stored[string(it.Key()[len(prefixHeld):])] = true
	}
	_ = it.Close()
	if got, want := slices.Sorted(maps.Keys(j.held.ids)), slices.Sorted(maps.Keys(stored)); !slices.Equal(got, want) {
		t.Errorf("held set %v, stored marks %v", got, want)
	}
	if len(stored) != 8*17 {
		t.Fatalf("%d held marks stored, want %d", len(stored), 8*17)
	}
}
