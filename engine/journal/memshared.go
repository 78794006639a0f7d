package journal

import (
	"context"
	"crypto/rand"
	"sort"
	"sync"
	"time"

	"github.com/paycode/paycode/engine"
)

// SharedMem is an in-memory stand-in for the shared PostgreSQL journal,
// for unit tests of several engines in one process: each Node is one
// engine's engine.SharedJournal, all over the same state, with the same
// semantics as engine/journal/postgres (unique keys, leases on a clock of
// the "database", fenced writes, cancel requests). One mutex plays the
// database's transactions. Records round-trip through the journal
// encoding. Nothing is durable.
type SharedMem struct {
	mu      sync.Mutex
	now     func() time.Time
	codeKey [CodeKeySize]byte

	pays     map[string]*memPay // by payment id
	byReq    map[string]string  // client \x00 request id → payment id
	byCode   map[[engine.CodeHashSize]byte]string
	refunds  map[string][]byte // encoded, by refund id
	refByReq map[string]string // client \x00 refund request id → refund id
	byPay    map[string]map[string]struct{}
	notes    map[string][]byte // encoded, by payment id
}

type memPay struct {
	rec        []byte // encoded latest version
	version    uint64
	final      bool
	held       bool   // PaymentRecord.Held (not in the record encoding)
	owner      string // "" when released
	leaseUntil time.Time
	cancelReq  bool
	updated    time.Time
}

// NewSharedMem returns an empty shared in-memory journal whose leases run
// on now (nil: time.Now), the "database clock".
func NewSharedMem(now func() time.Time) *SharedMem {
	if now == nil {
		now = time.Now
	}
	s := &SharedMem{
		now:      now,
		pays:     make(map[string]*memPay),
		byReq:    make(map[string]string),
		byCode:   make(map[[engine.CodeHashSize]byte]string),
		refunds:  make(map[string][]byte),
		refByReq: make(map[string]string),
		byPay:    make(map[string]map[string]struct{}),
		notes:    make(map[string][]byte),
	}
	_, _ = rand.Read(s.codeKey[:])
	return s
}

// Node returns node's view of the shared journal, with leases of ttl.
func (s *SharedMem) Node(node string, ttl time.Duration) *SharedMemNode {
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	return &SharedMemNode{db: s, node: node, ttl: ttl}
}

// Owner returns the node holding paymentID's lease ("" when released) and
// whether that lease is live: for tests.
func (s *SharedMem) Owner(paymentID string) (owner string, live bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pays[paymentID]
	if p == nil {
		return "", false
	}
	return p.owner, p.owner != "" && s.now().Before(p.leaseUntil)
}

// SharedMemNode is one node's engine.SharedJournal over a SharedMem.
type SharedMemNode struct {
	db     *SharedMem
	node   string
	ttl    time.Duration
	mu     sync.Mutex
	closed bool
}

var _ engine.SharedJournal = (*SharedMemNode)(nil)

// CodeKey returns the code-hash key every node shares.
func (n *SharedMemNode) CodeKey() []byte {
	k := n.db.codeKey
	return k[:]
}

func (n *SharedMemNode) check(ctx context.Context) error {
	n.mu.Lock()
	closed := n.closed
	n.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return ctx.Err()
}

func reqKey(client, req string) string { return client + "\x00" + req }

// ClaimPayment implements engine.SharedJournal.
func (n *SharedMemNode) ClaimPayment(ctx context.Context, rec *engine.PaymentRecord) (*engine.PaymentRecord, error) {
	if err := n.check(ctx); err != nil {
		return nil, err
	}
	if rec == nil || !ValidID(rec.PaymentID) {
		return nil, ErrInvalid
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byReq[reqKey(rec.ClientID, rec.RequestID)]
	if !ok {
		id, ok = s.byCode[rec.CodeHash]
	}
	if !ok {
		_, ok = s.pays[rec.PaymentID]
		id = rec.PaymentID
	}
	if ok {
		return s.payment(id)
	}
	mp := &memPay{rec: AppendPayment(nil, rec), version: rec.Version, final: rec.Final(), held: rec.Held, updated: rec.Updated}
	if rec.Held { // a tombstone (engine.PaymentRecord.Voided) is not leased
		mp.owner, mp.leaseUntil = n.node, s.now().Add(n.ttl)
	}
	s.pays[rec.PaymentID] = mp
	s.byReq[reqKey(rec.ClientID, rec.RequestID)] = rec.PaymentID
	s.byCode[rec.CodeHash] = rec.PaymentID
	return nil, nil
}

// payment decodes a stored payment. Caller holds s.mu.
func (s *SharedMem) payment(id string) (*engine.PaymentRecord, error) {
	p := s.pays[id]
	if p == nil {
		return nil, nil
	}
	r := new(engine.PaymentRecord)
	if err := DecodePayment(p.rec, r); err != nil {
		return nil, err
	}
	r.Held = p.held
	return r, nil
}

func (s *SharedMem) refund(id string) (*engine.RefundRecord, error) {
	v, ok := s.refunds[id]
	if !ok {
		return nil, nil
	}
	r := new(engine.RefundRecord)
	if err := DecodeRefund(v, r); err != nil {
		return nil, err
	}
	return r, nil
}

// writePayment applies a fenced payment write. Caller holds s.mu.
func (n *SharedMemNode) writePayment(r *engine.PaymentRecord, now time.Time) error {
	s := n.db
	p := s.pays[r.PaymentID]
	if p == nil {
		p = &memPay{owner: n.node}
		s.pays[r.PaymentID] = p
		s.byReq[reqKey(r.ClientID, r.RequestID)] = r.PaymentID
		s.byCode[r.CodeHash] = r.PaymentID
	}
	if p.owner != n.node {
		return engine.ErrLeaseLost
	}
	if r.Version < p.version {
		return nil
	}
	p.rec, p.version, p.final, p.held, p.updated = AppendPayment(nil, r), r.Version, r.Final(), r.Held, r.Updated
	if r.Held {
		p.leaseUntil = now.Add(n.ttl)
	} else {
		p.owner, p.leaseUntil = "", time.Time{}
	}
	return nil
}

// fenced reports whether every payment of b is leased to n. Caller holds s.mu.
func (n *SharedMemNode) fenced(b *engine.Batch) bool {
	for _, r := range b.Payments {
		if p := n.db.pays[r.PaymentID]; p != nil && p.owner != n.node {
			return false
		}
	}
	return true
}

func (n *SharedMemNode) writeRest(b *engine.Batch) {
	s := n.db
	for _, r := range b.Refunds {
		if old, err := s.refund(r.RefundID); err == nil && old != nil && r.Version < old.Version {
			continue // versions never go backwards
		}
		s.refunds[r.RefundID] = AppendRefund(nil, r)
		s.refByReq[reqKey(r.ClientID, r.RequestID)] = r.RefundID
		set := s.byPay[r.PaymentID]
		if set == nil {
			set = make(map[string]struct{})
			s.byPay[r.PaymentID] = set
		}
		set[r.RefundID] = struct{}{}
	}
	for _, r := range b.Notifications {
		s.notes[r.PaymentID] = AppendNotification(nil, r)
	}
	for _, id := range b.Delivered {
		delete(s.notes, id)
	}
}

// Append implements engine.Journal: atomic, fenced on the payments' leases.
func (n *SharedMemNode) Append(ctx context.Context, b *engine.Batch, sync bool) error {
	if err := n.check(ctx); err != nil {
		return err
	}
	if err := ValidateBatch(b); err != nil {
		return err
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	if !n.fenced(b) {
		return engine.ErrLeaseLost
	}
	now := s.now()
	for _, r := range b.Payments {
		if err := n.writePayment(r, now); err != nil {
			return err
		}
	}
	n.writeRest(b)
	return nil
}

// ClaimRefund implements engine.SharedJournal.
func (n *SharedMemNode) ClaimRefund(ctx context.Context, b *engine.Batch) (*engine.RefundRecord, error) {
	if err := n.check(ctx); err != nil {
		return nil, err
	}
	if err := ValidateBatch(b); err != nil {
		return nil, err
	}
	if len(b.Payments) != 1 || len(b.Refunds) != 1 {
		return nil, ErrInvalid
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	r := b.Refunds[0]
	if id, ok := s.refByReq[reqKey(r.ClientID, r.RequestID)]; ok {
		return s.refund(id)
	}
	if !n.fenced(b) {
		return nil, engine.ErrLeaseLost
	}
	if err := n.writePayment(b.Payments[0], s.now()); err != nil {
		return nil, err
	}
	n.writeRest(b)
	return nil, nil
}

// GetPayment implements engine.SharedJournal.
func (n *SharedMemNode) GetPayment(ctx context.Context, clientID, requestID, paymentID string) (*engine.PaymentRecord, []*engine.RefundRecord, error) {
	if err := n.check(ctx); err != nil {
		return nil, nil, err
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	id := paymentID
	if id == "" {
		id = s.byReq[reqKey(clientID, requestID)]
	}
	p, err := s.payment(id)
	if err != nil || p == nil || (clientID != "" && p.ClientID != clientID) {
		return nil, nil, err
	}
	refs, err := s.refundsOf(id)
	return p, refs, err
}

func (s *SharedMem) refundsOf(id string) ([]*engine.RefundRecord, error) {
	ids := make([]string, 0, len(s.byPay[id]))
	for rid := range s.byPay[id] {
		ids = append(ids, rid)
	}
	sort.Strings(ids)
	var out []*engine.RefundRecord
	for _, rid := range ids {
		r, err := s.refund(rid)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// GetRefund implements engine.SharedJournal.
func (n *SharedMemNode) GetRefund(ctx context.Context, clientID, requestID, refundID string) (*engine.RefundRecord, error) {
	if err := n.check(ctx); err != nil {
		return nil, err
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	id := refundID
	if id == "" {
		id = s.refByReq[reqKey(clientID, requestID)]
	}
	r, err := s.refund(id)
	if err != nil || r == nil || (clientID != "" && r.ClientID != clientID) {
		return nil, err
	}
	return r, nil
}

// leased builds the Leased view of a payment. Caller holds s.mu.
func (s *SharedMem) leased(id string) (*engine.Leased, error) {
	p, err := s.payment(id)
	if err != nil {
		return nil, err
	}
	refs, err := s.refundsOf(id)
	if err != nil {
		return nil, err
	}
	l := &engine.Leased{Payment: p, Refunds: refs, CancelRequested: s.pays[id].cancelReq}
	if v, ok := s.notes[id]; ok {
		nr := new(engine.NotificationRecord)
		if err := DecodeNotification(v, nr); err != nil {
			return nil, err
		}
		l.Notification = nr
	}
	return l, nil
}

// Acquire implements engine.SharedJournal.
func (n *SharedMemNode) Acquire(ctx context.Context, paymentID string) (*engine.Leased, bool, error) {
	if err := n.check(ctx); err != nil {
		return nil, false, err
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pays[paymentID]
	if p == nil {
		return nil, false, engine.ErrNotFound
	}
	now := s.now()
	if p.owner != "" && p.owner != n.node && now.Before(p.leaseUntil) {
		return nil, false, nil
	}
	p.owner, p.leaseUntil = n.node, now.Add(n.ttl)
	l, err := s.leased(paymentID)
	return l, err == nil, err
}

// TakeOver implements engine.SharedJournal.
func (n *SharedMemNode) TakeOver(ctx context.Context, limit int) ([]*engine.Leased, error) {
	if err := n.check(ctx); err != nil {
		return nil, err
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var ids []string
	for id, p := range s.pays {
		if p.owner != "" && !now.Before(p.leaseUntil) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]*engine.Leased, 0, len(ids))
	for _, id := range ids {
		p := s.pays[id]
		p.owner, p.leaseUntil = n.node, now.Add(n.ttl)
		l, err := s.leased(id)
		if err != nil {
			return out, err
		}
		out = append(out, l)
	}
	return out, nil
}

// Renew implements engine.SharedJournal.
func (n *SharedMemNode) Renew(ctx context.Context) ([]string, error) {
	if err := n.check(ctx); err != nil {
		return nil, err
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var cancels []string
	for id, p := range s.pays {
		if p.owner != n.node {
			continue
		}
		p.leaseUntil = now.Add(n.ttl)
		if p.cancelReq {
			p.cancelReq = false
			cancels = append(cancels, id)
		}
	}
	sort.Strings(cancels)
	return cancels, nil
}

// RequestCancel implements engine.SharedJournal.
func (n *SharedMemNode) RequestCancel(ctx context.Context, paymentID string) error {
	if err := n.check(ctx); err != nil {
		return err
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pays[paymentID]
	if p == nil {
		return engine.ErrNotFound
	}
	p.cancelReq = true
	return nil
}

// Release implements engine.SharedJournal: this node's leases end now
// (kept as expired, so the next TakeOver anywhere takes them at once).
func (n *SharedMemNode) Release(ctx context.Context) error {
	if err := n.check(ctx); err != nil {
		return err
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, p := range s.pays {
		if p.owner == n.node {
			p.leaseUntil = now.Add(-time.Nanosecond)
		}
	}
	return nil
}

// Load implements engine.Journal: every record of every node.
func (n *SharedMemNode) Load(ctx context.Context, fn func(*engine.Record) error) error {
	if err := n.check(ctx); err != nil {
		return err
	}
	s := n.db
	s.mu.Lock()
	var values [][]byte
	held := map[int]bool{}
	ids := make([]string, 0, len(s.pays))
	for id := range s.pays {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		held[len(values)] = s.pays[id].held
		values = append(values, s.pays[id].rec)
	}
	for _, mp := range [...]map[string][]byte{s.refunds, s.notes} {
		for _, id := range sortedKeys(mp) {
			values = append(values, mp[id])
		}
	}
	s.mu.Unlock()
	for i, v := range values {
		var rec engine.Record
		if err := DecodeRecord(v, &rec); err != nil {
			return err
		}
		if rec.Payment != nil {
			rec.Payment.Held = held[i]
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
	return nil
}

// Compact implements engine.Journal: final, released payments older than
// before, with their refunds, unless a notification is pending.
func (n *SharedMemNode) Compact(ctx context.Context, before time.Time) (int, error) {
	if err := n.check(ctx); err != nil {
		return 0, err
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	removed := 0
	for id, p := range s.pays {
		if !p.final || p.owner != "" || !p.updated.Before(before) {
			continue
		}
		if _, ok := s.notes[id]; ok {
			continue
		}
		rec, err := s.payment(id)
		if err != nil {
			return removed, err
		}
		busy := false
		var refs []*engine.RefundRecord // decoded once: checked, then unindexed
		for rid := range s.byPay[id] {
			r, err := s.refund(rid)
			if err != nil {
				return removed, err
			}
			if r != nil {
				busy = busy || !refundDone(r, before)
				refs = append(refs, r)
			}
		}
		if busy {
			continue
		}
		for _, r := range refs {
			delete(s.refByReq, reqKey(r.ClientID, r.RequestID))
		}
		for rid := range s.byPay[id] {
			delete(s.refunds, rid)
		}
		delete(s.byPay, id)
		delete(s.byReq, reqKey(rec.ClientID, rec.RequestID))
		delete(s.byCode, rec.CodeHash)
		delete(s.pays, id)
		removed++
	}
	return removed, nil
}

// Close ends this node's use of the journal (the shared state stays).
func (n *SharedMemNode) Close() error {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	return nil
}
