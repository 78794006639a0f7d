package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal/journaltest"
)

// TestNotificationAbandoned: a merchant endpoint that never acknowledges
// gets the schedule's attempts, then the notification is abandoned
// (counted, its journal record deleted) and the final payment leaves
// memory at the next lease ticks instead of staying resident.
func TestNotificationAbandoned(t *testing.T) {
	bg := context.Background()
	c := newCluster()
	n := &flakyNotifier{failures: 1 << 30}
	a := c.node(t, 1, func(cfg *engine.Config) {
		cfg.Notifier = n
		cfg.NotifySchedule = []time.Duration{0, time.Minute, time.Hour}
	})
	req := payReq("p1", code(1, 1), 500)
	req.NotifyURL = []byte("https://merchant.test/notify")
	if v := a.pay(req); v.Status != codec.StatusSuccess {
		t.Fatalf("pay: %v", v.ResultCode)
	}
	for i := 0; i < 10 && a.e.PendingNotifications() > 0; i++ {
		a.e.ProcessDue(bg)
		if d, ok := a.e.NextFollowUp(); ok {
			c.clock.Advance(d.Sub(c.clock.Now()))
		}
	}
	if got := len(n.bodies); got != 3 {
		t.Fatalf("delivery attempts %d, want 3 (the schedule's length)", got)
	}
	if got := a.e.Stats().NotificationsAbandoned.Load(); got != 1 {
		t.Fatalf("abandoned %d, want 1", got)
	}
	if a.e.PendingNotifications() != 0 {
		t.Fatal("the abandoned notification is still pending")
	}
	if l := journaltest.Load(t, c.db.Node("check", leaseTTL)); len(l.Notes) != 0 {
		t.Fatalf("journal still holds %d notifications", len(l.Notes))
	}
	for range 3 {
		a.e.LeaseTick(bg)
	}
	if r := a.e.Resident(); r != 0 {
		t.Fatalf("%d payments resident after the notification was abandoned, want 0", r)
	}
}
