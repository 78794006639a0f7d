package codec

// ResultCode is an Antom/Alipay+ result code. Every engine outcome is one of
// these; the table below gives each its wire name, its resultStatus and a
// default resultMessage (spec §3). It is the one mapping from outcomes to
// the wire, tested as a table.
type ResultCode uint8

// Result statuses (spec §1.1).
const (
	StatusS byte = 'S' // success
	StatusF byte = 'F' // failure: definitely not done
	StatusU byte = 'U' // unknown or in progress: poll, retry the same id
)

const (
	ResultNone ResultCode = iota // not set; never written
	Success
	PaymentInProcess
	UnknownException
	RequestTrafficExceedLimit
	InvalidPaymentCode
	ExpiredCode
	UserBalanceNotEnough
	PaymentAmountExceedLimit
	UserAmountExceedLimit
	PaymentCountExceedLimit
	UserNotExist
	UserStatusAbnormal
	UserKYCNotQualified
	UserPaymentVerificationFailed
	RiskReject
	UnavailablePaymentMethod
	NoPayOptions
	CurrencyNotSupport
	OrderIsClosed
	OrderIsCanceled
	OrderNotExist
	PaymentNotExist
	OrderStatusInvalid
	RepeatReqInconsistent
	MerchantNotRegistered
	AccessDenied
	ParamIllegal
	InvalidSignature
	KeyNotFound
	InvalidAPI
	ProcessFail
	SystemError
	CancelWindowExceed
	RefundInProcess
	RefundAmountExceed
	RefundWindowExceed
	MerchantBalanceNotEnough
	resultCount
)

type resultInfo struct {
	code   string
	status byte
	msg    string
}

// results is indexed by ResultCode. Statuses follow spec §3; where the
// spec marks a status unconfirmed we chose what the official SDKs handle
// (REQUEST_TRAFFIC_EXCEED_LIMIT is U so lanes retry the same request).
var results = [resultCount]resultInfo{
	ResultNone:                    {"", 0, ""},
	Success:                       {"SUCCESS", StatusS, "success"},
	PaymentInProcess:              {"PAYMENT_IN_PROCESS", StatusU, "payment in process"},
	UnknownException:              {"UNKNOWN_EXCEPTION", StatusU, "unknown exception, inquire or retry with the same request id"},
	RequestTrafficExceedLimit:     {"REQUEST_TRAFFIC_EXCEED_LIMIT", StatusU, "request traffic exceeds the limit, retry later"},
	InvalidPaymentCode:            {"INVALID_PAYMENT_CODE", StatusF, "the payment code is invalid, ask the customer to refresh it"},
	ExpiredCode:                   {"EXPIRED_CODE", StatusF, "the payment code has expired"},
	UserBalanceNotEnough:          {"USER_BALANCE_NOT_ENOUGH", StatusF, "the user balance is not enough"},
	PaymentAmountExceedLimit:      {"PAYMENT_AMOUNT_EXCEED_LIMIT", StatusF, "the payment amount exceeds the limit"},
	UserAmountExceedLimit:         {"USER_AMOUNT_EXCEED_LIMIT", StatusF, "the user's cumulative amount exceeds the limit"},
	PaymentCountExceedLimit:       {"PAYMENT_COUNT_EXCEED_LIMIT", StatusF, "the payment count exceeds the limit"},
	UserNotExist:                  {"USER_NOT_EXIST", StatusF, "the user does not exist"},
	UserStatusAbnormal:            {"USER_STATUS_ABNORMAL", StatusF, "the user status is abnormal"},
	UserKYCNotQualified:           {"USER_KYC_NOT_QUALIFIED", StatusF, "the user KYC is not qualified"},
	UserPaymentVerificationFailed: {"USER_PAYMENT_VERIFICATION_FAILED", StatusF, "the user payment verification failed"},
	RiskReject:                    {"RISK_REJECT", StatusF, "rejected by risk control"},
	UnavailablePaymentMethod:      {"UNAVAILABLE_PAYMENT_METHOD", StatusF, "the payment method is unavailable"},
	NoPayOptions:                  {"NO_PAY_OPTIONS", StatusF, "no pay options"},
	CurrencyNotSupport:            {"CURRENCY_NOT_SUPPORT", StatusF, "the currency is not supported"},
	OrderIsClosed:                 {"ORDER_IS_CLOSED", StatusF, "the order is closed"},
	OrderIsCanceled:               {"ORDER_IS_CANCELED", StatusF, "the order is cancelled"},
	OrderNotExist:                 {"ORDER_NOT_EXIST", StatusF, "the order does not exist"},
	PaymentNotExist:               {"PAYMENT_NOT_EXIST", StatusF, "the payment does not exist"},
	OrderStatusInvalid:            {"ORDER_STATUS_INVALID", StatusF, "the order status is invalid for this operation"},
	RepeatReqInconsistent:         {"REPEAT_REQ_INCONSISTENT", StatusF, "the request id was used before with different parameters"},
	MerchantNotRegistered:         {"MERCHANT_NOT_REGISTERED", StatusF, "the merchant is not registered"},
	AccessDenied:                  {"ACCESS_DENIED", StatusF, "access denied"},
	ParamIllegal:                  {"PARAM_ILLEGAL", StatusF, "illegal parameters"},
	InvalidSignature:              {"INVALID_SIGNATURE", StatusF, "the signature is invalid"},
	KeyNotFound:                   {"KEY_NOT_FOUND", StatusF, "the key is not found"},
	InvalidAPI:                    {"INVALID_API", StatusF, "the API is not defined"},
	ProcessFail:                   {"PROCESS_FAIL", StatusF, "process failed"},
	SystemError:                   {"SYSTEM_ERROR", StatusF, "system error"},
	CancelWindowExceed:            {"CANCEL_WINDOW_EXCEED", StatusF, "the cancel window has passed, use refund"},
	RefundInProcess:               {"REFUND_IN_PROCESS", StatusU, "refund in process"},
	RefundAmountExceed:            {"REFUND_AMOUNT_EXCEED", StatusF, "the total refund amount exceeds the payment amount"},
	RefundWindowExceed:            {"REFUND_WINDOW_EXCEED", StatusF, "the refund window has passed"},
	MerchantBalanceNotEnough:      {"MERCHANT_BALANCE_NOT_ENOUGH", StatusF, "the merchant balance is not enough"},
}

// String is the wire name, e.g. "INVALID_PAYMENT_CODE".
func (r ResultCode) String() string {
	if r >= resultCount {
		return ""
	}
	return results[r].code
}

// Status is the resultStatus: 'S', 'F' or 'U'.
func (r ResultCode) Status() byte {
	if r >= resultCount {
		return 0
	}
	return results[r].status
}

// Message is the default resultMessage.
func (r ResultCode) Message() string {
	if r >= resultCount {
		return ""
	}
	return results[r].msg
}

// AsFailure is the result code a failure carries: r when it is an F
// code, else ProcessFail. A wallet's failure may come with no code, an
// unknown one, or an S or U code; the lane is never told F with one of
// those. This is the one place that rule lives (the wallet connector, the
// engine's pay, cancel and refund paths all use it).
func (r ResultCode) AsFailure() ResultCode {
	if r.Status() != StatusF {
		return ProcessFail
	}
	return r
}

// resultByName is the reverse index used when reading a wallet's answer.
var resultByName = func() map[string]ResultCode {
	m := make(map[string]ResultCode, resultCount)
	for i := ResultCode(1); i < resultCount; i++ {
		m[results[i].code] = i
	}
	// Spellings seen in the wild for the same outcome (spec §3).
	m["SIGNATURE_INVALID"] = InvalidSignature
	m["NO_PAY_OPTION"] = NoPayOptions
	m["NO_INTERFACE_DEF"] = InvalidAPI
	return m
}()

// LookupResult maps a wire name to its ResultCode. The map lookup with a
// string([]byte) key does not allocate.
func LookupResult(name []byte) (ResultCode, bool) {
	r, ok := resultByName[string(name)]
	return r, ok
}
