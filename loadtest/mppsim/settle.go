package mppsim

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/settle"
)

// SettlementPath serves a wallet's (or a sim's) settlement file for a day
// (GET, ?date=YYYY-MM-DD, optional &tz=ZONE, default UTC): the layout of
// engine/settle.
const SettlementPath = "/sim/settlement"

// LedgerRows lists a ledger's transactions of day in the layout and by
// the rules of engine/settle, as the wallet sees them:
//
//   - PAYMENT for each charge (paidAt in the day), also when it was
//     reversed later;
//   - CANCEL for each REVERSED payment, when the reversal (closedAt) falls
//     in the day; a CLOSED payment (cancelled before any charge) and a
//     tombstone moved no money and are not listed;
//   - REFUND for each successful refund (its time in the day).
//
// transactionId is paycode's id (the paymentRequestId or refundRequestId
// the wallet received), acquirerReferenceNo the wallet's own id; the
// merchant's request ids and customerId are unknown to a wallet and left
// empty.
func LedgerRows(l *Ledger, day settle.Day) []settle.Row {
	var rows []settle.Row
	for _, e := range l.Payments {
		if e.Tombstone {
			continue
		}
		base := settle.Row{
			AcquirerReferenceNo: e.PaymentID, TransactionID: e.PaymentRequestID, Status: codec.StatusSuccess,
			Amount: codec.Amount{Value: e.Charged, Currency: e.Amount.Currency}, PSPName: l.Wallet,
			ProductCode: settle.ProductCode,
		}
		if e.Charged > 0 && day.Contains(e.PaidAt) {
			r := base
			r.Type, r.Time = settle.TypePayment, e.PaidAt
			rows = append(rows, r)
		}
		if e.State == StateReversed && e.Charged > 0 && day.Contains(e.ClosedAt) {
			r := base
			r.Type, r.Time, r.OriginalID = settle.TypeCancel, e.ClosedAt, e.PaymentRequestID
			rows = append(rows, r)
		}
		for _, rf := range e.Refunds {
			if rf.Result != codec.Success || !day.Contains(rf.At) {
				continue
			}
			rows = append(rows, settle.Row{
				AcquirerReferenceNo: rf.RefundID, TransactionID: rf.RefundRequestID, OriginalID: e.PaymentRequestID,
				Type: settle.TypeRefund, Status: codec.StatusSuccess, Time: rf.At, Amount: rf.Amount,
				PSPName: l.Wallet, ProductCode: settle.ProductCode,
			})
		}
	}
	settle.Sort(rows)
	return rows
}

// SettlementRows is LedgerRows over a snapshot of the wallet's ledger.
func (w *Wallet) SettlementRows(day settle.Day) []settle.Row {
	l := w.Ledger()
	return LedgerRows(&l, day)
}

// WriteSettlement writes one settlement file for day covering all the
// given wallets (their rows merged in file order).
func WriteSettlement(out io.Writer, day settle.Day, wallets ...*Wallet) error {
	var rows []settle.Row
	for _, w := range wallets {
		rows = append(rows, w.SettlementRows(day)...)
	}
	return settle.WriteFile(out, day.Loc, rows)
}

// Settlement writes the settlement file of day for every wallet of the
// sim: what the wallets, together, say they charged, reversed and
// refunded that day.
func (s *Sim) Settlement(out io.Writer, day settle.Day) error {
	ws := make([]*Wallet, len(s.wallets))
	for i, sv := range s.wallets {
		ws[i] = sv.w
	}
	return WriteSettlement(out, day, ws...)
}

// SettlementHandler serves GET SettlementPath?date=YYYY-MM-DD[&tz=ZONE]
// with the settlement file of the given wallets (text/csv); a missing or
// bad date or zone is HTTP 400 with the reason, another path 404.
func SettlementHandler(wallets ...*Wallet) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) != SettlementPath {
			ctx.Error("not found", fasthttp.StatusNotFound)
			return
		}
		if !ctx.IsGet() {
			ctx.Error("GET only", fasthttp.StatusMethodNotAllowed)
			return
		}
		args := ctx.QueryArgs()
		loc, err := settle.LoadLocation(string(args.Peek("tz")))
		if err != nil {
			ctx.Error(err.Error(), fasthttp.StatusBadRequest)
			return
		}
		day, err := settle.ParseDay(string(args.Peek("date")), loc)
		if err != nil {
			ctx.Error(err.Error(), fasthttp.StatusBadRequest)
			return
		}
		var b bytes.Buffer
		if err := WriteSettlement(&b, day, wallets...); err != nil {
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		ctx.SetContentType("text/csv; charset=utf-8")
		ctx.SetBody(b.Bytes())
	}
}

// FetchSettlement GETs the settlement file of date (YYYY-MM-DD) in zone
// tz ("" for UTC) from a base URL serving SettlementPath.
func FetchSettlement(baseURL, date, tz string, timeout time.Duration) ([]byte, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	q := url.Values{"date": {date}}
	if tz != "" {
		q.Set("tz", tz)
	}
	req.SetRequestURI(baseURL + SettlementPath + "?" + q.Encode())
	if err := fasthttp.DoTimeout(req, resp, timeout); err != nil {
		return nil, fmt.Errorf("mppsim: fetch settlement: %w", err)
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		return nil, fmt.Errorf("mppsim: fetch settlement: HTTP %d: %s", resp.StatusCode(), bytes.TrimSpace(resp.Body()))
	}
	return bytes.Clone(resp.Body()), nil
}
