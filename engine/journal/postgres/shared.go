package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

// claimAttempts bounds ClaimPayment's and ClaimRefund's re-runs (see
// ClaimPayment); two are enough in practice, the rest is margin.
const claimAttempts = 8

// errClaimRace is the internal "inserted nothing, fetched nothing" result.
var errClaimRace = errors.New("postgres: conflicting row not visible yet")

// ClaimPayment inserts rec leased to this node, or returns the stored
// payment in its way (see engine.SharedJournal), in one statement:
// INSERT … ON CONFLICT DO NOTHING, and in the same statement a fetch of
// the rows that share rec's keys. It commits synchronously.
//
// Why the statement may run more than once: under READ COMMITTED, when a
// concurrent transaction inserts a conflicting row, the INSERT waits for
// it and, once it commits, skips ours (DO NOTHING); but the fetch reads
// the snapshot taken when the statement started, before that commit, and
// finds nothing. The statement is then simply run again (a new snapshot,
// which sees the committed row), at most claimAttempts times.
//
// A stored payment with rec's own id is rec, stored by an earlier claim
// whose answer was lost: the claim succeeded (nil, nil). That is how a
// claim whose commit outcome is unknown (the connection died after the
// statement was sent) is settled: it is re-run, with pauses, until it
// answers or ctx (bounded by the call timeout) ends; then the error
// wraps engine.ErrJournalUnavailable and engine.ErrOutcomeUnknown, and
// the engine claims again once the database is back.
func (s *Store) ClaimPayment(ctx context.Context, rec *engine.PaymentRecord) (*engine.PaymentRecord, error) {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil {
		return nil, err
	}
	if rec == nil || !journal.ValidID(rec.PaymentID) {
		return nil, journal.ErrInvalid
	}
	args := s.insertArgs(rec, rec.Held) // a tombstone (engine.PaymentRecord.Voided) is not leased
	var unknown error                   // the first attempt whose outcome is unknown
	for attempt, races := 1, 0; ; attempt++ {
		existing, err := s.claimPaymentOnce(ctx, args)
		switch {
		case errors.Is(err, errClaimRace):
			if races++; races == claimAttempts {
				return nil, fmt.Errorf("postgres: claim payment %s: %w: conflicting row still not visible after %d attempts", rec.PaymentID, engine.ErrJournalFailed, races)
			}
			s.opts.Logger.Debug("postgres: claim payment re-run after a concurrent insert", "payment", rec.PaymentID, "attempt", attempt)
			continue
		case err == nil && existing != nil && existing.PaymentID == rec.PaymentID &&
			existing.ClientID == rec.ClientID && existing.RequestID == rec.RequestID:
			return nil, nil // this claim, stored by an attempt whose answer was lost
		case errors.Is(err, engine.ErrJournalUnavailable):
			if errors.Is(err, engine.ErrOutcomeUnknown) && unknown == nil {
				unknown = err
			}
			if unknown == nil {
				return nil, err // nothing stored
			}
			if retryPause(ctx, attempt) {
				continue
			}
			return nil, unknown
		}
		return existing, err
	}
}

func (s *Store) claimPaymentOnce(ctx context.Context, args []any) (*engine.PaymentRecord, error) {
	var pref int32
	var val []byte
	var held bool
	err := s.pool.QueryRow(ctx, claimPaymentSQL, args...).Scan(&pref, &val, &held)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, errClaimRace
	case err != nil:
		return nil, fail("claim payment", err, true)
	case pref == 0:
		return nil, nil
	case pref == 3:
		return nil, fmt.Errorf("postgres: claim payment %s: %w: payment id already used by another request", args[0], journal.ErrInvalid)
	}
	return decodePayment(val, held)
}

// ClaimRefund inserts b's refund and, only if it was inserted, writes b's
// payment fenced as Append does, in one synchronously committed
// transaction; a refund with the same client and request id is returned
// instead (the same re-run rule as ClaimPayment). Errors are Append's.
func (s *Store) ClaimRefund(ctx context.Context, b *engine.Batch) (*engine.RefundRecord, error) {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil {
		return nil, err
	}
	if err := journal.ValidateBatch(b); err != nil {
		return nil, err
	}
	if len(b.Payments) != 1 || len(b.Refunds) != 1 || len(b.Notifications) != 0 || len(b.Delivered) != 0 {
		return nil, fmt.Errorf("%w: ClaimRefund wants one payment and one refund", journal.ErrInvalid)
	}
	pay, ref := b.Payments[0], b.Refunds[0]
	if ref.PaymentID != pay.PaymentID {
		return nil, fmt.Errorf("%w: ClaimRefund's refund is not of its payment", journal.ErrInvalid)
	}
	args := refundArgs(ref)
	var existing *engine.RefundRecord
	err = s.write(ctx, "claim refund", func(tx pgx.Tx) error {
		for attempt := 1; ; attempt++ {
			var pref int32
			var val []byte
			err := tx.QueryRow(ctx, claimRefundSQL, args...).Scan(&pref, &val)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				if attempt == claimAttempts {
					return fmt.Errorf("conflicting refund still not visible after %d attempts", attempt)
				}
				continue
			case err != nil:
				return err
			case pref == 2:
				return fmt.Errorf("%w: refund id %s already used by another request", journal.ErrInvalid, ref.RefundID)
			case pref == 1:
				existing = new(engine.RefundRecord)
				return journal.DecodeRefund(val, existing)
			}
			ct, err := tx.Exec(ctx, updatePaymentSQL, s.updateArgs(pay)...)
			if err != nil {
				return err
			}
			if ct.RowsAffected() == 0 {
				return s.resolveMissed(ctx, tx, pay)
			}
			return nil
		}
	})
	if err != nil {
		return nil, err
	}
	return existing, nil
}

func (s *Store) updateArgs(r *engine.PaymentRecord) []any {
	return []any{r.PaymentID, int64(r.Version), r.Final(), r.Held, r.Updated,
		journal.AppendPayment(make([]byte, 0, journal.PaymentSizeHint), r), s.opts.Node, s.ttl}
}

// GetPayment returns a payment's latest record (Held as stored) and its
// refunds, from one snapshot; see engine.SharedJournal. A payment whose
// ClientID is not clientID is not returned (when clientID is set).
func (s *Store) GetPayment(ctx context.Context, clientID, requestID, paymentID string) (*engine.PaymentRecord, []*engine.RefundRecord, error) {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil {
		return nil, nil, err
	}
	var rows pgx.Rows
	const sel = `SELECT p.record, p.held, r.record FROM payments p LEFT JOIN refunds r ON r.payment_id = p.payment_id `
	if paymentID != "" {
		rows, err = s.pool.Query(ctx, sel+`WHERE p.payment_id = $1 ORDER BY r.refund_id`, paymentID)
	} else {
		rows, err = s.pool.Query(ctx, sel+`WHERE p.client_id = $1 AND p.request_id = $2 ORDER BY r.refund_id`, clientID, requestID)
	}
	if err != nil {
		return nil, nil, readErr("get payment", err)
	}
	var pay *engine.PaymentRecord
	var refunds []*engine.RefundRecord
	var pval, rval []byte
	var held bool
	_, err = pgx.ForEachRow(rows, []any{&pval, &held, &rval}, func() error {
		if pay == nil {
			p, err := decodePayment(pval, held)
			if err != nil {
				return err
			}
			pay = p
		}
		if rval != nil {
			r := new(engine.RefundRecord)
			if err := journal.DecodeRefund(rval, r); err != nil {
				return err
			}
			refunds = append(refunds, r)
		}
		return nil
	})
	if err != nil {
		return nil, nil, readErr("get payment", err)
	}
	if pay == nil || (clientID != "" && pay.ClientID != clientID) {
		return nil, nil, nil
	}
	return pay, refunds, nil
}

// GetRefund returns a refund's latest record, by refundID when it is set,
// else by clientID and requestID; nil when there is none, or when it is
// another client's (clientID set).
func (s *Store) GetRefund(ctx context.Context, clientID, requestID, refundID string) (*engine.RefundRecord, error) {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil {
		return nil, err
	}
	var row pgx.Row
	if refundID != "" {
		row = s.pool.QueryRow(ctx, `SELECT record FROM refunds WHERE refund_id = $1`, refundID)
	} else {
		row = s.pool.QueryRow(ctx, `SELECT record FROM refunds WHERE client_id = $1 AND request_id = $2`, clientID, requestID)
	}
	var val []byte
	if err := row.Scan(&val); errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, readErr("get refund", err)
	}
	r := new(engine.RefundRecord)
	if err := journal.DecodeRefund(val, r); err != nil {
		return nil, fmt.Errorf("postgres: get refund: %w", err)
	}
	if clientID != "" && r.ClientID != clientID {
		return nil, nil
	}
	return r, nil
}

// Acquire leases paymentID to this node unless another node's lease on it
// is live, in one statement, and returns it with its refunds and
// notification. A released payment (owner NULL) is leased too: the
// caller releases it again by writing it with Held false.
func (s *Store) Acquire(ctx context.Context, paymentID string) (*engine.Leased, bool, error) {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil {
		return nil, false, err
	}
	rows, err := s.pool.Query(ctx, acquireSQL, paymentID, s.opts.Node, s.ttl)
	if err != nil {
		return nil, false, fail("acquire", err, true)
	}
	leased, held, err := scanLeased(rows)
	if err != nil {
		return nil, false, fail("acquire", err, true)
	}
	switch {
	case len(leased) == 1:
		return leased[0], true, nil
	case held:
		return nil, false, nil
	}
	return nil, false, engine.ErrNotFound
}

// TakeOver leases to this node up to limit payments whose lease expired
// or was given up by Release (a restarted node releases its own first),
// oldest lease first; live leases, this node's included, are never taken,
// and rows other nodes are taking at the same moment are skipped. One
// statement.
func (s *Store) TakeOver(ctx context.Context, limit int) ([]*engine.Leased, error) {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil || limit <= 0 {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, takeOverSQL, s.opts.Node, s.ttl, limit)
	if err != nil {
		return nil, fail("take over", err, true)
	}
	leased, _, err := scanLeased(rows)
	if err != nil {
		return nil, fail("take over", err, true)
	}
	return leased, nil
}

// scanLeased assembles the rows of leasedRowsSQL (payments first in no
// guaranteed order: they are matched by id). held reports an 'x' row.
func scanLeased(rows pgx.Rows) (leased []*engine.Leased, held bool, err error) {
	byID := make(map[string]*engine.Leased)
	var kind, id string
	var val []byte
	var h, cancel bool
	var refunds []*engine.RefundRecord
	var notes []*engine.NotificationRecord
	_, err = pgx.ForEachRow(rows, []any{&kind, &id, &val, &h, &cancel}, func() error {
		switch kind {
		case "p":
			p, err := decodePayment(val, h)
			if err != nil {
				return err
			}
			l := &engine.Leased{Payment: p, CancelRequested: cancel}
			byID[id] = l
			leased = append(leased, l)
		case "r":
			r := new(engine.RefundRecord)
			if err := journal.DecodeRefund(val, r); err != nil {
				return err
			}
			refunds = append(refunds, r)
		case "n":
			n := new(engine.NotificationRecord)
			if err := journal.DecodeNotification(val, n); err != nil {
				return err
			}
			notes = append(notes, n)
		case "x":
			held = true
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	for _, r := range refunds {
		if l := byID[r.PaymentID]; l != nil {
			l.Refunds = append(l.Refunds, r)
		}
	}
	for _, n := range notes {
		if l := byID[n.PaymentID]; l != nil {
			l.Notification = n
		}
	}
	return leased, held, nil
}

// Renew extends every lease this node holds to now + LeaseTTL (database
// time) and returns the ids of its payments another node asked to
// cancel. One statement (see renewSQL). A request stays recorded until
// the Renew after the one that returned it: that one's answer was
// received and the engine has carried the cancel out (it renews again
// only once its writes land), so neither a Renew whose answer is lost
// nor a node that dies before its next Renew loses a lane's cancel (the
// request is returned again, or reported to the taker). A registered
// store (Register) first beats its registration's heartbeat; a
// registration another process took wraps engine.ErrJournalFailed: two
// processes under one node name would pass each other's lease fences.
func (s *Store) Renew(ctx context.Context) ([]string, error) {
	ctx, done, err := s.begin(ctx)
	defer done()
	if err != nil {
		return nil, err
	}
	if err := s.heartbeat(ctx); err != nil {
		return nil, err
	}
	s.renewMu.Lock()
	defer s.renewMu.Unlock()
	rows, err := s.pool.Query(ctx, renewSQL, s.opts.Node, s.ttl, s.handed)
	if err != nil {
		return nil, fail("renew", err, true)
	}
	var cancels []string
	var id string
	var cancel bool
	if _, err := pgx.ForEachRow(rows, []any{&id, &cancel}, func() error {
		if cancel {
			cancels = append(cancels, id)
		}
		return nil
	}); err != nil {
		return nil, fail("renew", err, true)
	}
	if s.loseRenew.CompareAndSwap(true, false) {
		return nil, fail("renew", errAnswerLost, true)
	}
	s.handed = cancels
	return cancels, nil
}

// RequestCancel sets the payment's cancel_requested flag, which only the
// owner's Renews clear (see Renew); engine.ErrNotFound when there is no
// such payment.
func (s *Store) RequestCancel(ctx context.Context, paymentID string) error {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil {
		return err
	}
	ct, err := s.pool.Exec(ctx, requestCancelSQL, paymentID)
	if err != nil {
		return fail("request cancel", err, true)
	}
	if ct.RowsAffected() == 0 {
		return engine.ErrNotFound
	}
	return nil
}

// Release gives up every lease of this node (graceful shutdown). It keeps
// the owner and sets lease_until to -infinity rather than clearing the
// owner: a payment with work left stays "held, expired", so TakeOver on
// any node (which looks only at owned rows) takes it at once, as does
// Acquire. Until another node does, this node's own writes still pass
// the fence (the owner is unchanged); a node stops writing after Release.
func (s *Store) Release(ctx context.Context) error {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, releaseSQL, s.opts.Node); err != nil {
		return fail("release", err, true)
	}
	return nil
}

// decodePayment decodes a stored payment and sets Held from its column.
func decodePayment(val []byte, held bool) (*engine.PaymentRecord, error) {
	p := new(engine.PaymentRecord)
	if err := journal.DecodePayment(val, p); err != nil {
		return nil, err
	}
	p.Held = held
	return p, nil
}
