package codec

import "time"

// Lane API response writers (spec §2). Each appends one JSON object to dst
// and returns the extended buffer; on a buffer with room they do not
// allocate. Field names are exactly the SDKs' (global-open-sdk-go model
// and response structs). Empty strings, zero times and amounts without a
// currency are left out rather than written empty: some SDK versions
// decode times into time.Time, which fails on "".

// AppendPayResponse writes the pay response (spec §2.1) for v, whose
// ResultCode is the payment's outcome and so the response's result:
//
//   - S and U: paymentRequestId, paymentId, paymentAmount and
//     paymentCreateTime; pspCustomerInfo when the wallet named the payer;
//     paymentTime on S only.
//   - F: only the ids that are known, since nothing else happened.
//
// A ResultNone outcome is written as UNKNOWN_EXCEPTION (U), see
// AppendResult.
func AppendPayResponse(dst []byte, v *PaymentView) []byte {
	rc := v.ResultCode
	dst = append(dst, `{"result":`...)
	dst = AppendResult(dst, rc, v.ResultMessage)
	dst = optStringField(dst, "paymentRequestId", v.PaymentRequestID)
	dst = optStringField(dst, "paymentId", v.PaymentID)
	if rc.Status() != StatusF {
		dst = optAmountField(dst, "paymentAmount", v.Amount)
		dst = optTimeField(dst, "paymentCreateTime", v.CreateTime)
		if rc.Status() == StatusS {
			dst = optTimeField(dst, "paymentTime", v.PaymentTime)
		}
		dst = laneCustomer(dst, v)
	}
	return append(dst, '}')
}

// AppendInquiryPaymentResponse writes the inquiryPayment response (spec
// §2.2) for a payment that was found: result is SUCCESS (the query
// worked) and the payment's own outcome is in paymentStatus,
// paymentResultCode and paymentResultMessage. An unknown id is answered
// with AppendErrorResponse(dst, OrderNotExist, "") instead.
//
// paymentStatus is v.Status, or, when that is StatusNone, derived from
// the status of v.ResultCode (S SUCCESS, F FAIL, otherwise PROCESSING, the
// value that keeps a lane polling). paymentResultCode is left out when
// v.ResultCode is ResultNone. paymentTime is written only for a
// successful payment; transactions (refunds, the cancel) only when there
// are some.
func AppendInquiryPaymentResponse(dst []byte, v *PaymentView) []byte {
	dst = append(dst, `{"result":`...)
	dst = AppendResult(dst, Success, "")
	status := v.Status
	if status == StatusNone {
		status = laneStatusOf(v.ResultCode)
	}
	dst = AppendKey(dst, "paymentStatus")
	dst = laneQuoted(dst, status.String())
	if rc := v.ResultCode; rc != ResultNone && rc < resultCount {
		dst = AppendKey(dst, "paymentResultCode")
		dst = laneQuoted(dst, rc.String())
		msg := v.ResultMessage
		if msg == "" {
			msg = rc.Message()
		}
		dst = AppendStringField(dst, "paymentResultMessage", msg)
	}
	dst = optStringField(dst, "paymentRequestId", v.PaymentRequestID)
	dst = optStringField(dst, "paymentId", v.PaymentID)
	dst = optAmountField(dst, "paymentAmount", v.Amount)
	dst = optTimeField(dst, "paymentCreateTime", v.CreateTime)
	if status == StatusSuccess {
		dst = optTimeField(dst, "paymentTime", v.PaymentTime)
	}
	dst = laneCustomer(dst, v)
	if len(v.Transactions) > 0 {
		dst = AppendKey(dst, "transactions")
		dst = append(dst, '[')
		for i := range v.Transactions {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = laneTransaction(dst, &v.Transactions[i])
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// laneTransaction writes one Transaction of inquiryPayment. Its
// transactionResult is left out when t.Result is ResultNone.
func laneTransaction(dst []byte, t *TransactionView) []byte {
	dst = append(dst, '{')
	if t.Result != ResultNone && t.Result < resultCount {
		dst = AppendKey(dst, "transactionResult")
		dst = AppendResult(dst, t.Result, "")
	}
	dst = optStringField(dst, "transactionId", t.ID)
	if s := t.Type.String(); s != "" {
		dst = AppendKey(dst, "transactionType")
		dst = laneQuoted(dst, s)
	}
	if s := t.Status.String(); s != "" {
		dst = AppendKey(dst, "transactionStatus")
		dst = laneQuoted(dst, s)
	}
	dst = optAmountField(dst, "transactionAmount", t.Amount)
	dst = optStringField(dst, "transactionRequestId", t.RequestID)
	dst = optTimeField(dst, "transactionTime", t.Time)
	return append(dst, '}')
}

// AppendCancelResponse writes the cancel response (spec §2.3): result r
// with message msg (r's default when empty), the ids that are known, and
// cancelTime when the cancel succeeded.
func AppendCancelResponse(dst []byte, r ResultCode, msg string, paymentID, paymentRequestID string, cancelTime time.Time) []byte {
	dst = append(dst, `{"result":`...)
	dst = AppendResult(dst, r, msg)
	dst = optStringField(dst, "paymentId", paymentID)
	dst = optStringField(dst, "paymentRequestId", paymentRequestID)
	if r.Status() == StatusS {
		dst = optTimeField(dst, "cancelTime", cancelTime)
	}
	return append(dst, '}')
}

// AppendRefundResponse writes the refund response (spec §2.4) for v, whose
// ResultCode is the refund's outcome and the response's result. The ids
// are written when known; refundAmount on S and U; refundTime on S.
func AppendRefundResponse(dst []byte, v *RefundView) []byte {
	rc := v.ResultCode
	dst = append(dst, `{"result":`...)
	dst = AppendResult(dst, rc, v.ResultMessage)
	dst = optStringField(dst, "refundRequestId", v.RefundRequestID)
	dst = optStringField(dst, "refundId", v.RefundID)
	dst = optStringField(dst, "paymentId", v.PaymentID)
	if rc.Status() != StatusF {
		dst = optAmountField(dst, "refundAmount", v.Amount)
		if rc.Status() == StatusS {
			dst = optTimeField(dst, "refundTime", v.RefundTime)
		}
	}
	return append(dst, '}')
}

// AppendInquiryRefundResponse writes the inquiryRefund response (spec
// §2.5) for a refund that was found: result SUCCESS (the query worked),
// then refundId, refundRequestId, refundAmount, refundStatus and, for a
// successful refund, refundTime. refundStatus is v.Status or, when that is
// StatusNone, derived from v.ResultCode as for inquiryPayment. The SDKs
// have no field for the refund's failure reason; it is not written.
func AppendInquiryRefundResponse(dst []byte, v *RefundView) []byte {
	dst = append(dst, `{"result":`...)
	dst = AppendResult(dst, Success, "")
	status := v.Status
	if status == StatusNone {
		status = laneStatusOf(v.ResultCode)
	}
	dst = optStringField(dst, "refundId", v.RefundID)
	dst = optStringField(dst, "refundRequestId", v.RefundRequestID)
	dst = optAmountField(dst, "refundAmount", v.Amount)
	dst = AppendKey(dst, "refundStatus")
	dst = laneQuoted(dst, status.String())
	if status == StatusSuccess {
		dst = optTimeField(dst, "refundTime", v.RefundTime)
	}
	return append(dst, '}')
}

// AppendNotifyPayment writes a notifyPayment body (spec §2.6):
// notifyType PAYMENT_RESULT, result = the payment's outcome
// (v.ResultCode), the ids, paymentAmount and paymentCreateTime, plus
// paymentTime and pspCustomerInfo for a successful payment. Whether a
// failure is notified at all is the engine's choice.
func AppendNotifyPayment(dst []byte, v *PaymentView) []byte {
	rc := v.ResultCode
	dst = append(dst, `{"notifyType":"PAYMENT_RESULT","result":`...)
	dst = AppendResult(dst, rc, v.ResultMessage)
	dst = optStringField(dst, "paymentRequestId", v.PaymentRequestID)
	dst = optStringField(dst, "paymentId", v.PaymentID)
	dst = optAmountField(dst, "paymentAmount", v.Amount)
	dst = optTimeField(dst, "paymentCreateTime", v.CreateTime)
	if rc.Status() == StatusS {
		dst = optTimeField(dst, "paymentTime", v.PaymentTime)
		dst = laneCustomer(dst, v)
	}
	return append(dst, '}')
}

// AppendErrorResponse writes a response that is only a result, e.g.
// PARAM_ILLEGAL for a body that does not parse (msg = the parse error's
// text) or ORDER_NOT_EXIST for an inquiry of an unknown id. It is also the
// merchant's acknowledgement of a notification (Success, "success").
func AppendErrorResponse(dst []byte, r ResultCode, msg string) []byte {
	dst = append(dst, `{"result":`...)
	dst = AppendResult(dst, r, msg)
	return append(dst, '}')
}

// laneStatusOf maps an outcome code to the status it implies.
func laneStatusOf(rc ResultCode) PaymentStatus {
	switch rc.Status() {
	case StatusS:
		return StatusSuccess
	case StatusF:
		return StatusFail
	}
	return StatusProcessing
}

// laneQuoted writes a string known to need no escaping (enum names).
func laneQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// laneCustomer writes pspCustomerInfo when the wallet named the payer.
func laneCustomer(dst []byte, v *PaymentView) []byte {
	if v.WalletName == "" && v.CustomerID == "" {
		return dst
	}
	dst = AppendKey(dst, "pspCustomerInfo")
	dst = append(dst, '{')
	dst = optStringField(dst, "pspName", v.WalletName)
	dst = optStringField(dst, "pspCustomerId", v.CustomerID)
	return append(dst, '}')
}
