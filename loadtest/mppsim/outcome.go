package mppsim

import "github.com/paycode/paycode/codec"

// Outcome is what a simulated wallet does with a pay, chosen by the code's
// last two digits (see the package doc's table).
type Outcome uint8

const (
	OutcomeSuccess      Outcome = iota // 00–79
	OutcomePassword                    // 80–84: U, then SUCCESS after PasswordDelay
	OutcomePasswordFail                // 85–86: U, then USER_PAYMENT_VERIFICATION_FAILED
	OutcomeBalance                     // 87–89: F USER_BALANCE_NOT_ENOUGH
	OutcomeLimit                       // 90–91: F PAYMENT_AMOUNT_EXCEED_LIMIT
	OutcomeLostResponse                // 92–93: charged, the answer never arrives
	OutcomeSystemError                 // 94–95: U UNKNOWN_EXCEPTION, recorded FAIL SYSTEM_ERROR
	OutcomeInvalidCode                 // 96–97: F INVALID_PAYMENT_CODE
	OutcomeRisk                        // 98–99: F RISK_REJECT
	outcomeCount
)

// outcomeRows is the table: the first last-two value of each row, in
// order, and its name.
var outcomeRows = [outcomeCount]struct {
	lo   int
	name string
}{
	{0, "success"}, {80, "password"}, {85, "password_fail"}, {87, "balance"}, {90, "limit"},
	{92, "lost_response"}, {94, "system_error"}, {96, "invalid_code"}, {98, "risk"},
}

// OutcomeOf returns the row of a code's last two digits (0–99).
func OutcomeOf(lastTwo int) Outcome {
	o := OutcomeSuccess
	for i := Outcome(1); i < outcomeCount; i++ {
		if lastTwo >= outcomeRows[i].lo {
			o = i
		}
	}
	return o
}

// OutcomeOfCode is OutcomeOf(code.LastTwo()).
func OutcomeOfCode(code *codec.Code) Outcome { return OutcomeOf(code.LastTwo()) }

// Range is the row's last-two values, lo to hi inclusive; load tools use
// it to make codes of a given outcome.
func (o Outcome) Range() (lo, hi int) {
	if o >= outcomeCount {
		return -1, -1
	}
	if o == outcomeCount-1 {
		return outcomeRows[o].lo, 99
	}
	return outcomeRows[o].lo, outcomeRows[o+1].lo - 1
}

func (o Outcome) String() string {
	if o >= outcomeCount {
		return "invalid"
	}
	return outcomeRows[o].name
}

// Outcomes lists every row, in table order.
func Outcomes() []Outcome {
	out := make([]Outcome, outcomeCount)
	for i := range out {
		out[i] = Outcome(i)
	}
	return out
}

// failCode is the result a row fails with at once (ResultNone for rows
// that do not fail at pay time).
func (o Outcome) failCode() codec.ResultCode {
	switch o {
	case OutcomeBalance:
		return codec.UserBalanceNotEnough
	case OutcomeLimit:
		return codec.PaymentAmountExceedLimit
	case OutcomeSystemError:
		return codec.SystemError
	case OutcomeInvalidCode:
		return codec.InvalidPaymentCode
	case OutcomeRisk:
		return codec.RiskReject
	}
	return codec.ResultNone
}
