package httpapi

import (
	"bytes"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/metrics"
)

// operation is what a lane request asks for. A request is routed once, in
// Handle, from ctx.Path() (normalised and unescaped: the path fasthttp
// serves), and the value is kept in its reqState: admission, the API
// switch, the body limit and the metrics all read it, so they cannot
// disagree about what a request is. Signatures cover the path as sent
// (PathOriginal), which is what the lane signed.
type operation uint8

const (
	opNone operation = iota // no API is defined at the path
	opPay
	opInquiryPayment
	opCancel
	opRefund
	opInquiryRefund
	opDecode
	numOperations
)

// route returns the operation at a lane request path.
func route(path []byte) operation {
	var name []byte
	switch {
	case bytes.HasPrefix(path, []byte(prodPrefix)):
		name = path[len(prodPrefix):]
	case bytes.HasPrefix(path, []byte(sandboxPrefix)):
		name = path[len(sandboxPrefix):]
	case string(path) == DecodePath:
		return opDecode
	default:
		return opNone
	}
	switch string(name) {
	case "pay":
		return opPay
	case "inquiryPayment":
		return opInquiryPayment
	case "cancel":
		return opCancel
	case "refund":
		return opRefund
	case "inquiryRefund":
		return opInquiryRefund
	}
	return opNone
}

// followUp reports whether o is work on an existing payment; pays (and
// anything else) are new admissions (auth.go's in-flight limiter keeps
// room for follow-ups).
func (o operation) followUp() bool {
	return o == opInquiryPayment || o == opCancel || o == opRefund || o == opInquiryRefund
}

var endpoints = [numOperations]metrics.Endpoint{
	opNone:           metrics.EndpointOther,
	opPay:            metrics.EndpointPay,
	opInquiryPayment: metrics.EndpointInquiryPayment,
	opCancel:         metrics.EndpointCancel,
	opRefund:         metrics.EndpointRefund,
	opInquiryRefund:  metrics.EndpointInquiryRefund,
	opDecode:         metrics.EndpointDecode,
}

// endpoint is o's metrics label.
func (o operation) endpoint() metrics.Endpoint {
	if o >= numOperations {
		return metrics.EndpointOther
	}
	return endpoints[o]
}

// answer appends the Antom error answer rc with msg to dst and returns it
// with the result code it wrote.
func answer(dst []byte, rc codec.ResultCode, msg string) ([]byte, codec.ResultCode) {
	return codec.AppendErrorResponse(dst, rc, msg), written(rc)
}

// written is the result code codec.AppendResult writes for rc: a code
// outside the table goes out as UNKNOWN_EXCEPTION.
func written(rc codec.ResultCode) codec.ResultCode {
	if rc == codec.ResultNone || rc.String() == "" {
		return codec.UnknownException
	}
	return rc
}
