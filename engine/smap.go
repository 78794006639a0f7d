package engine

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
)

// shardCount spreads the engine's indexes over independent locks so lanes
// paying at once do not contend on one mutex. A power of two.
const shardCount = 64

// smap is a string-keyed map split into shards, each with its own RWMutex.
// Lookups take the key as bytes and do not allocate (the compiler elides
// the string conversion in a map index expression).
type smap[V any] struct {
	seed   maphash.Seed
	shards [shardCount]smapShard[V]
}

type smapShard[V any] struct {
	mu sync.RWMutex
	m  map[string]V
	_  [40]byte // keep neighbouring shards' locks off one cache line
}

func newSmap[V any]() *smap[V] {
	s := &smap[V]{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = make(map[string]V)
	}
	return s
}

func (s *smap[V]) shard(key []byte) *smapShard[V] {
	return &s.shards[maphash.Bytes(s.seed, key)&(shardCount-1)]
}

// get returns the value stored under key.
func (s *smap[V]) get(key []byte) (V, bool) {
	sh := s.shard(key)
	sh.mu.RLock()
	v, ok := sh.m[string(key)]
	sh.mu.RUnlock()
	return v, ok
}

// put stores v under key, replacing any value.
func (s *smap[V]) put(key string, v V) {
	sh := s.shard([]byte(key))
	sh.mu.Lock()
	sh.m[key] = v
	sh.mu.Unlock()
}

// del removes key.
func (s *smap[V]) del(key string) {
	sh := s.shard([]byte(key))
	sh.mu.Lock()
	delete(sh.m, key)
	sh.mu.Unlock()
}

// delIf removes key if match accepts the value stored under it.
func (s *smap[V]) delIf(key string, match func(V) bool) {
	sh := s.shard([]byte(key))
	sh.mu.Lock()
	if v, ok := sh.m[key]; ok && match(v) {
		delete(sh.m, key)
	}
	sh.mu.Unlock()
}

// each calls fn for every entry, one shard at a time, without holding the
// shard lock while fn runs.
func (s *smap[V]) each(fn func(key string, v V)) {
	type kv struct {
		k string
		v V
	}
	var buf []kv
	for i := range s.shards {
		sh := &s.shards[i]
		buf = buf[:0]
		sh.mu.RLock()
		for k, v := range sh.m {
			buf = append(buf, kv{k, v})
		}
		sh.mu.RUnlock()
		for _, e := range buf {
			fn(e.k, e.v)
		}
	}
}

// getOrCreate returns the value under key, or stores mk's value. mk runs
// under the shard lock (keep it cheap, never call back into this smap),
// may refuse with an error, and receives the key as the string the map
// will hold, so a value can keep (slices of) it without
// a second allocation. When mk returns an error, nothing is stored.
//
// It takes the write lock at once, with no read-locked look first: its
// callers (a pay, a refund) almost always bring a new key, and a repeat
// finds its value under the write lock as well.
func (s *smap[V]) getOrCreate(key []byte, mk func(k string) (V, error)) (v V, loaded bool, err error) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if v, ok := sh.m[string(key)]; ok {
		return v, true, nil
	}
	k := string(key)
	v, err = mk(k)
	if err != nil {
		return v, false, err
	}
	sh.m[k] = v
	return v, false, nil
}

// cmap is the index of payment codes' keyed hashes. A key is an
// HMAC-SHA256 output under the engine's secret key, uniformly
// distributed and unknown to whoever chose the code, so its first bytes
// pick the shard: no second hash per lookup. (A tombstone's VoidCodeHash
// is unkeyed, so a lane could aim its voids at one shard; they are
// budgeted per hour, and the map inside a shard hashes with its own seed,
// so the worst is that they share one lock.)
type cmap[V any] struct {
	shards [shardCount]cmapShard[V]
}

type cmapShard[V any] struct {
	mu sync.Mutex
	m  map[[CodeHashSize]byte]V
	_  [48]byte
}

func newCmap[V any]() *cmap[V] {
	c := &cmap[V]{}
	for i := range c.shards {
		c.shards[i].m = make(map[[CodeHashSize]byte]V)
	}
	return c
}

// putIfAbsent stores v under k unless k is present; it returns the value
// now stored and whether it was already there.
func (c *cmap[V]) putIfAbsent(k [CodeHashSize]byte, v V) (V, bool) {
	sh := c.shard(&k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.m[k]; ok {
		return old, true
	}
	sh.m[k] = v
	return v, false
}

func (c *cmap[V]) shard(k *[CodeHashSize]byte) *cmapShard[V] {
	return &c.shards[binary.LittleEndian.Uint64(k[:8])&(shardCount-1)]
}

func (c *cmap[V]) del(k [CodeHashSize]byte) {
	sh := c.shard(&k)
	sh.mu.Lock()
	delete(sh.m, k)
	sh.mu.Unlock()
}

// delIf removes k if match accepts the value stored under it.
func (c *cmap[V]) delIf(k [CodeHashSize]byte, match func(V) bool) {
	sh := c.shard(&k)
	sh.mu.Lock()
	if v, ok := sh.m[k]; ok && match(v) {
		delete(sh.m, k)
	}
	sh.mu.Unlock()
}
