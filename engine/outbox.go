package engine

import (
	"bytes"
	"context"
	"time"

	"github.com/paycode/paycode/codec"
)

// Notifier delivers a notifyPayment body to a merchant's URL. nil means
// the merchant acknowledged it (HTTP 200 with a SUCCESS result); any error
// means it must be sent again. It is declared here, where it is used;
// engine/notify implements it over HTTP.
type Notifier interface {
	Notify(ctx context.Context, clientID, url string, body []byte) error
}

// DefaultNotifySchedule is the wait before each delivery attempt of a
// notification (spec §5.4, Antom's own: 0 s, 2 min, 10 min, 10 min, 1 h,
// 2 h, 6 h, 15 h): eight attempts over 24 h 22 min. A notification whose
// last attempt goes unacknowledged is abandoned (a warning in the log and
// paycode_engine_notifications_abandoned_total): a merchant endpoint that
// is down cannot keep payments in memory, or retries going, for ever.
// The merchant still learns the outcome from inquiryPayment.
var DefaultNotifySchedule = []time.Duration{
	0, 2 * time.Minute, 10 * time.Minute, 10 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour, 15 * time.Hour,
}

// outboxItem is a notification waiting for the merchant's acknowledgement.
// body, attempts and delivered are guarded by the payment's mu.
type outboxItem struct {
	p         *payment
	body      []byte
	attempts  int
	delivered bool
	queued    bool
}

// notifyBodyLocked writes p's notifyPayment body. Caller holds p.mu.
func (e *Engine) notifyBodyLocked(dst []byte, p *payment) []byte {
	var v codec.PaymentView
	p.viewLocked(&v, false)
	return codec.AppendNotifyPayment(dst, &v)
}

// enqueueNotificationLocked queues (or refreshes) p's notification with
// its current final state. body may be nil: it is then built here.
// Caller holds p.mu.
func (e *Engine) enqueueNotificationLocked(p *payment, body []byte) {
	if body == nil {
		body = e.notifyBodyLocked(nil, p)
	} else {
		body = append([]byte(nil), body...)
	}
	p.notifiedStatus = p.status
	if o := p.outbox; o != nil && !o.delivered {
		// A newer final state replaces the pending one, with a schedule
		// of its own.
		o.body, o.attempts = body, 0
		return
	}
	o := &outboxItem{p: p, body: body}
	p.outbox = o
	o.queued = true
	e.fu.push(fuItem{due: e.clock.Now(), n: o})
}

// notifyDelay is the wait before attempt number attempt (0-based); ok is
// false past the schedule's end: the notification is abandoned.
func (e *Engine) notifyDelay(attempt int) (d time.Duration, ok bool) {
	s := e.cfg.NotifySchedule
	if attempt >= len(s) {
		return 0, false
	}
	return s[attempt], true
}

// deliver sends one notification attempt and records the outcome.
func (e *Engine) deliver(ctx context.Context, o *outboxItem) {
	p := o.p
	p.mu.Lock()
	o.queued = false
	if o.delivered || e.cfg.Notifier == nil || !e.ownedLocked(p) {
		p.mu.Unlock()
		return
	}
	body := o.body
	clientID, url := p.clientID, p.notifyURL
	p.mu.Unlock()

	e.failpoint(FailNotifySend)
	cctx, done := context.WithTimeout(ctx, e.cfg.WalletCallTimeout)
	err := e.cfg.Notifier.Notify(cctx, clientID, url, body)
	done()
	e.stats.Notifications.Add(1)

	p.mu.Lock()
	defer p.mu.Unlock()
	now := e.clock.Now()
	if err != nil {
		o.attempts++
	}
	delay, more := e.notifyDelay(o.attempts)
	if !more {
		delay = 0 // a newer body came in flight: its first attempt now
	}
	acked := err == nil && bytes.Equal(body, o.body)
	abandon := err != nil && !more && bytes.Equal(body, o.body)
	if abandon {
		e.stats.NotificationsAbandoned.Add(1)
		e.log.Warn("notification abandoned: the merchant acknowledged none of the schedule's attempts", "payment_id", p.id, "attempts", o.attempts, "err", err)
	}
	if acked || abandon {
		if acked {
			e.failpoint(FailNotifyAck)
		}
		o.delivered = true
		if e.shared != nil {
			// With the payment's record: the write may release its lease.
			e.persist(ctx, p, nil, false, true)
		} else if e.journal != nil {
			// Unsynced: if the process dies before this is durable the
			// notification is sent again — at least once, as promised.
			b := Batch{Delivered: []string{p.id}}
			if jerr := e.journal.Append(ctx, &b, false); jerr != nil {
				e.fatal(jerr)
			}
		}
		return
	}
	if err != nil {
		e.log.Warn("notification not acknowledged, will retry", "payment_id", p.id, "attempt", o.attempts, "err", err)
	}
	// Not acknowledged, or the state changed while it was in flight.
	o.queued = true
	due := now.Add(delay)
	if e.journal != nil {
		b := Batch{Notifications: []*NotificationRecord{{PaymentID: p.id, URL: p.notifyURL, Body: o.body, Attempts: o.attempts, Due: due}}}
		if jerr := e.journal.Append(ctx, &b, false); jerr != nil {
			e.fatal(jerr)
		}
	}
	e.fu.push(fuItem{due: due, n: o})
}

// Resident counts the payments held in memory: every retained payment
// with a journal that cannot look them up, only those the engine is
// working on (and not yet swept) with one that can (SharedJournal: the
// Pebble journal or PostgreSQL).
func (e *Engine) Resident() int {
	n := 0
	e.payByID.each(func(string, *payment) { n++ })
	return n
}

// PendingNotifications counts notifications not yet acknowledged.
func (e *Engine) PendingNotifications() int {
	n := 0
	e.payByID.each(func(_ string, p *payment) {
		p.mu.Lock()
		if p.outbox != nil && !p.outbox.delivered {
			n++
		}
		p.mu.Unlock()
	})
	return n
}
