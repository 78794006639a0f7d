// Package ident identifies the wallet (MPP) that issued a user-presented
// payment code, implementing engine.Identifier.
//
// It owns the routing rules (Rule, compiled into an immutable Table with
// longest-prefix-wins lookup), where they come from (a rules file or a
// remote identification service, both behind Source), the wire protocol of
// that service (client: ServiceClient; server: NewServiceHandler, which the
// simulated wallets' process mounts to play the hub), and a cache in front
// of the source (Identifier).
//
// It does not own payment state. The cache only speeds identification up:
// it never decides idempotency, single use of a code or whether a code was
// seen before — the engine keeps those in its own state, and a cache that
// dropped every entry would change latency, never an outcome.
//
// # Rules
//
// A rule routes codes whose first digits are its prefix (1 to 8 digits)
// and whose length is one of its lengths (16..32, listed explicitly) to a
// wallet. The longest prefix that lists the code's length wins. Codes
// whose class (codec.Class) is not routable — WeChat Pay, unknown shapes —
// are refused with engine.ErrNoIssuer before any lookup. The rules file is
// YAML (or JSON, a subset):
//
//	rules:
//	  - {prefix: "281001", wallet: mpp-281001, lengths: [24]}
//	  - {prefix: "28", wallet: mpp-281001, lengths: [17, 18, 19]}
//
// testdata/routing.yaml at the module root holds the defaults, which
// DefaultRules reproduces.
//
// # Identification service protocol
//
// A hub that owns the routing table answers one question over HTTP/1.1.
// The client sends the code's first 8 digits and its length, never the
// code (a bearer token):
//
//	GET /v1/identify?prefix=28100102&length=24
//
//	200 {"wallet":"mpp-281001","ttlSeconds":300}   a rule matches
//	404 {"wallet":"","ttlSeconds":30}              no rule matches
//	400 {"error":"..."}                            malformed query
//	405 {"error":"..."}                            not GET or HEAD
//	503 {"error":"..."}                            the hub has no table
//
// prefix is 1 to 8 digits (the hub matches the rules against them), length
// 16..32. Bodies are application/json. ttlSeconds is optional: a positive
// value caps how long the client caches the answer (it never extends the
// client's TTL). A 404 means "no rule" only when its body is a JSON object
// whose wallet member is the empty string; any other 404 (a wrong URL, a
// proxy) is treated like every other failure — transport error, timeout,
// 5xx, unreadable body — as "identification unavailable", which is not
// cached and which the engine answers as retryable. Wallet names use
// A-Z a-z 0-9 . _ - only, so neither side has to escape them.
//
// # Cache
//
// Identifier keeps answers in a ristretto cache keyed by a uint64 made of
// the code's length and its first 8 digits: everything a rule can depend
// on, so two codes with the same key always get the same answer. Routes
// are kept for TTL, "no rule" answers for NegativeTTL (both possibly
// shortened by the hub's ttlSeconds); expiry is stored in the entry and
// checked against Config.Clock when set (tests drive it by hand), else
// against a clock a ticker refreshes every 10ms, because reading the system
// clock on each hit costs as much as the rest of the hit on a VM. Source
// failures are never cached.
//
// A hit is a ristretto Get (a sharded read lock), two atomic loads and an
// atomic counter: no lock of ours, and no allocation per call as
// testing.AllocsPerRun counts them. Strictly, ristretto hands its Get
// batches to the admission policy in fresh slices of 64 keys, so hits
// allocate one 512-byte slice per 64 calls at most (8 bytes a hit; about
// 2 measured, as the policy drops batches when busy).
// A hit in the last RefreshAhead of a route's life also starts one
// background refresh (stale-while-revalidate), so a prefix in use never
// waits on the source; if that refresh fails the entry serves until it
// expires and the refresh is retried.
//
// Misses of one key are collapsed with singleflight: however many callers
// miss together, the source is asked once, detached from any one caller's
// context and bounded by SourceTimeout; each caller waits at most until its
// own context ends. The flight re-checks the cache first, so a caller
// arriving just after a flight finished does not ask again. ristretto
// buffers new keys; the miss path waits for the write to apply, so the
// next Get of that key hits (unless ristretto's admission policy refuses
// it in a full cache).
//
// Reload re-reads the rules file (a remote source keeps its own rules) and
// drops the cache. Each answer is cached only if no Reload happened since
// its flight began (a generation counter checked under the same lock that
// Reload clears under), so an answer from the old rules never outlives
// the reload. A failed reload keeps the old rules and cache.
//
// An adapter of the core: it imports engine and codec only.
package ident
