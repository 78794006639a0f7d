package journaltest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/engine"
)

// OutboxJournal is a journal that serves its notifications by due time.
type OutboxJournal interface {
	engine.Journal
	engine.Outbox
}

// OpenOutboxFunc opens node's view of test t's journal: like OpenFunc,
// every call with the same t reaches the same journal. A one-node journal
// (Pebble) returns the same store for every node.
type OpenOutboxFunc func(t *testing.T, node string) OutboxJournal

// RunOutbox runs the outbox conformance suite (engine.Outbox) as subtests
// of t.
func RunOutbox(t *testing.T, open OpenOutboxFunc) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open OpenOutboxFunc)
	}{
		{"TakeByDue", testTakeByDue},
		{"TakeWithinSecond", testTakeWithinSecond},
		{"SettleDelete", testSettleDelete},
		{"SettleRetry", testSettleRetry},
		{"SettleLosesToNewer", testSettleLosesToNewer},
		{"SettleLosesToRetake", testSettleLosesToRetake},
		{"TakeDisjoint", testTakeDisjoint},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// note is a pending notification of id due at due.
func note(id string, due time.Time) *engine.NotificationRecord {
	n := Notification(id, 0)
	n.Due = due
	return n
}

func notes(ns ...*engine.NotificationRecord) *engine.Batch {
	return &engine.Batch{Notifications: ns}
}

func take(t *testing.T, j engine.Outbox, now, until time.Time, limit int) []*engine.NotificationRecord {
	t.Helper()
	got, err := j.TakeNotifications(bg, now, until, limit)
	if err != nil {
		t.Fatalf("TakeNotifications: %v", err)
	}
	return got
}

func ids(ns []*engine.NotificationRecord) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.PaymentID
	}
	return out
}

func settle(t *testing.T, j engine.Outbox, taken, next *engine.NotificationRecord, want bool) {
	t.Helper()
	ok, err := j.SettleNotification(bg, taken, next)
	if err != nil || ok != want {
		t.Fatalf("SettleNotification(%s) = %v, %v; want %v, nil", taken.PaymentID, ok, err, want)
	}
}

func count(t *testing.T, j engine.Outbox, want int) {
	t.Helper()
	n, err := j.CountNotifications(bg)
	if err != nil || n != want {
		t.Fatalf("CountNotifications = %d, %v; want %d", n, err, want)
	}
}

func testTakeByDue(t *testing.T, open OpenOutboxFunc) {
	j := open(t, "a")
	appendOK(t, j, notes(note("n3", t0.Add(2*time.Hour)), note("n2", t0.Add(time.Minute)), note("n1", t0)))
	now, until := t0.Add(time.Minute), t0.Add(2*time.Minute)
	got := take(t, j, now, until, 1)
	equal(t, "first take (limit 1)", ids(got), []string{"n1"})
	got = take(t, j, now, until, 10)
	equal(t, "second take", ids(got), []string{"n2"})
	want := note("n2", until)
	equal(t, "taken record", *got[0], *want)
	equal(t, "take while claimed", len(take(t, j, now, until, 10)), 0)
	// The claim is stored: Load sees it, and it runs out at until.
	equal(t, "loaded due", Load(t, j).Notes["n1"].Due.Equal(until), true)
	got = take(t, j, until, until.Add(time.Minute), 10)
	equal(t, "take after the claim ran out", ids(got), []string{"n1", "n2"})
	equal(t, "n3 untouched", Load(t, j).Notes["n3"].Due.Equal(t0.Add(2*time.Hour)), true)
}

func testTakeWithinSecond(t *testing.T, open OpenOutboxFunc) {
	j := open(t, "a")
	due := t0.Truncate(time.Second).Add(600 * time.Millisecond)
	appendOK(t, j, notes(note("w1", due)))
	equal(t, "take before due in its second", len(take(t, j, due.Add(-300*time.Millisecond), due.Add(time.Minute), 10)), 0)
	equal(t, "take at due", ids(take(t, j, due, due.Add(time.Minute), 10)), []string{"w1"})
}

func testSettleDelete(t *testing.T, open OpenOutboxFunc) {
	j := open(t, "a")
	appendOK(t, j, notes(note("d1", t0), note("d2", t0)))
	got := take(t, j, t0, t0.Add(time.Minute), 10)
	equal(t, "taken", ids(got), []string{"d1", "d2"})
	count(t, j, 2)
	settle(t, j, got[0], nil, true)
	settle(t, j, got[0], nil, false) // already gone
	count(t, j, 1)
	l := Load(t, j)
	equal(t, "pending after settling d1", keys(l.Notes), []string{"d2"})
	equal(t, "take after the claim", ids(take(t, j, t0.Add(time.Hour), t0.Add(2*time.Hour), 10)), []string{"d2"})
}

func testSettleRetry(t *testing.T, open OpenOutboxFunc) {
	j := open(t, "a")
	appendOK(t, j, notes(note("r1", t0)))
	got := take(t, j, t0, t0.Add(time.Minute), 10)
	next := *got[0]
	next.Attempts, next.Due = 1, t0.Add(10*time.Minute)
	settle(t, j, got[0], &next, true)
	equal(t, "take before the retry is due", len(take(t, j, t0.Add(5*time.Minute), t0.Add(6*time.Minute), 10)), 0)
	got = take(t, j, t0.Add(10*time.Minute), t0.Add(11*time.Minute), 10)
	if len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("retry taken = %+v; want r1 with 1 attempt", got)
	}
}

func testSettleLosesToNewer(t *testing.T, open OpenOutboxFunc) {
	j := open(t, "a")
	appendOK(t, j, notes(note("s1", t0)))
	got := take(t, j, t0, t0.Add(time.Minute), 10)
	// The payment's owner writes a newer final state while the old one
	// is being delivered: neither an ack nor a retry of the old one may
	// replace it.
	newer := note("s1", t0.Add(time.Second))
	newer.Body = []byte(`{"paymentId":"s1","paymentStatus":"CANCELLED"}`)
	appendOK(t, j, notes(newer))
	settle(t, j, got[0], nil, false)
	retry := *got[0]
	retry.Attempts, retry.Due = 1, t0.Add(time.Hour)
	settle(t, j, got[0], &retry, false)
	got = take(t, j, t0.Add(2*time.Second), t0.Add(time.Minute), 10)
	if len(got) != 1 || !bytes.Equal(got[0].Body, newer.Body) || got[0].Attempts != 0 {
		t.Fatalf("after a newer write, taken = %+v; want the newer body, 0 attempts", got)
	}
}

func testSettleLosesToRetake(t *testing.T, open OpenOutboxFunc) {
	a, b := open(t, "a"), open(t, "b")
	appendOK(t, a, notes(note("k1", t0)))
	mine := take(t, a, t0, t0.Add(time.Minute), 10)
	// a's claim runs out (a is slow or dead): b takes it; a's late
	// settle changes nothing, b's applies.
	theirs := take(t, b, t0.Add(time.Minute), t0.Add(2*time.Minute), 10)
	equal(t, "retaken", ids(theirs), []string{"k1"})
	settle(t, a, mine[0], nil, false)
	settle(t, b, theirs[0], nil, true)
	equal(t, "pending", len(Load(t, a).Notes), 0)
}

func testTakeDisjoint(t *testing.T, open OpenOutboxFunc) {
	const n, workers = 60, 4
	js := make([]OutboxJournal, workers)
	for i := range js {
		js[i] = open(t, fmt.Sprintf("node%d", i))
	}
	b := &engine.Batch{}
	for i := range n {
		b.Notifications = append(b.Notifications, note(fmt.Sprintf("t%03d", i), t0.Add(time.Duration(i)*time.Millisecond)))
	}
	appendOK(t, js[0], b)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for _, j := range js {
		wg.Go(func() {
			for {
				got, err := j.TakeNotifications(bg, t0.Add(time.Second), t0.Add(time.Hour), 7)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, r := range got {
					seen[r.PaymentID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("TakeNotifications: %v", err)
	}
	if len(seen) != n {
		t.Fatalf("took %d distinct notifications, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("%s taken %d times by concurrent takers, want once", id, c)
		}
	}
}
