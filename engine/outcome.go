package engine

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/paycode/paycode/codec"
)

// FinishedPayment describes a payment that reached its final state: what the
// per-payment log line says and what Config.OnOutcome receives (the
// status page's recent outcomes). Code is the masked code; nothing here
// is a bearer token.
type FinishedPayment struct {
	PaymentID string
	ClientID  string
	RequestID string
	Wallet    string
	Code      string // masked: first 6 and last 4 digits
	Amount    codec.Amount
	Status    codec.PaymentStatus
	Result    codec.ResultCode
	Message   string
	Created   time.Time
	Finished  time.Time
	// FollowUps is how many follow-up wallet calls it took after the pay
	// call; Recovered is set when it was settled after a restart or a
	// takeover from another node.
	FollowUps int
	Recovered bool
}

// Duration is the time from the pay request to the final state.
func (o *FinishedPayment) Duration() time.Duration { return o.Finished.Sub(o.Created) }

// reportLocked logs p's final state once and hands it to OnOutcome.
// Caller holds p.mu and p is final with nothing pending.
func (e *Engine) reportLocked(p *payment, now time.Time) {
	if p.st.stage == stageReported {
		return
	}
	p.to(evReport)
	logOn := e.log.Enabled(context.Background(), slog.LevelInfo)
	if !logOn && e.cfg.OnOutcome == nil {
		return
	}
	// Pooled: OnOutcome does not keep o (see Config.OnOutcome), and the
	// line is written before this returns.
	o := finishedPool.Get().(*FinishedPayment)
	*o = FinishedPayment{
		PaymentID: p.id, ClientID: p.clientID, RequestID: p.requestID, Wallet: p.walletName,
		Code: p.maskedLocked(), Amount: p.amount, Status: p.status, Result: p.result,
		Message: p.msg, Created: p.created, Finished: now, FollowUps: p.followUps, Recovered: p.st.origin != originNew,
	}
	if logOn {
		if w, ok := e.log.Handler().(PaymentLineWriter); !ok || !w.WritePaymentLine(o) {
			logFinished(e.log, o)
		}
	}
	if e.cfg.OnOutcome != nil {
		e.cfg.OnOutcome(o)
	}
	*o = FinishedPayment{}
	finishedPool.Put(o)
}

var finishedPool = sync.Pool{New: func() any { return new(FinishedPayment) }}

// The per-payment line's message.
const finishedMsg = "payment finished"

// logFinished writes o's per-payment line through log's handler: its
// generic path, which PaymentLineWriter short-cuts.
func logFinished(log *slog.Logger, o *FinishedPayment) {
	log.LogAttrs(context.Background(), slog.LevelInfo, finishedMsg,
		slog.String("payment_id", o.PaymentID), slog.String("client_id", o.ClientID),
		slog.String("payment_request_id", o.RequestID), slog.String("wallet", o.Wallet),
		slog.String("code", o.Code), slog.Int64("amount", o.Amount.Value),
		slog.String("currency", o.Amount.Currency.String()), slog.String("status", o.Status.String()),
		slog.String("result", o.Result.String()), slog.String("duration", o.Duration().String()),
		slog.Int("follow_ups", o.FollowUps), slog.Bool("recovered", o.Recovered))
}

// PaymentLineWriter is implemented by a slog.Handler that can write the
// per-payment line ("payment finished") without slog's generic path: a
// Record with an attribute slice beyond its first five, the caller's
// program counter, a dispatch on each attribute's kind, the duration's
// string on the heap, a second lock around the writer. The line is on every pay's path, so serve's
// JSON handler (cmd/paycode) writes it with AppendJSONLine, byte for
// byte what its slog.JSONHandler writes for logFinished's record.
type PaymentLineWriter interface {
	// WritePaymentLine writes o's line at level info, stamped now, and
	// reports whether it did; false leaves the line to the Logger
	// (AppendJSONLine refused it, say). The engine has checked that info
	// is enabled. o is valid only during the call.
	WritePaymentLine(o *FinishedPayment) bool
}

// AppendJSONLine appends o's per-payment line, newline included, exactly
// as slog.NewJSONHandler (no options, no attributes or groups added)
// writes logFinished's record at time t: RFC 3339 time with nanoseconds
// in t's location, "level":"INFO", the message, then the attributes in
// logFinished's order. It covers lines whose strings need no JSON
// escaping (printable ASCII without quote or backslash: ids, masked
// codes, names and codes as paycode makes them; and the duration); for any
// other line, or a year outside 0–9999, it returns dst unchanged and
// false, and the caller leaves the line to slog, whose escaping it does
// not repeat.
func (o *FinishedPayment) AppendJSONLine(dst []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y >= 10000 {
		return dst, false
	}
	n := len(dst)
	dst = append(dst, `{"time":"`...)
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","level":"INFO","msg":"`+finishedMsg+`"`...)
	ids := [...]struct{ k, v string }{
		{"payment_id", o.PaymentID}, {"client_id", o.ClientID}, {"payment_request_id", o.RequestID},
		{"wallet", o.Wallet}, {"code", o.Code},
	}
	for _, f := range ids {
		if !plainJSON(f.v) {
			return dst[:n], false
		}
		dst = appendStringField(dst, f.k, f.v)
	}
	dst = append(dst, `,"amount":`...)
	dst = strconv.AppendInt(dst, o.Amount.Value, 10)
	// Currency, status and result are paycode's own enum names, plain.
	dst = appendStringField(dst, "currency", o.Amount.Currency.String())
	dst = appendStringField(dst, "status", o.Status.String())
	dst = appendStringField(dst, "result", o.Result.String())
	// Go's duration text is digits, '.', '-', unit letters and U+00B5
	// (µs): valid UTF-8 that slog writes as it is.
	dst = append(dst, `,"duration":"`...)
	dst = append(dst, o.Duration().String()...)
	dst = append(dst, '"')
	dst = append(dst, `,"follow_ups":`...)
	dst = strconv.AppendInt(dst, int64(o.FollowUps), 10)
	dst = append(dst, `,"recovered":`...)
	dst = strconv.AppendBool(dst, o.Recovered)
	return append(dst, '}', '\n'), true
}

// plainJSON reports whether v needs no JSON escaping: printable ASCII
// other than quote and backslash.
func plainJSON(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendStringField appends ,"key":"v" for a v that needs no escaping.
func appendStringField(dst []byte, key, v string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':', '"')
	dst = append(dst, v...)
	return append(dst, '"')
}
