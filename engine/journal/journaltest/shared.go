package journaltest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// OpenFunc opens node's view of the shared journal of test t, with lease
// length ttl. Every call with the same t must reach the same journal
// (that is how the suite makes two nodes), and the first call for a t a
// fresh, empty one. The function closes what it opens when t ends.
type OpenFunc func(t *testing.T, node string, ttl time.Duration) engine.SharedJournal

// Lease lengths the suite uses: Long never expires within a test; Short
// expires quickly, and the suite polls for its expiry for up to
// ExpiryWait.
const (
	Long       = time.Minute
	Short      = 300 * time.Millisecond
	ExpiryWait = 10 * time.Second
)

// RunShared runs the shared-journal conformance suite as subtests of t.
func RunShared(t *testing.T, open OpenFunc) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open OpenFunc)
	}{
		{"AppendLoad", testAppendLoad},
		{"Versions", testVersions},
		{"BatchAtomic", testBatchAtomic},
		{"Compact", testCompact},
		{"ClaimPayment", testClaimPayment},
		{"ClaimPaymentRaceRequest", testClaimRaceRequest},
		{"ClaimPaymentRaceCode", testClaimRaceCode},
		{"Get", testGet},
		{"Fencing", testFencing},
		{"HeldFalseReleases", testHeldFalse},
		{"Acquire", testAcquire},
		{"RenewAndCancel", testRenewCancel},
		{"RenewRacesCancel", testRenewRacesCancel},
		{"RenewKeepsLease", testRenewKeepsLease},
		{"Release", testRelease},
		{"RestartTakesOwnBack", testRestart},
		{"TakeOverDisjoint", testTakeOverDisjoint},
		{"ClaimRefund", testClaimRefund},
		{"ClaimRefundFenced", testClaimRefundFenced},
		{"Void", func(t *testing.T, open OpenFunc) { RunVoid(t, open(t, "a", Long)) }},
		{"VoidRacesPay", testVoidRacesPay},
		{"VoidNotLeased", testVoidNotLeased},
		{"TakeOverCarriesCancel", testTakeOverCarriesCancel},
		{"TakeOverCarriesRenewedCancel", testTakeOverCarriesRenewedCancel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

const client = "SANDBOX_5YBZ1C2ZT2VS05247"

var t0 = time.Date(2026, 11, 26, 9, 30, 0, 123456000, time.UTC)

// Payment returns a populated new payment (Version 1, Held) whose request
// id is "req-"+id and whose code hash is derived from code.
func Payment(id, code string) *engine.PaymentRecord {
	p := &engine.PaymentRecord{
		PaymentID:  id,
		ClientID:   client,
		RequestID:  "req-" + id,
		CodeMasked: "2810**********1234",
		Amount:     codec.Amount{Value: 12345, Currency: codec.MustCurrency("HKD")},
		MethodType: "CONNECT_WALLET",
		Scenario:   "OfflineMPM",
		Settlement: codec.MustCurrency("USD"),
		Wallet:     "ALIPAY_HK",
		NotifyURL:  "https://merchant.example/notify?id=" + id,
		Created:    t0,
		Deadline:   t0.Add(2 * time.Minute),
		Status:     codec.StatusProcessing,
		Result:     codec.PaymentInProcess,
		Message:    "payment in process",
		Held:       true,
		Updated:    t0,
		Version:    1,
	}
	copy(p.CodeHash[:], code)
	for i := len(code); i < len(p.CodeHash); i++ {
		p.CodeHash[i] = byte(i)
	}
	return p
}

// next returns p's next version, updated a second later.
func next(p *engine.PaymentRecord) *engine.PaymentRecord {
	n := *p
	n.Version++
	n.Updated = p.Updated.Add(time.Second)
	return &n
}

// finished returns p's next version, successful and released.
func finished(p *engine.PaymentRecord) *engine.PaymentRecord {
	n := next(p)
	n.Status, n.Result, n.Message, n.PaidAt = codec.StatusSuccess, codec.Success, "success", n.Updated
	n.Held = false
	return n
}

// Refund returns a new processing refund of paymentID.
func Refund(id, paymentID string) *engine.RefundRecord {
	return &engine.RefundRecord{
		RefundID:  id,
		ClientID:  client,
		RequestID: "rreq-" + id,
		PaymentID: paymentID,
		Amount:    codec.Amount{Value: 100, Currency: codec.MustCurrency("HKD")},
		Reason:    "customer changed mind",
		Created:   t0,
		Status:    codec.StatusProcessing,
		Result:    codec.RefundInProcess,
		Updated:   t0,
		Version:   1,
	}
}

// Notification returns a pending notification of paymentID.
func Notification(paymentID string, attempts int) *engine.NotificationRecord {
	return &engine.NotificationRecord{
		PaymentID: paymentID,
		URL:       "https://merchant.example/notify",
		Body:      []byte(`{"paymentId":"` + paymentID + `"}`),
		Attempts:  attempts,
		Due:       t0.Add(time.Duration(attempts) * time.Minute),
	}
}

var bg = context.Background()

func claim(t *testing.T, j engine.SharedJournal, p *engine.PaymentRecord) {
	t.Helper()
	got, err := j.ClaimPayment(bg, p)
	if err != nil || got != nil {
		t.Fatalf("ClaimPayment(%s) = %+v, %v; want nil, nil", p.PaymentID, got, err)
	}
}

func appendOK(t *testing.T, j engine.Journal, b *engine.Batch) {
	t.Helper()
	if err := j.Append(bg, b, true); err != nil {
		t.Fatalf("Append: %v", err)
	}
}

func pays(ps ...*engine.PaymentRecord) *engine.Batch { return &engine.Batch{Payments: ps} }

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// getPayment returns the stored payment id (nil when none).
func getPayment(t *testing.T, j engine.SharedJournal, id string) (*engine.PaymentRecord, []*engine.RefundRecord) {
	t.Helper()
	p, refunds, err := j.GetPayment(bg, "", "", id)
	if err != nil {
		t.Fatalf("GetPayment(%s): %v", id, err)
	}
	sort.Slice(refunds, func(a, b int) bool { return refunds[a].RefundID < refunds[b].RefundID })
	return p, refunds
}

// Loaded is everything a journal's Load returned, by id.
type Loaded struct {
	Payments map[string]*engine.PaymentRecord
	Refunds  map[string]*engine.RefundRecord
	Notes    map[string]*engine.NotificationRecord // pending, by payment id
}

// Load calls j.Load and collects what it returns. It fails t if Load
// fails, a record has not exactly one field set, or a payment comes twice.
func Load(t testing.TB, j engine.Journal) Loaded {
	t.Helper()
	l := Loaded{map[string]*engine.PaymentRecord{}, map[string]*engine.RefundRecord{}, map[string]*engine.NotificationRecord{}}
	err := j.Load(bg, func(r *engine.Record) error {
		switch {
		case r.Payment != nil && r.Refund == nil && r.Notification == nil:
			if l.Payments[r.Payment.PaymentID] != nil {
				return fmt.Errorf("payment %s loaded twice", r.Payment.PaymentID)
			}
			l.Payments[r.Payment.PaymentID] = r.Payment
		case r.Refund != nil && r.Payment == nil && r.Notification == nil:
			l.Refunds[r.Refund.RefundID] = r.Refund
		case r.Notification != nil && r.Payment == nil && r.Refund == nil:
			l.Notes[r.Notification.PaymentID] = r.Notification
		default:
			return fmt.Errorf("record without exactly one field set: %+v", r)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return l
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// eventually polls cond until it holds, failing t after ExpiryWait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(ExpiryWait)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, ExpiryWait)
		}
		<-tick.C
	}
}

// takeOverOne polls j.TakeOver until it returns payment id.
func takeOverOne(t *testing.T, j engine.SharedJournal, id string) *engine.Leased {
	t.Helper()
	var got *engine.Leased
	eventually(t, "TakeOver of "+id, func() bool {
		ls, err := j.TakeOver(bg, 100)
		if err != nil {
			t.Fatalf("TakeOver: %v", err)
		}
		for _, l := range ls {
			if l.Payment.PaymentID == id {
				got = l
			}
		}
		return got != nil
	})
	return got
}

func leaseLost(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, engine.ErrLeaseLost) {
		t.Fatalf("err = %v, want ErrLeaseLost", err)
	}
	if errors.Is(err, engine.ErrJournalFailed) {
		t.Fatalf("ErrLeaseLost also wraps ErrJournalFailed: %v", err)
	}
}

func testAppendLoad(t *testing.T, open OpenFunc) {
	a := open(t, "a", Long)
	if l := Load(t, a); len(l.Payments)+len(l.Refunds)+len(l.Notes) != 0 {
		t.Fatalf("new journal loads %+v", l)
	}
	p1, p2 := Payment("p1", "c1"), Payment("p2", "c2")
	claim(t, a, p1)
	// A payment never claimed is stored by Append too (a plain Journal).
	released := Payment("p3", "c3")
	released.Held = false
	r1 := Refund("r1", "p1")
	appendOK(t, a, &engine.Batch{Payments: []*engine.PaymentRecord{p2, released}, Refunds: []*engine.RefundRecord{r1},
		Notifications: []*engine.NotificationRecord{Notification("p1", 0), Notification("p2", 0)}})
	p1v2 := next(p1)
	n1 := Notification("p1", 1)
	appendOK(t, a, &engine.Batch{Payments: []*engine.PaymentRecord{p1v2}, Notifications: []*engine.NotificationRecord{n1}, Delivered: []string{"p2", "nope"}})
	want := *p1v2
	p1v2.Status = codec.StatusFail // the engine reuses its records: the store copied
	l := Load(t, a)
	equal(t, "payment ids", keys(l.Payments), []string{"p1", "p2", "p3"})
	equal(t, "p1", l.Payments["p1"], &want)
	equal(t, "p2", l.Payments["p2"], p2)
	equal(t, "p3", l.Payments["p3"], released)
	equal(t, "refunds", l.Refunds, map[string]*engine.RefundRecord{"r1": r1})
	equal(t, "notifications", l.Notes, map[string]*engine.NotificationRecord{"p1": n1})
	// Delivered applies after Notifications within one batch.
	appendOK(t, a, &engine.Batch{Notifications: []*engine.NotificationRecord{Notification("p3", 0)}, Delivered: []string{"p3", "p1"}})
	equal(t, "notifications after delivery", len(Load(t, a).Notes), 0)
	// Empty batches, synced or not, are fine.
	for _, sync := range []bool{false, true} {
		if err := a.Append(bg, &engine.Batch{}, sync); err != nil {
			t.Fatalf("empty Append(sync=%v): %v", sync, err)
		}
	}
	// An unsynced append is stored too (durable once a later synced one is).
	p2v2 := next(p2)
	if err := a.Append(bg, pays(p2v2), false); err != nil {
		t.Fatal(err)
	}
	appendOK(t, a, &engine.Batch{})
	equal(t, "p2 after unsynced append", Load(t, a).Payments["p2"], p2v2)
	// Another node's view reads the same records.
	b := open(t, "b", Long)
	equal(t, "node b loads", keys(Load(t, b).Payments), []string{"p1", "p2", "p3"})
	// Invalid ids are refused whole, and the journal stays usable.
	if err := a.Append(bg, &engine.Batch{Payments: []*engine.PaymentRecord{next(p2v2)}, Refunds: []*engine.RefundRecord{{RefundID: ""}}}, true); err == nil || errors.Is(err, engine.ErrJournalFailed) {
		t.Fatalf("Append with an empty refund id: %v, want a non-fatal error", err)
	}
	equal(t, "p2 after refused batch", Load(t, a).Payments["p2"], p2v2)
}

func testVersions(t *testing.T, open OpenFunc) {
	a := open(t, "a", Long)
	p := Payment("p1", "c1")
	claim(t, a, p)
	v2, v3 := next(p), next(next(p))
	appendOK(t, a, pays(v3))
	appendOK(t, a, pays(v2)) // older: ignored, not an error
	got, _ := getPayment(t, a, "p1")
	equal(t, "after an older version", got, v3)
	r := Refund("r1", "p1")
	r2 := *r
	r2.Version, r2.Status, r2.Result = 2, codec.StatusSuccess, codec.Success
	appendOK(t, a, &engine.Batch{Refunds: []*engine.RefundRecord{&r2}})
	appendOK(t, a, &engine.Batch{Refunds: []*engine.RefundRecord{r}})
	equal(t, "refund after an older version", Load(t, a).Refunds["r1"], &r2)
}

func testBatchAtomic(t *testing.T, open OpenFunc) {
	a, b := open(t, "a", Long), open(t, "b", Long)
	pa, pb := Payment("pa", "ca"), Payment("pb", "cb")
	claim(t, a, pa)
	claim(t, b, pb)
	before := Load(t, a)
	// pa is a's, pb is b's: the whole batch fails, nothing is written.
	err := a.Append(bg, &engine.Batch{
		Payments:      []*engine.PaymentRecord{next(pa), next(pb)},
		Refunds:       []*engine.RefundRecord{Refund("r1", "pa")},
		Notifications: []*engine.NotificationRecord{Notification("pa", 0)},
	}, true)
	leaseLost(t, err)
	equal(t, "journal after a failed batch", Load(t, a), before)
	// Both orders: the fenced payment first.
	err = a.Append(bg, &engine.Batch{Payments: []*engine.PaymentRecord{next(pb), next(pa)}}, false)
	leaseLost(t, err)
	equal(t, "journal after a failed unsynced batch", Load(t, a), before)
	// a's own payment alone still writes.
	appendOK(t, a, pays(next(pa)))
}

func testCompact(t *testing.T, open OpenFunc) {
	a := open(t, "a", Long)
	old := t0.Add(-time.Hour)
	mk := func(id string) *engine.PaymentRecord {
		p := Payment(id, "c-"+id)
		p.Updated = old.Add(-2 * time.Second)
		claim(t, a, p)
		return p
	}
	done := finished(mk("done")) // final, released, old: removed with its refund
	doneRefund := Refund("rdone", "done")
	doneRefund.Status, doneRefund.Result, doneRefund.Updated = codec.StatusSuccess, codec.Success, old.Add(-time.Second)
	held := finished(mk("held"))
	held.Held = true                   // final but still leased (a notification to send)
	notified := finished(mk("notify")) // released, but a notification is pending
	busy := finished(mk("busy"))       // a refund is still processing
	recent := finished(mk("recent"))
	recent.Updated = t0.Add(time.Hour)
	open1 := next(mk("open")) // not final
	open1.Held = false
	appendOK(t, a, &engine.Batch{
		Payments:      []*engine.PaymentRecord{done, held, notified, busy, recent, open1},
		Refunds:       []*engine.RefundRecord{doneRefund, Refund("rbusy", "busy")},
		Notifications: []*engine.NotificationRecord{Notification("notify", 0)},
	})
	n, err := a.Compact(bg, old)
	if err != nil || n != 1 {
		t.Fatalf("Compact = %d, %v; want 1, nil", n, err)
	}
	l := Load(t, a)
	equal(t, "payments kept", keys(l.Payments), []string{"busy", "held", "notify", "open", "recent"})
	equal(t, "refunds kept", keys(l.Refunds), []string{"rbusy"})
	if r, err := a.GetRefund(bg, client, doneRefund.RequestID, ""); err != nil || r != nil {
		t.Fatalf("GetRefund of a compacted refund's request = %v, %v; want nil, nil", r, err)
	}
	if n, err := a.Compact(bg, old); err != nil || n != 0 {
		t.Fatalf("second Compact = %d, %v; want 0, nil", n, err)
	}
}

func testClaimPayment(t *testing.T, open OpenFunc) {
	a, b := open(t, "a", Long), open(t, "b", Long)
	p1, p2 := Payment("p1", "c1"), Payment("p2", "c2")
	claim(t, a, p1)
	claim(t, b, p2)
	// The same request (another payment id and code): p1 comes back.
	dup := Payment("p1-again", "c9")
	dup.RequestID = p1.RequestID
	if got, err := b.ClaimPayment(bg, dup); err != nil || !reflect.DeepEqual(got, p1) {
		t.Fatalf("ClaimPayment(same request) = %+v, %v; want p1", got, err)
	}
	// The same code, another request: the code's holder comes back.
	reuse := Payment("p3", "c1")
	if got, err := b.ClaimPayment(bg, reuse); err != nil || !reflect.DeepEqual(got, p1) {
		t.Fatalf("ClaimPayment(same code) = %+v, %v; want p1", got, err)
	}
	// Both: the same request wins over the code's holder.
	both := Payment("p4", "c1")
	both.RequestID = p2.RequestID
	if got, err := a.ClaimPayment(bg, both); err != nil || !reflect.DeepEqual(got, p2) {
		t.Fatalf("ClaimPayment(p2's request, p1's code) = %+v, %v; want p2", got, err)
	}
	// The latest version is returned.
	p1v2 := finished(p1)
	appendOK(t, a, pays(p1v2))
	if got, err := b.ClaimPayment(bg, dup); err != nil || !reflect.DeepEqual(got, p1v2) {
		t.Fatalf("ClaimPayment after an update = %+v, %v; want p1 v2", got, err)
	}
	equal(t, "stored payments", keys(Load(t, a).Payments), []string{"p1", "p2"})
	// The same request id of another client is another request.
	other := Payment("p5", "c5")
	other.ClientID, other.RequestID = "OTHER_CLIENT", p1.RequestID
	claim(t, b, other)
}

// race runs n claims per node at once and returns the nil results' count
// and the records returned.
func race(t *testing.T, nodes []engine.SharedJournal, n int, mk func(i int) *engine.PaymentRecord) (won []string, got []*engine.PaymentRecord) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for ni, j := range nodes {
		for k := range n {
			i := ni*n + k
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				rec := mk(i)
				existing, err := j.ClaimPayment(bg, rec)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("ClaimPayment(%s): %v", rec.PaymentID, err)
				case existing == nil:
					won = append(won, rec.PaymentID)
				default:
					got = append(got, existing)
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	return won, got
}

func testClaimRaceRequest(t *testing.T, open OpenFunc) {
	nodes := []engine.SharedJournal{open(t, "a", Long), open(t, "b", Long)}
	for round := range 5 {
		won, got := race(t, nodes, 8, func(i int) *engine.PaymentRecord {
			p := Payment(fmt.Sprintf("r%d-p%d", round, i), fmt.Sprintf("r%d-c%d", round, i))
			p.RequestID = fmt.Sprintf("round-%d", round)
			return p
		})
		if len(won) != 1 || len(got) != 15 {
			t.Fatalf("round %d: %d claims stored (%v), %d returned; want 1 and 15", round, len(won), won, len(got))
		}
		for _, g := range got {
			if g.PaymentID != won[0] {
				t.Fatalf("round %d: a loser got %s, the winner is %s", round, g.PaymentID, won[0])
			}
		}
	}
	if n := len(Load(t, nodes[0]).Payments); n != 5 {
		t.Fatalf("%d payments stored, want 5", n)
	}
}

func testClaimRaceCode(t *testing.T, open OpenFunc) {
	nodes := []engine.SharedJournal{open(t, "a", Long), open(t, "b", Long)}
	for round := range 5 {
		won, got := race(t, nodes, 8, func(i int) *engine.PaymentRecord {
			return Payment(fmt.Sprintf("r%d-p%d", round, i), fmt.Sprintf("code-%d", round))
		})
		if len(won) != 1 || len(got) != 15 {
			t.Fatalf("round %d: %d claims stored (%v), %d returned; want 1 and 15", round, len(won), won, len(got))
		}
		for _, g := range got {
			if g.PaymentID != won[0] {
				t.Fatalf("round %d: a loser got %s, the code's holder is %s", round, g.PaymentID, won[0])
			}
		}
	}
}

func testGet(t *testing.T, open OpenFunc) {
	a, b := open(t, "a", Long), open(t, "b", Long)
	p := Payment("p1", "c1")
	claim(t, a, p)
	r1, r2 := Refund("r1", "p1"), Refund("r2", "p1")
	appendOK(t, a, &engine.Batch{Payments: []*engine.PaymentRecord{next(p)}, Refunds: []*engine.RefundRecord{r2, r1}})
	for _, q := range [][3]string{{"", "", "p1"}, {client, "", "p1"}, {client, p.RequestID, ""}} {
		got, refunds, err := b.GetPayment(bg, q[0], q[1], q[2])
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(refunds, func(i, j int) bool { return refunds[i].RefundID < refunds[j].RefundID })
		equal(t, fmt.Sprintf("GetPayment%q", q), got, next(p))
		equal(t, fmt.Sprintf("GetPayment%q refunds", q), refunds, []*engine.RefundRecord{r1, r2})
	}
	for _, q := range [][3]string{{"OTHER", "", "p1"}, {"OTHER", p.RequestID, ""}, {client, "nope", ""}, {"", "", "nope"}} {
		got, refunds, err := b.GetPayment(bg, q[0], q[1], q[2])
		if err != nil || got != nil || refunds != nil {
			t.Fatalf("GetPayment%q = %+v, %v, %v; want nothing", q, got, refunds, err)
		}
	}
	for _, q := range [][3]string{{"", "", "r1"}, {client, "", "r1"}, {client, r1.RequestID, ""}} {
		got, err := b.GetRefund(bg, q[0], q[1], q[2])
		if err != nil {
			t.Fatal(err)
		}
		equal(t, fmt.Sprintf("GetRefund%q", q), got, r1)
	}
	for _, q := range [][3]string{{"OTHER", "", "r1"}, {"OTHER", r1.RequestID, ""}, {"", "", "nope"}} {
		if got, err := b.GetRefund(bg, q[0], q[1], q[2]); err != nil || got != nil {
			t.Fatalf("GetRefund%q = %+v, %v; want nothing", q, got, err)
		}
	}
}

func testFencing(t *testing.T, open OpenFunc) {
	a, b := open(t, "a", Short), open(t, "b", Short)
	p := Payment("p1", "c1")
	claim(t, a, p)
	l := takeOverOne(t, b, "p1") // once a's lease has expired
	equal(t, "taken over", l.Payment, p)
	stale := next(p)
	stale.Status = codec.StatusFail
	err := a.Append(bg, &engine.Batch{Payments: []*engine.PaymentRecord{stale}, Refunds: []*engine.RefundRecord{Refund("r1", "p1")}}, true)
	leaseLost(t, err)
	got, refunds := getPayment(t, b, "p1")
	equal(t, "after the old owner's write", got, p)
	equal(t, "refunds after the old owner's write", len(refunds), 0)
	// b is the owner now: its writes pass, a's keep failing.
	bv2 := next(p)
	bv2.Status = codec.StatusSuccess
	if err := b.Append(bg, pays(bv2), true); err != nil {
		t.Fatalf("new owner's Append: %v", err)
	}
	leaseLost(t, a.Append(bg, pays(next(bv2)), true))
	got, _ = getPayment(t, a, "p1")
	equal(t, "after the new owner's write", got, bv2)
}

func testHeldFalse(t *testing.T, open OpenFunc) {
	a, b := open(t, "a", Long), open(t, "b", Long)
	p := Payment("p1", "c1")
	claim(t, a, p)
	if _, ok, err := b.Acquire(bg, "p1"); ok || err != nil {
		t.Fatalf("Acquire of a held payment = %v, %v; want false, nil", ok, err)
	}
	done := finished(p)
	appendOK(t, a, pays(done))
	got, _ := getPayment(t, b, "p1")
	equal(t, "released record", got, done)
	// Released: nobody's to take over, but anyone may acquire it.
	if ls, err := b.TakeOver(bg, 10); err != nil || len(ls) != 0 {
		t.Fatalf("TakeOver of a released payment = %d, %v; want none", len(ls), err)
	}
	if cancels, err := a.Renew(bg); err != nil || len(cancels) != 0 {
		t.Fatalf("Renew = %v, %v", cancels, err)
	}
	// The releasing node's lease is gone: its writes are fenced.
	leaseLost(t, a.Append(bg, pays(next(done)), true))
	l, ok, err := b.Acquire(bg, "p1")
	if err != nil || !ok {
		t.Fatalf("Acquire of a released payment = %v, %v; want true, nil", ok, err)
	}
	equal(t, "acquired", l.Payment, done)
	// Now b holds it: a cannot acquire it.
	if _, ok, err := a.Acquire(bg, "p1"); ok || err != nil {
		t.Fatalf("Acquire of b's payment = %v, %v; want false, nil", ok, err)
	}
}

func testAcquire(t *testing.T, open OpenFunc) {
	a, b := open(t, "a", Short), open(t, "b", Long)
	if l, ok, err := b.Acquire(bg, "nope"); !errors.Is(err, engine.ErrNotFound) || ok || l != nil {
		t.Fatalf("Acquire(missing) = %v, %v, %v; want ErrNotFound", l, ok, err)
	}
	p := Payment("p1", "c1")
	claim(t, b, p)
	r := Refund("r1", "p1")
	n := Notification("p1", 2)
	pv2 := next(p)
	appendOK(t, b, &engine.Batch{Payments: []*engine.PaymentRecord{pv2}, Refunds: []*engine.RefundRecord{r}, Notifications: []*engine.NotificationRecord{n}})
	if l, ok, err := a.Acquire(bg, "p1"); ok || err != nil || l != nil {
		t.Fatalf("Acquire of a live lease = %v, %v, %v; want nil, false, nil", l, ok, err)
	}
	// The owner may acquire its own payment again.
	l, ok, err := b.Acquire(bg, "p1")
	if err != nil || !ok {
		t.Fatalf("owner's Acquire = %v, %v", ok, err)
	}
	equal(t, "owner's Acquire", l, &engine.Leased{Payment: pv2, Refunds: []*engine.RefundRecord{r}, Notification: n})
	// After expiry: a with a short lease claims one, b acquires it.
	q := Payment("q1", "cq")
	claim(t, a, q)
	var got *engine.Leased
	eventually(t, "Acquire after expiry", func() bool {
		l, ok, err := b.Acquire(bg, "q1")
		if err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		got = l
		return ok
	})
	equal(t, "acquired after expiry", got, &engine.Leased{Payment: q})
	leaseLost(t, a.Append(bg, pays(next(q)), true))
}

func testRenewCancel(t *testing.T, open OpenFunc) {
	a, b := open(t, "a", Long), open(t, "b", Long)
	p1, p2 := Payment("p1", "c1"), Payment("p2", "c2")
	claim(t, a, p1)
	claim(t, a, p2)
	if err := b.RequestCancel(bg, "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("RequestCancel(missing) = %v, want ErrNotFound", err)
	}
	if err := b.RequestCancel(bg, "p2"); err != nil {
		t.Fatal(err)
	}
	// The owner's writes never clear the request.
	appendOK(t, a, pays(next(p2)))
	if cancels, err := b.Renew(bg); err != nil || len(cancels) != 0 {
		t.Fatalf("other node's Renew = %v, %v; want none", cancels, err)
	}
	cancels, err := a.Renew(bg)
	if err != nil || !slices.Equal(cancels, []string{"p2"}) {
		t.Fatalf("Renew = %v, %v; want [p2]", cancels, err)
	}
	if cancels, err := a.Renew(bg); err != nil || len(cancels) != 0 {
		t.Fatalf("second Renew = %v, %v; want none (cleared)", cancels, err)
	}
	// A request on a payment of the node itself is reported too.
	if err := a.RequestCancel(bg, "p1"); err != nil {
		t.Fatal(err)
	}
	if err := b.RequestCancel(bg, "p2"); err != nil {
		t.Fatal(err)
	}
	cancels, err = a.Renew(bg)
	sort.Strings(cancels)
	if err != nil || !slices.Equal(cancels, []string{"p1", "p2"}) {
		t.Fatalf("Renew = %v, %v; want [p1 p2]", cancels, err)
	}
}

// testRenewRacesCancel: cancel requests arriving while the owner renews
// are each reported exactly once, none lost.
func testRenewRacesCancel(t *testing.T, open OpenFunc) {
	a, b := open(t, "a", Long), open(t, "b", Long)
	const n = 30
	for i := range n {
		claim(t, a, Payment(fmt.Sprintf("p%02d", i), fmt.Sprintf("c%02d", i)))
	}
	requested := make(chan struct{})
	go func() {
		defer close(requested)
		for i := range n {
			if err := b.RequestCancel(bg, fmt.Sprintf("p%02d", i)); err != nil {
				t.Errorf("RequestCancel: %v", err)
				return
			}
		}
	}()
	seen := map[string]int{}
	renew := func() {
		cancels, err := a.Renew(bg)
		if err != nil {
			t.Fatalf("Renew: %v", err)
		}
		for _, id := range cancels {
			seen[id]++
		}
	}
	for running := true; running; {
		select {
		case <-requested:
			running = false
		default:
		}
		renew()
	}
	renew() // after the last request
	if len(seen) != n {
		t.Fatalf("%d of %d cancel requests reported", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("cancel of %s reported %d times", id, k)
		}
	}
}

func testRenewKeepsLease(t *testing.T, open OpenFunc) {
	const ttl = 600 * time.Millisecond
	a, b := open(t, "a", ttl), open(t, "b", Long)
	p := Payment("p1", "c1")
	claim(t, a, p)
	// Renewing every 50ms for 2.5 lease lengths keeps the payment a's.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for end := time.Now().Add(ttl * 5 / 2); time.Now().Before(end); <-tick.C {
		if _, err := a.Renew(bg); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := b.Acquire(bg, "p1"); ok || err != nil {
			t.Fatalf("Acquire of a renewed lease = %v, %v; want false, nil", ok, err)
		}
	}
	appendOK(t, a, pays(next(p)))
	// Without renewal it expires.
	eventually(t, "Acquire once renewals stop", func() bool {
		_, ok, err := b.Acquire(bg, "p1")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
}

func testRelease(t *testing.T, open OpenFunc) {
	a, b := open(t, "a", Long), open(t, "b", Long)
	p1, p2, p3 := Payment("p1", "c1"), Payment("p2", "c2"), Payment("p3", "c3")
	claim(t, a, p1)
	claim(t, a, p2)
	claim(t, b, p3)
	n := Notification("p1", 0)
	appendOK(t, a, &engine.Batch{Notifications: []*engine.NotificationRecord{n}})
	if ls, err := b.TakeOver(bg, 10); err != nil || len(ls) != 0 {
		t.Fatalf("TakeOver before Release = %v, %v; want none (live leases, b's own included, are never taken)", ls, err)
	}
	if err := a.Release(bg); err != nil {
		t.Fatal(err)
	}
	// At once, with a one-minute lease: no waiting.
	ls, err := b.TakeOver(bg, 10)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Payment.PaymentID < ls[j].Payment.PaymentID })
	equal(t, "taken over after Release", ls, []*engine.Leased{{Payment: p1, Notification: n}, {Payment: p2}})
	leaseLost(t, a.Append(bg, pays(next(p1)), true))
	if _, ok, err := a.Acquire(bg, "p1"); ok || err != nil {
		t.Fatalf("Acquire after b took over = %v, %v; want false, nil", ok, err)
	}
}

func testRestart(t *testing.T, open OpenFunc) {
	a := open(t, "a", Long)
	b := open(t, "b", Long)
	p1, p2 := Payment("p1", "c1"), Payment("p2", "c2")
	claim(t, a, p1)
	claim(t, b, p2)
	// Node a restarts under its name: it releases its old leases (still
	// live) and takes them back at once; b's stay b's.
	a2 := open(t, "a", Long)
	if ls, err := a2.TakeOver(bg, 10); err != nil || len(ls) != 0 {
		t.Fatalf("TakeOver of live leases = %v, %v; want none", ls, err)
	}
	if err := a2.Release(bg); err != nil {
		t.Fatal(err)
	}
	ls, err := a2.TakeOver(bg, 10)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "restarted node's TakeOver", ls, []*engine.Leased{{Payment: p1}})
	appendOK(t, a2, pays(next(p1)))
}

func testTakeOverDisjoint(t *testing.T, open OpenFunc) {
	dead := open(t, "dead", Short)
	const n = 40
	for i := range n {
		claim(t, dead, Payment(fmt.Sprintf("p%02d", i), fmt.Sprintf("c%02d", i)))
	}
	nodes := []engine.SharedJournal{open(t, "b", Long), open(t, "c", Long), open(t, "d", Long)}
	// Wait for all the dead node's leases to expire: the last one claimed
	// expires last (Acquire reports it, and b keeps that one).
	last := fmt.Sprintf("p%02d", n-1)
	eventually(t, "dead node's leases expire", func() bool {
		_, ok, err := nodes[0].Acquire(bg, last)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
	taken := map[string]string{last: "b"}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, j := range nodes {
		name := string(rune('b' + i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ls, err := j.TakeOver(bg, 3)
				if err != nil {
					t.Errorf("TakeOver: %v", err)
					return
				}
				mu.Lock()
				fresh := 0
				for _, l := range ls {
					id := l.Payment.PaymentID
					if prev, dup := taken[id]; dup && prev != name {
						t.Errorf("%s taken by %s and %s", id, prev, name)
					}
					if _, dup := taken[id]; !dup {
						fresh++
					}
					taken[id] = name
				}
				mu.Unlock()
				// Expired leases sort first: a call that finds none
				// left (only this node's own) means the others have
				// them or are taking them.
				if fresh == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(taken) != n {
		t.Fatalf("%d payments taken over, want %d", len(taken), n)
	}
	leaseLost(t, dead.Append(bg, pays(next(Payment("p01", "c01"))), true))
}

func testClaimRefund(t *testing.T, open OpenFunc) {
	a, b := open(t, "a", Long), open(t, "b", Long)
	p := Payment("p1", "c1")
	claim(t, a, p)
	pv2 := next(p)
	pv2.Refunded = 100
	r1 := Refund("r1", "p1")
	if got, err := a.ClaimRefund(bg, &engine.Batch{Payments: []*engine.PaymentRecord{pv2}, Refunds: []*engine.RefundRecord{r1}}); err != nil || got != nil {
		t.Fatalf("ClaimRefund = %+v, %v; want nil, nil", got, err)
	}
	got, refunds := getPayment(t, b, "p1")
	equal(t, "payment after ClaimRefund", got, pv2)
	equal(t, "refunds after ClaimRefund", refunds, []*engine.RefundRecord{r1})
	// The same request again (another refund id): r1 comes back, nothing
	// is written.
	pv3 := next(pv2)
	pv3.Refunded = 200
	again := Refund("r2", "p1")
	again.RequestID = r1.RequestID
	if got, err := a.ClaimRefund(bg, &engine.Batch{Payments: []*engine.PaymentRecord{pv3}, Refunds: []*engine.RefundRecord{again}}); err != nil || !reflect.DeepEqual(got, r1) {
		t.Fatalf("ClaimRefund(same request) = %+v, %v; want r1", got, err)
	}
	got, refunds = getPayment(t, b, "p1")
	equal(t, "payment after a duplicate ClaimRefund", got, pv2)
	equal(t, "refunds after a duplicate ClaimRefund", refunds, []*engine.RefundRecord{r1})
	// Concurrent claims of one refund request on two nodes: one stores it.
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored, returned := 0, 0
	for i, j := range []engine.SharedJournal{a, a, b, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := Refund(fmt.Sprintf("race%d", i), "p1")
			r.RequestID = "race"
			existing, err := j.ClaimRefund(bg, &engine.Batch{Payments: []*engine.PaymentRecord{pv3}, Refunds: []*engine.RefundRecord{r}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && existing == nil:
				stored++
			case err == nil && existing.RequestID == "race":
				returned++
			case errors.Is(err, engine.ErrLeaseLost) && j == b:
				// b does not hold p1: refused, nothing written.
			default:
				t.Errorf("ClaimRefund on node %d: %+v, %v", i, existing, err)
			}
		}()
	}
	wg.Wait()
	if stored != 1 {
		t.Fatalf("%d concurrent ClaimRefunds stored (%d returned the stored one), want 1", stored, returned)
	}
	_, refunds = getPayment(t, b, "p1")
	if len(refunds) != 2 {
		t.Fatalf("%d refunds stored, want 2", len(refunds))
	}
}

func testClaimRefundFenced(t *testing.T, open OpenFunc) {
	a, b := open(t, "a", Long), open(t, "b", Long)
	p := Payment("p1", "c1")
	claim(t, b, p)
	pv2 := next(p)
	pv2.Refunded = 100
	r := Refund("r1", "p1")
	_, err := a.ClaimRefund(bg, &engine.Batch{Payments: []*engine.PaymentRecord{pv2}, Refunds: []*engine.RefundRecord{r}})
	leaseLost(t, err)
	got, refunds := getPayment(t, b, "p1")
	equal(t, "payment after a fenced ClaimRefund", got, p)
	equal(t, "refunds after a fenced ClaimRefund", len(refunds), 0)
	if got, err := b.GetRefund(bg, "", "", "r1"); err != nil || got != nil {
		t.Fatalf("GetRefund after a fenced ClaimRefund = %+v, %v; want nothing", got, err)
	}
	// The owner's claim of the same request then succeeds.
	if got, err := b.ClaimRefund(bg, &engine.Batch{Payments: []*engine.PaymentRecord{pv2}, Refunds: []*engine.RefundRecord{r}}); err != nil || got != nil {
		t.Fatalf("owner's ClaimRefund = %+v, %v", got, err)
	}
}
