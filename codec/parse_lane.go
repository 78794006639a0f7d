package codec

import (
	"bytes"

	"github.com/valyala/fastjson"
)

// Fixed values of a UPM pay request (spec §1.3), in Antom's spelling.
// They are matched without regard to case, because the official SDKs do
// not agree on it: the Go and Java SDKs send inStorePaymentScenario
// "PaymentCode", the Python SDK's InStorePaymentScenario.PAYMENTCODE
// sends "PAYMENTCODE". A request that matched holds Antom's spelling.
const (
	laneProductInStore = "IN_STORE_PAYMENT"
	laneScenario       = "PaymentCode"
)

// The canonical spellings as byte slices, for laneEnum (read-only).
var (
	laneProductInStoreBytes = []byte(laneProductInStore)
	laneScenarioBytes       = []byte(laneScenario)
)

// laneEnum reports whether b is want in any letter case, and returns want
// (which laneDetach copies) so the request holds the canonical spelling.
func laneEnum(b, want []byte) ([]byte, bool) {
	if !bytes.EqualFold(b, want) {
		return nil, false
	}
	return want, true
}

// The objects the lane parsers read. Keys not listed are accepted and
// ignored (the SDKs send some thirty optional fields), but still count for
// duplicate detection inside these objects. Objects that are not read at
// all (order.goods, env, extendInfo, ...) are not inspected beyond being
// well-formed JSON.
var (
	lanePayTop = newLaneObj("", "productCode", "paymentRequestId", "order", "paymentAmount",
		"paymentMethod", "paymentFactor", "paymentNotifyUrl", "paymentExpiryTime",
		"settlementStrategy", "merchantAccountId")
	lanePayOrder    = newLaneObj("order", "orderDescription", "orderAmount", "referenceOrderId", "merchant", "env")
	lanePayMerchant = newLaneObj("order.merchant", "referenceMerchantId", "merchantMCC", "merchantName", "store")
	lanePayStore    = newLaneObj("order.merchant.store", "referenceStoreId", "storeName", "storeMCC")
	lanePayEnv      = newLaneObj("order.env", "storeTerminalId", "storeTerminalRequestTime")
	lanePayMethod   = newLaneObj("paymentMethod", "paymentMethodType", "paymentMethodId")
	lanePayFactor   = newLaneObj("paymentFactor", "inStorePaymentScenario")
	lanePaySettle   = newLaneObj("settlementStrategy", "settlementCurrency")
	lanePayAmount   = newLaneObj("paymentAmount", "currency", "value")
	laneOrderAmount = newLaneObj("order.orderAmount", "currency", "value")

	laneIDTop = newLaneObj("", "paymentRequestId", "paymentId", "merchantAccountId")

	laneRefundTop = newLaneObj("", "refundRequestId", "paymentId", "refundAmount", "refundReason",
		"refundNotifyUrl", "referenceRefundId")
	laneRefundAmount = newLaneObj("refundAmount", "currency", "value")

	laneInqRefundTop = newLaneObj("", "refundRequestId", "refundId", "merchantAccountId")
)

// ParsePay parses a pay (User-presented Mode) request body, spec §2.1,
// into r. It resets r first and copies every field into r's own storage,
// so r aliases neither body nor the parser; on a warm r it does not
// allocate.
//
// The checks: body is one strict JSON object; no object read has a
// duplicate key; productCode is IN_STORE_PAYMENT and
// paymentFactor.inStorePaymentScenario is PaymentCode, in any letter case
// (r holds Antom's spelling); the mandatory
// fields of the spec tables are present, of the documented type, not
// empty and within their length limits; identifiers hold no control or
// invisible format characters; paymentNotifyUrl is an absolute http(s)
// URL with a host and no user-info (NotifyURLError); both amounts are
// valid (ParseLaneAmountValue) and in the same currency. Their values may differ: Antom lets the order amount
// exceed the amount collected now, and the engine charges paymentAmount.
//
// A paymentMethodId that is a string but not a valid payment code is not a
// parse error: r.CodeErr is set (one of the ErrCode* errors) and r.Code is
// zero, so the engine can answer INVALID_PAYMENT_CODE instead of
// PARAM_ILLEGAL. The code's digits are kept only in r.Code, never in r's
// byte storage or in an error.
//
// On error r is reset and the error is a *FieldError.
func ParsePay(body []byte, r *PayRequest) error {
	r.Reset()
	s := acquireLaneScanner()
	err := s.parsePay(body, r, false)
	releaseLaneScanner(s, len(body))
	if err != nil {
		r.Reset()
	}
	return err
}

// parsePay parses a pay body. With codeInImage (ParsePayWithoutCode) the
// code comes from an attached image and paymentMethodId must be absent.
func (s *laneScanner) parsePay(body []byte, r *PayRequest, codeInImage bool) error {
	top, err := s.open(body)
	if err != nil {
		return err
	}
	var productCode, reqID, order, amount, method, factor, notifyURL, expiry, settle, account *fastjson.Value
	if err := s.collect(top, lanePayTop, &productCode, &reqID, &order, &amount,
		&method, &factor, &notifyURL, &expiry, &settle, &account); err != nil {
		return err
	}

	if r.ProductCode, err = s.str(productCode, "productCode", &laneRuleShort, true); err != nil {
		return err
	}
	var ok bool
	if r.ProductCode, ok = laneEnum(r.ProductCode, laneProductInStoreBytes); !ok {
		return laneFieldErr("productCode", laneErrProductCode)
	}
	if r.PaymentRequestID, err = s.str(reqID, "paymentRequestId", &laneRuleID, true); err != nil {
		return err
	}
	if err := s.readOrder(order, r); err != nil {
		return err
	}
	if r.Amount, err = s.amount(amount, lanePayAmount); err != nil {
		return err
	}
	if r.OrderAmount.Currency != r.Amount.Currency {
		return laneFieldErr("order.orderAmount.currency", laneErrCurrencyDiff)
	}
	if err := s.readMethod(method, r, codeInImage); err != nil {
		return err
	}

	fo, err := s.object(factor, "paymentFactor", true)
	if err != nil {
		return err
	}
	var scenario *fastjson.Value
	if err := s.collect(fo, lanePayFactor, &scenario); err != nil {
		return err
	}
	if r.Scenario, err = s.str(scenario, "paymentFactor.inStorePaymentScenario", &laneRuleShort, true); err != nil {
		return err
	}
	if r.Scenario, ok = laneEnum(r.Scenario, laneScenarioBytes); !ok {
		return laneFieldErr("paymentFactor.inStorePaymentScenario", laneErrScenario)
	}

	if r.NotifyURL, err = s.notifyURL(notifyURL, "paymentNotifyUrl", &laneRuleURL); err != nil {
		return err
	}
	if r.ExpiryTime, err = s.str(expiry, "paymentExpiryTime", &laneRuleShort, false); err != nil {
		return err
	}
	so, err := s.object(settle, "settlementStrategy", false)
	if err != nil {
		return err
	}
	if so != nil {
		var cur *fastjson.Value
		if err := s.collect(so, lanePaySettle, &cur); err != nil {
			return err
		}
		if r.SettlementCurrency, err = s.currency(cur, "settlementStrategy.settlementCurrency"); err != nil {
			return err
		}
	}
	if r.MerchantAccountID, err = s.str(account, "merchantAccountId", &laneRuleAccount, false); err != nil {
		return err
	}

	r.buf = laneDetach(r.buf, []*[]byte{
		&r.ProductCode, &r.PaymentRequestID, &r.PaymentMethodType, &r.Scenario,
		&r.NotifyURL, &r.ExpiryTime, &r.MerchantAccountID, &r.OrderDescription,
		&r.ReferenceOrderID, &r.MerchantID, &r.MerchantMCC, &r.MerchantName,
		&r.StoreID, &r.StoreName, &r.StoreMCC, &r.TerminalID, &r.TerminalRequestTime,
	})
	return nil
}

// readOrder reads order and its merchant, store and env objects.
func (s *laneScanner) readOrder(v *fastjson.Value, r *PayRequest) error {
	o, err := s.object(v, "order", true)
	if err != nil {
		return err
	}
	var desc, amount, refID, merchant, env *fastjson.Value
	if err := s.collect(o, lanePayOrder, &desc, &amount, &refID, &merchant, &env); err != nil {
		return err
	}
	if r.OrderDescription, err = s.str(desc, "order.orderDescription", &laneRuleText, true); err != nil {
		return err
	}
	if r.OrderAmount, err = s.amount(amount, laneOrderAmount); err != nil {
		return err
	}
	if r.ReferenceOrderID, err = s.str(refID, "order.referenceOrderId", &laneRuleID, false); err != nil {
		return err
	}

	mo, err := s.object(merchant, "order.merchant", true)
	if err != nil {
		return err
	}
	var mID, mMCC, mName, store *fastjson.Value
	if err := s.collect(mo, lanePayMerchant, &mID, &mMCC, &mName, &store); err != nil {
		return err
	}
	if r.MerchantID, err = s.str(mID, "order.merchant.referenceMerchantId", &laneRuleShort, true); err != nil {
		return err
	}
	if r.MerchantMCC, err = s.mcc(mMCC, "order.merchant.merchantMCC", 0); err != nil {
		return err
	}
	if r.MerchantName, err = s.str(mName, "order.merchant.merchantName", &laneRuleName, true); err != nil {
		return err
	}

	so, err := s.object(store, "order.merchant.store", true)
	if err != nil {
		return err
	}
	var sID, sName, sMCC *fastjson.Value
	if err := s.collect(so, lanePayStore, &sID, &sName, &sMCC); err != nil {
		return err
	}
	if r.StoreID, err = s.str(sID, "order.merchant.store.referenceStoreId", &laneRuleShort, true); err != nil {
		return err
	}
	if r.StoreName, err = s.str(sName, "order.merchant.store.storeName", &laneRuleName, true); err != nil {
		return err
	}
	if r.StoreMCC, err = s.mcc(sMCC, "order.merchant.store.storeMCC", 1); err != nil {
		return err
	}

	eo, err := s.object(env, "order.env", true)
	if err != nil {
		return err
	}
	var term, termTime *fastjson.Value
	if err := s.collect(eo, lanePayEnv, &term, &termTime); err != nil {
		return err
	}
	if r.TerminalID, err = s.str(term, "order.env.storeTerminalId", &laneRuleShort, true); err != nil {
		return err
	}
	r.TerminalRequestTime, err = s.str(termTime, "order.env.storeTerminalRequestTime", &laneRuleShort, true)
	return err
}

// readMethod reads paymentMethod. A malformed code goes to r.CodeErr.
// With codeInImage the code is left zero and paymentMethodId must be
// absent or empty (see checkNoCode).
func (s *laneScanner) readMethod(v *fastjson.Value, r *PayRequest, codeInImage bool) error {
	o, err := s.object(v, "paymentMethod", true)
	if err != nil {
		return err
	}
	var typ, id *fastjson.Value
	if err := s.collect(o, lanePayMethod, &typ, &id); err != nil {
		return err
	}
	if r.PaymentMethodType, err = s.str(typ, "paymentMethod.paymentMethodType", &laneRuleShort, true); err != nil {
		return err
	}
	if codeInImage {
		return checkNoCode(id)
	}
	switch {
	case laneAbsent(id):
		return laneFieldErr("paymentMethod.paymentMethodId", ErrMissing)
	case id.Type() != fastjson.TypeString:
		return laneFieldErr("paymentMethod.paymentMethodId", laneErrNotString)
	}
	b, _ := id.StringBytes()
	r.Code, r.CodeErr = ParseCode(b)
	return nil
}

// ParseIDRequest parses an inquiryPayment or cancel body (spec §2.2,
// §2.3) into r: paymentId and/or paymentRequestId (at least one, each at
// most 64 bytes; an empty string counts as absent) and an optional
// merchantAccountId. Ownership, errors and allocation are as for ParsePay.
func ParseIDRequest(body []byte, r *IDRequest) error {
	r.Reset()
	s := acquireLaneScanner()
	err := s.parseID(body, r)
	releaseLaneScanner(s, len(body))
	if err != nil {
		r.Reset()
	}
	return err
}

func (s *laneScanner) parseID(body []byte, r *IDRequest) error {
	top, err := s.open(body)
	if err != nil {
		return err
	}
	var reqID, id, account *fastjson.Value
	if err := s.collect(top, laneIDTop, &reqID, &id, &account); err != nil {
		return err
	}
	if r.PaymentRequestID, err = s.str(reqID, "paymentRequestId", &laneRuleID, false); err != nil {
		return err
	}
	if r.PaymentID, err = s.str(id, "paymentId", &laneRuleID, false); err != nil {
		return err
	}
	if r.PaymentID == nil && r.PaymentRequestID == nil {
		return laneFieldErr("", laneErrNeedPayment)
	}
	if r.MerchantAccountID, err = s.str(account, "merchantAccountId", &laneRuleAccount, false); err != nil {
		return err
	}
	r.buf = laneDetach(r.buf, []*[]byte{&r.PaymentRequestID, &r.PaymentID, &r.MerchantAccountID})
	return nil
}

// ParseRefund parses a refund body (spec §2.4) into r: refundRequestId,
// paymentId and refundAmount are mandatory; refundReason (at most 256
// characters), refundNotifyUrl (at most 1024 bytes) and referenceRefundId
// are optional. Whether the amount may be refunded is the engine's
// business. Ownership, errors and allocation are as for ParsePay.
func ParseRefund(body []byte, r *RefundRequest) error {
	r.Reset()
	s := acquireLaneScanner()
	err := s.parseRefund(body, r)
	releaseLaneScanner(s, len(body))
	if err != nil {
		r.Reset()
	}
	return err
}

func (s *laneScanner) parseRefund(body []byte, r *RefundRequest) error {
	top, err := s.open(body)
	if err != nil {
		return err
	}
	var reqID, payID, amount, reason, notifyURL, refID *fastjson.Value
	if err := s.collect(top, laneRefundTop, &reqID, &payID, &amount, &reason, &notifyURL, &refID); err != nil {
		return err
	}
	if r.RefundRequestID, err = s.str(reqID, "refundRequestId", &laneRuleID, true); err != nil {
		return err
	}
	if r.PaymentID, err = s.str(payID, "paymentId", &laneRuleID, true); err != nil {
		return err
	}
	if r.Amount, err = s.amount(amount, laneRefundAmount); err != nil {
		return err
	}
	if r.Reason, err = s.str(reason, "refundReason", &laneRuleText, false); err != nil {
		return err
	}
	if r.NotifyURL, err = s.notifyURL(notifyURL, "refundNotifyUrl", &laneRuleRefundURL); err != nil {
		return err
	}
	if r.ReferenceRefundID, err = s.str(refID, "referenceRefundId", &laneRuleID, false); err != nil {
		return err
	}
	r.buf = laneDetach(r.buf, []*[]byte{&r.RefundRequestID, &r.PaymentID, &r.Reason, &r.NotifyURL, &r.ReferenceRefundID})
	return nil
}

// ParseInquiryRefund parses an inquiryRefund body (spec §2.5) into r:
// refundId and/or refundRequestId (at least one) and an optional
// merchantAccountId. Ownership, errors and allocation are as for ParsePay.
func ParseInquiryRefund(body []byte, r *InquiryRefundRequest) error {
	r.Reset()
	s := acquireLaneScanner()
	err := s.parseInquiryRefund(body, r)
	releaseLaneScanner(s, len(body))
	if err != nil {
		r.Reset()
	}
	return err
}

func (s *laneScanner) parseInquiryRefund(body []byte, r *InquiryRefundRequest) error {
	top, err := s.open(body)
	if err != nil {
		return err
	}
	var reqID, id, account *fastjson.Value
	if err := s.collect(top, laneInqRefundTop, &reqID, &id, &account); err != nil {
		return err
	}
	if r.RefundRequestID, err = s.str(reqID, "refundRequestId", &laneRuleID, false); err != nil {
		return err
	}
	if r.RefundID, err = s.str(id, "refundId", &laneRuleID, false); err != nil {
		return err
	}
	if r.RefundID == nil && r.RefundRequestID == nil {
		return laneFieldErr("", laneErrNeedRefund)
	}
	if r.MerchantAccountID, err = s.str(account, "merchantAccountId", &laneRuleAccount, false); err != nil {
		return err
	}
	r.buf = laneDetach(r.buf, []*[]byte{&r.RefundRequestID, &r.RefundID, &r.MerchantAccountID})
	return nil
}
