package journal

import (
	"context"
	"crypto/rand"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/paycode/paycode/engine"
)

// Mem is an in-memory journal for unit tests: the same semantics as
// Pebble (records round-trip through the same encoding, the same
// compaction rules, the same fail-stop latch) and no durability. It is
// safe for concurrent use.
type Mem struct {
	mu       sync.Mutex
	payments map[string][]byte // encoded, by payment id
	refunds  map[string][]byte // encoded, by refund id
	byPay    map[string]map[string]struct{}
	notes    map[string][]byte // encoded, by payment id
	closed   bool
	failNext error
	codeKey  [CodeKeySize]byte
	fs       *failState
}

var _ engine.Journal = (*Mem)(nil)

// NewMem returns an empty in-memory journal with a random code key.
func NewMem() *Mem {
	m := &Mem{
		payments: make(map[string][]byte),
		refunds:  make(map[string][]byte),
		byPay:    make(map[string]map[string]struct{}),
		notes:    make(map[string][]byte),
		fs:       newFailState(nil),
	}
	_, _ = rand.Read(m.codeKey[:])
	return m
}

// CodeKey returns a copy of the journal's code-hash key (stable for the
// Mem's lifetime).
func (m *Mem) CodeKey() []byte {
	k := m.codeKey
	return k[:]
}

// SetOnFatal sets the function called once on the first write failure
// (see Options.OnFatal). Call it before the first Append.
func (m *Mem) SetOnFatal(fn func(error)) { m.fs.onFatal = fn }

// FailNext makes the next non-empty Append fail with err, as a disk
// would: the journal is then failed for good (tests of the engine's
// fail-stop path).
func (m *Mem) FailNext(err error) {
	m.mu.Lock()
	m.failNext = err
	m.mu.Unlock()
}

// Append stores b atomically; sync is ignored. Errors are Pebble.Append's.
func (m *Mem) Append(ctx context.Context, b *engine.Batch, sync bool) error {
	if err := m.fs.failed(); err != nil {
		m.fs.notify()
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ValidateBatch(b); err != nil {
		return err
	}
	err := m.append(b)
	if errors.Is(err, engine.ErrJournalFailed) {
		m.fs.notify()
	}
	return err
}

func (m *Mem) append(b *engine.Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if err := m.fs.failed(); err != nil {
		return err
	}
	if m.failNext != nil {
		cause := m.failNext
		m.failNext = nil
		return m.fs.fail(cause)
	}
	for _, r := range b.Payments {
		m.payments[r.PaymentID] = AppendPayment(nil, r)
	}
	for _, r := range b.Refunds {
		m.refunds[r.RefundID] = AppendRefund(nil, r)
		set := m.byPay[r.PaymentID]
		if set == nil {
			set = make(map[string]struct{})
			m.byPay[r.PaymentID] = set
		}
		set[r.RefundID] = struct{}{}
	}
	for _, r := range b.Notifications {
		m.notes[r.PaymentID] = AppendNotification(nil, r)
	}
	for _, id := range b.Delivered {
		delete(m.notes, id)
	}
	return nil
}

// Load calls fn with a fresh copy of every record: payments, refunds,
// then notifications, each in id order (as Pebble does).
func (m *Mem) Load(ctx context.Context, fn func(*engine.Record) error) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	var values [][]byte
	for _, mp := range [...]map[string][]byte{m.payments, m.refunds, m.notes} {
		for _, id := range sortedKeys(mp) {
			values = append(values, mp[id])
		}
	}
	m.mu.Unlock()
	for _, v := range values {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rec engine.Record
		if err := DecodeRecord(v, &rec); err != nil {
			return err
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys(m map[string][]byte) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Compact applies Pebble.Compact's rules by scanning every payment.
func (m *Mem) Compact(ctx context.Context, before time.Time) (int, error) {
	if err := m.fs.failed(); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	removed := 0
	var pay engine.PaymentRecord
	var ref engine.RefundRecord
	for id, v := range m.payments {
		if err := DecodePayment(v, &pay); err != nil {
			return removed, err
		}
		if !paymentDone(&pay, before) {
			continue
		}
		if _, ok := m.notes[id]; ok {
			continue
		}
		done := true
		for rid := range m.byPay[id] {
			rv, ok := m.refunds[rid]
			if !ok {
				continue
			}
			if err := DecodeRefund(rv, &ref); err != nil {
				return removed, err
			}
			if !refundDone(&ref, before) {
				done = false
				break
			}
		}
		if !done {
			continue
		}
		for rid := range m.byPay[id] {
			delete(m.refunds, rid)
		}
		delete(m.byPay, id)
		delete(m.payments, id)
		removed++
	}
	return removed, nil
}

// Close marks the journal closed; later calls return ErrClosed.
func (m *Mem) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}
