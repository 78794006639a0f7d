package sign

import (
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// Replay defaults.
const (
	// DefaultReplayEntries bounds a Replay cache. An entry is ~64 bytes
	// with map overhead, so the default holds ~64 MiB at most; at 2,000
	// signed requests/s and a ±2 min window ~480,000 entries are live.
	DefaultReplayEntries = 1 << 20
	replayShards         = 64
)

// ErrReplay is a signature already seen within its window.
var ErrReplay = errors.New("sign: signature replayed")

// ErrReplayFull means the cache is full of live entries: the request is
// refused (fail closed) rather than let an old entry be forgotten.
var ErrReplayFull = errors.New("sign: replay cache is full")

// Replay remembers verified signatures until their request time leaves
// the acceptance window, so the exact same signed request cannot be
// played twice. It is bounded (Max entries) and safe for concurrent use;
// the lock is per shard. Keys are SHA-256 of client id and signature, so
// it never holds a signature itself.
type Replay struct {
	max    int
	shards [replayShards]replayShard
}

type replayShard struct {
	mu        sync.Mutex
	m         map[[16]byte]int64 // key → expiry, Unix ns
	nextSweep int64
	_         [40]byte // keep shards on separate cache lines
}

// NewReplay returns a cache of at most max entries (DefaultReplayEntries
// when max <= 0).
func NewReplay(max int) *Replay {
	if max <= 0 {
		max = DefaultReplayEntries
	}
	r := &Replay{max: max}
	for i := range r.shards {
		r.shards[i].m = make(map[[16]byte]int64)
	}
	return r
}

// Check records the signature of clientID, valid until expires, and
// returns ErrReplay if it is already recorded and not expired at now, or
// ErrReplayFull if its shard is full of live entries.
func (r *Replay) Check(clientID, sig []byte, expires, now time.Time) error {
	var buf [1024]byte
	in := append(append(append(buf[:0], clientID...), 0), sig...)
	sum := sha256.Sum256(in)
	var k [16]byte
	copy(k[:], sum[:])
	sh := &r.shards[k[0]%replayShards]
	n, exp := now.UnixNano(), expires.UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[k]; ok && e > n {
		return ErrReplay
	}
	limit := r.max / replayShards
	if limit < 1 {
		limit = 1
	}
	if len(sh.m) >= limit || n >= sh.nextSweep {
		for key, e := range sh.m {
			if e <= n {
				delete(sh.m, key)
			}
		}
		sh.nextSweep = n + int64(10*time.Second)
		if len(sh.m) >= limit {
			return ErrReplayFull
		}
	}
	sh.m[k] = exp
	return nil
}

// Len is the number of entries held (live or not yet swept).
func (r *Replay) Len() int {
	n := 0
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
