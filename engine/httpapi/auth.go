package httpapi

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/metrics"
	"github.com/paycode/paycode/engine/sign"
)

// Policy is how a lane client (or a wallet) authenticates its messages.
type Policy string

const (
	// PolicyRSA256 signs and verifies every message (spec §4).
	PolicyRSA256 Policy = "rsa256"
	// PolicyNone trusts the client id alone: only for a trusted lane
	// network, and only when configured explicitly.
	PolicyNone Policy = "none"
)

// HeaderSignature is the signature header (lower case on the wire).
const HeaderSignature = "signature"

// Security defaults.
const (
	// DefaultMaxInFlight bounds lane requests being served at once; more
	// are shed with REQUEST_TRAFFIC_EXCEED_LIMIT (U) at once, not queued.
	DefaultMaxInFlight = 4096
	// DefaultReuseSignedFor is how long a signed answer is reused for
	// the same client id, method, path and body instead of being signed
	// again: inquiries repeated while a payment is processing or after it
	// is final, idempotent replays, shed and refused requests. Antom
	// answer signatures do not bind the request, so a reused one is no
	// easier to replay than any earlier answer; it only carries an older
	// response-time (the SDKs do not check it).
	DefaultReuseSignedFor = 10 * time.Second
	// DefaultMaxHeaderSize bounds a request's line and headers (the SDKs
	// send well under 2 KiB); larger requests are refused.
	DefaultMaxHeaderSize = 8 << 10
	// signed answers kept for reuse, per shard (16 shards)
	maxSignedAnswers = 4096
)

// Client is one lane client's (merchant's) authentication.
type Client struct {
	Policy Policy
	// Verifier holds the merchant's public keys by keyVersion (rsa256).
	Verifier *sign.Verifier
	// TLSNames, when set, are the client-certificate names (CN or DNS
	// SAN) allowed to use this client id; any other caller gets
	// ACCESS_DENIED. Only meaningful with -client-ca (mTLS).
	TLSNames []string
}

// Security configures lane authentication and admission. The zero value
// (after EnsureDefaults) trusts every client id, signs nothing, and sheds
// above DefaultMaxInFlight.
type Security struct {
	// Clients by client id.
	Clients map[string]*Client
	// Default applies to client ids not in Clients; nil answers them
	// ACCESS_DENIED.
	Default *Client
	// Signer is paycode's key: every answer to an rsa256 client, and every
	// answer to an unknown one, is signed with it. Required when any
	// client is rsa256.
	Signer *sign.Signer
	// Window is how far request-time may be from now (sign.DefaultWindow).
	Window time.Duration
	// MaxInFlight bounds requests served at once (DefaultMaxInFlight).
	MaxInFlight int
	// FollowUpReserve is how many of MaxInFlight only follow-up work
	// (inquiryPayment, cancel, refund, inquiryRefund: work on payments that
	// exist) may use, so new pays are shed first. MaxInFlight/8 (at least
	// 1) when 0; negative for none.
	FollowUpReserve int
	// ReuseSignedFor (DefaultReuseSignedFor when 0).
	ReuseSignedFor time.Duration
	// PayDelayTarget and PayDelayInterval drive admission by queueing
	// delay (admission.go): new pays are shed while the median pay
	// waits longer than the target. Defaults DefaultPayDelayTarget and
	// DefaultPayDelayInterval when 0; a negative target turns it off.
	PayDelayTarget   time.Duration
	PayDelayInterval time.Duration
	// ImageBodyBudget bounds the image body bytes being read or held,
	// all connections together (bodylimit.go); DefaultImageBodyBudget
	// when 0.
	ImageBodyBudget int64
}

// EnsureDefaults fills the zero fields.
func (c *Security) EnsureDefaults() {
	if c.Window == 0 {
		c.Window = sign.DefaultWindow
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.FollowUpReserve == 0 {
		c.FollowUpReserve = max(1, c.MaxInFlight/8)
	}
	if c.FollowUpReserve < 0 {
		c.FollowUpReserve = 0
	}
	if c.ReuseSignedFor == 0 {
		c.ReuseSignedFor = DefaultReuseSignedFor
	}
	if c.ImageBodyBudget == 0 {
		c.ImageBodyBudget = DefaultImageBodyBudget
	}
	c.ensureAdmissionDefaults() // admission.go
}

// Validate reports the first problem (call after EnsureDefaults).
func (c *Security) Validate() error {
	check := func(id string, cl *Client) error {
		switch cl.Policy {
		case PolicyRSA256:
			if cl.Verifier == nil {
				return fmt.Errorf("httpapi: client %q: policy rsa256 needs the merchant's public key", id)
			}
			if c.Signer == nil {
				return fmt.Errorf("httpapi: client %q: policy rsa256 needs paycode's private key to sign answers", id)
			}
		case PolicyNone:
		default:
			return fmt.Errorf("httpapi: client %q: policy %q is not rsa256 or none", id, cl.Policy)
		}
		return nil
	}
	for id, cl := range c.Clients {
		if id == "" || len(id) > codec.MaxClientIDLen {
			return fmt.Errorf("httpapi: client id %q must be 1 to %d bytes", id, codec.MaxClientIDLen)
		}
		if err := check(id, cl); err != nil {
			return err
		}
	}
	if c.Default != nil {
		if err := check("(default)", c.Default); err != nil {
			return err
		}
	}
	switch {
	case c.Window <= 0:
		return errors.New("httpapi: signature window must be positive")
	case c.MaxInFlight < 1:
		return errors.New("httpapi: MaxInFlight must be at least 1")
	case c.FollowUpReserve >= c.MaxInFlight:
		return errors.New("httpapi: FollowUpReserve must be below MaxInFlight")
	case c.ImageBodyBudget < 0:
		return errors.New("httpapi: ImageBodyBudget must not be negative")
	}
	return c.validateAdmission() // admission.go
}

// AllowsNone reports whether any client (or the default) uses PolicyNone:
// the command refuses that on a non-loopback listener unless told.
func (c *Security) AllowsNone() bool {
	if c.Default != nil && c.Default.Policy == PolicyNone {
		return true
	}
	for _, cl := range c.Clients {
		if cl.Policy == PolicyNone {
			return true
		}
	}
	return false
}

// guard is the Server's security state (see SetSecurity): the clients
// and policies, replaced as a whole on reload, over the state that
// outlives reloads.
type guard struct {
	cfg Security
	// clientRefusals are the refusal budgets of the client ids in
	// cfg.Clients, each its share of DefaultClientsRefusalSigns
	// (clientRefusalRate), so that a flood of refusals of other ids
	// cannot spend a configured merchant's; the ids no lane key lists
	// share guardState.refusalSigns. One per configured client: bounded
	// by the configuration, carried over a reload for the ids it keeps.
	clientRefusals map[string]*rate.Limiter
	*guardState
}

// newGuard builds the guard of cfg over gs, keeping old's refusal budgets
// (nil: none) for the client ids cfg still lists, at the share cfg's
// number of clients gives each.
func newGuard(cfg Security, gs *guardState, old *guard) *guard {
	g := &guard{cfg: cfg, guardState: gs, clientRefusals: make(map[string]*rate.Limiter, len(cfg.Clients))}
	r, burst := clientRefusalRate(len(cfg.Clients))
	for id := range cfg.Clients {
		if l, ok := old.clientRefusal(id); ok {
			l.SetLimit(r)
			l.SetBurst(burst)
			g.clientRefusals[id] = l
			continue
		}
		g.clientRefusals[id] = rate.NewLimiter(r, burst)
	}
	return g
}

// clientRefusalRate is each of n configured client ids' own refusal
// budget: DefaultClientsRefusalSigns a second shared evenly, at most
// DefaultClientRefusalSigns, and as many at once (at least one). Shares,
// not a common pool: no id can spend another's, so however many known
// ids a flood uses, each merchant keeps its share; the ids together sign
// at most DefaultClientsRefusalSigns a second (once, when all are idle,
// one each at once). With a thousand configured ids a share is one
// signature per 20 s; a refusal's signature is reused for ReuseSignedFor,
// and the shared budget serves any refusal it leaves unsigned while no
// flood spends that.
func clientRefusalRate(n int) (rate.Limit, int) {
	per := min(float64(DefaultClientsRefusalSigns)/float64(max(n, 1)), DefaultClientRefusalSigns)
	return rate.Limit(per), max(1, int(per))
}

// refused reports whether requests of clientID are refused whatever they
// carry: no lane key lists it and there is no default policy.
func (g *guard) refused(clientID []byte) bool {
	_, known := g.cfg.Clients[string(clientID)]
	return !known && g.cfg.Default == nil
}

func (g *guard) clientRefusal(id string) (*rate.Limiter, bool) {
	if g == nil {
		return nil, false
	}
	l, ok := g.clientRefusals[id]
	return l, ok
}

// allowRefusalSign reports whether an uncached refusal of clientID may be
// signed at now: from its own share if cfg.Clients lists it, else (or
// once that is spent) from the budget the other ids share. Whatever the
// number of clients configured, at most DefaultClientsRefusalSigns +
// DefaultRefusalSigns are signed a second.
func (g *guard) allowRefusalSign(clientID []byte, now time.Time) bool {
	if l, ok := g.clientRefusals[string(clientID)]; ok && l.AllowN(now, 1) {
		return true
	}
	return g.refusalSigns.AllowN(now, 1)
}

// guardState is what a reload keeps: the in-flight limiter (requests
// admitted under the old guard release into the same count), the
// signed-answer cache (same signer) and the counters.
type guardState struct {
	lim     limiter
	answers answerCache
	// shedSign bounds signing of shed answers that are not cached, so a
	// flood of new client ids cannot turn shedding into signing.
	shedSign chan struct{}
	// pays is the adaptive pay limit (admission.go); nil when off.
	pays *payGate
	// refusalSigns bounds the signatures of uncached refusals of client
	// ids that no lane key lists (DefaultRefusalSigns), and of configured
	// ids past their own share (guard.clientRefusals).
	refusalSigns *rate.Limiter
	// Shed counts requests shed by the in-flight limit or the pay limit;
	// Rejected those refused by authentication.
	Shed, Rejected atomic.Int64
}

// ErrSecurityRestart: a SetSecurity while serving changed a setting that
// only a restart applies (paycode's own key, MaxInFlight,
// FollowUpReserve); the old security stays.
var ErrSecurityRestart = errors.New("httpapi: this security change needs a restart")

// SetSecurity installs lane authentication and admission; without it
// every client id is trusted, nothing is signed and DefaultMaxInFlight
// applies. It may be called again while serving (a reload of the client
// keys): the clients, policies, default, Window and ReuseSignedFor are
// swapped atomically, requests in flight finish under the old ones, and
// the in-flight count and signed answers carry over. A change of
// Signer, MaxInFlight or FollowUpReserve is
// refused with ErrSecurityRestart, and an invalid cfg with Validate's
// error; either way the old security stays.
func (s *Server) SetSecurity(cfg Security) error {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	s.secMu.Lock()
	defer s.secMu.Unlock()
	if old := s.sec.Load(); old != nil {
		o := &old.cfg
		var changed []string
		if !sameSigner(o.Signer, cfg.Signer) {
			changed = append(changed, "paycode's private key")
		}
		if o.MaxInFlight != cfg.MaxInFlight || o.FollowUpReserve != cfg.FollowUpReserve ||
			o.PayDelayTarget != cfg.PayDelayTarget || o.PayDelayInterval != cfg.PayDelayInterval ||
			o.ImageBodyBudget != cfg.ImageBodyBudget {
			changed = append(changed, "maxInFlight/followUpReserve/payDelayTarget/payDelayInterval/imageBodyBudget")
		}
		if len(changed) > 0 {
			return fmt.Errorf("%w: %v changed", ErrSecurityRestart, changed)
		}
		cfg.Signer = o.Signer
		s.sec.Store(newGuard(cfg, old.guardState, old))
		return nil
	}
	gs := &guardState{shedSign: make(chan struct{}, runtime.GOMAXPROCS(0)),
		refusalSigns: rate.NewLimiter(DefaultRefusalSigns, DefaultRefusalSigns)}
	gs.lim.max, gs.lim.newMax = int64(cfg.MaxInFlight), int64(cfg.MaxInFlight-cfg.FollowUpReserve)
	if cfg.PayDelayTarget > 0 {
		gs.pays = newPayGate(cfg.PayDelayTarget, cfg.PayDelayInterval, gs.lim.newMax, s.clock.Now())
	}
	gs.answers.init()
	s.SetImageBodyBudget(cfg.ImageBodyBudget) // bodylimit.go
	s.sec.Store(newGuard(cfg, gs, nil))
	return nil
}

// sameSigner reports whether a and b sign with the same key and version.
func sameSigner(a, b *sign.Signer) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Public().Equal(b.Public()) && a.KeyVersion() == b.KeyVersion()
}

// SecurityStats are the guard's counters: requests shed by the in-flight
// limit, requests refused by authentication.
func (s *Server) SecurityStats() (shed, rejected int64) {
	g := s.sec.Load()
	if g == nil {
		return 0, 0
	}
	return g.Shed.Load(), g.Rejected.Load()
}

// limiter admits requests up to max at once; new pays only up to newMax,
// so follow-up work always finds room before new admissions do.
type limiter struct {
	n           atomic.Int64
	max, newMax int64
}

func (l *limiter) acquire(followUp bool) bool {
	lim := l.newMax
	if followUp {
		lim = l.max
	}
	for {
		n := l.n.Load()
		if n >= lim {
			return false
		}
		if l.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (l *limiter) release() { l.n.Add(-1) }

// guarded serves one lane request under the guard: admission, then
// authentication, then the API, then the answer's signature over the
// response-time header already set (a cached answer replaces it).
func (s *Server) guarded(ctx *fasthttp.RequestCtx, st *reqState, dst []byte) ([]byte, codec.ResultCode) {
	g := s.sec.Load()
	st.knownClient = false
	if g == nil {
		return s.serve(ctx, st, dst)
	}
	// Signatures cover the path as sent; what the request is was routed
	// from the normalised path (route.go).
	path := ctx.URI().PathOriginal()
	clientID := ctx.Request.Header.Peek(HeaderClientID)
	cl, known := g.cfg.Clients[string(clientID)]
	if !known {
		cl = g.cfg.Default
	}
	signs := g.cfg.Signer != nil && (cl == nil || cl.Policy == PolicyRSA256)
	if !g.lim.acquire(st.op.followUp()) {
		return s.shed(ctx, g, dst, clientID, path, signs, metrics.ShedInFlight)
	}
	defer g.lim.release()
	if g.pays != nil && st.op == opPay { // admission.go
		if !g.pays.acquire() {
			return s.shed(ctx, g, dst, clientID, path, signs, metrics.ShedPayDelay)
		}
		defer s.payDone(g.pays, st, s.clock.Now())
	}
	if cl == nil {
		g.Rejected.Add(1)
		return g.constant(ctx, dst, clientID, path, codec.AccessDenied, "this client-id is not registered", signs, signRefused)
	}
	if rc, msg := g.authenticate(ctx, cl, clientID, path, s.clock.Now()); rc != codec.ResultNone {
		g.Rejected.Add(1)
		return g.constant(ctx, dst, clientID, path, rc, msg, signs, signRefused)
	}
	st.knownClient = known
	dst, rc := s.serve(ctx, st, dst)
	if signs {
		g.signAnswer(ctx, dst, clientID, path, signServed)
	}
	return dst, rc
}

// authenticate checks cl's policy on the request. It returns ResultNone
// when the request may be served, else the code and message to answer.
func (g *guard) authenticate(ctx *fasthttp.RequestCtx, cl *Client, clientID, path []byte, now time.Time) (codec.ResultCode, string) {
	if len(cl.TLSNames) > 0 && !tlsNameAllowed(ctx.TLSConnectionState(), cl.TLSNames) {
		return codec.AccessDenied, "the client certificate is not allowed to use this client-id"
	}
	if cl.Policy != PolicyRSA256 {
		return codec.ResultNone, ""
	}
	var h sign.Header
	if err := sign.ParseSignatureHeader(ctx.Request.Header.Peek(HeaderSignature), &h); err != nil {
		if errors.Is(err, sign.ErrNoSignature) {
			return codec.InvalidSignature, "the signature header is required"
		}
		return codec.InvalidSignature, "the signature header is malformed"
	}
	rt := ctx.Request.Header.Peek(HeaderRequestTime)
	t, err := sign.ParseTime(rt)
	if err != nil {
		return codec.InvalidSignature, "request-time must be epoch milliseconds or ISO 8601"
	}
	if err := sign.CheckTime(t, now, g.cfg.Window); err != nil {
		if errors.Is(err, sign.ErrStale) {
			return codec.InvalidSignature, "request-time is too old"
		}
		return codec.InvalidSignature, "request-time is in the future"
	}
	var buf [1024]byte
	sig, err := sign.DecodeSignature(buf[:0], h.Signature)
	if err != nil {
		return codec.InvalidSignature, "the signature is not url-encoded base64"
	}
	err = cl.Verifier.VerifySignature(h.Algorithm, h.KeyVersion, sig, ctx.Method(), path, clientID, rt, ctx.PostBody())
	switch {
	case errors.Is(err, sign.ErrKeyNotFound):
		return codec.KeyNotFound, "no public key with this keyVersion is registered for this client-id"
	case errors.Is(err, sign.ErrAlgorithm):
		return codec.InvalidSignature, "the signature algorithm must be RSA256"
	case err != nil:
		return codec.InvalidSignature, "the signature does not match the request"
	}
	// A verified request inside the window is served whether or not the
	// same bytes came before: a lane's or a proxy's retry of a pay must
	// get the pay's answer, never a refusal the lane could read as a
	// decline. Replays are bounded by the window, and what they can do by
	// idempotency: the same paymentRequestId, cancel or refundRequestId
	// gets its stored result, an inquiry the current state.
	return codec.ResultNone, ""
}

func tlsNameAllowed(cs *tls.ConnectionState, names []string) bool {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return false
	}
	leaf := cs.VerifiedChains[0][0]
	if slices.Contains(names, leaf.Subject.CommonName) {
		return true
	}
	for _, n := range leaf.DNSNames {
		if slices.Contains(names, n) {
			return true
		}
	}
	return false
}

// signedAnswer is a signature reused until until, with its response-time.
type signedAnswer struct {
	respTime, sig []byte
	until         time.Time
}

// answerCache holds signatures by a hash of client id, method, path and
// body. Bounded: a full shard is emptied.
type answerCache struct {
	shards [16]answerShard
}

type answerShard struct {
	mu sync.Mutex
	m  map[[16]byte]signedAnswer
}

func (c *answerCache) init() {
	for i := range c.shards {
		c.shards[i].m = make(map[[16]byte]signedAnswer)
	}
}

func (c *answerCache) get(k [16]byte, now time.Time) (signedAnswer, bool) {
	sh := &c.shards[k[0]&15]
	sh.mu.Lock()
	a, ok := sh.m[k]
	sh.mu.Unlock()
	return a, ok && now.Before(a.until)
}

func (c *answerCache) put(k [16]byte, a signedAnswer) {
	sh := &c.shards[k[0]&15]
	sh.mu.Lock()
	if len(sh.m) >= maxSignedAnswers {
		clear(sh.m)
	}
	sh.m[k] = a
	sh.mu.Unlock()
}

// constant answers a fixed result, signed when it must be.
func (g *guard) constant(ctx *fasthttp.RequestCtx, dst, clientID, path []byte, rc codec.ResultCode, msg string, signs bool, kind signKind) ([]byte, codec.ResultCode) {
	dst, rc = answer(dst, rc, msg)
	if signs {
		g.signAnswer(ctx, dst, clientID, path, kind)
	}
	return dst, rc
}

// signKind is what an answer answers, which decides what its signature
// may cost when no signature of it is cached.
type signKind uint8

const (
	// signServed: an authenticated request's answer, always signed.
	signServed signKind = iota
	// signShed: a shed answer, signed if a signing slot frees within
	// shedSignWait, else the connection is dropped unanswered.
	signShed
	// signRefused: a refusal of a request that did not authenticate
	// (unknown client id, bad signature), signed within the refusal
	// budget, else the connection is dropped unanswered. Anyone can send
	// those, each with a new client id or path that misses the cache,
	// and a signature costs ~0.7 ms of CPU.
	signRefused
	// signReadError: an answer to a request fasthttp could not read;
	// within the refusal budget it is signed, else sent unsigned (the
	// connection closes after it anyway).
	signReadError
)

// DefaultRefusalSigns is how many uncached refusals (signRefused,
// signReadError) of client ids that no lane key lists are signed per
// second, and at once: ~35 ms of CPU a second. A lane that repeats a
// refused request gets its cached signature, so only floods of ever-new
// refusals go past it; and only refusals of requests an SDK sends are
// signed at all (sdkRequest), so a refusal is new only by its client id,
// its API path (11 of them) and its message.
//
// DefaultClientsRefusalSigns is the same budget of the configured client
// ids together, whatever their number, in even shares of at most
// DefaultClientRefusalSigns a second (clientRefusalRate), each id's own,
// spent before the shared one: a flood of made-up ids, or of other
// configured ids, leaves a merchant whose signature fails (a wrong key, a
// clock off) its signed refusals.
const (
	DefaultRefusalSigns        = 50
	DefaultClientsRefusalSigns = 50
	DefaultClientRefusalSigns  = 10
)

// sdkRequest reports whether the request is one an Antom SDK sends: a
// POST to an API path, spelled as routed (route.go). Only those get a
// signed answer when they were not authenticated (a refusal, a shed, an
// unreadable request): an SDK verifies an answer over the path it sent,
// so a signature over another spelling verifies for no client, and
// signing every spelling (a path with one more slash, a percent-encoded
// letter, another method) would let anyone buy a new signature, ~0.7 ms
// of CPU, per request. Other requests are answered unsigned.
func sdkRequest(ctx *fasthttp.RequestCtx) bool {
	path := ctx.Path()
	return ctx.IsPost() && route(path) != opNone && string(ctx.URI().PathOriginal()) == string(path)
}

// signAnswer sets the signature header of an answer over its body and the
// response-time header as set; a signature of the same answer younger
// than ReuseSignedFor is reused with its response-time. What an
// uncached signature may cost depends on kind (signKind): an overloaded
// server must not queue signatures, nor sign every refusal of a flood.
func (g *guard) signAnswer(ctx *fasthttp.RequestCtx, body, clientID, path []byte, kind signKind) {
	if kind != signServed && !sdkRequest(ctx) {
		return
	}
	k := answerKey(ctx.Method(), path, clientID, body)
	now := time.Now()
	h := &ctx.Response.Header
	if a, ok := g.answers.get(k, now); ok {
		h.SetBytesV(HeaderResponseTime, a.respTime)
		h.SetBytesV(HeaderSignature, a.sig)
		return
	}
	if kind == signShed && g.refused(clientID) {
		// A shed answer to a client id that would be refused anyway is
		// signed like its refusal: within the refusal budget.
		kind = signRefused
	}
	switch kind {
	case signShed:
		if !g.shedSlot() {
			dropUnanswered(ctx)
			return
		}
		defer func() { <-g.shedSign }()
	case signRefused, signReadError:
		if !g.allowRefusalSign(clientID, now) {
			if kind == signRefused {
				dropUnanswered(ctx)
			}
			return
		}
	}
	respTime := slices.Clone(h.Peek(HeaderResponseTime))
	sig, err := g.cfg.Signer.AppendHeader(make([]byte, 0, 400), ctx.Method(), path, clientID, respTime, body)
	if err != nil {
		return // only a broken key fails; the client will reject the answer
	}
	h.SetBytesV(HeaderSignature, sig)
	g.answers.put(k, signedAnswer{respTime: respTime, sig: sig, until: now.Add(g.cfg.ReuseSignedFor)})
}

// dropUnanswered closes the request's connection without an answer.
func dropUnanswered(ctx *fasthttp.RequestCtx) {
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(net.Conn) {})
}

// shedSignWait bounds the wait for a slot to sign an uncached shed answer
// (a signature takes ~1 ms; a burst of new client ids queues here).
const shedSignWait = 100 * time.Millisecond

func (g *guard) shedSlot() bool {
	select {
	case g.shedSign <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(shedSignWait)
	defer t.Stop()
	select {
	case g.shedSign <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

var keyHashers = sync.Pool{New: func() any { return sha256.New() }}

// answerKey is SHA-256 (first 16 bytes) of the answer's identity; the
// parts are length-prefixed so no two answers share an encoding.
func answerKey(method, path, clientID, body []byte) [16]byte {
	hs := keyHashers.Get().(hash.Hash)
	hs.Reset()
	var n [8]byte
	for _, p := range [...][]byte{method, path, clientID, body} {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		hs.Write(n[:])
		hs.Write(p)
	}
	var sum [sha256.Size]byte
	hs.Sum(sum[:0])
	keyHashers.Put(hs)
	var k [16]byte
	copy(k[:], sum[:])
	return k
}

// signReadError gives an answer fasthttp could not read (oversized body,
// malformed request) the headers and signature of every other answer.
// The request was never authenticated, so it is signed like an unknown
// client's: from the reuse cache.
func (s *Server) signReadError(ctx *fasthttp.RequestCtx) {
	g := s.sec.Load()
	h := &ctx.Response.Header
	if cid := ctx.Request.Header.Peek(HeaderClientID); len(cid) > 0 && len(cid) <= codec.MaxClientIDLen {
		h.SetBytesV(HeaderClientID, cid)
	}
	var rt [40]byte
	h.SetBytesV(HeaderResponseTime, s.clock.Now().AppendFormat(rt[:0], time.RFC3339))
	if g == nil || g.cfg.Signer == nil {
		return
	}
	cid := ctx.Request.Header.Peek(HeaderClientID)
	cl, known := g.cfg.Clients[string(cid)]
	if !known {
		cl = g.cfg.Default
	}
	if cl != nil && cl.Policy != PolicyRSA256 {
		return
	}
	g.signAnswer(ctx, ctx.Response.Body(), cid, ctx.URI().PathOriginal(), signReadError)
}
