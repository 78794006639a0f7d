package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

var _ engine.Outbox = (*Store)(nil)

// TakeNotifications implements engine.Outbox: one transaction locks the
// due rows (FOR UPDATE SKIP LOCKED: nodes taking at once get disjoint
// batches) and moves their due time to until. Not synced.
func (s *Store) TakeNotifications(ctx context.Context, now, until time.Time, limit int) ([]*engine.NotificationRecord, error) {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil || limit <= 0 {
		return nil, err
	}
	var out []*engine.NotificationRecord
	err = s.write(ctx, "take notifications", func(tx pgx.Tx) error {
		out = out[:0]
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, takeNotificationsSQL, now, limit)
		if err != nil {
			return err
		}
		var olds [][]byte
		for rows.Next() {
			var id string
			var rec []byte
			if err := rows.Scan(&id, &rec); err != nil {
				rows.Close()
				return err
			}
			n := new(engine.NotificationRecord)
			if err := journal.DecodeNotification(rec, n); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: notification %q: %w", id, err)
			}
			out = append(out, n)
			olds = append(olds, rec)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		qb := &pgx.Batch{}
		for i, n := range out {
			n.Due = until
			qb.Queue(setNotificationSQL, n.PaymentID, olds[i], journal.AppendNotification(nil, n), until)
		}
		return tx.SendBatch(ctx, qb).Close()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SettleNotification implements engine.Outbox: a conditional update or
// delete on the stored record's bytes. Not synced.
func (s *Store) SettleNotification(ctx context.Context, taken, next *engine.NotificationRecord) (bool, error) {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil {
		return false, err
	}
	if next != nil && next.PaymentID != taken.PaymentID {
		return false, fmt.Errorf("%w: settling %q with %q's notification", journal.ErrInvalid, taken.PaymentID, next.PaymentID)
	}
	var ok bool
	err = s.write(ctx, "settle notification", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		old := journal.AppendNotification(nil, taken)
		var err error
		var n int64
		if next == nil {
			ct, e := tx.Exec(ctx, settleNotificationSQL, taken.PaymentID, old)
			n, err = ct.RowsAffected(), e
		} else {
			ct, e := tx.Exec(ctx, setNotificationSQL, taken.PaymentID, old, journal.AppendNotification(nil, next), next.Due)
			n, err = ct.RowsAffected(), e
		}
		ok = n == 1
		return err
	})
	return ok, err
}

// CountNotifications implements engine.Outbox.
func (s *Store) CountNotifications(ctx context.Context) (int, error) {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM notifications`).Scan(&n); err != nil {
		return 0, readErr("count notifications", err)
	}
	return n, nil
}
