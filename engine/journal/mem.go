package journal

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/paycode/paycode/engine"
)

// Mem is the in-memory journal: an engine.SharedJournal (and Outbox)
// with no durability, for `paycode serve -memory`, the load tool's
// embedded -memory mode and tests. NewMem gives a one-node journal, as
// the Pebble journal is one: leases never expire, Acquire always
// succeeds, and the engine runs the same path as on Pebble or
// PostgreSQL. MemDB.Node gives several nodes over one shared state, with
// the semantics of engine/journal/postgres (unique keys, leases on the
// "database" clock, fenced writes, cancel requests), for tests of several
// engines in one process. One mutex plays the database's transactions;
// records round-trip through the journal encoding, so what the engine
// reads back is what Pebble or PostgreSQL would give it.
type Mem struct {
	db   *MemDB
	node string
	ttl  time.Duration // 0: the one node's leases never expire
	fs   *failState

	mu       sync.Mutex
	closed   bool
	failNext error
	// loseRenew: the next Renew commits and its answer is lost.
	loseRenew bool
	// handed: the cancel requests the last answered Renew returned,
	// cleared by the next one (see Renew). Guarded by db.mu.
	handed map[string]bool
}

// MemDB is the state several Mem nodes share (the "database").
type MemDB struct {
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
	buf      []byte            // encoding scratch
}

// encodePayment encodes r into a value of its own (stored values are
// never changed: Load reads them outside mu). Caller holds s.mu.
func (s *MemDB) encodePayment(r *engine.PaymentRecord) []byte {
	s.buf = AppendPayment(s.buf[:0], r)
	return bytes.Clone(s.buf)
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

// NewMem returns an empty one-node in-memory journal with a random code
// key.
func NewMem() *Mem { return NewMemDB(nil).Node("mem", 0) }

// NewMemDB returns an empty shared in-memory state whose leases run on
// now (nil: time.Now), the "database clock".
func NewMemDB(now func() time.Time) *MemDB {
	if now == nil {
		now = time.Now
	}
	s := &MemDB{
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

// Node returns node's journal over s, with leases of ttl; ttl 0 (or
// less) makes it the only node: leases that never expire and writes
// that are never fenced.
func (s *MemDB) Node(node string, ttl time.Duration) *Mem {
	return &Mem{db: s, node: node, ttl: max(ttl, 0), fs: newFailState(nil)}
}

// Owner returns the node holding paymentID's lease ("" when released) and
// whether that lease is live: for tests.
func (s *MemDB) Owner(paymentID string) (owner string, live bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pays[paymentID]
	if p == nil {
		return "", false
	}
	return p.owner, p.owner != "" && s.now().Before(p.leaseUntil)
}

var _ engine.SharedJournal = (*Mem)(nil)

// CodeKey returns the code-hash key every node of the MemDB shares.
func (n *Mem) CodeKey() []byte {
	k := n.db.codeKey
	return k[:]
}

// SetOnFatal sets the function called once on the first write failure
// (see Options.OnFatal). Call it before the first Append.
func (n *Mem) SetOnFatal(fn func(error)) { n.fs.onFatal = fn }

// FailNext makes the next write (Append, ClaimPayment, ClaimRefund) fail
// with err, as a disk would: the journal is then failed for good, as
// Pebble is (tests of the engine's fail-stop path).
func (n *Mem) FailNext(err error) {
	n.mu.Lock()
	n.failNext = err
	n.mu.Unlock()
}

// LoseNextRenew makes the next Renew commit and then lose its answer
// (ErrJournalUnavailable with ErrOutcomeUnknown), as a connection to
// PostgreSQL dropped after the commit does.
func (n *Mem) LoseNextRenew() {
	n.mu.Lock()
	n.loseRenew = true
	n.mu.Unlock()
}

// sole reports whether n is the only node (ttl 0): its leases never
// expire and its writes are never fenced, as with the Pebble journal.
func (n *Mem) sole() bool { return n.ttl == 0 }

// leaseEnd is when a lease taken or renewed at now ends.
func (n *Mem) leaseEnd(now time.Time) time.Time {
	if n.sole() {
		return now.Add(time.Duration(math.MaxInt64))
	}
	return now.Add(n.ttl)
}

func (n *Mem) check(ctx context.Context) error {
	n.mu.Lock()
	closed := n.closed
	n.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return ctx.Err()
}

// write is check for a write: it also fails with the latched error, or
// latches FailNext's.
func (n *Mem) write(ctx context.Context) error {
	if err := n.fs.failed(); err != nil {
		n.fs.notify()
		return err
	}
	if err := n.check(ctx); err != nil {
		return err
	}
	n.mu.Lock()
	cause := n.failNext
	n.failNext = nil
	n.mu.Unlock()
	if cause != nil {
		err := n.fs.fail(cause)
		n.fs.notify()
		return err
	}
	return nil
}

func reqKey(client, req string) string { return client + "\x00" + req }

// ClaimPayment implements engine.SharedJournal.
func (n *Mem) ClaimPayment(ctx context.Context, rec *engine.PaymentRecord) (*engine.PaymentRecord, error) {
	if err := n.write(ctx); err != nil {
		return nil, err
	}
	if rec == nil || !ValidID(rec.PaymentID) {
		return nil, ErrInvalid
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	rk := reqKey(rec.ClientID, rec.RequestID)
	id, ok := s.byReq[rk]
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
	mp := &memPay{rec: s.encodePayment(rec), version: rec.Version, final: rec.Final(), held: rec.Held, updated: rec.Updated}
	if rec.Held { // a tombstone (engine.PaymentRecord.Voided) is not leased
		mp.owner, mp.leaseUntil = n.node, n.leaseEnd(s.now())
	}
	s.pays[rec.PaymentID] = mp
	s.byReq[rk] = rec.PaymentID
	s.byCode[rec.CodeHash] = rec.PaymentID
	return nil, nil
}

// payment decodes a stored payment. Caller holds s.mu.
func (s *MemDB) payment(id string) (*engine.PaymentRecord, error) {
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

func (s *MemDB) refund(id string) (*engine.RefundRecord, error) {
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
func (n *Mem) writePayment(r *engine.PaymentRecord, now time.Time) error {
	s := n.db
	p := s.pays[r.PaymentID]
	if p == nil {
		p = &memPay{owner: n.node}
		s.pays[r.PaymentID] = p
		s.byReq[reqKey(r.ClientID, r.RequestID)] = r.PaymentID
		s.byCode[r.CodeHash] = r.PaymentID
	}
	if p.owner != n.node && !n.sole() {
		return engine.ErrLeaseLost
	}
	if r.Version < p.version {
		return nil
	}
	p.rec, p.version, p.final, p.held, p.updated = s.encodePayment(r), r.Version, r.Final(), r.Held, r.Updated
	if r.Held {
		p.owner, p.leaseUntil = n.node, n.leaseEnd(now)
	} else {
		p.owner, p.leaseUntil = "", time.Time{}
	}
	return nil
}

// fenced reports whether every payment of b is leased to n. Caller holds s.mu.
func (n *Mem) fenced(b *engine.Batch) bool {
	for _, r := range b.Payments {
		if p := n.db.pays[r.PaymentID]; p != nil && p.owner != n.node && !n.sole() {
			return false
		}
	}
	return true
}

func (n *Mem) writeRest(b *engine.Batch) {
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
func (n *Mem) Append(ctx context.Context, b *engine.Batch, sync bool) error {
	if err := n.write(ctx); err != nil {
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
func (n *Mem) ClaimRefund(ctx context.Context, b *engine.Batch) (*engine.RefundRecord, error) {
	if err := n.write(ctx); err != nil {
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
func (n *Mem) GetPayment(ctx context.Context, clientID, requestID, paymentID string) (*engine.PaymentRecord, []*engine.RefundRecord, error) {
	if err := n.check(ctx); err != nil {
		return nil, nil, err
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := lookup(paymentID, clientID, requestID, s.byReq, s.payment, func(p *engine.PaymentRecord) string { return p.ClientID })
	if err != nil || p == nil {
		return nil, nil, err
	}
	refs, err := s.refundsOf(p.PaymentID)
	return p, refs, err
}

// lookup finds a record by id, or else by client and request id through
// byReq, and reads it with get; nil when there is none, or when it is
// another client's (clientID set). Caller holds the MemDB's mu.
func lookup[R any](id, clientID, requestID string, byReq map[string]string, get func(string) (*R, error), client func(*R) string) (*R, error) {
	if id == "" {
		id = byReq[reqKey(clientID, requestID)]
	}
	r, err := get(id)
	if err != nil || r == nil || (clientID != "" && client(r) != clientID) {
		return nil, err
	}
	return r, nil
}

func (s *MemDB) refundsOf(id string) ([]*engine.RefundRecord, error) {
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
func (n *Mem) GetRefund(ctx context.Context, clientID, requestID, refundID string) (*engine.RefundRecord, error) {
	if err := n.check(ctx); err != nil {
		return nil, err
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	return lookup(refundID, clientID, requestID, s.refByReq, s.refund, func(r *engine.RefundRecord) string { return r.ClientID })
}

// leased builds the Leased view of a payment. Caller holds s.mu.
func (s *MemDB) leased(id string) (*engine.Leased, error) {
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
func (n *Mem) Acquire(ctx context.Context, paymentID string) (*engine.Leased, bool, error) {
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
	p.owner, p.leaseUntil = n.node, n.leaseEnd(now)
	l, err := s.leased(paymentID)
	return l, err == nil, err
}

// TakeOver implements engine.SharedJournal.
func (n *Mem) TakeOver(ctx context.Context, limit int) ([]*engine.Leased, error) {
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
		p.owner, p.leaseUntil = n.node, n.leaseEnd(now)
		l, err := s.leased(id)
		if err != nil {
			return out, err
		}
		out = append(out, l)
	}
	return out, nil
}

// Renew implements engine.SharedJournal as the PostgreSQL store does: a
// cancel request stays recorded until the Renew after the one whose
// answer returned it.
func (n *Mem) Renew(ctx context.Context) ([]string, error) {
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
		p.leaseUntil = n.leaseEnd(now)
		if p.cancelReq && n.handed[id] {
			p.cancelReq = false // returned last time and carried out
		}
		if p.cancelReq {
			cancels = append(cancels, id)
		}
	}
	sort.Strings(cancels)
	n.mu.Lock()
	lose := n.loseRenew
	n.loseRenew = false
	n.mu.Unlock()
	if lose {
		return nil, fmt.Errorf("journal: renew: %w: %w: the answer was lost", engine.ErrJournalUnavailable, engine.ErrOutcomeUnknown)
	}
	clear(n.handed)
	for _, id := range cancels {
		if n.handed == nil {
			n.handed = make(map[string]bool)
		}
		n.handed[id] = true
	}
	return cancels, nil
}

// RequestCancel implements engine.SharedJournal.
func (n *Mem) RequestCancel(ctx context.Context, paymentID string) error {
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
func (n *Mem) Release(ctx context.Context) error {
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
func (n *Mem) Load(ctx context.Context, fn func(*engine.Record) error) error {
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
func (n *Mem) Compact(ctx context.Context, before time.Time) (int, error) {
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

func sortedKeys(m map[string][]byte) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Close ends this node's use of the journal (the shared state stays).
func (n *Mem) Close() error {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	return nil
}

// TakeNotifications implements engine.Outbox. It scans every pending
// notification: MemDB is a test double, not sized for a backlog.
func (n *Mem) TakeNotifications(ctx context.Context, now, until time.Time, limit int) ([]*engine.NotificationRecord, error) {
	if err := n.check(ctx); err != nil {
		return nil, err
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*engine.NotificationRecord
	for _, v := range s.notes {
		r := new(engine.NotificationRecord)
		if err := DecodeNotification(v, r); err != nil {
			return nil, err
		}
		if !r.Due.After(now) {
			due = append(due, r)
		}
	}
	slices.SortFunc(due, func(a, b *engine.NotificationRecord) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.PaymentID, b.PaymentID)
	})
	if len(due) > limit {
		due = due[:max(limit, 0)]
	}
	for _, r := range due {
		r.Due = until
		s.notes[r.PaymentID] = AppendNotification(nil, r)
	}
	return due, nil
}

// SettleNotification implements engine.Outbox.
func (n *Mem) SettleNotification(ctx context.Context, taken, next *engine.NotificationRecord) (bool, error) {
	if err := n.check(ctx); err != nil {
		return false, err
	}
	if next != nil && next.PaymentID != taken.PaymentID {
		return false, fmt.Errorf("%w: settling %q with %q's notification", ErrInvalid, taken.PaymentID, next.PaymentID)
	}
	s := n.db
	s.mu.Lock()
	defer s.mu.Unlock()
	if !bytes.Equal(s.notes[taken.PaymentID], AppendNotification(nil, taken)) {
		return false, nil
	}
	if next == nil {
		delete(s.notes, taken.PaymentID)
	} else {
		s.notes[taken.PaymentID] = AppendNotification(nil, next)
	}
	return true, nil
}

// CountNotifications implements engine.Outbox.
func (n *Mem) CountNotifications(ctx context.Context) (int, error) {
	if err := n.check(ctx); err != nil {
		return 0, err
	}
	n.db.mu.Lock()
	defer n.db.mu.Unlock()
	return len(n.db.notes), nil
}
