package load

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// Kind is what one request does. Replays and invalid codes are pay
// requests, reported on rows of their own because their answers and
// latencies differ from a fresh pay's.
type Kind uint8

const (
	KindPay     Kind = iota // a fresh code and paymentRequestId
	KindReplay              // a pay again: same paymentRequestId and body
	KindInvalid             // a pay paycode must refuse with INVALID_PAYMENT_CODE
	KindImage               // a pay by image (multipart: pay JSON without the code, and a PNG)
	KindInquiry             // inquiryPayment by paymentRequestId
	KindCancel              // cancel by paymentRequestId
	KindRefund              // refund of half the amount
	kindCount
)

var kindNames = [kindCount]string{"pay", "replay", "invalid", "image", "inquiry", "cancel", "refund"}

// kindOps are the lane API operations, appended to the API base path.
var kindOps = [kindCount]string{"pay", "pay", "pay", "pay", "inquiryPayment", "cancel", "refund"}

const kindChars = "prxmqcf" // the k= query value of each kind

func (k Kind) String() string {
	if k < kindCount {
		return kindNames[k]
	}
	return "unknown"
}

// Kinds lists every kind in report order.
func Kinds() []Kind {
	out := make([]Kind, kindCount)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// APIPath is the lane API's production path prefix; the operation
// follows it.
const APIPath = "/ams/api/v1/payments/"

// chunkBits sizes the payment store's chunks (4096 payments each), so a
// record's address never changes while the store grows.
const chunkBits = 12

// Plan bits: what the lane will do after a pay's answer.
const (
	planPoll uint8 = 1 << iota
	planCancel
	planRefund
	planReplay
)

// Invalid-code variants.
const (
	invalidUnknownPrefix uint8 = iota
	invalidMalformed
	invalidReused
	invalidVariants
)

// unknownPrefix routes to no wallet in the default rules.
const unknownPrefix = "281999"

// Payment is one paymentRequestId minted by the Targeter: a fresh pay,
// an invalid one, or a pay by image. Fields above Answered are fixed at
// mint; the rest are filled from answers.
type Payment struct {
	N       uint64
	Kind    Kind // KindPay, KindInvalid or KindImage
	Class   mppsim.Outcome
	Wallet  uint8 // index into Targeter.Prefixes
	Last2   uint8
	Lane    uint16
	Amount  int64
	Plan    uint8
	Variant uint8  // invalid-code variant
	ReuseOf uint64 // invalidReused: the payment whose code is used again

	Answered  bool
	Err       bool   // the first request got no HTTP answer
	Result    string // the first answer's resultCode
	PaymentID string // the first answer's paymentId
	ReplayID  string // a replay's paymentId, when it differs
}

// TargeterConfig is what a Targeter needs besides the scenario.
type TargeterConfig struct {
	// BaseURL is paycode's lane API, e.g. http://127.0.0.1:8080.
	BaseURL string
	// BaseURLs, when set, are several paycodes' lane APIs (nodes of one
	// cluster, or separate ones); each lane talks to one of them (lane
	// modulo the count), follow-ups included. BaseURL is then ignored.
	BaseURLs []string
	// RunID (1–MaxRunID) is put in every code and paymentRequestId so
	// runs against the same paycode or wallets never share one. Zero
	// draws one at random (not from the scenario's seed: two runs of the
	// same seed must not collide; the seed still fixes everything else).
	RunID int
	// Now is the clock for follow-up due times (time.Now when nil).
	Now func() time.Time
}

// MaxRunID is the largest run id: seven digits of every code.
const MaxRunID = 9_999_999

// runDigits is the run id's width in codes and request ids.
const runDigits = 7

// Targeter mints the requests of a scenario. Next is safe for concurrent
// use by vegeta's workers; Observe is called with every result (by one
// goroutine or several) and schedules the lanes' follow-ups. Each call
// to Next takes one short lock: drawing from the seeded source under it is
// what makes a seed reproducible.
type Targeter struct {
	sc       *Scenario
	now      func() time.Time
	apis     []string    // each BaseURL + APIPath
	hdr      http.Header // JSON requests
	imgHdr   http.Header // pay by image (multipart)
	run      [runDigits]byte
	reqPfx   string // "LT1234567-"
	termTime string

	Prefixes   []string // routing prefixes, sorted
	prefixCum  []float64
	outcomes   []mppsim.Outcome
	outcomeCum []float64

	mu     sync.Mutex
	rng    *rand.Rand
	n      uint64
	chunks [][]Payment
	due    dueHeap
	sent   [kindCount]uint64
}

// NewTargeter returns a Targeter for sc (defaults filled, validated).
func NewTargeter(sc *Scenario, cfg TargeterConfig) (*Targeter, error) {
	bases := cfg.BaseURLs
	if len(bases) == 0 && cfg.BaseURL != "" {
		bases = []string{cfg.BaseURL}
	}
	if len(bases) == 0 {
		return nil, errors.New("load: targeter: no base URL")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RunID == 0 {
		cfg.RunID = NewRunID()
	}
	if cfg.RunID < 0 || cfg.RunID > MaxRunID {
		return nil, fmt.Errorf("load: targeter: RunID must be 1..%d", MaxRunID)
	}
	t := &Targeter{
		sc:  sc,
		now: cfg.Now,
		hdr: http.Header{
			"Content-Type":         {"application/json; charset=UTF-8"},
			httpapi.HeaderClientID: {sc.ClientID},
		},
		imgHdr: http.Header{
			"Content-Type":         {"multipart/form-data; boundary=" + imageBoundary},
			httpapi.HeaderClientID: {sc.ClientID},
		},
		rng:      rand.New(rand.NewPCG(sc.Seed, sc.Seed^0x9e3779b97f4a7c15)),
		termTime: "2026-11-26T12:00:00+08:00",
	}
	for _, b := range bases {
		if b == "" {
			return nil, errors.New("load: targeter: empty base URL")
		}
		t.apis = append(t.apis, strings.TrimRight(b, "/")+APIPath)
	}
	copy(t.run[:], strconv.AppendInt(nil, int64(10_000_000+cfg.RunID), 10)[1:])
	t.reqPfx = "LT" + string(t.run[:]) + "-"
	for p := range sc.Wallets {
		t.Prefixes = append(t.Prefixes, p)
	}
	slices.Sort(t.Prefixes)
	var cum float64
	for _, p := range t.Prefixes {
		cum += max(sc.Wallets[p], 0)
		t.prefixCum = append(t.prefixCum, cum)
	}
	cum = 0
	for _, o := range mppsim.Outcomes() {
		if w := sc.Outcomes[o.String()]; w > 0 {
			cum += w
			t.outcomes = append(t.outcomes, o)
			t.outcomeCum = append(t.outcomeCum, cum)
		}
	}
	return t, nil
}

// NewRunID draws a random run id (1–MaxRunID) from the runtime's
// randomly seeded source.
func NewRunID() int { return 1 + rand.IntN(MaxRunID) }

// RequestIDPrefix is what every paymentRequestId of the run starts with,
// e.g. "LT1234567-"; the wallets' ledgers carry it in each payment's
// order description (see RunFilter).
func (t *Targeter) RequestIDPrefix() string { return t.reqPfx }

// Target is the lane API base (with APIPath) lane talks to.
func (t *Targeter) target(lane uint16) string { return t.apis[int(lane)%len(t.apis)] }

// Targets is how many lane APIs the lanes are spread over.
func (t *Targeter) Targets() int { return len(t.apis) }

// TargetOf is the index (into TargeterConfig.BaseURLs) of the paycode
// that payment n's lane talks to.
func (t *Targeter) TargetOf(n uint64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n >= t.n {
		return 0
	}
	return int(t.get(n).Lane) % len(t.apis)
}

// Func adapts t to vegeta's Targeter type.
func (t *Targeter) Func() vegeta.Targeter { return t.Next }

// Next fills tgt with the next request: a follow-up whose time has come,
// else a newly minted pay. It never fails.
func (t *Targeter) Next(tgt *vegeta.Target) error {
	t.mu.Lock()
	if len(t.due) > 0 && !t.due[0].at.After(t.now()) {
		it := t.due.pop()
		p := *t.get(it.n)
		t.sent[it.kind]++
		t.mu.Unlock()
		t.build(tgt, it.kind, &p)
		return nil
	}
	p := t.mintLocked()
	t.sent[p.Kind]++
	t.mu.Unlock()
	t.build(tgt, p.Kind, &p)
	return nil
}

// pick returns the index of the first cumulative weight above u·total.
func pick(cum []float64, u float64) int {
	x := u * cum[len(cum)-1]
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

// mintLocked draws a new payment. Every mint makes the same draws in the
// same order, whatever its kind, so a seed fixes the whole sequence.
func (t *Targeter) mintLocked() Payment {
	sc := t.sc
	n := t.n
	t.n++
	r := t.rng
	kindU, walletU, outcomeU, lastU := r.Float64(), r.Float64(), r.Float64(), r.Float64()
	amountU, laneU, planU, pollU, varU, reuseU := r.Float64(), r.Float64(), r.Float64(), r.Float64(), r.Float64(), r.Uint64()

	p := Payment{N: n, Kind: KindPay}
	switch {
	case kindU < sc.Invalid:
		p.Kind = KindInvalid
	case kindU < sc.Invalid+sc.Image:
		p.Kind = KindImage
	}
	p.Wallet = uint8(pick(t.prefixCum, walletU))
	p.Class = t.outcomes[pick(t.outcomeCum, outcomeU)]
	lo, hi := p.Class.Range()
	p.Last2 = uint8(lo + int(lastU*float64(hi-lo+1)))
	p.Amount = sc.Amount.Min + int64(amountU*float64(sc.Amount.Max-sc.Amount.Min+1))
	p.Amount = min(p.Amount, sc.Amount.Max)
	p.Lane = uint16(laneU * float64(sc.Lanes))
	f := sc.FollowUp
	if p.Kind != KindInvalid {
		switch {
		case planU < f.Cancel:
			p.Plan |= planCancel
		case planU < f.Cancel+f.Refund:
			p.Plan |= planRefund
		case planU < f.Cancel+f.Refund+f.Replay:
			p.Plan |= planReplay
		}
		if pollU < f.Poll {
			p.Plan |= planPoll
		}
	} else {
		p.Variant = uint8(varU * float64(invalidVariants))
		if p.Variant == invalidReused {
			// Reuse a code whose first answer is in: paycode has consumed
			// it. Two tries, then an unknown prefix instead.
			p.Variant = invalidUnknownPrefix
			for i := uint64(0); i < 2 && n > 0; i++ {
				m := (reuseU >> (i * 32)) % n
				if q := t.get(m); q.Kind == KindPay && q.Answered && !q.Err {
					p.Variant, p.ReuseOf = invalidReused, m
					break
				}
			}
		}
	}
	*t.alloc(n) = p
	if p.Plan&planReplay != 0 {
		t.due.push(dueItem{at: t.now().Add(f.ReplayAfter), n: n, kind: KindReplay})
	}
	return p
}

func (t *Targeter) alloc(n uint64) *Payment {
	c := int(n >> chunkBits)
	for len(t.chunks) <= c {
		t.chunks = append(t.chunks, make([]Payment, 1<<chunkBits))
	}
	return &t.chunks[c][n&(1<<chunkBits-1)]
}

func (t *Targeter) get(n uint64) *Payment { return &t.chunks[n>>chunkBits][n&(1<<chunkBits-1)] }

// build fills tgt for a request of kind k about p. The body is appended
// to tgt.Body[:0], so a caller that reuses its Target (Sender) reuses its
// buffer; vegeta's Attacker hands a fresh Target each time.
func (t *Targeter) build(tgt *vegeta.Target, k Kind, p *Payment) {
	api := t.target(p.Lane)
	u := make([]byte, 0, len(api)+40)
	u = append(u, api...)
	u = append(u, kindOps[k]...)
	u = append(u, "?k="...)
	u = append(u, kindChars[k])
	u = append(u, "&n="...)
	u = strconv.AppendUint(u, p.N, 10)
	tgt.Method = http.MethodPost
	tgt.URL = string(u)
	tgt.Header = t.hdr // shared and never written: vegeta copies it
	if k == KindImage || (k == KindReplay && p.Kind == KindImage) {
		tgt.Header = t.imgHdr
		tgt.Body = t.appendImagePay(bodyBuf(tgt.Body, 2048), p)
		return
	}
	switch k {
	case KindPay, KindReplay, KindInvalid:
		tgt.Body = t.appendPay(bodyBuf(tgt.Body, 720), p)
	case KindInquiry, KindCancel:
		b := append(bodyBuf(tgt.Body, 48), `{"paymentRequestId":"`...)
		tgt.Body = append(t.AppendRequestID(b, p.N), `"}`...)
	case KindRefund:
		b := append(bodyBuf(tgt.Body, 160), `{"refundRequestId":"`...)
		b = append(t.AppendRequestID(b, p.N), `-r","paymentId":"`...)
		b = append(b, p.PaymentID...)
		b = append(b, `","refundAmount":{"currency":"`...)
		b = append(b, t.sc.Currency...)
		b = append(b, `","value":"`...)
		b = strconv.AppendInt(b, max(p.Amount/2, 1), 10)
		tgt.Body = append(b, `"}}`...)
	}
}

// bodyBuf is b emptied, or a new buffer of capacity n when b is smaller.
func bodyBuf(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, 0, n)
	}
	return b[:0]
}

// AppendRequestID appends payment n's paymentRequestId.
func (t *Targeter) AppendRequestID(dst []byte, n uint64) []byte {
	return strconv.AppendUint(append(dst, t.reqPfx...), n, 10)
}

// RequestID is payment n's paymentRequestId.
func (t *Targeter) RequestID(n uint64) string { return string(t.AppendRequestID(nil, n)) }

// appendDigits9 appends n modulo 10^9 as exactly 9 digits.
func appendDigits9(dst []byte, n uint64) []byte {
	var b [9]byte
	for i := 8; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, b[:]...)
}

// appendCode appends the code of a fresh payment n: routing prefix (6),
// run id (7), n (9 digits), the last two digits. 24 digits, unique per
// run and payment (for the first 10^9 payments of a run).
func (t *Targeter) appendCode(dst []byte, prefix string, n uint64, last2 uint8) []byte {
	dst = append(dst, prefix...)
	dst = append(dst, t.run[:]...)
	dst = appendDigits9(dst, n)
	return append(dst, '0'+last2/10, '0'+last2%10)
}

// AppendCode appends the payment code p was minted with (what paycode
// receives as paymentMethodId). Keep it out of logs.
func (t *Targeter) AppendCode(dst []byte, p *Payment) []byte {
	if p.Kind != KindInvalid {
		return t.appendCode(dst, t.Prefixes[p.Wallet], p.N, p.Last2)
	}
	switch p.Variant {
	case invalidMalformed: // 15 digits: too short
		dst = append(dst, t.Prefixes[p.Wallet]...)
		dst = append(dst, t.run[:]...)
		return appendDigits9(dst, p.N)[:len(dst)+2]
	case invalidReused:
		t.mu.Lock()
		q := *t.get(p.ReuseOf)
		t.mu.Unlock()
		return t.appendCode(dst, t.Prefixes[q.Wallet], q.N, q.Last2)
	}
	return t.appendCode(dst, unknownPrefix, p.N, 1)
}

// appendPay writes an Antom pay body for p.
func (t *Targeter) appendPay(b []byte, p *Payment) []byte { return t.appendPayJSON(b, p, true) }

// appendPayJSON writes the pay JSON, with the code in paymentMethodId or,
// for pay by image, without it.
func (t *Targeter) appendPayJSON(b []byte, p *Payment, withCode bool) []byte {
	b = append(b, `{"productCode":"IN_STORE_PAYMENT","paymentRequestId":"`...)
	b = t.AppendRequestID(b, p.N)
	// The order description carries the paymentRequestId to the wallet,
	// whose ledger keeps it: the correctness check scopes its orphan
	// search to this run's payments by it (RunFilter).
	b = append(b, `","order":{"orderDescription":"load test `...)
	b = t.AppendRequestID(b, p.N)
	b = append(b, `","orderAmount":{"currency":"`...)
	b = append(b, t.sc.Currency...)
	b = append(b, `","value":"`...)
	b = strconv.AppendInt(b, p.Amount, 10)
	b = append(b, `"},"merchant":{"referenceMerchantId":"M0001","merchantMCC":"5411","merchantName":"Load Test Mart","store":{"referenceStoreId":"S01","storeName":"Peak Hour","storeMCC":"5411"}},"env":{"storeTerminalId":"LANE-`...)
	b = append(b, '0'+byte(p.Lane/1000%10), '0'+byte(p.Lane/100%10), '0'+byte(p.Lane/10%10), '0'+byte(p.Lane%10))
	b = append(b, `","storeTerminalRequestTime":"`...)
	b = append(b, t.termTime...)
	b = append(b, `"}},"paymentAmount":{"currency":"`...)
	b = append(b, t.sc.Currency...)
	b = append(b, `","value":"`...)
	b = strconv.AppendInt(b, p.Amount, 10)
	if !withCode {
		return append(b, `"},"paymentMethod":{"paymentMethodType":"CONNECT_WALLET"},"paymentFactor":{"inStorePaymentScenario":"PaymentCode"}}`...)
	}
	b = append(b, `"},"paymentMethod":{"paymentMethodType":"CONNECT_WALLET","paymentMethodId":"`...)
	b = t.AppendCode(b, p)
	return append(b, `"},"paymentFactor":{"inStorePaymentScenario":"PaymentCode"}}`...)
}

// Observation is what one result means.
type Observation struct {
	Kind   Kind
	Class  mppsim.Outcome // the test-code row, for pays
	Result string         // the answer's resultCode; "" when there was no HTTP answer
	// OK: the answer is the one the simulated wallets' table predicts
	// for this request (a "correct outcome").
	OK       bool
	Err      bool  // no HTTP 200 answer (transport error, timeout, status)
	EngineUS int64 // paycode's own time (µs); -1 when the header is absent
	Latency  time.Duration
	Valid    bool // the URL was one of ours
}

// ExpectedPayResult is the first answer a fresh pay of class o gets.
func ExpectedPayResult(o mppsim.Outcome) codec.ResultCode { return o.PayAnswer() }

// FinalPayResult is the result a payment of class o settles on when
// nobody cancels it.
func FinalPayResult(o mppsim.Outcome) codec.ResultCode { return o.FinalAnswer() }

// ParseURL returns the kind and payment number a request URL carries.
func ParseURL(u string) (Kind, uint64, bool) {
	i := strings.LastIndexByte(u, '?')
	if i < 0 || len(u) < i+7 || u[i+1:i+3] != "k=" || u[i+4:i+7] != "&n=" {
		return 0, 0, false
	}
	k := strings.IndexByte(kindChars, u[i+3])
	n, err := strconv.ParseUint(u[i+7:], 10, 64)
	if k < 0 || err != nil {
		return 0, 0, false
	}
	return Kind(k), n, true
}

// jsonString returns the value of the first "key":"…" in b (no
// unescaping: paycode's codes and ids are plain ASCII).
func jsonString(b []byte, key string) []byte {
	var kb [40]byte
	k := append(append(append(kb[:0], '"'), key...), `":"`...)
	i := bytes.Index(b, k)
	if i < 0 {
		return nil
	}
	b = b[i+len(k):]
	if j := bytes.IndexByte(b, '"'); j >= 0 {
		return b[:j]
	}
	return nil
}

// Observe interprets a result and schedules the follow-ups its answer
// calls for.
func (t *Targeter) Observe(r *vegeta.Result) Observation {
	o := Observation{EngineUS: -1, Latency: r.Latency}
	k, n, ok := ParseURL(r.URL)
	if !ok {
		o.Err = true
		return o
	}
	o.Kind, o.Valid = k, true
	o.Err = r.Code != http.StatusOK || r.Error != ""
	var rc codec.ResultCode
	if !o.Err {
		if v, ok := codec.LookupResult(jsonString(r.Body, "resultCode")); ok {
			rc = v
			o.Result = rc.String()
		}
		if h := r.Headers[engineTimeKey]; len(h) > 0 {
			if us, err := strconv.ParseInt(h[0], 10, 64); err == nil {
				o.EngineUS = us
			}
		}
	}
	var pid string
	if k == KindPay || k == KindReplay || k == KindImage {
		if b := jsonString(r.Body, "paymentId"); len(b) > 0 {
			pid = string(b)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if n >= t.n {
		o.Valid = false
		return o
	}
	p := t.get(n)
	o.Class = p.Class
	switch k {
	case KindPay, KindImage:
		p.Answered, p.Err, p.Result, p.PaymentID = true, o.Err, o.Result, pid
		o.OK = !o.Err && rc == ExpectedPayResult(p.Class)
		if !o.Err {
			t.scheduleLocked(p, rc)
		}
	case KindReplay:
		o.OK = !o.Err && (rc == ExpectedPayResult(p.Class) || rc == FinalPayResult(p.Class) || rc == codec.PaymentInProcess)
		if pid != "" && p.ReplayID == "" {
			p.ReplayID = pid
		}
	case KindInvalid:
		o.OK = !o.Err && rc == codec.InvalidPaymentCode
		p.Answered, p.Err, p.Result = true, o.Err, o.Result
	default: // inquiry, cancel, refund: the operation itself worked
		o.OK = !o.Err && rc == codec.Success
	}
	return o
}

// scheduleLocked queues the lane's follow-ups after p's first answer.
func (t *Targeter) scheduleLocked(p *Payment, rc codec.ResultCode) {
	now := t.now()
	f := t.sc.FollowUp
	if p.Plan&planPoll != 0 && rc == codec.PaymentInProcess {
		for i := 1; i <= f.Polls; i++ {
			t.due.push(dueItem{at: now.Add(time.Duration(i) * f.PollEvery), n: p.N, kind: KindInquiry})
		}
	}
	if p.Plan&planCancel != 0 {
		t.due.push(dueItem{at: now.Add(f.CancelAfter), n: p.N, kind: KindCancel})
	}
	if p.Plan&planRefund != 0 && rc == codec.Success && p.PaymentID != "" {
		t.due.push(dueItem{at: now.Add(f.RefundAfter), n: p.N, kind: KindRefund})
	}
}

// Minted is how many payments (paymentRequestIds) have been minted.
func (t *Targeter) Minted() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// Payment returns a copy of payment n's record.
func (t *Targeter) Payment(n uint64) Payment {
	t.mu.Lock()
	defer t.mu.Unlock()
	return *t.get(n)
}

// Sent is how many requests of each kind Next has handed out.
func (t *Targeter) Sent() [kindCount]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent
}

// Pending is how many scheduled follow-ups were not sent (yet).
func (t *Targeter) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.due)
}

// dueItem is a scheduled follow-up.
type dueItem struct {
	at   time.Time
	n    uint64
	kind Kind
}

// dueHeap is a min-heap on at, hand-rolled so a push does not box.
type dueHeap []dueItem

func (h *dueHeap) push(it dueItem) {
	*h = append(*h, it)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].at.Before(s[p].at) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *dueHeap) pop() dueItem {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s[l].at.Before(s[m].at) {
			m = l
		}
		if r < len(s) && s[r].at.Before(s[m].at) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
