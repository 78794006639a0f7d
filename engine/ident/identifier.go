package ident

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"golang.org/x/sync/singleflight"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// clockResolution is how often the Identifier's own clock (used when
// Config.Clock is nil) reads time.Now. A hit then reads an atomic instead
// of the system clock, which costs 20-70 ns on virtual machines — as much
// as the rest of the hit. Entries may live up to this much longer than
// their TTL, which is nothing against TTLs of seconds to minutes.
const clockResolution = 10 * time.Millisecond

// bufferItems is ristretto's Get batch size (its recommended 64). Each
// full batch handed to the admission policy costs one slice of this many
// uint64s, so a hit allocates 8 bytes amortised: see the allocation tests.
const bufferItems = 64

// NoRuleError is a code no rule routes. It says where (the first 8 digits,
// which are safe to log, and the length) and unwraps to engine.ErrNoIssuer.
type NoRuleError struct {
	Prefix string // the code's first MaxPrefixLen digits
	Length int
}

func (e *NoRuleError) Error() string {
	return "ident: no routing rule for prefix " + e.Prefix + " and length " + strconv.Itoa(e.Length)
}

func (e *NoRuleError) Unwrap() error { return engine.ErrNoIssuer }

// UnroutableError is a code whose class (codec.Class) is never routed to a
// wallet, e.g. a WeChat Pay code. It unwraps to engine.ErrUnroutable and
// engine.ErrNoIssuer.
type UnroutableError struct{ Class codec.Class }

func (e *UnroutableError) Error() string {
	return "ident: " + e.Class.String() + " payment codes are not routed to a wallet"
}

func (e *UnroutableError) Unwrap() []error {
	return []error{engine.ErrUnroutable, engine.ErrNoIssuer}
}

// unroutableErrs are prebuilt so refusing a code by class never allocates.
var unroutableErrs = func() (a [8]error) {
	for i := range a {
		a[i] = &UnroutableError{Class: codec.Class(i)}
	}
	return a
}()

func unroutable(c codec.Class) error {
	if int(c) < len(unroutableErrs) {
		return unroutableErrs[c]
	}
	return &UnroutableError{Class: c}
}

var errClosed = fmt.Errorf("ident: identifier is closed: %w", engine.ErrIdentifyUnavailable)

// Identifier implements engine.Identifier: a ristretto cache in front of a
// Source. See doc.go for the cache semantics.
type Identifier struct {
	cache   *ristretto.Cache[uint64, *entry]
	src     Source
	owned   io.Closer // a source New built, closed by Close
	flights singleflight.Group
	clock   func() time.Time // Config.Clock; nil: coarse, kept by a ticker
	base    time.Time        // the clock's reading at New; entry times are offsets from it
	coarse  atomic.Int64     // nanoseconds since base, every clockResolution

	ttl, negTTL   int64 // nanoseconds
	ahead, retry  int64 // refresh-ahead window and retry interval; ahead <= 0 disables
	sourceTimeout time.Duration

	// mu orders cache writes (read side: the miss path's Set, flight
	// registration) against Reload's Clear and Close (write side), so that
	// a generation check and the Set it guards are atomic with respect to
	// a reload, and so no flight touches the cache after Close.
	mu     sync.RWMutex
	gen    atomic.Uint64 // bumped by Reload; an answer from an older generation is not cached
	closed atomic.Bool
	bg     sync.WaitGroup // flights and refreshes in progress
	bgCtx  context.Context
	cancel context.CancelFunc

	stats counters

	testHookMiss func() // called on the miss path before the flight; tests only
}

// entry is a cached answer. It is immutable except refreshAt. Times are
// nanoseconds since Identifier.base.
type entry struct {
	wallet    string // "" for a negative entry
	err       error  // *NoRuleError for a negative entry, prebuilt so a hit does not allocate
	expires   int64
	refreshAt atomic.Int64 // when a hit should start a background refresh; MaxInt64 = never
}

func (e *entry) result() (string, error) {
	if e.wallet != "" {
		return e.wallet, nil
	}
	return "", e.err
}

// counters are Stats' atomics. Hits, bumped on every cached answer, sits
// on its own cache line so parallel hits do not also bounce the others.
type counters struct {
	hits         atomic.Uint64
	_            [56]byte
	negHits      atomic.Uint64
	misses       atomic.Uint64
	sourceCalls  atomic.Uint64
	sourceErrors atomic.Uint64
	refreshes    atomic.Uint64
	unroutable   atomic.Uint64
	reloads      atomic.Uint64
}

// Stats is a snapshot of an Identifier's counters, for tests and metrics.
type Stats struct {
	Hits         uint64 // routes answered from the cache
	NegativeHits uint64 // "no rule" answered from the cache
	Misses       uint64 // lookups the cache could not answer (absent or expired)
	SourceCalls  uint64 // asks of the source (concurrent misses share one; refreshes count)
	SourceErrors uint64 // asks that failed (ErrIdentifyUnavailable)
	Refreshes    uint64 // background refreshes started
	Unroutable   uint64 // codes refused by class without a lookup
	Reloads      uint64 // successful Reloads
}

// New builds the Source cfg names — ServiceClient for ServiceURL,
// TableSource for RulesFile, DefaultRules otherwise — and an Identifier
// over it. cfg gets defaults applied and is validated.
func New(cfg Config) (*Identifier, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var (
		src   Source
		owned io.Closer
	)
	switch {
	case cfg.ServiceURL != "":
		c, err := NewServiceClient(cfg.ServiceURL, cfg.SourceTimeout, cfg.MaxConns)
		if err != nil {
			return nil, err
		}
		src, owned = c, c
	case cfg.RulesFile != "":
		s, err := OpenTableSource(cfg.RulesFile)
		if err != nil {
			return nil, err
		}
		src = s
	default:
		src = NewTableSource(DefaultTable())
	}
	id, err := NewWithSource(cfg, src)
	if err != nil {
		return nil, err
	}
	id.owned = owned
	return id, nil
}

// NewWithSource builds an Identifier over src; cfg's RulesFile, ServiceURL
// and MaxConns are not used. The caller keeps ownership of src.
func NewWithSource(cfg Config, src Source) (*Identifier, error) {
	if src == nil {
		return nil, errors.New("ident: nil source")
	}
	cfg.RulesFile, cfg.ServiceURL = "", ""
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cache, err := ristretto.NewCache(&ristretto.Config[uint64, *entry]{
		NumCounters:        cfg.MaxEntries * 10, // ristretto's advice: 10x the entries
		MaxCost:            cfg.MaxEntries,
		BufferItems:        bufferItems,
		KeyToHash:          keyHash,
		IgnoreInternalCost: true, // cost 1 per key: MaxCost counts keys
	})
	if err != nil {
		return nil, fmt.Errorf("ident: cache: %w", err)
	}
	base := time.Now()
	if cfg.Clock != nil {
		base = cfg.Clock()
	}
	id := &Identifier{
		cache:         cache,
		src:           src,
		clock:         cfg.Clock,
		base:          base,
		ttl:           int64(cfg.TTL),
		negTTL:        int64(cfg.NegativeTTL),
		ahead:         int64(cfg.RefreshAhead),
		retry:         max(int64(cfg.RefreshAhead)/4, int64(time.Millisecond)),
		sourceTimeout: cfg.SourceTimeout,
	}
	id.bgCtx, id.cancel = context.WithCancel(context.Background())
	if id.clock == nil {
		id.bg.Add(1)
		go id.tick()
	}
	return id, nil
}

// Source is what the Identifier asks on a cache miss (a *TableSource
// for rules, a *ServiceClient for a remote service).
func (id *Identifier) Source() Source { return id.src }

// tick keeps the coarse clock until Close.
func (id *Identifier) tick() {
	defer id.bg.Done()
	t := time.NewTicker(clockResolution)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			id.coarse.Store(int64(time.Since(id.base)))
		case <-id.bgCtx.Done():
			return
		}
	}
}

// Identify returns the wallet that issued code; see engine.Identifier for
// the error contract. A cached answer costs no allocation and no lock
// beyond ristretto's sharded read lock; a miss asks the source once per key
// however many callers miss together, bounded by SourceTimeout and ctx.
//
// Identify must not be called concurrently with Close; after Close it
// returns an error wrapping engine.ErrIdentifyUnavailable.
func (id *Identifier) Identify(ctx context.Context, code *codec.Code) (string, error) {
	if cls := code.Class(); !cls.Routable() {
		id.stats.unroutable.Add(1)
		return "", unroutable(cls)
	}
	key := cacheKey(code)
	now := id.now()
	if e, ok := id.cache.Get(key); ok && now < e.expires {
		if now >= e.refreshAt.Load() {
			id.maybeRefresh(e, key, now)
		}
		if e.wallet != "" {
			id.stats.hits.Add(1)
			return e.wallet, nil
		}
		id.stats.negHits.Add(1)
		return "", e.err
	}
	id.stats.misses.Add(1)
	return id.miss(ctx, key)
}

// miss asks the source through a flight shared by every caller missing the
// same key in the same generation. The flight runs detached from ctx (one
// caller giving up must not fail the others), under SourceTimeout; ctx
// only bounds how long this caller waits for it.
func (id *Identifier) miss(ctx context.Context, key uint64) (string, error) {
	if id.closed.Load() {
		return "", errClosed
	}
	if id.testHookMiss != nil {
		id.testHookMiss()
	}
	gen := id.gen.Load() // before the source is asked: see store
	ch := id.flights.DoChan(flightKey(key, gen), func() (any, error) {
		if !id.enter() {
			return nil, errClosed
		}
		defer id.bg.Done()
		return id.fetch(key, gen, false)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(*entry).result()
	case <-ctx.Done():
		return "", fmt.Errorf("ident: gave up waiting for the rule source: %w: %w", engine.ErrIdentifyUnavailable, ctx.Err())
	}
}

// maybeRefresh starts one background refresh of an entry in its
// refresh-ahead window. The CAS on refreshAt elects one refresher and
// schedules the next attempt, should this one fail, retry later.
func (id *Identifier) maybeRefresh(e *entry, key uint64, now int64) {
	at := e.refreshAt.Load()
	if now < at || !e.refreshAt.CompareAndSwap(at, now+id.retry) {
		return
	}
	id.startRefresh(key)
}

// startRefresh is apart from maybeRefresh so that the goroutine's
// allocation stays off the hit path.
func (id *Identifier) startRefresh(key uint64) {
	if !id.enter() {
		return
	}
	id.stats.refreshes.Add(1)
	go func() {
		defer id.bg.Done()
		gen := id.gen.Load()
		_, _, _ = id.flights.Do(flightKey(key, gen), func() (any, error) {
			return id.fetch(key, gen, true)
		})
	}()
}

// enter registers background work unless the Identifier is closed. The
// registration happens under mu's read lock, so it is ordered before
// Close's Wait and the cache is never used after Close closes it.
func (id *Identifier) enter() bool {
	id.mu.RLock()
	defer id.mu.RUnlock()
	if id.closed.Load() {
		return false
	}
	id.bg.Add(1)
	return true
}

// fetch asks the source for key and caches the answer for generation gen.
// A miss first re-checks the cache: a caller that missed just as the
// previous flight for its key finished finds the fresh entry there instead
// of asking the source again. A refresh skips that check (the entry is
// fresh, just due).
func (id *Identifier) fetch(key uint64, gen uint64, refresh bool) (*entry, error) {
	if !refresh {
		if e, ok := id.cache.Get(key); ok && id.now() < e.expires {
			return e, nil
		}
	}
	id.stats.sourceCalls.Add(1)
	ctx, cancel := context.WithTimeout(id.bgCtx, id.sourceTimeout)
	defer cancel()
	d := digitsOf(key)
	ans, err := id.src.Identify(ctx, d[:], keyLen(key))
	if err != nil {
		id.stats.sourceErrors.Add(1)
		if !errors.Is(err, engine.ErrIdentifyUnavailable) {
			err = fmt.Errorf("ident: rule source: %w: %w", engine.ErrIdentifyUnavailable, err)
		}
		return nil, err
	}
	e := id.newEntry(key, ans, id.now())
	id.store(key, e, gen)
	return e, nil
}

func (id *Identifier) newEntry(key uint64, ans Answer, now int64) *entry {
	e := &entry{wallet: ans.Wallet}
	ttl := id.ttl
	if ans.Wallet == "" {
		ttl = id.negTTL
		d := digitsOf(key)
		e.err = &NoRuleError{Prefix: string(d[:]), Length: keyLen(key)}
	}
	if hint := int64(ans.TTL); hint > 0 && hint < ttl {
		ttl = hint
	}
	e.expires = now + ttl
	at := int64(math.MaxInt64)
	if ans.Wallet != "" && id.ahead > 0 {
		at = e.expires - min(id.ahead, ttl/2)
	}
	e.refreshAt.Store(at)
	return e
}

// store caches e unless a Reload happened since the flight read gen: the
// answer may come from the old rules. The check and the Set are under mu's
// read lock and Reload bumps gen and clears under its write lock, so a
// stale answer is either cleared by the reload or never written.
//
// ristretto applies a Set of a new key asynchronously; Wait makes it
// visible before the flight returns, so the next Get of this key hits.
// (An update of a present key is applied at once. ristretto's admission
// policy may still refuse a new key when the cache is full; that key then
// keeps missing until it earns its place.)
func (id *Identifier) store(key uint64, e *entry, gen uint64) {
	id.mu.RLock()
	defer id.mu.RUnlock()
	if id.closed.Load() || id.gen.Load() != gen {
		return
	}
	if id.cache.Set(key, e, 1) {
		id.cache.Wait()
	}
}

// Reload makes new rules take effect without a restart: it re-reads the
// rules file (when the source is a Reloader), then drops every cached
// answer. If re-reading fails the previous rules and cache stay in force
// and the error is returned. An answer still in flight from before the
// reload is returned to its callers but never cached.
func (id *Identifier) Reload(ctx context.Context) error {
	if id.closed.Load() {
		return errClosed
	}
	if r, ok := id.src.(Reloader); ok {
		if err := r.Reload(ctx); err != nil {
			return fmt.Errorf("ident: reload failed, the previous rules stay: %w", err)
		}
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	if id.closed.Load() {
		return errClosed
	}
	id.gen.Add(1)
	id.cache.Clear()
	id.stats.reloads.Add(1)
	return nil
}

// Stats returns the counters. Each is read atomically; the set is not a
// single snapshot.
func (id *Identifier) Stats() Stats {
	s := &id.stats
	return Stats{
		Hits:         s.hits.Load(),
		NegativeHits: s.negHits.Load(),
		Misses:       s.misses.Load(),
		SourceCalls:  s.sourceCalls.Load(),
		SourceErrors: s.sourceErrors.Load(),
		Refreshes:    s.refreshes.Load(),
		Unroutable:   s.unroutable.Load(),
		Reloads:      s.reloads.Load(),
	}
}

// Close stops background refreshes, waits for flights in progress (at most
// SourceTimeout), releases the cache and closes a source New built. It
// must not be called concurrently with Identify. It is idempotent.
func (id *Identifier) Close() error {
	id.mu.Lock()
	if id.closed.Load() {
		id.mu.Unlock()
		return nil
	}
	id.closed.Store(true)
	id.mu.Unlock()
	id.cancel()
	id.bg.Wait()
	id.cache.Close()
	if id.owned != nil {
		return id.owned.Close()
	}
	return nil
}

// now is the time in nanoseconds since base: Config.Clock's when set,
// else the coarse clock's.
func (id *Identifier) now() int64 {
	if id.clock == nil {
		return id.coarse.Load()
	}
	return int64(id.clock().Sub(id.base))
}

// cacheKey is the code's length and first MaxPrefixLen digits, everything
// a rule can depend on: length<<32 | the 8 digits as a number (< 2^27).
// Codes are at least 16 digits long, so all 8 are always there.
func cacheKey(c *codec.Code) uint64 {
	var v uint64
	for _, d := range c.Prefix(MaxPrefixLen) {
		v = v*10 + uint64(d-'0')
	}
	return uint64(c.Len())<<32 | v
}

func keyLen(key uint64) int { return int(key >> 32) }

// digitsOf rebuilds the 8 digits a key was made from.
func digitsOf(key uint64) (d [MaxPrefixLen]byte) {
	v := uint32(key)
	for i := MaxPrefixLen - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return d
}

// keyHash spreads keys over ristretto's shards and sketch (the default
// hash of a uint64 is the key itself, and ours differ only in a few
// decimal digits). The splitmix64 finaliser is a bijection, so distinct
// keys never share a hash; the key doubles as the conflict check.
func keyHash(k uint64) (uint64, uint64) {
	h := k
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h, k
}

// flightKey names a flight: the cache key and the generation, so a caller
// arriving after a Reload never joins a flight asking about the old rules.
func flightKey(key, gen uint64) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], key)
	binary.LittleEndian.PutUint64(b[8:], gen)
	return string(b[:])
}

var _ engine.Identifier = (*Identifier)(nil)
