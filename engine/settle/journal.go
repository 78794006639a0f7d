package settle

import (
	"context"
	"fmt"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// Rows builds paycode's rows for day from journal records (their latest
// versions), in file order, per the rules of the package comment:
//
//   - PAYMENT for each payment with a paymentTime (PaidAt) in the day and
//     status SUCCESS or CANCELLED (a cancelled payment keeps the time it
//     was paid; one cancelled before any charge has none);
//   - CANCEL for each CANCELLED payment that had been paid, when its
//     cancel (CancelledAt) falls in the day;
//   - REFUND for each SUCCESS refund whose DoneAt falls in the day.
//
// A refund whose payment is not among pays (compacted) is still listed,
// without the payment's wallet and method type.
func Rows(day Day, pays []*engine.PaymentRecord, refunds []*engine.RefundRecord) []Row {
	byID := make(map[string]*engine.PaymentRecord, len(pays))
	var rows []Row
	for _, p := range pays {
		byID[p.PaymentID] = p
		paid := !p.PaidAt.IsZero() && (p.Status == codec.StatusSuccess || p.Status == codec.StatusCancelled)
		if !paid {
			continue
		}
		base := Row{
			CustomerID: p.ClientID, TransactionID: p.PaymentID, RequestID: p.RequestID,
			Status: codec.StatusSuccess, Amount: p.Amount, MethodType: p.MethodType, PSPName: p.Wallet,
			ProductCode: ProductCode,
		}
		if day.Contains(p.PaidAt) {
			r := base
			r.Type, r.Time = TypePayment, p.PaidAt
			rows = append(rows, r)
		}
		if p.Status == codec.StatusCancelled && day.Contains(p.CancelledAt) {
			r := base
			r.Type, r.Time, r.OriginalID = TypeCancel, p.CancelledAt, p.PaymentID
			rows = append(rows, r)
		}
	}
	for _, rf := range refunds {
		if rf.Status != codec.StatusSuccess || !day.Contains(rf.DoneAt) {
			continue
		}
		r := Row{
			CustomerID: rf.ClientID, TransactionID: rf.RefundID, OriginalID: rf.PaymentID, RequestID: rf.RequestID,
			Type: TypeRefund, Status: codec.StatusSuccess, Time: rf.DoneAt, Amount: rf.Amount, ProductCode: ProductCode,
		}
		if p := byID[rf.PaymentID]; p != nil {
			r.MethodType, r.PSPName = p.MethodType, p.Wallet
		}
		rows = append(rows, r)
	}
	Sort(rows)
	return rows
}

// FromJournal loads every record of j and returns the rows of day. It
// keeps in memory only the payments that were paid (the only ones a row
// or a refund can come from) and the successful refunds.
func FromJournal(ctx context.Context, j engine.Journal, day Day) ([]Row, error) {
	var pays []*engine.PaymentRecord
	var refunds []*engine.RefundRecord
	err := j.Load(ctx, func(r *engine.Record) error {
		switch {
		case r.Payment != nil && !r.Payment.PaidAt.IsZero():
			pays = append(pays, r.Payment)
		case r.Refund != nil && r.Refund.Status == codec.StatusSuccess:
			refunds = append(refunds, r.Refund)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("settle: reading the journal: %w", err)
	}
	return Rows(day, pays, refunds), nil
}
