package journal

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/paycode/paycode/engine"
)

// TestDueFloor: TakeNotifications reads the due index from its floor,
// which each take raises; every notification that is due by now is still
// taken, whichever way it reached the index below or at the floor: an
// Append due before the last take's now, a settle whose next try is in
// the past, the rest of a take cut at its limit, one due later within the
// second a take read, a claim that ends within the take's own second, and
// a clock stepped back.
func TestDueFloor(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	note := func(id string, due time.Time) *engine.NotificationRecord {
		return &engine.NotificationRecord{PaymentID: id, URL: "https://m.example/n", Body: []byte(id), Due: due}
	}
	type step struct {
		add    *engine.NotificationRecord // Append it, or
		settle string                     // settle the last take's notification of this payment, next due at next
		next   time.Time
		now    time.Time // else take at now, claimed until now+claim (a second without claim)
		claim  time.Duration
		limit  int
		want   []string // payments taken, in order
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"appended-before-the-floor", []step{
			{now: t0.Add(10 * time.Second), want: nil},
			{add: note("a", t0)},
			{now: t0.Add(10 * time.Second), want: []string{"a"}},
		}},
		{"settled-into-the-past", []step{
			{add: note("a", t0)},
			{now: t0.Add(time.Second), claim: time.Minute, want: []string{"a"}},
			{now: t0.Add(5 * time.Second), want: nil},
			{settle: "a", next: t0.Add(2 * time.Second)},
			{now: t0.Add(5 * time.Second), want: []string{"a"}},
		}},
		{"cut-at-limit", []step{
			{add: note("a", t0)}, {add: note("b", t0)}, {add: note("c", t0.Add(time.Second))},
			{now: t0.Add(2 * time.Second), claim: time.Minute, limit: 1, want: []string{"a"}},
			{now: t0.Add(2 * time.Second), claim: time.Minute, want: []string{"b", "c"}},
		}},
		{"later-in-the-same-second", []step{
			{add: note("a", t0.Add(100*time.Millisecond))}, {add: note("b", t0.Add(900*time.Millisecond))},
			{now: t0.Add(500 * time.Millisecond), claim: time.Minute, want: []string{"a"}},
			{now: t0.Add(950 * time.Millisecond), claim: time.Minute, want: []string{"b"}},
		}},
		{"claim-within-the-second", []step{
			{add: note("a", t0)},
			{now: t0.Add(100 * time.Millisecond), claim: 200 * time.Millisecond, want: []string{"a"}},
			{now: t0.Add(400 * time.Millisecond), want: []string{"a"}},
		}},
		{"clock-stepped-back", []step{
			{now: t0.Add(time.Hour), want: nil},
			{now: t0, want: nil},
			{add: note("a", t0.Add(-time.Second))},
			{now: t0, want: []string{"a"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			j, err := Open("/j", Options{FS: vfs.NewMem(), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			taken := map[string]*engine.NotificationRecord{}
			for i, s := range tc.steps {
				switch {
				case s.add != nil:
					if err := j.Append(ctx, &engine.Batch{Notifications: []*engine.NotificationRecord{s.add}}, false); err != nil {
						t.Fatal(err)
					}
				case s.settle != "":
					next := *taken[s.settle]
					next.Due, next.Attempts = s.next, next.Attempts+1
					if ok, err := j.SettleNotification(ctx, taken[s.settle], &next); !ok || err != nil {
						t.Fatalf("step %d: settle %s: %v %v", i, s.settle, ok, err)
					}
				default:
					limit := s.limit
					if limit == 0 {
						limit = 10
					}
					claim := s.claim
					if claim == 0 {
						claim = time.Second
					}
					got, err := j.TakeNotifications(ctx, s.now, s.now.Add(claim), limit)
					if err != nil {
						t.Fatal(err)
					}
					var ids []string
					for _, n := range got {
						ids = append(ids, n.PaymentID)
						taken[n.PaymentID] = n
					}
					if fmt.Sprint(ids) != fmt.Sprint(s.want) {
						t.Fatalf("step %d: take at %s took %v, want %v", i, s.now.Sub(t0), ids, s.want)
					}
				}
			}
		})
	}
}

// BenchmarkTakeNotificationsAfter: a poll of the outbox when nothing is
// due, on a journal that has written, taken and settled n notifications,
// one every 333 µs (3,000 a second), as the engine's outbox does for every
// pay; each poll is 1 ms after the last. Pebble keeps the deleted due
// entries until a compaction drops them.
func BenchmarkTakeNotificationsAfter(b *testing.B) {
	for _, n := range []int{0, 10000, 30000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			j, err := Open("/j", Options{FS: vfs.NewMem(), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			t0 := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
			now := t0
			for i := range n {
				now = t0.Add(time.Duration(i) * time.Second / 3000)
				r := &engine.NotificationRecord{PaymentID: fmt.Sprintf("n%09d", i), URL: "https://m.example/n", Body: make([]byte, 300), Due: now}
				if err := j.Append(ctx, &engine.Batch{Notifications: []*engine.NotificationRecord{r}}, false); err != nil {
					b.Fatal(err)
				}
				got, err := j.TakeNotifications(ctx, now, now.Add(35*time.Second), 64)
				if err != nil || len(got) != 1 {
					b.Fatal(len(got), err)
				}
				if ok, err := j.SettleNotification(ctx, got[0], nil); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
			for b.Loop() {
				now = now.Add(time.Millisecond)
				if got, err := j.TakeNotifications(ctx, now, now.Add(35*time.Second), 64); err != nil || len(got) != 0 {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}
