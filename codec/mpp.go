package codec

import (
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// Wallet (MPP) API messages, spec §7: what paycode sends a wallet and what
// the wallet answers, in the Alipay+ shape. Both sides use them: the
// connector (engine/mpp) writes requests and parses responses, the
// simulated wallets (loadtest/mppsim) parse requests and write responses.
//
// Like the lane messages, values are reusable: parsers Reset them and copy
// every field into the value's own buffers, so a pooled value never aliases
// the parser's memory or the body, and a warm value parses without
// allocating. Byte-slice fields are valid until the next Reset. Writers
// append to caller-owned buffers and omit empty optional fields (Alipay+
// asks that optional fields are never sent as "").
//
// Parsers are strict about what they read — types, lengths, currencies,
// amounts, times, the fixed vocabulary — and ignore members they do not
// know, so a wallet may add fields without breaking paycode. Every parse
// error is a *FieldError (the lane parsers' type) naming the JSON path and
// unwrapping to ErrSyntax, ErrMissing, ErrType, ErrTooLong, ErrValue,
// ErrCurrency, ErrAmountFormat or ErrAmountRange; none carries a value.

// MPP API paths (spec §7.1), served by every wallet.
const (
	MPPPayPath     = "/aps/api/v1/payments/pay"
	MPPInquiryPath = "/aps/api/v1/payments/inquiryPayment"
	MPPCancelPath  = "/aps/api/v1/payments/cancelPayment"
	MPPRefundPath  = "/aps/api/v1/payments/refund"
)

// Fixed values of every UPM pay request. The writer always sends them and
// the parser rejects anything else, so they are not fields of MPPPayRequest.
const (
	MPPPaymentMethodType = "CONNECT_WALLET" // paymentMethod.paymentMethodType
	MPPScenario          = "PaymentCode"    // paymentFactor.inStorePaymentScenario
)

// MaxResultCodeLen bounds result.resultCode (spec §1.1).
const MaxResultCodeLen = 64

// ErrMPPTime is a time field that is not RFC 3339. Like every MPP parse
// error it comes wrapped in a *FieldError naming the field, and it matches
// errors.Is(err, ErrValue).
var ErrMPPTime = fmt.Errorf("%w: time is not RFC 3339 (ISO 8601 with offset)", ErrValue)

// MPPResult is the Alipay+ result object (spec §1.1).
type MPPResult struct {
	// Code is resultCode from the table, ResultNone when the wallet sent a
	// name the table does not know (Name then holds it).
	Code ResultCode
	// Name is resultCode as sent. The writer uses it only when Code is
	// ResultNone.
	Name []byte
	// Status is resultStatus, 'S', 'F' or 'U'. It comes from the wire, not
	// the table: a wallet's status wins. The writer uses Code.Status()
	// when it is 0.
	Status byte
	// Message is resultMessage; the writer uses Code.Message() when empty.
	Message []byte
}

// Set makes r the table's result for c, with c's default message.
func (r *MPPResult) Set(c ResultCode) {
	*r = MPPResult{Code: c, Name: r.Name[:0], Status: c.Status(), Message: r.Message[:0]}
}

// Reset clears r, keeping its buffers.
func (r *MPPResult) Reset() { r.Set(ResultNone) }

// MPPPayRequest is the UPM pay request paycode sends a wallet.
type MPPPayRequest struct {
	AcquirerID []byte
	PSPID      []byte
	// PaymentRequestID is the engine's paymentId: the wallet's idempotency
	// key for the payment.
	PaymentRequestID []byte
	Amount           Amount // paymentAmount
	// Code is paymentMethod.paymentMethodId. As in the lane API, a present
	// but malformed code is not a parse error: CodeErr says why, so a
	// wallet can answer INVALID_PAYMENT_CODE.
	Code             Code
	CodeErr          error
	OrderDescription []byte    // order.orderDescription, optional
	MerchantID       []byte    // order.merchant.referenceMerchantId
	StoreID          []byte    // order.merchant.store.referenceStoreId
	TerminalID       []byte    // order.env.storeTerminalId, optional
	ExpiryTime       time.Time // paymentExpiryTime, optional (zero: omitted)
}

// Reset clears r, keeping its buffers.
func (r *MPPPayRequest) Reset() {
	*r = MPPPayRequest{
		AcquirerID: r.AcquirerID[:0], PSPID: r.PSPID[:0], PaymentRequestID: r.PaymentRequestID[:0],
		OrderDescription: r.OrderDescription[:0], MerchantID: r.MerchantID[:0],
		StoreID: r.StoreID[:0], TerminalID: r.TerminalID[:0],
	}
}

// MPPPayResponse is a wallet's answer to pay. PaymentID and PaymentTime are
// required when Result.Status is S.
type MPPPayResponse struct {
	Result           MPPResult
	PSPID            []byte
	PaymentRequestID []byte    // optional: when present, the request's own id
	PaymentID        []byte    // the wallet's own id for the payment
	PaymentTime      time.Time // when it was paid
	Amount           Amount    // paymentAmount, optional
	CustomerID       []byte
	WalletBrandName  []byte
}

// Reset clears r, keeping its buffers.
func (r *MPPPayResponse) Reset() {
	r.Result.Reset()
	*r = MPPPayResponse{
		Result: r.Result, PSPID: r.PSPID[:0], PaymentRequestID: r.PaymentRequestID[:0], PaymentID: r.PaymentID[:0],
		CustomerID: r.CustomerID[:0], WalletBrandName: r.WalletBrandName[:0],
	}
}

// MPPIDRequest is the body of inquiryPayment and cancelPayment.
type MPPIDRequest struct {
	PaymentRequestID []byte
}

// Reset clears r, keeping its buffer.
func (r *MPPIDRequest) Reset() { r.PaymentRequestID = r.PaymentRequestID[:0] }

// MPPInquiryResponse is the answer to inquiryPayment. Result is the query's
// own result (SUCCESS, or F ORDER_NOT_EXIST for an id the wallet never
// saw); PaymentResult is the payment's outcome and is required when Result
// is S. A cancelled or reversed payment shows PaymentResult F
// ORDER_IS_CLOSED. PaymentID and PaymentTime are required when
// PaymentResult is S.
type MPPInquiryResponse struct {
	Result           MPPResult
	PaymentResult    MPPResult
	PaymentRequestID []byte // optional: when present, the inquired id
	PaymentID        []byte
	PaymentTime      time.Time
	Amount           Amount
	CustomerID       []byte
	WalletBrandName  []byte
}

// Reset clears r, keeping its buffers.
func (r *MPPInquiryResponse) Reset() {
	r.Result.Reset()
	r.PaymentResult.Reset()
	*r = MPPInquiryResponse{
		Result: r.Result, PaymentResult: r.PaymentResult, PaymentRequestID: r.PaymentRequestID[:0], PaymentID: r.PaymentID[:0],
		CustomerID: r.CustomerID[:0], WalletBrandName: r.WalletBrandName[:0],
	}
}

// MPPCancelResponse is the answer to cancelPayment: S means the wallet
// holds no charge for the payment (closed, or reversed in full).
type MPPCancelResponse struct {
	Result MPPResult
}

// Reset clears r, keeping its buffers.
func (r *MPPCancelResponse) Reset() { r.Result.Reset() }

// MPPRefundRequest refunds part or all of a successful payment.
type MPPRefundRequest struct {
	PaymentRequestID []byte
	RefundRequestID  []byte // the engine's refundId: the idempotency key
	Amount           Amount // refundAmount
	Reason           []byte // refundReason, optional
}

// Reset clears r, keeping its buffers.
func (r *MPPRefundRequest) Reset() {
	*r = MPPRefundRequest{
		PaymentRequestID: r.PaymentRequestID[:0], RefundRequestID: r.RefundRequestID[:0], Reason: r.Reason[:0],
	}
}

// MPPRefundResponse is the answer to refund. RefundID and RefundTime are
// required when Result.Status is S.
type MPPRefundResponse struct {
	Result     MPPResult
	RefundID   []byte
	RefundTime time.Time
	Amount     Amount // refundAmount, optional
}

// Reset clears r, keeping its buffers.
func (r *MPPRefundResponse) Reset() {
	r.Result.Reset()
	*r = MPPRefundResponse{Result: r.Result, RefundID: r.RefundID[:0]}
}

// --- writers ---

// AppendMPPResult appends the result object of r.
func AppendMPPResult(dst []byte, r *MPPResult) []byte {
	dst = append(dst, `{"resultCode":`...)
	if r.Code != ResultNone {
		dst = AppendJSONString(dst, r.Code.String())
	} else {
		dst = AppendJSONString(dst, r.Name)
	}
	st := r.Status
	if st == 0 {
		st = r.Code.Status()
	}
	dst = append(dst, `,"resultStatus":"`...)
	dst = append(dst, st, '"')
	dst = append(dst, `,"resultMessage":`...)
	if len(r.Message) == 0 {
		dst = AppendJSONString(dst, r.Code.Message())
	} else {
		dst = AppendJSONString(dst, r.Message)
	}
	return append(dst, '}')
}

// AppendMPPPayRequest appends r as JSON. It does not allocate beyond dst's
// growth. The code's digits are written in full: the body is for the
// wallet only and must never be logged.
func AppendMPPPayRequest(dst []byte, r *MPPPayRequest) []byte {
	dst = append(dst, '{')
	dst = AppendStringField(dst, "acquirerId", r.AcquirerID)
	dst = AppendStringField(dst, "pspId", r.PSPID)
	dst = AppendStringField(dst, "paymentRequestId", r.PaymentRequestID)
	dst = AppendAmountField(dst, "paymentAmount", r.Amount)
	dst = append(dst, `,"paymentMethod":{"paymentMethodType":"`+MPPPaymentMethodType+`","paymentMethodId":"`...)
	dst = r.Code.AppendDigits(dst)
	dst = append(dst, `"},"paymentFactor":{"inStorePaymentScenario":"`+MPPScenario+`","isInStorePayment":"true"},"order":{`...)
	dst = optStringField(dst, "orderDescription", r.OrderDescription)
	dst = AppendKey(dst, "merchant")
	dst = append(dst, '{')
	dst = AppendStringField(dst, "referenceMerchantId", r.MerchantID)
	dst = append(dst, `,"store":{`...)
	dst = AppendStringField(dst, "referenceStoreId", r.StoreID)
	dst = append(dst, `}}`...)
	if len(r.TerminalID) > 0 {
		dst = append(dst, `,"env":{`...)
		dst = AppendStringField(dst, "storeTerminalId", r.TerminalID)
		dst = append(dst, '}')
	}
	dst = append(dst, '}')
	dst = optTimeField(dst, "paymentExpiryTime", r.ExpiryTime)
	return append(dst, '}')
}

// AppendMPPPayResponse appends r as JSON.
func AppendMPPPayResponse(dst []byte, r *MPPPayResponse) []byte {
	dst = append(dst, `{"result":`...)
	dst = AppendMPPResult(dst, &r.Result)
	dst = optStringField(dst, "pspId", r.PSPID)
	dst = mppPaymentFields(dst, r.PaymentID, r.PaymentTime, r.Amount, r.CustomerID, r.WalletBrandName)
	return append(dst, '}')
}

// AppendMPPIDRequest appends an inquiryPayment or cancelPayment body.
func AppendMPPIDRequest(dst []byte, r *MPPIDRequest) []byte {
	dst = append(dst, '{')
	dst = AppendStringField(dst, "paymentRequestId", r.PaymentRequestID)
	return append(dst, '}')
}

// AppendMPPInquiryResponse appends r as JSON; paymentResult is written
// when its status is set.
func AppendMPPInquiryResponse(dst []byte, r *MPPInquiryResponse) []byte {
	dst = append(dst, `{"result":`...)
	dst = AppendMPPResult(dst, &r.Result)
	if r.PaymentResult.Status != 0 || r.PaymentResult.Code != ResultNone {
		dst = append(dst, `,"paymentResult":`...)
		dst = AppendMPPResult(dst, &r.PaymentResult)
	}
	dst = mppPaymentFields(dst, r.PaymentID, r.PaymentTime, r.Amount, r.CustomerID, r.WalletBrandName)
	return append(dst, '}')
}

// AppendMPPCancelResponse appends r as JSON.
func AppendMPPCancelResponse(dst []byte, r *MPPCancelResponse) []byte {
	dst = append(dst, `{"result":`...)
	dst = AppendMPPResult(dst, &r.Result)
	return append(dst, '}')
}

// AppendMPPRefundRequest appends r as JSON.
func AppendMPPRefundRequest(dst []byte, r *MPPRefundRequest) []byte {
	dst = append(dst, '{')
	dst = AppendStringField(dst, "paymentRequestId", r.PaymentRequestID)
	dst = AppendStringField(dst, "refundRequestId", r.RefundRequestID)
	dst = AppendAmountField(dst, "refundAmount", r.Amount)
	dst = optStringField(dst, "refundReason", r.Reason)
	return append(dst, '}')
}

// AppendMPPRefundResponse appends r as JSON.
func AppendMPPRefundResponse(dst []byte, r *MPPRefundResponse) []byte {
	dst = append(dst, `{"result":`...)
	dst = AppendMPPResult(dst, &r.Result)
	dst = optStringField(dst, "refundId", r.RefundID)
	dst = optTimeField(dst, "refundTime", r.RefundTime)
	dst = optAmountField(dst, "refundAmount", r.Amount)
	return append(dst, '}')
}

func mppPaymentFields(dst, id []byte, at time.Time, a Amount, customer, brand []byte) []byte {
	dst = optStringField(dst, "paymentId", id)
	dst = optTimeField(dst, "paymentTime", at)
	dst = optAmountField(dst, "paymentAmount", a)
	dst = optStringField(dst, "customerId", customer)
	return optStringField(dst, "walletBrandName", brand)
}

// --- parsers ---

// mppReader reads members of a parsed message, keeping the first error so
// a parser reads as a straight list of fields. Reads after an error are
// no-ops. Members are named by their parent's path and their key; the
// dotted field name is only built for an error, so reading allocates
// nothing.
//
// Readers are pooled with their fastjson parser for every MPP message: the
// messages are small and alike, so one pool keeps the parsers' caches warm.
// A parser takes one with openMPP and gives it back with close.
type mppReader struct {
	p    fastjson.Parser
	err  error
	keys [][]byte // the keys of the object being checked (unique)
}

var mppReaders = sync.Pool{New: func() any { return new(mppReader) }}

// openMPP takes a reader from the pool and parses body with it (see root).
// v is nil when body is not a JSON object; reads of v are then no-ops and
// rd.err says why. The values read from v point into the reader's parser
// until rd.close.
func openMPP(body []byte) (rd *mppReader, v *fastjson.Value) {
	rd = mppReaders.Get().(*mppReader)
	return rd, rd.root(body)
}

// close gives rd back to the pool; the parser's values die with it.
func (rd *mppReader) close() {
	rd.err = nil
	mppReaders.Put(rd)
}

func (rd *mppReader) fail(path, key string, err error) {
	if rd.err != nil {
		return
	}
	field := key
	if path != "" {
		field = path + "." + key
	}
	rd.err = &FieldError{Field: field, Err: err}
}

// root parses body and checks it is an object of valid UTF-8 (JSON text
// must be, and the writers replace bad bytes, so accepting them would break
// round trips). fastjson's own error quotes the input, which may hold a
// code, so only the sentinel is reported.
func (rd *mppReader) root(body []byte) *fastjson.Value {
	if !utf8.Valid(body) {
		rd.fail("", "", ErrSyntax)
		return nil
	}
	v, err := rd.p.ParseBytes(body)
	switch {
	case err != nil:
		rd.fail("", "", ErrSyntax)
		return nil
	case v.Type() != fastjson.TypeObject:
		rd.fail("", "", ErrType)
		return nil
	}
	return rd.unique(v, "", "")
}

// unique returns object v (member key of path), or nil after failing with ErrDuplicateKey when
// a key occurs twice in it. fastjson keeps duplicates and Get returns the
// first, while most JSON readers keep the last: an answer such as
// {"result":{…"S"},"result":{…"F"}} would mean success to paycode and
// failure to anything else that reads it (a log, an audit, a proxy), so
// an ambiguous message is refused, as the lane parser refuses one
// (parse.go); for a wallet answer that leaves the outcome unknown, and
// inquiry settles it.
func (rd *mppReader) unique(v *fastjson.Value, path, key string) *fastjson.Value {
	keys := rd.keys[:0]
	v.GetObject().Visit(func(k []byte, _ *fastjson.Value) { keys = append(keys, k) })
	dup := laneDuplicate(keys)
	clear(keys) // the keys point into the parser's buffer
	rd.keys = keys[:0]
	if dup != nil {
		rd.fail(path, key, ErrDuplicateKey)
		return nil
	}
	return v
}

// member returns v's member key, or nil when v is nil or the member is
// absent or null. A missing required member is an error; an absent parent
// is not (its own requiredness was checked when it was read).
func (rd *mppReader) member(v *fastjson.Value, path, key string, required bool, t fastjson.Type) *fastjson.Value {
	if rd.err != nil || v == nil {
		return nil
	}
	m := v.Get(key)
	if m == nil || m.Type() == fastjson.TypeNull {
		if required {
			rd.fail(path, key, ErrMissing)
		}
		return nil
	}
	if m.Type() != t {
		rd.fail(path, key, ErrType)
		return nil
	}
	if t == fastjson.TypeString && len(m.GetStringBytes()) == 0 {
		// "" is "absent": Alipay+ never sends optional fields as "".
		if required {
			rd.fail(path, key, ErrMissing)
		}
		return nil
	}
	return m
}

func (rd *mppReader) obj(v *fastjson.Value, path, key string, required bool) *fastjson.Value {
	o := rd.member(v, path, key, required, fastjson.TypeObject)
	if o == nil {
		return nil
	}
	return rd.unique(o, path, key)
}

// str copies a string member into dst[:0].
func (rd *mppReader) str(dst []byte, v *fastjson.Value, path, key string, limit int, required bool) []byte {
	dst = dst[:0]
	m := rd.member(v, path, key, required, fastjson.TypeString)
	if m == nil {
		return dst
	}
	s := m.GetStringBytes()
	if len(s) > limit {
		rd.fail(path, key, ErrTooLong)
		return dst
	}
	return append(dst, s...)
}

// raw returns a string member without copying (valid until the parser is
// put back), for values that are checked rather than kept.
func (rd *mppReader) raw(v *fastjson.Value, path, key string, required bool) []byte {
	if m := rd.member(v, path, key, required, fastjson.TypeString); m != nil {
		return m.GetStringBytes()
	}
	return nil
}

func (rd *mppReader) fixed(v *fastjson.Value, path, key, want string) {
	if s := rd.raw(v, path, key, true); s != nil && string(s) != want {
		rd.fail(path, key, ErrValue)
	}
}

// amount reads the top-level amount object key.
func (rd *mppReader) amount(v *fastjson.Value, key string, required bool) Amount {
	o := rd.obj(v, "", key, required)
	if o == nil {
		return Amount{}
	}
	var a Amount
	var err error
	if s := rd.raw(o, key, "currency", true); s != nil {
		if a.Currency, err = ParseCurrency(s); err != nil {
			rd.fail(key, "currency", err)
		}
	}
	if s := rd.raw(o, key, "value", true); s != nil {
		if a.Value, err = ParseAmountValue(s); err != nil {
			rd.fail(key, "value", err)
		}
	}
	return a
}

func (rd *mppReader) time(v *fastjson.Value, key string, required bool) time.Time {
	s := rd.raw(v, "", key, required)
	if s == nil {
		return time.Time{}
	}
	t, ok := parseMPPTime(s)
	if !ok {
		rd.fail("", key, ErrMPPTime)
	}
	return t
}

// result reads the top-level result object key into r.
func (rd *mppReader) result(v *fastjson.Value, key string, required bool, r *MPPResult) {
	o := rd.obj(v, "", key, required)
	if o == nil {
		return
	}
	r.Name = rd.str(r.Name, o, key, "resultCode", MaxResultCodeLen, true)
	r.Code, _ = LookupResult(r.Name)
	if st := rd.raw(o, key, "resultStatus", true); st != nil {
		if len(st) != 1 || (st[0] != StatusS && st[0] != StatusF && st[0] != StatusU) {
			rd.fail(key, "resultStatus", ErrValue)
		} else {
			r.Status = st[0]
		}
	}
	r.Message = rd.str(r.Message, o, key, "resultMessage", MaxDescriptionLen, false)
}

func (rd *mppReader) requireIfSuccess(st byte, key string, present bool) {
	if rd.err == nil && st == StatusS && !present {
		rd.fail("", key, ErrMissing)
	}
}

// paymentFields reads the payment members that pay and inquiryPayment
// answers share; paymentId and paymentTime are required when st (the
// payment's result status) is S.
func (rd *mppReader) paymentFields(v *fastjson.Value, st byte, id *[]byte, at *time.Time, a *Amount, customer, brand *[]byte) {
	*id = rd.str(*id, v, "", "paymentId", MaxIDLen, false)
	*at = rd.time(v, "paymentTime", false)
	*a = rd.amount(v, "paymentAmount", false)
	*customer = rd.str(*customer, v, "", "customerId", MaxShortFieldLen, false)
	*brand = rd.str(*brand, v, "", "walletBrandName", MaxShortFieldLen, false)
	rd.requireIfSuccess(st, "paymentId", len(*id) > 0)
	rd.requireIfSuccess(st, "paymentTime", !at.IsZero())
}

// ParseMPPPayRequest parses a pay request into r (Reset first). A
// malformed payment code sets r.CodeErr instead of failing; every other
// problem is a *FieldError.
func ParseMPPPayRequest(body []byte, r *MPPPayRequest) error {
	r.Reset()
	rd, v := openMPP(body)
	defer rd.close()
	r.AcquirerID = rd.str(r.AcquirerID, v, "", "acquirerId", MaxShortFieldLen, true)
	r.PSPID = rd.str(r.PSPID, v, "", "pspId", MaxShortFieldLen, true)
	r.PaymentRequestID = rd.str(r.PaymentRequestID, v, "", "paymentRequestId", MaxIDLen, true)
	r.Amount = rd.amount(v, "paymentAmount", true)
	pm := rd.obj(v, "", "paymentMethod", true)
	rd.fixed(pm, "paymentMethod", "paymentMethodType", MPPPaymentMethodType)
	if s := rd.raw(pm, "paymentMethod", "paymentMethodId", true); s != nil {
		r.Code, r.CodeErr = ParseCode(s)
	}
	pf := rd.obj(v, "", "paymentFactor", true)
	rd.fixed(pf, "paymentFactor", "inStorePaymentScenario", MPPScenario)
	if pf != nil && rd.err == nil {
		// Spec §0: scalars are strings, but accept a JSON true as the SDKs send it.
		switch b := pf.Get("isInStorePayment"); {
		case b == nil:
			rd.fail("paymentFactor", "isInStorePayment", ErrMissing)
		case b.Type() == fastjson.TypeTrue:
		case b.Type() == fastjson.TypeString && string(b.GetStringBytes()) == "true":
		default:
			rd.fail("paymentFactor", "isInStorePayment", ErrValue)
		}
	}
	o := rd.obj(v, "", "order", true)
	r.OrderDescription = rd.str(r.OrderDescription, o, "order", "orderDescription", MaxDescriptionLen, false)
	m := rd.obj(o, "order", "merchant", true)
	r.MerchantID = rd.str(r.MerchantID, m, "order.merchant", "referenceMerchantId", MaxShortFieldLen, true)
	st := rd.obj(m, "order.merchant", "store", true)
	r.StoreID = rd.str(r.StoreID, st, "order.merchant.store", "referenceStoreId", MaxShortFieldLen, true)
	env := rd.obj(o, "order", "env", false)
	r.TerminalID = rd.str(r.TerminalID, env, "order.env", "storeTerminalId", MaxShortFieldLen, false)
	r.ExpiryTime = rd.time(v, "paymentExpiryTime", false)
	return rd.err
}

// ParseMPPPayResponse parses a wallet's pay answer into r (Reset first).
func ParseMPPPayResponse(body []byte, r *MPPPayResponse) error {
	r.Reset()
	rd, v := openMPP(body)
	defer rd.close()
	rd.result(v, "result", true, &r.Result)
	r.PSPID = rd.str(r.PSPID, v, "", "pspId", MaxShortFieldLen, false)
	r.PaymentRequestID = rd.str(r.PaymentRequestID, v, "", "paymentRequestId", MaxIDLen, false)
	rd.paymentFields(v, r.Result.Status, &r.PaymentID, &r.PaymentTime, &r.Amount, &r.CustomerID, &r.WalletBrandName)
	return rd.err
}

// ParseMPPIDRequest parses an inquiryPayment or cancelPayment body.
func ParseMPPIDRequest(body []byte, r *MPPIDRequest) error {
	r.Reset()
	rd, v := openMPP(body)
	defer rd.close()
	r.PaymentRequestID = rd.str(r.PaymentRequestID, v, "", "paymentRequestId", MaxIDLen, true)
	return rd.err
}

// ParseMPPInquiryResponse parses an inquiryPayment answer into r.
func ParseMPPInquiryResponse(body []byte, r *MPPInquiryResponse) error {
	r.Reset()
	rd, v := openMPP(body)
	defer rd.close()
	rd.result(v, "result", true, &r.Result)
	rd.result(v, "paymentResult", r.Result.Status == StatusS, &r.PaymentResult)
	r.PaymentRequestID = rd.str(r.PaymentRequestID, v, "", "paymentRequestId", MaxIDLen, false)
	rd.paymentFields(v, r.PaymentResult.Status, &r.PaymentID, &r.PaymentTime, &r.Amount, &r.CustomerID, &r.WalletBrandName)
	return rd.err
}

// ParseMPPCancelResponse parses a cancelPayment answer into r.
func ParseMPPCancelResponse(body []byte, r *MPPCancelResponse) error {
	r.Reset()
	rd, v := openMPP(body)
	defer rd.close()
	rd.result(v, "result", true, &r.Result)
	return rd.err
}

// ParseMPPRefundRequest parses a refund request into r.
func ParseMPPRefundRequest(body []byte, r *MPPRefundRequest) error {
	r.Reset()
	rd, v := openMPP(body)
	defer rd.close()
	r.PaymentRequestID = rd.str(r.PaymentRequestID, v, "", "paymentRequestId", MaxIDLen, true)
	r.RefundRequestID = rd.str(r.RefundRequestID, v, "", "refundRequestId", MaxIDLen, true)
	r.Amount = rd.amount(v, "refundAmount", true)
	r.Reason = rd.str(r.Reason, v, "", "refundReason", MaxDescriptionLen, false)
	return rd.err
}

// ParseMPPRefundResponse parses a refund answer into r.
func ParseMPPRefundResponse(body []byte, r *MPPRefundResponse) error {
	r.Reset()
	rd, v := openMPP(body)
	defer rd.close()
	rd.result(v, "result", true, &r.Result)
	r.RefundID = rd.str(r.RefundID, v, "", "refundId", MaxIDLen, false)
	r.RefundTime = rd.time(v, "refundTime", false)
	r.Amount = rd.amount(v, "refundAmount", false)
	rd.requireIfSuccess(r.Result.Status, "refundId", len(r.RefundID) > 0)
	rd.requireIfSuccess(r.Result.Status, "refundTime", !r.RefundTime.IsZero())
	return rd.err
}

// parseMPPTime parses RFC 3339 — "2019-11-27T12:01:01+08:00", with an
// optional fraction and Z for UTC — without allocating (time.Parse needs a
// string and builds a zone per offset). The instant is returned in UTC;
// the offset it was written with is not kept. Leap seconds are rejected.
func parseMPPTime(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := mppAtoi(b[0:4])
	month, ok2 := mppAtoi(b[5:7])
	day, ok3 := mppAtoi(b[8:10])
	hour, ok4 := mppAtoi(b[11:13])
	minute, ok5 := mppAtoi(b[14:16])
	sec, ok6 := mppAtoi(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > mppDaysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	i, nsec := 19, 0
	if b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if i-start < 9 {
				nsec = nsec*10 + int(b[i]-'0')
			}
			i++
		}
		n := i - start
		if n == 0 {
			return time.Time{}, false
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	if i >= len(b) {
		return time.Time{}, false
	}
	off := 0
	switch b[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(b)-i != 6 || b[i+3] != ':' {
			return time.Time{}, false
		}
		hh, okh := mppAtoi(b[i+1 : i+3])
		mm, okm := mppAtoi(b[i+4 : i+6])
		if !okh || !okm || hh > 23 || mm > 59 {
			return time.Time{}, false
		}
		off = hh*3600 + mm*60
		if b[i] == '-' {
			off = -off
		}
		i += 6
	default:
		return time.Time{}, false
	}
	if i != len(b) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).Add(-time.Duration(off) * time.Second)
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, false // an offset moved it out of four-digit years: not writable back
	}
	return t, true
}

func mppAtoi(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func mppDaysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
