package journal

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/paycode/paycode/engine"
)

// Pebble is the on-disk journal: one Pebble store in a directory. It is
// safe for concurrent use; concurrent synced Appends share WAL fsyncs
// through Pebble's commit pipeline (group commit).
type Pebble struct {
	db      *pebble.DB
	opts    Options
	codeKey [CodeKeySize]byte
	fs      *failState

	// mu orders Appends (shared) against Compact's check-and-delete
	// sections and Close (exclusive), so that Compact never deletes a
	// payment that an Append is concurrently bringing back to life.
	mu      sync.RWMutex
	closed  bool
	closing atomic.Bool

	scratch sync.Pool // *scratch
	reqs    sync.Pool // *commitReq
	take    takeBack  // TakeOver after Release (pebble_shared.go)
	// outbox orders Appends that write notifications (shared) against
	// TakeNotifications and SettleNotification (exclusive), whose
	// read-check-write must not straddle a newer notification's write.
	outbox sync.RWMutex
	filter keyFilter // index keys present (pebble_shared.go)
	held   heldSet   // payments whose held mark is set (pebble_shared.go)
	due    dueFloor  // where the outbox's due index starts (outbox.go)

	// Options.BackgroundSync: syncLoop's wake-up (buffered, one),
	// whether a sync is already asked for, and its stop.
	syncNudge   chan struct{}
	syncPending atomic.Bool
	syncStop    chan struct{}
}

// scratch is an Append's reusable key and value buffers.
type scratch struct {
	key, val []byte
}

var _ engine.Journal = (*Pebble)(nil)

// Open opens or creates the journal in dir. On first open it generates
// the code-hash key (see CodeKey) and syncs it before returning.
func Open(dir string, opts Options) (*Pebble, error) {
	db, fs, err := openStore(dir, &opts)
	if err != nil {
		return nil, err
	}
	p := &Pebble{db: db, opts: opts, fs: fs}
	p.reqs.New = func() any {
		r := &commitReq{fs: fs, done: make(chan error, 1)}
		r.runFn = r.run
		return r
	}
	p.scratch.New = func() any {
		return &scratch{key: make([]byte, 0, 64), val: make([]byte, 0, PaymentSizeHint)}
	}
	if err := p.initMeta(); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := p.buildFilter(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("journal: reading the index: %w", err)
	}
	if err := p.buildHeld(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("journal: reading the held marks: %w", err)
	}
	if opts.BackgroundSync {
		p.syncNudge, p.syncStop = make(chan struct{}, 1), make(chan struct{})
		go p.syncLoop()
	}
	return p, nil
}

// OpenDB opens a bare Pebble store in dir with the options Open gives
// the journal (block cache, memtable size, Bloom filters,
// WALMinSyncInterval, the WAL's failure latch), without the journal's
// layout, code key, indexes or commit path. It exists for
// bench/cmd/floorserver, which writes a pay's records to it to measure
// the I/O a pay cannot avoid under paycode's own code. A WAL failure
// panics in the committing goroutine (nothing recovers it). The caller
// closes the DB.
func OpenDB(dir string, opts Options) (*pebble.DB, error) {
	db, _, err := openStore(dir, &opts)
	return db, err
}

// openStore validates and completes opts and opens the Pebble store in
// dir with them, its WAL behind the failure latch it returns.
func openStore(dir string, opts *Options) (*pebble.DB, *failState, error) {
	if err := opts.Validate(); err != nil {
		return nil, nil, err
	}
	opts.EnsureDefaults()
	fs := newFailState(opts.OnFatal)
	po := opts.pebbleOptions(fs)
	po.FS = &latchFS{FS: opts.FS, fs: fs}
	db, err := openDB(dir, po)
	po.Cache.Unref()
	if err != nil {
		return nil, nil, fmt.Errorf("journal: opening %s: %w", dir, err)
	}
	return db, fs, nil
}

// syncSoon asks syncLoop for a WAL fsync, unless one is already asked for
// and not yet started.
func (p *Pebble) syncSoon() {
	if p.syncNudge != nil && p.syncPending.CompareAndSwap(false, true) {
		select {
		case p.syncNudge <- struct{}{}:
		default:
		}
	}
}

// syncLoop is Options.BackgroundSync: for each request, one synced empty
// commit, which makes every earlier write durable. A failure is latched
// like any commit's; the next Append reports it.
func (p *Pebble) syncLoop() {
	for {
		select {
		case <-p.syncStop:
			return
		case <-p.syncNudge:
		}
		p.syncPending.Store(false)
		p.mu.RLock()
		if !p.closed && p.fs.failed() == nil {
			pb := p.db.NewBatch()
			_ = pb.LogData(nil, nil)
			if err := p.commit(pb, pebble.Sync); errors.Is(err, engine.ErrJournalFailed) {
				p.fs.notify()
			}
		}
		p.mu.RUnlock()
	}
}

// openDB is pebble.Open, with a Fatalf during recovery returned as an
// error rather than ending the process.
func openDB(dir string, po *pebble.Options) (db *pebble.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, panicError(r)
		}
	}()
	return pebble.Open(dir, po)
}

// initMeta checks the layout version and loads or creates the code key.
func (p *Pebble) initMeta() error {
	layout, err := p.get([]byte(keyLayout))
	if err != nil {
		return err
	}
	key, err := p.get([]byte(keyCodeKey))
	if err != nil {
		return err
	}
	switch {
	case layout == nil && key == nil:
		if _, err := rand.Read(p.codeKey[:]); err != nil {
			return fmt.Errorf("journal: generating code key: %w", err)
		}
		b := p.db.NewBatch()
		_ = b.Set([]byte(keyLayout), []byte{layoutVersion}, nil)
		_ = b.Set([]byte(keyCodeKey), p.codeKey[:], nil)
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("journal: writing meta keys: %w", err)
		}
		return b.Close()
	case len(layout) == 1 && (layout[0] == 1 || layout[0] == 2) && len(key) == CodeKeySize:
		// Layout 1: add the indexes the engine's lookups need; layouts 1
		// and 2: the due-time index of the outbox.
		if layout[0] == 1 {
			if err := p.migrateIndexes(); err != nil {
				return fmt.Errorf("journal: adding the layout-2 indexes: %w", err)
			}
		}
		if err := p.migrateDue(); err != nil {
			return fmt.Errorf("journal: adding the layout-%d due index: %w", layoutVersion, err)
		}
	case len(layout) != 1 || layout[0] != layoutVersion:
		return fmt.Errorf("journal: store layout %v is not version %d", layout, layoutVersion)
	case len(key) != CodeKeySize:
		return fmt.Errorf("journal: code key is %d bytes, want %d", len(key), CodeKeySize)
	}
	copy(p.codeKey[:], key)
	return nil
}

// get returns a copy of key's value, or nil if it is absent.
func (p *Pebble) get(key []byte) ([]byte, error) {
	v, closer, err := p.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: reading %q: %w", key, err)
	}
	out := bytes.Clone(v)
	_ = closer.Close()
	return out, nil
}

// CodeKey returns a copy of the store's 32-byte code-hash key: random,
// made on first open, the same after every reopen. It is a secret.
func (p *Pebble) CodeKey() []byte { return bytes.Clone(p.codeKey[:]) }

// Append writes b atomically as one Pebble batch: payments, refunds and
// notifications overwrite their keys, Delivered deletes notifications.
// With sync it returns once the WAL holding the batch is fsynced; an
// empty batch with sync is a barrier that makes every earlier unsynced
// Append durable.
//
// Errors: ErrInvalid (a missing or malformed id: nothing written, the
// journal stays usable), ctx's error (checked before writing only),
// ErrClosed, or an error wrapping engine.ErrJournalFailed. The latter is
// permanent: the first write or sync failure latches it, calls OnFatal
// once, and every later Append returns it at once without touching disk.
// An unsynced Append may return nil although the WAL write later fails;
// the next synced Append reports the failure.
func (p *Pebble) Append(ctx context.Context, b *engine.Batch, sync bool) error {
	return p.write(ctx, b, sync, &p.filter)
}

// write is Append, adding b's new index keys to kf (nil: the caller did,
// as ClaimPayment does while it looks them up).
func (p *Pebble) write(ctx context.Context, b *engine.Batch, sync bool, kf *keyFilter) error {
	if err := p.fs.failed(); err != nil {
		p.fs.notify()
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ValidateBatch(b); err != nil {
		return err
	}
	if len(b.Notifications) > 0 || len(b.Delivered) > 0 {
		p.outbox.RLock()
		defer p.outbox.RUnlock()
	}
	err := p.append(b, sync, kf)
	if errors.Is(err, engine.ErrJournalFailed) {
		p.fs.notify()
	}
	return err
}

func (p *Pebble) append(b *engine.Batch, sync bool, kf *keyFilter) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	if err := p.fs.failed(); err != nil {
		return err
	}
	sc := p.scratch.Get().(*scratch)
	w := batchWriter{pb: p.db.NewBatch(), sc: sc}
	for _, r := range b.Payments {
		w.payment(r, kf)
	}
	for _, r := range b.Refunds {
		sc.key = appendKey(sc.key[:0], prefixRefund, r.RefundID)
		sc.val = AppendRefund(sc.val[:0], r)
		w.set(sc.key, sc.val)
		sc.key = appendRefundIndexKey(sc.key[:0], r.PaymentID, r.RefundID)
		w.set(sc.key, nil)
		w.indexRefund(r, kf)
	}
	for _, r := range b.Notifications {
		sc.key = appendKey(sc.key[:0], prefixNotification, r.PaymentID)
		sc.val = AppendNotification(sc.val[:0], r)
		w.set(sc.key, sc.val)
		sc.key = appendDueKey(sc.key[:0], r.Due, r.PaymentID)
		p.due.lower(sc.key) // before the commit: TakeNotifications waits for it (p.outbox)
		w.set(sc.key, nil)
	}
	for _, id := range b.Delivered {
		sc.key = appendKey(sc.key[:0], prefixNotification, id)
		w.del(sc.key)
	}
	p.scratch.Put(sc)
	pb := w.pb
	if w.err != nil { // only a batch too large for Pebble (4 GiB)
		_ = pb.Close()
		return fmt.Errorf("%w: %w", ErrInvalid, w.err)
	}
	if pb.Empty() {
		if !sync {
			_ = pb.Close()
			return nil
		}
		// An empty batch is not written at all; a LogData record makes
		// the commit go through the WAL and its fsync.
		_ = pb.LogData(nil, nil)
	}
	wo := pebble.NoSync
	if sync {
		wo = pebble.Sync
	}
	if err := p.commit(pb, wo); err != nil {
		return err
	}
	p.held.apply(b.Payments) // committed: its marks are what reads see
	if !sync {
		p.syncSoon()
	}
	return nil
}

// batchWriter fills one Pebble batch through an Append's scratch
// buffers, keeping the first error (Pebble's Set and Delete fail only on
// a batch too large for it). Plain methods rather than a closure: this is
// every pay's path.
type batchWriter struct {
	pb  *pebble.Batch
	sc  *scratch
	err error
}

func (w *batchWriter) set(k, v []byte) {
	if err := w.pb.Set(k, v, nil); err != nil && w.err == nil {
		w.err = err
	}
}

func (w *batchWriter) del(k []byte) {
	if err := w.pb.Delete(k, nil); err != nil && w.err == nil {
		w.err = err
	}
}

// payment adds r's version with its age entry (a final version) and its
// index entries: the request and code entries with its first version
// (they never change), the held mark with every version. The entries go
// in key order (h/, l/, p/, q/, t/): Pebble inserts a batch's keys into
// its memtable one after the other, and a key that follows the previous
// one starts its search from there rather than from the top.
func (w *batchWriter) payment(r *engine.PaymentRecord, kf *keyFilter) {
	first := r.Version <= 1
	if first {
		w.codeEntry(r, kf)
	}
	w.heldMark(r)
	sc := w.sc
	sc.key = appendKey(sc.key[:0], prefixPayment, r.PaymentID)
	sc.val = AppendPayment(sc.val[:0], r)
	w.set(sc.key, sc.val)
	if first {
		w.requestEntry(r, kf)
	}
	if r.Final() {
		sc.key = appendAgeKey(sc.key[:0], r.Updated, r.PaymentID)
		w.set(sc.key, nil)
	}
}

// commit commits pb and latches any failure, on the calling goroutine
// or, with Options.DetachCommits, on its own one (see there).
func (p *Pebble) commit(pb *pebble.Batch, wo *pebble.WriteOptions) error {
	if !p.opts.DetachCommits {
		return commitBatch(p.fs, pb, wo)
	}
	req := p.reqs.Get().(*commitReq)
	req.pb, req.wo = pb, wo
	go req.runFn() // a prebuilt func value: the go statement does not allocate
	select {
	case err := <-req.done:
		req.pb = nil
		p.reqs.Put(req)
		return err
	case <-p.fs.done:
		select {
		case err := <-req.done: // finished meanwhile: its own outcome
			req.pb = nil
			p.reqs.Put(req)
			return err
		default:
			// Pebble may have wedged its pipeline: do not wait. Safe,
			// as success is not claimed; req is abandoned.
			return p.fs.failed()
		}
	}
}

// commitBatch commits pb. Pebble reports a failed WAL write or sync
// through Logger.Fatalf (our slogLogger panics with fatalPanic) or, on
// some paths, with a panic of its own: both are recovered here, in the
// goroutine that called into Pebble. The batch is released only on
// success, as Pebble asks.
func commitBatch(fs *failState, pb *pebble.Batch, wo *pebble.WriteOptions) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError(v)
		}
		if err != nil {
			err = fs.fail(err)
		}
	}()
	if err := pb.Commit(wo); err != nil {
		return err
	}
	_ = pb.Close() // only returns the batch to Pebble's pool
	return nil
}

// commitReq is one detached commit; pooled.
type commitReq struct {
	pb    *pebble.Batch
	wo    *pebble.WriteOptions
	fs    *failState
	done  chan error // buffered: run never blocks on an abandoned request
	runFn func()     // r.run, bound once
}

func (r *commitReq) run() { r.done <- commitBatch(r.fs, r.pb, r.wo) }

// Load calls fn with the latest version of every payment, refund and
// pending notification, payments first, each kind in key order. Each
// record is freshly allocated and fn may keep it. It stops at fn's first
// error, or at a value that does not decode (a *FieldError naming the
// key's kind and field), and checks ctx every 1024 records.
func (p *Pebble) Load(ctx context.Context, fn func(*engine.Record) error) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	n := 0
	for _, prefix := range [...]string{prefixPayment, prefixRefund, prefixNotification} {
		it, err := p.db.NewIter(prefixBounds(prefix))
		if err != nil {
			return fmt.Errorf("journal: load: %w", err)
		}
		err = loadRange(ctx, it, &n, fn)
		if cerr := it.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("journal: load: %w", cerr)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// loadRange decodes and hands out every value of it; the caller closes it.
func loadRange(ctx context.Context, it *pebble.Iterator, n *int, fn func(*engine.Record) error) error {
	for it.First(); it.Valid(); it.Next() {
		if *n++; *n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("journal: load %q: %w", it.Key(), err)
		}
		var rec engine.Record
		if err := DecodeRecord(v, &rec); err != nil {
			return fmt.Errorf("journal: load %q: %w", it.Key(), err)
		}
		if !keyMatches(it.Key(), &rec) {
			return fmt.Errorf("journal: load %q: %w", it.Key(), &FieldError{Kind: "record", Field: "id", Err: ErrCorrupt})
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
	return it.Error()
}

// keyMatches checks that a value sits under its own key.
func keyMatches(key []byte, rec *engine.Record) bool {
	switch {
	case rec.Payment != nil:
		return string(key[2:]) == rec.Payment.PaymentID && key[0] == KindPayment
	case rec.Refund != nil:
		return string(key[2:]) == rec.Refund.RefundID && key[0] == KindRefund
	case rec.Notification != nil:
		return string(key[2:]) == rec.Notification.PaymentID && key[0] == KindNotification
	}
	return false
}

func prefixBounds(prefix string) *pebble.IterOptions {
	upper := []byte(prefix)
	upper[len(upper)-1]++
	return &pebble.IterOptions{LowerBound: []byte(prefix), UpperBound: upper}
}

// Compact deletes every final payment whose Updated is before before,
// with its refunds, and returns how many payments it removed. A payment
// is kept, and retried by the next Compact, while it has a pending
// notification or a refund that is not final or changed since before.
//
// Cost: Compact walks the age index (t/…), which holds one entry per
// final payment version, in time order, and stops at before: it reads
// only candidates (plus stale index entries, which it deletes), never the
// whole store. Each chunk of CompactChunk candidates is examined and
// deleted under the journal's exclusive lock, so Appends wait for at most
// one chunk (a few milliseconds). Deletions are not synced: a crash can
// only bring back records that the next Compact removes again.
func (p *Pebble) Compact(ctx context.Context, before time.Time) (int, error) {
	if err := p.fs.failed(); err != nil {
		p.fs.notify()
		return 0, err
	}
	upper := appendAgeKey(nil, before, "")
	upper = append(upper, 0xff) // whole second of before; records are checked exactly
	from := []byte(prefixAge)
	removed := 0
	for {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		n, next, err := p.compactChunk(from, upper, before)
		removed += n
		if errors.Is(err, engine.ErrJournalFailed) {
			p.fs.notify()
		}
		if err != nil || next == nil {
			return removed, err
		}
		from = next
	}
}

// compactChunk examines up to CompactChunk age-index entries from key
// from (inclusive) and returns where the next chunk starts (nil: done).
func (p *Pebble) compactChunk(from, upper []byte, before time.Time) (removed int, next []byte, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, nil, ErrClosed
	}
	if err := p.fs.failed(); err != nil {
		return 0, nil, err
	}
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: from, UpperBound: upper})
	if err != nil {
		return 0, nil, fmt.Errorf("journal: compact: %w", err)
	}
	defer it.Close()
	// Point reads go through long-lived iterators: a seek on an open
	// iterator costs far less than a Get, which builds one each time.
	var its [4]*pebble.Iterator // payments, notifications, refunds, refund index
	for i, prefix := range [...]string{prefixPayment, prefixNotification, prefixRefund, prefixRefundIndex} {
		if its[i], err = p.db.NewIter(prefixBounds(prefix)); err != nil {
			return 0, nil, fmt.Errorf("journal: compact: %w", err)
		}
		defer its[i].Close()
	}
	pit, nit, rit, xit := its[0], its[1], its[2], its[3]
	del := p.db.NewBatch()
	committed := false
	defer func() {
		if !committed {
			_ = del.Close()
		}
	}()
	var pay engine.PaymentRecord
	var ref engine.RefundRecord
	var key []byte
	var unheld []string // ids whose held mark del deletes
	seen := 0
	for it.First(); it.Valid(); it.Next() {
		if seen == p.opts.CompactChunk {
			next = bytes.Clone(it.Key())
			break
		}
		seen++
		sec, id, ok := parseAgeKey(it.Key())
		if !ok {
			continue
		}
		key = appendKey(key[:0], prefixPayment, id)
		v, err := seekValue(pit, key)
		if err != nil {
			return 0, nil, err
		}
		stale := v == nil
		if v != nil {
			if err := DecodePayment(v, &pay); err != nil {
				return 0, nil, fmt.Errorf("journal: compact %q: %w", key, err)
			}
			stale = !pay.Final() || ageSeconds(pay.Updated) != sec
		}
		if stale { // a newer version exists (or none): drop the entry
			_ = del.Delete(it.Key(), nil)
			continue
		}
		if !paymentDone(&pay, before) {
			continue
		}
		if n, err := seekValue(nit, appendKey(key[:0], prefixNotification, id)); err != nil {
			return 0, nil, err
		} else if n != nil {
			continue // notification pending: keep
		}
		refunds, ok, err := refundsDone(xit, rit, id, before, &ref)
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			continue
		}
		for _, r := range refunds {
			_ = del.Delete(appendKey(key[:0], prefixRefund, r.id), nil)
			_ = del.Delete(appendRefundIndexKey(key[:0], id, r.id), nil)
			if r.client != "" || r.req != "" {
				_ = del.Delete(appendReqKey(key[:0], prefixRefReq, r.client, r.req), nil)
			}
		}
		_ = del.Delete(appendKey(key[:0], prefixPayment, id), nil)
		_ = del.Delete(appendReqKey(key[:0], prefixPayReq, pay.ClientID, pay.RequestID), nil)
		_ = del.Delete(appendCodeKey(key[:0], &pay.CodeHash), nil)
		_ = del.Delete(appendKey(key[:0], prefixHeld, id), nil)
		unheld = append(unheld, id)
		_ = del.Delete(it.Key(), nil)
		removed++
	}
	if err := it.Error(); err != nil {
		return 0, nil, fmt.Errorf("journal: compact: %w", err)
	}
	if del.Empty() {
		return 0, next, nil
	}
	committed = true // commit releases del on success; on failure Pebble keeps it
	if err := p.commit(del, pebble.NoSync); err != nil {
		return 0, nil, err
	}
	p.held.remove(unheld)
	return removed, next, nil
}

// seekValue returns key's value through it (valid until it moves), or
// nil if key is absent.
func seekValue(it *pebble.Iterator, key []byte) ([]byte, error) {
	if !it.SeekGE(key) || !bytes.Equal(it.Key(), key) {
		return nil, it.Error()
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return nil, fmt.Errorf("journal: reading %q: %w", key, err)
	}
	return v, nil
}

// refundsDone lists the refunds of payment id, through xit (over the
// refund index) and rit (over refunds), and reports whether all are done (final and
// older than before).
// refundKey names a refund to delete with its request index entry.
type refundKey struct{ id, client, req string }

func refundsDone(xit, rit *pebble.Iterator, id string, before time.Time, ref *engine.RefundRecord) ([]refundKey, bool, error) {
	prefix := appendRefundIndexKey(nil, id, "")
	var ids []refundKey
	var key []byte
	for xit.SeekGE(prefix); xit.Valid() && bytes.HasPrefix(xit.Key(), prefix); xit.Next() {
		rid := string(xit.Key()[len(prefix):])
		key = appendKey(key[:0], prefixRefund, rid)
		v, err := seekValue(rit, key)
		if err != nil {
			return nil, false, err
		}
		k := refundKey{id: rid}
		if v != nil {
			if err := DecodeRefund(v, ref); err != nil {
				return nil, false, fmt.Errorf("journal: compact %q: %w", key, err)
			}
			if !refundDone(ref, before) {
				return nil, false, nil
			}
			k.client, k.req = ref.ClientID, ref.RequestID
		}
		ids = append(ids, k)
	}
	if err := xit.Error(); err != nil {
		return nil, false, fmt.Errorf("journal: compact: %w", err)
	}
	return ids, true, nil
}

// Close closes the store; it is idempotent. It waits for in-flight
// Appends. After a write failure Pebble's commit pipeline may be wedged,
// so Close then gives up after CloseTimeout and returns the latched
// failure (the process is expected to exit).
func (p *Pebble) Close() error {
	if !p.closing.CompareAndSwap(false, true) {
		return nil
	}
	if p.syncStop != nil {
		close(p.syncStop)
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- panicError(r)
			}
		}()
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		done <- p.db.Close()
	}()
	timer := time.NewTimer(p.opts.CloseTimeout)
	defer timer.Stop()
	for {
		select {
		case err := <-done:
			if failed := p.fs.failed(); failed != nil {
				return failed
			}
			if err != nil {
				return fmt.Errorf("journal: close: %w", err)
			}
			return nil
		case <-timer.C:
			if failed := p.fs.failed(); failed != nil {
				return failed
			}
			timer.Reset(p.opts.CloseTimeout)
		}
	}
}

// Metrics returns Pebble's metrics, for operators and benchmarks.
func (p *Pebble) Metrics() *pebble.Metrics { return p.db.Metrics() }
