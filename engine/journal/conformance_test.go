package journal_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// implementations runs f against every journal implementation.
func implementations(t *testing.T, f func(t *testing.T, open func(t *testing.T) testJournal)) {
	t.Run("Mem", func(t *testing.T) {
		f(t, func(t *testing.T) testJournal {
			j := journal.NewMem()
			t.Cleanup(func() { _ = j.Close() })
			return j
		})
	})
	t.Run("PebbleMemFS", func(t *testing.T) {
		f(t, func(t *testing.T) testJournal {
			return openPebble(t, "", journal.Options{FS: vfs.NewMem()})
		})
	})
	t.Run("PebbleDisk", func(t *testing.T) {
		f(t, func(t *testing.T) testJournal {
			return openPebble(t, t.TempDir(), journal.Options{})
		})
	})
}

// openPebble opens a Pebble journal that is closed at the end of the test.
func openPebble(t testing.TB, dir string, opts journal.Options) *journal.Pebble {
	t.Helper()
	if dir == "" {
		dir = "/journal"
	}
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	j, err := journal.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = j.Close() })
	return j
}

func TestConformance(t *testing.T) {
	implementations(t, func(t *testing.T, open func(t *testing.T) testJournal) {
		t.Run("Empty", func(t *testing.T) {
			j := open(t)
			l := load(t, j)
			if len(l.Payments)+len(l.Refunds)+len(l.Notes) != 0 {
				t.Fatalf("new journal loads %+v", l)
			}
			if len(j.CodeKey()) != journal.CodeKeySize {
				t.Fatalf("CodeKey is %d bytes", len(j.CodeKey()))
			}
		})
		t.Run("LatestVersionWins", func(t *testing.T) {
			j := open(t)
			v1 := payment("p1", codec.StatusProcessing, t0, 1)
			v2 := payment("p1", codec.StatusSuccess, t0.Add(time.Second), 2)
			other := payment("p2", codec.StatusProcessing, t0, 1)
			r1 := refund("r1", "p1", codec.StatusProcessing, t0.Add(2*time.Second))
			appendOK(t, j, &engine.Batch{Payments: []*engine.PaymentRecord{v1, other}})
			appendOK(t, j, &engine.Batch{Payments: []*engine.PaymentRecord{v2}, Refunds: []*engine.RefundRecord{r1}})
			r2 := refund("r1", "p1", codec.StatusSuccess, t0.Add(3*time.Second))
			r2.Version = 2
			appendOK(t, j, &engine.Batch{Refunds: []*engine.RefundRecord{r2}})
			l := load(t, j)
			mustEqual(t, "payment ids", keys(l.Payments), []string{"p1", "p2"})
			mustEqual(t, "p1", l.Payments["p1"], v2)
			mustEqual(t, "p2", l.Payments["p2"], other)
			mustEqual(t, "r1", l.Refunds["r1"], r2)
		})
		t.Run("AppendCopies", func(t *testing.T) {
			j := open(t)
			p := payment("p1", codec.StatusProcessing, t0, 1)
			appendOK(t, j, &engine.Batch{Payments: []*engine.PaymentRecord{p}})
			want := *p
			p.Status = codec.StatusFail // the engine reuses its records
			mustEqual(t, "stored", load(t, j).Payments["p1"], &want)
		})
		t.Run("Notifications", func(t *testing.T) {
			j := open(t)
			appendOK(t, j, &engine.Batch{Notifications: []*engine.NotificationRecord{notification("p1", 0), notification("p2", 0)}})
			n1 := notification("p1", 1)
			appendOK(t, j, &engine.Batch{Notifications: []*engine.NotificationRecord{n1}, Delivered: []string{"p2"}})
			l := load(t, j)
			mustEqual(t, "notifications", keys(l.Notes), []string{"p1"})
			mustEqual(t, "p1", l.Notes["p1"], n1)
			// Delivered applies after Notifications within one batch, and
			// deleting an absent notification is fine.
			appendOK(t, j, &engine.Batch{Notifications: []*engine.NotificationRecord{notification("p3", 0)}, Delivered: []string{"p3", "p1", "nope"}})
			mustEqual(t, "notifications", len(load(t, j).Notes), 0)
		})
		t.Run("EmptyBatch", func(t *testing.T) {
			j := open(t)
			for _, sync := range []bool{false, true} {
				if err := j.Append(context.Background(), &engine.Batch{}, sync); err != nil {
					t.Fatalf("empty Append(sync=%v): %v", sync, err)
				}
			}
			p := payment("p1", codec.StatusProcessing, t0, 1)
			if err := j.Append(context.Background(), &engine.Batch{Payments: []*engine.PaymentRecord{p}}, false); err != nil {
				t.Fatal(err)
			}
			appendOK(t, j, &engine.Batch{}) // sync barrier
			mustEqual(t, "payments", keys(load(t, j).Payments), []string{"p1"})
		})
		t.Run("Invalid", func(t *testing.T) {
			j := open(t)
			bad := []*engine.Batch{
				nil,
				{Payments: []*engine.PaymentRecord{payment("", codec.StatusProcessing, t0, 1)}},
				{Payments: []*engine.PaymentRecord{nil}},
				{Payments: []*engine.PaymentRecord{payment("a\x00b", codec.StatusProcessing, t0, 1)}},
				{Refunds: []*engine.RefundRecord{refund("r1", "", codec.StatusProcessing, t0)}},
				{Notifications: []*engine.NotificationRecord{notification("", 0)}},
				{Delivered: []string{""}},
				{Payments: []*engine.PaymentRecord{payment("ok", codec.StatusProcessing, t0, 1)}, Delivered: []string{""}},
			}
			for i, b := range bad {
				if err := j.Append(context.Background(), b, true); !errors.Is(err, journal.ErrInvalid) {
					t.Fatalf("batch %d: err = %v, want ErrInvalid", i, err)
				}
			}
			// Nothing was written, and the journal still works.
			appendOK(t, j, &engine.Batch{Payments: []*engine.PaymentRecord{payment("p1", codec.StatusProcessing, t0, 1)}})
			mustEqual(t, "payments", keys(load(t, j).Payments), []string{"p1"})
		})
		t.Run("Canceled", func(t *testing.T) {
			j := open(t)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			b := &engine.Batch{Payments: []*engine.PaymentRecord{payment("p1", codec.StatusProcessing, t0, 1)}}
			if err := j.Append(ctx, b, true); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
			appendOK(t, j, b) // not a journal failure
		})
		t.Run("Compact", func(t *testing.T) { testCompact(t, open(t)) })
		t.Run("Concurrent", func(t *testing.T) {
			j := open(t)
			const writers, each = 100, 10
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						id := "w" + itoa(w) + "-" + itoa(i)
						b := &engine.Batch{
							Payments:      []*engine.PaymentRecord{payment(id, codec.StatusSuccess, t0, 2)},
							Notifications: []*engine.NotificationRecord{notification(id, 0)},
						}
						if err := j.Append(context.Background(), b, true); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			l := load(t, j)
			if len(l.Payments) != writers*each || len(l.Notes) != writers*each {
				t.Fatalf("loaded %d payments, %d notifications, want %d", len(l.Payments), len(l.Notes), writers*each)
			}
		})
		t.Run("Closed", func(t *testing.T) {
			j := open(t)
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if err := j.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			b := &engine.Batch{Payments: []*engine.PaymentRecord{payment("p1", codec.StatusProcessing, t0, 1)}}
			if err := j.Append(context.Background(), b, true); !errors.Is(err, journal.ErrClosed) {
				t.Fatalf("Append after Close: %v", err)
			}
			if err := j.Load(context.Background(), func(*engine.Record) error { return nil }); !errors.Is(err, journal.ErrClosed) {
				t.Fatalf("Load after Close: %v", err)
			}
		})
	})
}

func itoa(i int) string {
	return string(rune('a'+i/26/26%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i%26))
}

// testCompact: final payments older than the cut-off go, with their
// refunds; everything still in play stays.
func testCompact(t *testing.T, j testJournal) {
	old := t0
	cut := t0.Add(31 * 24 * time.Hour)
	recent := cut.Add(time.Hour)

	oldDone := payment("old-done", codec.StatusSuccess, old, 3)
	oldFail := payment("old-fail", codec.StatusFail, old, 2)
	oldCancelled := payment("old-cancelled", codec.StatusCancelled, old, 2)
	oldOpen := payment("old-open", codec.StatusProcessing, old, 1)
	oldCancelWanted := payment("old-cancel-wanted", codec.StatusFail, old, 2)
	oldCancelWanted.CancelWanted = true
	recentDone := payment("recent-done", codec.StatusSuccess, recent, 2)
	// final long ago, then changed again (a refund bumped it) recently
	revived := payment("revived", codec.StatusSuccess, old, 2)
	revived2 := payment("revived", codec.StatusSuccess, recent, 3)
	// final long ago, then reopened for a reversal (no longer final)
	reopened := payment("reopened", codec.StatusSuccess, old, 2)
	reopened2 := payment("reopened", codec.StatusSuccess, old.Add(time.Second), 3)
	reopened2.Reverse = true
	noted := payment("noted", codec.StatusSuccess, old, 2)
	refunding := payment("refunding", codec.StatusSuccess, old, 2)
	// a second exactly at the cut-off: Updated == before is not before
	atCut := payment("at-cut", codec.StatusSuccess, cut, 2)

	appendOK(t, j, &engine.Batch{
		Payments: []*engine.PaymentRecord{oldDone, oldFail, oldCancelled, oldOpen, oldCancelWanted, recentDone, revived, reopened, noted, refunding, atCut},
		Refunds: []*engine.RefundRecord{
			refund("r-done-1", "old-done", codec.StatusSuccess, old),
			refund("r-done-2", "old-done", codec.StatusFail, old),
			refund("r-open", "refunding", codec.StatusProcessing, old),
			refund("r-recent", "recent-done", codec.StatusSuccess, recent),
		},
		Notifications: []*engine.NotificationRecord{notification("noted", 3)},
	})
	appendOK(t, j, &engine.Batch{Payments: []*engine.PaymentRecord{revived2, reopened2}})

	n, err := j.Compact(context.Background(), cut)
	if err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if n != 3 {
		t.Errorf("Compact removed %d payments, want 3", n)
	}
	l := load(t, j)
	mustEqual(t, "payments left", keys(l.Payments), []string{"at-cut", "noted", "old-cancel-wanted", "old-open", "recent-done", "refunding", "reopened", "revived"})
	mustEqual(t, "refunds left", keys(l.Refunds), []string{"r-open", "r-recent"})
	mustEqual(t, "notifications left", keys(l.Notes), []string{"noted"})
	mustEqual(t, "revived", l.Payments["revived"], revived2)

	// Once the notification is delivered and the refund done, they go too.
	appendOK(t, j, &engine.Batch{Delivered: []string{"noted"}, Refunds: []*engine.RefundRecord{refund("r-open", "refunding", codec.StatusSuccess, old.Add(time.Minute))}})
	if n, err := j.Compact(context.Background(), cut); err != nil || n != 2 {
		t.Fatalf("second Compact = %d, %v; want 2", n, err)
	}
	// Compaction is idempotent.
	if n, err := j.Compact(context.Background(), cut); err != nil || n != 0 {
		t.Fatalf("third Compact = %d, %v; want 0", n, err)
	}
	// Everything goes eventually.
	if n, err := j.Compact(context.Background(), recent.Add(time.Hour)); err != nil || n != 3 {
		t.Fatalf("late Compact = %d, %v; want 3 (recent-done, revived, at-cut)", n, err)
	}
	l = load(t, j)
	mustEqual(t, "payments left", keys(l.Payments), []string{"old-cancel-wanted", "old-open", "reopened"})
	mustEqual(t, "refunds left", len(l.Refunds), 0)
}

// Compact never deletes a payment that an Append concurrently brings back
// to life with a newer version.
func TestCompactRacesAppend(t *testing.T) {
	implementations(t, func(t *testing.T, open func(t *testing.T) testJournal) {
		j := open(t)
		cut := t0.Add(time.Hour)
		const n = 300
		b := &engine.Batch{}
		for i := range n {
			b.Payments = append(b.Payments, payment("p"+itoa(i), codec.StatusSuccess, t0, 2))
		}
		appendOK(t, j, b)
		revived := make(chan string, n)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i += 3 {
				id := "p" + itoa(i)
				if err := j.Append(context.Background(), &engine.Batch{Payments: []*engine.PaymentRecord{payment(id, codec.StatusSuccess, cut.Add(time.Hour), 3)}}, false); err != nil {
					t.Error(err)
					return
				}
				revived <- id
			}
		}()
		removed := 0
		for range 5 {
			k, err := j.Compact(context.Background(), cut)
			if err != nil {
				t.Fatal(err)
			}
			removed += k
		}
		wg.Wait()
		close(revived)
		l := load(t, j)
		for id := range revived {
			if p := l.Payments[id]; p == nil || p.Version != 3 {
				t.Fatalf("revived payment %s: %+v", id, p)
			}
		}
		if removed+len(l.Payments) < n {
			t.Fatalf("removed %d and kept %d of %d", removed, len(l.Payments), n)
		}
	})
}
