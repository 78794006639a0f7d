package httpapi

import (
	"sync/atomic"

	"github.com/paycode/paycode/codec"
)

// NotifyCheck decides at arrival whether a notify URL (already checked
// for syntax by codec) may be used by clientID: the scheme (http may be
// refused), and a host that is a literal address paycode would refuse to
// connect to. It returns nil or an error whose text is written for the
// lane's developer; the connection is checked again when the notifier
// dials (engine/notify).
type NotifyCheck func(clientID, rawURL []byte) error

// arrival holds the checks of a parsed request that depend on
// configuration, run before the engine sees it: nothing is recorded for a
// request they refuse.
type arrival struct {
	limits atomic.Pointer[codec.AmountLimits]
	notify atomic.Pointer[NotifyCheck]
}

// SetAmountLimits sets the per-currency maximum amounts of pays and
// refunds (nil: codec.DefaultMaxAmount for every currency). It may be
// called while serving.
func (s *Server) SetAmountLimits(l *codec.AmountLimits) { s.arrival.limits.Store(l) }

// SetNotifyCheck sets the arrival check of paymentNotifyUrl and
// refundNotifyUrl (nil: syntax only). It may be called while serving.
func (s *Server) SetNotifyCheck(f NotifyCheck) {
	if f == nil {
		s.arrival.notify.Store(nil)
		return
	}
	s.arrival.notify.Store(&f)
}

// checkClientID answers a client-id header that is not 1 to 128 bytes of
// printable ASCII; dst is returned unchanged when it is fine.
func checkClientID(dst, clientID []byte) ([]byte, bool) {
	if err := codec.CheckClientID(clientID); err != nil {
		return codec.AppendErrorResponse(dst, codec.ParamIllegal, err.Error()), false
	}
	return dst, true
}

// checkPay runs the arrival checks of a parsed pay; it appends the answer
// and returns false when the pay is refused.
func (s *Server) checkPay(dst, clientID []byte, r *codec.PayRequest) ([]byte, bool) {
	if err := s.arrival.limits.Load().CheckPay(r); err != nil {
		return codec.AppendErrorResponse(dst, codec.ParamIllegal, err.Error()), false
	}
	return s.checkNotifyURL(dst, clientID, "paymentNotifyUrl", r.NotifyURL)
}

// checkRefund runs the arrival checks of a parsed refund.
func (s *Server) checkRefund(dst, clientID []byte, r *codec.RefundRequest) ([]byte, bool) {
	if err := s.arrival.limits.Load().CheckRefund(r); err != nil {
		return codec.AppendErrorResponse(dst, codec.ParamIllegal, err.Error()), false
	}
	return s.checkNotifyURL(dst, clientID, "refundNotifyUrl", r.NotifyURL)
}

func (s *Server) checkNotifyURL(dst, clientID []byte, field string, u []byte) ([]byte, bool) {
	if len(u) == 0 {
		return dst, true
	}
	f := s.arrival.notify.Load()
	if f == nil {
		return dst, true
	}
	if err := (*f)(clientID, u); err != nil {
		return codec.AppendErrorResponse(dst, codec.ParamIllegal, "codec: "+field+": "+err.Error()), false
	}
	return dst, true
}
