package codec

import (
	"errors"
	"time"
)

// Lane API messages (spec §2): the requests lanes send and the responses
// paycode writes. Request values are reusable: the parsers Reset them and
// copy every field into the value's own buffers, so a pooled value never
// aliases the parser's memory or the request body, and a warm value parses
// without allocating. Byte-slice fields are valid until the next Reset.

// Maximum field lengths (spec §2), checked by the parsers.
const (
	MaxIDLen          = 64   // paymentRequestId, paymentId, refundRequestId, refundId, referenceOrderId
	MaxDescriptionLen = 256  // orderDescription, refundReason
	MaxNotifyURLLen   = 2048 // paymentNotifyUrl
	MaxRefundURLLen   = 1024 // refundNotifyUrl
	MaxAccountIDLen   = 32   // merchantAccountId
	MaxShortFieldLen  = 128  // merchant/store names and ids, MCCs, terminal ids, times
)

// PayRequest is a parsed pay (User-presented Mode) request, spec §2.1.
type PayRequest struct {
	ProductCode      []byte // must be IN_STORE_PAYMENT
	PaymentRequestID []byte
	Amount           Amount // paymentAmount
	// Code is paymentMethod.paymentMethodId. A present but malformed code is
	// not a parse error: CodeErr holds why, and the answer is
	// INVALID_PAYMENT_CODE (F) rather than PARAM_ILLEGAL.
	Code               Code
	CodeErr            error
	PaymentMethodType  []byte
	Scenario           []byte   // paymentFactor.inStorePaymentScenario, "PaymentCode"
	NotifyURL          []byte   // paymentNotifyUrl, optional
	ExpiryTime         []byte   // paymentExpiryTime, optional, ISO 8601 as sent
	SettlementCurrency Currency // settlementStrategy.settlementCurrency, optional
	MerchantAccountID  []byte   // optional

	// order
	OrderDescription    []byte
	OrderAmount         Amount
	ReferenceOrderID    []byte // optional
	MerchantID          []byte // order.merchant.referenceMerchantId
	MerchantMCC         []byte
	MerchantName        []byte
	StoreID             []byte // order.merchant.store.referenceStoreId
	StoreName           []byte
	StoreMCC            []byte
	TerminalID          []byte // order.env.storeTerminalId
	TerminalRequestTime []byte // order.env.storeTerminalRequestTime

	buf []byte // backing store of the byte-slice fields, reused by Reset
}

// Reset clears r for reuse and keeps its storage. Slices taken from r
// before Reset must not be used afterwards, and a copy of r shares that
// storage: copy the fields (string(r.X)) to keep them past the next parse.
func (r *PayRequest) Reset() { *r = PayRequest{buf: r.buf[:0]} }

// IDRequest is inquiryPayment and cancel (spec §2.2, §2.3): one of the two
// ids is required; PaymentID wins when both are given.
type IDRequest struct {
	PaymentRequestID  []byte
	PaymentID         []byte
	MerchantAccountID []byte

	buf []byte
}

// Reset clears r for reuse and keeps its storage.
func (r *IDRequest) Reset() { *r = IDRequest{buf: r.buf[:0]} }

// RefundRequest is a refund request, spec §2.4.
type RefundRequest struct {
	RefundRequestID   []byte
	PaymentID         []byte
	Amount            Amount // refundAmount
	Reason            []byte // optional
	NotifyURL         []byte // refundNotifyUrl, optional
	ReferenceRefundID []byte // optional

	buf []byte
}

// Reset clears r for reuse and keeps its storage.
func (r *RefundRequest) Reset() { *r = RefundRequest{buf: r.buf[:0]} }

// InquiryRefundRequest is inquiryRefund, spec §2.5: refundRequestId or
// refundId (refundId wins).
type InquiryRefundRequest struct {
	RefundRequestID   []byte
	RefundID          []byte
	MerchantAccountID []byte

	buf []byte
}

// Reset clears r for reuse and keeps its storage.
func (r *InquiryRefundRequest) Reset() { *r = InquiryRefundRequest{buf: r.buf[:0]} }

// PaymentStatus is paymentStatus / refundStatus / transactionStatus.
type PaymentStatus uint8

const (
	StatusNone PaymentStatus = iota
	StatusProcessing
	StatusSuccess
	StatusFail
	StatusCancelled
)

var paymentStatusNames = [...]string{"", "PROCESSING", "SUCCESS", "FAIL", "CANCELLED"}

func (s PaymentStatus) String() string {
	if int(s) < len(paymentStatusNames) {
		return paymentStatusNames[s]
	}
	return ""
}

// PaymentView is what paycode knows of a payment, as the pay, inquiryPayment
// and notifyPayment messages show it. Zero times and empty strings are
// omitted when written.
type PaymentView struct {
	PaymentRequestID string
	PaymentID        string
	Amount           Amount
	Status           PaymentStatus
	// ResultCode is the payment's own outcome: Success, PaymentInProcess or
	// the failure reason (paymentResultCode on inquiry; result on pay).
	ResultCode    ResultCode
	ResultMessage string
	CreateTime    time.Time
	PaymentTime   time.Time // set when successful
	CancelTime    time.Time // set when cancelled
	CustomerID    string    // pspCustomerInfo.pspCustomerId
	WalletName    string    // pspCustomerInfo.pspName
	// Transactions are the refunds and the cancel linked to the payment,
	// written by inquiryPayment only.
	Transactions []TransactionView
}

// TransactionView is one entry of inquiryPayment's transactions array.
type TransactionView struct {
	Type      TransactionType
	Status    PaymentStatus
	Result    ResultCode
	ID        string // refundId, or the paymentId for a cancel
	RequestID string // refundRequestId, or the paymentRequestId for a cancel
	Amount    Amount
	Time      time.Time
}

// TransactionType is transactionType (spec §1.3), the subset UPM uses.
type TransactionType uint8

const (
	TxnRefund TransactionType = iota + 1
	TxnCancel
)

func (t TransactionType) String() string {
	switch t {
	case TxnRefund:
		return "REFUND"
	case TxnCancel:
		return "CANCEL"
	}
	return ""
}

// RefundView is what paycode knows of a refund (refund, inquiryRefund).
type RefundView struct {
	RefundRequestID string
	RefundID        string
	PaymentID       string
	Amount          Amount
	Status          PaymentStatus // PROCESSING, SUCCESS or FAIL
	ResultCode      ResultCode
	ResultMessage   string
	RefundTime      time.Time
}

// MaxClientIDLen bounds the client-id header.
const MaxClientIDLen = 128

// ErrClientID: a client-id header that is empty, longer than
// MaxClientIDLen, or holds anything but printable ASCII.
var ErrClientID = errors.New("codec: the client-id header must be 1 to 128 printable ASCII characters (no spaces)")

// CheckClientID reports ErrClientID unless b is a usable client id:
// 1 to MaxClientIDLen bytes of printable ASCII without spaces. Client ids
// are keys of payments, log fields and signed content; a byte such as
// 0xFF would make two clients that print alike. It does not allocate.
func CheckClientID(b []byte) error {
	if len(b) == 0 || len(b) > MaxClientIDLen {
		return ErrClientID
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return ErrClientID
		}
	}
	return nil
}
