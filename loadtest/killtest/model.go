package killtest

import (
	"math/rand/v2"
	"sort"
	"sync"
)

// Model is what the lanes sent and saw, across every cycle: the record the
// final check holds paycode and the ledgers to. A connection error or a
// timeout is "unknown" and asserts nothing.
type Model struct {
	mu       sync.Mutex
	pays     map[string]*PayReq // by paymentRequestId
	payOrder []*PayReq
	byPID    map[string]*PayReq
	refunds  map[string]*RefundReq // by refundRequestId
	refOrder []*RefundReq
	// Anomalies are answers that break the lane contract on their own
	// (HTTP status other than 200, an unparsable body).
	Anomalies []string
	// Regressions are successes lanes had seen that paycode answered as
	// something else after a restart (its outcome record was lost), each
	// payment once.
	Regressions []string
	regressed   map[string]bool
}

// PayReq is one paymentRequestId and everything lanes saw about it.
type PayReq struct {
	ReqID  string
	Client string
	Code   string // the full code: never print it, use codec.Mask
	Amount int64
	Last2  int
	Notify bool
	// ReuseOf is the request whose code this one reuses ("" if fresh).
	ReuseOf string

	PIDs     map[string]bool // every paymentId an answer carried
	Sent     int             // pay requests sent (first + replays)
	Unknown  int             // of them, without an answer
	Answered bool            // a definitive answer: with a paymentId, or an F
	// NoPayment: answered F without a paymentId (refused before
	// dispatch, e.g. a reused code): nothing may be charged for it.
	NoPayment  bool
	LastAnswer string // result code of the last answer

	SawSuccess bool   // a pay or inquiry answer said SUCCESS
	SawFail    bool   // a pay answer or an inquiry said FAIL (with a paymentId)
	SawFailAs  string // its result code
	// SawCancelled: a pay or inquiry answer said the payment was cancelled.
	SawCancelled bool
	CancelSent   bool  // a cancel was sent that paycode may have acted on
	cancels      int   // cancels sent and not answered ORDER_NOT_EXIST
	CancelOK     bool  // a cancel answered SUCCESS: accepted, nothing may stay charged
	RefundSent   int64 // sum of refund amounts sent, for choosing new ones
}

// PID returns the paymentId lanes saw ("" if none; the check reports more
// than one).
func (p *PayReq) PID() string {
	for id := range p.PIDs {
		return id
	}
	return ""
}

// RefundReq is one refundRequestId.
type RefundReq struct {
	ReqID      string
	Client     string
	PaymentID  string
	PayReqID   string
	Amount     int64
	Sent       int
	Unknown    int
	Answered   bool   // a definitive answer (S, or F; U means in process)
	RefundID   string // from an answer
	SawSuccess bool
	SawFail    bool
	LastAnswer string
}

// NewModel returns an empty model.
func NewModel() *Model {
	return &Model{pays: map[string]*PayReq{}, byPID: map[string]*PayReq{}, refunds: map[string]*RefundReq{}}
}

// AddPay registers a new pay request before it is sent.
func (m *Model) AddPay(p *PayReq) {
	p.PIDs = map[string]bool{}
	m.mu.Lock()
	m.pays[p.ReqID] = p
	m.payOrder = append(m.payOrder, p)
	m.mu.Unlock()
}

// AddRefund registers a new refund request before it is sent.
func (m *Model) AddRefund(r *RefundReq) {
	m.mu.Lock()
	m.refunds[r.ReqID] = r
	m.refOrder = append(m.refOrder, r)
	if p := m.byPID[r.PaymentID]; p != nil {
		p.RefundSent += r.Amount
	}
	m.mu.Unlock()
}

// Answer is a lane API answer, decoded; nil means unknown (no answer).
type Answer struct {
	Status, Code  string // result.resultStatus, result.resultCode
	PaymentID     string
	PaymentStatus string // inquiryPayment
	RefundID      string
	RefundStatus  string // inquiryRefund
	RequestID     string // paymentRequestId of inquiryPayment
	Notify        bool
}

// RecordPay records the answer to a pay (a first send or a replay).
func (m *Model) RecordPay(p *PayReq, a *Answer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p.Sent++
	if a == nil {
		p.Unknown++
		return
	}
	p.LastAnswer = a.Code
	if a.PaymentID != "" {
		p.PIDs[a.PaymentID] = true
		m.byPID[a.PaymentID] = p
		p.Answered = true
	}
	switch a.Status {
	case "S":
		if a.Code == "SUCCESS" && a.PaymentID != "" {
			p.SawSuccess = true
		}
	case "F":
		p.Answered = true
		switch {
		case a.PaymentID != "" && a.Code == "ORDER_IS_CANCELED":
			p.SawCancelled = true
		case a.PaymentID != "":
			p.SawFail, p.SawFailAs = true, a.Code
		default:
			p.NoPayment = true
		}
	}
}

// RecordInquiry records an inquiryPayment answer.
func (m *Model) RecordInquiry(p *PayReq, a *Answer) {
	if a == nil || a.Code != "SUCCESS" || a.PaymentID == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p.PIDs[a.PaymentID] = true
	m.byPID[a.PaymentID] = p
	p.Answered = true
	switch a.PaymentStatus {
	case "SUCCESS":
		p.SawSuccess = true
	case "FAIL":
		p.SawFail, p.SawFailAs = true, "FAIL"
	case "CANCELLED":
		p.SawCancelled = true
	}
}

// MarkCancel records that a cancel is about to be sent for p.
func (m *Model) MarkCancel(p *PayReq) {
	m.mu.Lock()
	p.cancels++
	p.CancelSent = true
	m.mu.Unlock()
}

// RecordCancel records a cancel's answer.
func (m *Model) RecordCancel(p *PayReq, a *Answer) {
	if a == nil {
		return // unknown: it may have been acted on
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if a.Code == "ORDER_NOT_EXIST" {
		// Not acted on (by paymentId: the payment did not exist any more
		// after a crash before its intent was journaled).
		p.cancels--
		p.CancelSent = p.cancels > 0
		return
	}
	if a.Status == "S" {
		p.CancelOK = true
	}
	if a.PaymentID != "" {
		p.PIDs[a.PaymentID] = true
		m.byPID[a.PaymentID] = p
	}
}

// RecordRefund records a refund's answer.
func (m *Model) RecordRefund(r *RefundReq, a *Answer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.Sent++
	if a == nil {
		r.Unknown++
		return
	}
	r.LastAnswer = a.Code
	if a.RefundID != "" {
		r.RefundID = a.RefundID
	}
	switch a.Status {
	case "S":
		r.Answered, r.SawSuccess = true, true
	case "F":
		r.Answered, r.SawFail = true, true
	}
}

// Anomaly records a broken answer.
func (m *Model) Anomaly(s string) {
	m.mu.Lock()
	if len(m.Anomalies) < 100 {
		m.Anomalies = append(m.Anomalies, s)
	}
	m.mu.Unlock()
}

// Regressed records a lane-seen success of pid answered otherwise; it
// reports whether pid was new.
func (m *Model) Regressed(pid, s string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.regressed[pid] {
		return false
	}
	if m.regressed == nil {
		m.regressed = map[string]bool{}
	}
	m.regressed[pid] = true
	m.Regressions = append(m.Regressions, s)
	return true
}

// Successes lists the requests a lane saw succeed and never cancelled,
// with their paymentId.
func (m *Model) Successes() (reqs []*PayReq, pids []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.payOrder {
		if p.SawSuccess && !p.CancelSent && len(p.PIDs) == 1 {
			reqs = append(reqs, p)
			pids = append(pids, p.PID())
		}
	}
	return reqs, pids
}

// pick returns a random element of s matching ok (nil if none in a few
// tries), without scanning everything.
func pick[T any](rng *rand.Rand, s []*T, ok func(*T) bool) *T {
	if len(s) == 0 {
		return nil
	}
	for range 8 {
		// Prefer recent entries: half the picks come from the last 200.
		lo := 0
		if rng.IntN(2) == 0 && len(s) > 200 {
			lo = len(s) - 200
		}
		v := s[lo+rng.IntN(len(s)-lo)]
		if ok(v) {
			return v
		}
	}
	return nil
}

// PickPay picks an earlier pay request matching ok.
func (m *Model) PickPay(rng *rand.Rand, ok func(*PayReq) bool) *PayReq {
	m.mu.Lock()
	defer m.mu.Unlock()
	return pick(rng, m.payOrder, ok)
}

// PickRefund picks an earlier refund request matching ok.
func (m *Model) PickRefund(rng *rand.Rand, ok func(*RefundReq) bool) *RefundReq {
	m.mu.Lock()
	defer m.mu.Unlock()
	return pick(rng, m.refOrder, ok)
}

// Unanswered lists the pay and refund requests that never got a
// definitive answer: lanes send them again after a restart, as a real
// lane retries with the same request id.
func (m *Model) Unanswered() (pays []*PayReq, refunds []*RefundReq) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.payOrder {
		if !p.Answered {
			pays = append(pays, p)
		}
	}
	for _, r := range m.refOrder {
		if !r.Answered {
			refunds = append(refunds, r)
		}
	}
	return pays, refunds
}

// Pays returns every pay request (sorted by request id); read them only
// once the lanes have stopped.
func (m *Model) Pays() []*PayReq {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]*PayReq(nil), m.payOrder...)
	sort.Slice(out, func(i, j int) bool { return out[i].ReqID < out[j].ReqID })
	return out
}

// Refunds returns every refund request (sorted by request id).
func (m *Model) Refunds() []*RefundReq {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]*RefundReq(nil), m.refOrder...)
	sort.Slice(out, func(i, j int) bool { return out[i].ReqID < out[j].ReqID })
	return out
}

// ByPID returns the request that carried paymentId pid (nil if none).
func (m *Model) ByPID(pid string) *PayReq {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byPID[pid]
}

// Link records that an inquiry found pid under p (used by the check for
// ledger entries no lane answer carried).
func (m *Model) Link(p *PayReq, pid string) {
	m.mu.Lock()
	p.PIDs[pid] = true
	m.byPID[pid] = p
	m.mu.Unlock()
}
