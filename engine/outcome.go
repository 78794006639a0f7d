package engine

import (
	"context"
	"log/slog"
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
	o := FinishedPayment{
		PaymentID: p.id, ClientID: p.clientID, RequestID: p.requestID, Wallet: p.walletName,
		Code: p.maskedLocked(), Amount: p.amount, Status: p.status, Result: p.result,
		Message: p.msg, Created: p.created, Finished: now, FollowUps: p.followUps, Recovered: p.st.origin != originNew,
	}
	if logOn {
		e.log.LogAttrs(context.Background(), slog.LevelInfo, "payment finished",
			slog.String("payment_id", o.PaymentID), slog.String("client_id", o.ClientID),
			slog.String("payment_request_id", o.RequestID), slog.String("wallet", o.Wallet),
			slog.String("code", o.Code), slog.Int64("amount", o.Amount.Value),
			slog.String("currency", o.Amount.Currency.String()), slog.String("status", o.Status.String()),
			slog.String("result", o.Result.String()), slog.String("duration", o.Duration().String()),
			slog.Int("follow_ups", o.FollowUps), slog.Bool("recovered", o.Recovered))
	}
	if e.cfg.OnOutcome != nil {
		e.cfg.OnOutcome(&o)
	}
}
