package mppsim

import (
	"fmt"
	"math/rand/v2"

	"github.com/paycode/paycode/codec"
)

// TestCodeLen is the length of the codes NewTestCode makes: the length
// the default routing rules give the simulated wallets' prefixes.
const TestCodeLen = 24

// NewTestCode returns a fresh test code: prefix (the wallet's routing
// prefix, 1–8 digits), random digits, and last two digits drawn from o's
// row of the table, TestCodeLen digits in all. Codes are single use, so
// each call draws new digits (math/rand/v2's randomly seeded source: 14
// or more random digits, a collision is a chance in 10^14).
func NewTestCode(prefix string, o Outcome) (string, error) {
	if len(prefix) < 1 || len(prefix) > codec.PlainPrefixLen {
		return "", fmt.Errorf("mppsim: test code prefix %q: want 1 to %d digits", prefix, codec.PlainPrefixLen)
	}
	lo, hi := o.Range()
	if lo < 0 {
		return "", fmt.Errorf("mppsim: test code: unknown outcome %d", o)
	}
	b := make([]byte, 0, TestCodeLen)
	for i := 0; i < len(prefix); i++ {
		if prefix[i] < '0' || prefix[i] > '9' {
			return "", fmt.Errorf("mppsim: test code prefix %q: want digits", prefix)
		}
		b = append(b, prefix[i])
	}
	for len(b) < TestCodeLen-2 {
		b = append(b, byte('0'+rand.IntN(10)))
	}
	last := lo + rand.IntN(hi-lo+1)
	return string(append(b, byte('0'+last/10), byte('0'+last%10))), nil
}

// ParseOutcome returns the row named s (as Outcome.String prints it).
func ParseOutcome(s string) (Outcome, bool) {
	for o := range outcomeCount {
		if outcomeRows[o].name == s {
			return o, true
		}
	}
	return 0, false
}

// PayAnswer is the resultCode paycode answers a fresh pay of row o with.
func (o Outcome) PayAnswer() codec.ResultCode {
	switch o {
	case OutcomeSuccess:
		return codec.Success
	case OutcomeBalance:
		return codec.UserBalanceNotEnough
	case OutcomeLimit:
		return codec.PaymentAmountExceedLimit
	case OutcomeInvalidCode:
		return codec.InvalidPaymentCode
	case OutcomeRisk:
		return codec.RiskReject
	}
	return codec.PaymentInProcess
}

// FinalAnswer is the result a payment of row o settles on when nobody
// cancels it (what inquiryPayment reports in the end).
func (o Outcome) FinalAnswer() codec.ResultCode {
	switch o {
	case OutcomePassword, OutcomeLostResponse:
		return codec.Success
	case OutcomePasswordFail:
		return codec.UserPaymentVerificationFailed
	case OutcomeSystemError:
		return codec.SystemError
	}
	return o.PayAnswer()
}
