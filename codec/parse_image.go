package codec

import "github.com/valyala/fastjson"

// ErrCodeAndImage is the sentinel (unwrapping to ErrValue, so answered
// PARAM_ILLEGAL) for a pay-by-image request that also gives a code.
var ErrCodeAndImage = newLaneError(ErrValue, "give the code or an image, not both")

// ParsePayWithoutCode parses the JSON part of a pay-by-image request: an
// Antom pay body (spec §2.1) whose payment code comes from an attached
// image instead of paymentMethod.paymentMethodId. Every check of ParsePay
// applies, except that paymentMethodId must be absent, null or the empty
// string; a non-empty one is a *FieldError at
// "paymentMethod.paymentMethodId" unwrapping to ErrCodeAndImage, so a
// request cannot name one code and carry another.
//
// On success r.Code is zero and r.CodeErr nil: the caller fills r.Code
// with the decoded code before calling the engine. Ownership, errors and
// allocation are as for ParsePay.
func ParsePayWithoutCode(body []byte, r *PayRequest) error {
	r.Reset()
	s := acquireLaneScanner()
	err := s.parsePay(body, r, true)
	releaseLaneScanner(s, len(body))
	if err != nil {
		r.Reset()
	}
	return err
}

// checkNoCode accepts an absent, null or empty paymentMethodId.
func checkNoCode(id *fastjson.Value) error {
	if laneAbsent(id) {
		return nil
	}
	if id.Type() != fastjson.TypeString {
		return laneFieldErr("paymentMethod.paymentMethodId", laneErrNotString)
	}
	if b, _ := id.StringBytes(); len(b) > 0 {
		return laneFieldErr("paymentMethod.paymentMethodId", ErrCodeAndImage)
	}
	return nil
}
