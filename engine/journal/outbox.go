package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/paycode/paycode/engine"
)

// The Pebble journal's outbox. Every notification version written is
// indexed under d/<due seconds><paymentId>; the entry of a version since
// overwritten (or delivered) stays until TakeNotifications meets it and
// finds that the stored notification is no longer due at that second:
// Append stays a blind write, with no read per notification.

var (
	_ engine.Outbox = (*Pebble)(nil)
	_ engine.Outbox = (*Mem)(nil)
)

func appendDueKey(dst []byte, due time.Time, paymentID string) []byte {
	dst = append(dst, prefixDue...)
	dst = binary.BigEndian.AppendUint64(dst, ageSeconds(due))
	return append(dst, paymentID...)
}

// TakeNotifications implements engine.Outbox. It reads the due index in
// key order up to now's second, so its cost is the due notifications
// (and stale index entries, which it deletes), not the backlog.
func (p *Pebble) TakeNotifications(ctx context.Context, now, until time.Time, limit int) ([]*engine.NotificationRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	p.outbox.Lock()
	defer p.outbox.Unlock()
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return nil, ErrClosed
	}
	if err := p.fs.failed(); err != nil {
		return nil, err
	}
	upper := appendDueKey(nil, time.Time{}, "")
	binary.BigEndian.PutUint64(upper[len(prefixDue):], ageSeconds(now)+1)
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefixDue), UpperBound: upper})
	if err != nil {
		return nil, err
	}
	pb := p.db.NewBatch() // commit closes it
	var out []*engine.NotificationRecord
	var key []byte
	for it.First(); it.Valid() && len(out) < limit; it.Next() {
		k := it.Key()
		sec, id, ok := parseDueKey(k)
		if !ok {
			continue
		}
		v, err := p.get(appendKey(key[:0], prefixNotification, id))
		if err != nil {
			it.Close()
			_ = pb.Close()
			return nil, err
		}
		r := new(engine.NotificationRecord)
		if v != nil {
			if err := DecodeNotification(v, r); err != nil {
				it.Close()
				_ = pb.Close()
				return nil, fmt.Errorf("journal: notification %q: %w", id, err)
			}
		}
		if v == nil || ageSeconds(r.Due) != sec {
			_ = pb.Delete(k, nil) // a version since overwritten or delivered
			continue
		}
		if r.Due.After(now) {
			continue // due later within now's second
		}
		_ = pb.Delete(k, nil)
		r.Due = until
		_ = pb.Set(appendKey(nil, prefixNotification, id), AppendNotification(nil, r), nil)
		_ = pb.Set(appendDueKey(nil, until, id), nil, nil)
		out = append(out, r)
	}
	if err := it.Close(); err != nil {
		_ = pb.Close()
		return nil, err
	}
	if pb.Empty() {
		_ = pb.Close()
		return out, nil
	}
	if err := p.commit(pb, pebble.NoSync); err != nil {
		return nil, err
	}
	return out, nil
}

// parseDueKey splits a due key into its seconds and payment id.
func parseDueKey(k []byte) (sec uint64, paymentID string, ok bool) {
	if len(k) <= len(prefixDue)+8 {
		return 0, "", false
	}
	k = k[len(prefixDue):]
	return binary.BigEndian.Uint64(k), string(k[8:]), true
}

// SettleNotification implements engine.Outbox.
func (p *Pebble) SettleNotification(ctx context.Context, taken, next *engine.NotificationRecord) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if next != nil && next.PaymentID != taken.PaymentID {
		return false, fmt.Errorf("%w: settling %q with %q's notification", ErrInvalid, taken.PaymentID, next.PaymentID)
	}
	p.outbox.Lock()
	defer p.outbox.Unlock()
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return false, ErrClosed
	}
	if err := p.fs.failed(); err != nil {
		return false, err
	}
	key := appendKey(nil, prefixNotification, taken.PaymentID)
	v, err := p.get(key)
	if err != nil {
		return false, err
	}
	if v == nil || !bytes.Equal(v, AppendNotification(nil, taken)) {
		return false, nil
	}
	pb := p.db.NewBatch()
	_ = pb.Delete(appendDueKey(nil, taken.Due, taken.PaymentID), nil)
	if next == nil {
		_ = pb.Delete(key, nil)
	} else {
		_ = pb.Set(key, AppendNotification(nil, next), nil)
		_ = pb.Set(appendDueKey(nil, next.Due, next.PaymentID), nil, nil)
	}
	if err := p.commit(pb, pebble.NoSync); err != nil {
		return false, err
	}
	return true, nil
}

// migrateDue adds the due index of every pending notification to a store
// of layout 1 or 2, and marks it layout 3.
func (p *Pebble) migrateDue() error {
	pb := p.db.NewBatch()
	defer pb.Close()
	it, err := p.db.NewIter(prefixBounds(prefixNotification))
	if err != nil {
		return err
	}
	var r engine.NotificationRecord
	for it.First(); it.Valid(); it.Next() {
		if err := DecodeNotification(it.Value(), &r); err != nil {
			it.Close()
			return fmt.Errorf("journal: migrating %q: %w", it.Key(), err)
		}
		if err := pb.Set(appendDueKey(nil, r.Due, r.PaymentID), nil, nil); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	_ = pb.Set([]byte(keyLayout), []byte{layoutVersion}, nil)
	return pb.Commit(pebble.Sync)
}

// CountNotifications implements engine.Outbox by reading every pending
// notification's key.
func (p *Pebble) CountNotifications(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return 0, ErrClosed
	}
	it, err := p.db.NewIter(prefixBounds(prefixNotification))
	if err != nil {
		return 0, err
	}
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n, it.Close()
}
