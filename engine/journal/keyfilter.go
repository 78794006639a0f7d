package journal

import (
	"log/slog"
	"math"
	"sync"

	"github.com/bits-and-blooms/bloom/v3"
)

// keyFilter is an in-memory filter of the request and code index keys, in
// front of Pebble: a new pay's two lookups are almost always of absent
// keys, and Pebble answers those with a walk over its memtables and files
// (15–35 µs each on a loaded 2-core machine, more as L0 fills), the filter
// in a few hundred nanoseconds (BenchmarkLookupAbsent). A "maybe" falls
// through to Pebble, so a false positive costs a lookup, never a wrong
// answer; a false negative would let a second payment of the same request
// or code through, so a key once added answers "maybe" for the life of
// the filter.
//
// It grows while the node runs, keeping its false-positive rate at most
// filterFP: a scalable Bloom filter (Almeida, Baquero, Preguiça, Hutchison
// 2007), a chain of bits-and-blooms filters, oldest first. Adds go to the
// newest; when it holds the keys it was sized for, a new one twice its
// size (filterGrowth) at a rate filterTighten times its rate is added, so
// the rates form a geometric series whose sum, the chain's rate once
// every part is full, is at most filterFP. A lookup tests every part (one
// hash of the key each: the library hashes per filter); with the first
// part sized at Open for twice the stored keys, a node grows a part per
// doubling of its keys since its last start. Memory is about 1.6 bytes
// per key sized for (12.9 bits per key at the first part's 0.2 %, half a
// bit more per later part); the parts together stay within budget bytes
// (Options.KeyFilterMemory), past which the newest part takes every later
// key and the rate climbs as the single filter's did (logged once).
//
// Keys are never removed: a payment that Compact deletes leaves its bits
// (stale bits: the budget is spent on keys added since Open, live or not,
// until the next Open rebuilds from the index).
type keyFilter struct {
	mu     sync.RWMutex
	parts  []filterPart // oldest first; adds go to the last
	budget uint64       // bytes all parts may take
	full   bool         // the budget allows no further part
	log    *slog.Logger
}

// filterPart is one Bloom filter of the chain.
type filterPart struct {
	f    *bloom.BloomFilter
	keys uint    // keys added that set a bit (a key whose bits were all set changes nothing)
	cap  uint    // keys it was sized for, at rate fp
	fp   float64 // its false-positive rate once it holds cap keys
}

const (
	// filterFP bounds the key filter's false-positive rate. Each false
	// positive costs a Pebble Get of an absent key; at two keys per pay
	// 1 % is 2 % of pays.
	filterFP = 0.01
	// filterTighten is each part's rate over the previous part's, and
	// filterGrowth its size over the previous part's: 0.8 and 2 keep the
	// bits per key low for a chain that grows for a day and more (Almeida
	// et al. suggest 0.8–0.9 with 2 for slow growth).
	filterTighten = 0.8
	filterGrowth  = 2
	// filterFirstFP is the first part's rate: the series' sum is
	// filterFirstFP / (1 - filterTighten) = filterFP.
	filterFirstFP = filterFP * (1 - filterTighten)
)

// reset empties k and sizes its first part for capacity keys (less if
// budget bytes do not hold that many: that part then takes every key).
func (k *keyFilter) reset(capacity uint, budget uint64, log *slog.Logger) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.budget, k.log, k.full = budget, log, false
	n := min(capacity, keysInBytes(budget, filterFirstFP))
	k.parts = []filterPart{newFilterPart(max(n, 1), filterFirstFP)}
	if n < capacity {
		k.full = true
		k.log.Warn("journal: the key filter's memory budget is spent at open (Options.KeyFilterMemory); its false-positive rate, and claims' Pebble reads, will climb as keys are added",
			"sized_for_keys", n, "wanted_keys", capacity, "budget_bytes", budget)
	}
}

func newFilterPart(capacity uint, fp float64) filterPart {
	return filterPart{f: bloom.NewWithEstimates(capacity, fp), cap: capacity, fp: fp}
}

// keysInBytes is how many keys a part at rate fp holds within b bytes.
// It leaves two words for the library's rounding up.
func keysInBytes(b uint64, fp float64) uint {
	bits := float64(b)*8 - 128
	if bits <= 0 {
		return 0
	}
	bitsPerKey := -math.Log(fp) / (math.Ln2 * math.Ln2)
	return uint(math.Min(bits/bitsPerKey, math.MaxInt))
}

func (k *keyFilter) add(key []byte) {
	if k == nil {
		return
	}
	k.testAndAdd(key)
}

// mayHave reports whether key may be in the index (false: certainly not).
func (k *keyFilter) mayHave(key []byte) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if len(k.parts) == 0 {
		return true
	}
	for i := range k.parts {
		if k.parts[i].f.Test(key) {
			return true
		}
	}
	return false
}

// testAndAdd reports whether key may be in the index, as mayHave, and
// adds it: a claim looks up keys that it writes next, and one hash and one
// pass over the newest part's bits serve both. Adding a key that is then
// not written only costs a false positive. A key that an older part
// already answers "maybe" for is not added again (those bits stay set).
func (k *keyFilter) testAndAdd(key []byte) bool {
	k.mu.Lock()
	if len(k.parts) == 0 {
		k.mu.Unlock()
		return true
	}
	last := len(k.parts) - 1
	for i := range k.parts[:last] {
		if k.parts[i].f.Test(key) {
			k.mu.Unlock()
			return true
		}
	}
	p := &k.parts[last]
	if p.f.TestAndAdd(key) {
		k.mu.Unlock()
		return true
	}
	p.keys++
	if p.keys >= p.cap && !k.full {
		k.grow()
	}
	k.mu.Unlock()
	return false
}

// nextPart returns the size and rate of the part to add after the newest
// (size 0: none fits in the budget). The caller holds k.mu.
func (k *keyFilter) nextPart() (uint, float64) {
	p := &k.parts[len(k.parts)-1]
	fp := p.fp * filterTighten
	used := k.bytesLocked()
	if used >= k.budget {
		return 0, 0
	}
	n := min(p.cap*filterGrowth, keysInBytes(k.budget-used, fp))
	if n < p.cap/filterGrowth { // not worth a part: stop here
		return 0, 0
	}
	return n, fp
}

// grow adds the next part, or marks the budget spent. The caller holds
// k.mu: making a part does not clear its memory (fresh pages from the
// system; 0.6 ms for 206 MB, 13 µs for 1 MB, on this machine), and
// claims that went on adding to the full part meanwhile would overfill
// it for as long as the grower waited for a core.
func (k *keyFilter) grow() {
	n, fp := k.nextPart()
	if n == 0 {
		k.full = true
		k.log.Warn("journal: the key filter reached its memory budget; its false-positive rate will now climb until the next start",
			"budget_bytes", k.budget, "keys", k.keysLocked())
		return
	}
	k.parts = append(k.parts, newFilterPart(n, fp))
}

// stats returns the keys added, the bytes of every part and how many
// parts there are.
func (k *keyFilter) stats() (keys uint, bytes uint64, parts int) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.keysLocked(), k.bytesLocked(), len(k.parts)
}

func (k *keyFilter) keysLocked() uint {
	n := uint(0)
	for i := range k.parts {
		n += k.parts[i].keys
	}
	return n
}

func (k *keyFilter) bytesLocked() uint64 {
	n := uint64(0)
	for i := range k.parts {
		n += uint64(k.parts[i].f.Cap()+63) / 64 * 8
	}
	return n
}

// memory returns the filter's size in bytes.
func (k *keyFilter) memory() uint64 {
	_, b, _ := k.stats()
	return b
}
