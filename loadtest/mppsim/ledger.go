package mppsim

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

// State is a payment's state in a wallet's ledger.
type State uint8

const (
	StateProcessing State = iota + 1 // waiting for the user's password
	StateSuccess                     // charged
	StateFail                        // not charged; Entry.Result says why
	StateClosed                      // cancelled before any charge (or a tombstone)
	StateReversed                    // cancelled after the charge: money returned
)

var stateNames = [...]string{"", "PROCESSING", "SUCCESS", "FAIL", "CLOSED", "REVERSED"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return ""
}

func parseState(b []byte) (State, bool) {
	for i := 1; i < len(stateNames); i++ {
		if string(b) == stateNames[i] {
			return State(i), true
		}
	}
	return 0, false
}

// Ledger is a snapshot of one wallet's books.
type Ledger struct {
	Wallet   string
	At       time.Time        // the wallet's clock when the snapshot was taken
	Payments map[string]Entry // by paymentRequestId (the engine's paymentId)
}

// Entry is one payment in a ledger.
type Entry struct {
	PaymentRequestID string
	PaymentID        string     // the wallet's id; "" for a tombstone
	Code             codec.Code // zero when the entry came over HTTP (codes are served masked)
	CodeMasked       string     // the masked code, always set ("" for a tombstone)
	Amount           codec.Amount
	// Order is the pay's order description as the wallet received it
	// (load runs put their paymentRequestId there, to find their own
	// entries in a shared ledger).
	Order string
	State State
	// Result is the payment's own result: SUCCESS, PAYMENT_IN_PROCESS,
	// the failure reason, or ORDER_IS_CLOSED when cancelled.
	Result    codec.ResultCode
	Charged   int64 // amount taken from the user (kept after a reversal, which State shows)
	Refunded  int64 // sum of successful refunds
	Created   time.Time
	PaidAt    time.Time // when charged
	ClosedAt  time.Time // when cancelled
	Tombstone bool      // cancelled before the wallet saw any pay with this id
	Refunds   map[string]Refund
}

// Held is what the wallet still holds from the user for this payment.
func (e Entry) Held() int64 {
	if e.State == StateReversed {
		return 0
	}
	return e.Charged - e.Refunded
}

// Refund is one refund request in a ledger.
type Refund struct {
	RefundRequestID string
	RefundID        string // "" unless successful
	Amount          codec.Amount
	Result          codec.ResultCode // SUCCESS or REFUND_AMOUNT_EXCEED
	At              time.Time
}

// Ledger returns a consistent snapshot, taken under the wallet's lock
// after settling password payments whose time has come.
func (w *Wallet) Ledger() Ledger {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	l := Ledger{Wallet: w.cfg.Name, At: now, Payments: make(map[string]Entry, len(w.pays))}
	for id, p := range w.pays {
		w.settle(p, now)
		e := Entry{
			PaymentRequestID: p.reqID, PaymentID: p.walletID, Code: p.code, Amount: p.amount, State: p.state,
			Result: p.answer(), Charged: p.charged, Refunded: p.refunded, Created: p.created, PaidAt: p.paidAt,
			ClosedAt: p.closedAt, Tombstone: p.tombstone, Order: p.order,
		}
		if !p.code.IsZero() {
			e.CodeMasked = p.code.String()
		}
		if len(p.refunds) > 0 {
			e.Refunds = make(map[string]Refund, len(p.refunds))
			for _, rid := range p.refunds {
				rf := w.refunds[rid]
				e.Refunds[rid] = Refund{RefundRequestID: rid, RefundID: rf.refundID, Amount: rf.amount, Result: rf.result, At: rf.at}
			}
		}
		l.Payments[id] = e
	}
	return l
}

// AppendJSON appends l as JSON: payments sorted by id, codes masked,
// times RFC 3339 with nanoseconds, amounts as strings of minor units.
func (l *Ledger) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = codec.AppendStringField(dst, "wallet", l.Wallet)
	dst = appendTime(dst, "at", l.At)
	dst = append(dst, `,"payments":`...)
	dst = appendSorted(dst, l.Payments, appendEntry)
	return append(dst, '}')
}

func appendEntry(dst []byte, e Entry) []byte {
	dst = append(dst, '{')
	dst = codec.AppendStringField(dst, "paymentRequestId", e.PaymentRequestID)
	dst = codec.AppendStringField(dst, "paymentId", e.PaymentID)
	dst = codec.AppendStringField(dst, "code", e.CodeMasked)
	dst = appendAmount(dst, "amount", e.Amount)
	dst = codec.AppendStringField(dst, "order", e.Order)
	dst = codec.AppendStringField(dst, "state", e.State.String())
	dst = codec.AppendStringField(dst, "result", e.Result.String())
	dst = appendInt(dst, "charged", e.Charged)
	dst = appendInt(dst, "refunded", e.Refunded)
	dst = appendTime(dst, "created", e.Created)
	dst = appendTime(dst, "paidAt", e.PaidAt)
	dst = appendTime(dst, "closedAt", e.ClosedAt)
	dst = append(codec.AppendKey(dst, "tombstone"), strconv.FormatBool(e.Tombstone)...)
	dst = append(dst, `,"refunds":`...)
	dst = appendSorted(dst, e.Refunds, appendRefund)
	return append(dst, '}')
}

func appendRefund(dst []byte, rf Refund) []byte {
	dst = append(dst, '{')
	dst = codec.AppendStringField(dst, "refundRequestId", rf.RefundRequestID)
	dst = codec.AppendStringField(dst, "refundId", rf.RefundID)
	dst = codec.AppendAmountField(dst, "amount", rf.Amount)
	dst = codec.AppendStringField(dst, "result", rf.Result.String())
	dst = appendTime(dst, "at", rf.At)
	return append(dst, '}')
}

// appendSorted appends m's values as a JSON array in key order, each
// written by appendOne.
func appendSorted[V any](dst []byte, m map[string]V, appendOne func([]byte, V) []byte) []byte {
	dst = append(dst, '[')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendOne(dst, m[k])
	}
	return append(dst, ']')
}

// appendAmount writes null for no amount (a tombstone's).
func appendAmount(dst []byte, key string, a codec.Amount) []byte {
	if !a.Currency.Valid() {
		return append(codec.AppendKey(dst, key), "null"...)
	}
	return codec.AppendAmountField(dst, key, a)
}

func appendInt(dst []byte, key string, v int64) []byte {
	return strconv.AppendInt(codec.AppendKey(dst, key), v, 10)
}

func appendTime(dst []byte, key string, t time.Time) []byte {
	dst = append(codec.AppendKey(dst, key), '"')
	if !t.IsZero() {
		dst = t.AppendFormat(dst, time.RFC3339Nano)
	}
	return append(dst, '"')
}

// ErrLedger is a ledger document that cannot be read.
var ErrLedger = errors.New("mppsim: malformed ledger")

// ParseLedger reads what AppendJSON wrote (and GET LedgerPath serves).
// Entries' Code is zero: only CodeMasked travels.
func ParseLedger(b []byte) (Ledger, error) {
	var p fastjson.Parser
	v, err := p.ParseBytes(b)
	if err != nil {
		return Ledger{}, fmt.Errorf("%w: not JSON", ErrLedger)
	}
	var pe ledgerParse
	l := Ledger{Wallet: string(v.GetStringBytes("wallet")), At: pe.time(v, "at"), Payments: map[string]Entry{}}
	for _, pv := range v.GetArray("payments") {
		e := Entry{
			PaymentRequestID: string(pv.GetStringBytes("paymentRequestId")),
			PaymentID:        string(pv.GetStringBytes("paymentId")),
			CodeMasked:       string(pv.GetStringBytes("code")),
			Amount:           pe.amount(pv.Get("amount")),
			Order:            string(pv.GetStringBytes("order")),
			Result:           pe.result(pv, "result"),
			Charged:          pv.GetInt64("charged"),
			Refunded:         pv.GetInt64("refunded"),
			Created:          pe.time(pv, "created"),
			PaidAt:           pe.time(pv, "paidAt"),
			ClosedAt:         pe.time(pv, "closedAt"),
			Tombstone:        pv.GetBool("tombstone"),
		}
		var ok bool
		if e.State, ok = parseState(pv.GetStringBytes("state")); !ok {
			pe.fail("state")
		}
		for _, rv := range pv.GetArray("refunds") {
			if e.Refunds == nil {
				e.Refunds = map[string]Refund{}
			}
			rf := Refund{
				RefundRequestID: string(rv.GetStringBytes("refundRequestId")),
				RefundID:        string(rv.GetStringBytes("refundId")),
				Amount:          pe.amount(rv.Get("amount")),
				Result:          pe.result(rv, "result"),
				At:              pe.time(rv, "at"),
			}
			e.Refunds[rf.RefundRequestID] = rf
		}
		l.Payments[e.PaymentRequestID] = e
	}
	return l, pe.err
}

type ledgerParse struct{ err error }

func (pe *ledgerParse) fail(field string) {
	if pe.err == nil {
		pe.err = fmt.Errorf("%w: bad %s", ErrLedger, field)
	}
}

func (pe *ledgerParse) time(v *fastjson.Value, key string) time.Time {
	s := v.GetStringBytes(key)
	if len(s) == 0 {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		pe.fail(key)
	}
	return t
}

func (pe *ledgerParse) amount(v *fastjson.Value) codec.Amount {
	var a codec.Amount
	if v == nil || v.Type() == fastjson.TypeNull {
		return a
	}
	var err error
	if a.Currency, err = codec.ParseCurrency(v.GetStringBytes("currency")); err != nil {
		pe.fail("amount")
	}
	if a.Value, err = codec.ParseAmountValue(v.GetStringBytes("value")); err != nil {
		pe.fail("amount")
	}
	return a
}

func (pe *ledgerParse) result(v *fastjson.Value, key string) codec.ResultCode {
	r, ok := codec.LookupResult(v.GetStringBytes(key))
	if !ok {
		pe.fail(key)
	}
	return r
}

// FetchLedger GETs a wallet's ledger from its base URL (Sim.URL), for a
// load tool in another process.
func FetchLedger(baseURL string, timeout time.Duration) (Ledger, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(baseURL + LedgerPath)
	if err := fasthttp.DoTimeout(req, resp, timeout); err != nil {
		return Ledger{}, fmt.Errorf("mppsim: fetch ledger: %w", err)
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		return Ledger{}, fmt.Errorf("mppsim: fetch ledger: HTTP %d", resp.StatusCode())
	}
	return ParseLedger(resp.Body())
}
