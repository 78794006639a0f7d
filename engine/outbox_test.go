package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal/journaltest"
)

// TestNotificationOutboxInJournal: a payment whose merchant endpoint never
// acknowledges leaves memory at the next lease ticks while its
// notification stays pending in the journal's outbox; the outbox retries
// it by due time on the schedule, from any node, then abandons it
// (counted, its journal record deleted).
func TestNotificationOutboxInJournal(t *testing.T) {
	bg := context.Background()
	c := newCluster()
	n := &flakyNotifier{failures: 1 << 30}
	schedule := []time.Duration{0, time.Minute, time.Hour}
	a := c.node(t, 1, func(cfg *engine.Config) {
		cfg.Notifier = n
		cfg.NotifySchedule = schedule
	})
	b := c.node(t, 2, func(cfg *engine.Config) {
		cfg.Notifier = n
		cfg.NotifySchedule = schedule
	})
	req := payReq("p1", code(1, 1), 500)
	req.NotifyURL = []byte("https://merchant.test/notify")
	if v := a.pay(req); v.Status != codec.StatusSuccess {
		t.Fatalf("pay: %v", v.ResultCode)
	}
	for range 2 {
		a.e.LeaseTick(bg)
	}
	if r := a.e.Resident(); r != 0 {
		t.Fatalf("%d payments resident with only a notification pending, want 0", r)
	}
	if p := a.e.PendingNotifications(); p != 1 {
		t.Fatalf("pending notifications %d, want 1 (in the journal)", p)
	}
	attempts := func(want int) {
		t.Helper()
		if got := len(n.bodies); got != want {
			t.Fatalf("delivery attempts %d, want %d", got, want)
		}
	}
	a.e.DeliverNotifications(bg)
	attempts(1)
	a.e.DeliverNotifications(bg) // the retry is not due yet
	b.e.DeliverNotifications(bg)
	attempts(1)
	c.clock.Advance(time.Minute - time.Second)
	b.e.DeliverNotifications(bg)
	attempts(1)
	c.clock.Advance(time.Second)
	b.e.DeliverNotifications(bg) // any node delivers
	attempts(2)
	if r := a.e.Resident() + b.e.Resident(); r != 0 {
		t.Fatalf("%d payments resident while the notification is retried, want 0", r)
	}
	c.clock.Advance(time.Hour)
	a.e.DeliverNotifications(bg)
	attempts(3)
	if got := a.e.Stats().NotificationsAbandoned.Load(); got != 1 {
		t.Fatalf("abandoned %d, want 1", got)
	}
	if p := a.e.PendingNotifications(); p != 0 {
		t.Fatalf("pending notifications %d after abandoning, want 0", p)
	}
	if l := journaltest.Load(t, c.db.Node("check", leaseTTL)); len(l.Notes) != 0 {
		t.Fatalf("journal still holds %d notifications", len(l.Notes))
	}
	c.clock.Advance(24 * time.Hour)
	a.e.DeliverNotifications(bg)
	b.e.DeliverNotifications(bg)
	attempts(3)
}

// TestNotificationAckedOnce: an acknowledged notification leaves the
// journal and is not sent again.
func TestNotificationAckedOnce(t *testing.T) {
	bg := context.Background()
	c := newCluster()
	n := &flakyNotifier{}
	a := c.node(t, 1, func(cfg *engine.Config) { cfg.Notifier = n })
	req := payReq("p1", code(1, 1), 500)
	req.NotifyURL = []byte("https://merchant.test/notify")
	if v := a.pay(req); v.Status != codec.StatusSuccess {
		t.Fatalf("pay: %v", v.ResultCode)
	}
	if got := a.e.DeliverNotifications(bg); got != 1 {
		t.Fatalf("delivered %d, want 1", got)
	}
	if p := a.e.PendingNotifications(); p != 0 {
		t.Fatalf("pending %d after the acknowledgement, want 0", p)
	}
	if got := a.e.DeliverNotifications(bg); got != 0 {
		t.Fatalf("delivered %d again, want 0", got)
	}
}
