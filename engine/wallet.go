package engine

import (
	"context"
	"errors"
	"time"

	"github.com/paycode/paycode/codec"
)

// Wallet is one Mobile Payment Partner as the engine sees it: the four
// calls of the wallet API (spec §7). It is declared here, where it is used;
// engine/mpp implements it over HTTP, tests implement it in memory.
//
// Every call is idempotent at the wallet on its id (the engine's paymentId
// or refundId), so the engine may repeat any call after an error. A non-nil
// error means the outcome is unknown (timeout, connection failure,
// unreadable answer): the payment may or may not have been charged, and the
// engine settles it by inquiry — never by paying again.
type Wallet interface {
	Pay(ctx context.Context, req *WalletPay) (WalletResult, error)
	Inquire(ctx context.Context, paymentID string) (WalletResult, error)
	// Cancel closes the payment at the wallet: an unpaid one can no longer
	// be paid, a paid one is reversed in full. Success means the wallet
	// holds no charge for it.
	Cancel(ctx context.Context, paymentID string) (WalletResult, error)
	Refund(ctx context.Context, req *WalletRefund) (WalletResult, error)
}

// ErrNotSent is wrapped by a Wallet's error when the request certainly
// never left the process (no connection, no free slot before the
// deadline): the wallet cannot have acted on it. The engine then closes
// the payment at once instead of polling for an answer that cannot come.
var ErrNotSent = errors.New("engine: wallet request not sent")

// ErrOtherPayment is an answer for another payment: the wallet named an
// amount (WalletResult.Amount) other than the payment's. Whatever the
// answer's status, the payment's outcome stays unknown.
var ErrOtherPayment = errors.New("engine: the wallet's answer is for another payment")

// WalletPay is what the engine sends a wallet to charge a code. The byte
// slices alias the lane's pooled request and are valid only during the
// Pay call: a Wallet must not keep them.
type WalletPay struct {
	PaymentID   string // the engine's paymentId; the wallet's idempotency key
	Code        codec.Code
	Amount      codec.Amount
	MerchantID  []byte // order.merchant.referenceMerchantId
	StoreID     []byte // order.merchant.store.referenceStoreId
	TerminalID  []byte // order.env.storeTerminalId
	Description []byte // order.orderDescription
	ExpiresAt   time.Time
	// Deadline bounds this call (the engine's pay answer bound) without a
	// per-call context allocation; the Wallet uses the earlier of Deadline,
	// ctx's deadline and its own timeout. Zero means none.
	Deadline time.Time
}

// WalletRefund is a refund of part or all of a successful payment.
type WalletRefund struct {
	RefundID  string // the engine's refundId; the wallet's idempotency key
	PaymentID string
	Amount    codec.Amount
	Reason    string
}

// Outcome is where a wallet call left the payment or refund.
type Outcome uint8

const (
	// OutcomeUnknown: no usable answer (only with a non-nil error).
	OutcomeUnknown Outcome = iota
	// OutcomeSuccess: paid (pay, inquiry), closed (cancel), refunded (refund).
	OutcomeSuccess
	// OutcomeFail: definitely not done; WalletResult.Code says why.
	OutcomeFail
	// OutcomeProcessing: the wallet is waiting (the user must confirm with a
	// password) or still working: ask again later.
	OutcomeProcessing
	// OutcomeNotFound: the wallet has no such payment (inquiry/cancel).
	OutcomeNotFound
)

var outcomeNames = [...]string{"unknown", "success", "fail", "processing", "not_found"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "invalid"
}

// WalletResult is a wallet's answer, mapped into the engine's vocabulary.
type WalletResult struct {
	Outcome Outcome
	// Code is the wallet's result code: why it failed (OutcomeFail), or
	// Success / PaymentInProcess. For an inquiry it is the payment's own
	// result (paymentResult), not the query's.
	Code codec.ResultCode
	// Message is the wallet's resultMessage, for logs and the lane.
	Message string
	// WalletTxnID is the wallet's own id for the payment or refund.
	WalletTxnID string
	// At is when the wallet says the payment or refund succeeded.
	At time.Time
	// CustomerID and WalletBrand identify the payer, for pspCustomerInfo.
	CustomerID  string
	WalletBrand string
	// Cancelled reports, on inquiry, that the wallet closed or reversed the
	// payment (Alipay+ reports ORDER_IS_CLOSED for that).
	Cancelled bool
	// Amount is the payment amount the wallet's answer names (inquiry's
	// paymentAmount); zero when it names none. The engine checks it
	// against the payment's: an inquiry does not send the amount, so the
	// wallet adapter cannot.
	Amount codec.Amount
}
