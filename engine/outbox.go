package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/paycode/paycode/codec"
)

// Notifier delivers a notifyPayment body to a merchant's URL. nil means
// the merchant acknowledged it (HTTP 200 with a SUCCESS result); any error
// means it must be sent again. It is declared here, where it is used;
// engine/notify implements it over HTTP. An error that is
// ErrNotifierBusy (errors.Is) means it sent nothing: the notification is
// due again at the next poll and the attempt is not counted.
type Notifier interface {
	Notify(ctx context.Context, clientID, url string, body []byte) error
}

// ErrNotifierBusy is the error of a Notifier that had no free slot to send
// a notification: it tried nothing, so the merchant's schedule is kept.
var ErrNotifierBusy = errors.New("engine: the notifier has no free delivery slot")

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

// Outbox is a journal that serves its pending notifications by due time,
// so that they need not live in memory with their payments: a merchant
// endpoint that is down then grows the journal, never the heap. The
// journals implement it (engine/journal's Pebble and Mem,
// engine/journal/postgres).
type Outbox interface {
	// TakeNotifications returns up to limit stored notifications whose
	// Due is at or before now, earliest first, after setting each one's
	// stored Due to until: a later call (this node's or another's) skips
	// them while this node delivers, and takes them again after until if
	// this node dies meanwhile. Rows another node is taking at the same
	// moment are skipped, not waited for. Not synced: a claim lost in a
	// crash only makes a delivery due again.
	TakeNotifications(ctx context.Context, now, until time.Time, limit int) ([]*NotificationRecord, error)
	// SettleNotification replaces the stored notification of
	// taken.PaymentID by next (nil: deletes it) if, and only if, the
	// stored one is still exactly taken, as TakeNotifications returned
	// it; ok reports whether it did. A newer final state written by the
	// payment's owner meanwhile, or a take by another node after this
	// one's claim ran out, wins. next.PaymentID must be taken's. Not
	// synced: at least once.
	SettleNotification(ctx context.Context, taken, next *NotificationRecord) (ok bool, err error)
	// CountNotifications returns how many notifications are stored
	// (pending, claimed or not). It may read them all: for gauges.
	CountNotifications(ctx context.Context) (int, error)
}

// notifyBodyLocked writes p's notifyPayment body. Caller holds p.mu.
func (e *Engine) notifyBodyLocked(dst []byte, p *payment) []byte {
	var v codec.PaymentView
	p.viewLocked(&v, false)
	return codec.AppendNotifyPayment(dst, &v)
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

// Resident counts the payments held in memory: those the engine is
// working on, and those it finished and has not yet swept.
func (e *Engine) Resident() int {
	n := 0
	e.payByID.each(func(string, *payment) { n++ })
	return n
}

// PendingNotifications counts notifications not yet acknowledged, in the
// journal's outbox (-1 if it cannot be read).
func (e *Engine) PendingNotifications() int {
	n, err := e.journal.CountNotifications(context.Background())
	if err != nil {
		return -1
	}
	return n
}

// The journal's outbox (every SharedJournal is an Outbox): the delivery
// loop reads due notifications from the journal, sends each as soon as a
// delivery slot is free, and writes each one's outcome back conditionally
// — deleted when acknowledged or abandoned, its next attempt's due time
// otherwise — unless the payment's owner wrote a newer final state
// meanwhile. Memory holds outboxSlots notifications at most, whatever the
// backlog.
const (
	// outboxSlots bounds the deliveries running at once. A read takes no
	// more notifications than there are free slots, so each starts at
	// once and its claim need only outlast one delivery; a slot freed by
	// a finished delivery is filled at once, so a merchant whose endpoint
	// hangs until the timeout holds only its own deliveries' slots.
	outboxSlots = 64
	// outboxClaimSlack is the claim's margin over a delivery's timeout,
	// for reading its payment and writing its outcome.
	outboxClaimSlack = 5 * time.Second
	// outboxPoll is how often the loop reads the journal when no new
	// notification woke it: retries come due, and other nodes' claims
	// run out, without a wake-up. A notification the Notifier was too
	// busy to send is due again after it.
	outboxPoll = time.Second
)

// wakeOutbox makes the delivery loop read the journal now (a new
// notification is due at once).
func (e *Engine) wakeOutbox() {
	select {
	case e.outboxWake <- struct{}{}:
	default:
	}
}

func (e *Engine) outboxLoop(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		e.startDeliveries(ctx, &wg)
		ch, stop := e.clock.NewTimer(outboxPoll)
		select {
		case <-ctx.Done():
			stop()
			return
		case <-e.outboxWake:
			stop()
		case <-ch:
		}
	}
}

// outboxClaim is how long a taken notification is claimed in the journal:
// long enough for its delivery, which starts at once, to run to its
// timeout. A node that dies holding a claim delays that notification by
// at most this.
func (e *Engine) outboxClaim() time.Duration {
	return e.cfg.WalletCallTimeout + outboxClaimSlack
}

// DeliverNotifications sends every notification due in the journal's
// outbox, waits for the outcomes to be recorded and returns how many it
// took from the outbox (those the Notifier was too busy to send
// included). Start's loop does the same without waiting; tests with a manual
// clock call it directly. It does nothing without a Notifier.
func (e *Engine) DeliverNotifications(ctx context.Context) int {
	if e.cfg.Notifier == nil {
		return 0
	}
	var wg sync.WaitGroup
	total := e.startDeliveries(ctx, &wg)
	wg.Wait()
	return total
}

// startDeliveries starts a delivery, in wg, of every notification due,
// each as soon as a slot of e.outboxSlots is free; it returns how many it
// started once the journal has none left due (or ctx ends, or the journal
// cannot be read).
func (e *Engine) startDeliveries(ctx context.Context, wg *sync.WaitGroup) int {
	total := 0
	for ctx.Err() == nil && !e.failed.Load() {
		select {
		case e.outboxSlots <- struct{}{}:
		case <-ctx.Done():
			return total
		}
		free := 1
	more:
		for free < outboxSlots {
			select {
			case e.outboxSlots <- struct{}{}:
				free++
			default:
				break more
			}
		}
		now := e.clock.Now()
		ns, err := e.journal.TakeNotifications(ctx, now, now.Add(e.outboxClaim()), free)
		for range free - len(ns) {
			<-e.outboxSlots
		}
		if err != nil {
			e.log.Warn("reading due notifications failed; retrying at the next poll", "err", err)
			return total
		}
		for _, n := range ns {
			if !e.outboxSending.claim(n.PaymentID) {
				// An older notification of this payment is still being
				// sent (a slot freed by another delivery took this newer
				// one): it waits its turn, so the merchant's last
				// acknowledgement is of the payment's latest status.
				next := *n
				next.Due = now.Add(outboxPoll)
				e.settleNotification(ctx, n, &next)
				<-e.outboxSlots
				continue
			}
			wg.Go(func() {
				defer func() {
					e.outboxSending.release(n.PaymentID)
					<-e.outboxSlots
				}()
				e.deliverRecord(ctx, n)
			})
		}
		total += len(ns)
		if len(ns) < free {
			break
		}
	}
	return total
}

// deliverRecord sends one notification taken from the journal and writes
// its outcome back.
func (e *Engine) deliverRecord(ctx context.Context, n *NotificationRecord) {
	// The client id signs the request; the notification does not carry it.
	rec, _, err := e.journal.GetPayment(ctx, "", "", n.PaymentID)
	if err != nil {
		e.log.Warn("notification's payment not readable; retrying when its claim runs out", "payment_id", n.PaymentID, "err", err)
		return
	}
	if rec == nil {
		e.settleNotification(ctx, n, nil)
		return
	}
	e.failpoint(FailNotifySend)
	cctx, done := context.WithTimeout(ctx, e.cfg.WalletCallTimeout)
	err = e.cfg.Notifier.Notify(cctx, rec.ClientID, n.URL, n.Body)
	done()
	if errors.Is(err, ErrNotifierBusy) {
		// Nothing was sent: not one of the merchant's attempts.
		if ctx.Err() != nil {
			return // stopping (the wait for a slot ended): its claim stands, as below
		}
		next := *n
		next.Due = e.clock.Now().Add(outboxPoll)
		e.settleNotification(ctx, n, &next)
		return
	}
	e.stats.Notifications.Add(1)
	if err == nil {
		e.failpoint(FailNotifyAck)
		e.settleNotification(ctx, n, nil)
		return
	}
	if ctx.Err() != nil {
		return // stopping: not the merchant's failure; resent after the claim
	}
	attempts := n.Attempts + 1
	delay, more := e.notifyDelay(attempts)
	if !more {
		if e.settleNotification(ctx, n, nil) {
			e.stats.NotificationsAbandoned.Add(1)
			e.log.Warn("notification abandoned: the merchant acknowledged none of the schedule's attempts", "payment_id", n.PaymentID, "attempts", attempts, "err", err)
		}
		return
	}
	e.log.Warn("notification not acknowledged, will retry", "payment_id", n.PaymentID, "attempt", attempts, "err", err)
	next := *n
	next.Attempts, next.Due = attempts, e.clock.Now().Add(delay)
	e.settleNotification(ctx, n, &next)
}

// settleNotification writes a delivery's outcome; false when a newer
// version won (or the write failed: the claim runs out and it is taken
// again).
func (e *Engine) settleNotification(ctx context.Context, taken, next *NotificationRecord) bool {
	ok, err := e.journal.SettleNotification(context.WithoutCancel(ctx), taken, next)
	if err != nil {
		e.log.Warn("recording a notification's outcome failed; it is sent again when its claim runs out", "payment_id", taken.PaymentID, "err", err)
	}
	return ok
}

// sendingSet is the payments with a notification being sent by this
// node: at most one at a time each, so two versions of one payment's
// notification are never in flight together and cannot be acknowledged
// out of order. At most outboxSlots ids.
type sendingSet struct {
	mu  sync.Mutex
	ids map[string]struct{}
}

// claim marks id as being sent; false when it already is.
func (s *sendingSet) claim(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return false
	}
	if s.ids == nil {
		s.ids = make(map[string]struct{}, outboxSlots)
	}
	s.ids[id] = struct{}{}
	return true
}

func (s *sendingSet) release(id string) {
	s.mu.Lock()
	delete(s.ids, id)
	s.mu.Unlock()
}
