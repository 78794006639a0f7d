package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/paycode/paycode/engine"
)

// The Pebble journal is also an engine.SharedJournal for exactly one
// node, so the engine keeps in memory only the payments it is working on
// and reads everything else from here (a week of retained payments at
// thousands per second does not fit in RAM; their index entries do fit
// on disk). With one writer there are no other nodes: leases are always
// this node's, Acquire always succeeds and TakeOver hands back, after a
// Release (a restart), the payments this node still has work on.
//
// Claims are "check, then insert" here, which is safe only because one
// engine writes: its own in-memory indexes already serialize requests
// with the same request key or the same code (Pebble's directory lock
// keeps a second process out).
//
// Index keys (layout 2; Open adds them to a layout-1 store):
//
//	q/<uvarint len(client)><client><paymentRequestId>  → paymentId
//	h/<code hash>                                      → paymentId
//	s/<uvarint len(client)><client><refundRequestId>   → refundId
//	l/<paymentId>                                      empty: the payment has work left (Held)
const (
	prefixPayReq   = "q/"
	prefixCodeHash = "h/"
	prefixRefReq   = "s/"
	prefixHeld     = "l/"
)

var _ engine.SharedJournal = (*Pebble)(nil)

func appendReqKey(dst []byte, prefix, client, req string) []byte {
	dst = append(dst, prefix...)
	dst = binary.AppendUvarint(dst, uint64(len(client)))
	dst = append(dst, client...)
	return append(dst, req...)
}

func appendCodeKey(dst []byte, h *[engine.CodeHashSize]byte) []byte {
	dst = append(dst, prefixCodeHash...)
	return append(dst, h[:]...)
}

// heldSet is the payment ids whose held mark (l/<id>) is set, in memory,
// so that reading a payment does not ask Pebble for its mark: most reads
// are of settled payments, whose mark is absent, and a Pebble Get of an
// absent key walks every memtable and L0 file (the key filter covers only
// the request and code keys). It is exact, not a filter: filled from the
// l/ keys at Open (after any migration), then changed by every batch that
// sets or deletes a mark, after that batch's commit returned without
// error, and by nothing else (Pebble's directory lock keeps other writers
// out). It holds only payments with work left (in flight, a cancel or
// reversal pending, a refund in process): small.
//
// A read sees the mark as of the last write that returned; one that races
// a write of the same payment may see its record before its mark, as when
// the mark was a second Get (the engine does not act on a read's Held).
// A payment's writes never race each other: the engine writes a payment
// under its lock, version after version, so the updates reach the set in
// commit order.
type heldSet struct {
	mu  sync.RWMutex
	ids map[string]struct{}
}

func (h *heldSet) has(id string) bool {
	h.mu.RLock()
	_, ok := h.ids[id]
	h.mu.RUnlock()
	return ok
}

// apply records the marks of ps, a committed batch's payments: each
// version sets or deletes its payment's mark (batchWriter.heldMark).
func (h *heldSet) apply(ps []*engine.PaymentRecord) {
	if len(ps) == 0 {
		return
	}
	h.mu.Lock()
	for _, r := range ps {
		if r.Held {
			h.ids[r.PaymentID] = struct{}{}
		} else {
			delete(h.ids, r.PaymentID)
		}
	}
	h.mu.Unlock()
}

// remove deletes ids, whose marks a committed batch deleted (Compact).
func (h *heldSet) remove(ids []string) {
	h.mu.Lock()
	for _, id := range ids {
		delete(h.ids, id)
	}
	h.mu.Unlock()
}

// buildHeld fills p.held from the store's l/ keys.
func (p *Pebble) buildHeld() error {
	ids := map[string]struct{}{}
	it, err := p.db.NewIter(prefixBounds(prefixHeld))
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		ids[string(it.Key()[len(prefixHeld):])] = struct{}{}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	p.held.mu.Lock()
	p.held.ids = ids
	p.held.mu.Unlock()
	return nil
}

// buildFilter fills the filter from the index keys: one pass to count
// them, one to add them. Its first part is sized for twice the keys
// stored (at least defaultFilterKeys), within Options.KeyFilterMemory;
// it grows from there while the node runs (keyFilter).
func (p *Pebble) buildFilter() error {
	n := uint(0)
	for pass := 0; pass < 2; pass++ {
		if pass == 1 {
			p.filter.reset(max(2*n, p.opts.minFilterKeys()), uint64(p.opts.KeyFilterMemory), p.opts.Logger)
		}
		for _, prefix := range []string{prefixPayReq, prefixCodeHash, prefixRefReq} {
			it, err := p.db.NewIter(prefixBounds(prefix))
			if err != nil {
				return err
			}
			for it.First(); it.Valid(); it.Next() {
				if pass == 0 {
					n++
				} else {
					p.filter.add(it.Key())
				}
			}
			if err := it.Close(); err != nil {
				return err
			}
		}
	}
	return nil
}

// defaultFilterKeys is the fewest index keys the key filter's first part
// is sized for at Open.
const defaultFilterKeys = 1 << 20

// minFilterKeys is defaultFilterKeys, or the tests' filterKeys.
func (o *Options) minFilterKeys() uint {
	if o.filterKeys > 0 {
		return o.filterKeys
	}
	return defaultFilterKeys
}

// indexPayment adds the index entries of r's first version to the batch
// (the migration to layout 2; Append writes them in batchWriter.payment).
func (w *batchWriter) indexPayment(r *engine.PaymentRecord) {
	w.codeEntry(r, nil)
	w.heldMark(r)
	w.requestEntry(r, nil)
}

// requestEntry and codeEntry add r's request and code index entries (and
// their keys to kf); heldMark sets or deletes r's held mark.
func (w *batchWriter) requestEntry(r *engine.PaymentRecord, kf *keyFilter) {
	w.sc.key = appendReqKey(w.sc.key[:0], prefixPayReq, r.ClientID, r.RequestID)
	w.set(w.sc.key, []byte(r.PaymentID))
	kf.add(w.sc.key)
}

func (w *batchWriter) codeEntry(r *engine.PaymentRecord, kf *keyFilter) {
	w.sc.key = appendCodeKey(w.sc.key[:0], &r.CodeHash)
	w.set(w.sc.key, []byte(r.PaymentID))
	kf.add(w.sc.key)
}

func (w *batchWriter) heldMark(r *engine.PaymentRecord) {
	w.sc.key = appendKey(w.sc.key[:0], prefixHeld, r.PaymentID)
	if r.Held {
		w.set(w.sc.key, nil)
	} else {
		w.del(w.sc.key)
	}
}

func (w *batchWriter) indexRefund(r *engine.RefundRecord, kf *keyFilter) {
	sc := w.sc
	sc.key = appendReqKey(sc.key[:0], prefixRefReq, r.ClientID, r.RequestID)
	w.set(sc.key, []byte(r.RefundID))
	kf.add(sc.key)
}

// readPayment returns payment id's latest record, or nil.
func (p *Pebble) readPayment(id string) (*engine.PaymentRecord, error) {
	v, err := p.get(appendKey(nil, prefixPayment, id))
	if err != nil || v == nil {
		return nil, err
	}
	r := new(engine.PaymentRecord)
	if err := DecodePayment(v, r); err != nil {
		return nil, fmt.Errorf("journal: payment %q: %w", id, err)
	}
	r.Held = p.held.has(id) // not a Get: see heldSet
	return r, nil
}

func (p *Pebble) readRefund(id string) (*engine.RefundRecord, error) {
	v, err := p.get(appendKey(nil, prefixRefund, id))
	if err != nil || v == nil {
		return nil, err
	}
	r := new(engine.RefundRecord)
	if err := DecodeRefund(v, r); err != nil {
		return nil, fmt.Errorf("journal: refund %q: %w", id, err)
	}
	return r, nil
}

// refundsOf returns payment id's refunds, in refund id order.
func (p *Pebble) refundsOf(id string) ([]*engine.RefundRecord, error) {
	prefix := appendRefundIndexKey(nil, id, "")
	upper := append(bytes.Clone(prefix[:len(prefix)-1]), prefix[len(prefix)-1]+1)
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("journal: refunds of %q: %w", id, err)
	}
	var ids []string
	for it.First(); it.Valid(); it.Next() {
		ids = append(ids, string(it.Key()[len(prefix):]))
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("journal: refunds of %q: %w", id, err)
	}
	var out []*engine.RefundRecord
	for _, rid := range ids {
		r, err := p.readRefund(rid)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// reading takes the read side of p.mu for a lookup; the caller releases
// it (p.mu.RUnlock) when there is no error. (Returning the unlock as a
// func value would allocate on every pay.)
func (p *Pebble) reading(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// ClaimPayment implements engine.SharedJournal for one writer: the
// payment stored under the same request key, else the one holding the
// code; or rec, appended and synced.
func (p *Pebble) ClaimPayment(ctx context.Context, rec *engine.PaymentRecord) (*engine.PaymentRecord, error) {
	if rec == nil || !ValidID(rec.PaymentID) {
		return nil, ErrInvalid
	}
	existing, err := p.claimedBy(ctx, rec)
	if err != nil || existing != nil {
		return existing, err
	}
	// The payment id itself is not looked up: the engine's ids are unique
	// per process start (see engine's idGen), and a third lookup per pay
	// costs more than the collision it would catch. claimedBy added both
	// index keys to the filter.
	return nil, p.write(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{rec}}, true, nil)
}

// claimedBy returns the payment stored under rec's request key, else the
// one holding rec's code, else nil. Both keys are built in a pooled
// scratch buffer: a new pay's lookups allocate nothing of their own. It
// adds each key it looks up to the filter (it returns nil only after
// both), so that the claim's write need not.
func (p *Pebble) claimedBy(ctx context.Context, rec *engine.PaymentRecord) (*engine.PaymentRecord, error) {
	err := p.reading(ctx)
	if err != nil {
		return nil, err
	}
	defer p.mu.RUnlock()
	sc := p.scratch.Get().(*scratch)
	defer p.scratch.Put(sc)
	sc.key = appendReqKey(sc.key[:0], prefixPayReq, rec.ClientID, rec.RequestID)
	if existing, err := p.claimAt(sc.key); err != nil || existing != nil {
		return existing, err
	}
	sc.key = appendCodeKey(sc.key[:0], &rec.CodeHash)
	return p.claimAt(sc.key)
}

// claimAt returns the payment that index key k names, or nil, and adds k
// to the filter.
func (p *Pebble) claimAt(k []byte) (*engine.PaymentRecord, error) {
	if !p.filter.testAndAdd(k) {
		return nil, nil
	}
	id, err := p.get(k)
	if err != nil || id == nil {
		return nil, err
	}
	return p.readPayment(string(id))
}

// lookup returns the id stored under request or code index key k, or nil
// if it is absent: the key filter answers most absent keys without
// touching Pebble.
func (p *Pebble) lookup(k []byte) ([]byte, error) {
	if !p.filter.mayHave(k) {
		return nil, nil
	}
	return p.get(k)
}

// ClaimRefund implements engine.SharedJournal for one writer.
func (p *Pebble) ClaimRefund(ctx context.Context, b *engine.Batch) (*engine.RefundRecord, error) {
	if b == nil || len(b.Payments) != 1 || len(b.Refunds) != 1 || ValidateBatch(b) != nil {
		return nil, ErrInvalid
	}
	r := b.Refunds[0]
	err := p.reading(ctx)
	if err != nil {
		return nil, err
	}
	id, err := p.lookup(appendReqKey(nil, prefixRefReq, r.ClientID, r.RequestID))
	var existing *engine.RefundRecord
	if err == nil && id != nil {
		existing, err = p.readRefund(string(id))
	}
	p.mu.RUnlock()
	if err != nil || existing != nil {
		return existing, err
	}
	return nil, p.Append(ctx, b, true)
}

// GetPayment implements engine.SharedJournal.
func (p *Pebble) GetPayment(ctx context.Context, clientID, requestID, paymentID string) (*engine.PaymentRecord, []*engine.RefundRecord, error) {
	err := p.reading(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer p.mu.RUnlock()
	if paymentID == "" {
		id, err := p.lookup(appendReqKey(nil, prefixPayReq, clientID, requestID))
		if err != nil || id == nil {
			return nil, nil, err
		}
		paymentID = string(id)
	}
	rec, err := p.readPayment(paymentID)
	if err != nil || rec == nil || (clientID != "" && rec.ClientID != clientID) {
		return nil, nil, err
	}
	refs, err := p.refundsOf(paymentID)
	if err != nil {
		return nil, nil, err
	}
	return rec, refs, nil
}

// GetRefund implements engine.SharedJournal.
func (p *Pebble) GetRefund(ctx context.Context, clientID, requestID, refundID string) (*engine.RefundRecord, error) {
	err := p.reading(ctx)
	if err != nil {
		return nil, err
	}
	defer p.mu.RUnlock()
	if refundID == "" {
		id, err := p.lookup(appendReqKey(nil, prefixRefReq, clientID, requestID))
		if err != nil || id == nil {
			return nil, err
		}
		refundID = string(id)
	}
	r, err := p.readRefund(refundID)
	if err != nil || r == nil || (clientID != "" && r.ClientID != clientID) {
		return nil, err
	}
	return r, nil
}

// leased reads payment id with its refunds and pending notification.
func (p *Pebble) leased(id string) (*engine.Leased, error) {
	rec, err := p.readPayment(id)
	if err != nil || rec == nil {
		return nil, err
	}
	refs, err := p.refundsOf(id)
	if err != nil {
		return nil, err
	}
	l := &engine.Leased{Payment: rec, Refunds: refs}
	v, err := p.get(appendKey(nil, prefixNotification, id))
	if err != nil {
		return nil, err
	}
	if v != nil {
		n := new(engine.NotificationRecord)
		if err := DecodeNotification(v, n); err != nil {
			return nil, fmt.Errorf("journal: notification %q: %w", id, err)
		}
		l.Notification = n
	}
	return l, nil
}

// Acquire implements engine.SharedJournal: with one node, always this
// node's.
func (p *Pebble) Acquire(ctx context.Context, paymentID string) (*engine.Leased, bool, error) {
	err := p.reading(ctx)
	if err != nil {
		return nil, false, err
	}
	defer p.mu.RUnlock()
	l, err := p.leased(paymentID)
	if err != nil {
		return nil, false, err
	}
	if l == nil {
		return nil, false, engine.ErrNotFound
	}
	return l, true, nil
}

// takeBack is the state of a TakeOver pass after a Release.
type takeBack struct {
	mu     sync.Mutex
	active bool
	next   []byte // the next l/ key to read
}

// Release implements engine.SharedJournal: the next TakeOver calls hand
// back every payment with work left (the node's own, after a restart).
func (p *Pebble) Release(ctx context.Context) error {
	p.take.mu.Lock()
	p.take.active, p.take.next = true, []byte(prefixHeld)
	p.take.mu.Unlock()
	return nil
}

// TakeOver implements engine.SharedJournal: after a Release, up to limit
// payments with work left per call, in id order, until all were handed
// back; otherwise none (no other node's lease can expire).
func (p *Pebble) TakeOver(ctx context.Context, limit int) ([]*engine.Leased, error) {
	p.take.mu.Lock()
	defer p.take.mu.Unlock()
	if !p.take.active || limit <= 0 {
		return nil, nil
	}
	err := p.reading(ctx)
	if err != nil {
		return nil, err
	}
	defer p.mu.RUnlock()
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: p.take.next, UpperBound: prefixBounds(prefixHeld).UpperBound})
	if err != nil {
		return nil, fmt.Errorf("journal: take over: %w", err)
	}
	var ids []string
	for it.First(); it.Valid() && len(ids) < limit; it.Next() {
		ids = append(ids, string(it.Key()[len(prefixHeld):]))
	}
	more := it.Valid()
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("journal: take over: %w", err)
	}
	out := make([]*engine.Leased, 0, len(ids))
	for _, id := range ids {
		l, err := p.leased(id)
		if err != nil {
			return nil, err
		}
		if l != nil {
			out = append(out, l)
		}
	}
	if more && len(ids) > 0 {
		p.take.next = append(appendKey(nil, prefixHeld, ids[len(ids)-1]), 0)
	} else {
		p.take.active = false
	}
	return out, nil
}

// Renew implements engine.SharedJournal: one node's leases never expire.
func (p *Pebble) Renew(ctx context.Context) ([]string, error) { return nil, ctx.Err() }

// RequestCancel implements engine.SharedJournal: with one node every
// payment is this node's (Acquire always succeeds), so the engine never
// hands a cancel over; it is refused if asked.
func (p *Pebble) RequestCancel(ctx context.Context, paymentID string) error {
	return errors.New("journal: the Pebble journal has one node: cancels are never handed over")
}

// migrateIndexes adds the layout-2 index entries to a layout-1 store (a
// store written before the engine read payments from the journal).
func (p *Pebble) migrateIndexes() error {
	w := batchWriter{pb: p.db.NewBatch(), sc: &scratch{}}
	defer w.pb.Close()
	open := map[string]bool{} // payments with a refund in process
	it, err := p.db.NewIter(prefixBounds(prefixRefund))
	if err != nil {
		return err
	}
	var ref engine.RefundRecord
	for it.First(); it.Valid(); it.Next() {
		if err := DecodeRefund(it.Value(), &ref); err != nil {
			it.Close()
			return fmt.Errorf("journal: migrating %q: %w", it.Key(), err)
		}
		w.indexRefund(&ref, nil)
		if !RefundFinal(&ref) {
			open[ref.PaymentID] = true
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	it, err = p.db.NewIter(prefixBounds(prefixPayment))
	if err != nil {
		return err
	}
	var pay engine.PaymentRecord
	for it.First(); it.Valid(); it.Next() {
		if err := DecodePayment(it.Value(), &pay); err != nil {
			it.Close()
			return fmt.Errorf("journal: migrating %q: %w", it.Key(), err)
		}
		note, err := p.get(appendKey(nil, prefixNotification, pay.PaymentID))
		if err != nil {
			it.Close()
			return err
		}
		pay.Held = !pay.Final() || open[pay.PaymentID] || note != nil
		w.indexPayment(&pay)
	}
	if err := it.Close(); err != nil {
		return err
	}
	if w.err != nil {
		return w.err
	}
	_ = w.pb.Set([]byte(keyLayout), []byte{2}, nil)
	return w.pb.Commit(pebble.Sync)
}
