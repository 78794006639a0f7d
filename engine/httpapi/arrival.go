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

// checkPay runs the arrival checks of a parsed pay: ResultNone when it
// may go on, otherwise the answer's result code and message.
func (s *Server) checkPay(clientID []byte, r *codec.PayRequest) (codec.ResultCode, string) {
	if err := s.arrival.limits.Load().CheckPay(r); err != nil {
		return codec.ParamIllegal, err.Error()
	}
	return s.checkNotifyURL(clientID, "paymentNotifyUrl", r.NotifyURL)
}

// checkRefund runs the arrival checks of a parsed refund (as checkPay).
func (s *Server) checkRefund(clientID []byte, r *codec.RefundRequest) (codec.ResultCode, string) {
	if err := s.arrival.limits.Load().CheckRefund(r); err != nil {
		return codec.ParamIllegal, err.Error()
	}
	return s.checkNotifyURL(clientID, "refundNotifyUrl", r.NotifyURL)
}

func (s *Server) checkNotifyURL(clientID []byte, field string, u []byte) (codec.ResultCode, string) {
	if len(u) == 0 {
		return codec.ResultNone, ""
	}
	f := s.arrival.notify.Load()
	if f == nil {
		return codec.ResultNone, ""
	}
	if err := (*f)(clientID, u); err != nil {
		return codec.ParamIllegal, "codec: " + field + ": " + err.Error()
	}
	return codec.ResultNone, ""
}
